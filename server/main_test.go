package server_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if any goroutine outlives its tests: every
// node, session and forwarded connection a test starts must be stopped by it.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// replica.Node.await's helper waits on a raft future; raft never
		// answers a future whose entry it committed but had not applied when
		// it shut down (a node crashed under a write), and its futures have
		// no channel to give up on. That goroutine ends with the process.
		goleak.IgnoreTopFunction("github.com/hashicorp/raft.(*deferError).Error"))
}
