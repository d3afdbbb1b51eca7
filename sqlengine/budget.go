package sqlengine

/*
#include <stdlib.h>

typedef struct sqlite3 sqlite3;
typedef struct sqlite3_stmt sqlite3_stmt;
sqlite3_stmt *sqlite3_next_stmt(sqlite3*, sqlite3_stmt*);
int sqlite3_stmt_status(sqlite3_stmt*, int, int);
void sqlite3_progress_handler(sqlite3*, int, int(*)(void*), void*);
int sqlite3_set_clientdata(sqlite3*, const char*, void*, void (*)(void*));
void *sqlite3_get_clientdata(sqlite3*, const char*);
void *sqlite3_malloc(int);
void sqlite3_free(void*);

// pgraft_budget is one connection's statement guard. SQLite calls the
// progress handler every `ops` virtual-machine instructions of a statement,
// at the same instructions on every node for the same program and data:
// the count is deterministic, a clock is not. charged is the work of
// pgraft's Go functions, in steps, a function of their arguments' sizes
// alone. canceled is set from another thread (the statement's context
// ended) and seen at the next call of the handler, wherever the statement
// is: unlike sqlite3_interrupt, it cannot be lost in the moment between two
// steps of go-sqlite3's.
typedef struct {
	sqlite3 *db;
	unsigned long long ticks;
	unsigned long long charged; // steps
	unsigned long long limit;   // ticks; 0: no limit
	unsigned long long ops;
	int tripped;
	int canceled;
} pgraft_budget;

static const char *pgraft_budget_key = "pgraft_budget";

static int pgraft_budget_tick(void *p) {
	pgraft_budget *b = p;
	if (__atomic_load_n(&b->canceled, __ATOMIC_RELAXED)) {
		return 1; // SQLITE_INTERRUPT; the caller sees its context ended
	}
	b->ticks++;
	if (b->limit != 0 && b->ticks + b->charged / b->ops > b->limit) {
		b->tripped = 1;
		return 1; // SQLITE_INTERRUPT for the running statement
	}
	return 0;
}

// pgraft_budget_install gives db its guard, owned by db (freed when it
// closes), and returns it (NULL when out of memory).
static pgraft_budget *pgraft_budget_install(sqlite3 *db, int ops) {
	pgraft_budget *b = sqlite3_malloc(sizeof *b);
	if (!b) {
		return 0;
	}
	*b = (pgraft_budget){.db = db, .ops = ops};
	if (sqlite3_set_clientdata(db, pgraft_budget_key, b, sqlite3_free) != 0) { // frees b if it fails
		return 0;
	}
	sqlite3_progress_handler(db, ops, pgraft_budget_tick, b);
	return b;
}

static pgraft_budget *pgraft_budget_of(sqlite3 *db) {
	return sqlite3_get_clientdata(db, pgraft_budget_key);
}

// pgraft_budget_start arms b for a statement. SQLite calls the progress
// handler when a statement's virtual-machine step counter
// (SQLITE_STMTSTATUS_VM_STEP) crosses a multiple of ops, and that counter
// survives sqlite3_reset: a prepared statement that go-sqlite3's cache
// reuses would start part-way to its next call, at a point that depends on
// what the connection ran before, which differs between nodes (the leader
// pre-ran the statement; a restarted node has a cold cache). Every counter
// restarts at 0 here, so the handler is called at the same instructions on
// every node.
static void pgraft_budget_start(pgraft_budget *b, unsigned long long limit) {
	b->ticks = 0;
	b->charged = 0;
	b->tripped = 0;
	b->limit = limit;
	sqlite3_stmt *s = 0;
	while ((s = sqlite3_next_stmt(b->db, s)) != 0) {
		sqlite3_stmt_status(s, 4, 1); // SQLITE_STMTSTATUS_VM_STEP, reset
	}
}

static void pgraft_budget_cancel(pgraft_budget *b, int v) {
	__atomic_store_n(&b->canceled, v, __ATOMIC_RELAXED);
}
*/
import "C"

