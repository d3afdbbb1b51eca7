package translate

import (
	"fmt"
	"strconv"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/pgraft/pgraft/pgvalue"
	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// Operators (A_Expr) and casts.

var comparisonOps = map[string]bool{"=": true, "<>": true, "<": true, ">": true, "<=": true, ">=": true}
var arithmeticOps = map[string]bool{"+": true, "-": true, "*": true, "/": true, "%": true}

// bitwiseOps are the integer operators SQLite shares (# is XOR, which it
// lacks).
var bitwiseOps = map[string]bool{"&": true, "|": true, "#": true, "<<": true, ">>": true}

// isInteger reports whether x is one of the integer types.
func isInteger(x xtype) bool {
	switch x.oid() {
	case pgvalue.OIDInt2, pgvalue.OIDInt4, pgvalue.OIDInt8:
		return true
	}
	return false
}

// aExpr emits an operator expression of any kind.
func (t *translator) aExpr(a *pg.A_Expr) (string, xtype) {
	op := lastName(a.Name)
	switch a.Kind {
	case pg.A_Expr_Kind_AEXPR_OP:
		if a.Lexpr == nil {
			return t.unaryOp(op, a.Rexpr)
		}
		return t.binaryOp(op, a.Lexpr, a.Rexpr)
	case pg.A_Expr_Kind_AEXPR_OP_ANY, pg.A_Expr_Kind_AEXPR_OP_ALL:
		return t.arrayQuantifier(a, op)
	case pg.A_Expr_Kind_AEXPR_DISTINCT, pg.A_Expr_Kind_AEXPR_NOT_DISTINCT:
		l, lx := t.operand(a.Lexpr)
		r, rx := t.operand(a.Rexpr)
		l, r = t.unify(a.Lexpr, a.Rexpr, l, r, lx, rx)
		if nl, nr, ok := t.numericPair(a.Lexpr, a.Rexpr, l, r, lx, rx); ok {
			l, r = collateNumeric(nl), nr
		}
		if a.Kind == pg.A_Expr_Kind_AEXPR_DISTINCT {
			return l + " IS NOT " + r, typed(pgvalue.OIDBool)
		}
		return l + " IS " + r, typed(pgvalue.OIDBool)
	case pg.A_Expr_Kind_AEXPR_NULLIF:
		l, lx := t.expr(a.Lexpr)
		r, rx := t.expr(a.Rexpr)
		l, r = t.unify(a.Lexpr, a.Rexpr, l, r, lx, rx)
		if nl, nr, ok := t.numericPair(a.Lexpr, a.Rexpr, l, r, lx, rx); ok {
			return "nullif(" + collateNumeric(nl) + ", " + nr + ")", typed(pgvalue.OIDNumeric)
		}
		return "nullif(" + l + ", " + r + ")", firstTyped([]xtype{lx, rx})
	case pg.A_Expr_Kind_AEXPR_IN:
		return t.inList(a, op)
	case pg.A_Expr_Kind_AEXPR_LIKE, pg.A_Expr_Kind_AEXPR_ILIKE:
		return t.like(op, a.Lexpr, a.Rexpr)
	case pg.A_Expr_Kind_AEXPR_BETWEEN, pg.A_Expr_Kind_AEXPR_NOT_BETWEEN,
		pg.A_Expr_Kind_AEXPR_BETWEEN_SYM, pg.A_Expr_Kind_AEXPR_NOT_BETWEEN_SYM:
		return t.between(a)
	case pg.A_Expr_Kind_AEXPR_SIMILAR:
		t.unsupported("SIMILAR TO")
	}
	t.unsupported("operator %s", op)
	return "", noType
}

// unaryOp emits prefix operators.
func (t *translator) unaryOp(op string, arg *pg.Node) (string, xtype) {
	s, x := t.operand(arg)
	switch op {
	case "-":
		if isNumeric(x) {
			return numericCall("pg_numeric_neg", s), typed(pgvalue.OIDNumeric)
		}
		if strings.HasPrefix(s, "-") {
			s = "(" + s + ")"
		}
		return "-" + s, x
	case "+":
		return s, x
	case "~":
		if isInteger(x) {
			return "~" + s, x
		}
	}
	t.unsupported("prefix operator %s", op)
	return "", noType
}

// binaryOp emits infix operators.
func (t *translator) binaryOp(op string, ln, rn *pg.Node) (string, xtype) {
	l, lx := t.operand(ln)
	r, rx := t.operand(rn)
	if s, x, ok := t.jsonOperator(op, ln, rn, l, r, lx, rx); ok { // emit_json.go
		return s, x
	}
	switch {
	case comparisonOps[op]:
		if s, ok := t.numericComparison(op, ln, rn, l, r, lx, rx); ok {
			t.unify(ln, rn, l, r, lx, rx) // parameter types
			return s, typed(pgvalue.OIDBool)
		}
		l, r = t.unify(ln, rn, l, r, lx, rx)
		return l + " " + op + " " + r, typed(pgvalue.OIDBool)
	case arithmeticOps[op] && (isDatetime(lx) || isDatetime(rx)):
		// SQLite's arithmetic would read '2024-01-01' as 2024.
		l, r = numericAsFloat(l, lx), numericAsFloat(r, rx) // the REAL pg_dt_arith reads
		return fmt.Sprintf("pg_dt_arith('%s', %s, '%s', %s, '%s')", op, l, srcName(lx), r, srcName(rx)), dtArithType(op, lx, rx)
	case arithmeticOps[op] && isNumeric(arithType(op, lx, rx)):
		l, r = t.unify(ln, rn, l, r, lx, rx)
		return numericArith(op, l, r), typed(pgvalue.OIDNumeric)
	case arithmeticOps[op]:
		t.unify(ln, rn, l, r, lx, rx)
		if op == "/" || op == "%" {
			r = "pg_divisor(" + r + ")" // 22012 for zero, where SQLite gives NULL
		}
		return l + " " + op + " " + r, arithType(op, lx, rx)
	case bitwiseOps[op] && (isInteger(lx) || isInteger(rx)):
		t.unify(ln, rn, l, r, lx, rx)
		res := arithType("+", lx, rx)
		if op == "<<" || op == ">>" {
			res = xtype{t: lx.t, mod: -1}
		}
		if op == "#" {
			return "((" + l + " | " + r + ") - (" + l + " & " + r + "))", res
		}
		return "(" + l + " " + op + " " + r + ")", res
	case op == "^":
		t.unify(ln, rn, l, r, lx, rx)
		if isNumeric(lx) || isNumeric(rx) {
			return numericCall("pg_numeric_power", l, r), typed(pgvalue.OIDNumeric)
		}
		return "pg_power(" + l + ", " + r + ")", typed(pgvalue.OIDFloat8)
	case op == "||":
		return l + " || " + r, typed(pgvalue.OIDText)
	case op == "~" || op == "~*" || op == "!~" || op == "!~*":
		return t.regex(op, ln, rn, l, r)
	case op == "~~" || op == "!~~" || op == "~~*" || op == "!~~*":
		return t.like(op, ln, rn)
	case op == "->":
		return l + " -> " + r, lx
	case op == "->>":
		return l + " ->> " + r, typed(pgvalue.OIDText)
	}
	t.unsupported("operator %s", op)
	return "", noType
}

// regex emits the POSIX regex operators through pg_regex.
func (t *translator) regex(op string, ln, rn *pg.Node, l, r string) (string, xtype) {
	t.hintParam(ln, TypeByOID(pgvalue.OIDText))
	t.hintParam(rn, TypeByOID(pgvalue.OIDText))
	flags := "''"
	if strings.HasSuffix(op, "*") {
		flags = "'i'"
	}
	s := "pg_regex(" + l + ", " + r + ", " + flags + ")"
	if strings.HasPrefix(op, "!") {
		s = "NOT " + s
	}
	return s, typed(pgvalue.OIDBool)
}

// like emits LIKE/ILIKE with PostgreSQL's default escape character.
func (t *translator) like(op string, ln, rn *pg.Node) (string, xtype) {
	l, _ := t.operand(ln)
	t.hintParam(ln, TypeByOID(pgvalue.OIDText))
	esc := `'\'`
	if f := rn.GetFuncCall(); f != nil && lastName(f.Funcname) == "like_escape" && len(f.Args) == 2 {
		rn = f.Args[0]
		esc, _ = t.expr(f.Args[1])
	}
	r, _ := t.operand(rn)
	t.hintParam(rn, TypeByOID(pgvalue.OIDText))
	if strings.Contains(op, "*") {
		l, r = "lower("+l+")", "lower("+r+")"
	}
	not := ""
	if strings.HasPrefix(op, "!") {
		not = "NOT "
	}
	return l + " " + not + "LIKE " + r + " ESCAPE " + esc, typed(pgvalue.OIDBool)
}

// inList emits x [NOT] IN (a, b, …).
func (t *translator) inList(a *pg.A_Expr, op string) (string, xtype) {
	l, lx := t.operand(a.Lexpr)
	items := a.Rexpr.GetList().GetItems()
	parts := make([]string, len(items))
	xs := make([]xtype, len(items))
	for i, it := range items {
		s, x := t.expr(it)
		xs[i] = x
		_, parts[i] = t.unify(a.Lexpr, it, "", s, lx, x)
		if lx.t == nil && x.t != nil && !x.unknown {
			t.hintParam(a.Lexpr, x.t)
		}
	}
	l = t.numericIn(a.Lexpr, items, l, parts, lx, xs) // emit_numeric.go
	not := ""
	if op == "<>" {
		not = "NOT "
	}
	return l + " " + not + "IN (" + strings.Join(parts, ", ") + ")", typed(pgvalue.OIDBool)
}

// between emits [NOT] BETWEEN [SYMMETRIC].
func (t *translator) between(a *pg.A_Expr) (string, xtype) {
	l, lx := t.operand(a.Lexpr)
	bounds := a.Rexpr.GetList().GetItems()
	if len(bounds) != 2 {
		t.unsupported("BETWEEN without two bounds")
	}
	lo, lox := t.operand(bounds[0])
	hi, hix := t.operand(bounds[1])
	_, lo = t.unify(a.Lexpr, bounds[0], l, lo, lx, lox)
	_, hi = t.unify(a.Lexpr, bounds[1], l, hi, lx, hix)
	if hs := []string{lo, hi}; true {
		l = t.numericIn(a.Lexpr, bounds, l, hs, lx, []xtype{lox, hix})
		lo, hi = hs[0], hs[1]
	}
	if lx.t == nil {
		t.hintParam(a.Lexpr, firstTyped([]xtype{lox, hix}).t)
	}
	var s string
	switch a.Kind {
	case pg.A_Expr_Kind_AEXPR_BETWEEN:
		s = l + " BETWEEN " + lo + " AND " + hi
	case pg.A_Expr_Kind_AEXPR_NOT_BETWEEN:
		s = l + " NOT BETWEEN " + lo + " AND " + hi
	case pg.A_Expr_Kind_AEXPR_BETWEEN_SYM:
		s = "(" + l + " BETWEEN " + lo + " AND " + hi + " OR " + l + " BETWEEN " + hi + " AND " + lo + ")"
	default:
		s = "NOT (" + l + " BETWEEN " + lo + " AND " + hi + " OR " + l + " BETWEEN " + hi + " AND " + lo + ")"
	}
	return s, typed(pgvalue.OIDBool)
}

// arrayQuantifier emits x = ANY(array) and x <> ALL(array).
func (t *translator) arrayQuantifier(a *pg.A_Expr, op string) (string, xtype) {
	l, lx := t.expr(a.Lexpr)
	r, rx := t.expr(a.Rexpr)
	if lx.t != nil && !lx.unknown {
		t.hintParam(a.Rexpr, arrayOf(lx).t)
	} else if e := elemOf(rx); e.t != nil {
		t.hintParam(a.Lexpr, e.t)
	}
	switch {
	case a.Kind == pg.A_Expr_Kind_AEXPR_OP_ANY && op == "=":
		return "pg_array_contains(" + r + ", " + l + ")", typed(pgvalue.OIDBool)
	case a.Kind == pg.A_Expr_Kind_AEXPR_OP_ALL && op == "<>":
		return "NOT pg_array_contains(" + r + ", " + l + ")", typed(pgvalue.OIDBool)
	}
	t.unsupported("%s with ANY/ALL (array)", op)
	return "", noType
}

// --- casts ---

// DatetimeCastFunc is the cast to date, timestamp, timestamptz and time:
// pg_cast with infinite dates and timestamps. Entries written before them
// call pg_cast, which still refuses infinity, so that they replay as they
// first applied (DESIGN.md §9, "Infinite dates and timestamps").
const DatetimeCastFunc = "pg_cast_datetime"

// castSQL is the pg_cast call that converts a value between storage forms.
func castSQL(sql, src, dst string, mod int32) string {
	if s, ok := numericCastSQL(sql, src, dst, mod); ok {
		return s
	}
	fn := "pg_cast"
	switch dst {
	case "date", "timestamp", "timestamptz", "time":
		fn = DatetimeCastFunc
	}
	call := fmt.Sprintf("%s(%s, '%s', '%s', %d)", fn, sql, src, dst, mod)
	if dst == "bytea" {
		return byteaResultSQL(call) // an empty bytea would come back from a Go function as NULL
	}
	return call
}

// specialDatetime is the expression for a time-dependent special input
// cast to a date/time type ('now'::timestamptz, 'today'::date, 'tomorrow',
// 'yesterday'): the statement's time (the entry's, in a write), as
// PostgreSQL reads them when the literal is parsed.
func specialDatetime(lit string, typ *PGType, mod int32) (string, bool) {
	word := strings.ToLower(strings.TrimSpace(lit))
	var day string
	switch word {
	case "now":
		switch typ.OID {
		case pgvalue.OIDTimestamptz:
			return "pg_now()", true
		case pgvalue.OIDTimestamp:
			return "pg_now_local()", true
		case pgvalue.OIDTime:
			return "pg_current_time()", true
		}
		day = "pg_current_date()"
	case "today":
		day = "pg_current_date()"
	case "tomorrow":
		day = "date(pg_current_date(), '+1 day')"
	case "yesterday":
		day = "date(pg_current_date(), '-1 day')"
	default:
		return "", false
	}
	switch typ.OID {
	case pgvalue.OIDDate:
		return day, true
	case pgvalue.OIDTimestamp, pgvalue.OIDTimestamptz:
		return castSQL(day, "date", typ.Name, mod), true // midnight of that day
	}
	return "", false
}

// specialDatetime is the package function, and 'now' as a timetz: the
// statement's time in the session's zone, as CURRENT_TIME.
func (t *translator) specialDatetime(lit string, typ *PGType, mod int32) (string, bool) {
	if typ.OID == pgvalue.OIDTimetz {
		if strings.ToLower(strings.TrimSpace(lit)) != "now" {
			return "", false
		}
		return t.castTo("pg_now()", "timestamptz", "timetz", mod), true
	}
	return specialDatetime(lit, typ, mod)
}

// lookupType resolves a TypeName to a type and typmod; 42704 when unknown.
func (t *translator) lookupType(tn *pg.TypeName) (*PGType, int32) {
	name := lastName(tn.Names)
	if len(tn.Names) > 1 {
		if s := strVal(tn.Names[0]); s != "pg_catalog" && s != "public" {
			t.fail(pgerror.New(pgerror.UndefinedObject, "type \"%s\" does not exist", strings.Join(nameList(tn.Names), ".")))
		}
	}
	typ := TypeByName(name)
	if typ == nil || tn.PctType || tn.Setof {
		t.fail(pgerror.New(pgerror.UndefinedObject, "type \"%s\" does not exist", name))
	}
	return typ, t.typmod(typ, tn.Typmods)
}

// typmod computes PostgreSQL's typmod from the type's modifiers.
func (t *translator) typmod(typ *PGType, mods []*pg.Node) int32 {
	if len(mods) == 0 {
		return -1
	}
	vals := make([]int64, len(mods))
	for i, m := range mods {
		v, ok := constInt(m)
		if !ok {
			t.fail(pgerror.New(pgerror.SyntaxError, "type modifiers must be simple constants or identifiers"))
		}
		vals[i] = v
	}
	switch typ.OID {
	case pgvalue.OIDVarchar, pgvalue.OIDBPChar:
		if len(vals) != 1 || vals[0] < 1 {
			t.fail(pgerror.New(pgerror.SyntaxError, "length for type %s must be at least 1", typ.Name))
		}
		return int32(vals[0]) + 4
	case pgvalue.OIDNumeric:
		scale := int64(0)
		if len(vals) > 1 {
			scale = vals[1]
		}
		return int32(vals[0]<<16|scale) + 4
	case pgvalue.OIDTimestamp, pgvalue.OIDTimestamptz, pgvalue.OIDTime, pgvalue.OIDTimetz:
		return int32(vals[0])
	}
	return -1
}

// typeCast emits x::T, CAST(x AS T) and T 'literal'.
func (t *translator) typeCast(c *pg.TypeCast) (string, xtype) {
	tn := c.TypeName
	switch lastName(tn.Names) {
	case "regclass":
		return t.regclassCast(c.Arg)
	case "regtype":
		return t.regtypeCast(c.Arg)
	case "regnamespace":
		return t.regnamespaceCast(c.Arg)
	case "regproc":
		// The catalog views keep functions by name (pg_type.typinput is
		// 'array_in'), so a regproc is its name: a literal loses its
		// pg_catalog qualifier, anything else is already a name.
		if sv := c.Arg.GetAConst().GetSval(); sv != nil {
			return t.quoteString(strings.TrimPrefix(sv.Sval, "pg_catalog.")), typed(pgvalue.OIDText)
		}
		s, _ := t.expr(c.Arg)
		return s, typed(pgvalue.OIDText)
	}
	typ, mod := t.lookupType(tn)
	if sv := c.Arg.GetAConst().GetSval(); sv != nil && len(tn.ArrayBounds) == 0 {
		if s, ok := t.specialDatetime(sv.Sval, typ, mod); ok {
			return s, xtype{t: typ, mod: mod}
		}
	}
	if len(tn.ArrayBounds) > 0 {
		s, _ := t.expr(c.Arg)
		arr := arrayOf(xtype{t: typ, mod: -1})
		if arr.t != nil {
			t.hintParam(c.Arg, arr.t) // $1::int[] is an int4[] parameter
		}
		return s, arr
	}
	s, x := t.expr(c.Arg)
	res := xtype{t: typ, mod: mod}
	if s == "NULL" {
		return s, res
	}
	if p := c.Arg.GetParamRef(); p != nil && x.t == nil {
		t.hintParam(c.Arg, typ)
		if mod < 0 {
			return s, res
		}
		x = xtype{t: typ, mod: -1}
	}
	if x.t == typ && !x.unknown && (mod < 0 || x.mod == mod) {
		return s, res
	}
	return t.castTo(s, srcName(x), typ.Name, mod), res
}

// CurrentTimeSQL starts what CURRENT_TIME becomes (castTo's pg_timetz of
// the statement's time): the catalog shows such a column default as
// CURRENT_TIME.
const CurrentTimeSQL = "pg_timetz(pg_now(), 'timestamptz', "

// castTo is castSQL, except to timetz: pg_timetz takes the statement's
// time and the session's TimeZone as arguments, which decide the offset of
// an input without one (sqlengine/functions_timetz.go), so that a write
// gives the same value on every node.
func (t *translator) castTo(sql, src, dst string, mod int32) string {
	if dst != "timetz" {
		return castSQL(sql, src, dst, mod)
	}
	zone := t.setting("timezone")
	if zone == "" {
		zone = "UTC"
	}
	return fmt.Sprintf("pg_timetz(%s, '%s', %d, pg_now(), %s)", sql, src, mod, t.quoteString(zone))
}

// srcName is the pg_cast source type name: ” for unknown or untyped.
func srcName(x xtype) string {
	if x.t == nil || x.unknown {
		return ""
	}
	return x.t.Name
}

// relNameLiteral folds a regclass/regnamespace input string like PostgreSQL.
func relNameLiteral(s string) string {
	for _, p := range []string{"public.", "pg_catalog."} {
		s = strings.TrimPrefix(s, p)
	}
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return strings.ReplaceAll(s[1:len(s)-1], `""`, `"`)
	}
	return strings.ToLower(s)
}

