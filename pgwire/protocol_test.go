package pgwire_test

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/pgraft/pgraft/pgwire"
	"github.com/pgraft/pgraft/pgwire/pgerror"
)

func TestStartupSendsParametersKeyAndReady(t *testing.T) {
	ts := startServer(t, nil)
	_, _, msgs := ts.connect(t)
	want := "AuthenticationOk ParameterStatus(client_encoding=UTF8) ParameterStatus(DateStyle=ISO, MDY) " +
		"ParameterStatus(integer_datetimes=on) ParameterStatus(server_version=15.18) " +
		"ParameterStatus(standard_conforming_strings=on) ParameterStatus(TimeZone=Etc/UTC) BackendKeyData ReadyForQuery(I)"
	if got := describe(msgs); got != want {
		t.Fatalf("startup:\n got %s\nwant %s", got, want)
	}
	key := msgs[len(msgs)-2].(*pgproto3.BackendKeyData)
	_, _, _ = ts.connect(t)
	ts.h.mu.Lock()
	first, second := ts.h.infos[0], ts.h.infos[1]
	ts.h.mu.Unlock()
	if first.User != "alice" || first.Database != "alice" || first.Params["application_name"] != "test" {
		t.Errorf("StartupInfo = %+v; want user alice, database defaulting to user, params kept", first)
	}
	if first.ProcessID == 0 || first.ProcessID == second.ProcessID {
		t.Errorf("process ids %d and %d: want non-zero and distinct", first.ProcessID, second.ProcessID)
	}
	if key.ProcessID != first.ProcessID || binary.BigEndian.Uint32(key.SecretKey) != first.SecretKey {
		t.Errorf("BackendKeyData %d/%x does not match StartupInfo %d/%x", key.ProcessID, key.SecretKey, first.ProcessID, first.SecretKey)
	}
}

func TestSSLRequestAndGSSENCRequestAnsweredN(t *testing.T) {
	ts := startServer(t, nil)
	nc := ts.dial(t)
	for _, code := range []uint32{80877104, 80877103} { // GSSENCRequest, then SSLRequest
		if _, err := nc.Write(rawPacket(code)); err != nil {
			t.Fatal(err)
		}
		var b [1]byte
		if _, err := io.ReadFull(nc, b[:]); err != nil || b[0] != 'N' {
			t.Fatalf("answer to request %d: %q, %v; want N", code, b[0], err)
		}
	}
	fe := pgproto3.NewFrontend(nc, nc)
	fe.Send(startupMessage(map[string]string{"user": "bob"}))
	fe.Flush()
	msgs := receiveUntilReady(t, fe)
	if _, ok := msgs[len(msgs)-1].(*pgproto3.ReadyForQuery); !ok {
		t.Fatalf("startup after N answers: %s", describe(msgs))
	}
}

func TestStartupNegotiatesProtocolVersion(t *testing.T) {
	ts := startServer(t, nil)
	nc := ts.dial(t)
	body := binary.BigEndian.AppendUint32(nil, 3<<16|2)
	for _, s := range []string{"user", "carol", "_pq_.fancy", "1", ""} {
		body = append(append(body, s...), 0)
	}
	nc.Write(append(binary.BigEndian.AppendUint32(nil, uint32(4+len(body))), body...))
	fe := pgproto3.NewFrontend(nc, nc)
	msgs := receiveUntilReady(t, fe)
	npv, ok := msgs[0].(*pgproto3.NegotiateProtocolVersion)
	if !ok || npv.NewestMinorProtocol != 0 || len(npv.UnrecognizedOptions) != 1 || npv.UnrecognizedOptions[0] != "_pq_.fancy" {
		t.Fatalf("first message %#v; want NegotiateProtocolVersion 0 [_pq_.fancy]", msgs[0])
	}
	if _, ok := msgs[len(msgs)-1].(*pgproto3.ReadyForQuery); !ok {
		t.Fatalf("startup did not continue: %s", describe(msgs))
	}
}

