package sqlengine

/*
#include <stdlib.h>

typedef struct sqlite3 sqlite3;
void sqlite3_progress_handler(sqlite3*, int, int(*)(void*), void*);

// pgraft_budget counts progress-handler calls of one connection. SQLite
// calls the handler every budgetOps virtual-machine instructions of a
// statement, at the same instructions on every node for the same program
// and data: the count is deterministic, a clock is not.
typedef struct {
	unsigned long long ticks;
	unsigned long long limit; // 0: no limit
	int tripped;
} pgraft_budget;

static int pgraft_budget_tick(void *p) {
	pgraft_budget *b = p;
	b->ticks++;
	if (b->limit != 0 && b->ticks > b->limit) {
		b->tripped = 1;
		return 1; // SQLITE_INTERRUPT for the running statement
	}
	return 0;
}

static void pgraft_budget_install(sqlite3 *db, pgraft_budget *b, int ops) {
	sqlite3_progress_handler(db, ops, b ? pgraft_budget_tick : 0, b);
}
*/
import "C"

import (
	"unsafe"

	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// budget.go is the deterministic work budget of writes (docs/design.md,
// "Every entry is safe to replay"). Every write statement runs under a
// budget of SQLite virtual-machine steps, on the leader before it is
// proposed and again when any node applies it. The steps a statement takes
// depend only on the SQLite build, the schema, the data and the statement,
// which are the same on every node at the same log index, so a statement
// that runs out does so at the same step everywhere and fails with the
// same error (54000) on every node, instead of stalling every node's apply.

// budgetOps is how many virtual-machine instructions SQLite runs between
// two calls of the progress handler.
const budgetOps = 1000

// MaxStatementSteps is the budget of one write statement, in SQLite
// virtual-machine steps: about 10 to 40 seconds of one core (22.8 M
// steps/s on a loaded 2-core test machine, BenchmarkBudgetSteps), some
// millions of rows. A write statement holds the one write connection while
// it runs (single writer), on the leader before it is proposed and on
// every node when applied, so this also bounds how long one statement can
// hold up every other write. Entries carry the budget they were admitted
// with (Payload.StepBudget), so a later build may change it without
// changing how older entries replay.
const MaxStatementSteps = 1_000_000_000

// workBudget is the budget state of one SQLite connection: C memory,
// because SQLite keeps the pointer.
type workBudget struct{ c *C.pgraft_budget }

// installBudget gives the connection a budget, unlimited until start.
func installBudget(conn *sqlite3.SQLiteConn) *workBudget {
	b := &workBudget{c: (*C.pgraft_budget)(C.calloc(1, C.sizeof_pgraft_budget))}
	C.pgraft_budget_install(dbHandle(conn), b.c, budgetOps)
	return b
}

// start arms the budget for the next statement: steps 0 means no limit.
// The caller holds the connection.
func (b *workBudget) start(steps uint64) {
	b.c.ticks, b.c.tripped = 0, 0
	b.c.limit = C.ulonglong(steps / budgetOps)
	if steps != 0 && b.c.limit == 0 {
		b.c.limit = 1
	}
}

// used returns the steps the statements since start took (a multiple of
// budgetOps, rounded down).
func (b *workBudget) used() uint64 { return uint64(b.c.ticks) * budgetOps }

// exhausted reports whether the running statement was stopped by the
// budget (its error is then SQLITE_INTERRUPT).
func (b *workBudget) exhausted() bool { return b.c.tripped != 0 }

// free releases the C memory; the connection must be closed first (or
// have its handler removed).
func (b *workBudget) free() {
	if b != nil && b.c != nil {
		C.free(unsafe.Pointer(b.c))
		b.c = nil
	}
}

// errBudgetExhausted is the deterministic error of a statement that ran out
// of its budget.
func errBudgetExhausted(steps uint64) error {
	return pgerror.New(pgerror.ProgramLimitExceeded,
		"statement exceeded the work limit of a replicated write (%d steps)", steps).
		WithHint("Break the write into smaller statements; every node replays it.")
}
