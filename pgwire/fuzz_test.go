package pgwire_test

import (
	"net"
	"testing"
	"time"

	"github.com/pgraft/pgraft/pgwire"
)

// FuzzConn feeds arbitrary bytes to a connection past startup. The property:
// no panic (the server logs none), no hang (the server answers and closes
// within the deadline once the client stops sending), and the server keeps
// serving new connections.
func FuzzConn(f *testing.F) {
	f.Add([]byte("Q\x00\x00\x00\x0drows 2\x00"))
	f.Add([]byte("X\x00\x00\x00\x04"))
	f.Add([]byte("\xff\xff\xff\xff"))
	ts := startServer(f, func(s *pgwire.Server) { s.MaxMessageSize = 1 << 20 })
	ts.h.mu.Lock()
	ts.h.safe = true // random bytes may spell "sleep" or "panic"
	ts.h.mu.Unlock()
	f.Fuzz(func(t *testing.T, in []byte) {
		fe, nc, _ := ts.connect(t)
		if _, err := nc.Write(in); err != nil {
			return // the server already closed on an earlier part
		}
		nc.(*net.TCPConn).CloseWrite()
		nc.SetReadDeadline(time.Now().Add(10 * time.Second))
		for {
			_, err := fe.Receive()
			if err == nil {
				continue
			}
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatal("server neither answered nor closed: hang")
			}
			break // EOF or a reset: the server closed this connection
		}
		if n := ts.logs.count("panic"); n != 0 {
			t.Fatalf("server logged %d panics", n)
		}
	})
}
