package replica

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/hashicorp/raft"
)

func TestTranslateError(t *testing.T) {
	tests := []struct {
		name          string
		in            error
		inFlight      bool
		want          error // errors.Is target
		wantAmbiguous bool
	}{
		{"not leader is definite", raft.ErrNotLeader, false, ErrNotLeader, false},
		{"leadership transfer is not leader", raft.ErrLeadershipTransferInProgress, false, ErrNotLeader, false},
		{"enqueue timeout is definite", raft.ErrEnqueueTimeout, false, ErrEnqueueTimeout, false},
		{"leadership lost is ambiguous", raft.ErrLeadershipLost, true, ErrLeadershipLost, true},
		{"aborted by restore is ambiguous", raft.ErrAbortedByRestore, true, ErrLeadershipLost, true},
		{"shutdown before append is definite", raft.ErrRaftShutdown, false, ErrShutdown, false},
		{"shutdown in flight is ambiguous", raft.ErrRaftShutdown, true, ErrShutdown, true},
		{"ctx end in flight is ambiguous", context.DeadlineExceeded, true, context.DeadlineExceeded, true},
		{"ctx end before append is definite", context.Canceled, false, context.Canceled, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := translateError(tc.in, tc.inFlight)
			if !errors.Is(got, tc.want) {
				t.Fatalf("translateError(%v) = %v, want errors.Is %v", tc.in, got, tc.want)
			}
			if errors.Is(got, tc.in) && tc.in != tc.want {
				t.Fatalf("translateError(%v) = %v still exposes raft's error", tc.in, got)
			}
			if IsAmbiguous(got) != tc.wantAmbiguous {
				t.Fatalf("IsAmbiguous(%v) = %v, want %v", got, !tc.wantAmbiguous, tc.wantAmbiguous)
			}
		})
	}
}

func TestIsAmbiguous(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"not leader", ErrNotLeader, false},
		{"too large", fmt.Errorf("propose: %w", ErrTooLarge), false},
		{"wrapped leadership lost", fmt.Errorf("propose: %w", ErrLeadershipLost), true},
		{"wrapped ambiguous shutdown", fmt.Errorf("propose: %w", ambiguous(ErrShutdown)), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := IsAmbiguous(tc.err); got != tc.want {
				t.Fatalf("IsAmbiguous(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}
