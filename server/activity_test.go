package server_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgraft/pgraft/server/servertest"
)

// connectAs connects to n as user with application_name app.
func connectAs(t *testing.T, n *servertest.Node, user, app string) *pgx.Conn {
	t.Helper()
	dsn := strings.Replace(n.DSN(), "postgres://postgres@", "postgres://"+user+"@", 1) + "&application_name=" + app
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect as %s: %v", user, err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

type activityRow struct {
	pid                          int32
	user, app, state, query, typ string
	addr                         *string
	port                         *int32
	backendStart, xactStart      *time.Time
	queryStart, stateChange      *time.Time
}

// activityOf reads pg_stat_activity's row for pid, as c sees it.
func activityOf(t *testing.T, c *pgx.Conn, pid uint32) (activityRow, bool) {
	t.Helper()
	var r activityRow
	err := c.QueryRow(context.Background(), `SELECT pid, usename, coalesce(application_name, '<null>'), coalesce(state, ''), query,
		coalesce(backend_type, ''), client_addr, client_port, backend_start, xact_start, query_start, state_change
		FROM pg_stat_activity WHERE pid = $1`, int32(pid)).Scan(&r.pid, &r.user, &r.app, &r.state, &r.query, &r.typ,
		&r.addr, &r.port, &r.backendStart, &r.xactStart, &r.queryStart, &r.stateChange)
	if err == pgx.ErrNoRows {
		return r, false
	}
	if err != nil {
		t.Fatalf("pg_stat_activity: %v", err)
	}
	return r, true
}

// TestPgStatActivity: a session sees itself active and another session's
// state move through idle in transaction, aborted and idle, with pids that
// are pg_backend_pid(); a non-superuser sees others' query as
// <insufficient privilege>; writes cannot read the view.
func TestPgStatActivity(t *testing.T) {
	n := servertest.Start(t)
	ctx := context.Background()
	watcher := connectAs(t, n, "postgres", "watcher")
	worker := connectAs(t, n, "postgres", "worker")
	workerPID := worker.PgConn().PID()

	var self int32
	var state, query string
	if err := watcher.QueryRow(ctx, "SELECT pid, state, query FROM pg_stat_activity WHERE pid = pg_backend_pid()").Scan(&self, &state, &query); err != nil {
		t.Fatal(err)
	}
	if uint32(self) != watcher.PgConn().PID() || state != "active" || !strings.Contains(query, "pg_backend_pid()") {
		t.Fatalf("own row: pid %d (connection's %d), state %q, query %q", self, watcher.PgConn().PID(), state, query)
	}
	if got := count(t, watcher, "SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid()"); got != 1 {
		t.Fatalf("%d other sessions, want 1", got)
	}

	r, ok := activityOf(t, watcher, workerPID)
	if !ok || r.state != "idle" || r.user != "postgres" || r.app != "worker" || r.typ != "client backend" ||
		r.addr == nil || *r.addr != "127.0.0.1" || r.port == nil || *r.port <= 0 || r.backendStart == nil || r.xactStart != nil {
		t.Fatalf("idle worker: %+v (found %v)", r, ok)
	}

	mustExec(t, worker, "BEGIN")
	mustExec(t, worker, "SELECT 42")
	r, _ = activityOf(t, watcher, workerPID)
	if r.state != "idle in transaction" || r.query != "SELECT 42" || r.xactStart == nil || r.queryStart == nil ||
		r.queryStart.Before(*r.xactStart) || r.stateChange.Before(*r.queryStart) {
		t.Fatalf("worker in a transaction: %+v", r)
	}
	if _, err := worker.Exec(ctx, "SELECT 1/0"); err == nil {
		t.Fatal("1/0 succeeded")
	}
	if r, _ = activityOf(t, watcher, workerPID); r.state != "idle in transaction (aborted)" || r.query != "SELECT 1/0" {
		t.Fatalf("worker in a failed transaction: %+v", r)
	}
	mustExec(t, worker, "ROLLBACK")
	if r, _ = activityOf(t, watcher, workerPID); r.state != "idle" || r.xactStart != nil || r.query != "ROLLBACK" {
		t.Fatalf("worker after ROLLBACK: %+v", r)
	}

	// Writes, and reads in a transaction that writes, cannot read it.
	mustExec(t, watcher, "CREATE TABLE pids (pid int)")
	_, err := watcher.Exec(ctx, "INSERT INTO pids SELECT pid FROM pg_stat_activity")
	wantCode(t, err, "0A000")
	mustExec(t, watcher, "BEGIN")
	mustExec(t, watcher, "INSERT INTO pids VALUES (1)")
	_, err = watcher.Exec(ctx, "SELECT count(*) FROM pg_stat_activity")
	wantCode(t, err, "0A000")
	mustExec(t, watcher, "ROLLBACK")
	if got := count(t, watcher, "SELECT count(*) FROM pids"); got != 0 {
		t.Fatalf("pids has %d rows", got)
	}

	// A non-superuser sees its own sessions and only who the others are.
	mustExec(t, watcher, "CREATE ROLE bob LOGIN")
	bob := connectAs(t, n, "bob", "bobs")
	r, ok = activityOf(t, bob, workerPID)
	if !ok || r.query != "<insufficient privilege>" || r.state != "" || r.user != "postgres" || r.addr != nil || r.backendStart != nil ||
		r.app != "<null>" || r.typ != "" {
		t.Fatalf("bob sees the worker as %+v", r)
	}
	if r, _ = activityOf(t, bob, bob.PgConn().PID()); r.state != "active" || r.user != "bob" {
		t.Fatalf("bob's own row: %+v", r)
	}
	if r, _ = activityOf(t, watcher, bob.PgConn().PID()); r.user != "bob" || r.app != "bobs" || r.query == "<insufficient privilege>" {
		t.Fatalf("the superuser sees bob as %+v", r)
	}
	if got := count(t, watcher, "SELECT count(*) FROM pg_stat_replication"); got != 0 {
		t.Fatalf("a one-node cluster has %d replication rows", got)
	}

	// A closed session leaves the view.
	bob.Close(ctx)
	deadline := time.Now().Add(5 * time.Second)
	for count(t, watcher, "SELECT count(*) FROM pg_stat_activity WHERE usename = 'bob'") != 0 {
		if time.Now().After(deadline) {
			t.Fatal("bob's closed session still listed")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestPgStatReplicationCluster: a follower lists its own sessions only, no
// replication, and its wal receiver from the leader; the leader lists each
// follower, by node id, streaming, and no wal receiver.
func TestPgStatReplicationCluster(t *testing.T) {
	c := servertest.NewCluster(t, 3)
	ctx := context.Background()
	leaderIdx := c.LeaderIndex()
	leader := connectAs(t, c.Nodes[leaderIdx], "postgres", "on-leader")
	mustExec(t, leader, "CREATE TABLE r (id int)")
	mustExec(t, leader, "INSERT INTO r VALUES (1), (2)")
	c.RequireConverged()

	var followers []string
	for i, n := range c.Nodes {
		if i == leaderIdx {
			continue
		}
		followers = append(followers, c.ID(i))
		f1 := connectAs(t, n, "postgres", "f-a")
		connectAs(t, n, "postgres", "f-b")
		var apps string
		if err := f1.QueryRow(ctx, "SELECT string_agg(application_name, ',' ORDER BY application_name) FROM pg_stat_activity").Scan(&apps); err != nil {
			t.Fatal(err)
		}
		if apps != "f-a,f-b" {
			t.Errorf("follower %s lists sessions %q, want its own two", c.ID(i), apps)
		}
		if got := count(t, f1, "SELECT count(*) FROM pg_stat_replication"); got != 0 {
			t.Errorf("follower %s has %d replication rows", c.ID(i), got)
		}
		var status, host, written, latest string
		var port int32
		if err := f1.QueryRow(ctx, "SELECT status, sender_host, sender_port, written_lsn, latest_end_lsn FROM pg_stat_wal_receiver").
			Scan(&status, &host, &port, &written, &latest); err != nil {
			t.Errorf("follower %s: pg_stat_wal_receiver: %v", c.ID(i), err)
		} else if leaderAddr := c.RaftAddr(leaderIdx); status != "streaming" || host+":"+strconv.Itoa(int(port)) != leaderAddr ||
			!strings.HasPrefix(written, "0/") || !strings.HasPrefix(latest, "0/") {
			t.Errorf("follower %s: wal receiver %s from %s:%d (leader %s), lsn %s %s", c.ID(i), status, host, port, leaderAddr, written, latest)
		}
	}

	c.RequireConverged() // the followers applied everything: sent = replay
	rows, err := leader.Query(ctx, `SELECT pid, application_name, client_addr, client_port, state, sent_lsn, write_lsn,
		flush_lsn, replay_lsn, sync_state, sync_priority, replay_lag IS NULL AND write_lag IS NULL
		FROM pg_stat_replication ORDER BY application_name`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var pid, port, prio int32
		var app, addr, state, sent, write, flush, replay, sync string
		var noLag bool
		if err := rows.Scan(&pid, &app, &addr, &port, &state, &sent, &write, &flush, &replay, &sync, &prio, &noLag); err != nil {
			t.Fatal(err)
		}
		if !noLag { // caught up: no lag, NULL as on an idle PostgreSQL standby
			t.Errorf("replication row %s: a lag on a member that has applied everything", app)
		}
		got = append(got, app)
		if pid != 0 || addr != "127.0.0.1" || port <= 0 || state != "streaming" || sync != "quorum" || prio != 1 ||
			!strings.HasPrefix(sent, "0/") || write != flush || sent != replay {
			t.Errorf("replication row %s: pid %d addr %s:%d state %s lsn %s %s %s %s sync %s/%d",
				app, pid, addr, port, state, sent, write, flush, replay, sync, prio)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != strings.Join(followers, ",") {
		t.Fatalf("leader's pg_stat_replication lists %v, want the followers %v", got, followers)
	}
	if got := count(t, leader, "SELECT count(*) FROM pg_stat_wal_receiver"); got != 0 {
		t.Errorf("the leader has %d wal receiver rows", got)
	}

	// A transaction that writes through a follower runs on the leader's
	// write connection: the views are refused there too.
	f := connectAs(t, c.Nodes[(leaderIdx+1)%3], "postgres", "f-tx")
	mustExec(t, f, "BEGIN")
	mustExec(t, f, "INSERT INTO r VALUES (3)")
	_, err = f.Exec(ctx, "SELECT count(*) FROM pg_stat_replication")
	wantCode(t, err, "0A000")
	mustExec(t, f, "ROLLBACK")
	_, err = f.Exec(ctx, "INSERT INTO r SELECT pid FROM pg_stat_activity")
	wantCode(t, err, "0A000")
	c.RequireConverged()
}
