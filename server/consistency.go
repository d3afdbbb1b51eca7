package server

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pgraft/pgraft/pgwire"
	"github.com/pgraft/pgraft/pgwire/pgerror"
	"github.com/pgraft/pgraft/replica"
	"github.com/pgraft/pgraft/sqlengine/translate"
)

// consistency.go implements the read consistency levels (DESIGN.md §6):
//
//   - local: no wait for the session's writes;
//   - session (default): wait until this node applied the session's last
//     commit index (its own writes, and forwarded ones);
//   - linearizable: ask the leader for a read index (it records its commit
//     index and confirms its leadership with a quorum; a new leader first
//     commits a barrier of its term) and wait until this node applied it.
//
// On top of the level:
//   - pgraft.min_index = N (a token from pgraft_commit_index() of any
//     session, on any node) makes every read wait until this node applied
//     N, whatever the level: it is an explicit request (causal consistency
//     across connections);
//   - pgraft.max_lag = d (0 = off) makes local and session reads on a node
//     that does not lead fail with 40001 when it last heard from the leader
//     more than d ago, or when it cannot apply what it knows is committed
//     within d. A linearizable read is never stale, so it ignores max_lag.

// consistencyNode is what the consistency waits need from replication
// besides replicator's WaitApplied.
type consistencyNode interface {
	// ReadIndex returns the index a linearizable read must wait for,
	// asking the leader (over the Raft port) when this node does not lead.
	ReadIndex(ctx context.Context) (uint64, error)
	CommittedDataIndex() uint64
	AppliedIndex() uint64
	LastContact() time.Time // of the leader; now on the leader itself
}

// consistencyWait runs the wait of the session's consistency level, the
// max_lag check and the min_index wait, in that order. The lag check comes
// first so that a stale follower fails at once rather than waiting.
func (s *session) consistencyWait(ctx context.Context) error {
	level, _ := s.set.get("pgraft.read_consistency")
	target := s.minIndex()
	switch level {
	case "linearizable":
		index, err := s.requestReadIndex(ctx)
		if err != nil {
			return err
		}
		target = max(target, index, s.lastIndex)
	case "session":
		target = max(target, s.lastIndex)
	}
	if level != "linearizable" {
		if err := s.checkLag(ctx); err != nil {
			return err
		}
	}
	if target == 0 {
		return nil
	}
	if err := s.srv.waitApplied(ctx, target); err != nil {
		if pgerror.As(err) != nil {
			return err // this node cannot apply the log (fault.go)
		}
		return waitError(ctx, err)
	}
	return nil
}

// awaitSchema runs before a statement is translated, so that translation
// (table and column names, parameter and result types, SELECT * expansion)
// uses the schema the statement will run against, not an older one on a
// follower that lags:
//
//   - the session's own forwarded schema change, at every level: a session
//     sees the table it just created;
//   - what the read consistency level and pgraft.min_index promise a read
//     will see (a linearizable read of a table another session just
//     created, through the extended protocol, translated against the
//     follower's older schema and failed with 42P01 before);
//   - a new leader's predecessors' entries, which a write is about to run
//     against.
//
// It is best effort: the statement may be a write, which the leader runs
// (the follower's max_lag and its read-index errors do not apply to it), so
// a wait that fails or takes long is given up and translation goes on; a
// read then does its full consistencyWait at Execute and fails there if it
// must. The wait also ends with the statement's context. It reports
// whether it waited at all: mostly there is nothing to wait for, and it
// returns at once, with no timer.
func (s *session) awaitSchema(ctx context.Context) (waited bool) {
	s.mu.Lock()
	target := s.fwd.ddlIndex
	s.fwd.ddlIndex = 0
	inTx := s.tx.w != nil
	s.mu.Unlock()
	catchingUp := s.srv.leaderCatchingUp()
	linearizable := false
	if !inTx { // a transaction's statements translate against its own schema
		target = max(target, s.minIndex())
		switch level, _ := s.set.get("pgraft.read_consistency"); level {
		case "linearizable":
			linearizable = true
		case "session":
			target = max(target, s.lastIndex)
		}
	}
	if !catchingUp && !linearizable && target <= s.srv.reads.AppliedIndex() {
		return false // the common case: nothing to wait for, no timer
	}
	wctx, cancel := context.WithTimeout(ctx, schemaWaitMax)
	defer cancel()
	if catchingUp {
		s.srv.waitWritable(wctx) //nolint:errcheck // best effort: writes check again
	}
	if linearizable {
		if index, err := s.requestReadIndex(wctx); err == nil {
			target = max(target, index, s.lastIndex)
		}
	}
	if target != 0 {
		s.srv.repl.WaitApplied(wctx, target) //nolint:errcheck // best effort, see above
	}
	return true
}

