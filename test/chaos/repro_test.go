package chaos

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestDiskFullFollowerRecovers is the reduction of a stall the chaos runs
// found (proc seed 302 and 7, 'disk full'): a follower whose raft log store
// hit ENOSPC while the leader kept appending rejected pipelined
// AppendEntries, and hashicorp/raft's pipeline then deadlocked on the
// leader, which sent that follower nothing more. Replication is no longer
// pipelined (replica/node.go); the follower must catch up once its disk
// has room again. It needs root (network namespaces, tmpfs) and skips
// without; the stall was timing-dependent, so a pass is evidence, not
// proof, and seed 302 in make chaos is the wider net.
func TestDiskFullFollowerRecovers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process cluster: skipped with -short")
	}
	c := newProcCluster(t, 3)
	if !c.mounted[0] {
		t.Skip("no tmpfs data volumes here")
	}
	setup(t, c, 1)
	leader := c.leader()
	follower := (leader + 1) % 3
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var mu sync.Mutex
	acked := 0
	for w := 0; w < 4; w++ {
		wg.Go(func() {
			conn, err := pgx.Connect(ctx, c.dsn(leader))
			if err != nil {
				return
			}
			defer conn.Close(context.Background())
			for id := int64(w) << 32; ctx.Err() == nil; id++ {
				if _, err := conn.Exec(ctx, `INSERT INTO chaos_set (id) VALUES ($1)`, id); err == nil {
					mu.Lock()
					acked++
					mu.Unlock()
				}
			}
		})
	}
	time.Sleep(time.Second)
	if err := c.fillDisk(follower); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second)
	c.freeDisk(follower)
	time.Sleep(2 * time.Second)
	cancel()
	wg.Wait()
	t.Logf("leader node %d, full follower node %d, %d inserts acknowledged; notes: %v", leader, follower, acked, c.notes())
	sctx, scancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer scancel()
	if err := c.settle(sctx); err != nil {
		t.Fatalf("the follower did not catch up within 30 s of its disk being freed: %v", err)
	}
	if diff := compareNodes(sctx, c); diff != "" {
		t.Fatalf("after catching up: %s", diff)
	}
}
