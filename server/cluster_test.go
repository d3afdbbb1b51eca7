package server_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgraft/pgraft/server"
	"github.com/pgraft/pgraft/server/servertest"
)

// clusterWait bounds each wait in these tests; it fires only on a hang.
const clusterWait = 60 * time.Second

func skipShortCluster(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("multi-node test: skipped with -short")
	}
}

// retryable reports whether a write failed because no leader could take it
// (the node is not, or no longer, the leader, went away, or is starting);
// a data error is not retryable.
func retryable(err error) bool {
	switch sqlstate(err) {
	case "40001", "40003", "57P01", "57P03", "08006":
		return true
	case "":
		return true // connection-level failure: the node went away
	}
	return false
}

// leaderExec runs sql on the current leader, retrying (bounded) while
// leadership moves, and returns the command tag's rows affected. An attempt
// whose outcome is unknown (40003) may have committed: when a later
// attempt then finds its row or relation there already (23505, 42P07), the
// statement counts as done, with -1 rows affected.
func leaderExec(t *testing.T, c *servertest.Cluster, sql string, args ...any) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), clusterWait)
	defer cancel()
	ambiguous := false
	for {
		conn, err := pgx.Connect(ctx, c.Leader().DSN())
		if err == nil {
			tag, e := conn.Exec(ctx, sql, args...)
			conn.Close(context.Background())
			if err = e; err == nil {
				return tag.RowsAffected()
			}
		}
		code := sqlstate(err)
		if ambiguous && (code == "23505" || code == "42P07") {
			return -1 // the ambiguous attempt committed
		}
		ambiguous = ambiguous || code == "40003"
		if !retryable(err) || ctx.Err() != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		time.Sleep(20 * time.Millisecond) // a poll: leadership is moving
	}
}

// queryStrings returns the rows of a one-column query as text.
func queryStrings(t *testing.T, conn *pgx.Conn, sql string) []string {
	t.Helper()
	rows, err := conn.Query(context.Background(), sql)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return out
}

