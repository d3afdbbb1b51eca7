package server_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgraft/pgraft/server/servertest"
)

// TestClusterDiskUsage: after a sustained write load, with raft taking its
// own snapshots (references to the database, sized log and WAL: docs/design.md
// §9), every node holds at most twice its db.sqlite on disk: database, WAL,
// shared memory, Raft log and snapshots together (issue 15).
func TestClusterDiskUsage(t *testing.T) {
	skipShortCluster(t)
	c := servertest.NewCluster(t, 3)
	leaderExec(t, c, `CREATE TABLE load (id serial PRIMARY KEY, payload text, n int)`)
	const workers, perWorker = 4, 400 // 1600 entries of 20 rows of ~100 bytes
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	dsn := c.Leader().DSN()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- insertBatches(dsn, w, perWorker)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	c.RequireConverged()
	for i, n := range c.Nodes {
		raft, snaps := dirSize(t, filepath.Join(n.DataDir, "raft")), dirSize(t, filepath.Join(n.DataDir, "snapshots"))
		db := fileSize(filepath.Join(n.DataDir, "db.sqlite"))
		wal, shm := fileSize(filepath.Join(n.DataDir, "db.sqlite-wal")), fileSize(filepath.Join(n.DataDir, "db.sqlite-shm"))
		if db == 0 {
			t.Fatalf("node %d: no db.sqlite in %s", i, n.DataDir)
		}
		total := db + wal + shm + raft + snaps
		ratio := float64(total) / float64(db)
		t.Logf("node %d: db.sqlite %s, WAL %s, shm %s, raft/ %s, snapshots/ %s, total %s = %.2f x db.sqlite",
			i, mib(db), mib(wal), mib(shm), mib(raft), mib(snaps), mib(total), ratio)
		if ratio > 2.0 {
			t.Errorf("node %d holds %.2f x its db.sqlite on disk, want at most 2", i, ratio)
		}
	}
}

func insertBatches(dsn string, w, batches int) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*clusterWait)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	const q = `INSERT INTO load (payload, n) SELECT repeat(md5(g::text), 3), g FROM generate_series(1, 20) AS g`
	for b := 0; b < batches; b++ {
		// Under a loaded machine leadership may move: a batch that failed
		// retryably (or whose outcome is unknown) is sent again, since this
		// test measures disk use, not outcomes; the connection's node
		// forwards to whichever node leads.
		for {
			_, err := conn.Exec(ctx, q)
			if err == nil {
				break
			}
			if !retryable(err) || conn.IsClosed() || ctx.Err() != nil {
				return fmt.Errorf("worker %d batch %d: %w", w, b, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return nil
}

func dirSize(t *testing.T, dir string) int64 {
	t.Helper()
	var total int64
	err := filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		total += info.Size()
		return nil
	})
	if err != nil {
		t.Fatalf("size of %s: %v", dir, err)
	}
	return total
}

func fileSize(path string) int64 {
	info, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return info.Size()
}

func mib(n int64) string { return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20)) }
