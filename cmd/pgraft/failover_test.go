package main

import (
	"context"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestFailoverTimeTrials measures failover on three pgraft processes with
// the default Raft timings: kill -9 of the leader, then the time until
// another node accepts a write; the killed node restarts and the cluster
// converges before the next trial. It runs only when PGRAFT_FAILOVER_TRIALS
// names the number of trials (at least 2) and logs the median and p90; it
// asserts no timing, only that every trial fails over and converges.
//
//	PGRAFT_FAILOVER_TRIALS=20 go test ./cmd/pgraft -run TestFailoverTimeTrials -v
func TestFailoverTimeTrials(t *testing.T) {
	trials, err := strconv.Atoi(os.Getenv("PGRAFT_FAILOVER_TRIALS"))
	if err != nil || trials < 2 {
		t.Skip("set PGRAFT_FAILOVER_TRIALS=N (N >= 2) to measure failover time")
	}
	c := startCluster(t, 3)
	ctx := context.Background()
	setup, err := pgx.Connect(ctx, c.Nodes[c.WaitLeader()].DSN())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := setup.Exec(ctx, `CREATE TABLE failover_probe (id serial PRIMARY KEY, try int)`); err != nil {
		t.Fatal(err)
	}
	setup.Close(ctx)
	// Every node must know the table before the first kill: a follower
	// translates a write against its own schema, and answers 42P01 rather
	// than 40001 while it has not applied the CREATE TABLE yet.
	c.RequireConverged()

	var took []time.Duration
	for trial := 0; trial < trials; trial++ {
		killed, d := failover(t, c)
		took = append(took, d)
		t.Logf("trial %d: killed node %d, first accepted write after %v", trial+1, killed, d)
		c.Start(killed)
		c.RequireConverged()
	}
	slices.Sort(took)
	t.Logf("failover over %d trials (kill -9 of the leader to the first accepted write through another node, default timings): median %v, p90 %v, min %v, max %v",
		trials, percentile(took, 50), percentile(took, 90), took[0], took[len(took)-1])
}

// percentile returns the p-th percentile of sorted d (nearest rank).
func percentile(d []time.Duration, p int) time.Duration {
	rank := (p*len(d) + 99) / 100 // ceil(p/100 * n)
	return d[max(rank, 1)-1]
}
