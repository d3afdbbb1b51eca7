package sqlengine

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// pipeline.go is commit pipelining on the leader (docs/design.md §4,
// "Commit pipelining"). A write runs once, speculatively, on the write
// connection; its work stays there, inside one open SQLite transaction —
// the epoch — while its entry goes through Raft, and the next write runs on
// top of it. Apply, seeing the epoch's own entries come back committed and
// in order, matches them instead of running them again; once every member
// is matched and none is running, the epoch commits in SQLite with the
// applied index of its last member (I2), and its members' clients get the
// answers their speculative runs produced. Anything else that reaches apply
// while an epoch is open (an entry that is not the next member, a member
// whose proposal failed) breaks the epoch: its SQLite transaction rolls
// back, the members apply already matched run again the ordinary way, and
// the rest apply the ordinary way when they come, checked against the chain
// they ran on (SpecEpoch, SpecSeq): a transaction whose predecessors did not
// all apply as they ran fails with 40001 on every node.
//
// Everything here is guarded by e.wmu.

// epoch is the speculative state on the leader's write connection.
type epoch struct {
	id      uint64 // SpecEpoch of its members' entries: random, nonzero
	base    uint64 // data index the epoch started on
	members []*Member
	matched int  // members[:matched] came back committed from the log
	closed  bool // no new members: it commits once its members are matched
	// firstMatch is when the first member came back committed: new members
	// may still join for epochLinger (each waits for the others anyway),
	// then the epoch closes so that it commits.
	firstMatch time.Time
	done       chan struct{}
	broken     bool // ended by break (not by commit): set before done closes
}

// maxEpochMembers bounds one epoch: past it, new writers wait for it to
// commit.
const maxEpochMembers = 1024

// epochLinger is how long after its first member came back committed an
// epoch still takes new members. A client's write waits for its epoch to
// commit, so each client is in an epoch at most once: with clients that wait
// for their answers the epoch fills with the writes that are ready and
// commits as soon as all are back — group commit, one raft round trip for
// many writes. The linger bounds how long late joiners can hold the others'
// answers back.
const epochLinger = 2 * time.Millisecond

// closedNow reports whether the epoch takes no new members.
func (ep *epoch) closedNow() bool {
	return ep.closed || !ep.firstMatch.IsZero() && time.Since(ep.firstMatch) > epochLinger
}

// memberIdleRebase is how long committed members wait for a running member
// (a client thinking inside its transaction) before the epoch commits
// around it (rebaseLocked).
const memberIdleRebase = 2 * time.Millisecond

// Member is a write whose speculative run stays in the epoch while its
// entry is replicated.
type Member struct {
	ep    *epoch
	seq   uint64
	data  []byte      // the entry's payload, as apply will see it
	res   ApplyResult // the speculative run's outcome
	index uint64      // log index, once matched
	time  int64

	settled chan struct{}
	out     *ApplyResult // the outcome once settled
	outErr  error
}

// Data is the member's entry payload, to propose.
func (m *Member) Data() []byte { return m.data }

// specMatched is apply's response for an entry it matched to a member: the
// proposer waits for the member to settle (Member.Await).
type specMatched struct{ m *Member }

// errEpochLost settles members whose outcome this node no longer knows.
var errEpochLost = pgerror.New(pgerror.StatementCompletionUnknown,
	"the write may or may not have committed: replication state changed while it was committing").
	WithHint("Read it back, or retry where it is safe to.")

func newEpochID() uint64 {
	var b [8]byte
	for {
		if _, err := rand.Read(b[:]); err != nil {
			panic(fmt.Sprintf("sqlengine: read random epoch id: %v", err))
		}
		if id := binary.LittleEndian.Uint64(b[:]); id != 0 {
			return id
		}
	}
}

