package sqlengine

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// Snapshot is the database at a known applied index: a read transaction
// opened by Engine.Snapshot (cheap, applies go on) and copied by Persist
// with SQLite's backup API (DESIGN.md §9).
type Snapshot struct {
	e     *Engine
	conn  *sql.Conn
	auth  authState // conn has internal access until Release
	index uint64
}

// Snapshot opens the read transaction. It runs on the apply goroutine
// (no ApplyBatch is running), so the applied index is exactly the one the
// transaction sees.
func (e *Engine) Snapshot() (*Snapshot, error) {
	ctx := context.Background()
	e.swap.RLock()
	c, err := e.snap.Conn(ctx)
	if err != nil {
		e.swap.RUnlock()
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	s := &Snapshot{e: e, conn: c}
	if s.auth, err = enterInternalConn(c); err != nil {
		c.Close()
		e.swap.RUnlock()
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	var idx int64
	if _, err = c.ExecContext(ctx, "BEGIN"); err == nil {
		err = c.QueryRowContext(ctx, `SELECT coalesce((SELECT value FROM _pgraft_meta WHERE key = 'applied_index'), 0)`).Scan(&idx)
	}
	if err != nil {
		s.Release()
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	s.index = uint64(idx)
	return s, nil
}

// Index is the applied index the snapshot holds.
func (s *Snapshot) Index() uint64 { return s.index }

// Persist copies the snapshot's database to w.
func (s *Snapshot) Persist(w io.Writer) error {
	dir := filepath.Dir(s.e.cfg.Path)
	f, err := os.CreateTemp(dir, "snapshot-*.sqlite")
	if err != nil {
		return fmt.Errorf("persist snapshot: %w", err)
	}
	tmp := f.Name()
	f.Close()
	defer os.Remove(tmp)
	if err := s.backupTo(tmp); err != nil {
		return fmt.Errorf("persist snapshot: %w", err)
	}
	src, err := os.Open(tmp)
	if err != nil {
		return fmt.Errorf("persist snapshot: %w", err)
	}
	defer src.Close()
	if _, err := io.Copy(w, src); err != nil {
		return fmt.Errorf("persist snapshot: %w", err)
	}
	return nil
}

// Checksum is pgraft_checksum() of the snapshot's database: what every
// node holds at the snapshot's index.
func (s *Snapshot) Checksum(ctx context.Context) (string, error) {
	return checksumDB(ctx, s.conn)
}

// BackupFile copies the snapshot's database into a new file in dir (a
// plain SQLite database, readable with sqlite3) and returns its path; the
// caller removes it.
func (s *Snapshot) BackupFile(dir string) (string, error) {
	f, err := os.CreateTemp(dir, "backup-*.sqlite")
	if err != nil {
		return "", fmt.Errorf("backup: %w", err)
	}
	path := f.Name()
	f.Close()
	if err := s.backupTo(path); err != nil {
		os.Remove(path)
		return "", fmt.Errorf("backup: %w", err)
	}
	return path, nil
}

// SeedDatabase makes a backup's database file the first state of a new
// cluster (pgraft restore): its data stays, but no entry of the old
// cluster's log is counted as applied, so the new cluster's log applies
// from its first entry. path must not be open by anyone.
func SeedDatabase(path string) error {
	db := sql.OpenDB(newConnector("file:"+path+"?_journal_mode=DELETE", nil))
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE name = '_pgraft_meta'`).Scan(&n); err != nil {
		return fmt.Errorf("read the backup: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("%s is not a pgraft backup (it has no _pgraft_meta)", path)
	}
	if _, err := db.Exec(`UPDATE _pgraft_meta SET value = 0 WHERE key IN ('applied_index', 'data_index')`); err != nil {
		return fmt.Errorf("seed the restored database: %w", err)
	}
	// Parts of a transaction in flight when the backup was taken belong
	// to the old cluster's log: its final entry never comes here (stage.go).
	if _, err := db.Exec(stagedTableSQL + `; DELETE FROM _pgraft_staged`); err != nil {
		return fmt.Errorf("seed the restored database: %w", err)
	}
	return nil
}

func (s *Snapshot) backupTo(path string) error {
	dst := sql.OpenDB(newConnector("file:"+path+"?_journal_mode=DELETE", nil))
	defer dst.Close()
	dc, err := dst.Conn(context.Background())
	if err != nil {
		return err
	}
	defer dc.Close()
	return dc.Raw(func(d any) error {
		return s.conn.Raw(func(src any) error {
			b, err := d.(*sqlite3.SQLiteConn).Backup("main", src.(*sqlite3.SQLiteConn), "main")
			if err != nil {
				return err
			}
			if _, err := b.Step(-1); err != nil {
				b.Finish()
				return err
			}
			return b.Finish()
		})
	})
}

// Release ends the read transaction, then checkpoints the WAL into the
// database file (DESIGN.md §9): the checkpoint syncs the file, so the
// database is durably at or beyond the snapshot's index, and the WAL, which
// otherwise only grows back to its high-water mark, is truncated.
func (s *Snapshot) Release() {
	if s.conn == nil {
		return
	}
	ctx := context.Background()
	s.conn.ExecContext(ctx, "ROLLBACK") //nolint:errcheck // returned to the pool either way
	var busy, logFrames, done int
	if err := s.conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logFrames, &done); err != nil || busy != 0 {
		s.e.log.Warn("checkpoint after snapshot incomplete", "err", err, "busy", busy)
	}
	if err := leaveInternalConn(s.conn, s.auth); err != nil { // only on a closed Conn: not this one
		s.e.log.Warn("snapshot connection: leave internal access", "err", err)
	}
	closeConn(s.conn)
	s.conn = nil
	s.e.swap.RUnlock()
}

// Sync makes every applied command durable: it fsyncs the database file,
// its WAL and their directory. Commits under synchronous=NORMAL leave WAL
// appends to the operating system until a checkpoint; after Sync a crash
// or power loss keeps every command applied before it. The node's
// snapshots are references to the database made durable by Sync
// (replica/snapshot.go). It runs concurrently with applies and takes no
// SQLite lock.
func (e *Engine) Sync() error {
	e.swap.RLock() // no Restore swaps the file meanwhile
	defer e.swap.RUnlock()
	for _, p := range []string{e.cfg.Path + "-wal", e.cfg.Path} {
		if err := syncFile(p); err != nil {
			return fmt.Errorf("sync %s: %w", filepath.Base(p), err)
		}
	}
	if err := syncDir(filepath.Dir(e.cfg.Path)); err != nil {
		return fmt.Errorf("sync database directory: %w", err)
	}
	return nil
}

// Size is the database file's size in bytes (0 when it cannot be read):
// the replica sizes its trailing log to it.
func (e *Engine) Size() int64 {
	st, err := os.Stat(e.cfg.Path)
	if err != nil {
		return 0
	}
	return st.Size()
}

// syncFile fsyncs the file at path (fsync through a read-only descriptor
// flushes the file's data on Linux and the BSDs); a file that does not
// exist (no WAL yet) has nothing to flush.
func syncFile(path string) error {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// sqliteHeader starts every SQLite database file.
const sqliteHeader = "SQLite format 3\x00"

// Restore replaces the database with a snapshot's contents, atomically:
// every connection is closed (reads wait), the file is replaced and synced,
// the WAL files removed, and the applied index is read from the new file.
func (e *Engine) Restore(r io.Reader) error {
	e.wmu.Lock()
	defer e.wmu.Unlock()
	br := bufio.NewReader(r)
	if head, _ := br.Peek(len(sqliteHeader)); string(head) != sqliteHeader {
		return fmt.Errorf("restore: the snapshot is not an SQLite database (it starts %q)", head)
	}
	tmp := e.cfg.Path + ".restore"
	if err := writeSynced(tmp, br); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("restore: %w", err)
	}
	e.swap.Lock()
	defer e.swap.Unlock()
	e.abortBorrowerLockedNoSwap()
	e.dropEpochLocked()
	if err := e.closeConns(); err != nil {
		return fmt.Errorf("restore: close: %w", err)
	}
	if err := os.Rename(tmp, e.cfg.Path); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	for _, suffix := range []string{"-wal", "-shm"} {
		if err := os.Remove(e.cfg.Path + suffix); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("restore: %w", err)
		}
	}
	if err := syncDir(filepath.Dir(e.cfg.Path)); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	e.applied.Store(0)
	e.dataIndex.Store(0)
	e.lastTime.Store(0)
	e.stagedTerm = 0
	e.chain = chain{}
	if err := e.openConns(); err != nil {
		return fmt.Errorf("restore: reopen: %w", err)
	}
	e.schemaDirty.Store(true)
	return nil
}

func (e *Engine) abortBorrowerLockedNoSwap() {
	if t := e.borrower; t != nil {
		t.aborted = true
		e.borrower = nil
	}
}

func writeSynced(path string, r io.Reader) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
