package server_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgraft/pgraft/server/servertest"
)

// nextval returns SELECT nextval(seq) on c.
func nextval(t *testing.T, c *pgx.Conn, seq string) int64 {
	t.Helper()
	return count(t, c, "SELECT nextval('"+seq+"')")
}

// TestSequencesPgDump loads pg_dump's form of a serial column and reads it
// back as pg_dump and psql do.
func TestSequencesPgDump(t *testing.T) {
	n := servertest.Start(t)
	c := connect(t, n)
	ctx := context.Background()
	for _, q := range []string{
		"CREATE TABLE public.t (id integer NOT NULL, name text)",
		"CREATE SEQUENCE public.t_id_seq AS integer START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1",
		"ALTER SEQUENCE public.t_id_seq OWNED BY public.t.id",
		"ALTER SEQUENCE public.t_id_seq OWNER TO postgres",
		"INSERT INTO t (id, name) VALUES (1, 'a'), (2, 'b'), (3, 'c')",
	} {
		mustExec(t, c, q)
	}
	var v int64
	if err := c.QueryRow(ctx, "SELECT pg_catalog.setval('public.t_id_seq', 3, true)").Scan(&v); err != nil || v != 3 {
		t.Fatalf("setval: %d, %v", v, err)
	}
	if got := count(t, c, "SELECT nextval('public.t_id_seq'::regclass)"); got != 4 {
		t.Errorf("nextval after setval = %d, want 4", got)
	}
	var last int64
	var called bool
	if err := c.QueryRow(ctx, "SELECT last_value, is_called FROM public.t_id_seq").Scan(&last, &called); err != nil || last != 4 || !called {
		t.Errorf("SELECT last_value, is_called: %d %v %v", last, called, err)
	}
	var seqName *string
	if err := c.QueryRow(ctx, "SELECT pg_get_serial_sequence('public.t', 'id')").Scan(&seqName); err != nil || seqName == nil || *seqName != "public.t_id_seq" {
		t.Errorf("pg_get_serial_sequence: %v %v", seqName, err)
	}
	var typ string
	var start, inc int64
	var cycle bool
	err := c.QueryRow(ctx, `SELECT format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, s.seqcycle FROM pg_catalog.pg_sequence s
		JOIN pg_catalog.pg_class c ON c.oid = s.seqrelid WHERE c.relname = 't_id_seq' AND c.relkind = 'S'`).Scan(&typ, &start, &inc, &cycle)
	if err != nil || typ != "integer" || start != 1 || inc != 1 || cycle {
		t.Errorf("pg_sequence: %s %d %d %v %v", typ, start, inc, cycle, err)
	}
	// Errors, with PostgreSQL's SQLSTATEs.
	_, err = c.Exec(ctx, "SELECT currval('t_id_seq')")
	if err != nil {
		t.Errorf("currval after nextval: %v", err)
	}
	mustExec(t, c, "DISCARD SEQUENCES")
	_, err = c.Exec(ctx, "SELECT currval('t_id_seq')")
	wantCode(t, err, "55000")
	c2 := connect(t, n)
	_, err = c2.Exec(ctx, "SELECT currval('t_id_seq')")
	wantCode(t, err, "55000")
	_, err = c2.Exec(ctx, "SELECT lastval()")
	wantCode(t, err, "55000")
	_, err = c.Exec(ctx, "SELECT nextval('nope')")
	wantCode(t, err, "42P01")
	_, err = c.Exec(ctx, "SELECT setval('t_id_seq', 0)")
	wantCode(t, err, "22003")
	mustExec(t, c, "CREATE SEQUENCE small MAXVALUE 2")
	nextval(t, c, "small")
	nextval(t, c, "small")
	_, err = c.Exec(ctx, "SELECT nextval('small')")
	wantCode(t, err, "2200H")
	_, err = c.Exec(ctx, "SELECT nextval(name) FROM t")
	wantCode(t, err, "0A000")
	// A read-only transaction cannot call nextval.
	tx, err := c.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		t.Fatal(err)
	}
	_, err = tx.Exec(ctx, "SELECT nextval('t_id_seq')")
	wantCode(t, err, "25006")
	tx.Rollback(ctx)
}

