package sqlengine

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/fnv"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/pgraft/pgraft/pgwire/pgerror"
	"github.com/pgraft/pgraft/sqlengine/translate"
)

// Command is one committed log entry's payload. It mirrors
// replica.Command; server adapts one to the other, so that sqlengine never
// imports replica.
type Command struct {
	Index uint64
	Term  uint64
	Data  []byte
}

// ApplyResult is the response of one applied entry: what the leader hands
// back to the client that proposed it.
type ApplyResult struct {
	Index   uint64
	Results []ExecResult // one per statement (OpExec, OpRole), in order
	Err     error        // the whole entry failed (*pgerror.Error); Results is then empty
	chained bool         // it ran on the state it was written for (chain.follows)
}

// ExecResult is the outcome of one statement.
type ExecResult struct {
	RowsAffected int64
	Columns      []string // with Rows: RETURNING columns
	Rows         [][]any  // storage values
	Err          error    // a data error (*pgerror.Error); the statement had no effect
	// Seqs are the values the statement's nextval returned and its setval
	// set, in call order (sequences.go): the session's currval and lastval.
	Seqs []SeqValue
}

// ApplyBatch applies committed entries in log order, in one SQLite
// transaction with a savepoint per entry, and stores the applied index in
// the same transaction (I2). A data error, or a statement that runs out of
// its work budget, fails only its own entry, alike on every node. A failure
// of this node (disk full, I/O error, an entry it cannot decode, an outcome
// that differs from the leader's) rolls the whole batch back and becomes
// the engine's Fault; the batch is tried again, with growing pauses, until
// it applies or StopApplying is called (then nothing of it is applied and
// every response is nil). Apply never panics on what a client sent.
func (e *Engine) ApplyBatch(cmds []Command) []any {
	out := make([]any, len(cmds))
	e.wmu.Lock()
	e.swap.RLock()
	// The leader's own pipelined entries come back committed: match them
	// to the open epoch instead of running them again (pipeline.go).
	n := e.matchLocked(cmds, out)
	if n > 0 {
		e.settleEpochLocked()
	}
	e.swap.RUnlock()
	e.wmu.Unlock()
	if n == len(cmds) {
		return out
	}
	copy(out[n:], e.applyOrdinary(cmds[n:]))
	return out
}

// applyOrdinary applies committed entries the ordinary way (applyBatch),
// retrying a node fault until it applies or StopApplying is called.
func (e *Engine) applyOrdinary(cmds []Command) []any {
	var outOfBudget map[uint64]error // entries that ran out of their budget
	for attempt := 0; ; attempt++ {
		out, err := e.applyBatch(cmds, outOfBudget)
		var ob *outOfBudgetError
		if errors.As(err, &ob) {
			// SQLite rolled the whole batch back with the statement it
			// interrupted: apply it again, that entry failed without running.
			if outOfBudget == nil {
				outOfBudget = make(map[uint64]error)
			}
			outOfBudget[ob.index] = ob.err
			attempt--
			continue
		}
		if err == nil {
			if f := e.fault.clear(); f != nil {
				e.log.Warn("apply resumed", "index", f.Index, "fault", f.Err, "lasted", time.Since(f.Since).Round(time.Millisecond))
			}
			return out
		}
		index := cmds[0].Index
		var ae *applyError
		if errors.As(err, &ae) {
			index = ae.index
		}
		e.noteFault(err, index)
		select {
		case <-time.After(applyRetryPause(attempt)):
		case <-e.stop:
			return make([]any, len(cmds))
		}
	}
}

// noteFault records that this node cannot apply the entry at index
// (fault.go) and reports a new fault.
func (e *Engine) noteFault(err error, index uint64) {
	var ae *applyError
	if errors.As(err, &ae) {
		index = ae.index
	}
	f := e.fault.set(err, index)
	if f.Tries == 1 || f.Tries%20 == 0 {
		e.log.Error("cannot apply the replication log; retrying", "index", index, "err", err, "tries", f.Tries)
	}
	if f.Tries == 1 && e.cfg.OnFault != nil {
		e.cfg.OnFault(f)
	}
}

// outOfBudgetError reports an entry whose statement failed with a data
// error in a way that rolled the batch's transaction back: it ran out of
// its work budget (SQLite rolls back the transaction of an interrupted
// write).
type outOfBudgetError struct {
	index uint64
	err   error // the statement's 54000
}

func (e *outOfBudgetError) Error() string {
	return fmt.Sprintf("entry %d: %v", e.index, e.err)
}