import (
	"context"
	"errors"

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

// workBudget is one connection's statement guard (the C pgraft_budget,
// which SQLite owns): the work budget of writes, the charge of Go
// functions and the cancellation of any statement. Only the holder of the
// connection uses it, but for cancel, which any goroutine may call.
type workBudget struct{ c *C.pgraft_budget }

// installBudget gives the connection its guard, unlimited until start.
func installBudget(conn *sqlite3.SQLiteConn) (*workBudget, error) {
	b := C.pgraft_budget_install(dbHandle(conn), budgetOps)
	if b == nil {
		return nil, errors.New("install statement guard: out of memory")
	}
	return &workBudget{c: b}, nil
}

// budgetOf returns the guard installBudget gave conn.
func budgetOf(conn *sqlite3.SQLiteConn) (*workBudget, error) {
	b := C.pgraft_budget_of(dbHandle(conn))
	if b == nil {
		return nil, errors.New("sqlengine: connection has no statement guard")
	}
	return &workBudget{c: b}, nil
}

// start arms the budget for the next statement: steps 0 means no limit.
// The caller holds the connection.
func (b *workBudget) start(steps uint64) {
	limit := steps / budgetOps
	if steps != 0 && limit == 0 {
		limit = 1
	}
	C.pgraft_budget_start(b.c, C.ulonglong(limit))
}

// used returns the steps the statements since start took (their
// virtual-machine steps, a multiple of budgetOps rounded down, and what
// their functions were charged).
func (b *workBudget) used() uint64 { return uint64(b.c.ticks)*budgetOps + uint64(b.c.charged) }

// exhausted reports whether the running statement was stopped by the
// budget (its error is then SQLITE_INTERRUPT).
func (b *workBudget) exhausted() bool { return b.c.tripped != 0 }

// bytesPerStep is how many bytes of a Go function's arguments and result
// cost one step of the budget. A step is about 44 ns of one core
// (BenchmarkBudgetSteps); the functions' passes over their bytes (copies,
// escapes, searches) cost well under 1 ns a byte each, a few passes each.
const bytesPerStep = 16

// charge adds the work of one Go function call, which SQLite counts as a
// single instruction whatever its arguments' sizes, to the running
// statement: n bytes of arguments and result. A function that builds a
// 64 MiB value costs 4 M steps, so a statement that calls it once a row
// runs out of its budget after a few hundred rows, on every node at the same
// row, instead of working for hours with the write connection held. The
// caller holds the connection (SQLite is calling the function on it).
func (b *workBudget) charge(n int) {
	if b != nil && n > 0 {
		b.c.charged += C.ulonglong(n / bytesPerStep)
	}
}

// watch cancels the connection's running statement when ctx ends, until
// the returned stop is called. SQLite sees the cancellation at its next
// progress-handler call (every budgetOps instructions) and fails the
// statement with SQLITE_INTERRUPT; go-sqlite3's own sqlite3_interrupt on the
// same event is lost when it lands between two of its calls into SQLite,
// and the statement then ran to the end of its budget, holding the write
// connection (the poison fuzzer's 30 s write stall), or, on a read without
// a budget, for ever. The caller holds the connection until stop returns.
func (b *workBudget) watch(ctx context.Context) (stop func()) {
	C.pgraft_budget_cancel(b.c, 0)
	if ctx.Done() == nil {
		return func() {}
	}
	fired := make(chan struct{})
	after := context.AfterFunc(ctx, func() {
		C.pgraft_budget_cancel(b.c, 1)
		close(fired)
	})
	return func() {
		if !after() {
			<-fired // it ran or is running: let it finish before clearing
		}
		C.pgraft_budget_cancel(b.c, 0)
	}
}

// errBudgetExhausted is the deterministic error of a statement that ran out
// of its budget.
func errBudgetExhausted(steps uint64) error {
	return pgerror.New(pgerror.ProgramLimitExceeded,
		"statement exceeded the work limit of a replicated write (%d steps)", steps).
		WithHint("Break the write into smaller statements; every node replays it.")
}