func TestStartupErrorsAreFatal(t *testing.T) {
	tests := []struct {
		name     string
		params   map[string]string
		newErr   error
		wantCode string
	}{
		{"missing user", map[string]string{"database": "x"}, nil, "28000"},
		{"handler refuses with SQLSTATE", map[string]string{"user": "u"}, pgerror.New("3D000", "database \"u\" does not exist"), "3D000"},
		{"handler fails otherwise", map[string]string{"user": "u"}, errors.New("disk on fire"), "XX000"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := startServer(t, nil)
			ts.h.newErr = tc.newErr
			nc := ts.dial(t)
			fe := pgproto3.NewFrontend(nc, nc)
			fe.Send(startupMessage(tc.params))
			fe.Flush()
			msgs := receiveUntilReady(t, fe)
			er, ok := msgs[len(msgs)-1].(*pgproto3.ErrorResponse)
			if !ok || er.Code != tc.wantCode || er.Severity != "FATAL" {
				t.Fatalf("got %s; want FATAL %s", describe(msgs), tc.wantCode)
			}
			if er.Code == "XX000" && strings.Contains(er.Message, "fire") {
				t.Errorf("internal error text leaked to the client: %q", er.Message)
			}
			if _, err := fe.Receive(); err == nil {
				t.Fatal("connection still open after FATAL")
			}
		})
	}
}

func TestSimpleQuery(t *testing.T) {
	tests := []struct{ name, sql, want string }{
		{"several statements each complete", "rows 2; exec; rows 0",
			"RowDescription DataRow(1) DataRow(2) CommandComplete(SELECT 2) CommandComplete(INSERT 0 1) " +
				"RowDescription CommandComplete(SELECT 0) ReadyForQuery(I)"},
		{"stops at the first error", "rows 1; fail 23505; rows 1",
			"RowDescription DataRow(1) CommandComplete(SELECT 1) ErrorResponse(23505) ReadyForQuery(I)"},
		{"parse error", "syntax error here", "ErrorResponse(42601) ReadyForQuery(I)"},
		{"empty string", "", "EmptyQueryResponse ReadyForQuery(I)"},
		{"comment only", "-- ping", "EmptyQueryResponse ReadyForQuery(I)"},
		{"parameters are not allowed", "param", "ErrorResponse(42P02) ReadyForQuery(I)"},
		{"transaction status follows the session", "begin", "CommandComplete(BEGIN) ReadyForQuery(T)"},
	}
	ts := startServer(t, nil)
	fe, _, _ := ts.connect(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := roundTrip(t, fe, &pgproto3.Query{String: tc.sql}); got != tc.want {
				t.Fatalf("%q:\n got %s\nwant %s", tc.sql, got, tc.want)
			}
		})
	}
}

func TestParameterStatusChangeSentBeforeReadyForQuery(t *testing.T) {
	ts := startServer(t, nil)
	fe, _, _ := ts.connect(t)
	got := roundTrip(t, fe, &pgproto3.Query{String: "set application_name app2; set TimeZone Etc/UTC"})
	want := "CommandComplete(SET) CommandComplete(SET) ParameterStatus(application_name=app2) ReadyForQuery(I)"
	if got != want {
		t.Fatalf("got %s\nwant %s (unchanged TimeZone must not be resent)", got, want)
	}
	if got := roundTrip(t, fe, &pgproto3.Query{String: "rows 0"}); strings.Contains(got, "ParameterStatus") {
		t.Fatalf("parameter resent without a change: %s", got)
	}
}

