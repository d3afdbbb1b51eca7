package sqlengine

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/pgraft/pgraft/pgvalue"
	"github.com/pgraft/pgraft/sqlengine/translate"
)

// OIDs of schema objects. They must be equal on every node and in every
// view of them (catalog views, TableInfo.OID, IndexInfo.OID), so they are
// computed from sqlite_schema.rowid, which every node assigns alike because
// every node applies the same DDL in the same order:
//
//   - a table, view or index: 16384 + rowid (16384 is PostgreSQL's first
//     user OID);
//   - the primary-key index of a rowid table (SQLite keeps none: the table
//     is its own index): oidPKIndexBase + 16384 + the table's rowid;
//   - a constraint: oidConstraintBase + (table rowid << 8) + its ordinal in
//     the CREATE TABLE text (so at most 256 constraints per table and 2^23
//     schema rows before OIDs would collide).
const (
	oidFirstUser      = 16384
	oidPKIndexBase    = 1 << 30
	oidConstraintBase = 1 << 31
)

// queryer is what loadSchema needs: *sql.DB, *sql.Conn and *sql.Tx all fit.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// SchemaSnapshot is the user schema at one moment, in PostgreSQL terms. It
// implements Schema and is immutable once built, so any goroutine may read it.
type SchemaSnapshot struct {
	tables      []*translate.TableInfo // sorted by name
	byName      map[string]*translate.TableInfo
	byOID       map[uint32]*translate.TableInfo
	indexes     map[uint32]*indexDef
	constraints map[uint32]*constraintDef
	viewSQL     map[uint32]string    // pg_get_viewdef text by view OID
	sequences   map[string]bool      // the sequences' names (sequences.go)
	ownedSeq    map[[2]string]string // {table, column} -> the sequence it owns
	// broken lists relations whose columns could not be read (a view over
	// a table dropped before the view check existed): they stay in the
	// snapshot without columns, so that DROP can still name them, and
	// everything else loads.
	broken []string
}

var (
	_ translate.Schema         = (*SchemaSnapshot)(nil)
	_ translate.SequenceSchema = (*SchemaSnapshot)(nil)
)

// Table returns the table or view with that name, or nil.
func (s *SchemaSnapshot) Table(name string) *translate.TableInfo {
	if s == nil {
		return nil
	}
	return s.byName[name]
}

// Tables returns every user table and view, sorted by name.
func (s *SchemaSnapshot) Tables() []*translate.TableInfo {
	if s == nil {
		return nil
	}
	return s.tables
}

// TableByOID returns the table or view with that pg_class OID, or nil.
func (s *SchemaSnapshot) TableByOID(oid uint32) *translate.TableInfo {
	if s == nil {
		return nil
	}
	return s.byOID[oid]
}

// schemaRow is one row of sqlite_schema.
type schemaRow struct {
	typ, name, tblName string
	rowid              int64
	sql                string
}

// isInternalName reports whether a table or index name is SQLite's or
// pgraft's own, hidden from the catalog.
func isInternalName(name string) bool {
	return strings.HasPrefix(name, "sqlite_") || strings.HasPrefix(name, "_pgraft")
}

// loadSchema reads the user tables, views, columns (PG type from the
// declared type via TypeByDecl, or for a rowid alias from the RowidMarker
// comment in sqlite_schema.sql), NOT NULL, defaults (as PostgreSQL would
// show them), primary keys, indexes and foreign keys. Tables whose name
// starts with "_pgraft" or "sqlite_" are internal and left out.
func loadSchema(ctx context.Context, q queryer) (*SchemaSnapshot, error) {
	rows, err := readSchemaRows(ctx, q)
	if err != nil {
		return nil, err
	}
	m := buildSchemaModel(rows)
	snap := &SchemaSnapshot{
		byName: map[string]*translate.TableInfo{}, byOID: map[uint32]*translate.TableInfo{},
		indexes: map[uint32]*indexDef{}, constraints: map[uint32]*constraintDef{},
		viewSQL: map[uint32]string{},
	}
	for _, r := range rows {
		if (r.typ != "table" && r.typ != "view") || isInternalName(r.name) {
			continue
		}
		t, err := loadTable(ctx, q, m, r, snap)
		if err != nil {
			if ctx.Err() != nil {
				return nil, err
			}
			// One relation that cannot be read must not make the whole
			// schema, and so every statement, fail.
			snap.broken = append(snap.broken, err.Error())
			t = &translate.TableInfo{Name: r.name, OID: uint32(oidFirstUser + r.rowid), View: r.typ == "view"}
		}
		snap.tables = append(snap.tables, t)
		snap.byName[t.Name] = t
		snap.byOID[t.OID] = t
	}
	sort.Slice(snap.tables, func(i, j int) bool { return snap.tables[i].Name < snap.tables[j].Name })
	if err := loadSequences(ctx, q, snap); err != nil {
		return nil, err
	}
	return snap, nil
}

