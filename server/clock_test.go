package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgraft/pgraft/server/servertest"
)

// Time in reads (docs/design.md §6, "Time in reads"): now() and its
// synonyms are the transaction's start, statement_timestamp() the
// statement's, clock_timestamp() the clock, as in PostgreSQL; a block's
// writes carry its start time.

// TestTimeInReads checks one node.
func TestTimeInReads(t *testing.T) {
	n := servertest.Start(t)
	checkTime(t, connect(t, n), "clock_one")
	checkWriteClamp(t, connect(t, n), connect(t, n))
}

// TestTimeInReadsCluster checks the leader and a follower of three nodes,
// whose blocks' writes are forwarded, then that every node stored the same
// times.
func TestTimeInReadsCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("three-node cluster: skipped with -short")
	}
	c := servertest.NewCluster(t, 3)
	c.RequireConverged()
	checkTime(t, connect(t, c.Leader()), "clock_leader")
	checkTime(t, connect(t, c.Followers()[0]), "clock_follower")
	c.RequireConverged()
}

func scanTime(t *testing.T, c *pgx.Conn, sql string) time.Time {
	t.Helper()
	var ts time.Time
	if err := c.QueryRow(context.Background(), sql).Scan(&ts); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return ts
}

func checkTime(t *testing.T, c *pgx.Conn, table string) {
	t.Helper()
	ctx := context.Background()

	// One statement: now() is one value however long the statement runs;
	// clock_timestamp() moves.
	var same [4]bool
	var moved bool
	if err := c.QueryRow(ctx, `SELECT now() = now(), now() = CURRENT_TIMESTAMP, now() = transaction_timestamp(),
		now() = statement_timestamp(), count(DISTINCT clock_timestamp()) > 1 FROM generate_series(1, 20000)`).
		Scan(&same[0], &same[1], &same[2], &same[3], &moved); err != nil {
		t.Fatal(err)
	}
	if same != [4]bool{true, true, true, true} || !moved {
		t.Errorf("%s: one statement: now() equalities %v, clock_timestamp() moved %v", table, same, moved)
	}
	// In the session's time zone, LOCALTIMESTAMP, CURRENT_DATE and
	// LOCALTIME are the transaction's start too.
	mustExec(t, c, "SET TimeZone = 'Asia/Tokyo'")
	var local time.Time
	var date, clock string
	var now time.Time
	if err := c.QueryRow(ctx, "SELECT now(), LOCALTIMESTAMP, CURRENT_DATE::text, LOCALTIME::text").Scan(&now, &local, &date, &clock); err != nil {
		t.Fatal(err)
	}
	tokyo := now.In(time.FixedZone("JST", 9*3600))
	if wall := tokyo.Format("2006-01-02 15:04:05.999999"); local.Format("2006-01-02 15:04:05.999999") != wall ||
		date != tokyo.Format("2006-01-02") || clock != tokyo.Format("15:04:05.999999") {
		t.Errorf("%s: now() %v in Tokyo: LOCALTIMESTAMP %v, CURRENT_DATE %s, LOCALTIME %s", table, now, local, date, clock)
	}
	mustExec(t, c, "RESET TimeZone")

	// Autocommit reads are transactions of their own.
	a := scanTime(t, c, "SELECT now()")
	time.Sleep(2 * time.Millisecond)
	if b := scanTime(t, c, "SELECT now()"); !b.After(a) {
		t.Errorf("%s: two autocommit reads: now() %v then %v", table, a, b)
	}

	// A block: now() is its start in every statement; statement_timestamp()
	// and clock_timestamp() move; the next block starts later.
	tx, err := c.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var x1 time.Time
	if err := tx.QueryRow(ctx, "SELECT now()").Scan(&x1); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Millisecond)
	var x2, st, ck time.Time
	if err := tx.QueryRow(ctx, "SELECT CURRENT_TIMESTAMP, statement_timestamp(), clock_timestamp()").Scan(&x2, &st, &ck); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if !x2.Equal(x1) || !st.After(x1) || !ck.After(st) {
		t.Errorf("%s: block: now() %v then %v, statement_timestamp() %v, clock_timestamp() %v", table, x1, x2, st, ck)
	}
	if next := scanTime(t, c, "SELECT now()"); !next.After(ck) {
		t.Errorf("%s: the next transaction's now() %v is not after the block's clock %v", table, next, ck)
	}

	// A block that writes: its write, RETURNING and the reads after it see
	// the block's start, and the stored value is that time on every node.
	mustExec(t, c, "CREATE TABLE "+table+" (id int PRIMARY KEY, ts timestamptz, d date)")
	tx, err = c.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var w0, wret, w1 time.Time
	if err := tx.QueryRow(ctx, "SELECT now()").Scan(&w0); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Millisecond)
	if err := tx.QueryRow(ctx, "INSERT INTO "+table+" VALUES (1, now(), CURRENT_DATE) RETURNING now()").Scan(&wret); err != nil {
		t.Fatal(err)
	}
	if err := tx.QueryRow(ctx, "SELECT now()").Scan(&w1); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	stored := scanTime(t, c, "SELECT ts FROM "+table+" WHERE id = 1")
	if !wret.Equal(w0) || !w1.Equal(w0) || !stored.Equal(w0) {
		t.Errorf("%s: writing block: now() %v, RETURNING now() %v, now() after %v, stored %v", table, w0, wret, w1, stored)
	}

	// An extended-protocol batch is one implicit transaction: one now(),
	// a statement_timestamp() per statement.
	b := &pgx.Batch{}
	b.Queue("SELECT now()")
	b.Queue("SELECT count(*) FROM generate_series(1, 200000)")
	b.Queue("SELECT now(), statement_timestamp()")
	br := c.SendBatch(ctx, b)
	var b1, b2, bst time.Time
	var cnt int64
	if err := br.QueryRow().Scan(&b1); err != nil {
		t.Fatal(err)
	}
	if err := br.QueryRow().Scan(&cnt); err != nil {
		t.Fatal(err)
	}
	if err := br.QueryRow().Scan(&b2, &bst); err != nil {
		t.Fatal(err)
	}
	if err := br.Close(); err != nil {
		t.Fatal(err)
	}
	if !b2.Equal(b1) || !bst.After(b1) {
		t.Errorf("%s: batch: now() %v then %v, statement_timestamp() %v", table, b1, b2, bst)
	}
	// A batch that writes: the entry takes the implicit transaction's start.
	b = &pgx.Batch{}
	b.Queue("SELECT now()")
	b.Queue("INSERT INTO " + table + " VALUES (2, now()) RETURNING ts")
	br = c.SendBatch(ctx, b)
	var i1, i2 time.Time
	if err := br.QueryRow().Scan(&i1); err != nil {
		t.Fatal(err)
	}
	if err := br.QueryRow().Scan(&i2); err != nil {
		t.Fatal(err)
	}
	if err := br.Close(); err != nil {
		t.Fatal(err)
	}
	if !i2.Equal(i1) {
		t.Errorf("%s: batch with a write: now() %v, written %v", table, i1, i2)
	}

	// A simple Query of several statements is one transaction and one
	// message: now() and statement_timestamp() are the same in each.
	res, err := c.PgConn().Exec(ctx, "SELECT now()::text; SELECT count(*) FROM generate_series(1, 200000); SELECT now()::text, statement_timestamp()::text").ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	first, last := string(res[0].Rows[0][0]), res[2].Rows[0]
	if string(last[0]) != first || string(last[1]) != first {
		t.Errorf("%s: simple query: now() %s, then now() %s and statement_timestamp() %s", table, first, last[0], last[1])
	}
}

// checkWriteClamp: a block's writes carry its start time, but never a time
// before an entry applied since (time never moves backwards in the log).
func checkWriteClamp(t *testing.T, c, other *pgx.Conn) {
	t.Helper()
	ctx := context.Background()
	mustExec(t, c, "CREATE TABLE clock_clamp (id int PRIMARY KEY, ts timestamptz)")
	tx, err := c.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	var start time.Time
	if err := tx.QueryRow(ctx, "SELECT now()").Scan(&start); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Millisecond)
	var between time.Time
	if err := other.QueryRow(ctx, "INSERT INTO clock_clamp VALUES (1, now()) RETURNING ts").Scan(&between); err != nil {
		t.Fatal(err)
	}
	var written time.Time
	if err := tx.QueryRow(ctx, "INSERT INTO clock_clamp VALUES (2, now()) RETURNING ts").Scan(&written); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if !between.After(start) || !written.After(between) {
		t.Errorf("block began %v, another entry applied at %v, the block wrote %v: want it after", start, between, written)
	}
}
