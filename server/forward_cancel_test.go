package server_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgraft/pgraft/server"
	"github.com/pgraft/pgraft/server/servertest"
)

// TestForwardCancel cancels forwarded statements while they wait on the
// leader (behind a transaction holding the write gate there): the
// follower's statement_timeout and a CancelRequest sent to the follower
// both end the statement on the leader with 57014 and the reason, as on the
// leader itself; nothing of a cancelled write is applied, and the session,
// its transaction state and its link to the leader go on.
func TestForwardCancel(t *testing.T) {
	skipShortCluster(t)
	c := servertest.NewCluster(t, 3)
	leaderExec(t, c, `CREATE TABLE fc (id int PRIMARY KEY)`)
	c.RequireConverged()
	ctx := context.Background()

	blocker := connect(t, c.Leader())
	mustExec(t, blocker, `BEGIN`)
	mustExec(t, blocker, `INSERT INTO fc VALUES (1)`) // holds the gate until COMMIT

	fol := followerConn(t, c)
	mustExec(t, fol, `SET statement_timeout = '300ms'`)
	_, err := fol.Exec(ctx, `INSERT INTO fc VALUES (2)`)
	wantCode(t, err, "57014")
	if !strings.Contains(err.Error(), "statement timeout") {
		t.Errorf("timeout error = %v, want the statement timeout reason", err)
	}
	mustExec(t, fol, `RESET statement_timeout`)

	_, err = execCancelled(fol, `INSERT INTO fc VALUES (3)`, 300*time.Millisecond)
	wantCode(t, err, "57014")
	if !strings.Contains(err.Error(), "user request") {
		t.Errorf("cancel error = %v, want the user request reason", err)
	}

	// A forwarded block whose first write is cancelled: failed, then 25P02
	// until ROLLBACK, as PostgreSQL does.
	tx := followerConn(t, c)
	mustExec(t, tx, `BEGIN`)
	_, err = execCancelled(tx, `INSERT INTO fc VALUES (4)`, 300*time.Millisecond)
	wantCode(t, err, "57014")
	_, err = tx.Exec(ctx, `SELECT 1`)
	wantCode(t, err, "25P02")
	if tag := mustExec(t, tx, `COMMIT`); tag.String() != "ROLLBACK" {
		t.Errorf("COMMIT of the failed block = %q, want ROLLBACK", tag)
	}

	mustExec(t, blocker, `COMMIT`)
	mustExec(t, fol, `INSERT INTO fc VALUES (5)`)
	mustExec(t, tx, `BEGIN`)
	mustExec(t, tx, `INSERT INTO fc VALUES (6)`)
	mustExec(t, tx, `COMMIT`)
	c.RequireConverged()
	for i, n := range c.Nodes {
		if got := ids(t, connect(t, n), `SELECT id FROM fc ORDER BY id`); !slices.Equal(got, []int64{1, 5, 6}) {
			t.Errorf("node %d: %v, want [1 5 6]: a cancelled write was applied or an acknowledged one lost", i, got)
		}
	}
}

// execCancelled runs sql and sends a CancelRequest for it after d, as psql
// does on ^C (the query's own context stays alive, so pgx keeps the
// connection).
func execCancelled(conn *pgx.Conn, sql string, d time.Duration) (pgconn.CommandTag, error) {
	done := make(chan struct{})
	cancelled := make(chan error, 1)
	go func() {
		select {
		case <-time.After(d):
			cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			cancelled <- conn.PgConn().CancelRequest(cctx)
		case <-done:
			cancelled <- errors.New("the statement ended before the cancel")
		}
	}()
	tag, err := conn.Exec(context.Background(), sql)
	close(done)
	if cerr := <-cancelled; cerr != nil && err == nil {
		err = cerr
	}
	return tag, err
}

// TestForwardTransactionOwnTable describes statements on a table the
// transaction created, on the leader and on a follower whose block is
// forwarded (the leader describes them inside the block there), so that
// extended-protocol clients get typed parameters and rows, as in
// PostgreSQL.
func TestForwardTransactionOwnTable(t *testing.T) {
	skipShortCluster(t)
	c := servertest.NewCluster(t, 3)
	c.RequireConverged()
	for i, node := range []*servertest.Node{c.Leader(), c.Followers()[0]} {
		name := []string{"leader", "follower"}[i]
		t.Run(name, func(t *testing.T) {
			ownTableTransaction(t, connect(t, node), "ot_"+name)
		})
	}
}

