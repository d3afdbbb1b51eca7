package translate

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/pgraft/pgraft/pgvalue"
	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// SequenceSpec is what a sequence statement asks of the engine: CREATE,
// ALTER or DROP SEQUENCE, the sequence a serial or identity column owns,
// and the owned sequences of a table that DROP TABLE or TRUNCATE …
// RESTART IDENTITY touches. Translation emits it as JSON, the argument of
// the engine's pgraft_seq_ddl (SequenceDDLFunc); the engine checks it
// against the database when the statement runs, on every node alike, so a
// translation against a stale schema cannot make it wrong.
type SequenceSpec struct {
	Op          string   `json:"op"`              // "create", "alter", "drop", "drop_owned", "restart_owned", "rename_owner", "advance"
	Name        string   `json:"name,omitempty"`  // create, alter
	Names       []string `json:"names,omitempty"` // drop
	NewName     string   `json:"new_name,omitempty"`
	Table       string   `json:"table,omitempty"`  // drop_owned, restart_owned, rename_owner
	Column      string   `json:"column,omitempty"` // rename_owner: the renamed column ("" for the table)
	IfExists    bool     `json:"if_exists,omitempty"`
	IfNotExists bool     `json:"if_not_exists,omitempty"`
	Cascade     bool     `json:"cascade,omitempty"`
	TypeOID     uint32   `json:"type,omitempty"` // AS smallint|integer|bigint; 0: not given
	Increment   *int64   `json:"increment,omitempty"`
	MinValue    *int64   `json:"min,omitempty"`
	MaxValue    *int64   `json:"max,omitempty"`
	NoMinValue  bool     `json:"no_min,omitempty"`
	NoMaxValue  bool     `json:"no_max,omitempty"`
	Start       *int64   `json:"start,omitempty"`
	Cache       *int64   `json:"cache,omitempty"`
	Cycle       *bool    `json:"cycle,omitempty"`
	Restart     bool     `json:"restart,omitempty"`
	RestartWith *int64   `json:"restart_with,omitempty"`
	// OwnedBy: nil when not given; empty for OWNED BY NONE; else table and
	// column.
	OwnedBy  *[]string `json:"owned_by,omitempty"`
	Identity string    `json:"identity,omitempty"` // an identity column's: "a" (ALWAYS) or "d" (BY DEFAULT)
	// Advance ("advance"): for each sequence, the lowest and highest values
	// a transaction that did not commit handed out; each sequence moves
	// past them if it is not already, so that no value is handed out twice
	// (the server logs it, docs/design.md "Sequences").
	Advance map[string][2]int64 `json:"advance,omitempty"`
}

// AdvanceSequencesSQL is the statement that runs an "advance" spec.
func AdvanceSequencesSQL(seen map[string][2]int64) string {
	b, _ := json.Marshal(&SequenceSpec{Op: "advance", Advance: seen}) // cannot fail: strings and integers
	return "SELECT " + SequenceDDLFunc + "(" + QuoteLiteral(string(b)) + ")"
}

// Sequence functions: the SQLite functions translation emits for
// nextval/setval and sequence DDL. They run only on the write connection,
// where the engine keeps the statement's sequence state; a read connection
// has stand-ins that fail as on a standby (25006).
const (
	NextvalFunc       = "pg_nextval"
	SetvalFunc        = "pg_setval"
	CurrvalFunc       = "pg_currval" // (name, the session's value or NULL)
	LastvalFunc       = "pg_lastval" // (the session's value or NULL)
	SequenceDDLFunc   = "pgraft_seq_ddl"
	SequenceStateView = "pg_sequence_state" // catalog view: seqname, last_value, log_cnt, is_called
)

// SequenceSchema is what a Schema that knows sequences adds to it.
// sqlengine's SchemaSnapshot implements it; a Schema without it has none.
type SequenceSchema interface {
	// Sequence reports whether a sequence of that name exists.
	Sequence(name string) bool
	// OwnedSequence is the sequence column table.column owns (a serial or
	// identity column's), "" if none.
	OwnedSequence(table, column string) string
}

// sequence reports whether name is a sequence of the schema.
func (t *translator) sequence(name string) bool {
	ss, ok := t.schema.(SequenceSchema)
	return ok && ss.Sequence(name)
}