// joinEpochLocked puts the write connection into the open epoch for a new
// member, opening one if there is none, and marks the member's start. It
// waits (without the connection) while the epoch is closed. The caller holds
// e.wmu and e.swap shared; on return with an error it still holds both.
func (e *Engine) joinEpochLocked(ctx context.Context) error {
	for e.spec != nil && e.spec.closedNow() {
		ch := e.spec.done
		e.swap.RUnlock()
		e.wmu.Unlock()
		var err error
		select {
		case <-ch:
		case <-ctx.Done():
			err = ctx.Err()
		}
		if lerr := e.wmu.LockContext(ctx); lerr != nil {
			// Callers unlock on error: take the lock without the context.
			e.wmu.Lock()
			if err == nil {
				err = lerr
			}
		}
		e.swap.RLock()
		if err != nil {
			return err
		}
	}
	if e.spec == nil {
		if f := e.fault.get(); f != nil {
			return f.PGError()
		}
		// A broken epoch's committed entries come first: an epoch opened
		// before them would commit past them.
		if len(e.redo) > 0 {
			if err := e.applyRedoLocked(); err != nil {
				e.noteFault(err, e.redo[0].cmd.Index)
				return e.fault.get().PGError()
			}
		}
		if err := e.beginWriteLocked(ctx); err != nil {
			return err
		}
		e.spec = &epoch{id: newEpochID(), base: e.dataIndex.Load(), done: make(chan struct{})}
	} else if e.borrower != nil {
		return errors.New("sqlengine: write connection already borrowed")
	} else if f := e.fault.get(); f != nil {
		return f.PGError()
	}
	if _, err := e.wconn.ExecContext(context.Background(), "SAVEPOINT pgraft_member"); err != nil {
		e.breakLocked()
		return fmt.Errorf("begin member: %w", err)
	}
	return nil
}

// lastTimeLocked is the latest entry time of the open epoch's members, or
// 0: a member's time never goes below its predecessors'.
func (e *Engine) lastTimeLocked() int64 {
	var t int64
	if e.spec != nil {
		for _, m := range e.spec.members {
			t = max(t, m.time)
		}
	}
	return t
}

// sealLocked makes the borrower's run a member: its work stays in the
// epoch. The caller holds e.wmu and e.swap.
func (e *Engine) sealLocked(t *WriteTx, p *Payload) (*Member, error) {
	ep := e.spec
	p.SpecEpoch, p.SpecSeq = ep.id, uint64(len(ep.members)+1)
	p.DataIndex = ep.base
	data, err := EncodePayload(p)
	if err != nil {
		return nil, err
	}
	if _, err := e.wconn.ExecContext(context.Background(), "RELEASE pgraft_member"); err != nil {
		return nil, fmt.Errorf("seal member: %w", err)
	}
	m := &Member{ep: ep, seq: p.SpecSeq, data: data, time: p.Ctx.TimeMicros, settled: make(chan struct{})}
	if t.keep {
		m.res.Results = t.results
	}
	ep.members = append(ep.members, m)
	if len(ep.members) >= maxEpochMembers {
		ep.closed = true
	}
	e.borrower = nil
	t.done = true
	return m, nil
}

// dropMemberLocked rolls the borrower's run back out of the epoch (ROLLBACK
// of the transaction, an error, COMMIT of nothing) and returns the
// connection; an epoch left without work ends, one whose members are all
// matched commits. The caller holds e.wmu and e.swap.
func (e *Engine) dropMemberLocked(t *WriteTx) {
	t.done = true
	e.borrower = nil
	if e.wraw.AutoCommit() { // SQLite rolled the epoch back under a failed statement
		e.breakLocked()
		return
	}
	bg := context.Background()
	if _, err := e.wconn.ExecContext(bg, "ROLLBACK TO pgraft_member"); err == nil {
		_, err = e.wconn.ExecContext(bg, "RELEASE pgraft_member")
		if err != nil {
			e.log.Warn("release member savepoint", "err", err)
			e.breakLocked()
			return
		}
	} else {
		e.log.Warn("roll back member", "err", err)
		e.breakLocked()
		return
	}
	e.settleEpochLocked()
}

// settleEpochLocked ends the epoch when nothing keeps it open: with no
// members it rolls back (nothing to keep); with every member matched and
// none running it commits.
func (e *Engine) settleEpochLocked() {
	ep := e.spec
	if ep == nil || e.borrower != nil {
		return
	}
	if len(ep.members) == 0 {
		if !e.wraw.AutoCommit() {
			_, _ = e.wconn.ExecContext(context.Background(), "ROLLBACK")
		}
		e.spec = nil
		close(ep.done)
		return
	}
	if ep.matched == len(ep.members) {
		e.commitEpochLocked()
	}
}

