package server

import (
	"strings"

	"github.com/pgraft/pgraft/pgwire/pgerror"
	"github.com/pgraft/pgraft/sqlengine/translate"
)

// privileges.go checks a statement against ownership and privileges
// (issue 14) before it runs, as PostgreSQL does at execution: what the
// statement uses (translate.Access, from its parse tree) against the
// privilege catalog the log replicated (sqlengine/acl.go). Superusers pass
// everything; so does a user without a stored role in trust mode, as
// every user did before roles existed.
//
// The check is the session's, on the node the client talks to (and again
// on the leader for a forwarded statement): apply never checks, so an
// entry means the same on every node. A privilege revoked after a
// statement was checked does not stop that statement, as in PostgreSQL,
// where the check happens once at the start of execution.

// checkAccess fails with 42501 unless the session's user may run st.
func (s *session) checkAccess(st *translate.Stmt) error {
	if len(st.Access) == 0 || s.srv.isSuperuser(s.user) {
		return nil
	}
	p := s.srv.eng.Privileges()
	for _, a := range st.Access {
		if err := p.Check(s.user, a); err != nil {
			return err
		}
	}
	return nil
}

// setRoleLocked runs SET [SESSION] ROLE and SET SESSION AUTHORIZATION (and
// their RESET): the session's user, which privileges are checked against
// and current_user shows, becomes another role. As in PostgreSQL, only a
// superuser login may become another role (pgraft has no role
// membership), and RESET or DEFAULT returns to the login's.
func (s *session) setRoleLocked(p *portal, set *translate.SetStmt) error {
	if set.Local {
		return pgerror.Unsupported("SET LOCAL " + set.Name)
	}
	target := s.login
	if !set.Reset && len(set.Values) == 1 && !strings.EqualFold(set.Values[0], "none") && !strings.EqualFold(set.Values[0], "default") {
		target = set.Values[0]
	}
	if target != s.login {
		if !s.srv.isSuperuser(s.login) {
			if set.Name == "role" {
				return pgerror.New(pgerror.InsufficientPrivilege, "permission denied to set role %q", target)
			}
			return pgerror.New(pgerror.InsufficientPrivilege, "permission denied to set session authorization")
		}
		if _, ok := s.srv.eng.Role(target); !ok {
			return pgerror.New(pgerror.UndefinedObject, "role %q does not exist", target)
		}
	}
	s.user = target
	s.set.values["session_authorization"] = target
	s.set.values["is_superuser"] = onOff(s.srv.isSuperuser(target))
	if set.Name == "role" {
		s.set.values["role"] = "none"
		if target != s.login {
			s.set.values["role"] = target
		}
	}
	if set.Result {
		p.done, p.mat = false, [][]any{{target}}
	}
	return nil
}
