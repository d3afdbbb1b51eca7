package sqlengine

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// endlessCount never finishes: only an interrupt ends it.
const endlessCount = `WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r`

// endlessRows streams rows forever.
const endlessRows = `WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT n FROM r`

// expiring returns a context that ends after d; its cancel runs at cleanup.
func expiring(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// TestCanceledSpeculativeWrite: an interrupted write inside a speculative
// transaction makes SQLite roll back the whole transaction. The WriteTx
// must notice: later statements fail with ErrRolledBack instead of running
// outside any transaction, Rollback does not panic, and the write
// connection can be borrowed again. An interrupted read in the transaction
// leaves it intact.
func TestCanceledSpeculativeWrite(t *testing.T) {
	e := newTestEngine(t)
	ctx := context.Background()
	e.ApplyBatch([]Command{{Index: 1, Data: entry(t, 1, 1, `CREATE TABLE t (id int PRIMARY KEY)`)}})

	wt, err := e.BeginWrite(ctx, ExecContext{TimeMicros: 1, TimeZone: "UTC"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wt.Exec(ctx, `INSERT INTO t VALUES (1)`, nil, false); err != nil {
		t.Fatal(err)
	}
	if _, err := wt.Query(expiring(t, 20*time.Millisecond), endlessCount, nil); err == nil {
		t.Fatal("an interrupted read in the transaction succeeded")
	}
	if _, err := wt.Exec(ctx, `INSERT INTO t VALUES (2)`, nil, false); err != nil {
		t.Fatalf("write after an interrupted read: %v (the transaction should be intact)", err)
	}
	endlessInsert := `INSERT INTO t SELECT n FROM (` + endlessRows + `) WHERE n < 0`
	if _, err := wt.Exec(expiring(t, 20*time.Millisecond), endlessInsert, nil, false); err == nil {
		t.Fatal("an interrupted write succeeded")
	}
	if _, err := wt.Exec(ctx, `INSERT INTO t VALUES (3)`, nil, false); err != ErrRolledBack {
		t.Fatalf("write after an interrupted write: %v, want ErrRolledBack", err)
	}
	if err := wt.RollbackTo(ctx, "s"); err != ErrRolledBack {
		t.Fatalf("ROLLBACK TO after an interrupted write: %v, want ErrRolledBack", err)
	}
	wt.Rollback()

	wt, err = e.BeginWrite(ctx, ExecContext{TimeMicros: 2, TimeZone: "UTC"}, false)
	if err != nil {
		t.Fatalf("borrow the write connection again: %v", err)
	}
	if _, err := wt.Exec(ctx, `INSERT INTO t VALUES (4)`, nil, false); err != nil {
		t.Fatal(err)
	}
	p, err := wt.Finish()
	if err != nil || p == nil || len(p.Ops) != 1 {
		t.Fatalf("Finish = %+v, %v; want the one insert", p, err)
	}
}

// TestCatalogQueryInTransaction: a transaction's catalog queries see its
// own DDL (Django and Alembic list the tables they just created), while no
// other statement on the write connection may read the catalog views: a
// write is replayed by every node, and what the catalog says of a node is
// not part of the log.
func TestCatalogQueryInTransaction(t *testing.T) {
	e := newTestEngine(t)
	ctx := context.Background()
	e.ApplyBatch([]Command{{Index: 1, Data: entry(t, 1, 1, `CREATE TABLE old (id int PRIMARY KEY)`)}})

	wt, err := e.BeginWrite(ctx, ExecContext{TimeMicros: 1, TimeZone: "UTC"}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer wt.Rollback()
	relnames := func() []any {
		t.Helper()
		r, err := wt.CatalogQuery(ctx, `SELECT relname FROM pg_class WHERE relkind = 'r' ORDER BY relname`, nil)
		if err != nil {
			t.Fatalf("catalog query in the transaction: %v", err)
		}
		var names []any
		for _, row := range r.Rows {
			names = append(names, row[0])
		}
		return names
	}
	if got := relnames(); len(got) != 1 || got[0] != "old" {
		t.Fatalf("before DDL: %v, want [old]", got)
	}
	if _, err := wt.Exec(ctx, `CREATE TABLE fresh (id int PRIMARY KEY, name text)`, nil, false); err != nil {
		t.Fatal(err)
	}
	if got := relnames(); len(got) != 2 || got[0] != "fresh" {
		t.Fatalf("after CREATE TABLE in the transaction: %v, want [fresh old]", got)
	}
	// The catalog functions read the transaction's schema too.
	r, err := wt.CatalogQuery(ctx, `SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = (SELECT oid FROM pg_class WHERE relname = 'fresh')`, nil)
	if err != nil || len(r.Rows) != 1 || r.Rows[0][0] != "CREATE UNIQUE INDEX fresh_pkey ON public.fresh USING btree (id)" {
		t.Fatalf("pg_get_indexdef in the transaction: %v %v", r, err)
	}

	for _, q := range []string{
		`SELECT relname FROM pg_class`,                        // a plain read of the block
		`SELECT pg_get_indexdef(1)`,                           // a catalog function outside a catalog query
		`INSERT INTO fresh SELECT oid, relname FROM pg_class`, // a write
	} {
		run := wt.Query
		if strings.HasPrefix(q, "INSERT") {
			run = func(ctx context.Context, q string, args []any) (*ExecResult, error) {
				return wt.Exec(ctx, q, args, false)
			}
		}
		_, err := run(ctx, q, nil)
		if pe := pgerror.As(err); pe == nil || pe.Code != pgerror.FeatureNotSupported {
			t.Errorf("%s on the write connection: %v, want 0A000", q, err)
		}
	}
	// The statements the catalog query prepared are not reused elsewhere.
	if _, err := wt.Query(ctx, `SELECT relname FROM pg_class WHERE relkind = 'r' ORDER BY relname`, nil); err == nil {
		t.Error("the catalog query's text ran outside a catalog query")
	}
	if got := relnames(); len(got) != 2 {
		t.Fatalf("catalog query after refusals: %v", got)
	}
}