func TestExtendedQuery(t *testing.T) {
	type msgs = []pgproto3.FrontendMessage
	tests := []struct {
		name string
		send msgs
		want string
	}{
		{"row limit suspends the portal", msgs{
			&pgproto3.Parse{Query: "rows 5"}, &pgproto3.Bind{},
			&pgproto3.Execute{MaxRows: 2}, &pgproto3.Execute{MaxRows: 2}, &pgproto3.Execute{}, &pgproto3.Sync{}},
			"ParseComplete BindComplete DataRow(1) DataRow(2) PortalSuspended DataRow(3) DataRow(4) PortalSuspended " +
				"DataRow(5) CommandComplete(SELECT 5) ReadyForQuery(I)"},
		{"describe statement", msgs{
			&pgproto3.Parse{Name: "s1", Query: "echo int8 unknown"}, &pgproto3.Describe{ObjectType: 'S', Name: "s1"}, &pgproto3.Sync{}},
			"ParseComplete ParameterDescription[20 25] RowDescription ReadyForQuery(I)"},
		{"describe statement without rows", msgs{
			&pgproto3.Parse{Name: "s2", Query: "exec"}, &pgproto3.Describe{ObjectType: 'S', Name: "s2"}, &pgproto3.Sync{}},
			"ParseComplete ParameterDescription[] NoData ReadyForQuery(I)"},
		{"describe portal and execute", msgs{
			&pgproto3.Bind{PreparedStatement: "s1", Parameters: [][]byte{[]byte("7"), nil}},
			&pgproto3.Describe{ObjectType: 'P'}, &pgproto3.Execute{}, &pgproto3.Sync{}},
			"BindComplete RowDescription DataRow(7,NULL) CommandComplete(SELECT 1) ReadyForQuery(I)"},
		{"empty query", msgs{
			&pgproto3.Parse{Query: " "}, &pgproto3.Bind{}, &pgproto3.Describe{ObjectType: 'S'},
			&pgproto3.Describe{ObjectType: 'P'}, &pgproto3.Execute{}, &pgproto3.Sync{}},
			"ParseComplete BindComplete ParameterDescription[] NoData NoData EmptyQueryResponse ReadyForQuery(I)"},
		{"error skips to sync", msgs{
			&pgproto3.Parse{Query: "fail 23505"}, &pgproto3.Bind{}, &pgproto3.Execute{},
			&pgproto3.Parse{Query: "rows 1"}, &pgproto3.Bind{}, &pgproto3.Execute{}, &pgproto3.Sync{}},
			"ParseComplete BindComplete ErrorResponse(23505) ReadyForQuery(I)"},
		{"duplicate statement name", msgs{&pgproto3.Parse{Name: "s1", Query: "exec"}, &pgproto3.Sync{}},
			"ErrorResponse(42P05) ReadyForQuery(I)"},
		{"several statements in one Parse", msgs{&pgproto3.Parse{Query: "exec; exec"}, &pgproto3.Sync{}},
			"ErrorResponse(42601) ReadyForQuery(I)"},
		{"unknown statement", msgs{&pgproto3.Bind{PreparedStatement: "nope"}, &pgproto3.Sync{}},
			"ErrorResponse(26000) ReadyForQuery(I)"},
		{"unknown portal", msgs{&pgproto3.Execute{Portal: "nope"}, &pgproto3.Sync{}},
			"ErrorResponse(34000) ReadyForQuery(I)"},
		{"wrong parameter count", msgs{&pgproto3.Bind{PreparedStatement: "s1"}, &pgproto3.Sync{}},
			"ErrorResponse(08P01) ReadyForQuery(I)"},
		{"bad integer parameter", msgs{
			&pgproto3.Bind{PreparedStatement: "s1", Parameters: [][]byte{[]byte("x"), nil}}, &pgproto3.Sync{}},
			"ErrorResponse(22P02) ReadyForQuery(I)"},
		{"close absent objects", msgs{&pgproto3.Close{ObjectType: 'S', Name: "zz"}, &pgproto3.Close{ObjectType: 'P', Name: "zz"}, &pgproto3.Sync{}},
			"CloseComplete CloseComplete ReadyForQuery(I)"},
		{"closed statement is gone", msgs{&pgproto3.Close{ObjectType: 'S', Name: "s2"}, &pgproto3.Describe{ObjectType: 'S', Name: "s2"}, &pgproto3.Sync{}},
			"CloseComplete ErrorResponse(26000) ReadyForQuery(I)"},
		{"portal closed at sync outside a transaction", msgs{
			&pgproto3.Bind{DestinationPortal: "p1", PreparedStatement: "s1", Parameters: [][]byte{[]byte("1"), nil}},
			&pgproto3.Sync{}, &pgproto3.Execute{Portal: "p1"}, &pgproto3.Sync{}},
			"BindComplete ReadyForQuery(I)"}, // the second group is checked below
	}
	ts := startServer(t, nil)
	fe, _, _ := ts.connect(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := roundTrip(t, fe, tc.send...); got != tc.want {
				t.Fatalf("\n got %s\nwant %s", got, tc.want)
			}
		})
	}
	if got := describe(receiveUntilReady(t, fe)); got != "ErrorResponse(34000) ReadyForQuery(I)" {
		t.Fatalf("Execute of a portal after Sync: %s", got)
	}
}

