package translate

import (
	"strconv"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/pgraft/pgraft/pgvalue"
)

// Type inference. Every emitter returns the SQL it wrote together with an
// xtype: what translation knows of the value's PostgreSQL type. Column
// references are resolved through scopes (one per SELECT level, with the
// FROM items' columns); parameters get the type of what they meet.

// xtype is the inferred type of an expression.
type xtype struct {
	t       *PGType // nil: unknown
	mod     int32   // typmod, -1 when none
	notNull bool    // a NOT NULL column (ORDER BY need not place NULLs)
	unknown bool    // an untyped string literal (PostgreSQL's "unknown")
	relOID  uint32  // a plain table column: its table's OID (RowDescription)
	attNum  int16   // a plain table column: its position, from 1
	legacy  bool    // a numeric column of an older pgraft (ColumnInfo.LegacyNumeric)
}

func typed(oid uint32) xtype { return xtype{t: TypeByOID(oid), mod: -1} }

var noType = xtype{mod: -1}

// oid returns the type's OID, 0 when unknown.
func (x xtype) oid() uint32 {
	if x.t == nil {
		return 0
	}
	return x.t.OID
}

// colInfo is one column of a relation in scope, or of a query's result.
type colInfo struct {
	name string
	typ  xtype
	expr string // a set-returning function's column: the SQL that reads it (emit_srf.go)
}

// relEntry is one FROM item visible to column references.
type relEntry struct {
	name       string    // alias or table name
	catalogOID uint32    // a catalog relation: its pg_class oid, the value of its tableoid column
	cols       []colInfo // nil with known=false: columns unknown (catalog views, star over unknown)
	known      bool
	srf        bool // a set-returning function: its columns are read through colInfo.expr
}

// scope is the FROM items of one SELECT level; parent is the enclosing query.
type scope struct {
	rels   []*relEntry
	ctes   map[string]*relEntry
	parent *scope
}

// pushScope opens a query level.
func (t *translator) pushScope() *scope {
	s := &scope{parent: t.scope, ctes: map[string]*relEntry{}}
	t.scope = s
	return s
}

// popScope closes the innermost query level.
func (t *translator) popScope() { t.scope = t.scope.parent }

// cte returns a CTE visible by name, or nil.
func (t *translator) cte(name string) *relEntry {
	for s := t.scope; s != nil; s = s.parent {
		if r, ok := s.ctes[name]; ok {
			return r
		}
	}
	return nil
}

// tableEntry builds the scope entry of a user table.
func tableEntry(name string, ti *TableInfo) *relEntry {
	if ti == nil {
		return &relEntry{name: name}
	}
	r := &relEntry{name: name, known: true}
	for i, c := range ti.Columns {
		nn := c.NotNull || c.PrimaryKey
		x := xtype{t: c.Type, mod: c.TypeMod, notNull: nn, relOID: ti.OID, attNum: int16(i + 1), legacy: c.LegacyNumeric}
		r.cols = append(r.cols, colInfo{name: c.Name, typ: x})
	}
	return r
}

// find returns a column of the entry, and whether the entry may have it.
func (r *relEntry) find(name string) (colInfo, bool, bool) {
	for _, c := range r.cols {
		if c.name == name {
			return c, true, false
		}
	}
	return colInfo{}, false, !r.known
}

// resolveColumn types a column reference: fields are the ColumnRef names.
func (t *translator) resolveColumn(fields []string) xtype {
	switch len(fields) {
	case 1:
		return t.resolveUnqualified(fields[0])
	case 2, 3:
		rel, col := fields[len(fields)-2], fields[len(fields)-1]
		for s := t.scope; s != nil; s = s.parent {
			for _, r := range s.rels {
				if r.name == rel {
					c, ok, _ := r.find(col)
					if ok {
						return c.typ
					}
					return noType
				}
			}
		}
	}
	return noType
}

// resolveUnqualified looks a bare column name up level by level; a name
// that more than one FROM item may have is typed only when they agree.
func (t *translator) resolveUnqualified(col string) xtype {
	for s := t.scope; s != nil; s = s.parent {
		var found []xtype
		maybe := false
		for _, r := range s.rels {
			c, ok, may := r.find(col)
			if ok {
				found = append(found, c.typ)
			}
			maybe = maybe || may
		}
		if maybe {
			return noType
		}
		if len(found) == 0 {
			continue
		}
		for _, f := range found[1:] {
			if f.t != found[0].t {
				return noType
			}
		}
		return found[0]
	}
	return noType
}

