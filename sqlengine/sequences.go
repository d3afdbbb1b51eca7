package sqlengine

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/pgraft/pgraft/pgwire/pgerror"
	"github.com/pgraft/pgraft/sqlengine/translate"
)

// Sequences (docs/design.md, "Sequences"). Every sequence is one row of
// _pgraft_sequences: its options and its state (last_value, is_called), so
// snapshots and checksums cover it and every node computes the same values
// in log order. Nothing else holds sequence state.
//
// nextval, setval and the sequence DDL are SQL functions of the write
// connection (pg_nextval, pg_setval, pgraft_seq_ddl). A statement that calls
// them keeps the rows it names in seqState: a function loads a row the
// first time the statement names it (a nested query on the same
// connection, which SQLite allows inside a function), changes it in
// memory, and execBudgeted writes the changed rows back after the
// statement succeeded; a statement that fails leaves them as they were, so
// the speculative run of a transaction and its replay agree. A column
// DEFAULT that calls pg_nextval works the same way: per inserted row.
// Read connections have stand-ins that fail with 25006, as a standby
// answers nextval.

// sequencesTableSQL creates the sequence table. id is the sequence's OID
// less oidSequenceBase: assigned on every node alike, in log order.
// last_value, log_cnt, is_called and cycle are declared with the types a
// client sees (translate/types.go), so that SELECT * FROM a sequence (or
// pg_sequences) describes them as PostgreSQL does; log_cnt is always 0
// (nothing is prefetched).
const sequencesTableSQL = `CREATE TABLE IF NOT EXISTS _pgraft_sequences (
	id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, typid INTEGER NOT NULL,
	start INTEGER NOT NULL, increment INTEGER NOT NULL, minvalue INTEGER NOT NULL,
	maxvalue INTEGER NOT NULL, cache INTEGER NOT NULL, cycle BOOLEAN NOT NULL,
	last_value INT8 NOT NULL, log_cnt INT8 NOT NULL DEFAULT 0, is_called BOOLEAN NOT NULL,
	owner_table TEXT, owner_column TEXT, identity TEXT)`

// oidSequenceBase + _pgraft_sequences.id is a sequence's OID: between the
// primary-key indexes' (oidPKIndexBase) and pg_attrdef's (oidAttrdefBase).
const oidSequenceBase = 5 << 28

// sequenceLimitExceeded is SQLSTATE 2200H (sequence_generator_limit_exceeded).
const sequenceLimitExceeded = "2200H"

// SeqValue is a value a statement's nextval returned or its setval set
// (Nextval false), for the session's currval and lastval.
type SeqValue struct {
	Name    string
	Value   int64
	Nextval bool
}

// seqRow is one row of _pgraft_sequences.
type seqRow struct {
	id                        int64 // 0: created by this statement
	name                      string
	typid                     int64
	start, inc, min, max      int64
	cache                     int64
	cycle                     bool
	last                      int64
	called                    bool
	ownerTable, ownerCol, ide string // "" when none
	deleted, dirty            bool
}

// seqState is the sequence rows the statement running on the write
// connection has named. Only the holder of the write connection touches
// it (Engine.wmu).
type seqState struct {
	rows       map[string]*seqRow // by name; nil: known not to exist
	dirty      []*seqRow
	values     []SeqValue
	structural bool        // a sequence was created, dropped or renamed: the schema changed
	renames    [][2]string // sequences renamed (from, to): their owner and privileges follow
	// deny refuses sequence changes: set while a transaction runs a read
	// on the write connection (WriteTx.Query), which is not logged, so a
	// nextval there (through a view) would differ from the replay.
	deny bool
}

// seqFlushError is a failure to write a statement's sequences back after
// the statement ran: a transaction cannot undo the statement alone, so it
// is over (WriteTx.failed).
type seqFlushError struct{ err error }

func (e *seqFlushError) Error() string { return e.err.Error() }
func (e *seqFlushError) Unwrap() error { return e.err }