func TestExtendedPortalSurvivesSyncInTransaction(t *testing.T) {
	ts := startServer(t, nil)
	fe, _, _ := ts.connect(t)
	roundTrip(t, fe, &pgproto3.Query{String: "begin"})
	got := roundTrip(t, fe, &pgproto3.Parse{Query: "rows 3"}, &pgproto3.Bind{DestinationPortal: "c"},
		&pgproto3.Execute{Portal: "c", MaxRows: 1}, &pgproto3.Sync{})
	if got != "ParseComplete BindComplete DataRow(1) PortalSuspended ReadyForQuery(T)" {
		t.Fatalf("first fetch: %s", got)
	}
	got = roundTrip(t, fe, &pgproto3.Execute{Portal: "c"}, &pgproto3.Sync{})
	if got != "DataRow(2) DataRow(3) CommandComplete(SELECT 3) ReadyForQuery(T)" {
		t.Fatalf("second fetch: %s", got)
	}
}

func TestPipelinedSyncs(t *testing.T) {
	ts := startServer(t, nil)
	fe, _, _ := ts.connect(t)
	for i, sql := range []string{"rows 1", "fail 40001", "rows 2"} {
		fe.Send(&pgproto3.Parse{Query: sql})
		fe.Send(&pgproto3.Bind{ResultFormatCodes: []int16{int16(i % 2)}})
		fe.Send(&pgproto3.Execute{})
		fe.Send(&pgproto3.Sync{})
	}
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"ParseComplete BindComplete DataRow(1) CommandComplete(SELECT 1) ReadyForQuery(I)",
		"ParseComplete BindComplete ErrorResponse(40001) ReadyForQuery(I)",
		"ParseComplete BindComplete DataRow(1) DataRow(2) CommandComplete(SELECT 2) ReadyForQuery(I)",
	}
	for i, w := range want {
		if got := describe(receiveUntilReady(t, fe)); got != w {
			t.Fatalf("group %d:\n got %s\nwant %s", i, got, w)
		}
	}
}

func TestFlushSendsPendingOutput(t *testing.T) {
	ts := startServer(t, nil)
	fe, _, _ := ts.connect(t)
	fe.Send(&pgproto3.Parse{Query: "rows 1"})
	fe.Send(&pgproto3.Flush{})
	fe.Flush()
	msg, err := fe.Receive()
	if _, ok := msg.(*pgproto3.ParseComplete); !ok || err != nil {
		t.Fatalf("after Flush got %T, %v; want ParseComplete", msg, err)
	}
}

func TestTerminateAndEOFCloseTheSession(t *testing.T) {
	ts := startServer(t, nil)
	fe, _, _ := ts.connect(t)
	fe.Send(&pgproto3.Terminate{})
	fe.Flush()
	if _, err := fe.Receive(); err == nil {
		t.Fatal("connection still open after Terminate")
	}
	_, nc, _ := ts.connect(t)
	nc.Close()
	waitFor(t, "both sessions closed", func() bool {
		return ts.h.session(0).closeCount() == 1 && ts.h.session(1).closeCount() == 1
	})
}

func TestGarbageClosesOnlyThatConnection(t *testing.T) {
	tests := []struct {
		name, wantCode string
		bytes          []byte
	}{
		{"unknown message type", "08P01", []byte{'!', 0, 0, 0, 4}},
		{"negative length", "08P01", []byte{'Q', 0xff, 0xff, 0xff, 0xff}},
		{"malformed body", "08P01", []byte{'D', 0, 0, 0, 5, 'S'}},
		{"message over the limit", "54000", []byte{'Q', 0, 0, 1, 0}},
		{"password message outside authentication", "08P01", []byte{'p', 0, 0, 0, 6, 'x', 0}},
	}
	ts := startServer(t, func(s *pgwire.Server) { s.MaxMessageSize = 200 })
	good, _, _ := ts.connect(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fe, nc, _ := ts.connect(t)
			nc.Write(tc.bytes)
			msgs := receiveUntilReady(t, fe)
			er, ok := msgs[len(msgs)-1].(*pgproto3.ErrorResponse)
			if !ok || er.Code != tc.wantCode || er.Severity != "FATAL" {
				t.Fatalf("got %s; want FATAL %s", describe(msgs), tc.wantCode)
			}
			if _, err := fe.Receive(); err == nil {
				t.Fatal("connection still open")
			}
			if got := roundTrip(t, good, &pgproto3.Query{String: "rows 1"}); !strings.HasSuffix(got, "ReadyForQuery(I)") {
				t.Fatalf("other connection broken: %s", got)
			}
		})
	}
}

