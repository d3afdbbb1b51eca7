package sqlengine

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// WriteTx is an interactive write transaction running speculatively on the
// borrowed write connection (DESIGN.md §4): its statements really run, inside
// BEGIN IMMEDIATE, so the session sees its own writes and real errors; COMMIT
// rolls them back and hands over the recorded operations as one Payload, which
// every node then applies through the log.
//
// The caller (the session holding the write gate) uses a WriteTx from one
// goroutine. Apply may take the connection back at any moment between two
// statements (a leadership change); the WriteTx then fails with 40001.
type WriteTx struct {
	e         *Engine
	ctx       ExecContext
	ops       []Op
	execs     uint64 // logged OpExec count: the statement ordinal (determinism.go)
	dataIndex uint64 // the data the transaction ran against
	d         *digest
	aborted   bool // Apply took the connection back (guarded by e.wmu)
	lost      bool // SQLite rolled the transaction back under a failed statement
	done      bool

	// parts holds what the transaction recorded beyond PartSize, spilled
	// part by part (stage.go); size is what ops holds, total everything.
	parts       *Parts
	size, total int64

	// keep: the transaction is an autocommit write, whose answer is its
	// statements' results (results); roles: it ran a role change.
	keep    bool
	results []ExecResult
	roles   bool
	pending bool // it started on top of pipelined writes not yet committed

	baseSchemaVer int64           // PRAGMA schema_version at BEGIN
	schema        *SchemaSnapshot // the transaction's own schema, once its DDL changed it
	schemaVer     int64           // schema_version schema was loaded at
}

// ErrAborted is returned by a WriteTx that lost the write connection to
// Apply; the session reports 40001.
var ErrAborted = pgerror.New(pgerror.SerializationFailure,
	"could not serialize access: the transaction was interrupted by replication")

// ErrRolledBack is returned by a WriteTx whose transaction SQLite rolled
// back whole when one of its write statements failed: an interrupted write
// (statement_timeout, CancelRequest, a client gone) or a full disk does that,
// savepoints included, so ROLLBACK TO cannot resume it as in PostgreSQL.
var ErrRolledBack = pgerror.New(pgerror.TransactionRollback,
	"the transaction was rolled back: a write statement in it was canceled or failed")

