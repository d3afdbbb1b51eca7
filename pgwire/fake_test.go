package pgwire_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/pgraft/pgraft/pgwire"
	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// The fake below understands a tiny command language, one command per
// ';'-separated statement, so that tests read as conversations:
//
//	rows N          one int8 column "n", rows 1..N, tag "SELECT N"
//	echo T1 T2 ...  parameters of the named types (int8, text, ...); one row
//	                holding the decoded arguments, columns of the same types
//	value           one row with fakeSession.value under fakeSession.valueOID
//	set NAME VALUE  changes a reported parameter; tag "SET"
//	begin / commit  moves TxStatus between 'I' and 'T'
//	fail CODE       Execute fails with that SQLSTATE
//	sleep           Execute blocks until Cancel or ctx, then fails 57014
//	panic           Execute panics
//	exec            no rows; tag "INSERT 0 1"
//	param           a statement with one parameter, for simple-protocol errors
// A statement starting with "syntax" fails in Parse with 42601. Comments
// ("-- ...") and blank statements are dropped.

var typeOIDs = map[string]uint32{
	"bool": 16, "bytea": 17, "int8": 20, "int2": 21, "int4": 23, "text": 25, "oid": 26,
	"json": 114, "float4": 700, "float8": 701, "unknown": 0, "varchar": 1043, "date": 1082,
	"timestamp": 1114, "timestamptz": 1184, "numeric": 1700, "uuid": 2950, "jsonb": 3802,
}

type fakeHandler struct {
	mu       sync.Mutex
	sessions []*fakeSession
	infos    []pgwire.StartupInfo
	newErr   error // returned by NewSession when set
	safe     bool  // sessions refuse "sleep" and "panic" (for fuzzing)
}

func (h *fakeHandler) NewSession(_ context.Context, info pgwire.StartupInfo) (pgwire.Session, error) {
	if h.newErr != nil {
		return nil, h.newErr
	}
	s := &fakeSession{
		params: map[string]string{
			"server_version": "15.18", "client_encoding": "UTF8", "DateStyle": "ISO, MDY",
			"standard_conforming_strings": "on", "integer_datetimes": "on", "TimeZone": "Etc/UTC",
		},
		tx:       'I',
		cancelCh: make(chan struct{}, 1),
	}
	h.mu.Lock()
	s.safe = h.safe
	h.sessions = append(h.sessions, s)
	h.infos = append(h.infos, info)
	h.mu.Unlock()
	return s, nil
}

func (h *fakeHandler) session(i int) *fakeSession {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.sessions[i]
}

type fakeSession struct {
	mu       sync.Mutex
	params   map[string]string
	tx       byte
	cancelCh chan struct{}
	closed   int
	lastArgs []any
	value    any
	valueOID uint32
	sleeping chan struct{} // closed when a sleep statement starts, if set
	safe     bool
}

func (s *fakeSession) ParameterStatus() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.params)
}

func (s *fakeSession) TxStatus() byte { return s.tx }

func (s *fakeSession) Sync(context.Context) error { return nil }

func (s *fakeSession) Cancel() {
	select {
	case s.cancelCh <- struct{}{}:
	default:
	}
}

func (s *fakeSession) Close() {
	s.mu.Lock()
	s.closed++
	s.mu.Unlock()
}

func (s *fakeSession) args() []any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastArgs
}

func (s *fakeSession) setValue(oid uint32, v any) {
	s.mu.Lock()
	s.valueOID, s.value = oid, v
	s.mu.Unlock()
}

// sleepStarted returns a channel closed when the next sleep statement starts.
func (s *fakeSession) sleepStarted() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sleeping = make(chan struct{})
	return s.sleeping
}

func (s *fakeSession) closeCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

func (s *fakeSession) Parse(_ context.Context, sql string, paramOIDs []uint32) ([]pgwire.Statement, error) {
	var out []pgwire.Statement
	for _, part := range strings.Split(sql, ";") {
		part = strings.TrimSpace(part)
		if part == "" || strings.HasPrefix(part, "--") {
			continue
		}
		if strings.HasPrefix(part, "syntax") {
			return nil, &pgerror.Error{Code: pgerror.SyntaxError, Message: "syntax error at or near \"syntax\"", Position: 1}
		}
		words := strings.Fields(part)
		if need := map[string]int{"rows": 2, "fail": 2, "set": 3}[words[0]]; len(words) < need {
			return nil, pgerror.New(pgerror.SyntaxError, "fake: %q needs %d words", words[0], need)
		}
		out = append(out, &fakeStmt{s: s, words: words, clientOIDs: paramOIDs})
	}
	return out, nil
}

type fakeStmt struct {
	s          *fakeSession
	words      []string
	clientOIDs []uint32
}

func (st *fakeStmt) ParamOIDs() []uint32 {
	switch st.words[0] {
	case "echo":
		oids := make([]uint32, len(st.words)-1)
		for i, w := range st.words[1:] {
			oids[i] = typeOIDs[w]
		}
		return oids
	case "param":
		return []uint32{20}
	}
	return nil
}

