package replica

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/raft"
)

func TestLogStoreKinds(t *testing.T) {
	for _, tc := range []struct {
		name, kind, want string
		existing         string // the kind of log already in the dir, if any
	}{
		{"default is wal", "", LogStoreWAL, ""},
		{"bolt on request", LogStoreBolt, LogStoreBolt, ""},
		{"an existing bolt log stays bolt", "", LogStoreBolt, LogStoreBolt},
		{"an existing wal log stays wal", LogStoreBolt, LogStoreWAL, LogStoreWAL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.existing != "" {
				s, got, err := openLogStore(dir, tc.existing, 0)
				if err != nil || got != tc.existing {
					t.Fatalf("create a %s log: got %q, %v", tc.existing, got, err)
				}
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
			}
			s, got, err := openLogStore(dir, tc.kind, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if got != tc.want {
				t.Fatalf("store kind %q, want %q", got, tc.want)
			}
			// Raft must know that raft-wal refuses gaps (it then drops the
			// log when it installs a snapshot).
			m, ok := s.(raft.MonotonicLogStore)
			if monotonic := ok && m.IsMonotonic(); monotonic != (got == LogStoreWAL) {
				t.Fatalf("%s store: monotonic = %v", got, monotonic)
			}
			if err := s.StoreLogs([]*raft.Log{{Index: 1, Term: 1, Data: []byte("x")}}); err != nil {
				t.Fatal(err)
			}
			var l raft.Log
			if err := s.GetLog(1, &l); err != nil || string(l.Data) != "x" {
				t.Fatalf("GetLog: %v %q", err, l.Data)
			}
		})
	}
}

// TestLogStoreLock: a second opener of the same raft dir (another process
// on the same data dir) fails at once, and can open it once it is closed.
func TestLogStoreLock(t *testing.T) {
	dir := t.TempDir()
	s, _, err := openLogStore(dir, LogStoreWAL, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := openLogStore(dir, LogStoreWAL, 0); !errors.Is(err, errDirLocked) {
		t.Fatalf("second open: %v, want %v", err, errDirLocked)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, _, err := openLogStore(dir, "", 0) // the existing wal log is kept
	if err != nil {
		t.Fatalf("open after close: %v", err)
	}
	s2.Close()
	if _, err := os.Stat(filepath.Join(dir, "wal")); err != nil {
		t.Fatal(err)
	}
}