func TestPanicClosesOnlyThatConnection(t *testing.T) {
	ts := startServer(t, nil)
	good, _, _ := ts.connect(t)
	fe, _, _ := ts.connect(t)
	msgs := describe(receiveAfter(t, fe, &pgproto3.Query{String: "panic"}))
	if msgs != "ErrorResponse(XX000)" {
		t.Fatalf("after panic: %s", msgs)
	}
	if _, err := fe.Receive(); err == nil {
		t.Fatal("panicking connection still open")
	}
	if n := ts.logs.count("panic in connection"); n != 1 {
		t.Errorf("logged %d panics, want 1", n)
	}
	if got := roundTrip(t, good, &pgproto3.Query{String: "rows 1"}); !strings.HasSuffix(got, "ReadyForQuery(I)") {
		t.Fatalf("other connection broken: %s", got)
	}
	waitFor(t, "panicked session closed", func() bool { return ts.h.session(1).closeCount() == 1 })
}

// receiveAfter sends msg and reads until ReadyForQuery or a FATAL error.
func receiveAfter(t *testing.T, fe *pgproto3.Frontend, msg pgproto3.FrontendMessage) []pgproto3.BackendMessage {
	t.Helper()
	fe.Send(msg)
	fe.Flush()
	return receiveUntilReady(t, fe)
}

func TestCancelRequestReachesSession(t *testing.T) {
	ts := startServer(t, nil)
	fe, _, startup := ts.connect(t)
	key := startup[len(startup)-2].(*pgproto3.BackendKeyData)
	started := ts.h.session(0).sleepStarted()
	fe.Send(&pgproto3.Query{String: "sleep"})
	fe.Flush()
	<-started

	wrong := ts.dial(t) // a wrong key must not cancel
	wrong.Write(rawPacket(80877102, key.ProcessID, binary.BigEndian.Uint32(key.SecretKey)^1))
	if _, err := wrong.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("CancelRequest with a wrong key answered %v; want EOF", err)
	}
	cancel := ts.dial(t)
	cancel.Write(rawPacket(80877102, key.ProcessID, binary.BigEndian.Uint32(key.SecretKey)))
	if _, err := cancel.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("CancelRequest answered %v; want nothing and EOF", err)
	}
	if got := describe(receiveUntilReady(t, fe)); got != "ErrorResponse(57014) ReadyForQuery(I)" {
		t.Fatalf("canceled query: %s", got)
	}
}

func TestShutdown(t *testing.T) {
	ts := startServer(t, nil)
	idle, _, _ := ts.connect(t)
	busy, _, _ := ts.connect(t)
	started := ts.h.session(1).sleepStarted()
	busy.Send(&pgproto3.Query{String: "sleep"})
	busy.Flush()
	<-started

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := ts.srv.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown with a busy connection = %v; want DeadlineExceeded", err)
	}
	msgs := receiveUntilReady(t, idle)
	if er, ok := msgs[0].(*pgproto3.ErrorResponse); !ok || er.Code != "57P01" {
		t.Fatalf("idle connection got %s; want 57P01", describe(msgs))
	}
	for _, fe := range []*pgproto3.Frontend{idle, busy} {
		for {
			if _, err := fe.Receive(); err != nil {
				break // closed: the busy one after Close cancelled its statement
			}
		}
	}
}

func TestShutdownWaitsForBusyConnection(t *testing.T) {
	ts := startServer(t, nil)
	busy, _, _ := ts.connect(t)
	sess := ts.h.session(0)
	started := sess.sleepStarted()
	busy.Send(&pgproto3.Query{String: "sleep"})
	busy.Flush()
	<-started

	done := make(chan error, 1)
	go func() { done <- ts.srv.Shutdown(context.Background()) }()
	sess.Cancel() // the statement ends; the connection then sees the shutdown
	got := describe(receiveUntilReady(t, busy))
	if got != "ErrorResponse(57014) ReadyForQuery(I)" {
		t.Fatalf("busy connection: %s", got)
	}
	msgs := receiveUntilReady(t, busy)
	if er, ok := msgs[0].(*pgproto3.ErrorResponse); !ok || er.Code != "57P01" {
		t.Fatalf("after its statement: %s; want 57P01", describe(msgs))
	}
	if err := <-done; err != nil {
		t.Fatalf("Shutdown = %v", err)
	}
}

// waitFor polls cond under a generous deadline that only a hang reaches.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
