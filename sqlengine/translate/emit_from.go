package translate

import (
	"strconv"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/pgraft/pgraft/pgvalue"
	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// FROM items, window specifications and PostgreSQL's result column names.

func itoaTr(i int) string { return strconv.Itoa(i) }

// fromClause emits " FROM a, b JOIN c …" and adds the items to the scope.
func (t *translator) fromClause(items []*pg.Node) string {
	if len(items) == 0 {
		return ""
	}
	parts := make([]string, len(items))
	for i, n := range items {
		parts[i] = t.fromItem(n)
	}
	return " FROM " + strings.Join(parts, ", ")
}

// fromItem emits one FROM item.
func (t *translator) fromItem(n *pg.Node) string {
	switch v := n.GetNode().(type) {
	case *pg.Node_RangeVar:
		return t.rangeVar(v.RangeVar)
	case *pg.Node_RangeSubselect:
		return t.rangeSubselect(v.RangeSubselect)
	case *pg.Node_JoinExpr:
		return t.joinExpr(v.JoinExpr)
	case *pg.Node_RangeFunction:
		return t.rangeFunction(v.RangeFunction)
	}
	t.unsupported("this FROM item")
	return ""
}

// rangeVar emits a table, view, CTE or catalog relation reference.
func (t *translator) rangeVar(rv *pg.RangeVar) string {
	if out, ok := t.sequenceRef(rv); ok { // sequence.go
		return out
	}
	name := t.readRelation(rv)
	ref := name
	alias := rv.Relname
	var entry *relEntry
	if cte := t.cte(rv.Relname); cte != nil && rv.Schemaname == "" {
		entry = &relEntry{name: alias, cols: cte.cols, known: cte.known}
	} else if name != rv.Relname || t.catalogRef(rv) {
		entry = catalogEntry(alias, name)
	} else {
		entry = tableEntry(alias, t.table(name))
	}
	out := QuoteIdent(ref)
	stats, isStats := t.nodeStatsRef(rv, name) // catalog_stats.go
	if isStats {
		out, entry = stats, nodeStatsEntry(alias, name)
	}
	if rv.Alias != nil {
		alias = rv.Alias.Aliasname
		entry.name = alias
		if len(rv.Alias.Colnames) > 0 {
			return t.renamedFromItem("SELECT * FROM "+out, alias, entry, nameList(rv.Alias.Colnames))
		}
		out += " AS " + QuoteIdent(alias)
	} else if ref != rv.Relname || isStats {
		out += " AS " + QuoteIdent(rv.Relname)
	}
	t.scope.rels = append(t.scope.rels, entry)
	return out
}

// catalogRef reports whether a reference names a catalog relation.
func (t *translator) catalogRef(rv *pg.RangeVar) bool {
	_, ok := catalogViewName(rv.Schemaname, rv.Relname)
	return ok && t.cte(rv.Relname) == nil
}

// readRelation resolves a relation read by a query to its SQLite name.
func (t *translator) readRelation(rv *pg.RangeVar) string {
	if rv.Catalogname != "" {
		t.unsupported("cross-database references")
	}
	if rv.Schemaname == "" && t.cte(rv.Relname) != nil {
		return rv.Relname
	}
	if view, ok := catalogViewName(rv.Schemaname, rv.Relname); ok {
		t.catalog = true
		return view
	}
	switch rv.Schemaname {
	case "", "public":
		return rv.Relname
	case "pg_catalog", "information_schema", "pg_toast":
		t.fail(pgerror.New(pgerror.UndefinedTable, "relation \"%s.%s\" does not exist", rv.Schemaname, rv.Relname))
	}
	t.fail(pgerror.New(invalidSchemaName, "schema \"%s\" does not exist", rv.Schemaname))
	return ""
}

// renamedFromItem gives a FROM item new column names through a CTE, since
// SQLite has no column alias lists in FROM.
func (t *translator) renamedFromItem(query, alias string, entry *relEntry, names []string) string {
	if entry.known && len(names) < len(entry.cols) {
		for _, c := range entry.cols[len(names):] {
			names = append(names, c.name)
		}
	}
	entry.cols, entry.known = renameCols(entry.cols, names)
	if len(entry.cols) > len(names) {
		entry.cols = entry.cols[:len(names)]
	}
	t.scope.rels = append(t.scope.rels, entry)
	q := QuoteIdent(alias)
	return "(WITH " + q + "(" + identList(names) + ") AS (" + query + ") SELECT * FROM " + q + ") AS " + q
}

// rangeSubselect emits (subquery) [AS] alias [(cols)].
func (t *translator) rangeSubselect(r *pg.RangeSubselect) string {
	if r.Lateral {
		return t.lateralSubselect(r) // emit_srf.go
	}
	body, cols := t.subquery(r.Subquery)
	entry := &relEntry{cols: cols, known: cols != nil}
	if cols == nil && (r.Alias == nil || len(r.Alias.Colnames) == 0) {
		entry.cols = t.partial // typed columns of a * over a catalog relation
	}
	t.partial = nil
	if r.Alias == nil {
		t.scope.rels = append(t.scope.rels, entry)
		return body
	}
	entry.name = r.Alias.Aliasname
	if len(r.Alias.Colnames) > 0 {
		return t.renamedFromItem(body[1:len(body)-1], entry.name, entry, nameList(r.Alias.Colnames))
	}
	t.scope.rels = append(t.scope.rels, entry)
	return body + " AS " + QuoteIdent(entry.name)
}

// joinExpr emits the JOIN kinds SQLite shares with PostgreSQL.
func (t *translator) joinExpr(j *pg.JoinExpr) string {
	if j.Alias != nil || j.JoinUsingAlias != nil {
		t.unsupported("aliases on JOIN clauses")
	}
	left := t.fromItem(j.Larg)
	right := t.joinSide(j.Rarg)
	kind := map[pg.JoinType]string{pg.JoinType_JOIN_INNER: "JOIN", pg.JoinType_JOIN_LEFT: "LEFT JOIN",
		pg.JoinType_JOIN_RIGHT: "RIGHT JOIN", pg.JoinType_JOIN_FULL: "FULL JOIN"}[j.Jointype]
	if kind == "" {
		t.unsupported("this join type")
	}
	switch {
	case j.IsNatural:
		return left + " NATURAL " + kind + " " + right
	case len(j.UsingClause) > 0:
		return left + " " + kind + " " + right + " USING (" + identList(nameList(j.UsingClause)) + ")"
	case j.Quals != nil:
		on, _ := t.expr(j.Quals)
		return left + " " + kind + " " + right + " ON " + on
	}
	return left + " CROSS JOIN " + right
}

// joinSide emits a join's right operand; a nested join there is
// parenthesized (joins associate to the left).
func (t *translator) joinSide(n *pg.Node) string {
	s := t.fromItem(n)
	if n.GetJoinExpr() != nil {
		return "(" + s + ")"
	}
	return s
}

// rangeFunction emits a function in FROM: generate_series, or a
// set-returning function of emit_srf.go.
func (t *translator) rangeFunction(r *pg.RangeFunction) string {
	if r.IsRowsfrom || len(r.Functions) != 1 || len(r.Coldeflist) > 0 {
		t.unsupported("ROWS FROM and column definition lists in FROM")
	}
	f := r.Functions[0].GetList().GetItems()[0].GetFuncCall()
	if f == nil {
		t.unsupported("this function in FROM")
	}
	name := t.funcName(f.Funcname)
	if name == "generate_series" && (r.Ordinality || r.Lateral || t.readsSiblings(f.Args)) {
		return t.srfFrom(r, name, f) // the recursive CTE below cannot read other FROM items
	}
	if isSetReturning(name) && name != "generate_series" {
		return t.srfFrom(r, name, f)
	}
	if name != "generate_series" {
		t.unsupported("function %s in FROM", name)
	}
	if len(f.Args) < 2 || len(f.Args) > 3 {
		t.fail(undefinedFunction("generate_series", nil))
	}
	rel, col := "generate_series", "generate_series"
	if r.Alias != nil {
		rel, col = r.Alias.Aliasname, r.Alias.Aliasname
		if len(r.Alias.Colnames) > 0 {
			col = strVal(r.Alias.Colnames[0])
		}
	}
	sql, x := t.generateSeries(f.Args, col)
	t.scope.rels = append(t.scope.rels, &relEntry{name: rel, known: true, cols: []colInfo{{name: col, typ: x}}})
	return sql + " AS " + QuoteIdent(rel)
}

// readsSiblings reports whether expressions read a column of the FROM
// items before them at this query level (in the forms a generate_series
// bound takes: operators, casts, calls), which only a table-valued
// function can; an outer query's columns a subquery may read.
func (t *translator) readsSiblings(ns []*pg.Node) bool {
	for _, n := range ns {
		switch v := n.GetNode().(type) {
		case *pg.Node_ColumnRef:
			names := nameList(v.ColumnRef.Fields)
			for _, r := range t.scope.rels {
				if len(names) >= 2 && r.name == names[len(names)-2] {
					return true
				}
				if _, ok, may := r.find(names[len(names)-1]); len(names) == 1 && (ok || may) {
					return true
				}
			}
		case *pg.Node_AExpr:
			if t.readsSiblings([]*pg.Node{v.AExpr.Lexpr, v.AExpr.Rexpr}) {
				return true
			}
		case *pg.Node_TypeCast:
			if t.readsSiblings([]*pg.Node{v.TypeCast.Arg}) {
				return true
			}
		case *pg.Node_FuncCall:
			if t.readsSiblings(v.FuncCall.Args) {
				return true
			}
		}
	}
	return false
}

// generateSeries emits integer generate_series(a, b[, step]) as a
// recursive CTE.
func (t *translator) generateSeries(args []*pg.Node, col string) (string, xtype) {
	a, ax := t.operand(args[0])
	b, _ := t.operand(args[1])
	for _, n := range args {
		t.hintParam(n, TypeByOID(pgvalue.OIDInt4))
	}
	if ax.t != nil && ax.t.Category != 'N' {
		t.unsupported("generate_series over %s", ax.t.SQLName)
	}
	c := QuoteIdent(col)
	startOK, nextOK, next := a+" <= "+b, c+" + 1 <= "+b, c+" + 1"
	if len(args) == 3 {
		s, _ := t.operand(args[2])
		next = c + " + " + s
		startOK = "(" + s + " > 0 AND " + a + " <= " + b + ") OR (" + s + " < 0 AND " + a + " >= " + b + ")"
		nextOK = "(" + s + " > 0 AND " + next + " <= " + b + ") OR (" + s + " < 0 AND " + next + " >= " + b + ")"
	}
	typ := ax
	if typ.t == nil || typ.unknown {
		typ = typed(pgvalue.OIDInt4)
	}
	return "(WITH RECURSIVE pg_series(" + c + ") AS (SELECT " + a + " WHERE " + startOK +
		" UNION ALL SELECT " + next + " FROM pg_series WHERE " + nextOK + ") SELECT " + c + " FROM pg_series)", xtype{t: typ.t, mod: -1}
}

// Frame option bits of WindowDef.FrameOptions (parsenodes.h).
const (
	frameNonDefault        = 0x00001
	frameRange             = 0x00002
	frameRows              = 0x00004
	frameGroups            = 0x00008
	frameBetween           = 0x00010
	frameStartUnbPreced    = 0x00020
	frameEndUnbFollowing   = 0x00100
	frameStartCurrentRow   = 0x00200
	frameEndCurrentRow     = 0x00400
	frameStartOffPreced    = 0x00800
	frameEndOffPreced      = 0x01000
	frameStartOffFollow    = 0x02000
	frameEndOffFollow      = 0x04000
	frameExcludeCurrent    = 0x08000
	frameExcludeGroup      = 0x10000
	frameExcludeTies       = 0x20000
	frameStartUnbFollowing = 0x00080
	frameEndUnbPreceding   = 0x00040
)

// windowSpec emits the inside of OVER (…) / WINDOW w AS (…).
func (t *translator) windowSpec(w *pg.WindowDef) string {
	t.lits.suspend() // frame offsets and ordinals stay literals
	defer t.lits.resume()
	var parts []string
	if w.Refname != "" {
		parts = append(parts, QuoteIdent(w.Refname))
	}
	if len(w.PartitionClause) > 0 {
		s, _ := t.exprList(w.PartitionClause)
		parts = append(parts, "PARTITION BY "+s)
	}
	if len(w.OrderClause) > 0 {
		parts = append(parts, "ORDER BY "+t.sortList(w.OrderClause))
	}
	if w.FrameOptions&frameNonDefault != 0 {
		parts = append(parts, t.frame(w))
	}
	return strings.Join(parts, " ")
}

// frame emits a window frame clause; SQLite has every PostgreSQL form.
func (t *translator) frame(w *pg.WindowDef) string {
	o := w.FrameOptions
	mode := "RANGE"
	switch {
	case o&frameRows != 0:
		mode = "ROWS"
	case o&frameGroups != 0:
		mode = "GROUPS"
	}
	start := t.frameBound(o, true, w.StartOffset)
	s := mode + " " + start
	if o&frameBetween != 0 {
		s = mode + " BETWEEN " + start + " AND " + t.frameBound(o, false, w.EndOffset)
	}
	switch {
	case o&frameExcludeCurrent != 0:
		s += " EXCLUDE CURRENT ROW"
	case o&frameExcludeGroup != 0:
		s += " EXCLUDE GROUP"
	case o&frameExcludeTies != 0:
		s += " EXCLUDE TIES"
	}
	return s
}

// frameBound emits one frame bound.
func (t *translator) frameBound(o int32, start bool, off *pg.Node) string {
	unbP, unbF, cur, offP, offF := frameStartUnbPreced, frameStartUnbFollowing, frameStartCurrentRow, frameStartOffPreced, frameStartOffFollow
	if !start {
		unbP, unbF, cur, offP, offF = frameEndUnbPreceding, frameEndUnbFollowing, frameEndCurrentRow, frameEndOffPreced, frameEndOffFollow
	}
	switch {
	case o&int32(unbP) != 0:
		return "UNBOUNDED PRECEDING"
	case o&int32(unbF) != 0:
		return "UNBOUNDED FOLLOWING"
	case o&int32(cur) != 0:
		return "CURRENT ROW"
	case o&int32(offP) != 0:
		s, _ := t.operand(off)
		return s + " PRECEDING"
	case o&int32(offF) != 0:
		s, _ := t.operand(off)
		return s + " FOLLOWING"
	}
	t.fail(invalidWindow("invalid window frame"))
	return ""
}

// sqlValueNames are PostgreSQL's column names for SQLValueFunctions.
var sqlValueNames = map[pg.SQLValueFunctionOp]string{
	pg.SQLValueFunctionOp_SVFOP_CURRENT_DATE: "current_date", pg.SQLValueFunctionOp_SVFOP_CURRENT_TIME: "current_time",
	pg.SQLValueFunctionOp_SVFOP_CURRENT_TIME_N: "current_time", pg.SQLValueFunctionOp_SVFOP_CURRENT_TIMESTAMP: "current_timestamp",
	pg.SQLValueFunctionOp_SVFOP_CURRENT_TIMESTAMP_N: "current_timestamp", pg.SQLValueFunctionOp_SVFOP_LOCALTIME: "localtime",
	pg.SQLValueFunctionOp_SVFOP_LOCALTIME_N: "localtime", pg.SQLValueFunctionOp_SVFOP_LOCALTIMESTAMP: "localtimestamp",
	pg.SQLValueFunctionOp_SVFOP_LOCALTIMESTAMP_N: "localtimestamp", pg.SQLValueFunctionOp_SVFOP_CURRENT_ROLE: "current_role",
	pg.SQLValueFunctionOp_SVFOP_CURRENT_USER: "current_user", pg.SQLValueFunctionOp_SVFOP_USER: "user",
	pg.SQLValueFunctionOp_SVFOP_SESSION_USER: "session_user", pg.SQLValueFunctionOp_SVFOP_CURRENT_CATALOG: "current_catalog",
	pg.SQLValueFunctionOp_SVFOP_CURRENT_SCHEMA: "current_schema",
}

// columnName is PostgreSQL's name for an unaliased result column
// (FigureColname).
func columnName(n *pg.Node) string {
	if s, _ := figureColname(n); s != "" {
		return s
	}
	return "?column?"
}

// figureColname returns a name and its strength (2 beats a cast's type name).
func figureColname(n *pg.Node) (string, int) {
	switch v := n.GetNode().(type) {
	case *pg.Node_ColumnRef:
		if s := strVal(v.ColumnRef.Fields[len(v.ColumnRef.Fields)-1]); s != "" {
			return s, 2
		}
	case *pg.Node_AIndirection:
		if s := strVal(v.AIndirection.Indirection[len(v.AIndirection.Indirection)-1]); s != "" {
			return s, 2
		}
		return figureColname(v.AIndirection.Arg)
	case *pg.Node_FuncCall:
		return lastName(v.FuncCall.Funcname), 2
	case *pg.Node_AExpr:
		if v.AExpr.Kind == pg.A_Expr_Kind_AEXPR_NULLIF {
			return "nullif", 2
		}
	case *pg.Node_TypeCast:
		s, strength := figureColname(v.TypeCast.Arg)
		if strength <= 1 {
			return lastName(v.TypeCast.TypeName.Names), 1
		}
		return s, strength
	case *pg.Node_CollateClause:
		return figureColname(v.CollateClause.Arg)
	case *pg.Node_SubLink:
		return sublinkColname(v.SubLink)
	case *pg.Node_CaseExpr:
		return "case", 1
	case *pg.Node_AArrayExpr:
		return "array", 1
	case *pg.Node_RowExpr:
		return "row", 1
	case *pg.Node_CoalesceExpr:
		return "coalesce", 2
	case *pg.Node_MinMaxExpr:
		if v.MinMaxExpr.Op == pg.MinMaxOp_IS_GREATEST {
			return "greatest", 2
		}
		return "least", 2
	case *pg.Node_SqlvalueFunction:
		return sqlValueNames[v.SqlvalueFunction.Op], 2
	}
	return "", 0
}

// sublinkColname names EXISTS, ARRAY and scalar subqueries.
func sublinkColname(l *pg.SubLink) (string, int) {
	switch l.SubLinkType {
	case pg.SubLinkType_EXISTS_SUBLINK:
		return "exists", 2
	case pg.SubLinkType_ARRAY_SUBLINK:
		return "array", 2
	case pg.SubLinkType_EXPR_SUBLINK:
		sel := l.Subselect.GetSelectStmt()
		for sel != nil && sel.Larg != nil {
			sel = sel.Larg
		}
		if sel == nil || len(sel.TargetList) == 0 {
			return "", 0
		}
		rt := sel.TargetList[0].GetResTarget()
		if rt.Name != "" {
			return rt.Name, 2
		}
		return columnName(rt.Val), 2
	}
	return "", 0
}
