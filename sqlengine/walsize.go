package sqlengine

import (
	"os"
	"strconv"
)

// walsize.go: the WAL's size follows the database's. SQLite checkpoints
// the WAL into the database every 1000 pages (4 MiB) by default, and the
// WAL file stays at its high-water mark; for a database of a few MiB that
// doubles the node's disk (issue 15: a node holds at most about twice its
// database). The write connection checkpoints after a quarter of the
// database's size instead, between walMinPages and SQLite's default, and
// cuts the WAL back to that size when it restarts (journal_size_limit).
// Checkpointing a small database more often costs little: its WAL holds
// the same few pages over and over.

const (
	walMinPages  = 128  // 512 KiB
	walMaxPages  = 1000 // SQLite's default wal_autocheckpoint
	walPageBytes = 4096 // SQLite's default page size, pgraft's
	walTuneEvery = 1024 // applied entries between two looks at the size
)

// walPagesFor is the checkpoint threshold, in pages, for a database file
// of dbBytes.
func walPagesFor(dbBytes int64) int64 {
	return min(max(dbBytes/4/walPageBytes, walMinPages), walMaxPages)
}

// tuneWAL sets the write connection's checkpoint threshold and WAL size
// limit from the database's size, every walTuneEvery applied entries (and
// after the connections were opened: walPages is 0 then). The caller holds
// e.wmu, with no transaction open on the write connection.
func (e *Engine) tuneWAL(applied uint64) {
	if e.walPages != 0 && applied < e.walTunedAt+walTuneEvery {
		return
	}
	e.walTunedAt = applied
	st, err := os.Stat(e.cfg.Path)
	if err != nil {
		return // the next look tries again
	}
	pages := walPagesFor(st.Size())
	if pages == e.walPages {
		return
	}
	leave := e.wauth.enterInternalUncached()
	_, err = e.wraw.Exec("PRAGMA wal_autocheckpoint="+strconv.FormatInt(pages, 10)+
		"; PRAGMA journal_size_limit="+strconv.FormatInt(pages*walPageBytes, 10), nil)
	leave()
	if err != nil {
		e.log.Warn("set the WAL's checkpoint threshold", "pages", pages, "err", err)
		return
	}
	e.walPages = pages
}
