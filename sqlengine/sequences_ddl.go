package sqlengine

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"

	"github.com/pgraft/pgraft/pgvalue"
	"github.com/pgraft/pgraft/pgwire/pgerror"
	"github.com/pgraft/pgraft/sqlengine/translate"
)

// sequences_ddl.go: the sequence DDL (CREATE/ALTER/DROP SEQUENCE, OWNED BY,
// the owned sequences of DROP TABLE and TRUNCATE … RESTART IDENTITY, the
// advance entry of a transaction that did not commit), run by
// pgraft_seq_ddl; sequences.go has the state and nextval/setval.

// sequenceDDL runs one SequenceSpec.
func (e *Engine) sequenceDDL(args []any) (any, error) {
	if e.seq.deny {
		return nil, errSeqInRead
	}
	text, ok := seqArgName(args[0])
	if !ok {
		return nil, funcError(pgerror.InvalidParameterValue, "no sequence specification")
	}
	var spec translate.SequenceSpec
	if err := json.Unmarshal([]byte(text), &spec); err != nil {
		return nil, funcError(pgerror.InvalidParameterValue, "bad sequence specification: "+err.Error())
	}
	var err error
	switch spec.Op {
	case "create":
		err = e.createSequence(&spec)
	case "alter":
		err = e.alterSequence(&spec)
	case "drop":
		err = e.dropSequences(&spec)
	case "drop_owned", "restart_owned":
		err = e.ownedSequences(&spec)
	case "advance":
		err = e.advanceSequences(&spec)
	case "rename_owner":
		err = e.renameOwner(&spec)
	default:
		err = funcError(pgerror.InvalidParameterValue, "unknown sequence operation "+strconv.Quote(spec.Op))
	}
	return nil, err
}

// seqTypeRange is the range and name of a sequence's data type.
func seqTypeRange(oid int64) (lo, hi int64, name string) {
	switch oid {
	case int64(pgvalue.OIDInt2):
		return math.MinInt16, math.MaxInt16, "smallint"
	case int64(pgvalue.OIDInt4):
		return math.MinInt32, math.MaxInt32, "integer"
	}
	return math.MinInt64, math.MaxInt64, "bigint"
}

func seqParamError(format string, args ...any) error {
	return funcError(pgerror.InvalidParameterValue, fmt.Sprintf(format, args...))
}

func (e *Engine) createSequence(spec *translate.SequenceSpec) error {
	if r, err := e.seqLoad(spec.Name); err != nil {
		return err
	} else if r == nil {
		if kind, err := e.relationKind(spec.Name); err != nil {
			return err
		} else if kind == "" {
			r = &seqRow{name: spec.Name, typid: int64(pgvalue.OIDInt8), inc: 1, cache: 1}
			if err := r.apply(spec, true); err != nil {
				return err
			}
			if err := e.setOwner(r, spec); err != nil {
				return err
			}
			r.ide = spec.Identity
			e.seq.rows[r.name] = r
			e.seq.structural = true
			e.seqTouch(r)
			return nil
		}
	}
	if spec.IfNotExists {
		return nil // PostgreSQL's NOTICE: relation already exists, skipping
	}
	return funcError(pgerror.DuplicateTable, fmt.Sprintf("relation %q already exists", spec.Name))
}

func (e *Engine) alterSequence(spec *translate.SequenceSpec) error {
	r, err := e.seqLoad(spec.Name)
	if err != nil {
		return err
	}
	if r == nil {
		if spec.IfExists {
			return nil
		}
		return funcError(pgerror.UndefinedTable, fmt.Sprintf("relation %q does not exist", spec.Name))
	}
	if err := r.apply(spec, false); err != nil {
		return err
	}
	if err := e.setOwner(r, spec); err != nil {
		return err
	}
	if spec.NewName != "" && spec.NewName != r.name {
		if err := e.renameSequence(r, spec.NewName); err != nil {
			return err
		}
	}
	e.seq.structural = true // owner or name may have changed: catalogs read it
	e.seqTouch(r)
	return nil
}

