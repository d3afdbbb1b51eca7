package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgraft/pgraft/test/proccluster"
)

// TestBackupRestoreUnderLoad: pgraft backup takes a consistent copy of a
// node while writes go on; pgraft restore seeds a new data dir from it,
// on which pgraft serve starts a new cluster whose checksum is the one
// the backup reported, and which takes writes where the backup left off.
func TestBackupRestoreUnderLoad(t *testing.T) {
	src := startNode(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, src.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, q := range []string{
		"CREATE TABLE ledger (id bigserial PRIMARY KEY, amount int NOT NULL, note text)",
		"INSERT INTO ledger (amount, note) SELECT i, 'seed ' || i FROM generate_series(1, 2000) i",
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	// Writers run until the backup is done (bounded by a deadline).
	wctx, stop := context.WithTimeout(ctx, time.Minute)
	defer stop()
	var wg sync.WaitGroup
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := pgx.Connect(wctx, src.DSN())
			if err != nil {
				return
			}
			defer c.Close(context.Background())
			for wctx.Err() == nil {
				c.Exec(wctx, "INSERT INTO ledger (amount, note) VALUES (1, 'during backup')") //nolint:errcheck // load only
			}
		}()
	}
	time.Sleep(300 * time.Millisecond) // writes are flowing
	dir := t.TempDir()
	file := filepath.Join(dir, "backup.sqlite")
	out, err := exec.Command(pgraft.Path(t), "backup", "--http-addr", src.HTTPAddr, "--out", file).CombinedOutput()
	stop()
	wg.Wait()
	if err != nil {
		t.Fatalf("pgraft backup: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`at applied index (\d+): .*, (\d+) bytes, checksum ([0-9a-f]{64})`).FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("pgraft backup printed %q", out)
	}
	sum := m[3]

	// Restore into a new node's data dir and start it there.
	c := proccluster.New(t, proccluster.Config{Binary: pgraft.Path(t), Nodes: 1})
	restored := c.Nodes[0]
	if out, err := exec.Command(pgraft.Path(t), "restore", "--data-dir", restored.Dir, "--from", file).CombinedOutput(); err != nil {
		t.Fatalf("pgraft restore: %v\n%s", err, out)
	}
	if out, err := exec.Command(pgraft.Path(t), "restore", "--data-dir", restored.Dir, "--from", file).CombinedOutput(); err == nil {
		t.Errorf("a second restore into the same data dir succeeded:\n%s", out)
	}
	c.Start(0)
	rc, err := pgx.Connect(ctx, restored.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close(ctx)
	var got string
	if err := rc.QueryRow(ctx, "SELECT pgraft_checksum()").Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != sum {
		t.Errorf("restored checksum %s, the backup's %s", got, sum)
	}
	var n, maxID, next int64
	if err := rc.QueryRow(ctx, "SELECT count(*), max(id) FROM ledger").Scan(&n, &maxID); err != nil || n < 2000 || n != maxID {
		t.Errorf("restored ledger: %d rows, max id %d, %v", n, maxID, err)
	}
	if err := rc.QueryRow(ctx, "INSERT INTO ledger (amount) VALUES (7) RETURNING id").Scan(&next); err != nil || next != maxID+1 {
		t.Errorf("a write on the restored cluster got id %d, want %d (%v)", next, maxID+1, err)
	}
}
