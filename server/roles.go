package server

import (
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"regexp"
	"strings"
	"time"

	"github.com/pgraft/pgraft/pgwire"
	"github.com/pgraft/pgraft/pgwire/pgerror"
	"github.com/pgraft/pgraft/sqlengine"
	"github.com/pgraft/pgraft/sqlengine/translate"
)

// roles.go is users and authentication (issue 14): the node authenticates
// clients with SCRAM-SHA-256 against the roles the log replicated
// (sqlengine/roles.go), or lets everyone in (trust); it checks who may
// change roles, and creates the bootstrap superuser.
//
// What pgraft enforces: logging in (LOGIN and the password), who may
// create, alter and drop roles, as PostgreSQL does (superusers; CREATEROLE
// for non-superuser roles; everyone for their own password), and
// ownership and table privileges (privileges.go).

// Authentication methods (Config.Auth).
const (
	AuthTrust = "trust" // everyone in, as any user: loopback only, or with --insecure
	AuthSCRAM = "scram" // SCRAM-SHA-256 against the stored roles
)

// passwords is pgwire's view of the stored roles: the verifier of a role
// that may log in.
func (s *Server) passwords(_ context.Context, user string) (string, bool, error) {
	r, ok := s.eng.Role(user)
	if !ok || !r.Login || r.Verifier == "" {
		return "", false, nil
	}
	return r.Verifier, true, nil
}

// isSuperuser reports whether user is a superuser: a stored role with
// SUPERUSER, or, in trust mode, any user without a stored role (as every
// user was before roles existed).
func (s *Server) isSuperuser(user string) bool {
	r, ok := s.eng.Role(user)
	if !ok {
		return s.cfg.Auth != AuthSCRAM
	}
	return r.Superuser
}

// newMockKey is a node's own key for made-up verifiers, used only while
// no role has a password (then nobody can log in with SCRAM anyway).
func newMockKey() []byte {
	k := make([]byte, 32)
	rand.Read(k) // never fails (crypto/rand since Go 1.24)
	return k
}

// mockKey is the key of the made-up verifiers of unknown users
// (pgwire.Server.SCRAMMockKey): derived from the stored roles
// (sqlengine's RoleSecret), so every node makes up the same salt for the
// same unknown user, as it shows the same salt for a real one: asking
// two nodes does not tell which users exist.
func (s *Server) mockKey(local []byte) func() []byte {
	return func() []byte {
		if k := s.eng.RoleSecret(); k != nil {
			return k
		}
		return local
	}
}

// isLoopback reports whether addr listens on loopback only.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// roleOp checks that the session may run a role statement and returns its
// log operation, the password turned into its verifier.
func (s *session) roleOp(ctx context.Context, st *translate.Stmt) (sqlengine.Op, error) {
	rs := st.Role
	c := rs.Change
	if c.Privilege != nil { // GRANT, REVOKE: the engine checks the grantor (sqlengine/acl.go)
		pc := *c.Privilege // st is shared by cached statements
		pc.Grantor, pc.GrantorSuper = s.user, s.srv.isSuperuser(s.user)
		c.Privilege = &pc
		return sqlengine.RoleOp(c)
	}
	if err := s.mayChangeRole(rs); err != nil {
		return sqlengine.Op{}, err
	}
	switch c.Action {
	case sqlengine.RoleCreate:
		if err := sqlengine.ValidRoleName(c.Name); err != nil {
			return sqlengine.Op{}, err
		}
	case sqlengine.RoleRename:
		if err := sqlengine.ValidRoleName(c.NewName); err != nil {
			return sqlengine.Op{}, err
		}
		if c.Name == s.user {
			return sqlengine.Op{}, pgerror.New(pgerror.FeatureNotSupported, "session user cannot be renamed")
		}
	case sqlengine.RoleDrop:
		if c.Name == s.user {
			return sqlengine.Op{}, pgerror.New(pgerror.ObjectInUse, "current user cannot be dropped")
		}
	}
	switch {
	case rs.PasswordNull:
		c.Verifier = new(string)
	case rs.Password != nil:
		v, err := verifierOf(*rs.Password)
		if err != nil {
			return sqlengine.Op{}, err
		}
		c.Verifier = &v
	}
	return sqlengine.RoleOp(c)
}

var md5Verifier = regexp.MustCompile(`^md5[0-9a-f]{32}$`)

// verifierOf is what PASSWORD 'x' stores: a SCRAM verifier as it is
// (pg_dumpall's ALTER ROLE … PASSWORD 'SCRAM-SHA-256$…'), else the
// verifier of x; an empty password stores none, as in PostgreSQL.
func verifierOf(password string) (string, error) {
	switch {
	case password == "":
		return "", nil
	case pgwire.IsSCRAMVerifier(password):
		return password, nil
	case md5Verifier.MatchString(password):
		return "", pgerror.New(pgerror.FeatureNotSupported, "MD5 password hashes are not supported").
			WithHint("Set the password again in plain text, or as a SCRAM-SHA-256 verifier.")
	}
	return pgwire.SCRAMVerifier(password)
}