func ownTableTransaction(t *testing.T, conn *pgx.Conn, table string) {
	ctx := context.Background()
	mustExec(t, conn, `BEGIN`)
	mustExec(t, conn, `CREATE TABLE `+table+` (id int PRIMARY KEY, v text NOT NULL, at timestamptz DEFAULT now())`)
	mustExec(t, conn, `INSERT INTO `+table+` (id, v) VALUES ($1, $2)`, 1, "a")
	rows, err := conn.Query(ctx, `SELECT id, v, at FROM `+table+` WHERE id = $1`, 1)
	if err != nil {
		t.Fatal(err)
	}
	var oids []uint32
	for _, fd := range rows.FieldDescriptions() {
		oids = append(oids, fd.DataTypeOID)
	}
	type row struct {
		ID int32
		V  string
		At time.Time
	}
	got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[row])
	if err != nil || len(got) != 1 || got[0].ID != 1 || got[0].V != "a" || got[0].At.IsZero() {
		t.Fatalf("rows %+v, err %v", got, err)
	}
	if want := []uint32{23, 25, 1184}; !slices.Equal(oids, want) {
		t.Errorf("column types %v, want %v", oids, want)
	}
	sd, err := conn.Prepare(ctx, "", `UPDATE `+table+` SET v = $1 WHERE id = $2 RETURNING id`)
	if err != nil {
		t.Fatal(err)
	}
	if want := []uint32{25, 23}; !slices.Equal(sd.ParamOIDs, want) {
		t.Errorf("parameter types %v, want %v", sd.ParamOIDs, want)
	}
	var id int32
	if err := conn.QueryRow(ctx, `UPDATE `+table+` SET v = $1 WHERE id = $2 RETURNING id`, "b", 1).Scan(&id); err != nil || id != 1 {
		t.Fatalf("update returning: %d %v", id, err)
	}
	_, err = conn.Exec(ctx, `SELECT nosuch FROM `+table)
	wantCode(t, err, "42703")
	mustExec(t, conn, `ROLLBACK`)

	mustExec(t, conn, `BEGIN`)
	mustExec(t, conn, `CREATE TABLE `+table+` (id int PRIMARY KEY, v text NOT NULL)`)
	mustExec(t, conn, `INSERT INTO `+table+` VALUES ($1, $2)`, 7, "kept")
	mustExec(t, conn, `COMMIT`)
	var v string
	if err := conn.QueryRow(ctx, `SELECT v FROM `+table+` WHERE id = $1`, 7).Scan(&v); err != nil || v != "kept" {
		t.Fatalf("after commit: %q %v", v, err)
	}
}

// TestForwardLinkIdle checks that a follower session's link to the leader
// closes after Config.ForwardIdleTimeout without use, but not inside a
// forwarded transaction nor while the session may hold advisory locks
// through it; a closed link is dialled again by the next write.
func TestForwardLinkIdle(t *testing.T) {
	skipShortCluster(t)
	const idle = 300 * time.Millisecond
	c := servertest.NewCluster(t, 3, func(cfg *server.Config) {
		cfg.ForwardIdleTimeout = idle
		// A leader change would close links for its own reason: keep
		// elections away on a loaded machine.
		cfg.HeartbeatTimeout, cfg.ElectionTimeout = 2*time.Second, 2*time.Second
	})
	leaderExec(t, c, `CREATE TABLE fl (id int PRIMARY KEY)`)
	c.RequireConverged()
	leader := c.Leader()
	sessions := func() int64 { return leader.Status(context.Background(), false).ForwardedSessions }
	waitSessions := func(want int64) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for sessions() != want {
			if time.Now().After(deadline) {
				t.Fatalf("leader-side sessions = %d, want %d", sessions(), want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	fol := followerConn(t, c)
	mustExec(t, fol, `INSERT INTO fl VALUES (1)`)
	waitSessions(1)
	waitSessions(0) // idle: closed
	mustExec(t, fol, `INSERT INTO fl VALUES (2)`)
	waitSessions(1)

	mustExec(t, fol, `BEGIN`)
	mustExec(t, fol, `INSERT INTO fl VALUES (3)`)
	time.Sleep(3 * idle)
	if n := sessions(); n != 1 {
		t.Fatalf("a link in a forwarded transaction was closed: %d sessions", n)
	}
	mustExec(t, fol, `COMMIT`)
	waitSessions(0)

	lock := followerConn(t, c)
	mustExec(t, lock, `SELECT pg_advisory_lock(42)`)
	time.Sleep(3 * idle)
	if n := sessions(); n != 1 {
		t.Fatalf("a link holding an advisory lock was closed: %d sessions", n)
	}
	other := connect(t, leader)
	var got bool
	if err := other.QueryRow(context.Background(), `SELECT pg_try_advisory_lock(42)`).Scan(&got); err != nil || got {
		t.Fatalf("the lock must still be held: try = %v, %v", got, err)
	}
	if got := ids(t, fol, `SELECT id FROM fl ORDER BY id`); !slices.Equal(got, []int64{1, 2, 3}) {
		t.Fatalf("rows %v", got)
	}
}