// systemCatalogOIDs are PostgreSQL's OIDs of the catalogs whose OIDs
// catalog rows carry (pg_depend.classid, pg_description.classoid).
var systemCatalogOIDs = map[string]int{
	"pg_class": 1259, "pg_type": 1247, "pg_attribute": 1249, "pg_proc": 1255, "pg_namespace": 2615,
	"pg_constraint": 2606, "pg_index": 2610, "pg_attrdef": 2604, "pg_trigger": 2620, "pg_rewrite": 2618,
}

// regclassCast: a name becomes the relation's OID, an OID its name.
func (t *translator) regclassCast(arg *pg.Node) (string, xtype) {
	t.catalog = true
	if lit, ok := constString(arg); ok {
		if oid, ok := systemCatalogOIDs[relNameLiteral(lit)]; ok {
			return strconv.Itoa(oid), typed(pgvalue.OIDOid) // pg_depend's classid, as psql's \d asks
		}
		return "(SELECT oid FROM pg_class WHERE relname = " + t.quoteString(relNameLiteral(lit)) + ")", typed(pgvalue.OIDOid)
	}
	s, x := t.expr(arg)
	if arg.GetParamRef() != nil && (x.t == nil || x.t.Category == 'S') {
		t.hintParam(arg, TypeByOID(pgvalue.OIDText))
		return "(SELECT oid FROM pg_class WHERE relname = " + s + ")", typed(pgvalue.OIDOid)
	}
	if x.t != nil && x.t.Category == 'S' {
		// A name computed by the query (SQLAlchemy's
		// pg_get_serial_sequence(…)::regclass), qualified or quoted.
		return "(SELECT c.oid FROM pg_class c, (SELECT " + s + " AS n) q WHERE q.n IN (c.relname, 'public.' || c.relname, " +
			"'\"' || c.relname || '\"', 'public.\"' || c.relname || '\"'))", typed(pgvalue.OIDOid)
	}
	return "(SELECT relname FROM pg_class WHERE oid = (" + s + "))", typed(pgvalue.OIDName)
}

