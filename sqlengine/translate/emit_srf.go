package translate

import (
	"strconv"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/pgraft/pgraft/pgvalue"
	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// Set-returning functions (unnest, json_each, …) in FROM and in a select
// list. The engine's pg_srf(name, kinds, args…) computes all the rows of a
// call as a JSON array of rows (sqlengine/functions_srf.go), and SQLite's
// json_each turns them into rows:
//
//	unnest(a, b) WITH ORDINALITY AS u(x, y, n)
//	→ json_each(pg_srf('unnest', 'it', a, b)) AS "u"
//
// with u.x read as "u"."value" ->> 0 and u.n as "u"."key" + 1. A
// table-valued function may read the FROM items before it, so LATERAL
// references (unnest(i.indkey) after pg_index i) work. Column references
// to such a relation are rewritten through colInfo.expr.

// srfSpec describes one set-returning function.
type srfSpec struct {
	record bool                    // returns named columns (json_each: key, value): an alias does not rename them
	cols   func([]xtype) []colInfo // the output columns, from the argument types
}

func textCol(name string) colInfo { return colInfo{name: name, typ: typed(pgvalue.OIDText)} }

func jsonCols(name string, names ...string) func([]xtype) []colInfo {
	valueType := typed(pgvalue.OIDJSON)
	switch {
	case strings.HasSuffix(name, "_text"):
		valueType = typed(pgvalue.OIDText)
	case strings.HasPrefix(name, "jsonb"):
		valueType = typed(pgvalue.OIDJSONB)
	}
	return func([]xtype) []colInfo {
		out := make([]colInfo, len(names))
		for i, n := range names {
			out[i] = colInfo{name: n, typ: valueType}
			if n == "key" {
				out[i] = textCol(n)
			}
		}
		return out
	}
}

// srfSpecs are the set-returning functions pgraft builds (generate_series
// has its own translation, emit_from.go).
var srfSpecs = map[string]srfSpec{
	"unnest": {cols: func(xs []xtype) []colInfo {
		out := make([]colInfo, len(xs))
		for i, x := range xs {
			out[i] = colInfo{name: "unnest", typ: elemOf(x)}
		}
		return out
	}},
	"generate_subscripts":       {cols: func([]xtype) []colInfo { return []colInfo{{name: "generate_subscripts", typ: typed(pgvalue.OIDInt4)}} }},
	"json_each":                 {record: true, cols: jsonCols("json_each", "key", "value")},
	"jsonb_each":                {record: true, cols: jsonCols("jsonb_each", "key", "value")},
	"json_each_text":            {record: true, cols: jsonCols("json_each_text", "key", "value")},
	"jsonb_each_text":           {record: true, cols: jsonCols("jsonb_each_text", "key", "value")},
	"json_array_elements":       {record: true, cols: jsonCols("json_array_elements", "value")},
	"jsonb_array_elements":      {record: true, cols: jsonCols("jsonb_array_elements", "value")},
	"json_array_elements_text":  {record: true, cols: jsonCols("json_array_elements_text", "value")},
	"jsonb_array_elements_text": {record: true, cols: jsonCols("jsonb_array_elements_text", "value")},
	"json_object_keys":          {cols: func([]xtype) []colInfo { return []colInfo{textCol("json_object_keys")} }},
	"jsonb_object_keys":         {cols: func([]xtype) []colInfo { return []colInfo{textCol("jsonb_object_keys")} }},
	"regexp_split_to_table":     {cols: func([]xtype) []colInfo { return []colInfo{textCol("regexp_split_to_table")} }},
	"string_to_table":           {cols: func([]xtype) []colInfo { return []colInfo{textCol("string_to_table")} }},
	"regexp_matches":            {cols: func([]xtype) []colInfo { return []colInfo{{name: "regexp_matches", typ: typed(pgvalue.OIDTextArray)}} }},
	// pg_partition_ancestors(rel): rel itself, as pgraft has no partitions
	// (psql's \d asks for the foreign keys of a table's ancestors).
	"pg_partition_ancestors": {cols: func([]xtype) []colInfo { return []colInfo{{name: "relid", typ: typed(pgvalue.OIDOid)}} }},
	// pg_options_to_table(options): name=value items as rows (pg_dump reads
	// foreign-data options with it).
	"pg_options_to_table": {record: true, cols: func([]xtype) []colInfo {
		return []colInfo{textCol("option_name"), textCol("option_value")}
	}},
	"generate_series": {cols: func(xs []xtype) []colInfo {
		x := typed(pgvalue.OIDInt4)
		for _, a := range xs {
			if a.t != nil && !a.unknown && numericRank[a.t.OID] > numericRank[x.t.OID] {
				x = typed(a.t.OID)
			}
		}
		return []colInfo{{name: "generate_series", typ: x}}
	}},
}

// srfArity bounds each function's argument count.
var srfArity = map[string][2]int{
	"unnest": {1, 100}, "generate_subscripts": {2, 3}, "generate_series": {2, 3}, "regexp_matches": {2, 3}, "regexp_split_to_table": {2, 3}, "string_to_table": {2, 3},
}

// isSetReturning reports whether pgraft builds name as a set-returning
// function (in FROM or a select list).
func isSetReturning(name string) bool { _, ok := srfSpecs[name]; return ok }

// elemKind is the storage kind pg_srf gives an array's elements: 't' text,
// 'b' boolean, 'f' floating point, 'i' integers where the element is one.
func elemKind(x xtype) byte {
	e := elemOf(x)
	switch {
	case e.t == nil:
		return 'i'
	case e.t.Category == 'S':
		return 't'
	case e.t.Category == 'B':
		return 'b'
	case e.t.OID == pgvalue.OIDFloat4 || e.t.OID == pgvalue.OIDFloat8 || e.t.OID == pgvalue.OIDNumeric:
		return 'f'
	case e.t.Category == 'N':
		return 'i'
	}
	return 't'
}

// srfCall emits pg_srf(…) for one call and returns its columns (default
// names).
func (t *translator) srfCall(name string, f *pg.FuncCall) (string, []colInfo) {
	if f.AggStar || f.AggDistinct || len(f.AggOrder) > 0 || f.AggFilter != nil || f.Over != nil || f.AggWithinGroup || f.FuncVariadic {
		t.unsupported("this call of %s", name)
	}
	n := len(f.Args)
	lo, hi := 1, 1
	if a, ok := srfArity[name]; ok {
		lo, hi = a[0], a[1]
	}
	parts := make([]string, n)
	xs := make([]xtype, n)
	for i, a := range f.Args {
		parts[i], xs[i] = t.expr(a)
	}
	if n < lo || n > hi {
		t.fail(undefinedFunction(name, xs))
	}
	kinds := ""
	if name == "unnest" || name == "generate_subscripts" {
		for i, x := range xs {
			if name == "unnest" || i == 0 {
				kinds += string(elemKind(x))
			}
		}
	}
	if name == "generate_subscripts" {
		t.hintParam(f.Args[1], TypeByOID(pgvalue.OIDInt4))
	}
	if name == "generate_series" {
		for i, x := range xs {
			if x.t != nil && !x.unknown && x.t.Category != 'N' {
				t.unsupported("generate_series over %s", x.t.SQLName)
			}
			t.hintParam(f.Args[i], TypeByOID(pgvalue.OIDInt4))
		}
	}
	args := "'" + name + "', '" + kinds + "'"
	if n > 0 {
		args += ", " + strings.Join(parts, ", ")
	}
	return "pg_srf(" + args + ")", srfSpecs[name].cols(xs)
}

// srfFrom emits a set-returning function in FROM (also LATERAL and WITH
// ORDINALITY) and adds it to the scope.
func (t *translator) srfFrom(r *pg.RangeFunction, name string, f *pg.FuncCall) string {
	call, cols := t.srfCall(name, f)
	rel := name
	if r.Alias != nil {
		rel = r.Alias.Aliasname
		if !srfSpecs[name].record && len(cols) == 1 {
			cols[0].name = rel
		}
	}
	if r.Ordinality {
		cols = append(cols, colInfo{name: "ordinality", typ: typed(pgvalue.OIDInt8)})
	}
	if r.Alias != nil {
		if len(r.Alias.Colnames) > len(cols) {
			t.fail(pgerror.New(pgerror.SyntaxError, "too many column aliases specified for function %s", name))
		}
		for i, c := range nameList(r.Alias.Colnames) {
			cols[i].name = c
		}
	}
	q := QuoteIdent(rel)
	for i := range cols {
		cols[i].expr = "(" + q + ".\"value\" ->> " + strconv.Itoa(i) + ")"
		cols[i].typ.relOID, cols[i].typ.attNum = 0, 0
	}
	if r.Ordinality {
		cols[len(cols)-1].expr = "(" + q + ".\"key\" + 1)"
	}
	t.scope.rels = append(t.scope.rels, &relEntry{name: rel, cols: cols, known: true, srf: true})
	return "json_each(" + call + ") AS " + q
}

// lateralSubselect emits LATERAL (subquery) AS alias [(cols)]. SQLite has
// no LATERAL, but a table-valued function's argument may read the FROM
// items before it, a scalar subquery there included: the subquery's rows
// become one JSON array (json_group_array) that json_each turns back into
// rows, read like a set-returning function's. Values travel as JSON: a
// bytea column cannot (SQLite refuses a BLOB in JSON).
func (t *translator) lateralSubselect(r *pg.RangeSubselect) string {
	if r.Alias == nil {
		t.fail(pgerror.New(pgerror.SyntaxError, "subquery in FROM must have an alias"))
	}
	body, cols := t.subquery(r.Subquery)
	t.partial = nil
	if cols == nil {
		t.unsupported("LATERAL over a subquery whose columns are not known (a * over a catalog relation)")
	}
	if len(r.Alias.Colnames) > len(cols) {
		t.fail(pgerror.New(pgerror.InvalidColumnReference, "table \"%s\" has %d columns available but %d columns specified",
			r.Alias.Aliasname, len(cols), len(r.Alias.Colnames)))
	}
	rel := r.Alias.Aliasname
	q := QuoteIdent(rel)
	vals := make([]string, len(cols))
	out := make([]colInfo, len(cols))
	for i, c := range cols {
		vals[i] = `"pg_lateral".` + alwaysQuote(c.name)
		out[i] = colInfo{name: c.name, typ: xtype{t: c.typ.t, mod: c.typ.mod}, expr: "(" + q + ".\"value\" ->> " + strconv.Itoa(i) + ")"}
		if i < len(r.Alias.Colnames) {
			out[i].name = strVal(r.Alias.Colnames[i])
		}
	}
	t.scope.rels = append(t.scope.rels, &relEntry{name: rel, cols: out, known: true, srf: true})
	return "json_each((SELECT json_group_array(json_array(" + strings.Join(vals, ", ") + ")) FROM " + body + ` AS "pg_lateral")) AS ` + q
}

// srfColumn returns what a column reference to a set-returning function's
// column stands for, or "" when the reference is not to one (SQLite
// resolves it as written).
func (t *translator) srfColumn(names []string) string {
	if len(names) >= 2 {
		rel, col := names[len(names)-2], names[len(names)-1]
		for s := t.scope; s != nil; s = s.parent {
			for _, r := range s.rels {
				if r.name == rel {
					if c, ok, _ := r.find(col); ok && r.srf {
						return c.expr
					}
					return ""
				}
			}
		}
		return ""
	}
	if len(names) != 1 {
		return ""
	}
	for s := t.scope; s != nil; s = s.parent {
		var others []*relEntry
		srf := false
		for _, r := range s.rels {
			c, ok, may := r.find(names[0])
			if ok && r.srf {
				return c.expr
			}
			if !ok && r.srf && r.name == names[0] && len(r.cols) == 1 {
				return r.cols[0].expr // a one-column function's alias is its value
			}
			srf = srf || r.srf
			if ok || may {
				others = append(others, r)
			}
		}
		if len(others) == 0 {
			continue
		}
		if srf && jsonEachColumns[names[0]] && len(others) == 1 && others[0].name != "" {
			// json_each's own columns would make the bare name ambiguous.
			return QuoteIdent(others[0].name) + "." + QuoteIdent(names[0])
		}
		return ""
	}
	return ""
}

// jsonEachColumns are the columns of SQLite's json_each, hidden ones
// included: a bare column reference of that name next to one needs its
// relation's name.
var jsonEachColumns = map[string]bool{"key": true, "value": true, "type": true, "atom": true, "id": true,
	"parent": true, "fullkey": true, "path": true, "json": true, "root": true}

// srfStar is the select-list text of * or rel.* when a set-returning
// function is among the relations it covers (its columns must be named
// one by one), and ok false otherwise.
func (t *translator) srfStar(cr *pg.ColumnRef) (string, bool) {
	rel := ""
	if len(cr.Fields) >= 2 {
		rel = strVal(cr.Fields[len(cr.Fields)-2])
	}
	var parts []string
	found := false
	for _, r := range t.scope.rels {
		if rel != "" && r.name != rel {
			continue
		}
		if !r.srf {
			if r.name == "" {
				return "", false
			}
			parts = append(parts, QuoteIdent(r.name)+".*")
			continue
		}
		found = true
		for _, c := range r.cols {
			parts = append(parts, c.expr+" AS "+alwaysQuote(c.name))
		}
	}
	if !found {
		return "", false
	}
	return strings.Join(parts, ", "), true
}

// targetSRFs finds the set-returning calls at the top of a select list
// (SELECT unnest(a), generate_subscripts(a, 1) FROM …) and emits them as
// one more FROM item: PostgreSQL runs them in lockstep, as many rows as the
// longest, which pg_srf_zip does
// (each call has one column). It returns that FROM item, or "" when the
// list has none; the calls are then read from it (t.tlistSRF).
func (t *translator) targetSRFs(s *pg.SelectStmt) string {
	var calls []*pg.FuncCall
	var names []string
	for _, n := range s.TargetList {
		v := n.GetResTarget().GetVal()
		for { // (regexp_matches(…))[1], unnest(…)::text: the call under a subscript or cast
			if ind := v.GetAIndirection(); ind != nil {
				v = ind.Arg
			} else if tc := v.GetTypeCast(); tc != nil {
				v = tc.Arg
			} else {
				break
			}
		}
		f := v.GetFuncCall()
		if f == nil {
			continue
		}
		if name := t.funcName(f.Funcname); isSetReturning(name) {
			calls = append(calls, f)
			names = append(names, name)
		}
	}
	if len(calls) == 0 {
		return ""
	}
	if len(s.GroupClause) > 0 || s.HavingClause != nil {
		t.unsupported("set-returning functions in a select list with GROUP BY")
	}
	const rel = "pg_srf_rows"
	parts := make([]string, len(calls))
	if t.tlistSRF == nil {
		t.tlistSRF = map[*pg.FuncCall]colInfo{}
	}
	for i, f := range calls {
		call, cols := t.srfCall(names[i], f)
		if len(cols) > 1 {
			t.unsupported("%s with more than one column in a select list", names[i])
		}
		parts[i] = call
		c := cols[0]
		c.expr = "(" + QuoteIdent(rel) + ".\"value\" ->> " + strconv.Itoa(i) + ")"
		t.tlistSRF[f] = c
	}
	t.scope.rels = append(t.scope.rels, &relEntry{name: rel, known: true, srf: true})
	return "json_each(pg_srf_zip(" + strings.Join(parts, ", ") + ")) AS " + QuoteIdent(rel)
}
