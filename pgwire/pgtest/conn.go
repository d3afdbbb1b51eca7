package pgtest

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// Config says where a script connects and how long it waits.
type Config struct {
	Addr     string        // host:port
	User     string        // default "postgres"
	Database string        // default "postgres"
	Password string        // for cleartext or MD5 auth; trust needs none
	Timeout  time.Duration // per until block and for startup; default 10s
}

func (c Config) withDefaults() Config {
	if c.User == "" {
		c.User = "postgres"
	}
	if c.Database == "" {
		c.Database = "postgres"
	}
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Second
	}
	return c
}

// Conn is a connection past startup: authenticated, with the first
// ReadyForQuery consumed. It is not safe for concurrent use.
type Conn struct {
	nc      net.Conn
	fe      *pgproto3.Frontend
	timeout time.Duration
}

// Dial connects to cfg.Addr and completes startup and authentication
// (trust, cleartext or MD5; SCRAM is not supported, use trust for tests).
func Dial(ctx context.Context, cfg Config) (*Conn, error) {
	cfg = cfg.withDefaults()
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", cfg.Addr, err)
	}
	c := &Conn{nc: nc, fe: pgproto3.NewFrontend(nc, nc), timeout: cfg.Timeout}
	if err := c.startup(cfg); err != nil {
		nc.Close()
		return nil, fmt.Errorf("startup on %s: %w", cfg.Addr, err)
	}
	return c, nil
}

// startup sends the StartupMessage and reads up to the first ReadyForQuery.
func (c *Conn) startup(cfg Config) error {
	if err := c.nc.SetDeadline(time.Now().Add(c.timeout)); err != nil {
		return err
	}
	defer c.nc.SetDeadline(time.Time{})
	c.fe.Send(&pgproto3.StartupMessage{
		ProtocolVersion: pgproto3.ProtocolVersionNumber,
		Parameters:      map[string]string{"user": cfg.User, "database": cfg.Database},
	})
	if err := c.fe.Flush(); err != nil {
		return err
	}
	for {
		msg, err := c.fe.Receive()
		if err != nil {
			return err
		}
		switch m := msg.(type) {
		case *pgproto3.ReadyForQuery:
			return nil
		case *pgproto3.ErrorResponse:
			return fmt.Errorf("server refused: %s (SQLSTATE %s)", m.Message, m.Code)
		case *pgproto3.AuthenticationCleartextPassword:
			err = c.sendPassword(cfg.Password)
		case *pgproto3.AuthenticationMD5Password:
			err = c.sendPassword(md5Password(cfg.User, cfg.Password, m.Salt))
		case *pgproto3.AuthenticationSASL:
			return errors.New("SASL authentication is not supported; use trust")
		}
		if err != nil {
			return err
		}
	}
}

func (c *Conn) sendPassword(pw string) error {
	c.fe.Send(&pgproto3.PasswordMessage{Password: pw})
	return c.fe.Flush()
}

// md5Password is PostgreSQL's "md5" || md5(md5(password || user) || salt).
func md5Password(user, password string, salt [4]byte) string {
	inner := md5.Sum([]byte(password + user))
	outer := md5.Sum(append([]byte(hex.EncodeToString(inner[:])), salt[:]...))
	return "md5" + hex.EncodeToString(outer[:])
}

// Close sends Terminate and closes the connection; errors are ignored
// because a script may already have terminated or broken the connection.
func (c *Conn) Close() error {
	if b, err := (&pgproto3.Terminate{}).Encode(nil); err == nil {
		c.nc.SetWriteDeadline(time.Now().Add(time.Second))
		c.nc.Write(b)
	}
	return c.nc.Close()
}

// Abort closes the connection without Terminate, as a killed client or a
// lost network leaves it.
func (c *Conn) Abort() error { return c.nc.Close() }

// Send writes the messages of one send block in a single write.
func (c *Conn) Send(lines []string) error {
	var buf []byte
	for _, l := range lines {
		b, err := decodeFrontend(l)
		if err != nil {
			return err
		}
		buf = append(buf, b...)
	}
	if err := c.nc.SetWriteDeadline(time.Now().Add(c.timeout)); err != nil {
		return err
	}
	if _, err := c.nc.Write(buf); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}

// UntilOptions are the options of an until block.
type UntilOptions struct {
	KeepMessages bool            // print Message of errors and notices
	KeepAttnums  bool            // print RowDescription's TableAttributeNumber
	Ignore       map[string]bool // message types read but not printed
}

// Until reads backend messages until it has seen each of types in turn and
// returns them printed one per line. On error it also returns what it had
// printed so far, which is what a failure report should show.
func (c *Conn) Until(types []string, opts UntilOptions) ([]string, error) {
	if err := c.nc.SetReadDeadline(time.Now().Add(c.timeout)); err != nil {
		return nil, err
	}
	var out []string
	for len(types) > 0 {
		msg, err := c.fe.Receive()
		if err != nil {
			return out, fmt.Errorf("waiting for %s: %w", types[0], err)
		}
		name := typeName(msg)
		if name == types[0] {
			types = types[1:]
		}
		if opts.Ignore[name] {
			continue
		}
		line, err := formatBackend(msg, opts)
		if err != nil {
			return out, err
		}
		out = append(out, line)
	}
	return out, nil
}