// renameSequence renames r unless a column default names it: defaults name
// their sequence by its name, not by OID as in PostgreSQL.
func (e *Engine) renameSequence(r *seqRow, to string) error {
	if other, err := e.seqLoad(to); err != nil {
		return err
	} else if kind, err := e.relationKind(to); err != nil {
		return err
	} else if other != nil || kind != "" {
		return funcError(pgerror.DuplicateTable, fmt.Sprintf("relation %q already exists", to))
	}
	users, err := e.sequenceUsers(r.name)
	if err != nil {
		return err
	}
	if len(users) > 0 {
		return funcError(pgerror.FeatureNotSupported,
			fmt.Sprintf("renaming sequence %q, which %q uses (a column default or a view), is not supported", r.name, users[0]))
	}
	e.seq.rows[r.name] = nil
	e.seq.renames = append(e.seq.renames, [2]string{r.name, to})
	r.name = to
	e.seq.rows[to] = r
	return nil
}

// sequenceUsers lists the tables whose column defaults, and the views
// whose queries, call nextval of sequence name.
func (e *Engine) sequenceUsers(name string) ([]string, error) {
	needle := translate.NextvalFunc + "(" + translate.QuoteLiteral(name) + ")"
	rows, err := e.seqQuery(`SELECT name FROM main.sqlite_schema WHERE type IN ('table', 'view') AND instr(sql, ?1) > 0 ORDER BY name`, needle)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, row := range rows {
		if s, ok := row[0].(string); ok {
			out = append(out, s)
		}
	}
	return out, nil
}

// setOwner applies OWNED BY: the column must exist.
func (e *Engine) setOwner(r *seqRow, spec *translate.SequenceSpec) error {
	if spec.OwnedBy == nil {
		return nil
	}
	own := *spec.OwnedBy
	if len(own) == 0 {
		r.ownerTable, r.ownerCol = "", ""
		return nil
	}
	if len(own) != 2 {
		return seqParamError("invalid OWNED BY option")
	}
	kind, err := e.relationKind(own[0])
	if err != nil {
		return err
	}
	if kind == "" {
		return funcError(pgerror.UndefinedTable, fmt.Sprintf("relation %q does not exist", own[0]))
	}
	if kind != "table" {
		return funcError(pgerror.WrongObjectType,
			fmt.Sprintf("sequence cannot be owned by relation %q", own[0]))
	}
	cols, err := e.seqQuery(`SELECT 1 FROM pragma_table_xinfo(?1, 'main') WHERE name = ?2`, own[0], own[1])
	if err != nil {
		return err
	}
	if len(cols) == 0 {
		return funcError(pgerror.UndefinedColumn,
			fmt.Sprintf("column %q of relation %q does not exist", own[1], own[0]))
	}
	r.ownerTable, r.ownerCol = own[0], own[1]
	return nil
}