// loadSequences reads the sequences' names and owners (sequences.go). A
// database without _pgraft_sequences (a bare one in tests) has none.
func loadSequences(ctx context.Context, q queryer, snap *SchemaSnapshot) error {
	rs, err := q.QueryContext(ctx, "SELECT name, coalesce(owner_table, ''), coalesce(owner_column, ''), coalesce(identity, '') FROM _pgraft_sequences")
	if err != nil {
		if strings.Contains(err.Error(), "no such table") {
			return nil
		}
		return fmt.Errorf("read _pgraft_sequences: %w", err)
	}
	defer rs.Close()
	snap.sequences, snap.ownedSeq = map[string]bool{}, map[[2]string]string{}
	for rs.Next() {
		var name, table, column, identity string
		if err := rs.Scan(&name, &table, &column, &identity); err != nil {
			return fmt.Errorf("read _pgraft_sequences: %w", err)
		}
		snap.sequences[name] = true
		if table != "" {
			snap.ownedSeq[[2]string{table, column}] = name
		}
		if ti := snap.byName[table]; ti != nil && identity != "" {
			for i := range ti.Columns {
				if ti.Columns[i].Name == column {
					ti.Columns[i].Identity = identity[0]
				}
			}
		}
	}
	return rs.Err()
}

// OwnedSequence is the sequence that column table.column owns (a serial
// or identity column's), "" if none.
func (s *SchemaSnapshot) OwnedSequence(table, column string) string {
	if s == nil {
		return ""
	}
	return s.ownedSeq[[2]string{table, column}]
}

// Sequence implements translate.SequenceSchema.
func (s *SchemaSnapshot) Sequence(name string) bool { return s != nil && s.sequences[name] }

func readSchemaRows(ctx context.Context, q queryer) ([]schemaRow, error) {
	rs, err := q.QueryContext(ctx, "SELECT type, name, tbl_name, rowid, coalesce(sql, '') FROM sqlite_schema ORDER BY rowid")
	if err != nil {
		return nil, fmt.Errorf("read sqlite_schema: %w", err)
	}
	defer rs.Close()
	var out []schemaRow
	for rs.Next() {
		var r schemaRow
		if err := rs.Scan(&r.typ, &r.name, &r.tblName, &r.rowid, &r.sql); err != nil {
			return nil, fmt.Errorf("read sqlite_schema: %w", err)
		}
		out = append(out, r)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("read sqlite_schema: %w", err)
	}
	return out, nil
}

// pragmaColumn is one row of pragma_table_xinfo.
type pragmaColumn struct {
	name, decl string
	notNull    bool
	dflt       sql.NullString
	pk         int
}

func loadTable(ctx context.Context, q queryer, m *schemaModel, r schemaRow, snap *SchemaSnapshot) (*translate.TableInfo, error) {
	t := &translate.TableInfo{Name: r.name, OID: uint32(oidFirstUser + r.rowid), View: r.typ == "view"}
	cols, err := readColumns(ctx, q, r.name)
	if err != nil {
		return nil, err
	}
	mt := m.tables[r.name]
	rowidPK := mt != nil && mt.rowidPK != ""
	for _, c := range cols {
		isRowid := rowidPK && c.pk > 0 && c.name == mt.rowidPK
		typ, mod := columnType(c.decl, rowidTypeOf(mt), isRowid)
		if rt := m.viewRowidType(r.name, c.name, c.decl); t.View && rt != "" {
			typ, mod = columnType(c.decl, rt, true)
		}
		ci := translate.ColumnInfo{
			Name: c.name, Type: typ, TypeMod: mod, NotNull: c.notNull || c.pk > 0 && !t.View,
			PrimaryKey: c.pk > 0, Rowid: isRowid, Serial: isRowid && mt.ddl.autoincrement,
			LegacyNumeric: typ.OID == pgvalue.OIDNumeric && translate.LegacyNumericDecl(c.decl),
		}
		ci.Default = columnDefault(r.name, c.name, typ, c.dflt.String, c.dflt.Valid, ci.Serial)
		t.Columns = append(t.Columns, ci)
	}
	if t.View {
		snap.viewSQL[t.OID] = viewQueryText(r.sql)
	}
	if t.View || mt == nil {
		return t, nil
	}
	if err := loadIndexes(ctx, q, m, mt, t, snap); err != nil {
		return nil, err
	}
	for _, c := range mt.constraints {
		c := c
		snap.constraints[c.oid] = &c
		if c.kind == 'f' {
			t.FKs = append(t.FKs, translate.ForeignKeyInfo{
				Name: c.name, Columns: c.cols, RefTable: c.refTable, RefColumns: c.refCols,
				OnDelete: c.onDelete, OnUpdate: c.onUpdate, Deferred: c.deferred,
			})
		}
	}
	return t, nil
}