// applyBatch makes one attempt at a batch: everything or nothing. Entries
// in outOfBudget fail with their error without running.
func (e *Engine) applyBatch(cmds []Command, outOfBudget map[uint64]error) (out []any, err error) {
	e.wmu.Lock()
	defer e.wmu.Unlock()
	e.swap.RLock()
	defer e.swap.RUnlock()
	// An entry that is not the open epoch's next member ends the epoch
	// (pipeline.go); what it had matched applies first, the ordinary way.
	e.breakLocked()
	if len(e.redo) > 0 {
		if err := e.applyRedoLocked(); err != nil {
			return nil, err
		}
	}
	e.abortBorrowerLocked()
	return e.applyBatchLocked(cmds, outOfBudget)
}

// applyBatchLocked is applyBatch with e.wmu and e.swap held and no epoch
// open.
func (e *Engine) applyBatchLocked(cmds []Command, outOfBudget map[uint64]error) (out []any, err error) {
	out = make([]any, len(cmds))
	ctx := context.Background()
	if !e.wraw.AutoCommit() { // left open by a failed attempt or speculative run
		_, _ = e.wconn.ExecContext(ctx, "ROLLBACK")
	}
	applied, dataIndex, lastTime := e.applied.Load(), e.dataIndex.Load(), e.lastTime.Load()
	ch := e.chain
	rolesChanged := false
	if e.cfg.InjectFault != nil {
		if err := e.cfg.InjectFault(cmds[0].Index); err != nil {
			return nil, &applyError{cmds[0].Index, err}
		}
	}
	if _, err := e.wconn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return nil, fmt.Errorf("begin apply batch: %w", err)
	}
	defer func() {
		if err != nil && !e.wraw.AutoCommit() { // SQLite may have rolled back already
			_, _ = e.wconn.ExecContext(ctx, "ROLLBACK")
		}
	}()
	stagedTerm := e.stagedTerm
	for i, c := range cmds {
		if c.Index <= applied {
			continue // already applied before a restart (I2)
		}
		p, err := DecodePayload(c.Data)
		if err != nil {
			return nil, &applyError{c.Index, err}
		}
		if c.Term > stagedTerm { // parts of an earlier term's leader are orphans (stage.go)
			if err := e.dropStagedBefore(ctx, c.Term); err != nil {
				return nil, &applyError{c.Index, err}
			}
			stagedTerm = c.Term
		}
		var res *ApplyResult
		if p.Stage == StagePart {
			if err := e.stagePart(ctx, c, p); err != nil {
				return nil, &applyError{c.Index, err}
			}
			res = &ApplyResult{Index: c.Index}
		} else if berr, ok := outOfBudget[c.Index]; ok {
			res = failedEntry(c.Index, p, berr)
		} else if res, err = e.applyEntry(ctx, c.Index, p, dataIndex, ch); err != nil {
			var ob *outOfBudgetError
			if errors.As(err, &ob) {
				ob.index = c.Index
				return nil, ob
			}
			return nil, &applyError{c.Index, err}
		}
		if p.Stage == StageFinal || p.Stage == StageDiscard {
			if err := e.dropStaged(ctx); err != nil {
				return nil, &applyError{c.Index, err}
			}
		}
		if res.Err == nil && (hasExec(p) && p.Stage != StagePart || p.Stage == StageFinal) {
			dataIndex = c.Index
			ch = chain{}
			if p.SpecEpoch != 0 && res.chained {
				ch = chain{epoch: p.SpecEpoch, seq: p.SpecSeq}
			}
		}
		// A final entry's parts may hold role changes: read the roles again.
		rolesChanged = rolesChanged || res.Err == nil && (hasRoleOp(p) || p.Stage == StageFinal)
		lastTime = max(lastTime, p.Ctx.TimeMicros)
		applied = c.Index
		out[i] = res
	}
	if applied != e.applied.Load() {
		if err := e.storeMetaLocked(applied, dataIndex, lastTime, ch); err != nil {
			return nil, err
		}
	}
	privsChanged := rolesChanged || e.privsDirty
	var roles map[string]Role
	if rolesChanged { // read inside the batch's transaction, published after COMMIT
		if err := e.withInternal(func() (err error) { roles, err = e.readRoles(ctx); return err }); err != nil {
			return nil, err
		}
	}
	if _, err := e.wconn.ExecContext(ctx, "COMMIT"); err != nil {
		return nil, fmt.Errorf("commit apply batch: %w", err)
	}
	if roles != nil {
		e.roles.Store(&roles)
	}
	if privsChanged { // what COMMIT made of _pgraft_acl; e.wmu keeps writers out
		if err := e.withInternal(func() error { return e.loadPrivileges(ctx) }); err != nil {
			// The batch is committed: the next one reads the table again.
			e.privsDirty = true
			e.log.Warn("reload privileges after an apply batch", "err", err)
		}
	}
	e.noteSchemaChange()
	e.stagedTerm = stagedTerm
	e.chain = ch
	e.dataIndex.Store(dataIndex)
	e.lastTime.Store(lastTime)
	e.applied.Store(applied) // published only after COMMIT (I2)
	e.tuneWAL(applied)
	return out, nil
}

