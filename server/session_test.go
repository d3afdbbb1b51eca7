package server_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgraft/pgraft/server/servertest"
)

func connect(t testing.TB, n *servertest.Node) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, n.DSN())
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func mustExec(t testing.TB, c *pgx.Conn, sql string, args ...any) pgconn.CommandTag {
	t.Helper()
	tag, err := c.Exec(context.Background(), sql, args...)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return tag
}

func sqlstate(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := sqlstate(err); got != code {
		t.Fatalf("error = %v (SQLSTATE %q), want SQLSTATE %s", err, got, code)
	}
}

func count(t *testing.T, c *pgx.Conn, sql string) int64 {
	t.Helper()
	var n int64
	if err := c.QueryRow(context.Background(), sql).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func TestWritesReturnTagsAndReturningRows(t *testing.T) {
	n := servertest.Start(t)
	c := connect(t, n)
	ctx := context.Background()
	mustExec(t, c, "CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL, qty int DEFAULT 1)")
	if tag := mustExec(t, c, "INSERT INTO items (name) VALUES ('a'), ('b'), ('c')"); tag.String() != "INSERT 0 3" {
		t.Errorf("tag = %q", tag)
	}
	var id int32
	var name string
	if err := c.QueryRow(ctx, "INSERT INTO items (name, qty) VALUES ($1, $2) RETURNING id, name", "d", 4).Scan(&id, &name); err != nil || id != 4 || name != "d" {
		t.Fatalf("RETURNING = %d %q %v", id, name, err)
	}
	if tag := mustExec(t, c, "UPDATE items SET qty = qty + 1 WHERE id > $1", 1); tag.String() != "UPDATE 3" {
		t.Errorf("tag = %q", tag)
	}
	if tag := mustExec(t, c, "DELETE FROM items WHERE name = 'a'"); tag.String() != "DELETE 1" {
		t.Errorf("tag = %q", tag)
	}
	_, err := c.Exec(ctx, "INSERT INTO items (id, name) VALUES (2, 'dup')")
	wantCode(t, err, "23505")
	_, err = c.Exec(ctx, "INSERT INTO items (name) VALUES (NULL)")
	wantCode(t, err, "23502")
	_, err = c.Exec(ctx, "SELECT * FROM missing")
	wantCode(t, err, "42P01")
}

func TestTransactionIsInvisibleUntilCommit(t *testing.T) {
	n := servertest.Start(t)
	a, b := connect(t, n), connect(t, n)
	mustExec(t, a, "CREATE TABLE t (id int PRIMARY KEY, v text)")
	mustExec(t, a, "BEGIN")
	mustExec(t, a, "INSERT INTO t VALUES (1, 'x')")
	if got := count(t, a, "SELECT count(*) FROM t"); got != 1 {
		t.Fatalf("own write not visible inside the transaction: %d", got)
	}
	if got := count(t, b, "SELECT count(*) FROM t"); got != 0 {
		t.Fatalf("uncommitted write visible to another session: %d", got)
	}
	mustExec(t, a, "COMMIT")
	if got := count(t, b, "SELECT count(*) FROM t"); got != 1 {
		t.Fatalf("committed write not visible: %d", got)
	}
	mustExec(t, a, "BEGIN")
	mustExec(t, a, "INSERT INTO t VALUES (2, 'y')")
	mustExec(t, a, "ROLLBACK")
	if got := count(t, b, "SELECT count(*) FROM t"); got != 1 {
		t.Fatalf("rolled back write visible: %d", got)
	}
}

func TestFailedTransactionNeedsRollback(t *testing.T) {
	n := servertest.Start(t)
	c := connect(t, n)
	ctx := context.Background()
	mustExec(t, c, "CREATE TABLE t (id int PRIMARY KEY)")
	mustExec(t, c, "BEGIN")
	mustExec(t, c, "INSERT INTO t VALUES (1)")
	_, err := c.Exec(ctx, "INSERT INTO t VALUES (1)")
	wantCode(t, err, "23505")
	_, err = c.Exec(ctx, "SELECT 1")
	wantCode(t, err, "25P02")
	if tag := mustExec(t, c, "COMMIT"); tag.String() != "ROLLBACK" {
		t.Fatalf("COMMIT of a failed transaction answered %q, want ROLLBACK", tag)
	}
	if got := count(t, c, "SELECT count(*) FROM t"); got != 0 {
		t.Fatalf("failed transaction left %d rows", got)
	}
}

func TestSavepoints(t *testing.T) {
	n := servertest.Start(t)
	c := connect(t, n)
	ctx := context.Background()
	mustExec(t, c, "CREATE TABLE t (id int PRIMARY KEY)")
	mustExec(t, c, "BEGIN")
	mustExec(t, c, "INSERT INTO t VALUES (1)")
	mustExec(t, c, "SAVEPOINT s1")
	mustExec(t, c, "INSERT INTO t VALUES (2)")
	_, err := c.Exec(ctx, "INSERT INTO t VALUES (2)")
	wantCode(t, err, "23505")
	mustExec(t, c, "ROLLBACK TO SAVEPOINT s1")
	mustExec(t, c, "INSERT INTO t VALUES (3)")
	mustExec(t, c, "RELEASE s1")
	mustExec(t, c, "COMMIT")
	var ids []int32
	rows, _ := c.Query(ctx, "SELECT id FROM t ORDER BY id")
	ids, err = pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil || len(ids) != 2 || ids[0] != 1 || ids[1] != 3 {
		t.Fatalf("rows = %v, %v; want [1 3]", ids, err)
	}
}

func TestRepeatableReadFailsWhenItsReadChanged(t *testing.T) {
	n := servertest.Start(t)
	a, b := connect(t, n), connect(t, n)
	ctx := context.Background()
	mustExec(t, a, "CREATE TABLE acct (id int PRIMARY KEY, bal int)")
	mustExec(t, a, "INSERT INTO acct VALUES (1, 100)")
	for _, iso := range []string{"REPEATABLE READ", "SERIALIZABLE"} {
		mustExec(t, a, "BEGIN ISOLATION LEVEL "+iso)
		count(t, a, "SELECT bal FROM acct WHERE id = 1")
		mustExec(t, b, "UPDATE acct SET bal = bal + 1 WHERE id = 1")
		if got := count(t, a, "SELECT bal FROM acct WHERE id = 1"); got != 100+map[string]int64{"REPEATABLE READ": 0, "SERIALIZABLE": 1}[iso] {
			t.Fatalf("%s: snapshot not stable: %d", iso, got)
		}
		_, err := a.Exec(ctx, "UPDATE acct SET bal = bal - 1 WHERE id = 1")
		wantCode(t, err, "40001")
		mustExec(t, a, "ROLLBACK")
	}
	// READ COMMITTED simply continues on the latest state.
	mustExec(t, a, "BEGIN")
	count(t, a, "SELECT bal FROM acct WHERE id = 1")
	mustExec(t, b, "UPDATE acct SET bal = bal + 1 WHERE id = 1")
	mustExec(t, a, "UPDATE acct SET bal = bal - 10 WHERE id = 1")
	mustExec(t, a, "COMMIT")
	if got := count(t, b, "SELECT bal FROM acct WHERE id = 1"); got != 93 {
		t.Fatalf("balance = %d, want 93", got)
	}
}

func TestGateWaitIsBoundedByLockTimeout(t *testing.T) {
	n := servertest.Start(t)
	a, b := connect(t, n), connect(t, n)
	mustExec(t, a, "CREATE TABLE t (id int PRIMARY KEY)")
	mustExec(t, a, "BEGIN")
	mustExec(t, a, "INSERT INTO t VALUES (1)")
	mustExec(t, b, "SET lock_timeout = '100ms'")
	_, err := b.Exec(context.Background(), "INSERT INTO t VALUES (2)")
	wantCode(t, err, "55P03")
	mustExec(t, a, "COMMIT")
	mustExec(t, b, "INSERT INTO t VALUES (2)")
}

func TestIdleGateHolderIsEnded(t *testing.T) {
	n := servertest.Start(t)
	a, b := connect(t, n), connect(t, n)
	ctx := context.Background()
	mustExec(t, a, "CREATE TABLE t (id int PRIMARY KEY)")
	mustExec(t, a, "SET pgraft.idle_write_timeout = '200ms'")
	mustExec(t, a, "BEGIN")
	mustExec(t, a, "INSERT INTO t VALUES (1)")
	// Another writer gets through once the idle holder is ended.
	mustExec(t, b, "INSERT INTO t VALUES (2)")
	_, err := a.Exec(ctx, "INSERT INTO t VALUES (3)")
	wantCode(t, err, "25P03")
	_, err = a.Exec(ctx, "SELECT 1")
	wantCode(t, err, "25P02")
	mustExec(t, a, "ROLLBACK")
	if got := count(t, a, "SELECT count(*) FROM t"); got != 1 {
		t.Fatalf("rows = %d, want 1 (only the other session's)", got)
	}
}

func TestStatementTimeoutAndCancel(t *testing.T) {
	n := servertest.Start(t)
	c := connect(t, n)
	slow := "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 100000000) SELECT count(*) FROM r"
	mustExec(t, c, "SET statement_timeout = '100ms'")
	_, err := c.Exec(context.Background(), slow)
	wantCode(t, err, "57014")
	mustExec(t, c, "SET statement_timeout = 0")
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err = c.Exec(ctx, slow) // pgx sends a CancelRequest when ctx ends
	if err == nil {
		t.Fatal("canceled statement succeeded")
	}
	c2 := connect(t, n)
	if got := count(t, c2, "SELECT 42"); got != 42 {
		t.Fatalf("node unusable after cancel: %d", got)
	}
}

func TestRestartKeepsData(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	n := servertest.StartDir(t, dir)
	c := connect(t, n)
	mustExec(t, c, "CREATE TABLE t (id bigint PRIMARY KEY, v text)")
	for i := 0; i < 50; i++ {
		mustExec(t, c, "INSERT INTO t VALUES ($1, 'v')", i)
	}
	c.Close(context.Background())
	n.Stop()
	n2 := servertest.StartDir(t, dir)
	if got := count(t, connect(t, n2), "SELECT count(*) FROM t"); got != 50 {
		t.Fatalf("rows after restart = %d, want 50", got)
	}
}

func TestStatementsOfOneQueryStringAreOneImplicitTransaction(t *testing.T) {
	n := servertest.Start(t)
	c := connect(t, n)
	ctx := context.Background()
	mustExec(t, c, "CREATE TABLE t (id int PRIMARY KEY)")
	// Simple protocol: a failure undoes the statements before it, as in PostgreSQL.
	_, err := c.PgConn().Exec(ctx, "INSERT INTO t VALUES (1); INSERT INTO t VALUES (2); INSERT INTO t VALUES (1)").ReadAll()
	wantCode(t, err, "23505")
	if got := count(t, c, "SELECT count(*) FROM t"); got != 0 {
		t.Fatalf("rows after a failed multi-statement query = %d, want 0", got)
	}
	if _, err := c.PgConn().Exec(ctx, "INSERT INTO t VALUES (1); INSERT INTO t VALUES (2)").ReadAll(); err != nil {
		t.Fatal(err)
	}
	// Extended protocol: a pipelined batch is one implicit transaction too.
	b := &pgx.Batch{}
	b.Queue("INSERT INTO t VALUES (3)")
	b.Queue("INSERT INTO t VALUES (1)")
	err = c.SendBatch(ctx, b).Close()
	wantCode(t, err, "23505")
	if got := count(t, c, "SELECT count(*) FROM t"); got != 2 {
		t.Fatalf("rows after a failed batch = %d, want 2", got)
	}
	b = &pgx.Batch{}
	b.Queue("INSERT INTO t VALUES (3)")
	b.Queue("INSERT INTO t VALUES (4)")
	if err := c.SendBatch(ctx, b).Close(); err != nil {
		t.Fatal(err)
	}
	if got := count(t, c, "SELECT count(*) FROM t"); got != 4 {
		t.Fatalf("rows = %d, want 4", got)
	}
}

func TestCursorsFetchInSteps(t *testing.T) {
	n := servertest.Start(t)
	c := connect(t, n)
	ctx := context.Background()
	mustExec(t, c, "CREATE TABLE t (id int PRIMARY KEY)")
	mustExec(t, c, "INSERT INTO t SELECT x FROM (WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < 25) SELECT x FROM s) AS q")
	_, err := c.Exec(ctx, "DECLARE c CURSOR FOR SELECT id FROM t ORDER BY id")
	wantCode(t, err, "25P01")
	mustExec(t, c, "BEGIN")
	mustExec(t, c, "DECLARE c CURSOR FOR SELECT id FROM t ORDER BY id")
	var got []int32
	for {
		rows, _ := c.Query(ctx, "FETCH 10 FROM c")
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
		if err != nil {
			t.Fatal(err)
		}
		if len(ids) == 0 {
			break
		}
		got = append(got, ids...)
	}
	if len(got) != 25 || got[0] != 1 || got[24] != 25 {
		t.Fatalf("fetched %v", got)
	}
	mustExec(t, c, "CLOSE c")
	_, err = c.Exec(ctx, "FETCH 1 FROM c")
	wantCode(t, err, "34000")
	mustExec(t, c, "ROLLBACK")
}

func TestChecksumAndEmptyByteaAndNumericLimits(t *testing.T) {
	n := servertest.Start(t)
	c := connect(t, n)
	ctx := context.Background()
	mustExec(t, c, "CREATE TABLE b (id int PRIMARY KEY, v bytea, x numeric)")
	mustExec(t, c, `INSERT INTO b VALUES (1, '\x'::bytea, 1.5)`)
	var v []byte
	if err := c.QueryRow(ctx, "SELECT v FROM b WHERE id = 1").Scan(&v); err != nil || v == nil || len(v) != 0 {
		t.Fatalf("empty bytea = %v (nil %v), %v", v, v == nil, err)
	}
	// numeric is exact: more digits than a float keeps are kept.
	mustExec(t, c, "INSERT INTO b VALUES (2, NULL, $1::numeric)", "98765432109876543210.0123456789")
	mustExec(t, c, "INSERT INTO b VALUES (3, NULL, 12345678901234567890.5)")
	var x2, x3 string
	if err := c.QueryRow(ctx, "SELECT x::text, (SELECT x::text FROM b WHERE id = 3) FROM b WHERE id = 2").Scan(&x2, &x3); err != nil ||
		x2 != "98765432109876543210.0123456789" || x3 != "12345678901234567890.5" {
		t.Fatalf("numerics = %q, %q (%v)", x2, x3, err)
	}
	var sum1, sum2 string
	if err := c.QueryRow(ctx, "SELECT pgraft_checksum()").Scan(&sum1); err != nil || len(sum1) != 64 {
		t.Fatalf("checksum = %q, %v", sum1, err)
	}
	mustExec(t, c, "UPDATE b SET x = 2 WHERE id = 1")
	c.QueryRow(ctx, "SELECT pgraft_checksum()").Scan(&sum2)
	if sum1 == sum2 {
		t.Fatal("checksum did not change after an update")
	}
}

func TestAdvisoryLocks(t *testing.T) {
	n := servertest.Start(t)
	a, b := connect(t, n), connect(t, n)
	ctx := context.Background()
	mustExec(t, a, "SELECT pg_advisory_lock($1)", int64(42))
	var ok bool
	if err := b.QueryRow(ctx, "SELECT pg_try_advisory_lock(42)").Scan(&ok); err != nil || ok {
		t.Fatalf("second session got a held lock: %v %v", ok, err)
	}
	mustExec(t, b, "SET lock_timeout = '100ms'")
	_, err := b.Exec(ctx, "SELECT pg_advisory_lock(42)")
	wantCode(t, err, "55P03")
	if err := a.QueryRow(ctx, "SELECT pg_advisory_unlock(42)").Scan(&ok); err != nil || !ok {
		t.Fatalf("unlock = %v %v", ok, err)
	}
	if err := b.QueryRow(ctx, "SELECT pg_try_advisory_lock(42)").Scan(&ok); err != nil || !ok {
		t.Fatalf("lock not free after unlock: %v %v", ok, err)
	}
	b.Close(ctx) // a session's locks go with it
	// The server ends the session once it reads the Terminate, which the
	// client does not wait for (as with PostgreSQL): allow it a moment.
	deadline := time.Now().Add(5 * time.Second)
	for {
		if err := a.QueryRow(ctx, "SELECT pg_try_advisory_lock(42)").Scan(&ok); err != nil {
			t.Fatal(err)
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("lock not released when its session ended")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestTransactionSeesTypesOfItsOwnTables(t *testing.T) {
	n := servertest.Start(t)
	c := connect(t, n)
	ctx := context.Background()
	mustExec(t, c, "BEGIN")
	mustExec(t, c, "CREATE TABLE fresh (id int PRIMARY KEY, ok boolean, at timestamptz)")
	mustExec(t, c, "INSERT INTO fresh VALUES (1, true, now())")
	var id int32
	var ok bool
	var at time.Time
	// pgx decodes by the described OIDs: text columns would not scan into these.
	if err := c.QueryRow(ctx, "SELECT id, ok, at FROM fresh").Scan(&id, &ok, &at); err != nil || id != 1 || !ok {
		t.Fatalf("row = %d %v %v, %v", id, ok, at, err)
	}
	mustExec(t, c, "COMMIT")
}
