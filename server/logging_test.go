package server_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pgraft/pgraft/server"
	"github.com/pgraft/pgraft/server/servertest"
)

// syncBuffer is a bytes.Buffer a logger and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestConnectionAndSlowStatementLog: with LogConnections a session's
// start and end are logged at info; with LogMinDuration every statement
// that ran that long is logged with its text, duration and SQLSTATE.
func TestConnectionAndSlowStatementLog(t *testing.T) {
	var buf syncBuffer
	n := servertest.Start(t, func(cfg *server.Config) {
		cfg.Logger = slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
		cfg.LogConnections = true
		cfg.LogMinDuration = time.Nanosecond
	})
	c := connect(t, n)
	mustExec(t, c, "CREATE TABLE logged (id int PRIMARY KEY)")
	mustExec(t, c, "INSERT INTO logged VALUES (1)")
	_, err := c.Exec(context.Background(), "INSERT INTO logged VALUES (1)")
	wantCode(t, err, "23505")
	c.Close(context.Background())
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(buf.String(), `"msg":"disconnection"`) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	out := buf.String()
	for _, want := range []string{
		`"msg":"connection authorized"`, `"user":"postgres"`, `"msg":"disconnection"`, `"session_time"`,
		`"msg":"statement"`, `"statement":"CREATE TABLE logged (id int PRIMARY KEY)"`, `"sqlstate":"00000"`,
		`"statement":"INSERT INTO logged VALUES (1)"`, `"sqlstate":"23505"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
}