// storeMetaLocked writes the applied index and what goes with it into
// _pgraft_meta, inside the open transaction (I2).
func (e *Engine) storeMetaLocked(applied, dataIndex uint64, lastTime int64, ch chain) error {
	if _, err := e.stepInternal(`INSERT OR REPLACE INTO _pgraft_meta (key, value) VALUES
		('applied_index', ?1), ('data_index', ?2), ('last_time', ?3), ('chain_epoch', ?4), ('chain_seq', ?5)`,
		int64(applied), int64(dataIndex), lastTime, int64(ch.epoch), int64(ch.seq)); err != nil {
		return fmt.Errorf("store the applied index: %w", err)
	}
	return nil
}

func hasExec(p *Payload) bool {
	for _, op := range p.Ops {
		if op.Kind.isStatement() {
			return true
		}
	}
	return false
}

func hasRoleOp(p *Payload) bool {
	for _, op := range p.Ops {
		if op.Kind == OpRole {
			return true
		}
	}
	return false
}

// stepInternal runs one of pgraft's own statements on the write connection
// with internal access and outside the statement cache (stepRaw), so that
// it leaves no statement behind that a client could reuse, and apply keeps
// its cached statements. The caller holds e.wmu.
func (e *Engine) stepInternal(q string, args ...int64) (int64, error) {
	defer e.wauth.enterInternalUncached()()
	return stepRaw(e.wraw, q, args...)
}

// applyEntry runs one entry inside its own savepoint. Its result carries
// the entry's data errors; an error return means this node cannot apply
// it (the caller rolls the batch back).
func (e *Engine) applyEntry(ctx context.Context, index uint64, p *Payload, dataIndex uint64, ch chain) (*ApplyResult, error) {
	res := &ApplyResult{Index: index}
	res.chained = ch.follows(p, dataIndex)
	if p.Tx && !res.chained {
		// The transaction ran against data that has changed since: an
		// entry of another leader, or a pipelined predecessor that did not
		// apply as it ran (pipeline.go).
		res.Err = pgerror.New(pgerror.SerializationFailure,
			"could not serialize access due to concurrent update")
		return res, nil
	}
	if p.Stage == StageFinal {
		complete, err := e.stagedComplete(ctx, p.TxID, p.N)
		if err != nil {
			return nil, err
		}
		if !complete {
			res.Err = errPartsLost
			return res, nil
		}
	}
	if p.Stage == StageDiscard {
		return res, nil
	}
	if _, err := e.wconn.ExecContext(ctx, "SAVEPOINT pgraft_entry"); err != nil {
		return nil, err
	}
	e.det.begin(p.Ctx)
	d := newDigest()
	failed := false
	execs := 0
	// run runs ops in order. The results of a final entry's staged parts
	// are kept only when they fail (a transaction answers with its error
	// or nothing), so its memory holds one part at a time.
	run := func(ops []Op, keep bool) error {
		for _, op := range ops {
			if op.Kind.isStatement() {
				execs++
				e.det.setOrdinal(uint64(execs))
			}
			r, err := e.runOp(ctx, op, p.StepBudget)
			if err != nil {
				if !isDataError(err) {
					return err
				}
				if e.wraw.AutoCommit() {
					// SQLite answered the failure (the budget's interrupt of
					// an INSERT, UPDATE or DELETE) by rolling back the whole
					// transaction, the batch's earlier entries with it.
					return &outOfBudgetError{err: MapError(err)}
				}
				r = &ExecResult{Err: MapError(err)}
				failed = true
			}
			if op.Kind.isStatement() {
				d.add(r)
				if keep || failed {
					res.Results = append(res.Results, *r)
				}
			}
			if failed {
				return nil
			}
		}
		return nil
	}
	if p.Stage == StageFinal { // the transaction's staged parts first (stage.go)
		for seq := uint64(0); seq < p.N && !failed; seq++ {
			ops, err := e.stagedOps(ctx, p.TxID, seq)
			if err != nil {
				return nil, err
			}
			if err := run(ops, false); err != nil {
				return nil, err
			}
		}
	}
	if !failed {
		if err := run(p.Ops, true); err != nil {
			return nil, err
		}
	}
	if !failed {
		fkErr, err := e.checkDeferredFKs()
		if err != nil {
			return nil, err
		}
		if fkErr != nil {
			if n := len(res.Results); n > 0 {
				res.Results = res.Results[:n-1]
			}
			res.Results = append(res.Results, ExecResult{Err: fkErr})
			failed = true
		}
	}
	if (p.Tx || p.SpecEpoch != 0 && res.chained) && d.sum() != p.Digest {
		return nil, errors.New("outcome differs from the leader's speculative run: determinism bug; this node stops applying")
	}
	if failed {
		if _, err := e.wconn.ExecContext(ctx, "ROLLBACK TO pgraft_entry"); err != nil {
			return nil, err
		}
		if p.Tx {
			res.Err, res.Results = res.Results[len(res.Results)-1].Err, nil
		}
	}
	if _, err := e.wconn.ExecContext(ctx, "RELEASE pgraft_entry"); err != nil {
		return nil, err
	}
	return res, nil
}