// QuoteLiteral renders s as an SQL string literal, as translation emits
// one (the engine finds its sequence names in column defaults this way).
func QuoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// seqSpecSQL is the statement that runs spec.
func (t *translator) seqSpecSQL(spec *SequenceSpec) string {
	b, err := json.Marshal(spec)
	if err != nil {
		t.fail(pgerror.New(pgerror.InternalError, "encode sequence specification: %v", err))
	}
	return "SELECT " + SequenceDDLFunc + "(" + t.quoteString(string(b)) + ")"
}

// createSequence translates CREATE SEQUENCE.
func (t *translator) createSequence(s *pg.CreateSeqStmt) *Stmt {
	t.write = true
	spec := &SequenceSpec{Op: "create", Name: t.relationName(s.Sequence), IfNotExists: s.IfNotExists}
	t.seqOptions(s.Options, spec, false)
	return &Stmt{Kind: KindDDL, Tag: "CREATE SEQUENCE", SQL: t.seqSpecSQL(spec)}
}

// alterSequence translates ALTER SEQUENCE … options.
func (t *translator) alterSequence(s *pg.AlterSeqStmt) *Stmt {
	t.write = true
	if s.ForIdentity {
		t.unsupported("ALTER TABLE … ALTER COLUMN … SET identity options")
	}
	spec := &SequenceSpec{Op: "alter", Name: t.relationName(s.Sequence), IfExists: s.MissingOk}
	t.seqOptions(s.Options, spec, true)
	return &Stmt{Kind: KindDDL, Tag: "ALTER SEQUENCE", SQL: t.seqSpecSQL(spec)}
}

// seqOptions reads CREATE/ALTER SEQUENCE options into spec.
func (t *translator) seqOptions(opts []*pg.Node, spec *SequenceSpec, alter bool) {
	seen := map[string]bool{}
	for _, o := range opts {
		d := o.GetDefElem()
		if d == nil {
			t.unsupported("this sequence option")
		}
		if seen[d.Defname] {
			t.fail(pgerror.New(pgerror.SyntaxError, "conflicting or redundant options"))
		}
		seen[d.Defname] = true
		switch d.Defname {
		case "as":
			typ, _ := t.lookupType(d.Arg.GetTypeName())
			switch typ.OID {
			case pgvalue.OIDInt2, pgvalue.OIDInt4, pgvalue.OIDInt8:
				spec.TypeOID = typ.OID
			default:
				t.fail(pgerror.New(pgerror.InvalidParameterValue, "sequence type must be smallint, integer, or bigint"))
			}
		case "increment":
			spec.Increment = t.seqInt(d)
		case "minvalue":
			if d.Arg == nil {
				spec.NoMinValue = true
			} else {
				spec.MinValue = t.seqInt(d)
			}
		case "maxvalue":
			if d.Arg == nil {
				spec.NoMaxValue = true
			} else {
				spec.MaxValue = t.seqInt(d)
			}
		case "start":
			spec.Start = t.seqInt(d)
		case "restart":
			if !alter {
				t.fail(pgerror.New(pgerror.SyntaxError, "RESTART cannot be used with CREATE SEQUENCE"))
			}
			spec.Restart = true
			if d.Arg != nil {
				spec.RestartWith = t.seqInt(d)
			}
		case "cache":
			spec.Cache = t.seqInt(d)
		case "cycle":
			c := d.Arg.GetBoolean().GetBoolval()
			spec.Cycle = &c
		case "owned_by":
			spec.OwnedBy = t.ownedBy(d.Arg.GetList().GetItems())
		case "sequence_name":
			if alter || spec.Identity == "" {
				t.unsupported("SEQUENCE NAME here")
			}
			var parts []string
			for _, n := range d.Arg.GetList().GetItems() {
				parts = append(parts, n.GetString_().GetSval())
			}
			if len(parts) == 2 && parts[0] == "public" {
				parts = parts[1:]
			}
			if len(parts) != 1 || parts[0] == "" {
				t.fail(pgerror.New(invalidSchemaName, "schema \"%s\" does not exist", strings.Join(parts[:len(parts)-1], ".")))
			}
			if t.sequence(parts[0]) || t.table(parts[0]) != nil {
				t.fail(pgerror.New(pgerror.DuplicateTable, "relation \"%s\" already exists", parts[0]))
			}
			spec.Name = parts[0]
		default:
			t.unsupported("sequence option %s", strings.ToUpper(d.Defname))
		}
	}
}