// TestClusterReplicatesEveryStatementKind runs each kind of write on the
// leader and checks that every follower shows the result through its own
// PostgreSQL listener, and that all nodes agree on the checksum.
func TestClusterReplicatesEveryStatementKind(t *testing.T) {
	skipShortCluster(t)
	c := servertest.NewCluster(t, 3)
	leader := connect(t, c.Leader())
	steps := []string{
		`CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL, qty int DEFAULT 0)`,
		`CREATE INDEX items_name ON items (name)`,
		`INSERT INTO items (name, qty) VALUES ('apple', 1), ('pear', 2), ('plum', 3)`,
		`UPDATE items SET qty = qty * 10 WHERE name <> 'plum'`,
		`DELETE FROM items WHERE name = 'pear'`,
		`INSERT INTO items (id, name, qty) VALUES (1, 'apple', 5) ON CONFLICT (id) DO UPDATE SET qty = items.qty + excluded.qty`,
		`ALTER TABLE items ADD COLUMN note text DEFAULT 'none'`,
		`CREATE TABLE scratch (x int)`,
		`INSERT INTO scratch VALUES (1)`,
		`DROP TABLE scratch`,
		`CREATE VIEW big_items AS SELECT name FROM items WHERE qty > 4`,
	}
	for _, s := range steps {
		mustExec(t, leader, s)
	}
	// Extended protocol with parameters, and an explicit transaction.
	mustExec(t, leader, `INSERT INTO items (name, qty, note) VALUES ($1, $2, $3)`, "fig", 7, "bound")
	tx, err := leader.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`INSERT INTO items (name) VALUES ('kiwi')`, `UPDATE items SET note = 'in tx' WHERE name = 'kiwi'`} {
		if _, err := tx.Exec(context.Background(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	if err := tx.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	// A rolled-back transaction logs nothing.
	tx, err = leader.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(context.Background(), `INSERT INTO items (name) VALUES ('ghost')`); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(context.Background()); err != nil {
		t.Fatal(err)
	}

	c.RequireConverged()
	const q = `SELECT id::text || ':' || name || ':' || qty::text || ':' || note FROM items ORDER BY id`
	want := []string{"1:apple:15:none", "3:plum:3:none", "4:fig:7:bound", "5:kiwi:0:in tx"}
	for i, n := range c.Nodes {
		conn := connect(t, n)
		if got := queryStrings(t, conn, q); !slices.Equal(got, want) {
			t.Errorf("node %d: items = %q, want %q", i, got, want)
		}
		if got := queryStrings(t, conn, `SELECT name FROM big_items ORDER BY name`); !slices.Equal(got, []string{"apple", "fig"}) {
			t.Errorf("node %d: view big_items = %q", i, got)
		}
		if got := count(t, conn, `SELECT count(*) FROM information_schema.tables WHERE table_name = 'scratch'`); got != 0 {
			t.Errorf("node %d: dropped table scratch still listed", i)
		}
	}
}

// TestClusterFollowerWriteIsNeverLost checks what a write sent to a
// follower does: it either fails (40001 "not the leader" today, 25006 for
// a read-only session) and leaves no trace, or, once forwarding exists,
// succeeds and is on every node. Reads work on every node.
func TestClusterFollowerWriteIsNeverLost(t *testing.T) {
	skipShortCluster(t)
	c := servertest.NewCluster(t, 3)
	leaderExec(t, c, `CREATE TABLE f (id int PRIMARY KEY)`)
	leaderExec(t, c, `INSERT INTO f VALUES (1)`)
	c.RequireConverged()
	fol := connect(t, c.Followers()[0])
	if got := count(t, fol, `SELECT count(*) FROM f`); got != 1 {
		t.Fatalf("follower read: %d rows, want 1", got)
	}
	_, err := fol.Exec(context.Background(), `INSERT INTO f VALUES (2)`)
	if err != nil && !slices.Contains([]string{"40001", "25006"}, sqlstate(err)) {
		t.Fatalf("write on a follower: %v (SQLSTATE %q), want success, 40001 or 25006", err, sqlstate(err))
	}
	want := int64(1)
	if err == nil {
		want = 2
	}
	c.RequireConverged()
	for i, n := range c.Nodes {
		if got := count(t, connect(t, n), `SELECT count(*) FROM f`); got != want {
			t.Errorf("node %d: %d rows after the follower write (err %v), want %d", i, got, err, want)
		}
	}
}

// TestClusterRestartFollowerAndLeader stops a follower while writes go on
// and restarts it; then crashes the leader (no leadership transfer),
// writes through the new leader and restarts the old one. Each comes back
// with everything it missed.
func TestClusterRestartFollowerAndLeader(t *testing.T) {
	skipShortCluster(t)
	c := servertest.NewCluster(t, 3)
	leaderExec(t, c, `CREATE TABLE r (id int PRIMARY KEY, phase text)`)
	follower := (c.LeaderIndex() + 1) % 3
	c.Stop(follower)
	for i := 0; i < 20; i++ {
		leaderExec(t, c, `INSERT INTO r VALUES ($1, 'follower down')`, i)
	}
	c.Restart(follower)
	c.RequireConverged()

	old := c.LeaderIndex()
	c.Crash(old)
	for i := 20; i < 40; i++ {
		leaderExec(t, c, `INSERT INTO r VALUES ($1, 'leader down')`, i)
	}
	if c.LeaderIndex() == old {
		t.Fatal("crashed node still leads")
	}
	c.Restart(old)
	c.RequireConverged()
	for i, n := range c.Nodes {
		if got := count(t, connect(t, n), `SELECT count(*) FROM r`); got != 40 {
			t.Errorf("node %d: %d rows, want 40", i, got)
		}
	}
}

// snapshotOften makes Raft compact its log early, so a late joiner cannot
// be sent the log from the start and gets a snapshot.
func snapshotOften(cfg *server.Config) {
	cfg.SnapshotThreshold = 64
	cfg.TrailingLogs = 16
	cfg.RaftWALSegmentSize = 16 << 10 // compaction drops whole segments
}

// TestClusterLateJoinInstallsSnapshot writes enough that the leader's log is
// compacted behind a snapshot, then adds a fourth node: it must get the
// snapshot (its log cannot start at index 1) and then the entries after it.
func TestClusterLateJoinInstallsSnapshot(t *testing.T) {
	skipShortCluster(t)
	c := servertest.NewCluster(t, 3, snapshotOften)
	leaderExec(t, c, `CREATE TABLE big (id serial PRIMARY KEY, pad text)`)
	conn := connect(t, c.Leader())
	for i := 0; i < 200; i++ {
		mustExec(t, conn, `INSERT INTO big (pad) VALUES (repeat('x', 200))`)
	}
	if err := c.Leader().Node().Snapshot(); err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	snapIndex := c.Leader().Status(context.Background(), false).LastSnapshotIndex
	if snapIndex == 0 {
		t.Fatal("leader reports no snapshot after Snapshot()")
	}
	n := c.AddNode()
	mustExec(t, conn, `INSERT INTO big (pad) VALUES ('after the join')`)
	c.RequireConverged()
	st := c.Nodes[n].Status(context.Background(), false)
	if st.LastSnapshotIndex < snapIndex {
		t.Errorf("late node's last snapshot index %d, want >= %d (the leader's): it did not install a snapshot",
			st.LastSnapshotIndex, snapIndex)
	}
	if got := count(t, connect(t, c.Nodes[n]), `SELECT count(*) FROM big`); got != 201 {
		t.Errorf("late node has %d rows, want 201", got)
	}
	// The late node is a full member: it survives a restart of itself.
	c.Stop(n)
	c.Restart(n)
	c.RequireConverged()
}

// TestClusterRemoveMember removes a follower through another follower (the
// request is forwarded to the leader); the two remaining voters keep
// accepting writes, and the removed node receives nothing more.
func TestClusterRemoveMember(t *testing.T) {
	skipShortCluster(t)
	c := servertest.NewCluster(t, 3)
	leaderExec(t, c, `CREATE TABLE m (id int PRIMARY KEY)`)
	// Every node has the table before one is removed: the removed node's
	// count below must find it (a lagging follower answered 42P01).
	c.RequireConverged()
	l := c.LeaderIndex()
	gone, asker := (l+1)%3, (l+2)%3
	ctx, cancel := context.WithTimeout(context.Background(), clusterWait)
	defer cancel()
	if err := c.Nodes[asker].Node().RemoveMember(ctx, c.ID(gone)); err != nil {
		t.Fatalf("remove %s via %s: %v", c.ID(gone), c.ID(asker), err)
	}
	for _, i := range []int{l, asker} {
		for _, m := range c.Nodes[i].Status(ctx, false).Members {
			if m.ID == c.ID(gone) {
				t.Errorf("node %d still lists removed member %s", i, m.ID)
			}
		}
	}
	goneConn := connect(t, c.Nodes[gone])
	leaderExec(t, c, `INSERT INTO m VALUES (1)`)
	c.RequireConverged(l, asker)
	if got := count(t, goneConn, `SELECT count(*) FROM m`); got != 0 {
		t.Errorf("removed node received a write made after its removal (%d rows)", got)
	}
	// With two voters left, losing the leader's partner stops writes; with
	// the removed node gone, the two are the whole cluster and still
	// commit.
	c.Stop(gone)
	leaderExec(t, c, `INSERT INTO m VALUES (2)`)
	c.RequireConverged()
}

// TestClusterLeaderCrashUnderInsertLoad crashes the leader while clients
// insert through whichever node leads; every acknowledged row must be on
// every surviving node, and then on the restarted one (I4).
func TestClusterLeaderCrashUnderInsertLoad(t *testing.T) {
	skipShortCluster(t)
	c := servertest.NewCluster(t, 3)
	leaderExec(t, c, `CREATE TABLE acked (id bigint PRIMARY KEY, worker int NOT NULL)`)
	// Clients write to followers too (they answer 40001 and the client moves
	// on); a follower that has not applied the CREATE TABLE yet answers
	// 42P01 instead, so every node must know the table first.
	c.RequireConverged()
	dsns := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		dsns[i] = n.DSN()
	}
	load := startInsertLoad(t, dsns, 3)
	load.waitAcked(t, 200)
	old := c.LeaderIndex()
	c.Crash(old)
	mark := load.ackedCount()
	load.waitAcked(t, mark+200) // the load resumes through the new leader
	acked := load.stop(t)

	survivors := []int{(old + 1) % 3, (old + 2) % 3}
	c.RequireConverged(survivors...)
	for _, i := range survivors {
		checkRows(t, connect(t, c.Nodes[i]), acked, fmt.Sprintf("survivor %d", i))
	}
	c.Restart(old)
	c.RequireConverged()
	checkRows(t, connect(t, c.Nodes[old]), acked, "restarted old leader")
	t.Logf("%d rows acknowledged, %d before the crash", len(acked), mark)
}

// insertLoad is a set of clients inserting unique ids through any node
// that accepts them, recording the acknowledged ones. stop ends them.
type insertLoad struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	acked  []int64
	errs   []error // unexpected failures (a data error, not a failover)
}

