package replica

import "context"

// Crash stops the node the way a crash looks to its peers: raft stops
// without handing leadership over (a graceful Shutdown transfers it first),
// then the node's goroutines stop and its stores close, so the process can
// go on and the node can be opened again on the same data dir. It is for
// tests and fault drills; a real crash also loses what the OS had not
// written, which only killing the process shows. Idempotent together with
// Shutdown: whichever runs first decides, later calls return its result.
func (n *Node) Crash() error {
	n.shutdownOnce.Do(func() { n.shutdownErr = n.shutdown(context.Background(), false) })
	return n.shutdownErr
}
