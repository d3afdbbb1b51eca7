package pgwire_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/pgraft/pgraft/pgwire"
	"github.com/pgraft/pgraft/pgwire/pgtest"
)

// fuzzHangTimeout bounds how long a connection may run once its input is
// exhausted; the fake session never blocks, so any wait this long is a hang.
const fuzzHangTimeout = 5 * time.Second

// FuzzConn feeds arbitrary bytes to a connection past startup. The properties,
// per input: no panic and no unencodable message (the server logs neither),
// no hang (the connection ends within fuzzHangTimeout once its input is
// exhausted), everything the server wrote is a well-formed stream of backend
// messages, the connection's goroutine ends (no leak), and the server keeps
// serving new connections (every input goes to the same server).
//
// Connections are in memory (memConn) rather than TCP: the input is the
// connection's whole read side, ending in EOF as after a client's CloseWrite,
// and the output is collected, so an execution costs no syscalls and no round
// trips. The pgwire code under test is the same either way.
func FuzzConn(f *testing.F) {
	f.Add([]byte("Q\x00\x00\x00\x0drows 2\x00"))
	f.Add([]byte("X\x00\x00\x00\x04"))
	f.Add([]byte("\xff\xff\xff\xff"))
	addScriptSeeds(f, filepath.Join("..", "testdata", "pgtest", "*"))

	logs := &fuzzLog{}
	ln := newMemListener()
	srv := &pgwire.Server{Handler: fuzzHandler{}, Logger: slog.New(logs), MaxMessageSize: 1 << 20}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	f.Cleanup(func() {
		srv.Close()
		if err := <-done; err != pgwire.ErrServerClosed {
			f.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
	})
	startup, err := startupMessage(map[string]string{"user": "alice", "application_name": "fuzz"}).Encode(nil)
	if err != nil {
		f.Fatal(err)
	}

	f.Fuzz(func(t *testing.T, in []byte) {
		before := runtime.NumGoroutine()
		nc := newMemConn(append(startup[:len(startup):len(startup)], in...))
		select {
		case ln.conns <- nc:
		case <-time.After(fuzzHangTimeout):
			t.Fatal("server stopped accepting connections")
		}
		select {
		case <-nc.closed:
		case <-time.After(fuzzHangTimeout):
			t.Fatalf("connection still open %v after its input ended: hang", fuzzHangTimeout)
		}
		waitGoroutines(t, before)
		if msg := logs.failure(); msg != "" {
			t.Fatalf("server logged %q", msg)
		}
		checkBackendStream(t, nc.output())
	})
}

// addScriptSeeds adds the frontend side of every protocol script matching
// pattern as a seed: real clients' conversations, run against the fake.
func addScriptSeeds(f *testing.F, pattern string) {
	paths, err := filepath.Glob(pattern)
	if err != nil || len(paths) == 0 {
		f.Fatalf("no protocol scripts match %s (%v)", pattern, err)
	}
	for _, p := range paths {
		s, err := pgtest.ParseFile(p)
		if err != nil {
			f.Fatal(err)
		}
		b, err := s.SendBytes()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// waitGoroutines waits for the goroutine count to fall back to want: the
// connection's goroutine ends a moment after it closes its socket.
func waitGoroutines(t *testing.T, want int) {
	t.Helper()
	deadline := time.Now().Add(fuzzHangTimeout)
	for spins := 0; runtime.NumGoroutine() > want; spins++ {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines, want %d: a connection leaked one\n%s",
				runtime.NumGoroutine(), want, allStacks())
		}
		if spins < 100 {
			runtime.Gosched()
		} else {
			time.Sleep(time.Millisecond)
		}
	}
}

// allStacks returns every goroutine's stack, to show which one leaked.
func allStacks() string {
	buf := make([]byte, 1<<20)
	return string(buf[:runtime.Stack(buf, true)])
}

// checkBackendStream fails unless out is a sequence of whole, decodable
// backend messages: the server never writes half a message or garbage.
func checkBackendStream(t *testing.T, out []byte) {
	t.Helper()
	msgs := 0
	for rest := out; len(rest) > 0; msgs++ {
		if len(rest) < 5 {
			t.Fatalf("server output ends in %d bytes of a message header", len(rest))
		}
		n := int(binary.BigEndian.Uint32(rest[1:5]))
		if n < 4 || n > len(rest)-1 {
			t.Fatalf("server output, message %d (%q): length %d of %d bytes left", msgs, rest[0], n, len(rest)-1)
		}
		rest = rest[1+n:]
	}
	fe := pgproto3.NewFrontend(bytes.NewReader(out), io.Discard)
	for i := range msgs {
		if _, err := fe.Receive(); err != nil {
			t.Fatalf("server output, message %d: %v", i, err)
		}
	}
}

// fuzzHandler gives every connection a session of its own fakeHandler, so
// that a million executions do not pile up sessions; sessions refuse "sleep"
// and "panic", which random bytes may spell.
type fuzzHandler struct{}

func (fuzzHandler) NewSession(ctx context.Context, info pgwire.StartupInfo) (pgwire.Session, error) {
	return (&fakeHandler{safe: true}).NewSession(ctx, info)
}

// fuzzLog remembers the first Error-level record that means a bug: a
// recovered panic or a message the server could not encode. (Other errors,
// like the fake's plain Bind errors logged as "internal error", are fine.)
type fuzzLog struct {
	bad atomic.Pointer[string]
}

func (l *fuzzLog) Enabled(_ context.Context, lv slog.Level) bool { return lv >= slog.LevelError }
func (l *fuzzLog) Handle(_ context.Context, r slog.Record) error {
	if strings.HasPrefix(r.Message, "panic") || strings.HasPrefix(r.Message, "cannot encode") {
		msg := r.Message
		r.Attrs(func(a slog.Attr) bool {
			msg += " " + a.String()
			return true
		})
		l.bad.CompareAndSwap(nil, &msg)
	}
	return nil
}
func (l *fuzzLog) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *fuzzLog) WithGroup(string) slog.Handler      { return l }

