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

	"github.com/pgraft/pgraft/server"
	"github.com/pgraft/pgraft/server/servertest"
)

// TestClusterDiskUsage logs how much disk each node uses (Raft log,
// snapshots, database files) relative to its SQLite file after a write load
// with snapshots. It asserts only that the figures exist.
func TestClusterDiskUsage(t *testing.T) {
	skipShortCluster(t)
	c := servertest.NewCluster(t, 3, func(cfg *server.Config) {
		cfg.SnapshotThreshold = 500
		cfg.TrailingLogs = 200
	})
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
		if err := n.Node().Snapshot(); err != nil {
			t.Fatalf("node %d: snapshot: %v", i, err)
		}
	}
	for i, n := range c.Nodes {
		raft, snaps := dirSize(t, filepath.Join(n.DataDir, "raft")), dirSize(t, filepath.Join(n.DataDir, "snapshots"))
		db := fileSize(filepath.Join(n.DataDir, "db.sqlite"))
		dbAll := db + fileSize(filepath.Join(n.DataDir, "db.sqlite-wal")) + fileSize(filepath.Join(n.DataDir, "db.sqlite-shm"))
		if db == 0 {
			t.Fatalf("node %d: no db.sqlite in %s", i, n.DataDir)
		}
		total := raft + snaps + dbAll
		// The newest snapshot is a full copy of the database (SQLite's
		// backup API): its size is the database's, checkpointed or not.
		newest := newestSnapshotSize(t, filepath.Join(n.DataDir, "snapshots"))
		t.Logf("node %d: db.sqlite %s, db+wal+shm %s, raft/ %s, snapshots/ %s (newest %s), total %s = %.2f x db.sqlite = %.2f x the database (newest snapshot)",
			i, mib(db), mib(dbAll), mib(raft), mib(snaps), mib(newest), mib(total),
			float64(total)/float64(db), float64(total)/float64(newest))
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

// newestSnapshotSize returns the size of the newest snapshot in raft's file
// snapshot store (directories named term-index-time sort by age).
func newestSnapshotSize(t *testing.T, dir string) int64 {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("read %s: %v", dir, err)
	}
	var newest string
	var newestTime time.Time
	for _, e := range entries {
		info, err := e.Info()
		if err == nil && e.IsDir() && info.ModTime().After(newestTime) {
			newest, newestTime = e.Name(), info.ModTime()
		}
	}
	if newest == "" {
		t.Fatalf("no snapshot in %s", dir)
	}
	return fileSize(filepath.Join(dir, newest, "state.bin"))
}

func fileSize(path string) int64 {
	info, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return info.Size()
}

func mib(n int64) string { return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20)) }