// commitEpochLocked commits the epoch's SQLite transaction with the applied
// index of its last member, publishes it, and answers every member with its
// speculative outcome. A commit that fails breaks the epoch instead.
func (e *Engine) commitEpochLocked() {
	ep := e.spec
	last := ep.members[len(ep.members)-1]
	lastTime := e.lastTime.Load()
	for _, m := range ep.members {
		lastTime = max(lastTime, m.time)
	}
	ch := chain{epoch: ep.id, seq: last.seq}
	if e.cfg.InjectFault != nil {
		if err := e.cfg.InjectFault(ep.members[0].index); err != nil {
			e.log.Warn("commit epoch", "err", err)
			e.breakLocked()
			return
		}
	}
	if err := e.storeMetaLocked(last.index, last.index, lastTime, ch); err != nil {
		e.log.Warn("store the applied index of an epoch", "err", err)
		e.breakLocked()
		return
	}
	if _, err := e.wconn.ExecContext(context.Background(), "COMMIT"); err != nil {
		e.log.Warn("commit epoch", "err", err)
		e.breakLocked()
		return
	}
	e.chain = ch
	e.dataIndex.Store(last.index)
	e.lastTime.Store(lastTime)
	e.applied.Store(last.index) // published only after COMMIT (I2)
	e.tuneWAL(last.index)
	e.pstats.epochs.Add(1)
	e.pstats.members.Add(uint64(len(ep.members)))
	e.spec = nil
	for _, m := range ep.members {
		r := m.res
		r.Index = m.index
		m.settle(&r, nil)
	}
	close(ep.done)
	if e.cfg.OnApplied != nil {
		e.cfg.OnApplied(last.index)
	}
}

// breakLocked ends the epoch without committing it: its SQLite transaction
// rolls back (a running member loses the connection: 40001), members apply
// matched run again the ordinary way (redo), and the others will apply the
// ordinary way when their entries come (or never, if they were not
// appended). The caller holds e.wmu and e.swap.
func (e *Engine) breakLocked() {
	ep := e.spec
	if ep == nil {
		return
	}
	e.abortBorrowerLocked()
	if !e.wraw.AutoCommit() {
		_, _ = e.wconn.ExecContext(context.Background(), "ROLLBACK")
	}
	e.spec = nil
	ep.broken = true
	e.pstats.breaks.Add(1)
	for _, m := range ep.members[:ep.matched] {
		e.redo = append(e.redo, redoCmd{Command{Index: m.index, Data: m.data}, m})
	}
	close(ep.done)
	e.log.Debug("speculative epoch broken", "members", len(ep.members), "matched", ep.matched)
	if len(e.redo) > 0 {
		if err := e.applyRedoLocked(); err != nil {
			e.noteFault(err, e.redo[0].cmd.Index) // apply retries them before its next batch
		}
	}
}

// redoCmd is a committed entry that was matched to a member of a broken
// epoch: raft counts it applied, so this node applies it from here.
type redoCmd struct {
	cmd Command
	m   *Member
}

// applyRedoLocked applies the redo entries the ordinary way and answers
// their members. On failure they stay queued: the next apply batch runs
// them first (with apply's retries), and no later entry applies before.
func (e *Engine) applyRedoLocked() error {
	cmds := make([]Command, len(e.redo))
	for i, r := range e.redo {
		cmds[i] = r.cmd
	}
	out, err := e.applyBatchLocked(cmds, nil)
	if err != nil {
		return err
	}
	if f := e.fault.clear(); f != nil {
		e.log.Warn("apply resumed", "index", f.Index, "fault", f.Err, "lasted", time.Since(f.Since).Round(time.Millisecond))
	}
	for i, r := range e.redo {
		if ar, ok := out[i].(*ApplyResult); ok {
			r.m.settle(ar, nil)
		} else {
			r.m.settle(nil, errEpochLost)
		}
	}
	e.redo = nil
	if e.cfg.OnApplied != nil {
		e.cfg.OnApplied(e.applied.Load())
	}
	return nil
}