// numericRank orders the numeric types for arithmetic's result type.
var numericRank = map[uint32]int{pgvalue.OIDInt2: 1, pgvalue.OIDInt4: 2, pgvalue.OIDInt8: 3, pgvalue.OIDNumeric: 4, pgvalue.OIDFloat4: 5, pgvalue.OIDFloat8: 6}

// arithType is the result type of an arithmetic operator over a and b.
func arithType(op string, a, b xtype) xtype {
	if a.t == nil && b.t == nil {
		return noType
	}
	if a.t == nil || a.unknown {
		return xtype{t: b.t, mod: -1}
	}
	if b.t == nil || b.unknown {
		return xtype{t: a.t, mod: -1}
	}
	ra, rb := numericRank[a.t.OID], numericRank[b.t.OID]
	if ra == 0 || rb == 0 {
		if a.t.Category == 'D' && op == "-" && a.t == b.t {
			if a.t.OID == pgvalue.OIDDate {
				return typed(pgvalue.OIDInt4)
			}
			return typed(pgvalue.OIDInterval)
		}
		if a.t.Category == 'D' {
			return xtype{t: a.t, mod: -1}
		}
		return noType
	}
	if ra < 2 && rb < 2 {
		return typed(pgvalue.OIDInt2)
	}
	if ra >= rb {
		return xtype{t: a.t, mod: -1}
	}
	return xtype{t: b.t, mod: -1}
}

// sumType is sum()'s result type for an argument type.
func sumType(a xtype) xtype {
	if a.t == nil {
		return noType
	}
	switch a.t.OID {
	case pgvalue.OIDInt2, pgvalue.OIDInt4:
		return typed(pgvalue.OIDInt8)
	case pgvalue.OIDInt8, pgvalue.OIDNumeric:
		return typed(pgvalue.OIDNumeric)
	case pgvalue.OIDFloat4:
		return typed(pgvalue.OIDFloat4)
	case pgvalue.OIDFloat8:
		return typed(pgvalue.OIDFloat8)
	case pgvalue.OIDInterval:
		return typed(pgvalue.OIDInterval)
	}
	return noType
}

// avgType is avg()'s result type for an argument type.
func avgType(a xtype) xtype {
	if a.t != nil && (a.t.OID == pgvalue.OIDFloat4 || a.t.OID == pgvalue.OIDFloat8) {
		return typed(pgvalue.OIDFloat8)
	}
	if a.t != nil && a.t.OID == pgvalue.OIDInterval {
		return typed(pgvalue.OIDInterval)
	}
	return typed(pgvalue.OIDNumeric)
}

// firstTyped is the type of CASE/COALESCE: the first branch with a type.
func firstTyped(xs []xtype) xtype {
	for _, x := range xs {
		if x.t != nil && !x.unknown {
			return xtype{t: x.t, mod: -1}
		}
	}
	for _, x := range xs {
		if x.unknown {
			return typed(pgvalue.OIDText)
		}
	}
	return noType
}

// resultType is the type a result column reports: an untyped literal is
// text, as PostgreSQL resolves it at the top level.
func resultType(x xtype) (uint32, int32) {
	if x.unknown {
		return pgvalue.OIDText, -1
	}
	if x.t == nil {
		return 0, -1
	}
	return x.t.OID, x.mod
}

// resultColumns turns a query's output columns into Stmt.Columns.
func resultColumns(cols []colInfo) []ResultColumn {
	if cols == nil {
		return nil
	}
	out := make([]ResultColumn, len(cols))
	for i, c := range cols {
		oid, mod := resultType(c.typ)
		out[i] = ResultColumn{Name: c.name, OID: oid, TypeMod: mod, TableOID: c.typ.relOID, AttNum: c.typ.attNum}
	}
	return out
}

