package sqlengine

import (
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"hash"
	"hash/fnv"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/pgraft/pgraft/pgwire/pgerror"
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
	Results []ExecResult // one per OpExec, in order
	Err     error        // the whole entry failed (*pgerror.Error); Results is then empty
}

// ExecResult is the outcome of one statement.
type ExecResult struct {
	RowsAffected int64
	Columns      []string // with Rows: RETURNING columns
	Rows         [][]any  // storage values
	Err          error    // a data error (*pgerror.Error); the statement had no effect
}

// ApplyBatch applies committed entries in log order, in one SQLite
// transaction with a savepoint per entry, and stores the applied index in
// the same transaction (I2). A data error fails only its own entry. Any
// other failure panics: halting beats diverging (DESIGN.md §3).
func (e *Engine) ApplyBatch(cmds []Command) []any {
	out := make([]any, len(cmds))
	e.wmu.Lock()
	defer e.wmu.Unlock()
	e.swap.RLock()
	defer e.swap.RUnlock()
	e.abortBorrowerLocked()

	ctx := context.Background()
	applied, dataIndex, lastTime := e.applied.Load(), e.dataIndex.Load(), e.lastTime.Load()
	if _, err := e.wconn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		panic(fmt.Sprintf("sqlengine: begin apply batch: %v", err))
	}
	for i, c := range cmds {
		if c.Index <= applied {
			continue // already applied before a restart (I2)
		}
		p, err := DecodePayload(c.Data)
		if err != nil {
			panic(fmt.Sprintf("sqlengine: entry %d: %v", c.Index, err))
		}
		res := e.applyEntry(ctx, c.Index, p, dataIndex)
		if res.Err == nil && hasExec(p) {
			dataIndex = c.Index
		}
		lastTime = max(lastTime, p.Ctx.TimeMicros)
		applied = c.Index
		out[i] = res
	}
	if applied != e.applied.Load() {
		e.mustExecInternal(`INSERT OR REPLACE INTO _pgraft_meta (key, value) VALUES
			('applied_index', ?1), ('data_index', ?2), ('last_time', ?3)`,
			int64(applied), int64(dataIndex), lastTime)
	}
	e.mustExec(ctx, "COMMIT")
	e.noteSchemaChange()
	e.dataIndex.Store(dataIndex)
	e.lastTime.Store(lastTime)
	e.applied.Store(applied) // published only after COMMIT (I2)
	return out
}

func hasExec(p *Payload) bool {
	for _, op := range p.Ops {
		if op.Kind == OpExec {
			return true
		}
	}
	return false
}

func (e *Engine) mustExec(ctx context.Context, q string, args ...any) {
	if _, err := e.wconn.ExecContext(ctx, q, args...); err != nil {
		panic(fmt.Sprintf("sqlengine: apply: %s: %v", q, err))
	}
}

// mustExecInternal runs one of pgraft's own statements with internal access
// and outside the statement cache (stepRaw), so that it leaves no statement
// behind that a client could reuse, and apply keeps its cached statements.
func (e *Engine) mustExecInternal(q string, args ...int64) {
	if _, err := e.stepInternal(q, args...); err != nil {
		panic(fmt.Sprintf("sqlengine: apply: %s: %v", q, err))
	}
}

// stepInternal runs stepRaw on the write connection with internal access.
// The caller holds e.wmu.
func (e *Engine) stepInternal(q string, args ...int64) (int64, error) {
	defer e.wauth.enterInternalUncached()()
	return stepRaw(e.wraw, q, args...)
}

// applyEntry runs one entry inside its own savepoint.
func (e *Engine) applyEntry(ctx context.Context, index uint64, p *Payload, dataIndex uint64) *ApplyResult {
	res := &ApplyResult{Index: index}
	if p.Tx && dataIndex > p.DataIndex {
		// Only possible after a leadership change: the transaction ran
		// against data that an entry of another leader has since changed.
		res.Err = pgerror.New(pgerror.SerializationFailure,
			"could not serialize access due to concurrent update")
		return res
	}
	e.mustExec(ctx, "SAVEPOINT pgraft_entry")
	e.det.begin(p.Ctx)
	d := newDigest()
	failed := false
	execs := 0
	for _, op := range p.Ops {
		if op.Kind == OpExec {
			execs++
			e.det.setOrdinal(uint64(execs))
		}
		r, err := e.runOp(ctx, op)
		if err != nil {
			if !isDataError(err) {
				panic(fmt.Sprintf("sqlengine: entry %d: cannot apply: %v", index, err))
			}
			r = &ExecResult{Err: MapError(err)}
			failed = true
		}
		if op.Kind == OpExec {
			d.add(r)
			res.Results = append(res.Results, *r)
		}
		if failed {
			break
		}
	}
	if !failed {
		if err := e.checkDeferredFKs(); err != nil {
			if n := len(res.Results); n > 0 {
				res.Results = res.Results[:n-1]
			}
			res.Results = append(res.Results, ExecResult{Err: err})
			failed = true
		}
	}
	if p.Tx && d.sum() != p.Digest {
		panic(fmt.Sprintf("sqlengine: entry %d: outcome differs from the leader's speculative run: determinism bug", index))
	}
	if failed {
		e.mustExec(ctx, "ROLLBACK TO pgraft_entry")
		if p.Tx {
			res.Err, res.Results = res.Results[len(res.Results)-1].Err, nil
		}
	}
	e.mustExec(ctx, "RELEASE pgraft_entry")
	return res
}

// checkDeferredFKs fails the statement whose deferred foreign-key checks do
// not hold at the end of its entry; an entry may never fail its batch.
func (e *Engine) checkDeferredFKs() error {
	bad, err := deferredFKViolations(e.wraw)
	if err != nil {
		panic(fmt.Sprintf("sqlengine: %v", err))
	}
	if bad {
		return pgerror.New(pgerror.ForeignKeyViolation, "insert or update violates foreign key constraint (deferred)")
	}
	return nil
}

// runOp runs one operation on the write connection.
func (e *Engine) runOp(ctx context.Context, op Op) (*ExecResult, error) {
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
	}
	e.wauth.beginClient(op.SQL)
	r, err := execOn(ctx, e.wconn, op.SQL, op.Args, op.Rows)
	if err != nil && isDataError(err) {
		err = mapConnError(e.wraw, err) // the same on every node: the refusal is the statement's
	}
	return r, err
}

// isSchemaStatement reports whether translated SQL is DDL (it starts with
// CREATE, DROP, ALTER, ANALYZE or REINDEX, as translation emits them).
func isSchemaStatement(q string) bool {
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
		if !isSchemaStatement(q) {
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

// noteSchemaChange marks the cached schema stale when DDL committed.
func (e *Engine) noteSchemaChange() {
	v, err := e.stepInternal("PRAGMA schema_version")
	if err != nil {
		panic(fmt.Sprintf("sqlengine: read schema_version: %v", err))
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