// failedEntry is the result of an entry that failed with err without
// running (it ran out of its budget in an earlier attempt at its batch).
func failedEntry(index uint64, p *Payload, err error) *ApplyResult {
	if p.Tx {
		return &ApplyResult{Index: index, Err: err}
	}
	return &ApplyResult{Index: index, Results: []ExecResult{{Err: err}}}
}

// checkDeferredFKs fails the statement whose deferred foreign-key checks do
// not hold at the end of its entry (fkErr); an entry may never fail its
// batch. err is a failure to ask SQLite.
func (e *Engine) checkDeferredFKs() (fkErr, err error) {
	bad, err := deferredFKViolations(e.wraw)
	if err != nil {
		return nil, err
	}
	if bad {
		return pgerror.New(pgerror.ForeignKeyViolation, "insert or update violates foreign key constraint (deferred)"), nil
	}
	return nil, nil
}

// runOp runs one operation on the write connection; an OpExec runs under
// the entry's work budget, and one that runs out fails with 54000 on every
// node alike.
func (e *Engine) runOp(ctx context.Context, op Op, budget uint64) (*ExecResult, error) {
	e.wauth.beginClient("")
	switch op.Kind {
	case OpSavepoint:
		_, err := e.wconn.ExecContext(ctx, "SAVEPOINT "+quoteSavepoint(op.SQL))
		return &ExecResult{}, err
	case OpRelease:
		_, err := e.wconn.ExecContext(ctx, "RELEASE "+quoteSavepoint(op.SQL))
		return &ExecResult{}, err
	case OpRollbackTo:
		_, err := e.wconn.ExecContext(ctx, "ROLLBACK TO "+quoteSavepoint(op.SQL))
		return &ExecResult{}, err
	case OpRole:
		return e.applyRole(ctx, op.SQL)
	}
	return e.execBudgeted(ctx, op.SQL, op.Args, op.Rows, budget)
}

// execBudgeted runs one client statement on the write connection under a
// budget of steps (0: none), with the client's rights (authorizer.go). The
// caller holds the connection. A data error is the statement's own, the
// same on every node (a refusal names what it refused).
func (e *Engine) execBudgeted(ctx context.Context, q string, args []any, rows bool, steps uint64) (*ExecResult, error) {
	e.budget.start(steps)
	stop := e.budget.watch(ctx)
	defer func() {
		stop()
		e.budget.start(0)
	}()
	e.wauth.beginClient(q)
	e.seq.reset()
	defer e.seq.reset()
	var r *ExecResult
	var err error
	if isSchemaStatement(q) {
		r, err = e.execDDL(ctx, q, args, rows) // viewcheck.go
	} else {
		r, err = execOn(ctx, e.wconn, q, args, rows)
	}
	if err != nil && e.budget.exhausted() {
		return nil, errBudgetExhausted(steps)
	}
	if err == nil && len(e.seq.dirty) > 0 {
		// The sequences the statement changed (sequences.go), written
		// after it succeeded and outside its budget: one row each.
		e.budget.start(0)
		if err = e.seqFlush(); err != nil {
			return nil, &seqFlushError{err}
		}
		r.Seqs = e.seq.values
		if e.seq.structural {
			e.schemaDirty.Store(true)
			if err = e.sequencesClaimed(ctx); err != nil {
				return nil, &seqFlushError{err}
			}
		}
	}
	if err != nil && isDataError(err) {
		err = mapConnError(e.wraw, err)
		if pe := pgerror.As(err); pe != nil && !isSchemaStatement(q) {
			switch pe.Code { // constraint_errors.go
			case pgerror.UniqueViolation:
				err = e.describeUnique(ctx, q, args, pe)
			case pgerror.ForeignKeyViolation:
				err = e.describeForeignKey(ctx, q, args, pe)
			}
		}
	}
	return r, err
}

