package pgwire_test

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgraft/pgraft/pgwire"
)

// TestSCRAMAuthentication: with Passwords set, pgx and psql log in with the
// right password; a wrong password and an unknown user get the same FATAL
// 28P01, and repeated failures from one host answer more slowly.
func TestSCRAMAuthentication(t *testing.T) {
	verifier, err := pgwire.SCRAMVerifier("s3cret")
	if err != nil {
		t.Fatal(err)
	}
	ts := startServer(t, func(s *pgwire.Server) {
		s.SCRAMMockKey = func() []byte { return []byte("test key") }
		s.Passwords = func(_ context.Context, user string) (string, bool, error) {
			if user == "alice" {
				return verifier, true, nil
			}
			return "", false, nil
		}
	})
	ctx := context.Background()
	dsn := func(user, password string) string {
		return "postgres://" + user + ":" + password + "@" + ts.addr + "/db?sslmode=disable"
	}
	c, err := pgx.Connect(ctx, dsn("alice", "s3cret"))
	if err != nil {
		t.Fatalf("right password: %v", err)
	}
	c.Close(ctx)

	var messages []string
	for _, tc := range []struct{ user, password string }{{"alice", "wrong"}, {"mallory", "s3cret"}} {
		start := time.Now()
		_, err := pgx.Connect(ctx, dsn(tc.user, tc.password))
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "28P01" || pe.Severity != "FATAL" {
			t.Fatalf("%s with a wrong password: %v, want FATAL 28P01", tc.user, err)
		}
		messages = append(messages, strings.ReplaceAll(pe.Message, tc.user, "USER"))
		if d := time.Since(start); d < 150*time.Millisecond {
			t.Errorf("failed login answered after %v: failures are not slowed down", d)
		}
	}
	if messages[0] != messages[1] {
		t.Errorf("wrong password says %q, unknown user %q: they must not differ", messages[0], messages[1])
	}

	if psql, err := exec.LookPath("psql"); err == nil {
		out, err := exec.Command(psql, "-X", "-At", "-c", "rows 1", dsn("alice", "s3cret")).CombinedOutput()
		if err != nil {
			t.Fatalf("psql with the right password: %v: %s", err, out)
		}
		out, err = exec.Command(psql, "-X", "-At", "-c", "rows 1", dsn("alice", "nope")).CombinedOutput()
		if err == nil || !strings.Contains(string(out), `password authentication failed for user "alice"`) {
			t.Fatalf("psql with a wrong password: %v: %s", err, out)
		}
	}
}
