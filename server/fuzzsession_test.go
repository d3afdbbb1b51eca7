package server_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// fuzzStats counts what a fuzzer's sessions got back. Safe for concurrent
// use by the sessions of one run.
type fuzzStats struct {
	sent, failed atomic.Int64
	internal     atomic.Int64 // XX000 answers: a statement not understood should say why
	codes        sync.Map     // SQLSTATE → *atomic.Int64
}

// summary lists the SQLSTATEs seen with their counts, sorted.
func (s *fuzzStats) summary() string {
	var out []string
	s.codes.Range(func(k, v any) bool {
		out = append(out, fmt.Sprintf("%s×%d", k, v.(*atomic.Int64).Load()))
		return true
	})
	sort.Strings(out)
	return strings.Join(out, " ")
}

// runFuzzSession sends n statements from next on one session of dsn (simple
// protocol, with setup run at connect), counting their answers in st.
// Errors are expected (they are most of the point); a connection lost
// without a FATAL is a failure. The first logInternal XX000 answers are
// logged under name.
func runFuzzSession(t *testing.T, name, dsn, setup string, next func() string, n int, st *fuzzStats, logInternal int64) {
	t.Helper()
	ctx := context.Background()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Error(err)
		return
	}
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	var conn *pgx.Conn
	open := func() bool {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		conn, err = pgx.ConnectConfig(cctx, cfg)
		if err == nil {
			_, err = conn.Exec(cctx, setup)
		}
		if err != nil {
			t.Errorf("%s: connect: %v", name, err)
			return false
		}
		return true
	}
	if !open() {
		return
	}
	defer func() { conn.Close(context.Background()) }()
	for range n {
		sql := next()
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		_, err := conn.Exec(sctx, sql)
		cancel()
		st.sent.Add(1)
		if err == nil {
			continue
		}
		st.failed.Add(1)
		code := "conn"
		var pe *pgconn.PgError
		if errors.As(err, &pe) {
			code = pe.Code
		}
		v, _ := st.codes.LoadOrStore(code, new(atomic.Int64))
		v.(*atomic.Int64).Add(1)
		switch {
		case code == "XX000":
			if st.internal.Add(1) <= logInternal {
				t.Logf("%s: internal error for %.300q: %v", name, sql, err)
			}
		case conn.IsClosed():
			if pe == nil || pe.Severity != "FATAL" {
				t.Errorf("%s: the connection broke on %.300q: %v", name, sql, err)
			}
			if !open() {
				return
			}
		}
	}
}
