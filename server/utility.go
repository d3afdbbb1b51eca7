package server

import (
	"context"
	"strings"

	"github.com/pgraft/pgraft/pgwire/pgerror"
	"github.com/pgraft/pgraft/sqlengine/translate"
)

// runUtilityLocked runs transaction control, SET/SHOW and housekeeping.
func (s *session) runUtilityLocked(ctx context.Context, p *portal) error {
	st := p.stmt.st
	p.done, p.tag = true, st.Tag
	switch st.Kind {
	case translate.KindBegin:
		s.beginLocked(st.Tx)
	case translate.KindCommit:
		tag, err := s.commitLocked(ctx)
		p.tag = tag
		return err
	case translate.KindRollback:
		s.rollbackLocked()
	case translate.KindSavepoint, translate.KindRelease, translate.KindRollbackTo:
		return s.savepointLocked(ctx, st.Kind, st.Savepoint)
	case translate.KindSet:
		return s.runSetLocked(p)
	case translate.KindShow:
		return s.runShowLocked(p)
	case translate.KindDiscard:
		if strings.HasPrefix(st.Tag, "DISCARD") && s.tx.state != txIdle {
			return pgerror.New(pgerror.ActiveSQLTransaction, "DISCARD ALL cannot run inside a transaction block")
		}
		if st.Tag == "DISCARD ALL" {
			s.set.resetAll()
		}
		if st.Tag == "DISCARD ALL" || st.Tag == "DISCARD SEQUENCES" {
			s.seqs = seqSession{} // currval and lastval forget (sequences.go)
		}
	case translate.KindDeclare:
		return s.declareLocked(ctx, p)
	case translate.KindFetch:
		p.done = false
		return s.fetchLocked(ctx, p)
	case translate.KindClose:
		return s.closeCursorLocked(st.Cursor)
	case translate.KindNoop:
	default:
		return pgerror.New(pgerror.InternalError, "statement kind %d not routed", st.Kind)
	}
	return nil
}

func (s *session) runSetLocked(p *portal) error {
	set, st := p.stmt.st.Set, p.stmt.st
	if st.Tx != nil {
		return s.setTransactionLocked(st.Tx)
	}
	if set == nil {
		return nil
	}
	if set.Name == "session_authorization" || set.Name == "role" {
		return s.setRoleLocked(p, set) // privileges.go
	}
	if set.IfKnown {
		if _, known := s.set.get(set.Name); !known {
			p.done, p.tag = true, "SELECT 0" // pg_settings has no such row
			return nil
		}
	}
	var err error
	switch {
	case set.All:
		s.set.resetAll()
	case set.Reset:
		err = s.set.reset(set.Name)
	default:
		local := set.Local
		if local && s.tx.state == txIdle {
			// PostgreSQL warns "SET LOCAL can only be used in transaction
			// blocks" and changes nothing.
			if set.Result {
				p.done, p.mat = false, [][]any{{strings.Join(set.Values, ", ")}}
			}
			return nil
		}
		err = s.set.set(set.Name, strings.Join(set.Values, ", "), local)
	}
	if err != nil {
		return err
	}
	if set.Result {
		v, _ := s.set.get(set.Name)
		p.done, p.mat = false, [][]any{{v}}
	}
	return nil
}

// setTransactionLocked handles SET TRANSACTION and SET SESSION
// CHARACTERISTICS AS TRANSACTION.
func (s *session) setTransactionLocked(opts *translate.TxOptions) error {
	if opts.Import {
		return s.importSnapshotLocked(opts.Snapshot) // snapshots.go
	}
	if opts.Session {
		if opts.Isolation != "" {
			if err := s.set.set("default_transaction_isolation", opts.Isolation, false); err != nil {
				return err
			}
		}
		if opts.ReadOnly != nil {
			return s.set.set("default_transaction_read_only", onOff(*opts.ReadOnly), false)
		}
		return nil
	}
	if s.tx.state == txIdle {
		return nil // PostgreSQL warns "SET TRANSACTION can only be used in transaction blocks"
	}
	if s.tx.rt != nil || s.tx.w != nil {
		if opts.Isolation != "" && opts.Isolation != s.tx.isolation {
			return pgerror.New(pgerror.ActiveSQLTransaction, "SET TRANSACTION ISOLATION LEVEL must be called before any query")
		}
	}
	s.applyTxOptionsLocked(opts)
	return nil
}

func (s *session) runShowLocked(p *portal) error {
	name := p.stmt.st.Show
	p.done = false
	if name == "all" {
		for _, kv := range s.set.all() {
			p.mat = append(p.mat, []any{kv[0], kv[1], ""})
		}
		return nil
	}
	v, ok := s.showValue(name)
	if !ok {
		return pgerror.New(pgerror.UndefinedObject, "unrecognized configuration parameter %q", name)
	}
	p.mat = [][]any{{v}}
	return nil
}

// showValue is SHOW's answer, with the values that depend on the node's
// role and the transaction computed now.
func (s *session) showValue(name string) (string, bool) {
	switch strings.ToLower(name) {
	case "transaction_read_only":
		return onOff(s.readOnly() || !s.srv.isLeader()), true
	case "transaction_isolation":
		return s.isolation(), true
	case "in_hot_standby":
		return onOff(!s.srv.isLeader()), true
	case "default_transaction_read_only":
		if !s.srv.isLeader() {
			return "on", true
		}
	}
	return s.set.get(name)
}

func showColumnName(name string) string { return canonicalName(name) }