// regtypeCast: a type name becomes its OID, an OID its format_type name.
func (t *translator) regtypeCast(arg *pg.Node) (string, xtype) {
	if lit, ok := constString(arg); ok {
		typ := TypeByName(lit)
		if typ == nil {
			t.fail(pgerror.New(pgerror.UndefinedObject, "type \"%s\" does not exist", lit))
		}
		return fmt.Sprint(typ.OID), typed(pgvalue.OIDOid)
	}
	s, _ := t.expr(arg)
	return "format_type(" + s + ", NULL)", typed(pgvalue.OIDText)
}

// regnamespaceCast: a schema name becomes its OID, an OID its name.
func (t *translator) regnamespaceCast(arg *pg.Node) (string, xtype) {
	t.catalog = true
	if lit, ok := constString(arg); ok {
		return "(SELECT oid FROM pg_namespace WHERE nspname = " + t.quoteString(relNameLiteral(lit)) + ")", typed(pgvalue.OIDOid)
	}
	s, _ := t.expr(arg)
	return "(SELECT nspname FROM pg_namespace WHERE oid = (" + s + "))", typed(pgvalue.OIDName)
}

// assignCoerce converts a value written into a column of type col, as
// PostgreSQL's assignment casts do where the storage forms differ.
func (t *translator) assignCoerce(sql string, x xtype, col xtype) string {
	if col.t == nil {
		return sql
	}
	if col.t.OID == pgvalue.OIDNumeric && sql != "NULL" {
		switch {
		case !col.legacy:
			return "pg_numeric(" + sql + ", " + itoaTr(int(col.mod)) + ")" // canonical text, typmod applied
		case x.unknown || isNumeric(x):
			// An older pgraft's column: its old rules (an INTEGER or a
			// REAL, 0A000 past 15 significant digits).
			return "pg_cast(" + sql + ", '', 'numeric', " + itoaTr(int(col.mod)) + ")"
		}
	}
	if x.unknown {
		return t.coerceLiteral(sql, x, col, col.mod)
	}
	if x.t == nil || x.t == col.t {
		return sql
	}
	if col.t.OID == pgvalue.OIDTimestamp && sql == "pg_now()" {
		return "pg_now_local()"
	}
	if col.t.Category == 'D' && x.t.Category == 'D' {
		return t.castTo(sql, x.t.Name, col.t.Name, col.mod)
	}
	return sql
}