func startInsertLoad(t *testing.T, dsns []string, workers int) *insertLoad {
	ctx, cancel := context.WithTimeout(context.Background(), 2*clusterWait)
	l := &insertLoad{cancel: cancel}
	for w := 0; w < workers; w++ {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			l.work(ctx, dsns, w)
		}()
	}
	t.Cleanup(func() { l.stop(t) })
	return l
}

// work inserts ids w, w+workers*... one at a time. A failed insert is not
// retried with the same id: its outcome may be unknown (40003).
func (l *insertLoad) work(ctx context.Context, dsns []string, w int) {
	var conn *pgx.Conn
	defer func() {
		if conn != nil {
			conn.Close(context.Background())
		}
	}()
	target := w % len(dsns)
	for seq := int64(0); ctx.Err() == nil; seq++ {
		id := int64(w)<<32 | seq
		if conn == nil {
			cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			c, err := pgx.Connect(cctx, dsns[target])
			cancel()
			if err != nil {
				target = (target + 1) % len(dsns)
				continue
			}
			conn = c
		}
		_, err := conn.Exec(ctx, `INSERT INTO acked (id, worker) VALUES ($1, $2)`, id, w)
		switch {
		case err == nil:
			l.mu.Lock()
			l.acked = append(l.acked, id)
			l.mu.Unlock()
		case ctx.Err() != nil:
			return
		case !retryable(err):
			l.mu.Lock()
			l.errs = append(l.errs, err)
			l.mu.Unlock()
			return
		default: // not the leader, or gone: try the next node
			conn.Close(context.Background())
			conn = nil
			target = (target + 1) % len(dsns)
		}
	}
}

