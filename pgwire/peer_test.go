package pgwire_test

import (
	"encoding/binary"
	"runtime"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/pgraft/pgraft/pgwire"
)

// TestClientGoneEndsStatement: a client that goes away while its statement
// runs has the statement cancelled (the fake's sleep ends only when its ctx
// does) and its session closed, whether it said Terminate first, as pgx
// and psql do, or just vanished.
func TestClientGoneEndsStatement(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the check needs POLLRDHUP")
	}
	for _, terminate := range []bool{false, true} {
		name := map[bool]string{false: "vanished", true: "terminated"}[terminate]
		t.Run(name, func(t *testing.T) {
			ts := startServer(t, func(s *pgwire.Server) { s.ClientCheckInterval = 10 * time.Millisecond })
			fe, nc, _ := ts.connect(t)
			sess := ts.h.session(0)
			started := sess.sleepStarted()
			fe.Send(&pgproto3.Query{String: "sleep"})
			fe.Flush()
			<-started
			if terminate {
				fe.Send(&pgproto3.Terminate{})
				fe.Flush()
			}
			nc.Close()
			waitFor(t, "the session of the vanished client closed", func() bool { return sess.closeCount() == 1 })
		})
	}
}

// TestClientCheckSparesLiveClients: the checks of a busy connection whose
// client is still there change nothing: its statement runs until a
// CancelRequest ends it with 57014, and the connection goes on.
func TestClientCheckSparesLiveClients(t *testing.T) {
	ts := startServer(t, func(s *pgwire.Server) { s.ClientCheckInterval = time.Millisecond })
	fe, _, startup := ts.connect(t)
	key := startup[len(startup)-2].(*pgproto3.BackendKeyData)
	sess := ts.h.session(0)
	started := sess.sleepStarted()
	fe.Send(&pgproto3.Query{String: "sleep"})
	fe.Flush()
	<-started
	time.Sleep(50 * time.Millisecond) // some checks happen; none may cancel
	cancel := ts.dial(t)
	cancel.Write(rawPacket(80877102, key.ProcessID, binary.BigEndian.Uint32(key.SecretKey)))
	if got := describe(receiveUntilReady(t, fe)); got != "ErrorResponse(57014) ReadyForQuery(I)" {
		t.Fatalf("canceled query: %s", got)
	}
	if got := roundTrip(t, fe, &pgproto3.Query{String: "rows 1"}); got != "RowDescription DataRow(1) CommandComplete(SELECT 1) ReadyForQuery(I)" {
		t.Fatalf("query after the cancel: %s", got)
	}
	if sess.closeCount() != 0 {
		t.Fatal("a live client's session was closed")
	}
}
