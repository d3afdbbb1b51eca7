package main

import (
	"strings"
	"testing"
	"time"

	"github.com/pgraft/pgraft/replica"
	"github.com/pgraft/pgraft/server"
)

// TestPrintStatus: the table names every member with its role, applied
// index, lag and health, marks the node that answered, and prints no
// zero times.
func TestPrintStatus(t *testing.T) {
	st := &server.Status{NodeID: "n1", Role: "Leader", Leader: "n1", LeaderAddr: "127.0.0.1:7001", Term: 3,
		AppliedIndex: 40, CommittedDataIndex: 40, Sessions: 2, MaxConnections: 100, PGAddr: "127.0.0.1:5433",
		Members: []replica.Member{
			{ID: "n1", Addr: "127.0.0.1:7001", Voter: true, Probed: true, State: "Leader", AppliedIndex: 40},
			{ID: "n2", Addr: "127.0.0.1:7002", Voter: true, Probed: true, State: "Follower", AppliedIndex: 37, Lag: 3},
			{ID: "n3", Addr: "127.0.0.1:7003", Voter: true, Unreachable: true, LastContact: time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC),
				ProbeError: "dial tcp 127.0.0.1:7003: connect: connection refused"},
		}}
	var b strings.Builder
	if err := printStatus(&b, st); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	lines := map[string]bool{}
	for _, l := range strings.Split(out, "\n") {
		lines[strings.Join(strings.Fields(l), " ")] = true
	}
	for _, want := range []string{
		"node n1: leader, term 3, leader n1 (127.0.0.1:7001)",
		"applied 40 of 40 committed; sessions 2 of 100",
		"n1 * 127.0.0.1:7001 yes leader 40 0 ok",
		"n2 127.0.0.1:7002 yes follower 37 3 ok",
		"n3 127.0.0.1:7003 yes ? ? ? heartbeats failing since 2026-12-07T10:00:00Z",
	} {
		if !lines[want] && !strings.Contains(out, want) {
			t.Errorf("status table lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "0001-01-01") {
		t.Errorf("status table prints a zero time:\n%s", out)
	}
}
