package server_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgraft/pgraft/pgwire/pgtest"
	"github.com/pgraft/pgraft/server"
	"github.com/pgraft/pgraft/server/servertest"
)

// waitStatus waits, under a generous deadline that only a hang reaches,
// until the node's status satisfies cond.
func waitStatus(t *testing.T, n *servertest.Node, what string, cond func(server.Status) bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st := n.Status(context.Background(), false)
		if cond(st) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s: sessions %d, read connections in use %d",
				what, st.Sessions, st.ReadConnsInUse)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// bounded is a context for one client call that only a hang outlives.
func bounded(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestMaxConnections: beyond max_connections a connection is refused at
// startup with FATAL 53300, as in PostgreSQL; SHOW reports the limit; the
// admitted sessions go on, a CancelRequest still gets through at the limit,
// and a slot freed is taken again.
func TestMaxConnections(t *testing.T) {
	n := servertest.Start(t, func(c *server.Config) { c.MaxConnections = 3 })
	var conns []*pgx.Conn
	for i := 0; i < 3; i++ {
		conns = append(conns, connect(t, n))
	}
	var limit string
	if err := conns[0].QueryRow(bounded(t), `SHOW max_connections`).Scan(&limit); err != nil || limit != "3" {
		t.Fatalf("SHOW max_connections = %q, %v; want 3", limit, err)
	}

	_, err := pgx.Connect(bounded(t), n.DSN())
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "53300" || pe.Severity != "FATAL" || pe.Message != "sorry, too many clients already" {
		t.Fatalf("connection beyond the limit: %v; want FATAL 53300 sorry, too many clients already", err)
	}

	canceled(t, conns[0], "cancel", endlessCount) // the CancelRequest is no session
	for i, c := range conns {
		if got := count(t, c, `SELECT 1`); got != 1 {
			t.Fatalf("session %d at the limit: SELECT 1 = %d", i, got)
		}
	}
	conns[2].Close(bounded(t))
	waitStatus(t, n, "the closed session is gone", func(st server.Status) bool { return st.Sessions == 2 })
	if got := count(t, connect(t, n), `SELECT 1`); got != 1 {
		t.Fatalf("session in the freed slot: SELECT 1 = %d", got)
	}
}

// TestLongReadsDoNotStarveOtherSessions: more endless reads than the old
// read pool had (8) run at once, and a new session's SELECT 1 is served
// meanwhile, as in PostgreSQL where each session has its own backend. When
// their clients go away, with or without Terminate and without a
// CancelRequest, the reads are interrupted and their sessions end.
func TestLongReadsDoNotStarveOtherSessions(t *testing.T) {
	const long = 10
	n := servertest.Start(t)
	var clients []*pgtest.Conn
	for i := 0; i < long; i++ {
		c, err := pgtest.Dial(bounded(t), pgtest.Config{Addr: n.PGAddr()})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Send([]string{`Query {"String": "` + endlessCount + `"}`}); err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
	}
	waitStatus(t, n, "every long read runs", func(st server.Status) bool { return st.ReadConnsInUse >= long })

	c := connect(t, n)
	mustExec(t, c, `SET statement_timeout = '20s'`) // a starved read fails (57014) instead of hanging
	var one int
	if err := c.QueryRow(bounded(t), `SELECT 1`).Scan(&one); err != nil || one != 1 {
		t.Fatalf("SELECT 1 beside %d long reads = %d, %v", long, one, err)
	}

	for i, cl := range clients {
		if i%2 == 0 {
			cl.Close() // Terminate, then close: pgx and psql go this way
		} else {
			cl.Abort() // a killed client or a lost network
		}
	}
	waitStatus(t, n, "the long reads of the gone clients stopped", func(st server.Status) bool {
		return st.Sessions == 1 && st.ReadConnsInUse == 0
	})
	if err := c.QueryRow(bounded(t), `SELECT 1`).Scan(&one); err != nil || one != 1 {
		t.Fatalf("SELECT 1 after = %d, %v", one, err)
	}
}

// TestCanceledReadsReleaseTheirConnections: after many interrupted reads
// every read connection is free again and the pool serves reads.
func TestCanceledReadsReleaseTheirConnections(t *testing.T) {
	n := servertest.Start(t, func(c *server.Config) { c.MaxConnections = 2 }) // a pool of 10
	c := connect(t, n)
	mustExec(t, c, `SET statement_timeout = '20ms'`)
	for i := 0; i < 30; i++ {
		_, err := c.Exec(bounded(t), endlessCount)
		wantCode(t, err, "57014")
	}
	mustExec(t, c, `SET statement_timeout = '20s'`) // a leaked connection: 57014, not a hang
	waitStatus(t, n, "no read connection is in use", func(st server.Status) bool { return st.ReadConnsInUse == 0 })
	mustExec(t, c, `BEGIN`) // cursors that hold all ten connections at once
	for i := 0; i < 10; i++ {
		name := "c" + string(rune('0'+i))
		mustExec(t, c, `DECLARE `+name+` CURSOR FOR SELECT 1 UNION ALL SELECT 2`)
		if got := count(t, c, `FETCH 1 FROM `+name); got != 1 {
			t.Fatalf("cursor %d: FETCH = %d", i, got)
		}
	}
	mustExec(t, c, `COMMIT`)
	if got := count(t, c, `SELECT 42`); got != 42 {
		t.Fatalf("SELECT 42 = %d", got)
	}
}

// healthz returns /healthz's status code and body.
func healthz(t *testing.T, n *servertest.Node) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(bounded(t), "GET", "http://"+n.HTTPAddr()+"/healthz", nil)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}} // no idle goroutines left
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestHealthzRunsSelectOne: /healthz answers 200 while the node can answer
// SELECT 1, and 503 with the reason while it cannot: here every read
// connection is held by a session's open cursors. A session's read waiting
// for a connection meanwhile ends at its statement_timeout (57014) instead
// of hanging.
func TestHealthzRunsSelectOne(t *testing.T) {
	n := servertest.Start(t, func(c *server.Config) { c.MaxConnections = 2 }) // a pool of 10
	if code, body := healthz(t, n); code != http.StatusOK {
		t.Fatalf("/healthz = %d %q, want 200", code, body)
	}
	hog := connect(t, n)
	mustExec(t, hog, `SET statement_timeout = '20s'`)
	mustExec(t, hog, `BEGIN`)
	for i := 0; i < 10; i++ {
		name := "c" + string(rune('0'+i))
		mustExec(t, hog, `DECLARE `+name+` CURSOR FOR SELECT 1 UNION ALL SELECT 2`)
		if got := count(t, hog, `FETCH 1 FROM `+name); got != 1 {
			t.Fatalf("cursor %d: FETCH = %d", i, got)
		}
	}
	waitStatus(t, n, "the cursors hold every read connection", func(st server.Status) bool { return st.ReadConnsInUse == 10 })
	code, body := healthz(t, n)
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "SELECT 1") {
		t.Fatalf("/healthz with no read connection free = %d %q, want 503 and the reason", code, body)
	}
	c := connect(t, n)
	mustExec(t, c, `SET statement_timeout = '300ms'`)
	_, err := c.Exec(bounded(t), `SELECT 1`)
	wantCode(t, err, "57014")

	mustExec(t, hog, `COMMIT`)
	if code, body := healthz(t, n); code != http.StatusOK {
		t.Fatalf("/healthz after the cursors closed = %d %q, want 200", code, body)
	}
	if got := count(t, c, `SELECT 1`); got != 1 {
		t.Fatalf("SELECT 1 = %d", got)
	}
}
