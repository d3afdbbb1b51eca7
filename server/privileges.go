package server

import (
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
