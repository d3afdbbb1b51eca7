package chaos

import (
	"context"
	bin "encoding/binary"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgraft/pgraft/server/servertest"
)

// TestCommitCutAfterServerAnsweredIsUnknown replays, step by step and with
// no randomness, the chain behind the bank checker's "lost" transfers
// (issue 16; seed 107 of the crash-only runs showed it, with transfer IDs):
//
//  1. a bank client on a follower sends its transfer; the follower forwards
//     the block, and the leader commits it when the forwarded COMMIT comes;
//  2. the client's connection breaks before the COMMIT's answer reaches it
//     (the follower crashed);
//  3. pgx answers that COMMIT "conn closed", an error it marks safe to
//     retry (never sent), and the checker counted the transfer as failed:
//     every node held a transfer its client was told had failed.
//
// Nothing was lost or doubled: the log, every node and the leader's answer
// agree. The test cuts the client's connection at exactly that point
// (a proxy drops the COMMIT's answer and closes the client side) and checks
// that the checker now calls the outcome unknown and finds no violation.
func TestCommitCutAfterServerAnsweredIsUnknown(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a three-node cluster")
	}
	c := servertest.NewCluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	setupConn, err := pgx.Connect(ctx, c.Leader().DSN())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range bankSetup() {
		if _, err := setupConn.Exec(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	setupConn.Close(ctx)

	follower := c.Followers()[0]
	p := newCommitCutProxy(t, follower.PGAddr())
	conn, err := pgx.Connect(ctx, "postgres://postgres@"+p.addr()+"/postgres?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())

	log := &bankLog{start: time.Now()}
	tr := transfer{From: 6, To: 0, Amount: 2, ID: log.newID()}
	call := time.Now()
	o, err := doTransfer(conn, tr, "READ COMMITTED")
	log.record(tr, o, err, 1, call)
	if err == nil || !strings.HasPrefix(err.Error(), "COMMIT: ") {
		t.Fatalf("transfer through the cutting proxy = %v, %v; want the COMMIT's connection error", o, err)
	}
	t.Logf("COMMIT answered %v (pgx SafeToRetry: %v)", err, pgconn.SafeToRetry(err))
	if o != unknown {
		t.Errorf("outcome of a COMMIT whose answer was lost = %d, want unknown (%d)", o, unknown)
	}

	if _, err := c.WaitConverged(ctx); err != nil {
		t.Fatal(err)
	}
	dsns := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		dsns[i] = n.DSN()
		xfers, err := readTransfers(ctx, n.DSN())
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := xfers[tr.ID]; !ok {
			t.Fatalf("node %d: the transfer is not committed; the proxy cut too early to replay the case", i)
		}
	}
	if v := checkBank(ctx, log, dsns); len(v) > 0 {
		t.Errorf("bank checker violations:\n  %s", strings.Join(v, "\n  "))
	}
}

// commitCutProxy relays one client's PostgreSQL connection to a server
// until the client sends COMMIT; it relays the COMMIT, waits for the
// server's whole answer (ReadyForQuery), drops it, and closes the client's
// side: the server committed, the client never hears of it.
type commitCutProxy struct {
	ln net.Listener
	wg sync.WaitGroup
}

func newCommitCutProxy(t *testing.T, upstream string) *commitCutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &commitCutProxy{ln: ln}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		client, err := ln.Accept()
		if err != nil {
			return
		}
		defer client.Close()
		server, err := net.Dial("tcp", upstream)
		if err != nil {
			return
		}
		defer server.Close()
		p.relay(client, server)
	}()
	t.Cleanup(func() {
		ln.Close()
		p.wg.Wait()
	})
	return p
}

func (p *commitCutProxy) addr() string { return p.ln.Addr().String() }

func (p *commitCutProxy) relay(client, server net.Conn) {
	var mu sync.Mutex
	committing := false
	done := make(chan struct{})
	go func() { // client → server
		defer close(done)
		first := true
		for {
			typ, msg, err := readMessage(client, first)
			if err != nil {
				server.Close()
				return
			}
			first = false
			if typ == 'Q' && strings.EqualFold(strings.TrimRight(string(msg[5:]), "\x00; "), "COMMIT") {
				mu.Lock()
				committing = true
				mu.Unlock()
			}
			if _, err := server.Write(msg); err != nil {
				return
			}
		}
	}()
	for { // server → client
		typ, msg, err := readMessage(server, false)
		if err != nil {
			break
		}
		mu.Lock()
		cut := committing
		mu.Unlock()
		if cut {
			if typ == 'Z' { // the COMMIT's whole answer arrived: drop it
				client.Close()
				break
			}
			continue
		}
		if _, err := client.Write(msg); err != nil {
			break
		}
	}
	client.Close()
	<-done
}

// readMessage reads one protocol message, whole: typed (type byte, then
// length), or the untyped startup message when first (type 0).
func readMessage(r io.Reader, first bool) (byte, []byte, error) {
	head := 5
	if first {
		head = 4
	}
	b := make([]byte, head)
	if _, err := io.ReadFull(r, b); err != nil {
		return 0, nil, err
	}
	n := int(bin.BigEndian.Uint32(b[head-4:])) - 4
	if n < 0 || n > 1<<24 {
		return 0, nil, errors.New("bad message length")
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return 0, nil, err
	}
	var typ byte
	if !first {
		typ = b[0]
	}
	return typ, append(b, body...), nil
}