func (l *fuzzLog) failure() string {
	if p := l.bad.Load(); p != nil {
		return *p
	}
	return ""
}

// memListener hands the connections sent on conns to Serve.
type memListener struct {
	conns     chan net.Conn
	done      chan struct{}
	closeOnce sync.Once
}

func newMemListener() *memListener {
	return &memListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *memListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *memListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return nil
}

func (l *memListener) Addr() net.Addr { return memAddr{} }

// memConn is a connection whose read side is a fixed input, then EOF, and
// whose write side is collected. Reads belong to the connection's goroutine;
// Write, Close and output may come from any.
type memConn struct {
	in        *bytes.Reader
	closed    chan struct{}
	closeOnce sync.Once
	mu        sync.Mutex
	out       []byte
}

func newMemConn(in []byte) *memConn {
	return &memConn{in: bytes.NewReader(in), closed: make(chan struct{})}
}

func (c *memConn) Read(p []byte) (int, error) {
	select {
	case <-c.closed:
		return 0, net.ErrClosed
	default:
	}
	return c.in.Read(p)
}

func (c *memConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	select {
	case <-c.closed:
		return 0, net.ErrClosed
	default:
	}
	c.out = append(c.out, p...)
	return len(p), nil
}

func (c *memConn) Close() error {
	c.closeOnce.Do(func() { close(c.closed) })
	return nil
}

func (c *memConn) output() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out
}

func (c *memConn) LocalAddr() net.Addr              { return memAddr{} }
func (c *memConn) RemoteAddr() net.Addr             { return memAddr{} }
func (c *memConn) SetDeadline(time.Time) error      { return nil }
func (c *memConn) SetReadDeadline(time.Time) error  { return nil }
func (c *memConn) SetWriteDeadline(time.Time) error { return nil }
func (memAddr) Network() string                     { return "mem" }
func (memAddr) String() string                      { return "mem" }

type memAddr struct{}