// matchLocked matches the leading commands of a batch to the open epoch's
// next members; it returns how many it matched. A command that is not the
// next member, or the first command of a new term (apply drops orphaned
// staged parts then), ends matching.
func (e *Engine) matchLocked(cmds []Command, out []any) int {
	ep := e.spec
	n := 0
	for ; n < len(cmds) && ep != nil && ep.matched < len(ep.members); n++ {
		c, m := cmds[n], ep.members[ep.matched]
		if c.Term > e.stagedTerm || !bytes.Equal(c.Data, m.data) {
			break
		}
		m.index = c.Index
		ep.matched++
		if ep.firstMatch.IsZero() {
			ep.firstMatch = time.Now()
		}
		out[n] = specMatched{m}
	}
	return n
}

// dropEpochLocked forgets the epoch and redo entries when the database is
// replaced (Restore): their outcomes are in the new state, or not, and
// this node cannot tell which.
func (e *Engine) dropEpochLocked() {
	if ep := e.spec; ep != nil {
		e.spec = nil
		ep.broken = true
		for _, m := range ep.members[:ep.matched] {
			m.settle(nil, errEpochLost)
		}
		close(ep.done)
	}
	for _, r := range e.redo {
		r.m.settle(nil, errEpochLost)
	}
	e.redo = nil
}

func (m *Member) settle(out *ApplyResult, err error) {
	select {
	case <-m.settled:
		return
	default:
	}
	m.out, m.outErr = out, err
	close(m.settled)
}

// Await returns the member's outcome once its entry committed, given what
// the proposal returned (the apply response, or the proposal's error). A
// failed proposal breaks the epoch if the member is still in it: the writes
// that ran on top of it then apply the ordinary way, checked against their
// chain. ctx bounds the wait; a member abandoned before its outcome is
// known breaks the epoch too, so that nothing waits for an answer no one
// collects.
func (e *Engine) Await(ctx context.Context, m *Member, resp any, proposeErr error) (*ApplyResult, error) {
	if proposeErr != nil {
		e.abandon(m)
		return nil, proposeErr
	}
	switch r := resp.(type) {
	case specMatched:
		// matched: wait for the epoch to commit, or for the redo
	case *ApplyResult: // applied the ordinary way (the epoch was broken)
		return r, nil
	default:
		return nil, pgerror.New(pgerror.StatementCompletionUnknown, "write outcome unknown: no result from the log")
	}
	t := time.NewTimer(memberIdleRebase)
	defer t.Stop()
	for {
		select {
		case <-m.settled:
			if m.outErr != nil {
				return nil, m.outErr
			}
			return m.out, nil
		case <-t.C:
			e.nudge(m)
			t.Reset(memberIdleRebase)
		case <-ctx.Done():
			return nil, pgerror.New(pgerror.StatementCompletionUnknown,
				"the write committed in the log but this node has not applied it yet: %v", ctx.Err())
		case <-e.stop:
			return nil, errEpochLost
		}
	}
}

// abandon breaks the epoch of a member whose proposal failed or whose
// proposer stopped waiting, if the member is still unmatched in it.
func (e *Engine) abandon(m *Member) {
	e.wmu.Lock()
	defer e.wmu.Unlock()
	e.swap.RLock()
	defer e.swap.RUnlock()
	if e.spec == m.ep && m.index == 0 {
		e.breakLocked()
	}
}

// nudge commits the epoch of a matched member that waits behind a running
// member idle between statements (its client thinking), by rebasing that
// member.
func (e *Engine) nudge(m *Member) {
	if err := e.wmu.LockContext(closedCtx); err != nil {
		return // a statement runs: the connection is busy, try later
	}
	defer e.wmu.Unlock()
	e.swap.RLock()
	defer e.swap.RUnlock()
	ep := e.spec
	if ep != m.ep || ep == nil || ep.matched < len(ep.members) {
		return
	}
	if e.borrower == nil {
		e.settleEpochLocked()
		return
	}
	e.rebaseLocked()
}

// closedCtx is a context that is already done: LockContext then takes the
// lock only if it is free.
var closedCtx = func() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}()

