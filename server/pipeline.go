package server

import (
	"context"
	"time"

	"github.com/pgraft/pgraft/pgwire/pgerror"
	"github.com/pgraft/pgraft/sqlengine"
)

// pipeline.go is the session's side of commit pipelining (docs/design.md
// §4, "Commit pipelining"; the engine's side is sqlengine/pipeline.go). A
// transaction on the leader runs once, on the write connection, holding the
// gate exclusively; at COMMIT it is sealed as a member of the open epoch,
// its entry is handed to raft in order, and the gate passes on at once: the
// next transaction runs on top of it. The client gets its answer only once
// the entry is committed by a quorum and the epoch holding it committed on
// this node. Autocommit writes do not pipeline: they are admitted together
// as shared holders of the gate and applied from the log in batches, which
// measured faster for them (route.go).

// heldGate is the write gate as a writer holds it until its entry is
// handed to raft.
type heldGate struct {
	s    *session
	held bool
}

func (g *heldGate) release() {
	if g.held {
		g.held = false
		g.s.srv.gate.release(true)
	}
}

// commitWrite ends a write transaction on the leader (wt, borrowed while
// holding the gate g exclusively): it seals it into the epoch, hands its
// entry to raft, passes the gate on, and waits for its outcome. A
// transaction that does not pipeline (DDL, roles, larger than one entry)
// waits, still holding the gate, until every pipelined write before it
// has committed, then is proposed and applied alone, as before pipelining.
// nil, nil: it wrote nothing.
func (s *session) commitWrite(ctx context.Context, wt *sqlengine.WriteTx, g *heldGate) (*sqlengine.ApplyResult, error) {
	sealed, err := wt.Seal(maxEntrySize)
	if err != nil || sealed == nil {
		return nil, err
	}
	if sealed.Member == nil {
		clean, err := s.srv.eng.Drain(ctx)
		if err != nil {
			return nil, contextError(ctx, err)
		}
		if !clean { // it ran on writes that did not commit as they ran
			return nil, pgerror.New(pgerror.SerializationFailure, "could not serialize access due to concurrent update")
		}
		p := sealed.Payload
		p.DataIndex = s.srv.eng.DataIndex()
		if parts := wt.Parts(); parts != nil {
			return s.proposeStaged(ctx, p, parts) // bigtxn.go
		}
		return s.propose(ctx, p)
	}
	m := sealed.Member
	pctx, stop := s.srv.proposeContext(ctx)
	defer stop()
	t0 := time.Now()
	prop, err := s.srv.repl.Enqueue(pctx, m.Data())
	g.release() // the next write runs on top of this one
	if err != nil {
		_, _ = s.srv.eng.Await(ctx, m, nil, err)
		return nil, s.proposeFailed(ctx, pctx, err)
	}
	index, resp, err := prop.Wait(pctx)
	ar, aerr := s.srv.eng.Await(pctx, m, resp, err) // an apply fault ends pctx
	s.srv.metrics.observe(s.srv.metrics.commit, t0)
	if err != nil {
		return nil, s.proposeFailed(ctx, pctx, err)
	}
	if aerr != nil {
		if pctx.Err() != nil {
			return nil, s.proposeFailed(ctx, pctx, aerr)
		}
		return nil, aerr
	}
	s.lastIndex = index
	if ar.Err != nil {
		return nil, ar.Err
	}
	return ar, nil
}

// proposeFailed maps a failed proposal to the client's error.
func (s *session) proposeFailed(ctx, pctx context.Context, err error) error {
	if context.Cause(pctx) == errApplyFaultDuringWrite && ctx.Err() == nil {
		f := s.srv.writeFault()
		return pgerror.New(pgerror.StatementCompletionUnknown,
			"the write may or may not have committed: %v", f).
			WithHint("Another node may have applied it; read it there, or retry where it is safe to.")
	}
	return proposeError(ctx, err)
}
