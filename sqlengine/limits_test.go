package sqlengine

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/pgraft/pgraft/pgwire/pgerror"
	"github.com/pgraft/pgraft/sqlengine/translate"
)

// hugeRepeat is issue 13's statement: 'ab' × 2^62 overflows int64 (2^63).
const hugeRepeat = "SELECT length(pg_repeat('ab', 4611686018427387904))"

// queryErr runs q on e and returns its error, the rows' included.
func queryErr(ctx context.Context, e *Engine, q string) error {
	rows, err := e.Query(ctx, q, nil)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
	}
	return rows.Err()
}

// TestHugeRepeatLeavesReadPoolUsable: as many huge repeats at once as
// there are read connections, then SELECT 1 and Close. A panic through
// sqlite3_step would keep its read connection and a read lock on the
// engine for ever.
func TestHugeRepeatLeavesReadPoolUsable(t *testing.T) {
	e := newTestEngine(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, 2*e.cfg.ReadConns)
	for i := range errs {
		wg.Go(func() { errs[i] = queryErr(ctx, e, hugeRepeat) })
	}
	wg.Wait()
	for i, err := range errs {
		if code := pgerror.Code(err); code != pgerror.ProgramLimitExceeded {
			t.Errorf("query %d: %v (%s), want 54000", i, err, code)
		}
	}
	if err := queryErr(ctx, e, "SELECT 1"); err != nil {
		t.Fatalf("SELECT 1 after the repeats: %v", err)
	}
}

// TestHugeRepeatFailsItsEntryOnly: in apply the same overflow is a data
// error of its own entry (54000 on every node), not a panic in apply.
func TestHugeRepeatFailsItsEntryOnly(t *testing.T) {
	e := newTestEngine(t)
	out := e.ApplyBatch([]Command{
		{Index: 1, Data: entry(t, 1, 1, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")},
		{Index: 2, Data: entry(t, 1, 1, "INSERT INTO t VALUES (2, pg_repeat('ab', 4611686018427387904))")},
		{Index: 3, Data: entry(t, 1, 1, "INSERT INTO t VALUES (3, 'x')")},
	})
	if r := out[1].(*ApplyResult); pgerror.Code(r.Results[0].Err) != pgerror.ProgramLimitExceeded {
		t.Fatalf("repeat entry: %+v, want 54000", r.Results)
	}
	if r := out[2].(*ApplyResult); r.Results[0].Err != nil {
		t.Fatalf("entry after it: %v", r.Results[0].Err)
	}
}

// TestPanickingFunctionFailsOnlyItsStatement holds wrap's recover to its
// contract with a function that panics on purpose: XX000 for each call,
// and the connections, their pool and Close all still work.
func TestPanickingFunctionFailsOnlyItsStatement(t *testing.T) {
	boom := sqlFunc{"boom", 0, 0, true, func([]any) (any, error) { panic("boom") }}
	hook := func(c *sqlite3.SQLiteConn) error {
		if err := c.RegisterFunc(boom.name, boom.wrap(nil), true); err != nil {
			return err
		}
		return registerGuarded(c, "boom_fixed", func(n int64) int64 { return []int64{}[n] }, true)
	}
	db := sql.OpenDB(newConnector("file:"+filepath.Join(t.TempDir(), "db.sqlite"), hook))
	db.SetMaxOpenConns(2)
	for _, q := range []string{"SELECT boom()", "SELECT boom_fixed(1)", "SELECT boom()", "SELECT boom_fixed(2)", "SELECT boom()"} {
		var x any
		err := MapError(db.QueryRow(q).Scan(&x))
		if pe := pgerror.As(err); pe == nil || pe.Code != pgerror.InternalError || !strings.Contains(pe.Message, "internal error in function") {
			t.Fatalf("%s: %v, want XX000 internal error in function", q, err)
		}
	}
	var one int
	if err := db.QueryRow("SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("SELECT 1 after the panics: %d, %v", one, err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestSQLiteLimitsMapToPostgreSQL runs SQLite's own size and depth limits
// (sqliteLimits) on an engine's read connection: each is PostgreSQL's
// program-limit class, never XX000 or a syntax error.
func TestSQLiteLimitsMapToPostgreSQL(t *testing.T) {
	e := newTestEngine(t)
	ctx := context.Background()
	plus := func(n int) string { return "SELECT 1" + strings.Repeat("+1", n-1) }
	union := func(n int) string { return "SELECT 1" + strings.Repeat(" UNION ALL SELECT 1", n-1) }
	tests := []struct{ name, q, code string }{
		{"zeroblob past the length limit", "SELECT length(zeroblob(67108865))", pgerror.ProgramLimitExceeded},
		{"zeroblob at the length limit", "SELECT length(zeroblob(67108864))", ""},
		{"concatenation past the limit", "SELECT length(zeroblob(40000000) || zeroblob(40000000))", pgerror.ProgramLimitExceeded},
		{"printf width", "SELECT length(printf('%.*c', 67108865, 'x'))", pgerror.ProgramLimitExceeded},
		{"expression depth at SQLite's limit", plus(999), ""},
		{"expression depth past SQLite's limit", plus(1001), pgerror.StatementTooComplex},
		{"compound select at the limit", union(500), ""},
		{"compound select past the limit", union(501), pgerror.ProgramLimitExceeded},
		{"parameter number past the limit", "SELECT ?32767", pgerror.ProgramLimitExceeded},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := queryErr(ctx, e, tc.q)
			if got := pgerror.Code(err); got != tc.code {
				t.Fatalf("%.60s: %v (%q), want %q", tc.q, err, got, tc.code)
			}
			if tc.code == pgerror.StatementTooComplex && pgerror.As(err).Message != "stack depth limit exceeded" {
				t.Fatalf("message %q", pgerror.As(err).Message)
			}
		})
	}
}

// TestSetLimitsOnEveryConnection: the limits are part of determinism, so
// the write connection has them as the read connections do.
func TestSetLimitsOnEveryConnection(t *testing.T) {
	e := newTestEngine(t)
	var got int
	if err := e.wconn.Raw(func(dc any) error {
		got = dc.(*sqlite3.SQLiteConn).GetLimit(sqlite3.SQLITE_LIMIT_LENGTH)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got != maxValueSize {
		t.Fatalf("write connection SQLITE_LIMIT_LENGTH = %d, want %d", got, maxValueSize)
	}
}

// TestLongAndChainRunsOnSQLite: PostgreSQL accepts any number of ANDed or
// ORed conditions (one flat node); joinBalanced keeps SQLite's expression
// depth logarithmic in their number.
func TestLongAndChainRunsOnSQLite(t *testing.T) {
	e := newTestEngine(t)
	for _, op := range []string{" AND ", " OR "} {
		conds := make([]string, 5000)
		for i := range conds {
			conds[i] = "1 = 1"
		}
		stmts, err := translate.SQL("SELECT 1 WHERE "+strings.Join(conds, op), nil, translate.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := queryErr(context.Background(), e, stmts[0].SQL); err != nil {
			t.Fatalf("5000 conditions joined by%s: %v", op, err)
		}
	}
}