func rowidTypeOf(mt *modelTable) string {
	if mt == nil {
		return ""
	}
	return mt.ddl.rowidType
}

func readColumns(ctx context.Context, q queryer, table string) ([]pragmaColumn, error) {
	rs, err := q.QueryContext(ctx,
		`SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_xinfo(?) WHERE hidden <> 1 ORDER BY cid`, table)
	if err != nil {
		return nil, fmt.Errorf("read columns of %s: %w", table, err)
	}
	defer rs.Close()
	var out []pragmaColumn
	for rs.Next() {
		var c pragmaColumn
		if err := rs.Scan(&c.name, &c.decl, &c.notNull, &c.dflt, &c.pk); err != nil {
			return nil, fmt.Errorf("read columns of %s: %w", table, err)
		}
		out = append(out, c)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("read columns of %s: %w", table, err)
	}
	return out, nil
}

// loadIndexes fills t.Indexes: the rowid primary key's implicit index first,
// then SQLite's indexes on the table in pragma_index_list order.
func loadIndexes(ctx context.Context, q queryer, m *schemaModel, mt *modelTable, t *translate.TableInfo, snap *SchemaSnapshot) error {
	if mt.rowidPK != "" {
		d := m.indexes[mt.pkIndexOID]
		snap.indexes[d.oid] = d
		t.Indexes = append(t.Indexes, d.info())
	}
	rs, err := q.QueryContext(ctx, `SELECT name FROM pragma_index_list(?) ORDER BY name`, t.Name)
	if err != nil {
		return fmt.Errorf("read indexes of %s: %w", t.Name, err)
	}
	var names []string
	for rs.Next() {
		var n string
		if err := rs.Scan(&n); err != nil {
			rs.Close()
			return fmt.Errorf("read indexes of %s: %w", t.Name, err)
		}
		names = append(names, n)
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return fmt.Errorf("read indexes of %s: %w", t.Name, err)
	}
	for _, n := range names {
		d := m.indexByName[n]
		if d == nil {
			continue
		}
		if err := fillIndexColumns(ctx, q, n, d); err != nil {
			return err
		}
		snap.indexes[d.oid] = d
		t.Indexes = append(t.Indexes, d.info())
	}
	return nil
}

// fillIndexColumns completes an index's columns from pragma_index_xinfo
// (an expression column keeps the text parsed from CREATE INDEX).
func fillIndexColumns(ctx context.Context, q queryer, index string, d *indexDef) error {
	rs, err := q.QueryContext(ctx,
		`SELECT cid, coalesce(name, ''), "desc" FROM pragma_index_xinfo(?) WHERE key = 1 ORDER BY seqno`, index)
	if err != nil {
		return fmt.Errorf("read columns of index %s: %w", index, err)
	}
	defer rs.Close()
	var cols []indexColumn
	for i := 0; rs.Next(); i++ {
		var c indexColumn
		var cid int
		if err := rs.Scan(&cid, &c.name, &c.desc); err != nil {
			return fmt.Errorf("read columns of index %s: %w", index, err)
		}
		c.attnum = cid + 1
		if cid < 0 {
			c.attnum = 0
			if i < len(d.cols) {
				c.name, c.expr = d.cols[i].name, true
			}
		}
		cols = append(cols, c)
	}
	if err := rs.Err(); err != nil {
		return fmt.Errorf("read columns of index %s: %w", index, err)
	}
	d.cols = cols
	return nil
}

// columnType maps a SQLite declared type to the PostgreSQL type and typmod.
// A rowid alias takes its type from the RowidMarker (int8 without one).
func columnType(decl, rowidType string, isRowid bool) (*translate.PGType, int32) {
	if isRowid {
		if t := translate.TypeByName(rowidType); t != nil {
			return t, -1
		}
		return translate.TypeByOID(pgvalue.OIDInt8), -1
	}
	t := translate.TypeByDecl(decl)
	if t == nil {
		t = translate.TypeByOID(pgvalue.OIDText)
	}
	return t, typmodOf(t, decl)
}

