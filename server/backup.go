package server

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"

	"github.com/pgraft/pgraft/sqlengine"
)

// backup.go is hot backup (issue 11): POST /backup on the HTTP address, as
// administration, streams a consistent copy of this node's database at a
// known applied index while writes go on. The copy is a plain SQLite
// database (SQLite's backup API over one read transaction, as a Raft
// snapshot is made); `pgraft restore` seeds a new cluster from it.
//
// Headers: X-Pgraft-Applied-Index (the index the copy holds),
// X-Pgraft-Checksum (pgraft_checksum() of the copy), Content-Length.

// SeedRestoredDataDir makes dir, which holds a backup's database as
// db.sqlite (pgraft restore), the data dir of a new cluster's first node:
// see sqlengine.SeedDatabase.
func SeedRestoredDataDir(dir string) error {
	return sqlengine.SeedDatabase(filepath.Join(dir, "db.sqlite"))
}

func (s *Server) handleBackup(w http.ResponseWriter, r *http.Request) {
	snap, err := s.eng.Snapshot()
	if err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": err.Error()})
		return
	}
	defer snap.Release()
	sum, err := snap.Checksum(r.Context())
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "checksum: " + err.Error()})
		return
	}
	path, err := snap.BackupFile(s.cfg.DataDir)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	defer os.Remove(path)
	f, err := os.Open(path)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	w.Header().Set("Content-Type", "application/vnd.sqlite3")
	w.Header().Set("Content-Length", strconv.FormatInt(info.Size(), 10))
	w.Header().Set("X-Pgraft-Applied-Index", strconv.FormatUint(snap.Index(), 10))
	w.Header().Set("X-Pgraft-Checksum", sum)
	w.Header().Set("X-Pgraft-Node-Id", s.cfg.NodeID)
	w.WriteHeader(http.StatusOK)
	if _, err := io.Copy(w, f); err != nil {
		s.log.Warn("backup: sending the copy failed", "err", err)
		return
	}
	s.log.Info("backup sent", "applied_index", snap.Index(), "bytes", info.Size(), "remote", r.RemoteAddr)
}
