package sqlengine

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// runaway inserts the count of an endless recursive CTE: it never ends on
// its own.
const runaway = `INSERT INTO t SELECT count(*) FROM (WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT n FROM r)`

func budgetEntry(t *testing.T, steps uint64, sqls ...string) []byte {
	t.Helper()
	return budgetedEntry(t, 1, 1, steps, sqls...)
}

// TestApplyBudgetStopsRunawayEntryAlike: an entry whose statement would
// never end fails with 54000 at the same step on every node, and the
// entries after it apply: no node stalls, none diverges.
func TestApplyBudgetStopsRunawayEntryAlike(t *testing.T) {
	var dumps []string
	for range 2 { // two nodes
		e := newTestEngine(t)
		out := e.ApplyBatch([]Command{
			{Index: 1, Data: budgetEntry(t, 1_000_000, `CREATE TABLE t (a INTEGER)`)},
			{Index: 2, Data: budgetEntry(t, 1_000_000, `INSERT INTO t VALUES (1)`, runaway)},
			{Index: 3, Data: budgetEntry(t, 1_000_000, `INSERT INTO t VALUES (3)`)},
		})
		r := out[1].(*ApplyResult)
		if n := len(r.Results); n == 0 || pgerror.Code(r.Results[n-1].Err) != pgerror.ProgramLimitExceeded {
			t.Fatalf("runaway entry: %+v, want it to fail with 54000", r.Results)
		}
		if e.AppliedIndex() != 3 {
			t.Fatalf("applied index %d, want 3", e.AppliedIndex())
		}
		dumps = append(dumps, dump(t, e))
	}
	if dumps[0] != dumps[1] {
		t.Fatalf("nodes differ:\n%s\n%s", dumps[0], dumps[1])
	}
	if want := "== t\n[]interface {}{1, 3}\n"; dumps[0] != want {
		t.Fatalf("table after the runaway entry:\n%s\nwant only the rows of entries 1 and 3 (the failed entry rolls back whole)", dumps[0])
	}
}

// TestApplyWithoutBudgetRunsOldEntries: version 1 entries carry no budget
// and run as they did (a budget of 0 is none).
func TestApplyWithoutBudgetRunsOldEntries(t *testing.T) {
	e := newTestEngine(t)
	out := e.ApplyBatch([]Command{
		{Index: 1, Data: budgetEntry(t, 0, `CREATE TABLE t (a INTEGER)`)},
		{Index: 2, Data: budgetEntry(t, 0, `INSERT INTO t SELECT count(*) FROM (WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 200000) SELECT n FROM r)`)},
	})
	if r := out[1].(*ApplyResult); r.Err != nil || r.Results[0].Err != nil {
		t.Fatalf("unbudgeted entry: %+v", r)
	}
}

// TestPreRunStopsAtContextAndBudget: the leader's pre-run of an autocommit
// write ends with the statement's context (statement_timeout) or its
// budget, rolls back, and leaves the write connection usable.
func TestPreRunStopsAtContextAndBudget(t *testing.T) {
	e := newTestEngine(t)
	e.ApplyBatch([]Command{{Index: 1, Data: budgetEntry(t, 0, `CREATE TABLE t (a INTEGER)`)}})
	ec := ExecContext{TimeMicros: 2, Seed: 2, TimeZone: "UTC"}

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := e.PreRun(ctx, ec, []Op{{Kind: OpExec, SQL: runaway}})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("pre-run past its deadline = %v, want the context's error", err)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Fatalf("pre-run took %v after a 200ms deadline", d)
	}
	r, err := e.PreRun(context.Background(), ec, []Op{{Kind: OpExec, SQL: `INSERT INTO t VALUES (1)`}})
	if err != nil || r.RowsAffected != 1 {
		t.Fatalf("pre-run after a cancelled one = %+v, %v", r, err)
	}
	if got := dump(t, e); got != "== t\n" {
		t.Fatalf("a pre-run left rows behind:\n%s", got)
	}
}