// DeclTypmod is the atttypmod a column's SQLite declared type says
// (numeric(12,2), varchar(20)), -1 when none.
func DeclTypmod(decl string) int32 {
	t := translate.TypeByDecl(decl)
	if t == nil {
		return -1
	}
	return typmodOf(t, decl)
}

// typmodOf reads "(n)" or "(p,s)" from a declared type, encoded as
// PostgreSQL's atttypmod.
func typmodOf(t *translate.PGType, decl string) int32 {
	open, end := strings.IndexByte(decl, '('), strings.LastIndexByte(decl, ')')
	if open < 0 || end < open {
		return -1
	}
	args := strings.Split(decl[open+1:end], ",")
	a, err := toInt(strings.TrimSpace(args[0]))
	if err != nil || a < 0 {
		return -1
	}
	switch t.OID {
	case pgvalue.OIDVarchar, pgvalue.OIDBPChar:
		return int32(a) + 4
	case pgvalue.OIDNumeric:
		s := int64(0)
		if len(args) > 1 {
			s, _ = toInt(strings.TrimSpace(args[1]))
		}
		return int32(a<<16|s&0xffff) + 4
	case pgvalue.OIDTimestamp, pgvalue.OIDTimestamptz, pgvalue.OIDTime, pgvalue.OIDTimetz, pgvalue.OIDInterval:
		return int32(a)
	}
	return -1
}

// viewQueryText is pg_get_viewdef's shape of a view: " SELECT …;", taken
// from the text after AS in CREATE VIEW.
func viewQueryText(createView string) string {
	for _, t := range tokenizeSQL(createView) {
		if t.word("AS") {
			return " " + numericExprText(strings.TrimSuffix(strings.TrimSpace(createView[t.end:]), ";")) + ";"
		}
	}
	return ""
}

// columnDefault is a column default as PostgreSQL shows it (pg_get_expr of
// pg_attrdef.adbin), from the text SQLite keeps: translation writes
// DEFAULT (expr) in SQLite's dialect, so literals are re-typed the way
// PostgreSQL's deparser prints its constants, and pgraft's time functions
// get their PostgreSQL names back. A serial column shows nextval() of the
// sequence PostgreSQL would have made; "" means no default.
func columnDefault(table, col string, typ *translate.PGType, dflt string, valid, serial bool) string {
	if serial {
		return "nextval('" + strings.ReplaceAll(pgQuoteIdent(truncName(table+"_"+col+"_seq")), "'", "''") + "'::regclass)"
	}
	if !valid {
		return ""
	}
	toks := tokenizeSQL(dflt)
	for len(toks) >= 2 && toks[0].val == "(" && toks[0].kind == 'p' && matchParen(toks, 0) == len(toks)-1 {
		dflt = dflt[toks[0].end:toks[len(toks)-1].start]
		toks = toks[1 : len(toks)-1]
	}
	if lit, ok := defaultLiteral(toks); ok {
		return lit.render(typ)
	}
	if strings.HasPrefix(dflt, translate.CurrentTimeSQL) || strings.HasPrefix(dflt, translate.DatetimeCastFunc+"("+translate.CurrentTimeSQL) {
		return "CURRENT_TIME" // on a time column, cast back to time
	}
	if len(toks) > 3 && toks[0].word("pg_timetz") && toks[1].val == "(" && toks[2].kind == 's' {
		// A timetz constant with its offset, as PostgreSQL keeps it.
		if v, err := castTimetzFixed(toks[2].val); err == nil {
			return "'" + asString(mustCastFromTimetz(v)) + "'::time with time zone"
		}
	}
	if len(toks) == 4 && toks[0].word(translate.NextvalFunc) && toks[1].val == "(" && toks[2].kind == 's' && toks[3].val == ")" {
		// A serial column's, or nextval() a client wrote (sequences.go).
		return "nextval(" + translate.QuoteLiteral(pgQuoteIdent(toks[2].val)) + "::regclass)"
	}
	if len(toks) == 3 && toks[0].kind == 'i' && toks[1].val == "(" && toks[2].val == ")" {
		switch strings.ToLower(toks[0].val) {
		case "pg_now":
			return "now()"
		case "pg_statement_timestamp":
			return "statement_timestamp()"
		case "pg_clock_timestamp":
			return "clock_timestamp()"
		case "pg_now_local":
			return "LOCALTIMESTAMP"
		case "pg_current_date":
			return "CURRENT_DATE"
		case "pg_current_time":
			return "CURRENT_TIME"
		case "pg_random":
			return "random()"
		}
	}
	if len(toks) == 1 && toks[0].kind == 'i' {
		switch strings.ToUpper(toks[0].val) {
		case "NULL":
			return "" // PostgreSQL stores no default for DEFAULT NULL
		case "CURRENT_TIMESTAMP", "CURRENT_DATE", "CURRENT_TIME":
			return strings.ToUpper(toks[0].val)
		}
	}
	return pgExprText(dflt)
}

