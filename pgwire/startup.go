package pgwire

import (
	"crypto/rand"
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// Request codes of the startup packets (PostgreSQL's pqcomm.h).
const (
	sslRequestCode    = 80877103
	gssEncRequestCode = 80877104
	cancelRequestCode = 80877102
	// maxStartupPacket is PostgreSQL's MAX_STARTUP_PACKET_LENGTH.
	maxStartupPacket = 10000
)

// startupPacket is a decoded StartupMessage.
type startupPacket struct {
	minor        uint32            // requested minor version; we speak 3.0
	params       map[string]string // every parameter but the _pq_ options
	unrecognized []string          // _pq_.* options, all unknown to us
	tls          bool              // it came through a TLS connection
}

// startup runs everything before the first ReadyForQuery: the pre-startup
// requests, authentication and Handler.NewSession. It returns false when the
// connection is over (a CancelRequest, an error already answered, EOF).
func (c *conn) startup() bool {
	c.setIdle(true) // Shutdown may interrupt a client that never finishes startup
	sp, ok := c.readStartup()
	c.setIdle(false)
	if !ok {
		return false
	}
	c.mu.Lock()
	nc := c.nc
	c.mu.Unlock()
	c.be = pgproto3.NewBackend(nc, nc)
	c.be.SetMaxBodyLen(c.srv.maxMessageSize())
	if sp.minor > 0 || len(sp.unrecognized) > 0 {
		c.send(&pgproto3.NegotiateProtocolVersion{NewestMinorProtocol: 0, UnrecognizedOptions: sp.unrecognized})
	}
	user := sp.params["user"]
	if user == "" {
		c.sendFatal(pgerror.New(pgerror.InvalidAuthorizationSpec, "no PostgreSQL user name specified in startup packet"))
		return false
	}
	database := sp.params["database"]
	if database == "" {
		database = user
	}
	if c.srv.TLSRequired && !sp.tls {
		c.sendFatal(pgerror.New(pgerror.InvalidAuthorizationSpec,
			"no pg_hba.conf entry for host %q, user %q, database %q, no encryption", remoteHost(c.nc), user, database).
			WithHint("This server accepts only TLS connections: connect with sslmode=require or stronger."))
		return false
	}
	if c.srv.Admit != nil {
		if err := c.srv.Admit(); err != nil {
			c.sendFatal(err)
			return false
		}
	}
	if err := c.srv.authenticator().authenticate(c, user, database); err != nil {
		c.sendFatal(err)
		return false
	}
	return c.startSession(user, database, sp.params)
}

// startSession assigns the cancel key, asks the Handler for a session and
// sends the startup ParameterStatus messages, BackendKeyData and the first
// ReadyForQuery.
func (c *conn) startSession(user, database string, params map[string]string) bool {
	c.pid = c.srv.nextPID.Add(1)
	var key [4]byte
	rand.Read(key[:]) // never fails (crypto/rand since Go 1.24)
	c.secret = binary.BigEndian.Uint32(key[:])
	sess, err := c.srv.Handler.NewSession(c.ctx, StartupInfo{
		User: user, Database: database, Params: params, RemoteAddr: c.nc.RemoteAddr(),
		ProcessID: c.pid, SecretKey: c.secret,
	})
	if err != nil {
		c.sendFatal(err)
		return false
	}
	c.mu.Lock()
	c.sess = sess
	c.mu.Unlock()
	c.srv.registerKey(c)

	c.sentParams = make(map[string]string)
	c.sendParameterChanges()
	c.send(&pgproto3.BackendKeyData{ProcessID: c.pid, SecretKey: key[:]})
	return c.readyForQuery()
}

// sendParameterChanges sends a ParameterStatus for every parameter that is new
// or changed since last sent, sorted by name without regard to case.
func (c *conn) sendParameterChanges() {
	cur := c.sess.ParameterStatus()
	var names []string
	for name, v := range cur {
		if old, ok := c.sentParams[name]; !ok || old != v {
			names = append(names, name)
		}
	}
	sort.Slice(names, func(i, j int) bool {
		a, b := strings.ToLower(names[i]), strings.ToLower(names[j])
		if a != b {
			return a < b
		}
		return names[i] < names[j]
	})
	for _, name := range names {
		c.send(&pgproto3.ParameterStatus{Name: name, Value: cur[name]})
		c.sentParams[name] = cur[name]
	}
}

// readStartup reads startup packets until a StartupMessage, answering
// SSLRequest and GSSENCRequest on the way. It reads the socket unbuffered, so
// no plaintext byte sent before a TLS handshake is ever taken as if it had
// come through TLS.
func (c *conn) readStartup() (*startupPacket, bool) {
	tlsDone := false
	for {
		body, err := c.readStartupPacket()
		if err != nil {
			c.log.Debug("startup read failed", logKeyErr, err)
			if pe := pgerror.As(err); pe != nil {
				c.sendFatal(pe)
			}
			return nil, false
		}
		switch code := binary.BigEndian.Uint32(body); code {
		case sslRequestCode:
			if tlsDone || len(body) != 4 {
				c.sendFatal(protocolViolation("unexpected SSLRequest"))
				return nil, false
			}
			if !c.negotiateTLS() {
				return nil, false
			}
			tlsDone = true
		case gssEncRequestCode:
			if len(body) != 4 || !c.writeRaw('N') {
				return nil, false
			}
		case cancelRequestCode:
			c.srv.cancelRequest(body)
			return nil, false // the protocol answers a CancelRequest with nothing
		default:
			sp, err := parseStartupMessage(body)
			if err != nil {
				c.sendFatal(err)
				return nil, false
			}
			sp.tls = tlsDone
			return sp, true
		}
	}
}

// readStartupPacket reads one length-prefixed startup packet body.
func (c *conn) readStartupPacket() ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(c.nc, hdr[:]); err != nil {
		return nil, fmt.Errorf("read startup packet length: %w", err)
	}
	n := int64(binary.BigEndian.Uint32(hdr[:])) - 4
	if n < 4 || n > maxStartupPacket {
		return nil, protocolViolation("invalid length of startup packet")
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(c.nc, body); err != nil {
		return nil, fmt.Errorf("read startup packet: %w", err)
	}
	return body, nil
}

// parseStartupMessage decodes a StartupMessage body: the version, then
// name/value pairs each ending in NUL, then a final NUL.
func parseStartupMessage(body []byte) (*startupPacket, error) {
	version := binary.BigEndian.Uint32(body)
	if major := version >> 16; major != 3 {
		return nil, &pgerror.Error{Severity: pgerror.SeverityFatal, Code: pgerror.FeatureNotSupported,
			Message: fmt.Sprintf("unsupported frontend protocol %d.%d: server supports 3.0 to 3.0", major, version&0xffff)}
	}
	sp := &startupPacket{minor: version & 0xffff, params: make(map[string]string)}
	rest := body[4:]
	for {
		name, after, ok := cutNUL(rest)
		if !ok {
			return nil, protocolViolation("invalid startup packet layout: expected terminator as last byte")
		}
		if name == "" {
			if len(after) != 0 {
				return nil, protocolViolation("invalid startup packet layout: expected terminator as last byte")
			}
			return sp, nil
		}
		value, after, ok := cutNUL(after)
		if !ok {
			return nil, protocolViolation("invalid startup packet layout: expected terminator as last byte")
		}
		if strings.HasPrefix(name, "_pq_.") {
			sp.unrecognized = append(sp.unrecognized, name)
		} else {
			sp.params[name] = value
		}
		rest = after
	}
}

func cutNUL(b []byte) (string, []byte, bool) {
	for i, ch := range b {
		if ch == 0 {
			return string(b[:i]), b[i+1:], true
		}
	}
	return "", nil, false
}

// negotiateTLS answers an SSLRequest: 'N' without a TLSConfig, otherwise 'S'
// and a server-side handshake, after which the connection reads and writes
// through TLS.
func (c *conn) negotiateTLS() bool {
	if c.srv.TLSConfig == nil {
		return c.writeRaw('N')
	}
	if !c.writeRaw('S') {
		return false
	}
	tc := tls.Server(c.nc, c.srv.TLSConfig)
	if err := tc.HandshakeContext(c.ctx); err != nil {
		c.log.Debug("TLS handshake failed", logKeyErr, err)
		return false
	}
	c.mu.Lock()
	c.nc = tc
	c.mu.Unlock()
	return true
}

// remoteHost is the client's address without its port, as PostgreSQL
// names it in messages.
func remoteHost(nc net.Conn) string {
	a := nc.RemoteAddr()
	if a == nil {
		return ""
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}

// writeRaw writes one unframed byte, the answer to SSLRequest/GSSENCRequest.
func (c *conn) writeRaw(b byte) bool {
	if _, err := c.nc.Write([]byte{b}); err != nil {
		c.log.Debug("startup write failed", logKeyErr, err)
		return false
	}
	return true
}

// authenticator proves that the client is the user its StartupMessage names.
// It may exchange messages with the client (c.send, c.flush, c.be.Receive
// after c.be.SetAuthType) and ends by sending AuthenticationOk, or returns an
// error that goes out as FATAL (28P01 for a wrong password). Cleartext and
// SCRAM-SHA-256 implementations slot in here.
type authenticator interface {
	authenticate(c *conn, user, database string) error
}

// trustAuth lets everyone in, as PostgreSQL's "trust" method.
type trustAuth struct{}

func (trustAuth) authenticate(c *conn, _, _ string) error {
	c.send(&pgproto3.AuthenticationOk{})
	return nil
}

// authenticator picks the authentication method: SCRAM-SHA-256 when the
// server knows passwords, else trust.
func (s *Server) authenticator() authenticator {
	if s.Passwords != nil {
		return scramAuth{passwords: s.Passwords, mockKey: s.SCRAMMockKey, failures: &s.authFailures}
	}
	return trustAuth{}
}