// seqInt is an option's integer value.
func (t *translator) seqInt(d *pg.DefElem) *int64 {
	var v int64
	switch a := d.Arg.GetNode().(type) {
	case *pg.Node_Integer:
		v = int64(a.Integer.Ival)
	case *pg.Node_Float:
		n, err := strconv.ParseInt(a.Float.Fval, 10, 64)
		if err != nil {
			t.fail(pgerror.New(pgerror.InvalidParameterValue, "%s requires an integer value", d.Defname))
		}
		v = n
	default:
		t.fail(pgerror.New(pgerror.InvalidParameterValue, "%s requires a numeric value", d.Defname))
	}
	return &v
}

// ownedBy reads OWNED BY table.column | NONE.
func (t *translator) ownedBy(items []*pg.Node) *[]string {
	names := nameList(items)
	if len(names) == 1 && names[0] == "none" {
		return &[]string{}
	}
	if len(names) < 2 {
		t.fail(pgerror.New(pgerror.SyntaxError, "invalid OWNED BY option").
			WithHint("Specify OWNED BY table.column or OWNED BY NONE."))
	}
	col := names[len(names)-1]
	table := t.qualifiedName(names[:len(names)-1])
	return &[]string{table, col}
}

// dropSequence translates DROP SEQUENCE.
func (t *translator) dropSequence(s *pg.DropStmt) *Stmt {
	t.write = true
	spec := &SequenceSpec{Op: "drop", IfExists: s.MissingOk, Cascade: s.Behavior == pg.DropBehavior_DROP_CASCADE}
	for _, o := range s.Objects {
		spec.Names = append(spec.Names, t.qualifiedName(nameList(o.GetList().GetItems())))
	}
	return &Stmt{Kind: KindDDL, Tag: "DROP SEQUENCE", SQL: t.seqSpecSQL(spec)}
}

// ownedSequencesSQL is the statement that drops (DROP TABLE) or restarts
// (TRUNCATE … RESTART IDENTITY) the sequences table owns.
func (t *translator) ownedSequencesSQL(op, table string) string {
	return t.seqSpecSQL(&SequenceSpec{Op: op, Table: table})
}

// alterSequenceTable is what pg_query parses ALTER SEQUENCE … OWNER TO and
// kin into: an ALTER TABLE on a sequence. OWNER TO is accepted (pgraft has
// no object owners yet); the rest are refused.
func (t *translator) alterSequenceTable(s *pg.AlterTableStmt) *Stmt {
	// The name is not looked up: a sequence the transaction created is not
	// in the schema it translates against yet (pg_restore -1).
	if !onlyOwner(s.Cmds) {
		t.relationName(s.Relation)
		t.unsupported("this ALTER SEQUENCE form")
	}
	return t.alterOther(s, "ALTER SEQUENCE") // emit_alter_table.go: the role must exist (42704)
}

// renameSequence translates ALTER SEQUENCE … RENAME TO.
func (t *translator) renameSequence(r *pg.RenameStmt) *Stmt {
	t.write = true
	spec := &SequenceSpec{Op: "alter", Name: t.relationName(r.Relation), NewName: r.Newname, IfExists: r.MissingOk}
	return &Stmt{Kind: KindDDL, Tag: "ALTER SEQUENCE", SQL: t.seqSpecSQL(spec)}
}

// RegclassName resolves the text of a regclass value ('s', 'public.s',
// '"MixedCase"') to a relation name in public, as PostgreSQL's regclassin
// parses it; ok is false for another schema or a malformed name.
func RegclassName(s string) (name string, ok bool) {
	parts, ok := splitQualified(s)
	switch {
	case !ok:
		return "", false
	case len(parts) == 1:
		return parts[0], true
	case len(parts) == 2 && parts[0] == "public":
		return parts[1], true
	}
	return "", false
}

// splitQualified splits a possibly qualified, possibly quoted name into
// its parts as PostgreSQL's regclassin does: unquoted parts fold ASCII
// letters to lower case, white space may surround a part, not split one.
func splitQualified(s string) ([]string, bool) {
	var parts []string
	var cur strings.Builder
	seen, ended, inQuote := false, false, false // ended: the part is complete, a '.' must follow
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inQuote && c == '"' && i+1 < len(s) && s[i+1] == '"':
			cur.WriteByte('"')
			i++
		case inQuote && c == '"':
			inQuote, ended = false, true
		case inQuote:
			cur.WriteByte(c)
		case c == '.':
			if !seen {
				return nil, false
			}
			parts = append(parts, cur.String())
			cur.Reset()
			seen, ended = false, false
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			ended = ended || seen
		case ended:
			return nil, false
		case c == '"':
			if seen {
				return nil, false
			}
			inQuote, seen = true, true
		default:
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			cur.WriteByte(c)
			seen = true
		}
	}
	if inQuote || !seen {
		return nil, false
	}
	return append(parts, cur.String()), true
}

