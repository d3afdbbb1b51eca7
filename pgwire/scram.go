package pgwire

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/xdg-go/scram"

	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// scram.go is SCRAM-SHA-256 authentication (RFC 5802, RFC 7677) as
// PostgreSQL speaks it: AuthenticationSASL naming SCRAM-SHA-256,
// SASLInitialResponse, AuthenticationSASLContinue, SASLResponse,
// AuthenticationSASLFinal, AuthenticationOk. The client's SCRAM user name
// is ignored (libpq sends none); the StartupMessage's user is the one
// checked. The server never sees the password, only a verifier in
// PostgreSQL's pg_authid.rolpassword format.

// Passwords looks up the SCRAM verifier of a user who may log in
// ("SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>", base64).
// ok is false for an unknown user, one without a password or one that may
// not log in: the exchange then goes on with a made-up verifier and fails
// exactly as a wrong password does, so that nobody can tell which users
// exist.
type Passwords func(ctx context.Context, user string) (verifier string, ok bool, err error)

// scramIterations is the PBKDF2 iteration count of new verifiers,
// PostgreSQL's scram_iterations default.
const scramIterations = 4096

// SCRAMVerifier returns the verifier of password, with a random salt, as
// PostgreSQL's CREATE ROLE … PASSWORD stores it. The password is SASLprep'd
// first when it can be, as libpq does before it answers.
func SCRAMVerifier(password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("salt: %w", err)
	}
	return scramVerifier(password, salt, scramIterations)
}

func scramVerifier(password string, salt []byte, iters int) (string, error) {
	client, err := scram.SHA256.NewClient("", password, "")
	if err != nil { // not valid for SASLprep: PostgreSQL uses the raw bytes
		client, err = scram.SHA256.NewClientUnprepped("", password, "")
		if err != nil {
			return "", fmt.Errorf("scram client: %w", err)
		}
	}
	sc := client.GetStoredCredentials(scram.KeyFactors{Salt: string(salt), Iters: iters})
	b64 := base64.StdEncoding.EncodeToString
	return fmt.Sprintf("SCRAM-SHA-256$%d:%s$%s:%s", iters, b64(salt), b64(sc.StoredKey), b64(sc.ServerKey)), nil
}

// IsSCRAMVerifier reports whether s is a verifier ParseSCRAMVerifier accepts:
// what ALTER ROLE … PASSWORD 'SCRAM-SHA-256$…' (pg_dumpall's output) gives.
func IsSCRAMVerifier(s string) bool {
	_, err := parseSCRAMVerifier(s)
	return err == nil
}

func parseSCRAMVerifier(v string) (scram.StoredCredentials, error) {
	bad := errors.New("not a SCRAM-SHA-256 verifier")
	rest, ok := strings.CutPrefix(v, "SCRAM-SHA-256$")
	if !ok {
		return scram.StoredCredentials{}, bad
	}
	factors, keys, ok := strings.Cut(rest, "$")
	if !ok {
		return scram.StoredCredentials{}, bad
	}
	itersText, saltText, ok1 := strings.Cut(factors, ":")
	storedText, serverText, ok2 := strings.Cut(keys, ":")
	iters, err := strconv.Atoi(itersText)
	if !ok1 || !ok2 || err != nil || iters < 1 || iters > 1<<24 {
		return scram.StoredCredentials{}, bad
	}
	dec := base64.StdEncoding.DecodeString
	salt, err1 := dec(saltText)
	stored, err2 := dec(storedText)
	server, err3 := dec(serverText)
	if err1 != nil || err2 != nil || err3 != nil || len(salt) == 0 || len(stored) != sha256.Size || len(server) != sha256.Size {
		return scram.StoredCredentials{}, bad
	}
	return scram.StoredCredentials{KeyFactors: scram.KeyFactors{Salt: string(salt), Iters: iters},
		StoredKey: stored, ServerKey: server}, nil
}

// scramAuth authenticates against Server.Passwords.
type scramAuth struct {
	passwords Passwords
	mockKey   func() []byte // makes up verifiers for users that cannot log in
	failures  *authFailures
}