// mayChangeRole applies PostgreSQL's rules for role statements: a
// superuser may do anything; a role with CREATEROLE may create, alter and
// drop roles that are not superusers; everyone may change their own
// password. In trust mode a user without a stored role is a superuser, as
// every user was before roles existed.
func (s *session) mayChangeRole(rs *translate.RoleStmt) error {
	me, ok := s.srv.eng.Role(s.user)
	if !ok {
		if s.srv.cfg.Auth == AuthSCRAM {
			return pgerror.New(pgerror.InsufficientPrivilege, "permission denied: role %q does not exist", s.user)
		}
		return nil
	}
	if me.Superuser {
		return nil
	}
	c := rs.Change
	if c.Action == sqlengine.RoleAlter && c.Name == s.user && c.Superuser == nil && c.Login == nil &&
		c.CreateRole == nil && c.CreateDB == nil {
		return nil // one's own password
	}
	verb := map[sqlengine.RoleAction]string{sqlengine.RoleCreate: "create", sqlengine.RoleAlter: "alter",
		sqlengine.RoleRename: "rename", sqlengine.RoleDrop: "drop"}[c.Action]
	denied := func(attr, what string) error {
		return pgerror.New(pgerror.InsufficientPrivilege, "permission denied to %s role", verb).
			WithDetail("Only roles with the " + attr + " attribute may " + verb + " " + what + ".")
	}
	if !me.CreateRole {
		return denied("CREATEROLE", "roles")
	}
	target, exists := s.srv.eng.Role(c.Name)
	if c.Superuser != nil && *c.Superuser || c.Action != sqlengine.RoleCreate && exists && target.Superuser {
		return denied("SUPERUSER", "roles with the SUPERUSER attribute")
	}
	return nil
}

// ensureSuperuser creates the bootstrap superuser through the log once
// this node leads, unless it exists: pgraft serve --auth scram on a new
// cluster, with the password from PGRAFT_PASSWORD or --password-file.
// Bounded: it gives up with the server's background context.
func (s *Server) ensureSuperuser(ctx context.Context) error {
	name, password := s.cfg.Superuser, s.cfg.SuperuserPassword
	if name == "" || password == "" {
		return nil
	}
	if err := sqlengine.ValidRoleName(name); err != nil && name != "postgres" {
		return fmt.Errorf("--superuser: %w", err)
	}
	v, err := verifierOf(password)
	if err != nil {
		return fmt.Errorf("superuser password: %w", err)
	}
	op, err := sqlengine.RoleOp(sqlengine.RoleChange{Action: sqlengine.RoleEnsure, Name: name, Verifier: &v,
		Superuser: ptr(true), Login: ptr(true), CreateRole: ptr(true), CreateDB: ptr(true)})
	if err != nil {
		return err
	}
	for {
		if _, ok := s.eng.Role(name); ok {
			return nil
		}
		if s.isLeader() {
			wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			err := s.waitWritable(wctx)
			if err == nil {
				ec := sqlengine.ExecContext{TimeMicros: s.now().UnixMicro(), User: name}
				_, _, err = s.repl.Propose(wctx, mustEncode(&sqlengine.Payload{Ctx: ec, Ops: []sqlengine.Op{op}}))
			}
			cancel()
			if err == nil {
				s.log.Info("created the bootstrap superuser", "role", name)
				return nil
			}
			s.log.Debug("create the bootstrap superuser: retrying", logKeyErr, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func mustEncode(p *sqlengine.Payload) []byte {
	b, err := sqlengine.EncodePayload(p)
	if err != nil {
		panic(fmt.Sprintf("encode payload: %v", err)) // a role change always encodes
	}
	return b
}

func ptr[T any](v T) *T { return &v }

// authMethod checks Config.Auth against the listen address: trust on an
// address other hosts can reach needs Insecure.
func (c *Config) authMethod() (string, error) {
	switch strings.ToLower(c.Auth) {
	case "", AuthTrust:
		if !isLoopback(c.PGAddr) && c.PGListener == nil && !c.Insecure {
			return "", fmt.Errorf("--auth trust on %s lets anyone who reaches it in as any user: use --auth scram, listen on loopback, or say --insecure", c.PGAddr)
		}
		return AuthTrust, nil
	case AuthSCRAM:
		return AuthSCRAM, nil
	}
	return "", fmt.Errorf("--auth %q: want trust or scram", c.Auth)
}
