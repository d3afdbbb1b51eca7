package server

import (
	"context"
	"time"

	"github.com/pgraft/pgraft/pgwire/pgerror"
	"github.com/pgraft/pgraft/sqlengine"
	"github.com/pgraft/pgraft/sqlengine/translate"
)

// currval and lastval are session state in PostgreSQL: the value this
// session's nextval last returned (or setval set) for each sequence. A
// write's result carries the values its statement produced
// (sqlengine.ExecResult.Seqs): the leader's apply result of an autocommit
// write, the speculative run of a transaction's statement, or, on a
// follower, the leader-side session's answer to a forwarded write.

// seqSession is a session's currval and lastval state.
type seqSession struct {
	last     map[string]int64 // currval by sequence
	lastName string           // lastval's sequence ("" before the first nextval)
}

// note records a write's sequence values.
func (q *seqSession) note(vals []sqlengine.SeqValue) {
	for _, v := range vals {
		if q.last == nil {
			q.last = map[string]int64{}
		}
		q.last[v.Name] = v.Value
		if v.Nextval {
			q.lastName = v.Name
		}
	}
}

// value answers SELECT currval('s') (name "s") or SELECT lastval() (name
// "") with PostgreSQL's errors.
func (q *seqSession) value(name string) (int64, error) {
	if name == "" {
		if q.lastName == "" {
			return 0, pgerror.New(pgerror.ObjectNotInPrerequisiteState, "lastval is not yet defined in this session")
		}
		name = q.lastName
	}
	v, ok := q.last[name]
	if !ok {
		return 0, pgerror.New(pgerror.ObjectNotInPrerequisiteState,
			"currval of sequence \"%s\" is not yet defined in this session", name)
	}
	return v, nil
}

// runSessionSeqLocked answers SELECT currval('s') / SELECT lastval(). A
// sequence the session has no value of and the schema does not know is
// 42P01, as PostgreSQL resolves the name first.
func (s *session) runSessionSeqLocked(ctx context.Context, p *portal) error {
	name := p.stmt.st.SessionSeq.Name
	v, err := s.seqs.value(name)
	if err != nil {
		if snap, serr := s.srv.eng.Schema(ctx); name != "" && serr == nil && !snap.Sequence(name) {
			return pgerror.New(pgerror.UndefinedTable, "relation \"%s\" does not exist", name)
		}
		return err
	}
	p.mat = [][]any{{v}}
	return nil
}

// seqValues are the sequence values a forwarded write produced.
func (r *fwdResponse) seqValues() []sqlengine.SeqValue {
	if len(r.SeqNames) != len(r.SeqValues) || len(r.SeqNames) != len(r.SeqNextval) {
		return nil
	}
	out := make([]sqlengine.SeqValue, len(r.SeqNames))
	for i := range out {
		out[i] = sqlengine.SeqValue{Name: r.SeqNames[i], Value: r.SeqValues[i], Nextval: r.SeqNextval[i]}
	}
	return out
}

// noteSeqs records the values the block's nextval handed out.
func (w *localWriter) noteSeqs(vals []sqlengine.SeqValue) {
	for _, v := range vals {
		if !v.Nextval {
			continue
		}
		if w.seen == nil {
			w.seen = map[string][2]int64{}
		}
		r, ok := w.seen[v.Name]
		if !ok {
			r = [2]int64{v.Value, v.Value}
		}
		r[0], r[1] = min(r[0], v.Value), max(r[1], v.Value)
		w.seen[v.Name] = r
	}
}

// advanceTimeout bounds the wait for the entry that spends a rolled-back
// block's sequence values.
const advanceTimeout = 5 * time.Second

// advanceSequencesLocked logs that the values a block that did not commit
// handed out are spent: PostgreSQL's nextval is not undone by ROLLBACK,
// and in pgraft a block that does not commit never reaches the log, so
// without this entry every node would hand the same values out again. It
// is a pipelined write that runs while the block still holds the write
// gate exclusively (it takes the gate again if its COMMIT had passed it
// on), so no other write draws from the sequences first. If it cannot be
// logged (this node lost the leadership), the values may be handed out
// again: logged as a warning (docs/design.md, "Sequences").
func (s *session) advanceSequencesLocked(seen map[string][2]int64, g *heldGate) {
	ctx, cancel := context.WithTimeout(context.Background(), advanceTimeout)
	defer cancel()
	err := func() error {
		if !g.held {
			if err := s.srv.gate.acquire(ctx, true); err != nil {
				return err
			}
			g.held = true
		}
		wt, err := s.srv.eng.BeginWrite(ctx, s.execContext(), true)
		if err != nil {
			return err
		}
		defer wt.Rollback()
		if _, err := wt.Exec(ctx, translate.AdvanceSequencesSQL(seen), nil, false); err != nil {
			return err
		}
		_, err = s.commitWrite(ctx, wt, g)
		return err
	}()
	if err != nil {
		s.log.Warn("could not log that a rolled-back transaction's sequence values are spent; they may be handed out again", logKeyErr, err)
	}
}

// bindSessionSeqs gives the portal its statement with the session's
// currval and lastval values written into its text
// (translate.BindSessionSeqs): a logged write then carries them, and every
// node evaluates them alike.
func (s *session) bindSessionSeqs(p *portal) {
	st := *p.stmt.st // translations are shared: change a copy
	st.SQL = translate.BindSessionSeqs(st.SQL,
		func(name string) (int64, bool) { v, ok := s.seqs.last[name]; return v, ok },
		func() (int64, bool) {
			v, ok := s.seqs.last[s.seqs.lastName]
			return v, ok && s.seqs.lastName != ""
		})
	st.SessionValues = false
	stmt := *p.stmt
	stmt.st, stmt.private = &st, true
	p.stmt = &stmt
}

// send puts the session's values into a forwarded statement's request.
func (q *seqSession) send(req *fwdRequest) {
	for name, v := range q.last {
		req.SeqNames, req.SeqValues = append(req.SeqNames, name), append(req.SeqValues, v)
	}
	req.LastSeq = q.lastName
}

// adopt takes a forwarded request's values as the leader-side session's:
// the follower session's are the ones its statement reads.
func (q *seqSession) adopt(req *fwdRequest) {
	if len(req.SeqNames) != len(req.SeqValues) {
		return
	}
	q.last, q.lastName = nil, req.LastSeq
	for i, name := range req.SeqNames {
		if q.last == nil {
			q.last = map[string]int64{}
		}
		q.last[name] = req.SeqValues[i]
	}
}