// seqNameArg is the sequence a nextval/setval/currval argument names: a
// string literal, possibly cast to regclass or text. Any other argument is
// refused: the engine must know the sequence from the statement's text.
func (t *translator) seqNameArg(fn string, n *pg.Node) string {
	for {
		tc := n.GetTypeCast()
		if tc == nil {
			break
		}
		switch lastName(tc.TypeName.Names) {
		case "regclass", "text", "varchar":
		default:
			t.unsupported("%s() of a %s", fn, lastName(tc.TypeName.Names))
		}
		n = tc.Arg
	}
	if f := n.GetFuncCall(); f != nil && t.funcName(f.Funcname) == "pg_get_serial_sequence" && len(f.Args) == 2 {
		return t.serialSequenceArg(fn, f) // Django's sequence reset
	}
	lit, ok := constString(n)
	if !ok {
		t.unsupported("%s() of anything but a sequence name literal", fn)
	}
	name, ok := RegclassName(lit)
	if !ok {
		parts, _ := splitQualified(lit)
		if len(parts) == 2 {
			t.fail(pgerror.New(invalidSchemaName, "schema \"%s\" does not exist", parts[0]))
		}
		t.fail(pgerror.New(pgerror.InvalidName, "invalid name syntax"))
	}
	return name
}

// sequenceFunc translates nextval, setval, currval and lastval.
func (t *translator) sequenceFunc(name string, f *pg.FuncCall) (string, xtype, bool) {
	switch name {
	case "nextval":
		if len(f.Args) != 1 {
			t.fail(undefinedFunction(name, nil))
		}
		t.seqWrite = true
		return NextvalFunc + "(" + t.seqNameSQL(t.seqNameArg(name, f.Args[0])) + ")", typed(pgvalue.OIDInt8), true
	case "setval":
		if len(f.Args) != 2 && len(f.Args) != 3 {
			t.fail(undefinedFunction(name, nil))
		}
		t.seqWrite = true
		args := []string{t.seqNameSQL(t.seqNameArg(name, f.Args[0]))}
		v, _ := t.expr(f.Args[1])
		t.hintParam(f.Args[1], TypeByOID(pgvalue.OIDInt8))
		args = append(args, v)
		if len(f.Args) == 3 {
			b, _ := t.expr(f.Args[2])
			t.hintParam(f.Args[2], TypeByOID(pgvalue.OIDBool))
			args = append(args, b)
		}
		return SetvalFunc + "(" + strings.Join(args, ", ") + ")", typed(pgvalue.OIDInt8), true
	case "currval":
		if len(f.Args) != 1 {
			t.fail(undefinedFunction(name, nil))
		}
		seq := t.seqNameArg(name, f.Args[0])
		if seq == "" {
			t.unsupported("currval() of a column that owns no sequence")
		}
		t.seqRead = append(t.seqRead, seq)
		return CurrvalFunc + "(" + t.quoteString(seq) + ", NULL)", typed(pgvalue.OIDInt8), true
	case "lastval":
		if len(f.Args) != 0 {
			t.fail(undefinedFunction(name, nil))
		}
		t.seqRead = append(t.seqRead, "")
		return LastvalFunc + "(NULL)", typed(pgvalue.OIDInt8), true
	}
	return "", noType, false
}

// SessionSeq is "SELECT currval('s')" or "SELECT lastval()" alone, which
// the server answers from the session's own values (currval and lastval
// are session state in PostgreSQL).
type SessionSeq struct {
	Name   string // the sequence; "" for lastval
	Column string // the result column's name
}

// reSessionSeq matches such a statement; reCurrval and reLastval the
// calls inside a larger one, whose NULL the server replaces by the
// session's value (BindSessionSeqs).
var (
	reSessionSeq = regexp.MustCompile(`^SELECT (?:pg_currval\('(?:[^']|'')*', NULL\)|pg_lastval\(NULL\)) AS "([^"]*)"$`)
	reCurrval    = regexp.MustCompile(`pg_currval\('((?:[^']|'')*)', NULL\)`)
	reLastval    = regexp.MustCompile(`pg_lastval\(NULL\)`)
)