func (a scramAuth) authenticate(c *conn, user, _ string) error {
	failed := func() error {
		a.failures.wait(c.ctx, remoteHost(c.nc))
		return pgerror.New(pgerror.InvalidPassword, "password authentication failed for user %q", user)
	}
	verifier, ok, err := a.passwords(c.ctx, user)
	if err != nil {
		return pgerror.New(pgerror.CannotConnectNow, "cannot check the password now: %v", err)
	}
	cred, perr := parseSCRAMVerifier(verifier)
	if !ok || perr != nil {
		cred = a.mockCredentials(user)
	}
	srv, err := scram.SHA256.NewServer(func(string) (scram.StoredCredentials, error) { return cred, nil })
	if err != nil {
		return fmt.Errorf("scram server: %w", err)
	}
	conv := srv.NewConversation()

	c.send(&pgproto3.AuthenticationSASL{AuthMechanisms: []string{"SCRAM-SHA-256"}})
	if err := c.flush(); err != nil {
		return err
	}
	if err := c.be.SetAuthType(pgproto3.AuthTypeSASL); err != nil {
		return err
	}
	msg, err := c.receiveAuth()
	if err != nil {
		return err
	}
	first, isFirst := msg.(*pgproto3.SASLInitialResponse)
	if !isFirst {
		return protocolViolation("expected SASL response, got %T", msg)
	}
	if first.AuthMechanism != "SCRAM-SHA-256" {
		return protocolViolation("client selected an invalid SASL authentication mechanism")
	}
	serverFirst, err := conv.Step(string(first.Data))
	if err != nil {
		return protocolViolation("malformed SCRAM message: %v", err)
	}
	c.send(&pgproto3.AuthenticationSASLContinue{Data: []byte(serverFirst)})
	if err := c.flush(); err != nil {
		return err
	}
	if err := c.be.SetAuthType(pgproto3.AuthTypeSASLContinue); err != nil {
		return err
	}
	if msg, err = c.receiveAuth(); err != nil {
		return err
	}
	final, isFinal := msg.(*pgproto3.SASLResponse)
	if !isFinal {
		return protocolViolation("expected SASL response, got %T", msg)
	}
	serverFinal, err := conv.Step(string(final.Data))
	if err != nil || !conv.Valid() || !ok || perr != nil {
		return failed()
	}
	c.send(&pgproto3.AuthenticationSASLFinal{Data: []byte(serverFinal)})
	c.send(&pgproto3.AuthenticationOk{})
	a.failures.forget(remoteHost(c.nc))
	return nil
}

// receiveAuth reads the client's next authentication message; the client
// has authTimeout to send it, as PostgreSQL's authentication_timeout.
func (c *conn) receiveAuth() (pgproto3.FrontendMessage, error) {
	c.mu.Lock()
	nc := c.nc
	c.mu.Unlock()
	_ = nc.SetReadDeadline(time.Now().Add(authTimeout))
	defer func() { _ = nc.SetReadDeadline(time.Time{}) }()
	msg, err := c.be.Receive()
	if err != nil {
		return nil, fmt.Errorf("read authentication message: %w", err)
	}
	return msg, nil
}

// authTimeout is PostgreSQL's authentication_timeout default.
const authTimeout = time.Minute

// mockCredentials makes up a verifier for a user that cannot log in: the
// same for the same user every time (and on every node, when the nodes
// share mockKey), so that its salt does not give it away.
func (a scramAuth) mockCredentials(user string) scram.StoredCredentials {
	var key []byte
	if a.mockKey != nil {
		key = a.mockKey()
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("salt:" + user))
	salt := mac.Sum(nil)[:16]
	mac.Reset()
	mac.Write([]byte("keys:" + user))
	keys := mac.Sum(nil)
	return scram.StoredCredentials{KeyFactors: scram.KeyFactors{Salt: string(salt), Iters: scramIterations},
		StoredKey: keys, ServerKey: keys}
}

// authFailures slows down password guessing: after a failure from a host,
// its next failures answer later and later (up to maxAuthDelay), as
// PostgreSQL's auth_delay does; a success, or a quiet minute, forgets.
type authFailures struct {
	mu    sync.Mutex
	hosts map[string]authFailure
}

type authFailure struct {
	count int
	last  time.Time
}

const (
	authDelayStep = 200 * time.Millisecond
	maxAuthDelay  = 5 * time.Second
	authForget    = time.Minute
	maxAuthHosts  = 10000 // the table's bound; beyond it the oldest entries go
)

// wait records a failure from host and sleeps its delay (or until ctx ends).
func (f *authFailures) wait(ctx context.Context, host string) {
	f.mu.Lock()
	if f.hosts == nil {
		f.hosts = make(map[string]authFailure)
	}
	now := time.Now()
	e := f.hosts[host]
	if now.Sub(e.last) > authForget {
		e.count = 0
	}
	e.count++
	e.last = now
	if len(f.hosts) >= maxAuthHosts {
		for h, old := range f.hosts {
			if now.Sub(old.last) > authForget || len(f.hosts) >= maxAuthHosts {
				delete(f.hosts, h)
			}
		}
	}
	f.hosts[host] = e
	f.mu.Unlock()
	delay := min(time.Duration(e.count)*authDelayStep, maxAuthDelay)
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

func (f *authFailures) forget(host string) {
	f.mu.Lock()
	delete(f.hosts, host)
	f.mu.Unlock()
}