// errSeqInRead refuses nextval in a statement run as a read.
var errSeqInRead = funcError(pgerror.FeatureNotSupported,
	"nextval() or setval() in a statement that runs as a read (through a view) is not supported")

// reset forgets everything: before a statement and after it failed.
func (s *seqState) reset() {
	if len(s.rows) > 0 || len(s.dirty) > 0 || len(s.values) > 0 || s.structural || s.renames != nil {
		s.rows, s.dirty, s.values, s.structural, s.renames = nil, nil, nil, false, nil
	}
}

// seqQuery runs one of pgraft's own queries on the write connection, with
// internal access, prepared once in e.seqStmts (never in go-sqlite3's
// cache, so no client statement can reuse it); it may run inside a
// function callback.
func (e *Engine) seqQuery(q string, args ...any) ([][]any, error) {
	defer e.wauth.enterInternalUncached()()
	return e.seqStmts.query(e.wraw, q, args...)
}

const seqColumns = `id, name, typid, start, increment, minvalue, maxvalue, cache, cycle,
	last_value, is_called, owner_table, owner_column, identity`

// seqLoad returns the row of sequence name as this statement sees it, nil
// if there is none.
func (e *Engine) seqLoad(name string) (*seqRow, error) {
	if r, ok := e.seq.rows[name]; ok {
		return r, nil
	}
	rows, err := e.seqQuery(`SELECT `+seqColumns+` FROM _pgraft_sequences WHERE name = ?1`, name)
	if err != nil {
		return nil, err
	}
	var r *seqRow
	if len(rows) == 1 {
		r = seqRowOf(rows[0])
	}
	if e.seq.rows == nil {
		e.seq.rows = map[string]*seqRow{}
	}
	e.seq.rows[name] = r
	return r, nil
}

func seqRowOf(v []any) *seqRow {
	i := func(k int) int64 { n, _ := v[k].(int64); return n }
	s := func(k int) string { t, _ := v[k].(string); return t }
	return &seqRow{id: i(0), name: s(1), typid: i(2), start: i(3), inc: i(4), min: i(5), max: i(6),
		cache: i(7), cycle: i(8) != 0, last: i(9), called: i(10) != 0, ownerTable: s(11), ownerCol: s(12), ide: s(13)}
}

// seqTouch marks r to be written back.
func (e *Engine) seqTouch(r *seqRow) {
	if !r.dirty {
		r.dirty = true
		e.seq.dirty = append(e.seq.dirty, r)
	}
}

// seqFlush writes the statement's changed rows back, after it succeeded.
func (e *Engine) seqFlush() error {
	for _, r := range e.seq.dirty {
		var err error
		nullable := func(s string) any {
			if s == "" {
				return nil
			}
			return s
		}
		vals := []any{r.name, r.typid, r.start, r.inc, r.min, r.max, r.cache, b2i(r.cycle), r.last, b2i(r.called),
			nullable(r.ownerTable), nullable(r.ownerCol), nullable(r.ide)}
		switch {
		case r.deleted && r.id != 0:
			_, err = e.seqQuery(`DELETE FROM _pgraft_sequences WHERE id = ?1`, r.id)
		case r.deleted:
		case r.id == 0:
			_, err = e.seqQuery(`INSERT INTO _pgraft_sequences (name, typid, start, increment, minvalue, maxvalue,
				cache, cycle, last_value, is_called, owner_table, owner_column, identity)
				VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)`, vals...)
		default:
			_, err = e.seqQuery(`UPDATE _pgraft_sequences SET name = ?1, typid = ?2, start = ?3, increment = ?4,
				minvalue = ?5, maxvalue = ?6, cache = ?7, cycle = ?8, last_value = ?9, is_called = ?10,
				owner_table = ?11, owner_column = ?12, identity = ?13 WHERE id = ?14`, append(vals, r.id)...)
		}
		if err != nil {
			return fmt.Errorf("write sequence %s: %w", r.name, err)
		}
	}
	return nil
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// seqArgName is a sequence-name argument as SQLite hands it over.
func seqArgName(a any) (string, bool) {
	switch v := a.(type) {
	case string:
		return v, true
	case []byte:
		return string(v), v != nil
	}
	return "", false
}

// seqArgInt is an integer argument.
func seqArgInt(a any) (int64, error) {
	switch v := a.(type) {
	case int64:
		return v, nil
	case float64:
		if v == math.Trunc(v) && v >= -9.2e18 && v <= 9.2e18 {
			return int64(v), nil
		}
	case string:
		if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
			return n, nil
		}
	}
	return 0, funcError(pgerror.NumericValueOutOfRange, fmt.Sprintf("bigint out of range: %v", a))
}

