package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgraft/pgraft/pgwire/pgtest"
	"github.com/pgraft/pgraft/server/servertest"
)

// Statements that only an interrupt of SQLite ends.
const (
	endlessCount = `WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r`
	// endlessFirstRow returns its first row at once, then never another.
	endlessFirstRow = `WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT n FROM r WHERE n = 1 OR n < 0`
	endlessInsert   = `INSERT INTO ct SELECT n FROM (WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT n FROM r) AS s WHERE n < 0`
)

// canceled runs sql on c, ended by statement_timeout ("timeout": the
// session's is 200ms) or by CancelRequests ("cancel"), and checks the
// 57014 and its reason.
func canceled(t *testing.T, c *pgx.Conn, how, sql string) {
	t.Helper()
	// A hang fails the test instead of stalling it: pgx gives up at the
	// deadline, with an error that is not 57014.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if how == "cancel" {
		// CancelRequests every 200ms until the statement ends: a loaded
		// machine may start it after the first. Each has been handled
		// when CancelRequest returns, so none is left to hit the next one.
		stop, stopped := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(stopped)
			for {
				select {
				case <-stop:
					return
				case <-time.After(200 * time.Millisecond):
					c.PgConn().CancelRequest(ctx)
				}
			}
		}()
		defer func() { close(stop); <-stopped }()
	}
	_, err := c.Exec(ctx, sql) // "timeout": set by the caller, as SET fails in a failed block
	wantCode(t, err, "57014")
	reason := map[string]string{"timeout": "statement timeout", "cancel": "user request"}[how]
	if !strings.Contains(err.Error(), reason) {
		t.Fatalf("%s: error %v, want the reason %q", sql, err, reason)
	}
}

// TestCancelInterruptsSQLite: statement_timeout and CancelRequest interrupt
// SQLite itself, wherever the statement runs: a read on the read pool, a
// cursor's FETCH, and a write running speculatively inside BEGIN. Each ends
// with 57014 and its reason, a block becomes failed as in PostgreSQL, and
// the session and node go on working (the write gate and the connections
// are released).
func TestCancelInterruptsSQLite(t *testing.T) {
	n := servertest.Start(t)
	other := connect(t, n)
	mustExec(t, other, `CREATE TABLE ct (id bigint PRIMARY KEY)`)
	for _, how := range []string{"timeout", "cancel"} {
		t.Run(how, func(t *testing.T) {
			c := connect(t, n)
			if how == "timeout" {
				mustExec(t, c, `SET statement_timeout = '200ms'`)
			}
			canceled(t, c, how, endlessCount)
			if got := count(t, c, `SELECT 1`); got != 1 {
				t.Fatalf("SELECT 1 after the read = %d", got)
			}

			mustExec(t, c, `BEGIN`)
			mustExec(t, c, `DECLARE cur CURSOR FOR `+endlessFirstRow)
			if got := count(t, c, `FETCH 1 FROM cur`); got != 1 {
				t.Fatalf("first FETCH = %d", got)
			}
			canceled(t, c, how, `FETCH 1 FROM cur`)
			_, err := c.Exec(context.Background(), `SELECT 1`)
			wantCode(t, err, "25P02")
			mustExec(t, c, `ROLLBACK`)

			mustExec(t, c, `BEGIN`)
			mustExec(t, c, `INSERT INTO ct VALUES (1)`)
			canceled(t, c, how, endlessInsert)
			_, err = c.Exec(context.Background(), `INSERT INTO ct VALUES (2)`)
			wantCode(t, err, "25P02")
			mustExec(t, c, `ROLLBACK`)

			mustExec(t, other, `INSERT INTO ct VALUES (3)`) // the gate is free
			if got := count(t, c, `SELECT count(*) FROM ct`); got != 1 {
				t.Fatalf("rows = %d, want 1: a canceled block's write survived", got)
			}
			mustExec(t, other, `DELETE FROM ct`)
		})
	}
}

// TestSuspendedPortalObeysStatementTimeout: a portal suspended after a row
// limit keeps its rows streaming from a read connection; a later Execute of
// it is a statement of its own, which statement_timeout interrupts.
func TestSuspendedPortalObeysStatementTimeout(t *testing.T) {
	n := servertest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgtest.Dial(ctx, pgtest.Config{Addr: n.PGAddr(), Timeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	run := func(lines ...string) string {
		t.Helper()
		if err := c.Send(lines); err != nil {
			t.Fatal(err)
		}
		var until []string
		for _, l := range lines {
			if strings.HasPrefix(l, "Query ") || l == "Sync" {
				until = append(until, "ReadyForQuery")
			}
		}
		out, err := c.Until(until, pgtest.UntilOptions{KeepMessages: true})
		if err != nil {
			t.Fatalf("%v after %s", err, out)
		}
		return strings.Join(out, "\n")
	}
	run(`Query {"String": "SET statement_timeout = '300ms'"}`)
	out := run(`Query {"String": "BEGIN"}`,
		`Parse {"Query": "`+endlessFirstRow+`"}`,
		`Bind`,
		`Execute {"MaxRows": 1}`,
		`Execute`,
		`Sync`)
	if !strings.Contains(out, `"PortalSuspended"`) || !strings.Contains(out, `"Code":"57014"`) ||
		!strings.Contains(out, "statement timeout") {
		t.Fatalf("suspended portal, then Execute past the timeout:\n%s", out)
	}
	if out := run(`Query {"String": "ROLLBACK"}`, `Query {"String": "SELECT 1"}`); !strings.Contains(out, `"CommandTag":"SELECT 1"`) {
		t.Fatalf("after the timeout:\n%s", out)
	}
}