// sequenceStatement finishes a statement that calls sequence functions: one
// that calls nextval or setval runs as a write that returns rows (Kind
// KindUpdate, Tag "SELECT"), even a SELECT: it must go through the log. One
// that calls currval or lastval gets the session's values bound by the
// server: alone, the server answers it (SessionSeq); inside a larger one,
// the server writes the values into its text (SessionValues), so that a
// logged write carries them.
func (t *translator) sequenceStatement(st *Stmt) {
	if t.seqWrite && st.Kind == KindSelect {
		st.Kind, st.Tag, st.Returning = KindUpdate, "SELECT", true
	}
	if len(t.seqRead) == 0 {
		return
	}
	if m := reSessionSeq.FindStringSubmatch(st.SQL); m != nil && len(t.seqRead) == 1 && st.Kind == KindSelect {
		st.SessionSeq = &SessionSeq{Name: t.seqRead[0], Column: m[1]}
		st.SQL = ""
		st.Columns = []ResultColumn{{Name: m[1], OID: pgvalue.OIDInt8, TypeMod: -1}}
		return
	}
	switch st.Kind {
	case KindSelect, KindInsert, KindUpdate, KindDelete:
		st.SessionValues = true
	default:
		t.unsupported("currval() or lastval() in this statement")
	}
}

// BindSessionSeqs writes a session's currval and lastval values into a
// statement's text (Stmt.SessionValues). A value the session does not have
// stays NULL, and the function fails with 55000 only if it is evaluated,
// as in PostgreSQL. The markers cannot occur in a translated string
// literal, whose quotes are doubled.
func BindSessionSeqs(sql string, currval func(name string) (int64, bool), lastval func() (int64, bool)) string {
	sql = reCurrval.ReplaceAllStringFunc(sql, func(m string) string {
		lit := reCurrval.FindStringSubmatch(m)[1]
		if v, ok := currval(strings.ReplaceAll(lit, "''", "'")); ok {
			return CurrvalFunc + "('" + lit + "', " + strconv.FormatInt(v, 10) + ")"
		}
		return m
	})
	if v, ok := lastval(); ok {
		sql = reLastval.ReplaceAllLiteralString(sql, LastvalFunc+"("+strconv.FormatInt(v, 10)+")")
	}
	return sql
}

// dropOwned adds to DROP TABLE the dropping of the sequences its tables
// own (serial and identity columns', OWNED BY), as PostgreSQL does.
func (t *translator) dropOwned(s *pg.DropStmt, st *Stmt) *Stmt {
	if s.RemoveType != pg.ObjectType_OBJECT_TABLE || st == nil || st.Kind != KindDDL {
		return st
	}
	for _, o := range s.Objects {
		name := t.qualifiedName(nameList(o.GetList().GetItems()))
		st.Post = append(st.Post, t.ownedSequencesSQL("drop_owned", name))
	}
	return st
}

// sequenceRef emits a sequence read as a relation ("SELECT last_value,
// is_called FROM s", as pg_dump reads it): its one row, from the catalog.
func (t *translator) sequenceRef(rv *pg.RangeVar) (string, bool) {
	if rv.Catalogname != "" || rv.Schemaname != "" && rv.Schemaname != "public" ||
		rv.Schemaname == "" && t.cte(rv.Relname) != nil || !t.sequence(rv.Relname) {
		return "", false
	}
	t.catalog = true
	alias := rv.Relname
	if rv.Alias != nil {
		alias = rv.Alias.Aliasname
	}
	entry := &relEntry{name: alias, known: true, cols: []colInfo{
		{name: "last_value", typ: xtype{t: TypeByOID(pgvalue.OIDInt8), mod: -1}},
		{name: "log_cnt", typ: xtype{t: TypeByOID(pgvalue.OIDInt8), mod: -1}},
		{name: "is_called", typ: xtype{t: TypeByOID(pgvalue.OIDBool), mod: -1}},
	}}
	q := "SELECT last_value, log_cnt, is_called FROM " + SequenceStateView + " WHERE seqname = " + t.quoteString(rv.Relname)
	if rv.Alias != nil && len(rv.Alias.Colnames) > 0 {
		return t.renamedFromItem(q, alias, entry, nameList(rv.Alias.Colnames)), true
	}
	t.scope.rels = append(t.scope.rels, entry)
	return "(" + q + ") AS " + QuoteIdent(alias), true
}