func (l *insertLoad) ackedCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.acked)
}

func (l *insertLoad) waitAcked(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(clusterWait)
	for l.ackedCount() < n {
		l.mu.Lock()
		errs := slices.Clone(l.errs)
		l.mu.Unlock()
		if len(errs) > 0 {
			t.Fatalf("insert load failed: %v", errors.Join(errs...))
		}
		if time.Now().After(deadline) {
			t.Fatalf("insert load: %d rows acknowledged, waited for %d", l.ackedCount(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stop ends the clients and returns the acknowledged ids. Idempotent.
func (l *insertLoad) stop(t *testing.T) []int64 {
	l.cancel()
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.errs) > 0 {
		t.Errorf("insert load failed: %v", errors.Join(l.errs...))
		l.errs = nil
	}
	return slices.Clone(l.acked)
}

// checkRows fails unless every id in acked is in table acked on conn.
func checkRows(t *testing.T, conn *pgx.Conn, acked []int64, who string) {
	t.Helper()
	rows, err := conn.Query(context.Background(), `SELECT id FROM acked`)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Fatal(err)
	}
	have := make(map[int64]bool, len(ids))
	for _, id := range ids {
		have[id] = true
	}
	missing := 0
	for _, id := range acked {
		if !have[id] {
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("%s: %d of %d acknowledged rows missing (%d rows present)", who, missing, len(acked), len(ids))
	}
}

// TestClusterIsolatedLeaderAcknowledgesNothing cuts the leader off from
// both followers. A write sent to it must fail (it cannot reach a quorum)
// and leave no row anywhere once the partition heals; the majority elects
// a new leader and goes on committing (I4, I6).
func TestClusterIsolatedLeaderAcknowledgesNothing(t *testing.T) {
	skipShortCluster(t)
	c := servertest.NewCluster(t, 3)
	leaderExec(t, c, `CREATE TABLE p (id int PRIMARY KEY, side text)`)
	old := c.LeaderIndex()
	oldConn := connect(t, c.Nodes[old])
	c.RequireConverged()
	c.Isolate(old)

	ctx, cancel := context.WithTimeout(context.Background(), clusterWait)
	defer cancel()
	_, err := oldConn.Exec(ctx, `INSERT INTO p VALUES (1, 'minority')`)
	if err == nil {
		t.Fatal("the isolated leader acknowledged a write")
	}
	t.Logf("write on the isolated leader: %v", err)
	if !retryable(err) {
		t.Errorf("write on the isolated leader: SQLSTATE %q, want 40001 or 40003", sqlstate(err))
	}

	majority := []int{(old + 1) % 3, (old + 2) % 3}
	newLeader := -1
	for newLeader < 0 { // bounded by ctx
		for _, i := range majority {
			if c.Nodes[i].Node().IsLeader() {
				newLeader = i
			}
		}
		if ctx.Err() != nil {
			t.Fatal("the majority elected no leader")
		}
		time.Sleep(10 * time.Millisecond)
	}
	mustExec(t, connect(t, c.Nodes[newLeader]), `INSERT INTO p VALUES (2, 'majority')`)
	if c.Nodes[old].Node().IsLeader() {
		// Raft steps down after LeaderLeaseTimeout without a quorum; it
		// must not still accept a write in the meantime.
		if _, err := oldConn.Exec(ctx, `INSERT INTO p VALUES (3, 'minority')`); err == nil {
			t.Fatal("the isolated old leader acknowledged a second write")
		}
	}

	c.Heal()
	c.RequireConverged()
	for i, n := range c.Nodes {
		got := queryStrings(t, connect(t, n), `SELECT id::text || ':' || side FROM p ORDER BY id`)
		if !slices.Equal(got, []string{"2:majority"}) {
			t.Errorf("node %d: rows %q, want only the majority's", i, got)
		}
	}
}

// TestClusterNewLeaderKnowsAcknowledgedDDL creates a table, crashes the
// leader at once and writes into the table through the new leader: the
// CREATE TABLE was acknowledged, so the write must not fail with 42P01
// (it may fail with 40001 while the new leader is not ready).
func TestClusterNewLeaderKnowsAcknowledgedDDL(t *testing.T) {
	skipShortCluster(t)
	c := servertest.NewCluster(t, 3)
	for round := 0; round < 3; round++ {
		table := fmt.Sprintf("ddl_%d", round)
		leaderExec(t, c, `CREATE TABLE `+table+` (id serial PRIMARY KEY, x int)`)
		old := c.LeaderIndex()
		ddlIndex := c.Nodes[old].Node().AppliedIndex()
		c.Crash(old)
		ctx, cancel := context.WithTimeout(context.Background(), clusterWait)
		for {
			l := c.Leader()
			conn, err := pgx.Connect(ctx, l.DSN())
			if err != nil {
				t.Fatal(err)
			}
			_, err = conn.Exec(ctx, `INSERT INTO `+table+` (x) VALUES (1)`)
			conn.Close(context.Background())
			if err == nil {
				break
			}
			if !retryable(err) || ctx.Err() != nil {
				t.Fatalf("round %d: write right after failover: %v (the node is leader now: %v; CREATE TABLE at index %d, node applied %d now)",
					round, err, l.Node().IsLeader(), ddlIndex, l.Node().AppliedIndex())
			}
		}
		cancel()
		c.Restart(old)
		c.RequireConverged()
	}
}