// isSchemaStatement reports whether translated SQL is DDL (it starts with
// CREATE, DROP, ALTER, ANALYZE or REINDEX, as translation emits them).
func isSchemaStatement(q string) bool {
	if strings.HasPrefix(q, translate.AlterMarker) {
		return true
	}
	q = strings.TrimSpace(q)
	i := strings.IndexAny(q, " \t\n(")
	if i < 0 {
		i = len(q)
	}
	switch strings.ToUpper(q[:i]) {
	case "CREATE", "DROP", "ALTER", "ANALYZE", "REINDEX":
		return true
	}
	return false
}

// isSelectStatement reports whether translated SQL is a SELECT (one that
// calls sequence functions, run as a write): sqlite3_changes() would
// report the connection's last INSERT, UPDATE or DELETE, which differs
// between a speculative run and the apply.
func isSelectStatement(q string) bool {
	q = strings.TrimSpace(q)
	return len(q) >= 6 && strings.EqualFold(q[:6], "SELECT")
}

// quoteSavepoint names a client savepoint so that it can never meet ours.
func quoteSavepoint(name string) string { return strconv.Quote("u_" + name) }

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// execOn runs a write statement, collecting RETURNING rows when it has them.
func execOn(ctx context.Context, c execer, q string, args []any, rows bool) (*ExecResult, error) {
	if !rows {
		r, err := c.ExecContext(ctx, q, args...)
		if err != nil {
			return nil, err
		}
		var n int64
		if !isSchemaStatement(q) && !isSelectStatement(q) {
			// sqlite3_changes() is not reset by DDL: after CREATE TABLE it
			// still reports the last INSERT/UPDATE/DELETE of the connection,
			// which differs between a speculative run and the apply.
			n, _ = r.RowsAffected()
		}
		return &ExecResult{RowsAffected: n}, nil
	}
	rs, err := c.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	res := &ExecResult{}
	if res.Columns, err = rs.Columns(); err != nil {
		return nil, err
	}
	for rs.Next() {
		vals := make([]any, len(res.Columns))
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			return nil, err
		}
		res.Rows = append(res.Rows, vals)
	}
	if err := rs.Err(); err != nil {
		return nil, err
	}
	res.RowsAffected = int64(len(res.Rows))
	return res, nil
}

// noteSchemaChange marks the cached schema stale when DDL committed (or
// when it cannot tell).
func (e *Engine) noteSchemaChange() {
	v, err := e.stepInternal("PRAGMA schema_version")
	if err != nil {
		e.schemaDirty.Store(true)
		return
	}
	if v != e.schemaVer {
		e.schemaVer = v
		e.schemaDirty.Store(true)
	}
}

// digest summarizes statement outcomes, so that a transaction's replay can
// be compared with its speculative run.
type digest struct{ h hash.Hash64 }

func newDigest() *digest { return &digest{h: fnv.New64a()} }

func (d *digest) add(r *ExecResult) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(r.RowsAffected))
	d.h.Write(b[:])
	if r.Err != nil {
		d.h.Write([]byte(pgerror.Code(r.Err)))
	}
	for _, row := range r.Rows {
		for _, v := range row {
			d.h.Write([]byte(valueKey(v)))
			d.h.Write([]byte{0})
		}
	}
}

func (d *digest) sum() uint64 { return d.h.Sum64() }

func valueKey(v any) string {
	switch x := v.(type) {
	case nil:
		return "N"
	case int64:
		return "I" + strconv.FormatInt(x, 10)
	case float64:
		return "F" + strconv.FormatUint(math.Float64bits(x), 16)
	case string:
		return "T" + x
	case []byte:
		return "B" + string(x)
	case bool:
		return "b" + strconv.FormatBool(x)
	case time.Time:
		return "D" + x.UTC().Format(time.RFC3339Nano)
	}
	return fmt.Sprintf("?%v", v)
}