// schemaMatters reports whether a query string's translation depends on
// the schema: it reads or writes tables, or failed on a name a newer schema
// may have. SET, SHOW, BEGIN and the like wait for nothing.
func schemaMatters(stmts []*translate.Stmt, err error) bool {
	if err != nil {
		pe := pgerror.As(err)
		if pe == nil {
			return false
		}
		switch pe.Code {
		case pgerror.UndefinedTable, pgerror.UndefinedColumn, pgerror.UndefinedObject, pgerror.InvalidSchemaName:
			return true
		}
		return false
	}
	for _, st := range stmts {
		switch st.Kind {
		case translate.KindSelect, translate.KindInsert, translate.KindUpdate, translate.KindDelete,
			translate.KindDDL, translate.KindDeclare, translate.KindCopy:
			return true
		}
	}
	return false
}

// schemaWaitMax bounds awaitSchema.
const schemaWaitMax = 5 * time.Second

// minIndex is pgraft.min_index (negative values count as 0).
func (s *session) minIndex() uint64 {
	v, _ := s.set.get("pgraft.min_index")
	n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return 0
	}
	return n
}

// requestReadIndex is readIndex, asked once per client request
// (pgwire.RequestID): a read index obtained after the request began serves
// every read in it, so a simple Query's Parse (awaitSchema) and Execute
// (consistencyWait) make one round trip to the leader, not two.
func (s *session) requestReadIndex(ctx context.Context) (uint64, error) {
	req := pgwire.RequestID(ctx)
	if req != 0 && req == s.readIndexReq {
		return s.readIndexAt, nil
	}
	index, err := s.readIndex(ctx)
	if err != nil {
		return 0, err
	}
	s.readIndexReq, s.readIndexAt = req, index
	return index, nil
}

// readIndex asks for the linearizable read index.
func (s *session) readIndex(ctx context.Context) (uint64, error) {
	t0 := time.Now()
	index, err := s.srv.reads.ReadIndex(ctx)
	s.srv.metrics.observe(s.srv.metrics.readIndex, t0)
	if err == nil {
		return index, nil
	}
	if ctx.Err() != nil {
		return 0, contextError(ctx, err)
	}
	if errors.Is(err, replica.ErrShutdown) {
		return 0, pgerror.New(pgerror.AdminShutdown, "terminating connection due to administrator command")
	}
	return 0, pgerror.New(pgerror.SerializationFailure,
		"could not confirm the leader for a linearizable read: %v", err).
		WithHint("Retry the statement; a leader election may be in progress.")
}

// checkLag enforces pgraft.max_lag on a node that does not lead.
func (s *session) checkLag(ctx context.Context) error {
	maxLag := s.set.duration("pgraft.max_lag")
	if maxLag <= 0 || s.srv.isLeader() {
		return nil
	}
	n := s.srv.reads
	last := n.LastContact()
	if last.IsZero() || time.Since(last) > maxLag {
		return lagError(maxLag, "no contact with the leader "+sinceText(last))
	}
	committed := n.CommittedDataIndex()
	wctx, cancel := context.WithTimeout(ctx, maxLag)
	defer cancel()
	if err := s.srv.repl.WaitApplied(wctx, committed); err != nil {
		if ctx.Err() != nil {
			return contextError(ctx, err)
		}
		if errors.Is(err, replica.ErrShutdown) {
			return waitError(ctx, err)
		}
		return lagError(maxLag, fmt.Sprintf("applied index %d still behind commit index %d after %v",
			n.AppliedIndex(), committed, maxLag))
	}
	return nil
}

// sinceText says how long ago t was, for lagError's detail.
func sinceText(t time.Time) string {
	if t.IsZero() {
		return "since this node started"
	}
	return "for " + time.Since(t).Round(time.Millisecond).String()
}

// lagError is the error of a read refused by pgraft.max_lag: 40001, the
// code PostgreSQL's standbys use to cancel a query that conflicts with
// recovery, so that clients retry it (preferably on another node).
func lagError(maxLag time.Duration, detail string) error {
	return pgerror.New(pgerror.SerializationFailure,
		"this node lags the leader by more than pgraft.max_lag (%v)", maxLag).
		WithDetail(detail + ".").
		WithHint("Retry on the leader or another node, raise pgraft.max_lag, or use pgraft.read_consistency = linearizable.")
}

// waitError maps a failed WaitApplied.
func waitError(ctx context.Context, err error) error {
	if errors.Is(err, replica.ErrShutdown) {
		return pgerror.New(pgerror.AdminShutdown, "terminating connection due to administrator command")
	}
	return contextError(ctx, err)
}

// runCommitIndexLocked answers SELECT pgraft_commit_index(): a token that
// another session passes to SET pgraft.min_index. It is the session's last
// commit index, raised to what this node knows is committed: that covers
// both what the session wrote and what it may have read since.
func (s *session) runCommitIndexLocked(p *portal) error {
	index := max(s.lastIndex, s.srv.reads.CommittedDataIndex(), s.minIndex())
	p.mat = [][]any{{int64(index)}}
	return nil
}