// isDatetime reports a date, time, timestamp or interval operand.
func isDatetime(x xtype) bool {
	return x.t != nil && !x.unknown && (x.t.Category == 'D' || x.t.OID == pgvalue.OIDInterval)
}

// dtArithType is the result type of pg_dt_arith, PostgreSQL's rules.
func dtArithType(op string, a, b xtype) xtype {
	ao, bo := a.oid(), b.oid()
	switch {
	case ao == pgvalue.OIDDate && bo == pgvalue.OIDDate:
		return typed(pgvalue.OIDInt4)
	case ao == pgvalue.OIDDate && bo == pgvalue.OIDInterval, ao == pgvalue.OIDInterval && bo == pgvalue.OIDDate:
		return typed(pgvalue.OIDTimestamp)
	case ao == pgvalue.OIDDate || bo == pgvalue.OIDDate:
		return typed(pgvalue.OIDDate)
	case (ao == pgvalue.OIDTimestamp || ao == pgvalue.OIDTimestamptz) && ao == bo && op == "-":
		return typed(pgvalue.OIDInterval)
	case ao == pgvalue.OIDTimestamp || ao == pgvalue.OIDTimestamptz:
		return typed(ao)
	case bo == pgvalue.OIDTimestamp || bo == pgvalue.OIDTimestamptz:
		return typed(bo)
	case ao == pgvalue.OIDTimetz || bo == pgvalue.OIDTimetz:
		return typed(pgvalue.OIDTimetz) // ± interval
	}
	return typed(pgvalue.OIDInterval)
}

// byteaResultSQL wraps the SQL call of a pgraft function whose result is
// bytea (pg_cast(…, 'bytea', …), pg_greatest over bytea, …) so that an
// empty result is an empty BLOB, not NULL or text (see sqlResult in
// sqlengine/functions.go). SQLite's CAST(… AS BLOB) keeps a BLOB and NULL
// as they are and reinterprets text, here only ever the empty string, as
// bytes.
func byteaResultSQL(call string) string {
	return "CAST(" + call + " AS BLOB)"
}
