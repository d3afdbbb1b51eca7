package server_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/pgraft/pgraft/server"
	"github.com/pgraft/pgraft/server/servertest"
)

// loginDSN is a node's DSN for user and password.
func loginDSN(n *servertest.Node, user, password string) string {
	return "postgres://" + user + ":" + password + "@" + n.PGAddr() + "/postgres?sslmode=disable"
}

func login(t *testing.T, n *servertest.Node, user, password string) (*pgx.Conn, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, loginDSN(n, user, password))
	if err == nil {
		t.Cleanup(func() { c.Close(context.Background()) })
	}
	return c, err
}

func mustLogin(t *testing.T, n *servertest.Node, user, password string) *pgx.Conn {
	t.Helper()
	c, err := login(t, n, user, password)
	if err != nil {
		t.Fatalf("log in as %s: %v", user, err)
	}
	return c
}

func wantLoginFails(t *testing.T, n *servertest.Node, user, password string) {
	t.Helper()
	_, err := login(t, n, user, password)
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "28P01" {
		t.Fatalf("log in as %s with %q: %v, want 28P01", user, password, err)
	}
}

// TestRolesAndSCRAM: with --auth scram the bootstrap superuser is created
// through the log and logs in with its password on every node; roles made
// with CREATE ROLE log in everywhere, change their own password, cannot
// create roles without CREATEROLE, and stop logging in once dropped. No
// plaintext password reaches the log or the database files.
func TestRolesAndSCRAM(t *testing.T) {
	skipShortCluster(t)
	const rootPW, alicePW, alicePW2 = "root-pw-8d1f", "alice-pw-27c4", "alice-pw2-93ab"
	c := servertest.NewCluster(t, 3, func(cfg *server.Config) {
		cfg.Auth, cfg.Superuser, cfg.SuperuserPassword = server.AuthSCRAM, "postgres", rootPW
	})
	leader, follower := c.Leader(), c.Followers()[0]
	deadline := time.Now().Add(clusterWait)
	var root *pgx.Conn
	for {
		var err error
		if root, err = login(t, leader, "postgres", rootPW); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the bootstrap superuser never logged in: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	wantLoginFails(t, leader, "postgres", "wrong")
	wantLoginFails(t, leader, "nobody", rootPW)
	c.RequireConverged()
	// Every node shows the same salt for a user, existing or not: asking
	// two nodes does not tell which users exist.
	for _, user := range []string{"postgres", "nobody"} {
		if a, b := scramSalt(t, leader, user), scramSalt(t, follower, user); a != b {
			t.Errorf("salt of %s: leader %q, follower %q", user, a, b)
		}
	}

	mustExec(t, root, `CREATE ROLE alice LOGIN PASSWORD '`+alicePW+`'`)
	mustExec(t, root, `CREATE USER bob`) // LOGIN, no password: cannot log in with SCRAM
	_, err := root.Exec(context.Background(), `CREATE ROLE alice`)
	wantCode(t, err, "42710")
	_, err = root.Exec(context.Background(), `CREATE ROLE pg_x`)
	wantCode(t, err, "42939")
	c.RequireConverged()

	alice := mustLogin(t, follower, "alice", alicePW) // replicated, checked on a follower
	wantLoginFails(t, follower, "bob", "")
	_, err = alice.Exec(context.Background(), `CREATE ROLE mallory LOGIN PASSWORD 'x'`)
	wantCode(t, err, "42501")
	_, err = alice.Exec(context.Background(), `ALTER ROLE alice SUPERUSER`)
	wantCode(t, err, "42501")
	mustExec(t, alice, `ALTER ROLE alice PASSWORD '`+alicePW2+`'`) // forwarded from the follower
	c.RequireConverged()
	wantLoginFails(t, leader, "alice", alicePW)
	mustLogin(t, leader, "alice", alicePW2)

	var roles string
	if err := root.QueryRow(context.Background(),
		`SELECT string_agg(rolname || ':' || rolsuper::text || ':' || rolcanlogin::text, ',' ORDER BY rolname) FROM pg_roles WHERE rolname !~ '^pg_'`).Scan(&roles); err != nil {
		t.Fatal(err)
	}
	if roles != "alice:false:true,bob:false:true,postgres:true:true" {
		t.Errorf("pg_roles = %s", roles)
	}

	// Privileges replicate: a follower refuses until the grant reaches it,
	// and a write a follower forwards is checked the same way.
	mustExec(t, root, `CREATE TABLE ledger (id int PRIMARY KEY, amount int)`)
	c.RequireConverged()
	aliceF := mustLogin(t, follower, "alice", alicePW2)
	_, err = aliceF.Exec(context.Background(), `SELECT * FROM ledger`)
	wantCode(t, err, "42501")
	_, err = aliceF.Exec(context.Background(), `INSERT INTO ledger VALUES (1, 1)`)
	wantCode(t, err, "42501")
	mustExec(t, root, `GRANT SELECT, INSERT ON ledger TO alice`)
	c.RequireConverged()
	mustExec(t, aliceF, `INSERT INTO ledger VALUES (1, 1)`)
	if n := count(t, aliceF, `SELECT count(*) FROM ledger`); n != 1 {
		t.Errorf("alice reads %d rows of ledger on a follower, want 1", n)
	}
	_, err = aliceF.Exec(context.Background(), `DELETE FROM ledger`)
	wantCode(t, err, "42501")
	_, err = root.Exec(context.Background(), `DROP ROLE alice`)
	wantCode(t, err, "2BP01") // holds privileges on ledger
	mustExec(t, root, `REVOKE ALL ON ledger FROM alice`)
	aliceF.Close(context.Background())

	mustExec(t, root, `DROP ROLE alice`)
	_, err = root.Exec(context.Background(), `DROP ROLE alice`)
	wantCode(t, err, "42704")
	mustExec(t, root, `DROP ROLE IF EXISTS alice`)
	c.RequireConverged()
	wantLoginFails(t, follower, "alice", alicePW2)

	for i := range c.Nodes {
		filepath.WalkDir(c.Nodes[i].DataDir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return nil
			}
			for _, pw := range []string{rootPW, alicePW, alicePW2} {
				if bytes.Contains(b, []byte(pw)) {
					t.Errorf("node %d: %s holds the plaintext password %q", i, strings.TrimPrefix(path, c.Nodes[i].DataDir), pw)
				}
			}
			return nil
		})
	}
}

