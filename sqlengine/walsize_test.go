package sqlengine

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"
)

func TestWALPagesFor(t *testing.T) {
	for _, tc := range []struct {
		db   int64
		want int64
	}{
		{0, walMinPages},
		{1 << 20, walMinPages},  // 1 MiB: a quarter is 64 pages, below the floor
		{8 << 20, 512},          // 8 MiB: 2 MiB of WAL
		{16 << 20, walMaxPages}, // 16 MiB: 4 MiB, SQLite's default
		{10 << 30, walMaxPages}, // never above the default
		{3*walPageBytes*walMinPages*4 + 1, 3 * walMinPages},
	} {
		if got := walPagesFor(tc.db); got != tc.want {
			t.Errorf("walPagesFor(%d) = %d, want %d", tc.db, got, tc.want)
		}
	}
}

// TestWALStaysSmallForASmallDatabase: a small database written to for a
// long time keeps a WAL near a quarter of its size, not SQLite's 4 MiB.
func TestWALStaysSmallForASmallDatabase(t *testing.T) {
	e := newTestEngine(t)
	pad := strings.Repeat("x", 200)
	var cmds []Command
	cmds = append(cmds, Command{Index: 1, Data: entry(t, 1, 1, `CREATE TABLE kv (k integer PRIMARY KEY, v text)`)})
	for i := 2; i <= 3000; i++ {
		cmds = append(cmds, Command{Index: uint64(i), Data: entry(t, int64(i), uint64(i),
			`INSERT INTO kv VALUES (`+strconv.Itoa(i%500)+`, '`+pad+`') ON CONFLICT (k) DO UPDATE SET v = excluded.v || ''`)})
	}
	for len(cmds) > 0 {
		n := 1 // one commit per entry, as a lightly loaded node applies
		for _, r := range e.ApplyBatch(cmds[:n]) {
			if res, ok := r.(*ApplyResult); !ok || res.Err != nil {
				t.Fatalf("apply: %#v", r)
			}
		}
		cmds = cmds[n:]
	}
	wal, err := os.Stat(e.cfg.Path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	// 500 rows of 200 bytes: well under 1 MiB of database, so the WAL is
	// checkpointed at walMinPages (512 KiB) and cut back to that; one
	// batch's frames may sit above it.
	t.Logf("wal %d db %d", wal.Size(), func() int64 { s, _ := os.Stat(e.cfg.Path); return s.Size() }())
	if limit := int64(2 * walMinPages * walPageBytes); wal.Size() > limit {
		t.Fatalf("WAL is %d bytes after 3000 small writes, want at most %d", wal.Size(), limit)
	}
}

func TestSyncAndRestoreRefusesNonDatabase(t *testing.T) {
	e := newTestEngine(t)
	e.ApplyBatch([]Command{{Index: 1, Data: entry(t, 1, 1, `CREATE TABLE t (a int)`, `INSERT INTO t VALUES (1)`)}})
	if err := e.Sync(); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	err := e.Restore(bytes.NewReader([]byte("pgraft-snapshot-ref 1\napplied 1\n")))
	if err == nil || !strings.Contains(err.Error(), "not an SQLite database") {
		t.Fatalf("Restore of a non-database: %v", err)
	}
	if e.AppliedIndex() != 1 {
		t.Fatalf("applied index after a refused restore = %d, want 1", e.AppliedIndex())
	}
	if _, err := os.Stat(e.cfg.Path + ".restore"); !os.IsNotExist(err) {
		t.Fatalf("refused restore left a file behind: %v", err)
	}
}
