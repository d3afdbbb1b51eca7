package server_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgraft/pgraft/server"
	"github.com/pgraft/pgraft/server/servertest"
)

// followerConn connects to a follower of c.
func followerConn(t *testing.T, c *servertest.Cluster) *pgx.Conn {
	t.Helper()
	return connect(t, c.Followers()[0])
}

func ids(t *testing.T, conn *pgx.Conn, sql string) []int64 {
	t.Helper()
	rows, err := conn.Query(context.Background(), sql)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return out
}

// TestForwardFollowerWrites runs writes through a follower: autocommit
// statements with their tags, RETURNING rows and SQLSTATEs, read-your-
// writes on the same session, whole transactions with savepoints, ROLLBACK,
// and the read-only cases that must stay 25006.
func TestForwardFollowerWrites(t *testing.T) {
	skipShortCluster(t)
	c := servertest.NewCluster(t, 3)
	leaderExec(t, c, `CREATE TABLE fw (id int PRIMARY KEY, v text)`)
	c.RequireConverged()
	ctx := context.Background()

	t.Run("autocommit", func(t *testing.T) {
		fol := followerConn(t, c)
		if tag := mustExec(t, fol, `INSERT INTO fw VALUES (1, 'a'), (2, 'b')`); tag.String() != "INSERT 0 2" {
			t.Errorf("insert tag = %q", tag)
		}
		// Read-your-writes: the same session sees the rows at once.
		if got := ids(t, fol, `SELECT id FROM fw ORDER BY id`); !slices.Equal(got, []int64{1, 2}) {
			t.Fatalf("follower read after its write: %v", got)
		}
		var id int64
		var v string
		if err := fol.QueryRow(ctx, `UPDATE fw SET v = v || $1 WHERE id = $2 RETURNING id, v`, "!", 2).Scan(&id, &v); err != nil || id != 2 || v != "b!" {
			t.Fatalf("update returning: %d %q %v", id, v, err)
		}
		if tag := mustExec(t, fol, `UPDATE fw SET v = 'z' WHERE id > 0`); tag.String() != "UPDATE 2" {
			t.Errorf("update tag = %q", tag)
		}
		rows, err := fol.Query(ctx, `INSERT INTO fw VALUES (3, 'c'), (4, NULL) RETURNING id, v`)
		if err != nil {
			t.Fatal(err)
		}
		type row struct {
			ID int64
			V  *string
		}
		got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[row])
		if err != nil || len(got) != 2 || got[0].ID != 3 || *got[0].V != "c" || got[1].V != nil {
			t.Fatalf("insert returning: %+v %v", got, err)
		}
		if tag := rows.CommandTag(); tag.String() != "INSERT 0 2" {
			t.Errorf("insert returning tag = %q", tag)
		}
		if tag := mustExec(t, fol, `DELETE FROM fw WHERE id = 4`); tag.String() != "DELETE 1" {
			t.Errorf("delete tag = %q", tag)
		}
		_, err = fol.Exec(ctx, `INSERT INTO fw VALUES (1, 'dup')`)
		wantCode(t, err, "23505")
		_, err = fol.Exec(ctx, `INSERT INTO nosuch VALUES (1)`)
		wantCode(t, err, "42P01")
		// DDL, then a statement that needs it, on the same follower session.
		mustExec(t, fol, `CREATE TABLE fw2 (k text PRIMARY KEY)`)
		mustExec(t, fol, `INSERT INTO fw2 VALUES ('x')`)
		if n := count(t, fol, `SELECT count(*) FROM fw2`); n != 1 {
			t.Fatalf("fw2 rows = %d", n)
		}
		// Several statements before Sync: one implicit transaction.
		mustExec(t, fol, `INSERT INTO fw VALUES (30, 'p'); INSERT INTO fw VALUES (31, 'q')`)
		_, err = fol.Exec(ctx, `INSERT INTO fw VALUES (32, 'r'); INSERT INTO fw VALUES (30, 'dup')`)
		wantCode(t, err, "23505")
		if got := ids(t, fol, `SELECT id FROM fw WHERE id >= 30 ORDER BY id`); !slices.Equal(got, []int64{30, 31}) {
			t.Fatalf("implicit transactions left %v, want [30 31]", got)
		}
	})

	t.Run("transaction", func(t *testing.T) {
		fol := followerConn(t, c)
		mustExec(t, fol, `BEGIN`)
		if n := count(t, fol, `SELECT count(*) FROM fw WHERE id >= 10 AND id < 20`); n != 0 {
			t.Fatalf("before: %d rows", n)
		}
		mustExec(t, fol, `SAVEPOINT s1`)
		mustExec(t, fol, `INSERT INTO fw VALUES (10, 'a')`)
		mustExec(t, fol, `SAVEPOINT s2`)
		mustExec(t, fol, `INSERT INTO fw VALUES (11, 'b')`)
		if got := ids(t, fol, `SELECT id FROM fw WHERE id >= 10 AND id < 20 ORDER BY id`); !slices.Equal(got, []int64{10, 11}) {
			t.Fatalf("in the block: %v", got)
		}
		mustExec(t, fol, `ROLLBACK TO SAVEPOINT s2`)
		_, err := fol.Exec(ctx, `INSERT INTO fw VALUES (10, 'dup')`)
		wantCode(t, err, "23505")
		_, err = fol.Exec(ctx, `SELECT 1`)
		wantCode(t, err, "25P02")
		mustExec(t, fol, `ROLLBACK TO SAVEPOINT s2`)
		var n int64
		if err := fol.QueryRow(ctx, `UPDATE fw SET v = 'a2' WHERE id = 10 RETURNING id`).Scan(&n); err != nil || n != 10 {
			t.Fatalf("update in block: %d %v", n, err)
		}
		mustExec(t, fol, `INSERT INTO fw VALUES (12, 'c')`)
		if tag := mustExec(t, fol, `COMMIT`); tag.String() != "COMMIT" {
			t.Fatalf("commit tag = %q", tag)
		}
		if got := ids(t, fol, `SELECT id FROM fw WHERE id >= 10 AND id < 20 ORDER BY id`); !slices.Equal(got, []int64{10, 12}) {
			t.Fatalf("after commit, follower: %v", got)
		}
		c.RequireConverged()
		for i, node := range c.Nodes {
			if got := ids(t, connect(t, node), `SELECT id FROM fw WHERE id >= 10 AND id < 20 ORDER BY id`); !slices.Equal(got, []int64{10, 12}) {
				t.Errorf("node %d: %v, want [10 12]", i, got)
			}
		}
	})

	t.Run("rollback", func(t *testing.T) {
		fol := followerConn(t, c)
		mustExec(t, fol, `BEGIN`)
		mustExec(t, fol, `INSERT INTO fw VALUES (20, 'gone')`)
		mustExec(t, fol, `ROLLBACK`)
		// A failed block's COMMIT reports ROLLBACK, as PostgreSQL does.
		mustExec(t, fol, `BEGIN`)
		mustExec(t, fol, `INSERT INTO fw VALUES (21, 'gone')`)
		_, err := fol.Exec(ctx, `INSERT INTO fw VALUES (21, 'dup')`)
		wantCode(t, err, "23505")
		if tag := mustExec(t, fol, `COMMIT`); tag.String() != "ROLLBACK" {
			t.Fatalf("commit of a failed block: %q", tag)
		}
		mustExec(t, fol, `INSERT INTO fw VALUES (22, 'after')`) // the session goes on
		c.RequireConverged()
		for i, node := range c.Nodes {
			if got := ids(t, connect(t, node), `SELECT id FROM fw WHERE id >= 20 AND id < 30 ORDER BY id`); !slices.Equal(got, []int64{22}) {
				t.Errorf("node %d: %v, want [22]", i, got)
			}
		}
	})

	t.Run("repeatable read conflict", func(t *testing.T) {
		fol := followerConn(t, c)
		mustExec(t, fol, `BEGIN ISOLATION LEVEL REPEATABLE READ`)
		count(t, fol, `SELECT count(*) FROM fw`) // takes the snapshot here
		leaderExec(t, c, `INSERT INTO fw VALUES (50, 'other')`)
		_, err := fol.Exec(ctx, `INSERT INTO fw VALUES (51, 'mine')`)
		wantCode(t, err, "40001")
		mustExec(t, fol, `ROLLBACK`)
		// The follower must have applied row 50 before the next snapshot: under
		// session consistency this session may otherwise read before it, and
		// then its write conflicts (40001) just like the first one.
		c.RequireConverged()
		mustExec(t, fol, `BEGIN ISOLATION LEVEL REPEATABLE READ`)
		count(t, fol, `SELECT count(*) FROM fw`)
		mustExec(t, fol, `INSERT INTO fw VALUES (51, 'mine')`) // nothing changed since: fine
		mustExec(t, fol, `COMMIT`)
	})

	t.Run("read only", func(t *testing.T) {
		fol := followerConn(t, c)
		mustExec(t, fol, `BEGIN READ ONLY`)
		_, err := fol.Exec(ctx, `INSERT INTO fw VALUES (40, 'x')`)
		wantCode(t, err, "25006")
		mustExec(t, fol, `ROLLBACK`)
		mustExec(t, fol, `BEGIN`)
		mustExec(t, fol, `SET TRANSACTION READ ONLY`)
		_, err = fol.Exec(ctx, `INSERT INTO fw VALUES (40, 'x')`)
		wantCode(t, err, "25006")
		mustExec(t, fol, `ROLLBACK`)
		mustExec(t, fol, `SET default_transaction_read_only = on`)
		_, err = fol.Exec(ctx, `DELETE FROM fw`)
		wantCode(t, err, "25006")
		mustExec(t, fol, `RESET default_transaction_read_only`)
		mustExec(t, fol, `INSERT INTO fw VALUES (40, 'x')`)
	})
}