// TestSequencesSerial: a serial column not the key, an explicit id that
// leaves the sequence alone, currval and lastval, and values a rolled-back
// transaction saw that are never handed out again.
func TestSequencesSerial(t *testing.T) {
	n := servertest.Start(t)
	c := connect(t, n)
	ctx := context.Background()
	mustExec(t, c, "CREATE TABLE items (id serial PRIMARY KEY, code bigserial, name text)")
	var id int32
	var code int64
	if err := c.QueryRow(ctx, "INSERT INTO items (name) VALUES ($1) RETURNING id, code", "a").Scan(&id, &code); err != nil || id != 1 || code != 1 {
		t.Fatalf("first insert: %d %d %v", id, code, err)
	}
	mustExec(t, c, "INSERT INTO items (id, name) VALUES (10, 'b')")
	if err := c.QueryRow(ctx, "INSERT INTO items (name) VALUES ('c') RETURNING id, code").Scan(&id, &code); err != nil || id != 2 || code != 3 {
		t.Errorf("after an explicit id: %d %d %v (want 2 3)", id, code, err)
	}
	if got := count(t, c, "SELECT currval('items_id_seq')"); got != 2 {
		t.Errorf("currval = %d", got)
	}
	if got := count(t, c, "SELECT lastval()"); got != 3 {
		t.Errorf("lastval = %d (the last nextval was code's)", got)
	}

	// A rolled-back transaction's values are spent.
	tx, err := c.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var seen int64
	if err := tx.QueryRow(ctx, "SELECT nextval('items_id_seq')").Scan(&seen); err != nil || seen != 3 {
		t.Fatalf("nextval in a transaction: %d %v", seen, err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if got := nextval(t, c, "items_id_seq"); got != 4 {
		t.Errorf("nextval after a rolled-back transaction = %d, want 4", got)
	}
	// A failed INSERT in a transaction that rolls back: its defaults too.
	tx, _ = c.Begin(ctx)
	if err := tx.QueryRow(ctx, "INSERT INTO items (name) VALUES ('d') RETURNING id").Scan(&id); err != nil || id != 5 {
		t.Fatalf("insert in a transaction: %d %v", id, err)
	}
	tx.Rollback(ctx)
	if err := c.QueryRow(ctx, "INSERT INTO items (name) VALUES ('e') RETURNING id").Scan(&id); err != nil || id != 6 {
		t.Errorf("insert after a rolled-back insert: %d %v, want 6", id, err)
	}
	// currval inside a larger statement: a parent's id for its child.
	mustExec(t, c, "CREATE TABLE child (parent int, note text)")
	mustExec(t, c, "INSERT INTO items (name) VALUES ('parent')")
	mustExec(t, c, "INSERT INTO child VALUES (currval('items_id_seq'), 'x')")
	if got := count(t, c, "SELECT parent FROM child"); got != int64(id)+1 {
		t.Errorf("child's parent = %d, want %d", got, id+1)
	}
	// lastval is code's: its default runs after the key's nextval, and the
	// rolled-back block spent one value of each.
	if got := count(t, c, "SELECT currval('items_id_seq') * 100 + lastval()"); got != 706 {
		t.Errorf("currval and lastval in a read = %d, want 706", got)
	}
	// TRUNCATE … RESTART IDENTITY starts the owned sequences again.
	mustExec(t, c, "TRUNCATE items RESTART IDENTITY")
	if err := c.QueryRow(ctx, "INSERT INTO items (name) VALUES ('f') RETURNING id, code").Scan(&id, &code); err != nil || id != 1 || code != 1 {
		t.Errorf("after RESTART IDENTITY: %d %d %v", id, code, err)
	}
	_, err = c.Exec(ctx, "DROP SEQUENCE items_id_seq")
	wantCode(t, err, "2BP01")
	mustExec(t, c, "DROP TABLE items")
	_, err = c.Exec(ctx, "SELECT nextval('items_id_seq')")
	wantCode(t, err, "42P01")
}

// TestClusterSequences: nextval through every node (followers forward),
// equal checksums, currval on a follower, and no value handed out twice
// across a failover.
func TestClusterSequences(t *testing.T) {
	skipShortCluster(t)
	c := servertest.NewCluster(t, 3)
	leaderExec(t, c, "CREATE TABLE ev (id bigserial PRIMARY KEY, node int)")
	leaderExec(t, c, "CREATE SEQUENCE s")
	leaderExec(t, c, "CREATE TABLE cur (node int, v bigint)")
	c.RequireConverged()
	seen := map[int64]bool{}
	take := func(v int64, who string) {
		t.Helper()
		if seen[v] {
			t.Fatalf("%s: value %d handed out twice", who, v)
		}
		seen[v] = true
	}
	for i, n := range c.Nodes {
		conn := connect(t, n)
		for k := 0; k < 5; k++ {
			take(nextval(t, conn, "s"), fmt.Sprintf("node %d", i))
			mustExec(t, conn, "INSERT INTO ev (node) VALUES ($1)", i)
		}
		cur := count(t, conn, "SELECT currval('s')")
		if !seen[cur] {
			t.Errorf("node %d: currval %d was not handed out", i, cur)
		}
		// currval inside a write a follower forwards: the session's value.
		mustExec(t, conn, "INSERT INTO cur VALUES ($1, currval('s'))", i)
		if got := count(t, conn, fmt.Sprintf("SELECT v FROM cur WHERE node = %d", i)); got != cur {
			t.Errorf("node %d: currval in a write = %d, want %d", i, got, cur)
		}
		// A forwarded transaction that rolls back spends its values too.
		tx, err := conn.Begin(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var v int64
		if err := tx.QueryRow(context.Background(), "SELECT nextval('s')").Scan(&v); err != nil {
			t.Fatalf("node %d: nextval in a transaction: %v", i, err)
		}
		take(v, fmt.Sprintf("node %d, rolled back", i))
		tx.Rollback(context.Background())
	}
	c.RequireConverged()
	for i, n := range c.Nodes {
		if got := count(t, connect(t, n), "SELECT count(DISTINCT id) FROM ev"); got != 15 {
			t.Errorf("node %d: %d distinct ids, want 15", i, got)
		}
	}

	old := c.LeaderIndex()
	c.Crash(old)
	ctx, cancel := context.WithTimeout(context.Background(), clusterWait)
	defer cancel()
	for {
		conn, err := pgx.Connect(ctx, c.Leader().DSN())
		if err == nil {
			var v int64
			err = conn.QueryRow(ctx, "SELECT nextval('s')").Scan(&v)
			conn.Close(context.Background())
			if err == nil {
				take(v, "new leader")
				break
			}
		}
		if !retryable(err) || ctx.Err() != nil {
			t.Fatalf("nextval on the new leader: %v", err)
		}
		time.Sleep(20 * time.Millisecond) // a poll: leadership is moving
	}
	c.Restart(old)
	c.RequireConverged()
}
