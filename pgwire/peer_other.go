//go:build !linux

package pgwire

import "net"

// peerGone cannot tell on this platform without reading the socket (no
// POLLRDHUP): a client that goes away during a statement is noticed when the
// statement ends, as in PostgreSQL without client_connection_check_interval.
func peerGone(net.Conn) bool { return false }