// apply sets r's options from spec as PostgreSQL's init_params does
// (isInit: CREATE), with its checks and messages.
func (r *seqRow) apply(spec *translate.SequenceSpec, isInit bool) error {
	oldLo, oldHi, _ := seqTypeRange(r.typid)
	if spec.TypeOID != 0 {
		switch spec.TypeOID {
		case pgvalue.OIDInt2, pgvalue.OIDInt4, pgvalue.OIDInt8:
		default:
			return seqParamError("sequence type must be smallint, integer, or bigint")
		}
		r.typid = int64(spec.TypeOID)
	}
	lo, hi, typName := seqTypeRange(r.typid)
	if spec.Increment != nil {
		r.inc = *spec.Increment
		if r.inc == 0 {
			return seqParamError("INCREMENT must not be zero")
		}
	}
	if spec.Cycle != nil {
		r.cycle = *spec.Cycle
	}
	switch {
	case spec.MaxValue != nil:
		r.max = *spec.MaxValue
	case isInit || spec.NoMaxValue || spec.TypeOID != 0 && r.max == oldHi:
		if r.inc > 0 {
			r.max = hi
		} else {
			r.max = -1
		}
	}
	switch {
	case spec.MinValue != nil:
		r.min = *spec.MinValue
	case isInit || spec.NoMinValue || spec.TypeOID != 0 && r.min == oldLo:
		if r.inc > 0 {
			r.min = 1
		} else {
			r.min = lo
		}
	}
	if r.max < lo || r.max > hi {
		return seqParamError("MAXVALUE (%d) is out of range for sequence data type %s", r.max, typName)
	}
	if r.min < lo || r.min > hi {
		return seqParamError("MINVALUE (%d) is out of range for sequence data type %s", r.min, typName)
	}
	if r.min >= r.max {
		return seqParamError("MINVALUE (%d) must be less than MAXVALUE (%d)", r.min, r.max)
	}
	switch {
	case spec.Start != nil:
		r.start = *spec.Start
	case isInit:
		if r.inc > 0 {
			r.start = r.min
		} else {
			r.start = r.max
		}
	}
	if r.start < r.min {
		return seqParamError("START value (%d) cannot be less than MINVALUE (%d)", r.start, r.min)
	}
	if r.start > r.max {
		return seqParamError("START value (%d) cannot be greater than MAXVALUE (%d)", r.start, r.max)
	}
	switch {
	case spec.RestartWith != nil:
		r.last, r.called = *spec.RestartWith, false
	case spec.Restart:
		r.last, r.called = r.start, false
	case isInit:
		r.last, r.called = r.start, false
	}
	if r.last < r.min {
		return seqParamError("RESTART value (%d) cannot be less than MINVALUE (%d)", r.last, r.min)
	}
	if r.last > r.max {
		return seqParamError("RESTART value (%d) cannot be greater than MAXVALUE (%d)", r.last, r.max)
	}
	if spec.Cache != nil {
		if *spec.Cache <= 0 {
			return seqParamError("CACHE (%d) must be greater than zero", *spec.Cache)
		}
		r.cache = *spec.Cache
	}
	return nil
}

// dropSequences is DROP SEQUENCE: 2BP01 while a column default uses one,
// as in PostgreSQL; CASCADE would drop those defaults, which is refused.
func (e *Engine) dropSequences(spec *translate.SequenceSpec) error {
	for _, name := range spec.Names {
		r, err := e.seqLoad(name)
		if err != nil {
			return err
		}
		if r == nil {
			if spec.IfExists {
				continue
			}
			return funcError(pgerror.UndefinedTable, fmt.Sprintf("sequence %q does not exist", name))
		}
		users, err := e.sequenceUsers(name)
		if err != nil {
			return err
		}
		if len(users) > 0 {
			if spec.Cascade {
				return funcError(pgerror.FeatureNotSupported,
					fmt.Sprintf("DROP SEQUENCE … CASCADE of sequence %q, which %q uses (a column default or a view)", name, users[0]))
			}
			return funcErrorDetail(pgerror.DependentObjectsStillExist,
				fmt.Sprintf("cannot drop sequence %s because other objects depend on it", name),
				e.dependentDetail(users[0], name), "Use DROP ... CASCADE to drop the dependent objects too.")
		}
		r.deleted = true
		e.seq.rows[name] = nil
		e.seq.structural = true
		e.seqTouch(r)
	}
	return nil
}