func (st *fakeStmt) Columns(context.Context) ([]pgwire.Column, error) {
	switch st.words[0] {
	case "rows":
		return []pgwire.Column{{Name: "n", TypeOID: 20, TypeSize: 8, TypeMod: -1}}, nil
	case "echo":
		var cols []pgwire.Column
		for i, oid := range st.ParamOIDs() {
			if oid == 0 {
				oid = 25
			}
			cols = append(cols, pgwire.Column{Name: "c" + strconv.Itoa(i+1), TypeOID: oid, TypeSize: -1, TypeMod: -1})
		}
		return cols, nil
	case "value":
		st.s.mu.Lock()
		defer st.s.mu.Unlock()
		return []pgwire.Column{{Name: "v", TypeOID: st.s.valueOID, TypeSize: -1, TypeMod: -1}}, nil
	}
	return nil, nil
}

func (st *fakeStmt) Bind(ctx context.Context, args []any) (pgwire.Portal, error) {
	if len(args) != len(st.ParamOIDs()) {
		return nil, fmt.Errorf("fake: %d args for %d params", len(args), len(st.ParamOIDs()))
	}
	cols, _ := st.Columns(ctx)
	p := &fakePortal{st: st, cols: cols}
	switch st.words[0] {
	case "rows":
		n, _ := strconv.Atoi(st.words[1])
		n = min(n, 50000) // fuzz input may ask for billions
		for i := 1; i <= n; i++ {
			p.rows = append(p.rows, []any{int64(i)})
		}
		p.tag = "SELECT " + st.words[1]
	case "echo":
		st.s.mu.Lock()
		st.s.lastArgs = args
		st.s.mu.Unlock()
		p.rows, p.tag = [][]any{args}, "SELECT 1"
	case "value":
		st.s.mu.Lock()
		p.rows, p.tag = [][]any{{st.s.value}}, "SELECT 1"
		st.s.mu.Unlock()
	case "set":
		p.tag = "SET"
	case "begin":
		p.tag = "BEGIN"
	case "commit":
		p.tag = "COMMIT"
	default:
		p.tag = "INSERT 0 1"
	}
	return p, nil
}

func (st *fakeStmt) Close() {}

type fakePortal struct {
	st   *fakeStmt
	cols []pgwire.Column
	rows [][]any
	pos  int
	tag  string
}

func (p *fakePortal) Columns() []pgwire.Column { return p.cols }
func (p *fakePortal) Close()                   {}

func (p *fakePortal) Execute(ctx context.Context, maxRows int, w pgwire.RowWriter) (string, bool, error) {
	s := p.st.s
	if s.safe && (p.st.words[0] == "sleep" || p.st.words[0] == "panic") {
		return "", true, pgerror.New(pgerror.FeatureNotSupported, "not while fuzzing")
	}
	switch p.st.words[0] {
	case "fail":
		return "", true, pgerror.New(p.st.words[1], "fake failure %s", p.st.words[1])
	case "panic":
		panic("fake panic")
	case "set":
		s.mu.Lock()
		s.params[p.st.words[1]] = p.st.words[2]
		s.mu.Unlock()
	case "begin":
		s.tx = 'T'
	case "commit":
		s.tx = 'I'
	case "sleep":
		s.mu.Lock()
		if s.sleeping != nil {
			close(s.sleeping)
			s.sleeping = nil
		}
		s.mu.Unlock()
		select {
		case <-s.cancelCh:
		case <-ctx.Done():
		}
		return "", true, pgerror.New(pgerror.QueryCanceled, "canceling statement due to user request")
	}
	for n := 0; p.pos < len(p.rows); n++ {
		if maxRows > 0 && n == maxRows {
			return "", false, nil
		}
		if err := w.WriteRow(p.rows[p.pos]); err != nil {
			return "", true, err
		}
		p.pos++
	}
	return p.tag, true, nil
}

var (
	_ pgwire.Handler   = (*fakeHandler)(nil)
	_ pgwire.Session   = (*fakeSession)(nil)
	_ pgwire.Statement = (*fakeStmt)(nil)
	_ pgwire.Portal    = (*fakePortal)(nil)
)

// logRecorder keeps what the server logged at Error level, so tests can
// assert that nothing panicked.
type logRecorder struct {
	mu   sync.Mutex
	msgs []string
}

func (r *logRecorder) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelError }
func (r *logRecorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	r.msgs = append(r.msgs, rec.Message)
	r.mu.Unlock()
	return nil
}
func (r *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *logRecorder) WithGroup(string) slog.Handler      { return r }

func (r *logRecorder) count(prefix string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, m := range r.msgs {
		if strings.HasPrefix(m, prefix) {
			n++
		}
	}
	return n
}

