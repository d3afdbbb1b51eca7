package replica

import (
	"testing"

	"github.com/hashicorp/raft"
)

func TestClampCommit(t *testing.T) {
	entries := func(from, to uint64) []*raft.Log {
		var out []*raft.Log
		for i := from; i <= to; i++ {
			out = append(out, &raft.Log{Index: i})
		}
		return out
	}
	for _, tc := range []struct {
		name         string
		prev, commit uint64
		entries      []*raft.Log
		want         uint64
	}{
		// A deposed leader holding stale entries past 1321 must not commit
		// them on a request that shows it nothing past 1321.
		{"empty request, commit ahead", 1321, 1322, nil, 1321},
		{"entries stop short of the commit index", 1000, 1500, entries(1001, 1256), 1256},
		{"commit within the entries", 1000, 1100, entries(1001, 1256), 1100},
		{"caught-up follower", 2000, 2000, nil, 2000},
		{"heartbeat", 0, 0, nil, 0},
		{"first entries of an empty follower", 0, 3, entries(1, 5), 3},
	} {
		req := &raft.AppendEntriesRequest{PrevLogEntry: tc.prev, LeaderCommitIndex: tc.commit, Entries: tc.entries}
		clampCommit(req)
		if req.LeaderCommitIndex != tc.want {
			t.Errorf("%s: commit %d, want %d", tc.name, req.LeaderCommitIndex, tc.want)
		}
	}
}