// renameOwner follows a table or column rename with the sequences it owns:
// PostgreSQL keeps ownership by OID, pgraft by name.
func (t *translator) renameOwner(r *pg.RenameStmt, st *Stmt) *Stmt {
	if st == nil || st.Kind != KindDDL {
		return st
	}
	switch r.RenameType {
	case pg.ObjectType_OBJECT_TABLE:
		spec := &SequenceSpec{Op: "rename_owner", Table: r.Relation.Relname, NewName: r.Newname}
		st.Post = append(st.Post, t.seqSpecSQL(spec))
	case pg.ObjectType_OBJECT_COLUMN:
		spec := &SequenceSpec{Op: "rename_owner", Table: r.Relation.Relname, Column: r.Subname, NewName: r.Newname}
		st.Post = append(st.Post, t.seqSpecSQL(spec))
	}
	return st
}

// checkIdentityAlways refuses a value for a GENERATED ALWAYS identity
// column, as PostgreSQL does (428C9), unless OVERRIDING SYSTEM VALUE.
func (t *translator) checkIdentityAlways(ti *TableInfo, cols []string, override bool) {
	if ti == nil || override {
		return
	}
	for _, name := range cols {
		if c := ti.Column(name); c != nil && c.Identity == 'a' {
			t.fail(pgerror.New("428C9", "cannot insert a non-DEFAULT value into column \"%s\"", name).
				WithDetail(fmt.Sprintf("Column \"%s\" is an identity column defined as GENERATED ALWAYS.", name)).
				WithHint("Use OVERRIDING SYSTEM VALUE to override."))
		}
	}
}

// serialSequenceArg resolves pg_get_serial_sequence('table', 'column') as
// the argument of a sequence function, from the schema, when translating:
// the log then names the sequence. "" (a NULL argument) when the column
// owns none.
func (t *translator) serialSequenceArg(fn string, f *pg.FuncCall) string {
	table, ok1 := constString(f.Args[0])
	column, ok2 := constString(f.Args[1])
	if !ok1 || !ok2 {
		t.unsupported("%s() of pg_get_serial_sequence() of anything but literals", fn)
	}
	name, ok := RegclassName(table)
	if !ok {
		t.fail(pgerror.New(pgerror.UndefinedTable, "relation \"%s\" does not exist", table))
	}
	if t.table(name) == nil {
		t.fail(pgerror.New(pgerror.UndefinedTable, "relation \"%s\" does not exist", table))
	}
	ss, ok := t.schema.(SequenceSchema)
	if !ok {
		return ""
	}
	return ss.OwnedSequence(name, column)
}

// seqNameSQL is a resolved sequence argument as SQL: NULL when there is
// none (the functions are strict).
func (t *translator) seqNameSQL(name string) string {
	if name == "" {
		return "NULL"
	}
	return t.quoteString(name)
}

// namesSequence refuses to create a table named like a sequence (42P07, as
// PostgreSQL: they share pg_class; SQLite does not know sequences), and
// reports whether CREATE TABLE IF NOT EXISTS has nothing to do.
func (t *translator) namesSequence(rv *pg.RangeVar, ifNotExists bool) bool {
	if rv == nil || rv.Schemaname != "" && rv.Schemaname != "public" || !t.sequence(rv.Relname) {
		return false
	}
	if !ifNotExists {
		t.fail(pgerror.New(pgerror.DuplicateTable, "relation \"%s\" already exists", rv.Relname))
	}
	return true
}

// dropNotSequence refuses DROP TABLE/VIEW/INDEX of a sequence (42809).
func (t *translator) dropNotSequence(s *pg.DropStmt) {
	kinds := map[pg.ObjectType]string{pg.ObjectType_OBJECT_TABLE: "table", pg.ObjectType_OBJECT_VIEW: "view", pg.ObjectType_OBJECT_INDEX: "index"}
	kind, ok := kinds[s.RemoveType]
	if !ok {
		return
	}
	for _, o := range s.Objects {
		names := nameList(o.GetList().GetItems())
		if name := names[len(names)-1]; len(names) <= 2 && t.sequence(name) {
			t.fail(pgerror.New(pgerror.WrongObjectType, "\"%s\" is not a %s", name, kind).
				WithHint("Use DROP SEQUENCE to remove a sequence."))
		}
	}
}