// TestForwardRejectMode checks --follower-writes=reject: a follower answers
// 25006 as a PostgreSQL standby does, and the leader still writes.
func TestForwardRejectMode(t *testing.T) {
	skipShortCluster(t)
	c := servertest.NewCluster(t, 2, func(cfg *server.Config) { cfg.FollowerWrites = server.FollowerWritesReject })
	leaderExec(t, c, `CREATE TABLE rj (id int PRIMARY KEY)`)
	c.RequireConverged()
	fol := followerConn(t, c)
	_, err := fol.Exec(context.Background(), `INSERT INTO rj VALUES (1)`)
	wantCode(t, err, "25006")
	mustExec(t, fol, `BEGIN`)
	_, err = fol.Exec(context.Background(), `INSERT INTO rj VALUES (1)`)
	wantCode(t, err, "25006")
	mustExec(t, fol, `ROLLBACK`)
	if n := count(t, fol, `SELECT count(*) FROM rj`); n != 0 {
		t.Fatalf("rejected write left %d rows", n)
	}
}

// TestForwardLeaderCrashMidTransaction crashes the leader while a
// follower's forwarded transaction is open: COMMIT must fail (40001 or
// 40003), never report success, and nothing of the block may appear. The
// session then writes through the new leader.
func TestForwardLeaderCrashMidTransaction(t *testing.T) {
	skipShortCluster(t)
	c := servertest.NewCluster(t, 3)
	leaderExec(t, c, `CREATE TABLE lc (id int PRIMARY KEY)`)
	c.RequireConverged()
	fol := followerConn(t, c)
	ctx := context.Background()
	mustExec(t, fol, `BEGIN`)
	mustExec(t, fol, `INSERT INTO lc VALUES (1)`)
	c.Crash(c.LeaderIndex())
	tag, err := fol.Exec(ctx, `COMMIT`)
	if err == nil {
		t.Fatalf("COMMIT after the leader crashed: %q, want an error", tag)
	}
	if code := sqlstate(err); code != "40001" && code != "40003" {
		t.Fatalf("COMMIT after the leader crashed: %v (SQLSTATE %q), want 40001 or 40003", err, code)
	}
	// The session is usable again: retry against the new leader.
	deadline := time.Now().Add(clusterWait)
	for {
		_, err := fol.Exec(ctx, `INSERT INTO lc VALUES (2)`)
		if err == nil {
			break
		}
		if !retryable(err) || time.Now().After(deadline) {
			t.Fatalf("write through the follower after failover: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := ids(t, fol, `SELECT id FROM lc ORDER BY id`); !slices.Equal(got, []int64{2}) {
		t.Fatalf("after failover: %v, want [2] (the crashed block must not appear)", got)
	}
}

func TestClusterAdvisoryLocksSpanNodes(t *testing.T) {
	c := servertest.NewCluster(t, 3)
	ctx := context.Background()
	lead := c.Leader()
	var follower *servertest.Node
	for _, f := range c.Followers() {
		follower = f
	}
	a, err := pgx.Connect(ctx, follower.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close(ctx)
	b, err := pgx.Connect(ctx, lead.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close(ctx)
	if _, err := a.Exec(ctx, "SELECT pg_advisory_lock(7)"); err != nil {
		t.Fatal(err)
	}
	var ok bool
	if err := b.QueryRow(ctx, "SELECT pg_try_advisory_lock(7)").Scan(&ok); err != nil || ok {
		t.Fatalf("a lock taken through a follower did not exclude the leader's session: %v %v", ok, err)
	}
	if err := a.QueryRow(ctx, "SELECT pg_advisory_unlock(7)").Scan(&ok); err != nil || !ok {
		t.Fatalf("unlock through the follower = %v %v", ok, err)
	}
	if err := b.QueryRow(ctx, "SELECT pg_try_advisory_lock(7)").Scan(&ok); err != nil || !ok {
		t.Fatalf("lock not free after the follower's unlock: %v %v", ok, err)
	}
}