// sequenceFuncs are the write connection's sequence functions.
func (e *Engine) sequenceFuncs() []sqlFunc {
	return []sqlFunc{
		{name: translate.NextvalFunc, min: 1, max: 1, fn: e.nextval},
		{name: translate.SetvalFunc, min: 2, max: 3, fn: e.setval},
		{name: translate.SequenceDDLFunc, min: 1, max: 1, fn: e.sequenceDDL},
		{name: translate.CurrvalFunc, min: 2, max: 2, fn: e.currval},
		{name: translate.LastvalFunc, min: 1, max: 1, fn: e.lastval},
	}
}

// currval is currval(seq) with the session's value bound by the server
// (translate.BindSessionSeqs), or NULL: a nextval of the same statement
// comes first, as in PostgreSQL, where the statement's own call has
// already set the session's value.
func (e *Engine) currval(args []any) (any, error) {
	name, ok := seqArgName(args[0])
	if !ok {
		return nil, nil
	}
	for i := len(e.seq.values) - 1; i >= 0; i-- {
		if e.seq.values[i].Name == name {
			return e.seq.values[i].Value, nil
		}
	}
	return sessionSeqValue(args[1], "currval of sequence \""+name+"\" is not yet defined in this session")
}

// lastval is lastval() with the session's value bound, like currval.
func (e *Engine) lastval(args []any) (any, error) {
	for i := len(e.seq.values) - 1; i >= 0; i-- {
		if e.seq.values[i].Nextval {
			return e.seq.values[i].Value, nil
		}
	}
	return sessionSeqValue(args[0], "lastval is not yet defined in this session")
}

// sessionSeqValue is a bound session value, or 55000 when the session has
// none.
func sessionSeqValue(v any, undefined string) (any, error) {
	if v == nil {
		return nil, funcError(pgerror.ObjectNotInPrerequisiteState, undefined)
	}
	return seqArgInt(v)
}

// readSequenceFuncs are the read connections' stand-ins.
func readSequenceFuncs() []sqlFunc {
	standIn := func(name string) func([]any) (any, error) {
		return func([]any) (any, error) {
			return nil, funcError(pgerror.ReadOnlySQLTransaction,
				"cannot execute "+name+"() in a read-only transaction")
		}
	}
	return []sqlFunc{
		{name: translate.NextvalFunc, min: 1, max: 1, fn: standIn("nextval")},
		{name: translate.SetvalFunc, min: 2, max: 3, fn: standIn("setval")},
		{name: translate.SequenceDDLFunc, min: 1, max: 1, fn: standIn("pgraft_seq_ddl")},
		{name: translate.CurrvalFunc, min: 2, max: 2, fn: func(a []any) (any, error) {
			name, _ := seqArgName(a[0])
			return sessionSeqValue(a[1], "currval of sequence \""+name+"\" is not yet defined in this session")
		}},
		{name: translate.LastvalFunc, min: 1, max: 1, fn: func(a []any) (any, error) {
			return sessionSeqValue(a[0], "lastval is not yet defined in this session")
		}},
	}
}

// registerSequenceFuncs installs fns on c, charged to meter.
func registerSequenceFuncs(c *sqlite3.SQLiteConn, fns []sqlFunc, meter *workBudget) error {
	for _, f := range fns {
		if err := c.RegisterFunc(f.name, f.wrap(meter), false); err != nil {
			return fmt.Errorf("register function %s: %w", f.name, err)
		}
	}
	return nil
}