// TestWriteTxBudget: a speculative statement that runs out of its budget
// fails with 54000 and the transaction's connection stays usable.
func TestWriteTxBudget(t *testing.T) {
	e := newTestEngine(t)
	e.ApplyBatch([]Command{{Index: 1, Data: budgetEntry(t, 0, `CREATE TABLE t (a INTEGER)`)}})
	wt, err := e.BeginWrite(context.Background(), ExecContext{TimeMicros: 2, Seed: 2}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer wt.Rollback()
	e.budget.start(0)
	if _, err := wt.Exec(context.Background(), `INSERT INTO t VALUES (1)`, nil, false); err != nil {
		t.Fatal(err)
	}
	// Shrink the budget for this one statement through the same path
	// Exec uses, with a statement small enough to finish quickly.
	e.wmu.Lock()
	e.budget.start(10_000)
	_, err = execOn(context.Background(), e.wconn, `SELECT count(*) FROM (WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 1000000) SELECT n FROM r)`, nil, true)
	exhausted := e.budget.exhausted()
	e.budget.start(0)
	e.wmu.Unlock()
	if err == nil || !exhausted {
		t.Fatalf("statement past a 10,000-step budget = %v (exhausted %v), want interrupted by the budget", err, exhausted)
	}
	if _, err := wt.Exec(context.Background(), `INSERT INTO t VALUES (2)`, nil, false); err != nil {
		t.Fatalf("statement after the budget stopped one: %v", err)
	}
}

// BenchmarkBudgetSteps reports how many budget steps a second this machine
// runs, to size MaxStatementSteps in time.
func BenchmarkBudgetSteps(b *testing.B) {
	e := newTestEngine(b)
	ctx := context.Background()
	e.wmu.Lock()
	defer e.wmu.Unlock()
	var steps uint64
	start := time.Now()
	for b.Loop() {
		e.budget.start(MaxStatementSteps)
		if _, err := execOn(ctx, e.wconn, `SELECT count(*) FROM (WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 100000) SELECT n FROM r)`, nil, true); err != nil {
			b.Fatal(err)
		}
		steps += e.budget.used()
	}
	e.budget.start(0)
	b.ReportMetric(float64(steps)/time.Since(start).Seconds(), "steps/s")
}

// TestApplyFaultRetriesAndClears: a node-local failure rolls the batch back
// whole, becomes the engine's Fault (with the SQLSTATE writes get), and the
// batch applies once the failure is gone.
func TestApplyFaultRetriesAndClears(t *testing.T) {
	var mu sync.Mutex
	full := false
	e, err := Open(Config{Path: filepath.Join(t.TempDir(), "db.sqlite"), InjectFault: func(uint64) error {
		mu.Lock()
		defer mu.Unlock()
		if full {
			return sqlite3.Error{Code: sqlite3.ErrFull}
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	e.ApplyBatch([]Command{{Index: 1, Data: budgetEntry(t, 0, `CREATE TABLE t (a INTEGER)`)}})
	mu.Lock()
	full = true
	mu.Unlock()
	done := make(chan []any)
	go func() {
		done <- e.ApplyBatch([]Command{{Index: 2, Data: budgetEntry(t, 0, `INSERT INTO t VALUES (2)`)}})
	}()
	deadline := time.Now().Add(10 * time.Second)
	for e.Fault() == nil {
		if time.Now().After(deadline) {
			t.Fatal("no fault reported")
		}
		time.Sleep(10 * time.Millisecond)
	}
	f := e.Fault()
	if f.Index != 2 || f.PGError().Code != pgerror.DiskFull {
		t.Fatalf("fault = %+v (%v), want entry 2, 53100", f, f.PGError())
	}
	if e.AppliedIndex() != 1 {
		t.Fatalf("applied index %d during the fault, want 1", e.AppliedIndex())
	}
	if _, err := e.BeginWrite(context.Background(), ExecContext{}, false); pgerror.Code(err) != pgerror.DiskFull {
		t.Fatalf("BeginWrite during the fault = %v, want 53100", err)
	}
	mu.Lock()
	full = false
	mu.Unlock()
	select {
	case out := <-done:
		if r := out[0].(*ApplyResult); r.Results[0].Err != nil {
			t.Fatalf("entry after the fault cleared: %+v", r)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("apply did not resume after the fault cleared")
	}
	if e.Fault() != nil || e.AppliedIndex() != 2 {
		t.Fatalf("after the fault: fault %v, applied %d", e.Fault(), e.AppliedIndex())
	}
}

// TestApplyFaultStopApplying: an entry this node cannot decode is a fault,
// not a panic; a node that stops while faulted gives the batch up with
// nothing of it applied.
func TestApplyFaultStopApplying(t *testing.T) {
	e := newTestEngine(t)
	e.ApplyBatch([]Command{{Index: 1, Data: budgetEntry(t, 0, `CREATE TABLE t (a INTEGER)`)}})
	done := make(chan []any)
	go func() {
		done <- e.ApplyBatch([]Command{
			{Index: 2, Data: budgetEntry(t, 0, `INSERT INTO t VALUES (2)`)},
			{Index: 3, Data: []byte{9, 9, 9}},
		})
	}()
	deadline := time.Now().Add(10 * time.Second)
	for e.Fault() == nil {
		if time.Now().After(deadline) {
			t.Fatal("no fault reported")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if f := e.Fault(); f.Index != 3 {
		t.Fatalf("fault at entry %d, want 3", f.Index)
	}
	e.StopApplying()
	select {
	case out := <-done:
		for i, r := range out {
			if r != nil {
				t.Errorf("response %d after giving up = %v, want nil", i, r)
			}
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ApplyBatch did not give up after StopApplying")
	}
	if e.AppliedIndex() != 1 {
		t.Fatalf("applied index %d, want 1: nothing of a given-up batch applies", e.AppliedIndex())
	}
	if got := dump(t, e); got != "== t\n" {
		t.Fatalf("rows of a given-up batch:\n%s", got)
	}
}

// TestBudgetChargesFunctionWork: SQLite counts a call of a Go function as
// one instruction whatever it does; the budget charges its bytes, so a
// statement that builds a large value a row runs out at the same row on
// every node instead of working for hours.
func TestBudgetChargesFunctionWork(t *testing.T) {
	e := newTestEngine(t)
	ctx := context.Background()
	const q = `SELECT sum(length(pg_repeat('ab', 499999 + n % 2))) FROM (WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 1000) SELECT n FROM r)`
	e.wmu.Lock()
	defer e.wmu.Unlock()
	run := func(steps uint64) (uint64, bool, error) {
		e.budget.start(steps)
		defer e.budget.start(0)
		_, err := execOn(ctx, e.wconn, q, nil, true)
		return e.budget.used(), e.budget.exhausted(), err
	}
	used, _, err := run(0)
	if err != nil {
		t.Fatal(err)
	}
	// 1,000 calls with a 1 MB result each: at least 1,000 × 1 MB / bytesPerStep.
	if want := uint64(1000 * 1_000_000 / bytesPerStep); used < want {
		t.Fatalf("statement used %d steps, want at least %d for its functions' work", used, want)
	}
	first, exhausted, err := run(used / 2)
	if err == nil || !exhausted {
		t.Fatalf("with half the budget it needs: %v (exhausted %v), want stopped by the budget", err, exhausted)
	}
	second, _, _ := run(used / 2)
	if first != second {
		t.Fatalf("budget stopped the statement at %d steps, then at %d: want the same point each time", first, second)
	}
}

// TestGuardCancelsWithoutInterrupt: a statement's context ending stops it
// through the connection's guard alone, whatever go-sqlite3's own
// sqlite3_interrupt does (it is lost when it lands between two calls into
// SQLite): here go-sqlite3 never sees the context at all.
const endless = `SELECT count(*) FROM (WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT n FROM r)`

func TestGuardCancelsWithoutInterrupt(t *testing.T) {
	e := newTestEngine(t)
	e.wmu.Lock()
	defer e.wmu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	stop := e.budget.watch(ctx)
	timer := time.AfterFunc(50*time.Millisecond, cancel)
	defer timer.Stop()
	_, err := execOn(context.Background(), e.wconn,
		endless, nil, true)
	stop()
	if se, ok := asSQLiteError(err); !ok || se.code != sqlite3.ErrInterrupt {
		t.Fatalf("endless statement after its context ended: %v, want SQLITE_INTERRUPT", err)
	}
	// The guard is disarmed: the next statement runs.
	if _, err := execOn(context.Background(), e.wconn, `SELECT 1`, nil, true); err != nil {
		t.Fatalf("statement after a canceled one: %v", err)
	}
}

// TestReadGuardCancels: the same for a read, which has no budget to end it.
func TestReadGuardCancels(t *testing.T) {
	e := newTestEngine(t)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	rows, err := e.Query(ctx, endless, nil)
	if err == nil {
		for rows.Next() {
		}
		err = rows.Err()
		rows.Close()
	}
	if err == nil {
		t.Fatal("endless read ended without error")
	}
	if ctx.Err() == nil {
		t.Fatalf("endless read ended before its context: %v", err)
	}
}