// BeginWrite borrows the write connection for a write transaction, as a
// member of the open epoch (pipeline.go): it runs on top of the pipelined
// writes before it. autocommit says it is one autocommit statement, whose
// answer is its result. The caller must hold the write gate exclusively.
func (e *Engine) BeginWrite(ctx context.Context, ec ExecContext, autocommit bool) (*WriteTx, error) {
	if err := e.wmu.LockContext(ctx); err != nil {
		return nil, err
	}
	defer e.wmu.Unlock()
	e.swap.RLock()
	defer e.swap.RUnlock()
	if err := e.joinEpochLocked(ctx); err != nil {
		if pe := pgerror.As(err); pe != nil {
			return nil, pe // the fault's SQLSTATE
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("begin speculative transaction: %w", err)
	}
	ec.TimeMicros = max(ec.TimeMicros, e.lastTimeLocked()) // time never goes back along the pipeline
	t := &WriteTx{e: e, ctx: ec, dataIndex: e.dataIndex.Load(), d: newDigest(), keep: autocommit,
		pending: len(e.spec.members) > 0}
	e.borrower = t
	var err error
	if t.baseSchemaVer, err = e.stepInternal("PRAGMA schema_version"); err != nil {
		e.dropMemberLocked(t)
		return nil, fmt.Errorf("read schema version: %w", err)
	}
	return t, nil
}

// Schema returns the schema as the transaction sees it, when its own DDL
// changed it (ok false otherwise: the engine's Schema is the same). Statements
// after a CREATE TABLE in the same transaction translate against it, so
// their parameters and columns get the new table's types.
func (t *WriteTx) Schema(ctx context.Context) (s *SchemaSnapshot, ok bool, err error) {
	if err := t.lock(ctx); err != nil {
		return nil, false, err
	}
	defer t.unlock()
	ver, err := t.e.stepInternal("PRAGMA schema_version")
	if err != nil {
		return nil, false, MapError(err)
	}
	if ver == t.baseSchemaVer {
		return nil, false, nil
	}
	if t.schema == nil || t.schemaVer != ver {
		var snap *SchemaSnapshot
		err := t.e.withInternal(func() (err error) {
			snap, err = loadSchema(ctx, t.e.wconn)
			return err
		})
		if err != nil {
			return nil, false, fmt.Errorf("load the transaction's schema: %w", err)
		}
		t.schema, t.schemaVer = snap, ver
	}
	return t.schema, true, nil
}

// DataIndex is the committed data index the transaction started on.
func (t *WriteTx) DataIndex() uint64 { return t.dataIndex }

// Stale reports whether the transaction runs on data that changed after
// data index since: committed since, or changed by pipelined writes not
// yet committed that it runs on top of.
func (t *WriteTx) Stale(since uint64) bool { return t.pending || t.dataIndex > since }

// lock takes the write connection for one statement, a client's, unless
// ctx ends first (then the transaction goes on: nothing ran). A
// transaction that SQLite itself rolled back (it does so when it interrupts
// a write: statement_timeout, a cancel, the work budget) is over: nothing
// may run on the connection in its name, or it would commit outside the log.
func (t *WriteTx) lock(ctx context.Context) error {
	if err := t.e.wmu.LockContext(ctx); err != nil {
		return err
	}
	if t.aborted || t.done {
		t.e.wmu.Unlock()
		if t.lost {
			return ErrRolledBack
		}
		return ErrAborted
	}
	t.e.swap.RLock()
	if t.e.wraw.AutoCommit() { // rolled back behind failed's back: never run outside it
		t.lost, t.done = true, true
		t.e.borrower = nil
		t.e.breakLocked() // the epoch's earlier members went with it
		t.unlock()
		return ErrRolledBack
	}
	return nil
}

func (t *WriteTx) unlock() {
	t.e.swap.RUnlock()
	t.e.wmu.Unlock()
}

// failed notes a failed statement. SQLite rolls back the whole transaction,
// not just the statement, when a write is interrupted (sqlite3_interrupt,
// which a cancelled context triggers) or the disk is full: the connection is
// then back in autocommit mode, and the WriteTx gives it up rather than run
// later statements outside any transaction or ROLLBACK a transaction that no
// longer exists. The caller holds the connection (lock).
func (t *WriteTx) failed(err error) error {
	var flush *seqFlushError
	switch {
	case err != nil && t.e.wraw.AutoCommit():
		t.lost, t.done = true, true
		t.e.borrower = nil
		t.e.breakLocked() // the epoch's earlier members went with it
	case errors.As(err, &flush):
		// The statement ran but its sequences could not be written back:
		// what it did cannot be undone alone, so the block is over.
		t.releaseLocked()
		t.lost = true
	}
	return err
}

// Exec runs a write statement and records it. A failed statement has no
// effect and is not recorded (SQLite rolls back the statement alone).
func (t *WriteTx) Exec(ctx context.Context, q string, args []any, returning bool) (*ExecResult, error) {
	if err := t.lock(ctx); err != nil {
		return nil, err
	}
	defer t.unlock()
	t.e.det.begin(t.ctx)
	t.e.det.setOrdinal(t.execs + 1)
	r, err := t.e.execBudgeted(ctx, q, args, returning, MaxStatementSteps)
	if err != nil {
		return nil, mapConnError(t.e.wraw, t.failed(err))
	}
	t.execs++
	if t.keep {
		t.results = append(t.results, *r)
	}
	// A copy of args: the entry must hold what ran, whatever the caller
	// does with its slice afterwards (a reused buffer would change the
	// replay and halt the node on a digest mismatch).
	t.d.add(r)
	if err := t.record(Op{Kind: OpExec, SQL: q, Args: slices.Clone(args), Rows: returning}); err != nil {
		return nil, err
	}
	return r, nil
}

// record appends op to what COMMIT proposes. Once the operations would
// pass PartSize, those recorded so far spill to a part first (stage.go),
// so that a part holds at most PartSize bytes or one statement. A spool
// that cannot be written (a full disk) ends the transaction: what ran
// cannot be undone alone.
func (t *WriteTx) record(op Op) error {
	n := opSize(op)
	if t.size > 0 && t.size+n > PartSize {
		if err := t.spill(); err != nil {
			t.releaseLocked()
			t.lost = true
			return err
		}
	}
	t.ops = append(t.ops, op)
	t.size += n
	t.total += n
	return nil
}

// spill writes the recorded operations to the spool as one part.
func (t *WriteTx) spill() error {
	if t.parts == nil {
		parts, err := newParts(t.e.cfg.Path)
		if err != nil {
			return MapError(err)
		}
		t.parts = parts
	}
	data, err := EncodePayload(&Payload{Ctx: t.ctx, Ops: t.ops, StepBudget: MaxStatementSteps,
		Stage: StagePart, TxID: t.parts.txid, N: uint64(t.parts.Len())})
	if err != nil {
		return err
	}
	if err := t.parts.add(data); err != nil {
		return err
	}
	t.ops, t.size = nil, 0
	return nil
}

// Size is how many bytes of operations the transaction has recorded (an
// estimate of its entries' size): the session bounds it with
// pgraft.max_transaction_size.
func (t *WriteTx) Size() int64 { return t.total }

// Parts returns the parts a finished transaction spilled (nil: none). They
// go into StagePart entries before the final entry Finish returned; the
// WriteTx removes them at Rollback.
func (t *WriteTx) Parts() *Parts { return t.parts }

// Query runs a read inside the transaction (it sees the transaction's own
// writes). Rows are materialized: the connection is not held between calls.
func (t *WriteTx) Query(ctx context.Context, q string, args []any) (*ExecResult, error) {
	if err := t.lock(ctx); err != nil {
		return nil, err
	}
	defer t.unlock()
	t.e.det.begin(t.ctx)
	t.e.det.setOrdinal(t.execs + 1)
	t.e.seq.deny = true // not logged: it must not change a sequence (sequences.go)
	r, err := t.e.execBudgeted(ctx, q, args, true, MaxStatementSteps)
	t.e.seq.deny = false
	if err != nil {
		return nil, mapConnError(t.e.wraw, t.failed(err))
	}
	return r, nil
}

// CatalogQuery runs a query of pg_catalog or information_schema inside a
// transaction whose own DDL changed the schema: it answers from the
// transaction's schema, as PostgreSQL does (Django and Alembic list the
// tables they just created before they commit). The write connection's
// catalog views may be read only here, and the catalog functions read the
// transaction's SchemaSnapshot. Nothing is recorded: it is a read.
func (t *WriteTx) CatalogQuery(ctx context.Context, q string, args []any) (*ExecResult, error) {
	snap, _, err := t.Schema(ctx)
	if err != nil {
		return nil, err
	}
	if snap == nil {
		if snap, err = t.e.Schema(ctx); err != nil {
			return nil, err
		}
	}
	if err := t.lock(ctx); err != nil {
		return nil, err
	}
	defer t.unlock()
	t.e.wcat.Set(snap)
	defer t.e.wcat.Set(nil)
	defer t.e.wauth.enterCatalog()()
	t.e.det.begin(t.ctx)
	t.e.det.setOrdinal(t.execs + 1)
	r, err := t.e.execBudgeted(ctx, q, args, true, MaxStatementSteps)
	if err != nil {
		return nil, mapConnError(t.e.wraw, t.failed(err))
	}
	return r, nil
}

// Role runs a role change (CREATE/ALTER/DROP ROLE) in the transaction and
// records it.
func (t *WriteTx) Role(ctx context.Context, op Op) error {
	if err := t.lock(ctx); err != nil {
		return err
	}
	defer t.unlock()
	r, err := t.e.applyRole(ctx, op.SQL)
	if err != nil {
		return mapConnError(t.e.wraw, t.failed(err))
	}
	t.execs++
	t.roles = true
	if t.keep {
		t.results = append(t.results, *r)
	}
	t.d.add(r)
	return t.record(op)
}

// Savepoint, Release and RollbackTo run and record savepoint operations.
func (t *WriteTx) Savepoint(ctx context.Context, name string) error {
	return t.savepointOp(ctx, Op{Kind: OpSavepoint, SQL: name}, "SAVEPOINT ")
}

// Release releases a savepoint.
func (t *WriteTx) Release(ctx context.Context, name string) error {
	return t.savepointOp(ctx, Op{Kind: OpRelease, SQL: name}, "RELEASE ")
}

// RollbackTo rolls back to a savepoint.
func (t *WriteTx) RollbackTo(ctx context.Context, name string) error {
	return t.savepointOp(ctx, Op{Kind: OpRollbackTo, SQL: name}, "ROLLBACK TO ")
}

func (t *WriteTx) savepointOp(ctx context.Context, op Op, verb string) error {
	if err := t.lock(ctx); err != nil {
		return err
	}
	defer t.unlock()
	t.e.wauth.beginClient("")
	if _, err := t.e.wconn.ExecContext(ctx, verb+quoteSavepoint(op.SQL)); err != nil {
		return mapConnError(t.e.wraw, t.failed(err))
	}
	return t.record(op)
}

// Sealed is what COMMIT of a write transaction proposes.
type Sealed struct {
	// Member, when set, is the pipelined transaction: propose Member.Data()
	// in order (before the write gate passes on), then Engine.Await.
	Member *Member
	// Payload, when Member is nil, is a transaction that does not pipeline
	// (DDL, a role change, one larger than one entry): its work was rolled
	// back; the caller drains the pipeline (Drain), sets DataIndex and
	// proposes it (and its parts) the ordinary way, to be applied alone.
	Payload *Payload
}

// Seal ends the speculative run for COMMIT: it checks deferred foreign
// keys (23503 fails the COMMIT, as in PostgreSQL) and makes the run a
// member of the epoch, whose work stays on the write connection while its
// entry is replicated; or, for a transaction that does not pipeline, rolls
// it back and returns its payload. nil: the transaction wrote nothing.
// maxEntry bounds the member's entry (54000 past it).
func (t *WriteTx) Seal(maxEntry int) (*Sealed, error) {
	if err := t.lock(context.Background()); err != nil {
		return nil, err
	}
	defer t.unlock()
	fkErr, err := t.e.checkDeferredFKs()
	if err != nil || fkErr != nil || t.execs == 0 {
		t.e.dropMemberLocked(t)
		if err != nil {
			return nil, fmt.Errorf("check deferred foreign keys: %w", err)
		}
		return nil, fkErr
	}
	p := &Payload{Ctx: t.ctx, Ops: t.ops, Tx: !t.keep, Digest: t.d.sum(), StepBudget: MaxStatementSteps}
	ver, err := t.e.stepInternal("PRAGMA schema_version")
	if err != nil {
		t.e.dropMemberLocked(t)
		return nil, fmt.Errorf("read schema version: %w", err)
	}
	if t.parts != nil || t.roles || ver != t.baseSchemaVer || t.e.privsDirty {
		t.e.dropMemberLocked(t)
		p.Tx = true
		if t.parts != nil {
			p.Stage, p.TxID, p.N = StageFinal, t.parts.txid, uint64(t.parts.Len())
		}
		return &Sealed{Payload: p}, nil
	}
	m, err := t.e.sealLocked(t, p)
	if err == nil && len(m.data) > maxEntry {
		err = pgerror.New(pgerror.ProgramLimitExceeded,
			"transaction too large for one log entry (%d bytes, limit %d)", len(m.data), maxEntry)
		t.e.spec.members = t.e.spec.members[:len(t.e.spec.members)-1]
		t.e.borrower = t
		t.e.breakLocked() // its work is in the epoch already: start over without it
	}
	if err != nil {
		if !t.done {
			t.e.dropMemberLocked(t)
		}
		return nil, err
	}
	return &Sealed{Member: m}, nil
}

// Finish ends the speculative run as an ordinary transaction entry: its
// work is rolled back and its payload returned, to be applied alone (what
// Seal does for a transaction that does not pipeline). nil: it wrote
// nothing.
func (t *WriteTx) Finish() (*Payload, error) {
	if err := t.lock(context.Background()); err != nil {
		return nil, err
	}
	defer t.unlock()
	fkErr, err := t.e.checkDeferredFKs()
	dataIndex := t.e.dataIndex.Load()
	t.e.dropMemberLocked(t)
	if err != nil {
		return nil, fmt.Errorf("check deferred foreign keys: %w", err)
	}
	if fkErr != nil || t.execs == 0 {
		return nil, fkErr
	}
	p := &Payload{Ctx: t.ctx, Ops: t.ops, Tx: true, DataIndex: dataIndex, Digest: t.d.sum(),
		StepBudget: MaxStatementSteps}
	if t.parts != nil {
		p.Stage, p.TxID, p.N = StageFinal, t.parts.txid, uint64(t.parts.Len())
	}
	return p, nil
}

// Rollback discards the transaction. It is safe to call more than once and
// after Seal.
func (t *WriteTx) Rollback() {
	t.parts.Close()
	t.e.wmu.Lock()
	defer t.e.wmu.Unlock()
	if t.aborted || t.done {
		return
	}
	t.e.swap.RLock()
	defer t.e.swap.RUnlock()
	t.releaseLocked()
}

// releaseLocked rolls the transaction's work back out of the epoch and
// returns the connection.
func (t *WriteTx) releaseLocked() {
	t.e.dropMemberLocked(t)
}

// replayLocked runs the transaction's recorded operations again on the
// write connection (pipeline.go's rebase), and checks that they give the
// outcomes its client saw.
func (t *WriteTx) replayLocked(ctx context.Context) error {
	t.e.det.begin(t.ctx)
	d := newDigest()
	var execs uint64
	for _, op := range t.ops {
		if op.Kind.isStatement() {
			execs++
			t.e.det.setOrdinal(execs)
		}
		r, err := t.e.runOp(ctx, op, MaxStatementSteps)
		if err != nil {
			return fmt.Errorf("replay: %w", err)
		}
		if op.Kind.isStatement() {
			d.add(r)
		}
	}
	if d.sum() != t.d.sum() {
		return errors.New("replay: outcome differs")
	}
	return nil
}

// beginWriteLocked opens a write transaction for a borrower or a pre-run:
// the connection must be free and this node able to apply the log; a
// transaction a failed statement left open is rolled back first. The
// caller holds e.wmu and e.swap.
func (e *Engine) beginWriteLocked(ctx context.Context) error {
	if e.borrower != nil {
		return errors.New("sqlengine: write connection already borrowed")
	}
	if f := e.fault.get(); f != nil {
		return f.PGError()
	}
	if !e.wraw.AutoCommit() {
		_, _ = e.wconn.ExecContext(context.Background(), "ROLLBACK")
	}
	_, err := e.wconn.ExecContext(ctx, "BEGIN IMMEDIATE")
	return err
}

// PreRun runs an autocommit write's operations to completion on the write
// connection and rolls them back, before the write is proposed
// (docs/design.md, "Every entry is safe to replay"): a statement that fails,
// is cancelled (ctx: statement_timeout, CancelRequest) or runs out of its
// work budget never enters the log. It returns the first operation's
// result as the pre-run saw it; the answer the client gets is the one the
// entry's apply produces. The caller holds the write gate as a writer.
func (e *Engine) PreRun(ctx context.Context, ec ExecContext, ops []Op) (*ExecResult, error) {
	if err := e.wmu.LockContext(ctx); err != nil {
		return nil, err
	}
	defer e.wmu.Unlock()
	e.swap.RLock()
	defer e.swap.RUnlock()
	if _, err := e.drainLocked(ctx); err != nil { // it runs and applies alone
		return nil, err
	}
	bg := context.Background()
	if err := e.beginWriteLocked(bg); err != nil {
		return nil, MapError(fmt.Errorf("begin pre-run: %w", err))
	}
	defer func() {
		if e.wraw.AutoCommit() { // an interrupted write rolled it back
			return
		}
		if _, err := e.wconn.ExecContext(bg, "ROLLBACK"); err != nil {
			e.log.Warn("roll back pre-run", "err", err)
		}
	}()
	e.det.begin(ec)
	var first *ExecResult
	for i, op := range ops {
		e.det.setOrdinal(uint64(i + 1))
		var r *ExecResult
		var err error
		if op.Kind == OpRole {
			r, err = e.applyRole(ctx, op.SQL)
		} else {
			r, err = e.execBudgeted(ctx, op.SQL, op.Args, op.Rows, MaxStatementSteps)
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, MapError(err)
		}
		if first == nil {
			first = r
		}
	}
	fkErr, err := e.checkDeferredFKs()
	if err != nil {
		return nil, fmt.Errorf("check deferred foreign keys: %w", err)
	}
	if fkErr != nil {
		return nil, fkErr
	}
	return first, nil
}

// abortBorrowerLocked takes the write connection back from a borrower so
// that Apply can run an entry that is not the borrower's. e.wmu is held.
func (e *Engine) abortBorrowerLocked() {
	t := e.borrower
	if t == nil {
		return
	}
	t.aborted, t.done = true, true
	e.borrower = nil
}

// Describe prepares q on the borrowed write connection, where the
// transaction's own DDL is visible, and returns its result columns.
func (t *WriteTx) Describe(ctx context.Context, q string) (StmtInfo, error) {
	if err := t.lock(ctx); err != nil {
		return StmtInfo{}, err
	}
	defer t.unlock()
	t.e.wauth.beginClient(q)
	info, err := prepareInfo(t.e.wraw, q)
	if err != nil {
		return StmtInfo{}, mapConnError(t.e.wraw, err)
	}
	return info, nil
}
