package pgtest

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// startFakeServer serves one connection with a scripted backend: "SELECT 1"
// answers one row, "silent" answers nothing, anything else an error 42601.
// The session starts with ParameterStatus and BackendKeyData noise.
func startFakeServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		serveFake(pgproto3.NewBackend(nc, nc))
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done // the connection ends when the runner closes it
	})
	return ln.Addr().String()
}

func serveFake(be *pgproto3.Backend) {
	if _, err := be.ReceiveStartupMessage(); err != nil {
		return
	}
	be.Send(&pgproto3.AuthenticationOk{})
	be.Send(&pgproto3.ParameterStatus{Name: "server_version", Value: "15.0"})
	be.Send(&pgproto3.BackendKeyData{ProcessID: 1, SecretKey: []byte{0, 0, 0, 2}})
	be.Send(&pgproto3.ReadyForQuery{TxStatus: 'I'})
	for be.Flush() == nil {
		msg, err := be.Receive()
		if err != nil {
			return
		}
		q, ok := msg.(*pgproto3.Query)
		if !ok {
			return // Terminate, or anything this fake does not speak
		}
		switch q.String {
		case "silent":
			continue
		case "SELECT 1":
			be.Send(&pgproto3.RowDescription{Fields: []pgproto3.FieldDescription{
				{Name: []byte("?column?"), DataTypeOID: 23, DataTypeSize: 4, TypeModifier: -1}}})
			be.Send(&pgproto3.DataRow{Values: [][]byte{[]byte("1")}})
			be.Send(&pgproto3.CommandComplete{CommandTag: []byte("SELECT 1")})
		default:
			be.Send(&pgproto3.ParameterStatus{Name: "application_name", Value: "x"})
			be.Send(&pgproto3.ErrorResponse{Severity: "ERROR", Code: "42601", Message: "syntax error"})
		}
		be.Send(&pgproto3.ReadyForQuery{TxStatus: 'I'})
	}
}

const selectOneScript = `send
Query {"String": "SELECT 1"}
----

until
ReadyForQuery
----
{"Type":"RowDescription","Fields":[{"Name":"?column?","DataTypeOID":23,"DataTypeSize":4,"TypeModifier":-1,"Format":0}]}
{"Type":"DataRow","Values":[{"text":"1"}]}
{"Type":"CommandComplete","CommandTag":"SELECT 1"}
{"Type":"ReadyForQuery","TxStatus":"I"}
`

// runOnFake parses script and runs it against a fresh fake server.
func runOnFake(t *testing.T, script string) error {
	t.Helper()
	s, err := Parse(t.Name(), strings.NewReader(script))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// The timeout only fires for a message that never comes, so it can be
	// short without making passing runs flaky.
	c, err := Dial(ctx, Config{Addr: startFakeServer(t), Timeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return s.Run(c)
}

func TestRunPasses(t *testing.T) {
	if err := runOnFake(t, selectOneScript); err != nil {
		t.Fatal(err)
	}
}

func TestRunReportsMismatch(t *testing.T) {
	tests := []struct{ name, script, wantGot string }{
		{"different row", strings.Replace(selectOneScript, `{"text":"1"}`, `{"text":"2"}`, 1),
			`{"Type":"DataRow","Values":[{"text":"1"}]}`},
		{"missing expectation line", strings.Replace(selectOneScript,
			"{\"Type\":\"CommandComplete\",\"CommandTag\":\"SELECT 1\"}\n", "", 1),
			`{"Type":"CommandComplete","CommandTag":"SELECT 1"}`},
		{"error message kept on request", "send\nQuery {\"String\": \"x\"}\n----\n\nuntil keep_messages\nReadyForQuery\n----\n" +
			"{\"Type\":\"ErrorResponse\",\"Code\":\"42601\"}\n{\"Type\":\"ReadyForQuery\",\"TxStatus\":\"I\"}\n",
			`{"Type":"ErrorResponse","Code":"42601","Message":"syntax error"}`},
		{"noise kept on request", "send\nQuery {\"String\": \"x\"}\n----\n\nuntil keep=ParameterStatus\nReadyForQuery\n----\n" +
			"{\"Type\":\"ErrorResponse\",\"Code\":\"42601\"}\n{\"Type\":\"ReadyForQuery\",\"TxStatus\":\"I\"}\n",
			`{"Type":"ParameterStatus","Name":"application_name","Value":"x"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := runOnFake(t, tc.script)
			var m *MismatchError
			if !errors.As(err, &m) {
				t.Fatalf("Run = %v; want a *MismatchError", err)
			}
			if !strings.Contains(strings.Join(m.Got, "\n"), tc.wantGot) {
				t.Fatalf("mismatch got:\n%s\nwant it to contain %s", strings.Join(m.Got, "\n"), tc.wantGot)
			}
		})
	}
}

func TestRunIgnoresNoiseAndErrorWording(t *testing.T) {
	script := "send\nQuery {\"String\": \"x\"}\n----\n\nuntil\nReadyForQuery\n----\n" +
		"{\"Type\":\"ErrorResponse\",\"Code\":\"42601\"}\n{\"Type\":\"ReadyForQuery\",\"TxStatus\":\"I\"}\n"
	if err := runOnFake(t, script); err != nil {
		t.Fatal(err)
	}
	ignored := strings.Replace(script, "until\n", "until ignore=ErrorResponse\n", 1)
	ignored = strings.Replace(ignored, "{\"Type\":\"ErrorResponse\",\"Code\":\"42601\"}\n", "", 1)
	if err := runOnFake(t, ignored); err != nil {
		t.Fatal(err)
	}
}

func TestRunTimesOutOnMissingMessage(t *testing.T) {
	script := "send\nQuery {\"String\": \"silent\"}\n----\n\nuntil\nReadyForQuery\n----\n" +
		"{\"Type\":\"ReadyForQuery\",\"TxStatus\":\"I\"}\n"
	err := runOnFake(t, script)
	var m *MismatchError
	if !errors.As(err, &m) || m.Err == nil || len(m.Got) != 0 {
		t.Fatalf("Run = %v; want a *MismatchError carrying the read timeout", err)
	}
}

func TestRunFileRewrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "script")
	stale := strings.Replace(selectOneScript, `{"text":"1"}`, `{"text":"stale"}`, 1)
	if err := os.WriteFile(path, []byte("# keep me\n"+stale), 0o644); err != nil {
		t.Fatal(err)
	}
	RunFile(t, path, Config{Addr: startFakeServer(t)}, true)
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := "# keep me\n" + selectOneScript; string(got) != want {
		t.Fatalf("rewritten script:\n%s\nwant\n%s", got, want)
	}
}