// rebaseLocked commits an epoch whose members are all matched while a
// member still runs: the running member's work so far is rolled back, the
// epoch commits, a new epoch opens and the running member's recorded
// operations run again there, on the same state, with the same context —
// they must give the same outcomes, or the member is lost (40001). A member
// whose operations spilled to parts is not replayed: the epoch waits for it.
func (e *Engine) rebaseLocked() {
	t := e.borrower
	if t.parts != nil || e.wraw.AutoCommit() {
		return
	}
	bg := context.Background()
	if _, err := e.wconn.ExecContext(bg, "ROLLBACK TO pgraft_member"); err != nil {
		e.breakLocked()
		return
	}
	if _, err := e.wconn.ExecContext(bg, "RELEASE pgraft_member"); err != nil {
		e.breakLocked()
		return
	}
	e.borrower = nil
	e.pstats.rebases.Add(1)
	e.commitEpochLocked()
	if e.spec != nil { // the commit failed and broke the epoch
		t.aborted = true
		return
	}
	if err := e.beginWriteLocked(bg); err != nil {
		t.aborted = true
		return
	}
	e.spec = &epoch{id: newEpochID(), base: e.dataIndex.Load(), done: make(chan struct{})}
	if _, err := e.wconn.ExecContext(bg, "SAVEPOINT pgraft_member"); err != nil {
		t.aborted = true
		e.breakLocked()
		return
	}
	e.borrower = t
	if err := t.replayLocked(bg); err != nil {
		e.log.Warn("replay a running transaction on its committed state", "err", err)
		e.dropMemberLocked(t)
		t.aborted = true
	}
}

// drainLocked waits until no epoch is open, for a write that does not
// pipeline (DDL, roles, a transaction larger than one entry, autocommit
// writes): it must run and apply alone. The caller holds the write gate,
// e.wmu and e.swap shared; clean reports that the epoch it waited for committed (no
// break), so that what ran on top of it still holds.
func (e *Engine) drainLocked(ctx context.Context) (clean bool, err error) {
	clean = true
	for e.spec != nil {
		ep := e.spec
		if e.borrower == nil {
			e.settleEpochLocked() // an empty epoch ends here
			if e.spec == nil {
				break
			}
		}
		e.swap.RUnlock()
		e.wmu.Unlock()
		select {
		case <-ep.done:
		case <-ctx.Done():
			err = ctx.Err()
		}
		e.wmu.Lock()
		e.swap.RLock()
		if err != nil {
			return false, err
		}
		clean = clean && !ep.broken
	}
	return clean, nil
}

// Drain waits until every pipelined write before it has committed or
// failed (drainLocked). The caller holds the write gate (shared is enough:
// no transaction can join an epoch while it is held).
func (e *Engine) Drain(ctx context.Context) (clean bool, err error) {
	if err := e.wmu.LockContext(ctx); err != nil {
		return false, err
	}
	defer e.wmu.Unlock()
	e.swap.RLock()
	defer e.swap.RUnlock()
	return e.drainLocked(ctx)
}

// PipelineStats counts what the leader's pipeline did since the engine
// opened.
type PipelineStats struct {
	Epochs  uint64 // epochs committed
	Members uint64 // writes committed in them
	Breaks  uint64 // epochs broken (their writes applied the ordinary way)
	Rebases uint64 // epochs committed around a running transaction
}

// pipeStats are the engine's counters (atomic: read by metrics).
type pipeStats struct{ epochs, members, breaks, rebases atomic.Uint64 }

// PipelineStats returns the pipeline's counters.
func (e *Engine) PipelineStats() PipelineStats {
	return PipelineStats{Epochs: e.pstats.epochs.Load(), Members: e.pstats.members.Load(),
		Breaks: e.pstats.breaks.Load(), Rebases: e.pstats.rebases.Load()}
}

// chain is the last data-changing entry this node applied, when it was a
// pipelined member that applied as it ran: (SpecEpoch, SpecSeq), or zero.
// Stored in _pgraft_meta with the applied index.
type chain struct{ epoch, seq uint64 }

// follows reports whether entry p ran on exactly the state this node has
// (dataIndex, c): for a pipelined entry, its predecessors in its epoch all
// applied as they ran; for another transaction, no data changed since it
// ran.
func (c chain) follows(p *Payload, dataIndex uint64) bool {
	switch {
	case p.SpecEpoch != 0 && p.SpecSeq > 1:
		return c.epoch == p.SpecEpoch && c.seq == p.SpecSeq-1
	case p.SpecEpoch != 0 || p.Tx:
		return dataIndex <= p.DataIndex
	}
	return true
}
