package translate

import (
	"slices"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/pgraft/pgraft/pgvalue"
	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// Exact numeric (docs/design.md, "Numeric"): a numeric is canonical
// decimal text (pgvalue.FormatDecimal) compared by value through the
// pg_numeric collation (NumericCollation). Columns are declared
// NUMERIC_TEXT COLLATE pg_numeric (TEXT affinity: SQLite never turns the
// text into a float); where an expression is numeric, the arithmetic,
// aggregates and casts are the engine's pg_numeric_* functions
// (sqlengine/functions_numeric.go), whose results carry the collation too.
// A column declared plain NUMERIC by an older pgraft (LegacyNumeric) keeps
// its INTEGER and REAL values and what is written to it keeps its old
// rules.

// NumericCollation is the collation of numeric columns and expressions.
const NumericCollation = "pg_numeric"

// numericDecl is the declared type of a numeric column.
const numericDecl = "NUMERIC_TEXT"

// collateNumeric gives a numeric expression the numeric collation, so that
// ORDER BY, GROUP BY, DISTINCT, min and max compare it by value.
func collateNumeric(sql string) string {
	return "(" + sql + " COLLATE " + NumericCollation + ")"
}

// numericCall emits an engine numeric function with the collation.
func numericCall(fn string, args ...string) string {
	return collateNumeric(fn + "(" + strings.Join(args, ", ") + ")")
}

// isNumeric reports a numeric operand.
func isNumeric(x xtype) bool { return x.t != nil && !x.unknown && x.t.OID == pgvalue.OIDNumeric }

// numericLiteral renders a numeric constant as its canonical text, an SQL
// string; 22003 beyond numeric's range.
func (t *translator) numericLiteral(s string) string {
	d, err := pgvalue.ParseDecimal(s)
	if err != nil {
		t.fail(pgerror.As(err))
	}
	return "'" + pgvalue.FormatDecimal(d) + "'"
}

// numericCastSQL is castSQL where one side is numeric; ok is false when
// the old pg_cast is still right (numeric to types other than numbers and
// text).
func numericCastSQL(sql, src, dst string, mod int32) (string, bool) {
	switch {
	case dst == "numeric":
		return numericCall("pg_numeric", sql, itoaTr(int(mod)), "'"+src+"'"), true
	case src != "numeric":
		return "", false
	}
	switch dst {
	case "int2", "int4", "int8", "float4", "float8", "text":
		return "pg_numeric_to(" + sql + ", '" + dst + "')", true
	case "varchar", "bpchar", "name":
		return castSQL("pg_numeric_to("+sql+", 'text')", "text", dst, mod), true
	}
	return "", false
}

// numericOperand makes a comparison operand numeric text: a column (whose
// affinity converts the other side, or which is text already), a numeric
// literal and an engine numeric function's result stay; anything else
// (integers, parameters, CASE, subqueries) goes through pg_numeric.
func numericOperand(n *pg.Node, sql string, x xtype) string {
	switch {
	case n != nil && n.GetColumnRef() != nil:
		return sql
	case isNumeric(x) && n != nil && n.GetAConst() != nil:
		return sql // its text, or in a shape a parameter bound to it (literals.go)
	case isNumeric(x) && strings.HasPrefix(sql, "(pg_numeric"):
		return sql
	}
	return "pg_numeric(" + sql + ")"
}

// numericComparison emits l op r when either side is numeric and the other
// a number of exact type (or unknown): by value, through the collation.
// ok is false when the comparison is not one of those (a float side
// compares as float8, as in PostgreSQL).
func (t *translator) numericComparison(op string, ln, rn *pg.Node, l, r string, lx, rx xtype) (string, bool) {
	if !isNumeric(lx) && !isNumeric(rx) {
		return "", false
	}
	isFloat := func(x xtype) bool {
		return x.t != nil && !x.unknown && (x.t.OID == pgvalue.OIDFloat4 || x.t.OID == pgvalue.OIDFloat8)
	}
	if isFloat(lx) || isFloat(rx) { // numeric meets float8 as float8, as in PostgreSQL
		t.unify(ln, rn, l, r, lx, rx)
		return numericAsFloat(l, lx) + " " + op + " " + numericAsFloat(r, rx), true
	}
	if !exactType(lx) || !exactType(rx) {
		return "", false
	}
	if lx.unknown {
		l = castSQL(l, "", "numeric", -1)
	}
	if rx.unknown {
		r = castSQL(r, "", "numeric", -1)
	}
	return numericOperand(ln, l, lx) + " " + op + " " + numericOperand(rn, r, rx) + " COLLATE " + NumericCollation, true
}

// numericArith emits + - * / % when the result is numeric.
func numericArith(op, l, r string) string {
	fn := map[string]string{"+": "pg_numeric_add", "-": "pg_numeric_sub", "*": "pg_numeric_mul", "/": "pg_numeric_div", "%": "pg_numeric_mod"}[op]
	return numericCall(fn, l, r)
}

// numericFuncs are the functions with a numeric form: a numeric first
// argument calls the engine's exact one.
var numericFuncs = map[string]string{
	"abs": "pg_numeric_abs", "round": "pg_numeric_round", "trunc": "pg_numeric_trunc", "ceil": "pg_numeric_ceil",
	"ceiling": "pg_numeric_ceil", "floor": "pg_numeric_floor", "sign": "pg_numeric_sign", "sqrt": "pg_numeric_sqrt",
	"mod": "pg_numeric_mod", "div": "pg_numeric_divint", "power": "pg_numeric_power", "pow": "pg_numeric_power",
	"exp": "pg_numeric_exp", "ln": "pg_numeric_ln", "log": "pg_numeric_log",
}

// numericAnyArg are the numericFuncs whose numeric form any numeric
// argument selects (the others: the first).
var numericAnyArg = map[string]bool{"div": true, "mod": true, "power": true, "pow": true, "log": true}

// numericFloatFuncs compute in float8 still: a numeric argument is passed
// as the REAL these functions read (to_char).
var numericFloatFuncs = map[string]bool{"to_char": true}

// numericAsFloat passes a numeric operand as a REAL to what reads floats.
func numericAsFloat(sql string, x xtype) string {
	if !isNumeric(x) {
		return sql
	}
	return "pg_numeric_to(" + sql + ", 'float8')"
}

// exactType reports a type that meets numeric without becoming float.
func exactType(x xtype) bool { return x.t == nil || x.unknown || isNumeric(x) || isInteger(x) }

// numericPair makes both sides of a comparison numeric text, as
// numericComparison does; ok is false when neither is numeric or one is not
// exact.
func (t *translator) numericPair(ln, rn *pg.Node, l, r string, lx, rx xtype) (string, string, bool) {
	if !isNumeric(lx) && !isNumeric(rx) || !exactType(lx) || !exactType(rx) {
		return l, r, false
	}
	if lx.unknown {
		l = castSQL(l, "", "numeric", -1)
	}
	if rx.unknown {
		r = castSQL(r, "", "numeric", -1)
	}
	return numericOperand(ln, l, lx), numericOperand(rn, r, rx), true
}

// numericIn makes x IN (…) and x BETWEEN a AND b compare by value when
// numeric meets exact types: the items become numeric text (in place) and
// the returned left side carries the collation, which SQLite uses for the
// whole list.
func (t *translator) numericIn(ln *pg.Node, items []*pg.Node, l string, parts []string, lx xtype, xs []xtype) string {
	numeric := isNumeric(lx)
	for _, x := range xs {
		numeric = numeric || isNumeric(x)
	}
	if !numeric || !exactType(lx) {
		return l
	}
	for _, x := range xs {
		if !exactType(x) {
			return l
		}
	}
	for i := range parts {
		if xs[i].unknown {
			parts[i] = castSQL(parts[i], "", "numeric", -1)
		}
		parts[i] = numericOperand(items[i], parts[i], xs[i])
	}
	if lx.unknown {
		l = castSQL(l, "", "numeric", -1)
	}
	return collateNumeric(numericOperand(ln, l, lx))
}

// numericList emits COALESCE, GREATEST and LEAST when their arguments meet
// at numeric (numeric and integers): each argument numeric text, the result
// with the collation.
func (t *translator) numericList(fn string, args []*pg.Node, parts []string, xs []xtype) (string, bool) {
	if !slices.ContainsFunc(xs, isNumeric) || !slices.ContainsFunc(xs, exactType) {
		return "", false
	}
	for _, x := range xs {
		if !exactType(x) {
			return "", false // numeric meets float: SQLite's conversions, as before
		}
	}
	out := make([]string, len(parts))
	for i, s := range parts {
		if xs[i].unknown {
			s = castSQL(s, "", "numeric", -1)
		}
		if s != "NULL" {
			s = numericOperand(args[i], s, xs[i])
		}
		out[i] = s
	}
	return numericCall(fn, out...), true
}

// numericAggs are the aggregates with an exact numeric form, by argument
// type: sum over numeric, avg over numeric and integers.
func numericAgg(name string, xs []xtype) string {
	if len(xs) != 1 {
		return ""
	}
	switch {
	case name == "sum" && isNumeric(xs[0]):
		return "pg_numeric_sum"
	case name == "avg" && (isNumeric(xs[0]) || isInteger(xs[0])):
		return "pg_numeric_avg"
	}
	return ""
}

// insertSourceCTE names the rows of an INSERT … SELECT whose values
// coerceInsertSelect converts.
const insertSourceCTE = "pgraft_insert_rows"

// coerceInsertSelect converts the rows of INSERT … SELECT for the numeric
// columns they go to (assignCoerce, as VALUES are): the query becomes a
// CTE with positional column names, read by a SELECT that converts. ok is
// false when no column needs it.
func (t *translator) coerceInsertSelect(body string, cols []colInfo, types []xtype) (string, bool) {
	need := false
	for i := range min(len(cols), len(types)) {
		if types[i].t != nil && types[i].t.OID == pgvalue.OIDNumeric {
			need = true
		}
	}
	if !need {
		return "", false
	}
	names := make([]string, len(cols))
	exprs := make([]string, len(cols))
	for i, c := range cols {
		names[i] = "c" + itoaTr(i+1)
		exprs[i] = names[i]
		if i < len(types) {
			exprs[i] = t.assignCoerce(names[i], c.typ, types[i])
		}
	}
	return "WITH " + insertSourceCTE + "(" + strings.Join(names, ", ") + ") AS (" + body + ") SELECT " +
		strings.Join(exprs, ", ") + " FROM " + insertSourceCTE, true
}

// numericValuesColumns makes a VALUES column numeric in every row when its
// rows are numeric and integers (PostgreSQL resolves the column to
// numeric): each value is numeric text with the collation, so that the
// column orders, groups and compares by value. Columns from the first
// assigned onward (INSERT's, which assignCoerce converted) are left.
func (t *translator) numericValuesColumns(vals [][]string, xs [][]xtype, cols []colInfo, assigned int) {
	for i := range cols {
		if i < assigned {
			continue
		}
		numeric, exact := false, true
		for r := range xs {
			if i >= len(xs[r]) {
				exact = false
				break
			}
			x := xs[r][i]
			numeric = numeric || isNumeric(x)
			exact = exact && (x.t == nil || x.unknown || isNumeric(x) || isInteger(x))
		}
		if !numeric || !exact {
			continue
		}
		for r := range vals {
			if v := vals[r][i]; v != "NULL" && !strings.HasPrefix(v, "(pg_numeric") {
				vals[r][i] = numericCall("pg_numeric", v)
			}
		}
		cols[i].typ = typed(pgvalue.OIDNumeric)
	}
}

// numericSortKey makes a numeric ORDER BY key that is neither a column (an
// output name included), a constant (an ordinal) nor already one of the
// engine's results (CASE, COALESCE, a subquery: integers and numeric text
// could meet there) numeric text with the collation, so that it sorts by
// value.
func numericSortKey(n *pg.Node, s string, x xtype) string {
	if !isNumeric(x) || n.GetColumnRef() != nil || n.GetAConst() != nil ||
		strings.HasPrefix(s, "(pg_numeric") || strings.HasPrefix(s, "((pg_numeric") {
		return s
	}
	return numericCall("pg_numeric", s)
}
