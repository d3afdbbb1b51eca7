package replica

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

func newTestMux(t *testing.T) *mux {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := newMux(ln, ln.Addr(), nil, nil, slog.New(slog.DiscardHandler))
	t.Cleanup(func() { m.close() })
	return m
}

// TestMuxRoutes sends a Raft connection, an RPC connection and one with an
// unknown first byte to the same port, over real TCP.
func TestMuxRoutes(t *testing.T) {
	m := newTestMux(t)
	rpcGot := make(chan string, 1)
	if err := m.handle('Q', func(c net.Conn) {
		buf := make([]byte, 5)
		if _, err := io.ReadFull(c, buf); err != nil {
			rpcGot <- "error: " + err.Error()
			return
		}
		rpcGot <- string(buf)
	}); err != nil {
		t.Fatal(err)
	}
	addr := m.ln.Addr().String()

	// Raft: Dial writes 'R', Accept gets the connection past that byte.
	rc, err := m.raft.Dial(raft.ServerAddress(addr), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if _, err := rc.Write([]byte("raft!")); err != nil {
		t.Fatal(err)
	}
	accepted, err := m.raft.Accept()
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 5)
	_ = accepted.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(accepted, buf); err != nil || string(buf) != "raft!" {
		t.Fatalf("raft side read %q, %v; want \"raft!\"", buf, err)
	}
	accepted.Close()

	// RPC: the registered handler gets the bytes after 'Q'.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	qc, err := dialPort(ctx, addr, 'Q', nil)
	if err != nil {
		t.Fatal(err)
	}
	defer qc.Close()
	if _, err := qc.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-rpcGot:
		if got != "hello" {
			t.Fatalf("rpc handler read %q, want \"hello\"", got)
		}
	case <-ctx.Done():
		t.Fatal("rpc handler never ran")
	}

	// Unknown byte: the mux closes the connection.
	uc, err := dialPort(ctx, addr, 'Z', nil)
	if err != nil {
		t.Fatal(err)
	}
	defer uc.Close()
	_ = uc.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := uc.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Fatalf("read on unknown-byte connection = %d, %v; want EOF (closed by the mux)", n, err)
	}
}

func TestMuxHandleRejectsRaftByteAndDuplicates(t *testing.T) {
	m := newTestMux(t)
	if err := m.handle(raftConnByte, func(net.Conn) {}); err == nil {
		t.Fatal("registering Raft's byte succeeded")
	}
	if err := m.handle('Q', func(net.Conn) {}); err != nil {
		t.Fatal(err)
	}
	if err := m.handle('Q', func(net.Conn) {}); err == nil {
		t.Fatal("registering a byte twice succeeded")
	}
}

// TestMuxCloseStopsHandlers: close closes a handler's connection and waits
// for the handler to return.
func TestMuxCloseStopsHandlers(t *testing.T) {
	m := newTestMux(t)
	started, returned := make(chan struct{}), make(chan struct{})
	if err := m.handle('Q', func(c net.Conn) {
		close(started)
		_, _ = io.Copy(io.Discard, c) // until the mux closes c
		close(returned)
	}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := dialPort(ctx, m.ln.Addr().String(), 'Q', nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	select {
	case <-started:
	case <-ctx.Done():
		t.Fatal("handler never started")
	}
	if err := m.close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-returned:
	default:
		t.Fatal("close returned before the handler did")
	}
	if _, err := m.raft.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Accept after close = %v, want net.ErrClosed", err)
	}
}
