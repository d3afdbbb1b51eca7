package replica

import (
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/hashicorp/raft"
)

func TestDecodeRef(t *testing.T) {
	for _, tc := range []struct {
		in      string
		applied uint64
		isRef   bool
		wantErr bool
	}{
		{string(encodeRef(42)), 42, true, false},
		{string(encodeRef(0)), 0, true, false},
		{"SQLite format 3\x00....", 0, false, false},
		{"", 0, false, false},
		{refMagic + "applied x\n", 0, true, true},
		{refMagic + "nonsense\n", 0, true, true},
	} {
		applied, isRef, err := decodeRef([]byte(tc.in))
		if applied != tc.applied || isRef != tc.isRef || (err != nil) != tc.wantErr {
			t.Errorf("decodeRef(%q) = %d, %v, %v; want %d, %v, error %v", tc.in, applied, isRef, err, tc.applied, tc.isRef, tc.wantErr)
		}
	}
}

// persistRef stores the reference fsm.Snapshot makes for sm in files.
func persistRef(t *testing.T, files raft.SnapshotStore, f *fsm, index uint64) {
	t.Helper()
	_, trans := raft.NewInmemTransport("")
	sink, err := files.Create(raft.SnapshotVersionMax, index, 1, raft.Configuration{}, 1, trans)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if err := snap.Persist(sink); err != nil {
		t.Fatal(err)
	}
	snap.Release()
}

// TestRefStoreOpenMaterializes: opening a reference hands raft a full copy
// of the state machine as it is now (at or past the reference), with its
// size in the meta, and leaves no file behind once read.
func TestRefStoreOpenMaterializes(t *testing.T) {
	dir := t.TempDir()
	files, err := raft.NewFileSnapshotStore(dir, snapshotsRetained, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	f, sm := newTestFSM()
	store := &refStore{SnapshotStore: files, sm: sm, dir: dir, log: slog.New(slog.DiscardHandler)}
	f.ApplyBatch([]*raft.Log{cmdLog(1, "a=1"), cmdLog(2, "b=2")})
	persistRef(t, files, f, 3) // raft's index may be past the last command
	f.ApplyBatch([]*raft.Log{cmdLog(4, "c=3")})

	metas, err := store.List()
	if err != nil || len(metas) != 1 {
		t.Fatalf("List = %v, %v; want one snapshot", metas, err)
	}
	meta, rc, err := store.Open(metas[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	if meta.Index != 3 || meta.Size != int64(len(data)) {
		t.Fatalf("meta index %d size %d, read %d bytes; want index 3 and the copy's size", meta.Index, meta.Size, len(data))
	}
	var st kvState
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatalf("materialized copy %q: %v", data, err)
	}
	if st.Applied != 4 || st.Data["c"] != "3" {
		t.Fatalf("materialized copy at applied %d with %v, want the state machine now (applied 4)", st.Applied, st.Data)
	}
	left, _ := os.ReadDir(dir)
	for _, e := range left {
		if strings.HasPrefix(e.Name(), "snapshot-copy-") {
			t.Fatalf("materialized copy %s left behind", e.Name())
		}
	}

	// A state machine behind its own reference (its data was replaced)
	// cannot stand in for it.
	behind := newKV()
	store.sm = behind
	if _, _, err := store.Open(metas[0].ID); err == nil || !strings.Contains(err.Error(), "behind its snapshot reference") {
		t.Fatalf("Open with the state machine behind the reference: %v", err)
	}
}