// TestReservedConnectionSlots: the last three of max_connections are for
// superusers, as PostgreSQL's superuser_reserved_connections.
func TestReservedConnectionSlots(t *testing.T) {
	const rootPW = "root-pw-slots"
	n := servertest.Start(t, func(cfg *server.Config) {
		cfg.Auth, cfg.Superuser, cfg.SuperuserPassword, cfg.MaxConnections = server.AuthSCRAM, "postgres", rootPW, 5
	})
	var root *pgx.Conn
	deadline := time.Now().Add(clusterWait)
	for {
		var err error
		if root, err = login(t, n, "postgres", rootPW); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the bootstrap superuser never logged in: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	mustExec(t, root, `CREATE ROLE app LOGIN PASSWORD 'app-pw'`)
	mustLogin(t, n, "app", "app-pw") // 2 sessions of 5
	_, err := login(t, n, "app", "app-pw")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "53300" || !strings.Contains(pe.Message, "reserved") {
		t.Fatalf("a third ordinary session of 5 (3 reserved): %v, want 53300 reserved", err)
	}
	mustLogin(t, n, "postgres", rootPW)
	mustLogin(t, n, "postgres", rootPW)
	mustLogin(t, n, "postgres", rootPW) // 5 of 5
	_, err = login(t, n, "postgres", rootPW)
	if !errors.As(err, &pe) || pe.Code != "53300" || !strings.Contains(pe.Message, "too many clients") {
		t.Fatalf("a sixth session of 5: %v, want 53300 too many clients", err)
	}
}

// scramSalt starts a SCRAM-SHA-256 exchange as user and returns the salt
// the node's first message gives.
func scramSalt(t *testing.T, n *servertest.Node, user string) string {
	t.Helper()
	nc, err := net.DialTimeout("tcp", n.PGAddr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(30 * time.Second))
	fe := pgproto3.NewFrontend(nc, nc)
	fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber,
		Parameters: map[string]string{"user": user, "database": "postgres"}})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	if m, err := fe.Receive(); err != nil {
		t.Fatal(err)
	} else if _, ok := m.(*pgproto3.AuthenticationSASL); !ok {
		t.Fatalf("first answer %T, want AuthenticationSASL", m)
	}
	fe.Send(&pgproto3.SASLInitialResponse{AuthMechanism: "SCRAM-SHA-256", Data: []byte("n,,n=,r=abcdefghijklmnop")})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	m, err := fe.Receive()
	if err != nil {
		t.Fatal(err)
	}
	cont, ok := m.(*pgproto3.AuthenticationSASLContinue)
	if !ok {
		t.Fatalf("second answer %T, want AuthenticationSASLContinue", m)
	}
	for _, f := range strings.Split(string(cont.Data), ",") {
		if strings.HasPrefix(f, "s=") {
			return f
		}
	}
	t.Fatalf("server-first message without a salt: %q", cont.Data)
	return ""
}