// defaultLit is a constant default: a number, a string or a boolean,
// possibly under an explicit pg_cast.
type defaultLit struct {
	kind byte // 'n' number, 's' string, 'b' boolean
	text string
	cast *translate.PGType // explicit cast target, nil if none
}

func defaultLiteral(toks []sqlToken) (defaultLit, bool) {
	switch {
	case len(toks) == 1 && toks[0].kind == 'n':
		return defaultLit{kind: 'n', text: toks[0].val}, true
	case len(toks) == 2 && toks[0].kind == 'p' && (toks[0].val == "-" || toks[0].val == "+") && toks[1].kind == 'n':
		return defaultLit{kind: 'n', text: strings.TrimPrefix(toks[0].val+toks[1].val, "+")}, true
	case len(toks) == 1 && toks[0].kind == 's':
		return defaultLit{kind: 's', text: toks[0].val}, true
	case len(toks) == 1 && (toks[0].word("TRUE") || toks[0].word("FALSE")):
		return defaultLit{kind: 'b', text: strings.ToLower(toks[0].val)}, true
	}
	// pg_cast(literal, 'src', 'dst', typmod), or pg_cast_datetime
	if len(toks) >= 8 && (toks[0].word("pg_cast") || toks[0].word(translate.DatetimeCastFunc)) && toks[1].val == "(" {
		inner, ok := defaultLiteral(toks[2:3])
		if !ok || toks[3].val != "," || toks[5].val != "," || toks[6].kind != 's' {
			return defaultLit{}, false
		}
		if t := translate.TypeByName(toks[6].val); t != nil {
			inner.kind, inner.cast = 's', t
			return inner, true
		}
	}
	return defaultLit{}, false
}

// render prints the constant as PostgreSQL's deparser does once the
// constant has been coerced to the column's type (or the explicit cast).
func (l defaultLit) render(col *translate.PGType) string {
	typ := col
	if l.cast != nil {
		typ = l.cast
	}
	if typ.OID == pgvalue.OIDBool {
		if l.kind == 'n' {
			return map[bool]string{true: "true", false: "false"}[strings.Trim(l.text, "0.-+") != ""]
		}
		if b, ok := pgvalue.ParseBool(l.text); ok {
			return map[bool]string{true: "true", false: "false"}[b]
		}
	}
	if l.kind == 'n' {
		return renderNumber(l.text)
	}
	text := l.text
	switch typ.OID {
	case pgvalue.OIDInt4:
		if n, err := strconv.ParseInt(strings.TrimSpace(text), 10, 32); err == nil {
			return renderNumber(strconv.FormatInt(n, 10))
		}
	case pgvalue.OIDNumeric:
		if strings.Contains(text, ".") {
			if _, ok := pgvalue.ParseNumeric(strings.TrimSpace(text)); ok && !strings.HasPrefix(strings.TrimSpace(text), "-") {
				return strings.TrimSpace(text)
			}
		}
	case pgvalue.OIDDate, pgvalue.OIDTimestamp, pgvalue.OIDUUID, pgvalue.OIDJSONB, pgvalue.OIDTime:
		if v, err := pgCast(text, "", typ.Name, -1); err == nil {
			text = asString(v)
			if inf, ok := storedInfinity(v); ok && isDatetimeType(typ.Name) {
				text = inf.String() // not its stored text
			}
		}
	}
	minus1 := int64(-1)
	return "'" + strings.ReplaceAll(text, "'", "''") + "'::" + formatType(typ.OID, &minus1)
}

// renderNumber prints a numeric literal as PostgreSQL's deparser does: a
// non-negative int4 or decimal bare, anything else quoted with its type.
func renderNumber(s string) string {
	neg := strings.HasPrefix(s, "-")
	if !strings.ContainsAny(s, ".eE") {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			switch {
			case n >= 0 && n <= math.MaxInt32:
				return s
			case n >= math.MinInt32 && n < 0:
				return "'" + s + "'::integer"
			}
			return "'" + s + "'::bigint"
		}
		return "'" + s + "'::numeric"
	}
	if neg {
		return "'" + s + "'::numeric"
	}
	return s
}