// ownedSequences drops (DROP TABLE) or restarts (TRUNCATE … RESTART
// IDENTITY) the sequences that table spec.Table owns. A table an older
// build made keeps its serial key's counter in sqlite_sequence
// (AUTOINCREMENT): RESTART IDENTITY resets that.
func (e *Engine) ownedSequences(spec *translate.SequenceSpec) error {
	if spec.Op == "restart_owned" {
		if kind, err := e.relationKind("sqlite_sequence"); err != nil {
			return err
		} else if kind == "table" {
			if _, err := e.seqQuery(`DELETE FROM sqlite_sequence WHERE name = ?1`, spec.Table); err != nil {
				return err
			}
		}
	}
	rows, err := e.seqQuery(`SELECT name FROM _pgraft_sequences WHERE owner_table = ?1 ORDER BY id`, spec.Table)
	if err != nil {
		return err
	}
	for _, row := range rows {
		name, _ := row[0].(string)
		r, err := e.seqLoad(name)
		if err != nil {
			return err
		}
		if r == nil {
			continue
		}
		if spec.Op == "drop_owned" {
			r.deleted = true
			e.seq.rows[name] = nil
			e.seq.structural = true
		} else {
			r.last, r.called = r.start, false
		}
		e.seqTouch(r)
	}
	return nil
}

// dependentDetail is PostgreSQL's DETAIL for what depends on sequence
// name: a column default of table rel, or view rel (read from the
// database, like everything an entry's result says).
func (e *Engine) dependentDetail(rel, name string) string {
	if kind, _ := e.relationKind(rel); kind == "view" {
		return fmt.Sprintf("view %s depends on sequence %s", rel, name)
	}
	needle := translate.NextvalFunc + "(" + translate.QuoteLiteral(name) + ")"
	rows, _ := e.seqQuery(`SELECT name FROM pragma_table_xinfo(?1, 'main') WHERE instr(dflt_value, ?2) > 0 ORDER BY cid LIMIT 1`, rel, needle)
	if len(rows) == 1 {
		if col, ok := rows[0][0].(string); ok {
			return fmt.Sprintf("default value for column %s of table %s depends on sequence %s", col, rel, name)
		}
	}
	return fmt.Sprintf("table %s depends on sequence %s", rel, name)
}

// advanceSequences moves each sequence past the values a transaction that
// did not commit handed out (never back): the next nextval returns a value
// beyond them. A sequence dropped meanwhile is skipped.
func (e *Engine) advanceSequences(spec *translate.SequenceSpec) error {
	names := make([]string, 0, len(spec.Advance))
	for name := range spec.Advance {
		names = append(names, name)
	}
	sort.Strings(names) // the same order on every node
	for _, name := range names {
		seen := spec.Advance[name]
		r, err := e.seqLoad(name)
		if err != nil {
			return err
		}
		if r == nil {
			continue
		}
		v := seen[1]
		if r.inc < 0 {
			v = seen[0]
		}
		if v < r.min || v > r.max {
			continue // ALTER SEQUENCE moved the bounds since
		}
		if !r.called || r.inc > 0 && v > r.last || r.inc < 0 && v < r.last {
			r.last, r.called = v, true
			e.seqTouch(r)
		}
	}
	return nil
}

// renameOwner follows a rename of the owning table (spec.Column "") or
// column in the sequences it owns.
func (e *Engine) renameOwner(spec *translate.SequenceSpec) error {
	q := `SELECT name FROM _pgraft_sequences WHERE owner_table = ?1 ORDER BY id`
	args := []any{spec.Table}
	if spec.Column != "" {
		q = `SELECT name FROM _pgraft_sequences WHERE owner_table = ?1 AND owner_column = ?2 ORDER BY id`
		args = append(args, spec.Column)
	}
	rows, err := e.seqQuery(q, args...)
	if err != nil {
		return err
	}
	for _, row := range rows {
		name, _ := row[0].(string)
		r, err := e.seqLoad(name)
		if err != nil || r == nil {
			return err
		}
		if spec.Column != "" {
			r.ownerCol = spec.NewName
		} else {
			r.ownerTable = spec.NewName
		}
		e.seq.structural = true
		e.seqTouch(r)
	}
	return nil
}
