package server_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgraft/pgraft/server/servertest"
)

// Transactions larger than one log entry (docs/design.md, "Transactions
// larger than one entry").

// stagedParts reads pgraft_staged_parts from a node's /metrics.
func stagedParts(t *testing.T, n *servertest.Node) int64 {
	t.Helper()
	resp, err := http.Get("http://" + n.HTTPAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "pgraft_staged_parts "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return int64(f)
		}
	}
	t.Fatal("no pgraft_staged_parts in /metrics")
	return 0
}

// bigRows are rows ids from..from+n-1, each with a 1,000-byte text: 25,000
// of them are 25 MB, more than one log entry holds.
func bigRows(from, n int) [][]any {
	pad := strings.Repeat("x", 990)
	rows := make([][]any, n)
	for i := range rows {
		rows[i] = []any{int32(from + i), fmt.Sprintf("%s%010d", pad, from+i)}
	}
	return rows
}

func copyFrom(ctx context.Context, c *pgx.Conn, table string, rows [][]any) (int64, error) {
	return c.CopyFrom(ctx, pgx.Identifier{table}, []string{"id", "b"}, pgx.CopyFromRows(rows))
}

func TestCopyBeyondOneEntry(t *testing.T) {
	n := servertest.Start(t)
	c := connect(t, n)
	ctx := context.Background()
	mustExec(t, c, "CREATE TABLE big (id int PRIMARY KEY, b text NOT NULL)")

	got, err := copyFrom(ctx, c, "big", bigRows(0, 25000))
	if err != nil || got != 25000 {
		t.Fatalf("COPY of 25 MB: %d rows, %v", got, err)
	}
	if n := count(t, c, "SELECT count(*) FROM big WHERE length(b) = 1000"); n != 25000 {
		t.Fatalf("%d rows after the COPY", n)
	}

	// In a block, as pgbench -i does: the block sees its own rows before
	// COMMIT, and COMMIT makes them visible whole.
	tx, err := c.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "DELETE FROM big WHERE id < 1000"); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"big"}, []string{"id", "b"}, pgx.CopyFromRows(bigRows(25000, 20000))); err != nil {
		t.Fatal(err)
	}
	var inside int64
	if err := tx.QueryRow(ctx, "SELECT count(*) FROM big").Scan(&inside); err != nil || inside != 44000 {
		t.Fatalf("inside the block: %d rows, %v", inside, err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(t, c, "SELECT count(*) FROM big"); n != 44000 {
		t.Fatalf("%d rows after COMMIT, want 44000", n)
	}

	// A COPY that fails at its last row (a duplicate key) leaves nothing.
	rows := bigRows(100000, 20000)
	rows[len(rows)-1][0] = int32(100000)
	_, err = copyFrom(ctx, c, "big", rows)
	wantCode(t, err, "23505")
	if pe := pgErr(err); pe == nil || !strings.Contains(pe.Where, "line 20000") {
		t.Errorf("the failed row's line: %v", err)
	}
	if n := count(t, c, "SELECT count(*) FROM big"); n != 44000 {
		t.Fatalf("%d rows after a failed COPY, want 44000", n)
	}

	// A block of ordinary statements larger than one entry.
	tx, err = c.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 24; i++ {
		if _, err := tx.Exec(ctx, "INSERT INTO big VALUES ($1, $2)", 200000+i, strings.Repeat("y", 1<<20)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tx.Exec(ctx, "UPDATE big SET b = 'short' WHERE id = 200000"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(t, c, "SELECT count(*) FROM big WHERE id >= 200000 AND length(b) > 1000"); n != 23 {
		t.Fatalf("%d large rows after the block, want 23", n)
	}

	// pgraft.max_transaction_size bounds it: 54000 before anything is
	// logged, in a COPY and in a block.
	mustExec(t, c, "SET pgraft.max_transaction_size = '8MB'")
	_, err = copyFrom(ctx, c, "big", bigRows(300000, 20000))
	wantCode(t, err, "54000")
	tx, err = c.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10 && err == nil; i++ {
		_, err = tx.Exec(ctx, "INSERT INTO big VALUES ($1, $2)", 300000+i, strings.Repeat("z", 1<<20))
	}
	wantCode(t, err, "54000")
	tx.Rollback(ctx)
	if n := count(t, c, "SELECT count(*) FROM big WHERE id >= 300000"); n != 0 {
		t.Fatalf("%d rows of refused transactions", n)
	}
	_, err = c.Exec(ctx, "SET pgraft.max_transaction_size = '1 parsec'")
	wantCode(t, err, "22023")
	if s := stagedParts(t, n); s != 0 {
		t.Errorf("%d staged parts left", s)
	}
}

// copyRetry runs a COPY on the node node() names, again while it fails with
// 40001: no part or final entry of it committed (a leader that loses its
// lease on a loaded machine answers so), so it is safe to retry.
func copyRetry(t *testing.T, node func() *servertest.Node, from, n int) {
	t.Helper()
	deadline := time.Now().Add(clusterWait)
	for {
		c := connect(t, node())
		got, err := copyFrom(context.Background(), c, "big", bigRows(from, n))
		if err == nil && got == int64(n) {
			return
		}
		if sqlstate(err) != "40001" || time.Now().After(deadline) {
			t.Fatalf("COPY of %d rows: %d, %v", n, got, err)
		}
		t.Logf("COPY again: %v", err)
	}
}

func TestCopyBeyondOneEntryCluster(t *testing.T) {
	skipShortCluster(t)
	cl := servertest.NewCluster(t, 3)
	ctx := context.Background()
	leaderExec(t, cl, "CREATE TABLE big (id int PRIMARY KEY, b text NOT NULL)")
	copyRetry(t, cl.Leader, 0, 25000)
	// Through a follower: forwarded batch by batch to a leader-side block.
	follower := func() *servertest.Node { return cl.Followers()[0] }
	copyRetry(t, follower, 25000, 20000)
	rows := bigRows(100000, 20000)
	rows[len(rows)-1][0] = int32(0)
	_, err := copyFrom(ctx, connect(t, follower()), "big", rows)
	wantCode(t, err, "23505")
	cl.RequireConverged()
	for _, n := range append(cl.Followers(), cl.Leader()) {
		c := connect(t, n)
		mustExec(t, c, "SET pgraft.read_consistency = 'linearizable'")
		if got := count(t, c, "SELECT count(*) FROM big"); got != 45000 {
			t.Errorf("%d rows on a node, want 45000", got)
		}
		if s := stagedParts(t, n); s != 0 {
			t.Errorf("%d staged parts left on a node", s)
		}
	}
}

// TestPgbenchScale10 runs pgbench -i -s 10 unmodified (1,000,000 rows of
// pgbench_accounts in one client-side COPY inside BEGIN … COMMIT, about
// 100 MB) on one node and on three, then a short pgbench run. About a
// minute for both on a quiet machine.
func TestPgbenchScale10(t *testing.T) {
	skipShortCluster(t)
	pgbench, err := exec.LookPath("pgbench")
	if err != nil {
		pgbench = "/usr/lib/postgresql/15/bin/pgbench"
		if _, err := os.Stat(pgbench); err != nil {
			t.Skip("pgbench is not installed")
		}
	}
	run := func(t *testing.T, n *servertest.Node, args ...string) (string, error) {
		t.Helper()
		host, port, _ := strings.Cut(n.PGAddr(), ":")
		cmd := exec.Command(pgbench, append(args, "-h", host, "-p", port, "-U", "postgres", "postgres")...)
		cmd.Env = append(os.Environ(), "PGSSLMODE=disable")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	check := func(t *testing.T, n *servertest.Node) {
		t.Helper()
		t0 := time.Now()
		for try := 1; ; try++ {
			out, err := run(t, n, "-i", "-s", "10")
			if err == nil {
				break
			}
			// pgbench -i starts with DROP TABLE: running it again is safe.
			// A COMMIT that lost its leader (40001: a leader that misses
			// its lease on a loaded machine) did not commit.
			if try == 3 || !strings.Contains(out, "could not serialize access") && !strings.Contains(out, "not the leader") {
				t.Fatalf("pgbench -i: %v\n%s", err, out)
			}
			t.Logf("pgbench -i again after: %s", out[max(0, len(out)-300):])
		}
		t.Logf("pgbench -i -s 10: %s", time.Since(t0).Round(time.Millisecond))
		c := connect(t, n)
		if got := count(t, c, "SELECT count(*) FROM pgbench_accounts"); got != 1000000 {
			t.Fatalf("pgbench_accounts: %d rows", got)
		}
		if out, err := run(t, n, "-T", "3", "-c", "2"); err != nil || !strings.Contains(out, "number of failed transactions: 0") {
			t.Errorf("pgbench -T 3: %v\n%s", err, out)
		}
		if got := count(t, c, "SELECT count(*) FROM pgbench_history"); got == 0 {
			t.Error("pgbench ran no transaction")
		}
	}
	t.Run("one node", func(t *testing.T) {
		check(t, servertest.Start(t))
	})
	t.Run("three nodes", func(t *testing.T) {
		cl := servertest.NewCluster(t, 3)
		check(t, cl.Leader())
		cl.RequireConverged()
		for _, n := range append(cl.Followers(), cl.Leader()) {
			if s := stagedParts(t, n); s != 0 {
				t.Errorf("%d staged parts left on a node", s)
			}
		}
	})
}

// TestCopyBeyondOneEntryFollowerRestart: a follower that crashes while it
// holds some of a transaction's parts restarts, receives the rest and the
// final entry, and converges with the others.
func TestCopyBeyondOneEntryFollowerRestart(t *testing.T) {
	skipShortCluster(t)
	cl := servertest.NewCluster(t, 3)
	leaderExec(t, cl, "CREATE TABLE big (id int PRIMARY KEY, b text NOT NULL)")
	cl.RequireConverged()
	deadline := time.Now().Add(clusterWait)
	for crashed := false; !crashed; {
		li := cl.LeaderIndex()
		fi := (li + 1) % 3
		done := make(chan error, 1)
		go func() {
			c, err := pgx.Connect(context.Background(), cl.Nodes[li].DSN())
			if err != nil {
				done <- err
				return
			}
			defer c.Close(context.Background())
			_, err = copyFrom(context.Background(), c, "big", bigRows(0, 25000))
			done <- err
		}()
		var err error
		for waiting := true; waiting; {
			select {
			case err = <-done:
				waiting = false
			case <-time.After(50 * time.Millisecond):
				if stagedParts(t, cl.Nodes[fi]) >= 2 {
					cl.Crash(fi)
					cl.Restart(fi)
					crashed, err = true, <-done
					waiting = false
				}
			}
		}
		if err == nil {
			break
		}
		// A leader that lost its lease on a loaded machine answers 40001:
		// nothing committed; try again.
		if sqlstate(err) != "40001" || time.Now().After(deadline) {
			t.Fatal(err)
		}
		t.Logf("COPY again: %v", err)
		if crashed {
			copyRetry(t, cl.Leader, 0, 25000)
		}
	}
	cl.RequireConverged()
	for _, n := range cl.Nodes {
		c := connect(t, n)
		mustExec(t, c, "SET pgraft.read_consistency = 'linearizable'")
		if got := count(t, c, "SELECT count(*) FROM big"); got != 25000 {
			t.Errorf("%d rows on a node, want 25000", got)
		}
		if s := stagedParts(t, n); s != 0 {
			t.Errorf("%d staged parts left on a node", s)
		}
	}
}