// seqFind loads sequence name for nextval or setval: 42P01 if there is no
// relation of that name, 42809 if it is not a sequence.
func (e *Engine) seqFind(name string) (*seqRow, error) {
	r, err := e.seqLoad(name)
	if err != nil || r != nil {
		return r, err
	}
	if kind, err := e.relationKind(name); err != nil {
		return nil, err
	} else if kind != "" {
		return nil, funcError(pgerror.WrongObjectType, fmt.Sprintf("%q is not a sequence", name))
	}
	return nil, funcError(pgerror.UndefinedTable, fmt.Sprintf("relation %q does not exist", name))
}

// relationKind is "table" or "view" when SQLite has a relation of that
// name, "" otherwise.
func (e *Engine) relationKind(name string) (string, error) {
	rows, err := e.seqQuery(`SELECT type FROM main.sqlite_schema WHERE type IN ('table', 'view') AND name = ?1`, name)
	if err != nil || len(rows) == 0 {
		return "", err
	}
	kind, _ := rows[0][0].(string)
	return kind, nil
}

// nextval is PostgreSQL's nextval_internal: the sequence's next value,
// which is never handed out again (the statement's row is written back
// when it succeeds, and the entry is the same on every node).
func (e *Engine) nextval(args []any) (any, error) {
	if e.seq.deny {
		return nil, errSeqInRead
	}
	name, ok := seqArgName(args[0])
	if !ok {
		return nil, nil // nextval(NULL) is NULL (strict)
	}
	r, err := e.seqFind(name)
	if err != nil {
		return nil, err
	}
	next := r.last
	if r.called {
		if next, err = r.step(); err != nil {
			return nil, err
		}
	}
	r.last, r.called = next, true
	e.seqTouch(r)
	e.seq.values = append(e.seq.values, SeqValue{Name: r.name, Value: next, Nextval: true})
	return next, nil
}

// step is the value after last, or 2200H at the end of a sequence that
// does not cycle.
func (r *seqRow) step() (int64, error) {
	// PostgreSQL's tests, which cannot overflow whatever the bounds.
	if r.inc > 0 {
		if r.max >= 0 && r.last > r.max-r.inc || r.max < 0 && r.last+r.inc > r.max {
			if !r.cycle {
				return 0, funcError(sequenceLimitExceeded,
					fmt.Sprintf("nextval: reached maximum value of sequence %q (%d)", r.name, r.max))
			}
			return r.min, nil
		}
		return r.last + r.inc, nil
	}
	if r.min < 0 && r.last < r.min-r.inc || r.min >= 0 && r.last+r.inc < r.min {
		if !r.cycle {
			return 0, funcError(sequenceLimitExceeded,
				fmt.Sprintf("nextval: reached minimum value of sequence %q (%d)", r.name, r.min))
		}
		return r.max, nil
	}
	return r.last + r.inc, nil
}

// setval is setval(seq, value [, is_called]).
func (e *Engine) setval(args []any) (any, error) {
	if e.seq.deny {
		return nil, errSeqInRead
	}
	name, ok := seqArgName(args[0])
	if !ok || args[1] == nil || len(args) == 3 && args[2] == nil {
		return nil, nil // strict
	}
	v, err := seqArgInt(args[1])
	if err != nil {
		return nil, err
	}
	called := true
	if len(args) == 3 {
		n, err := seqArgInt(args[2])
		if err != nil {
			return nil, err
		}
		called = n != 0
	}
	r, err := e.seqFind(name)
	if err != nil {
		return nil, err
	}
	if v < r.min || v > r.max {
		return nil, funcError(pgerror.NumericValueOutOfRange,
			fmt.Sprintf("setval: value %d is out of bounds for sequence %q (%d..%d)", v, r.name, r.min, r.max))
	}
	r.last, r.called = v, called
	e.seqTouch(r)
	if called {
		e.seq.values = append(e.seq.values, SeqValue{Name: r.name, Value: v})
	}
	return v, nil
}