type testServer struct {
	srv  *pgwire.Server
	h    *fakeHandler
	addr string
	logs *logRecorder
}

// startServer serves a fakeHandler on 127.0.0.1:0 until the test ends.
func startServer(t testing.TB, configure func(*pgwire.Server)) *testServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{h: &fakeHandler{}, addr: l.Addr().String(), logs: &logRecorder{}}
	ts.srv = &pgwire.Server{Handler: ts.h, Logger: slog.New(ts.logs)}
	if configure != nil {
		configure(ts.srv)
	}
	done := make(chan error, 1)
	go func() { done <- ts.srv.Serve(l) }()
	t.Cleanup(func() {
		ts.srv.Close()
		if err := <-done; err != pgwire.ErrServerClosed {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
	})
	return ts
}

// dial opens a raw TCP connection with a deadline that fails a hung test.
func (ts *testServer) dial(t testing.TB) net.Conn {
	t.Helper()
	nc, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	nc.SetDeadline(time.Now().Add(20 * time.Second))
	t.Cleanup(func() { nc.Close() })
	return nc
}

// startupMessage is a StartupMessage with the given parameters.
func startupMessage(params map[string]string) *pgproto3.StartupMessage {
	return &pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber, Parameters: params}
}

// connect opens a raw frontend past startup and returns it with the startup
// messages the server sent (through the first ReadyForQuery).
func (ts *testServer) connect(t testing.TB) (*pgproto3.Frontend, net.Conn, []pgproto3.BackendMessage) {
	t.Helper()
	nc := ts.dial(t)
	fe := pgproto3.NewFrontend(nc, nc)
	fe.Send(startupMessage(map[string]string{"user": "alice", "application_name": "test"}))
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	return fe, nc, receiveUntilReady(t, fe)
}

// receiveUntilReady reads messages through the next ReadyForQuery, copying
// each (pgproto3 reuses them).
func receiveUntilReady(t testing.TB, fe *pgproto3.Frontend) []pgproto3.BackendMessage {
	t.Helper()
	var got []pgproto3.BackendMessage
	for {
		msg, err := fe.Receive()
		if err != nil {
			t.Fatalf("receive after %s: %v", describe(got), err)
		}
		got = append(got, copyMessage(t, msg))
		switch m := msg.(type) {
		case *pgproto3.ReadyForQuery:
			return got
		case *pgproto3.ErrorResponse:
			if m.Severity == "FATAL" {
				return got
			}
		}
	}
}

// copyMessage round-trips msg through its encoding, since pgproto3 reuses
// message structs between Receive calls.
func copyMessage(t testing.TB, msg pgproto3.BackendMessage) pgproto3.BackendMessage {
	t.Helper()
	buf, err := msg.Encode(nil)
	if err != nil {
		t.Fatal(err)
	}
	fe := pgproto3.NewFrontend(bytes.NewReader(buf), io.Discard)
	out, err := fe.Receive()
	if err != nil {
		t.Fatalf("re-decode %T: %v", msg, err)
	}
	return out
}

// describe renders messages compactly: "RowDescription DataRow(1) ...".
func describe(msgs []pgproto3.BackendMessage) string {
	var parts []string
	for _, m := range msgs {
		switch m := m.(type) {
		case *pgproto3.DataRow:
			vals := make([]string, len(m.Values))
			for i, v := range m.Values {
				if v == nil {
					vals[i] = "NULL"
				} else {
					vals[i] = string(v)
				}
			}
			parts = append(parts, "DataRow("+strings.Join(vals, ",")+")")
		case *pgproto3.CommandComplete:
			parts = append(parts, "CommandComplete("+string(m.CommandTag)+")")
		case *pgproto3.ErrorResponse:
			parts = append(parts, "ErrorResponse("+m.Code+")")
		case *pgproto3.ReadyForQuery:
			parts = append(parts, "ReadyForQuery("+string(m.TxStatus)+")")
		case *pgproto3.ParameterStatus:
			parts = append(parts, "ParameterStatus("+m.Name+"="+m.Value+")")
		case *pgproto3.ParameterDescription:
			parts = append(parts, fmt.Sprintf("ParameterDescription%v", m.ParameterOIDs))
		default:
			parts = append(parts, strings.TrimPrefix(fmt.Sprintf("%T", m), "*pgproto3."))
		}
	}
	return strings.Join(parts, " ")
}

// roundTrip sends msgs, flushes, and reads through the next ReadyForQuery.
func roundTrip(t testing.TB, fe *pgproto3.Frontend, msgs ...pgproto3.FrontendMessage) string {
	t.Helper()
	for _, m := range msgs {
		fe.Send(m)
	}
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	return describe(receiveUntilReady(t, fe))
}

// rawPacket frames a startup-phase packet (no type byte).
func rawPacket(body ...uint32) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(4+4*len(body)))
	for _, v := range body {
		b = binary.BigEndian.AppendUint32(b, v)
	}
	return b
}