// coerceLiteral gives an untyped literal the type of what it meets, as
// PostgreSQL resolves "unknown": the SQL becomes a pg_cast from ” so that
// the value is stored and compared in the column's storage form. Text-like
// types need no conversion.
func (t *translator) coerceLiteral(sql string, x xtype, to xtype, mod int32) string {
	if !x.unknown || to.t == nil || to.unknown {
		return sql
	}
	switch to.t.OID {
	case pgvalue.OIDText, pgvalue.OIDName, pgvalue.OIDUnknown:
		return sql
	case pgvalue.OIDOid:
		if n, err := strconv.ParseUint(strings.Trim(sql, "'"), 10, 32); err == nil {
			return strconv.FormatUint(n, 10)
		}
	case pgvalue.OIDVarchar, pgvalue.OIDBPChar:
		if mod < 0 {
			return sql
		}
	}
	if to.t.Category == 'A' {
		return sql
	}
	if to.t.Category == 'D' && len(sql) > 2 && sql[0] == '\'' && sql[len(sql)-1] == '\'' {
		if s, ok := t.specialDatetime(sql[1:len(sql)-1], to.t, mod); ok {
			return s // 'now', 'today'…: the statement's time
		}
	}
	return t.castTo(sql, "", to.t.Name, mod)
}

// unify is used on the two sides of a comparison (or assignment): an
// untyped parameter takes the other side's type, an untyped literal is
// converted to it.
func (t *translator) unify(ln, rn *pg.Node, ls, rs string, lx, rx xtype) (string, string) {
	if lx.t != nil && !lx.unknown {
		t.hintParam(rn, lx.t)
		rs = t.coerceLiteral(rs, rx, lx, -1)
	}
	if rx.t != nil && !rx.unknown {
		t.hintParam(ln, rx.t)
		ls = t.coerceLiteral(ls, lx, rx, -1)
	}
	return ls, rs
}

// catalogOIDColumns are the oid-typed columns of the catalog relations
// that queries compare with quoted numbers (psql: c.oid = '16385'); knowing
// them lets such a literal be read as an OID, as PostgreSQL does.
var catalogOIDColumns = map[string][]string{
	"pg_class":           {"oid", "relnamespace", "reltype", "relowner", "relam", "reltablespace", "reltoastrelid", "reloftype"},
	"pg_attribute":       {"attrelid", "atttypid", "attcollation"},
	"pg_index":           {"indexrelid", "indrelid"},
	"pg_constraint":      {"oid", "conrelid", "conindid", "confrelid", "connamespace", "contypid"},
	"pg_namespace":       {"oid", "nspowner"},
	"pg_type":            {"oid", "typnamespace", "typrelid", "typelem", "typarray", "typcollation", "typowner"},
	"pg_attrdef":         {"oid", "adrelid"},
	"pg_policy":          {"oid", "polrelid"},
	"pg_statistic_ext":   {"oid", "stxrelid", "stxnamespace"},
	"pg_inherits":        {"inhrelid", "inhparent"},
	"pg_publication_rel": {"oid", "prrelid", "prpubid"},
	"pg_database":        {"oid", "datdba"},
	"pg_roles":           {"oid"},
	"pg_authid":          {"oid"},
	"pg_am":              {"oid"},
	"pg_collation":       {"oid", "collnamespace"},
	"pg_description":     {"objoid", "classoid"},
	"pg_proc":            {"oid", "pronamespace", "prorettype"},
	"pg_trigger":         {"oid", "tgrelid"},
	"pg_depend":          {"classid", "objid", "refclassid", "refobjid"},
	"pg_sequence":        {"seqrelid", "seqtypid"},
	"pg_rewrite":         {"oid", "ev_class"},
	"pg_tablespace":      {"oid"},
	"pg_extension":       {"oid", "extnamespace"},
	"pg_enum":            {"oid", "enumtypid"},
}

// catalogEntry is the scope entry of a catalog relation: its oid columns
// are typed, the rest left to the view.
func catalogEntry(alias, view string) *relEntry {
	r := &relEntry{name: alias, catalogOID: catalogRelationOIDs[view]}
	for _, c := range catalogOIDColumns[view] {
		r.cols = append(r.cols, colInfo{name: c, typ: typed(pgvalue.OIDOid)})
	}
	for c, oid := range catalogTypedColumns[view] {
		r.cols = append(r.cols, colInfo{name: c, typ: typed(oid)})
	}
	return r
}
