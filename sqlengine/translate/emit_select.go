package translate

import (
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/pgraft/pgraft/pgvalue"
	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// SELECT, VALUES, set operations, WITH and FROM items.

// selectStatement translates a top-level SELECT.
func (t *translator) selectStatement(s *pg.SelectStmt) *Stmt {
	if st := t.setConfigSelect(s); st != nil {
		return st
	}
	sql, cols := t.selectQuery(s)
	st := &Stmt{Kind: KindSelect, Tag: "SELECT", SQL: sql}
	for arm := s; ; arm = arm.Larg {
		if arm.Larg == nil {
			if !hasStar(arm.TargetList) || t.starListed && cols != nil {
				st.Columns = resultColumns(cols)
			}
			break
		}
	}
	return st
}

// hasStar reports whether a target list has * or t.*: the result columns
// are then left to SQLite's own expansion.
func hasStar(targets []*pg.Node) bool {
	for _, n := range targets {
		if cr := n.GetResTarget().GetVal().GetColumnRef(); cr != nil && cr.Fields[len(cr.Fields)-1].GetAStar() != nil {
			return true
		}
	}
	return false
}

// selectQuery emits a query expression and returns its output columns (nil
// when they are not all known).
func (t *translator) selectQuery(s *pg.SelectStmt) (string, []colInfo) {
	t.pushScope()
	defer t.popScope()
	var b strings.Builder
	if s.WithClause != nil {
		b.WriteString(t.withClause(s.WithClause))
	}
	if s.IntoClause != nil {
		t.unsupported("SELECT INTO")
	}
	if len(s.LockingClause) > 0 {
		t.forUpdate = true
	}
	var cols []colInfo
	switch {
	case s.Op != pg.SetOperation_SETOP_NONE && s.Op != pg.SetOperation_SET_OPERATION_UNDEFINED:
		body, c := t.setOperation(s)
		b.WriteString(body)
		cols = c
	case len(s.ValuesLists) > 0:
		body, c := t.valuesList(s.ValuesLists, nil)
		b.WriteString(body)
		cols = c
	default:
		body, c := t.simpleSelect(s)
		b.WriteString(body)
		cols = c
	}
	partial := t.partial
	b.WriteString(t.orderLimit(s, cols))
	t.partial = partial
	if cols != nil || s.Op != pg.SetOperation_SETOP_NONE && s.Op != pg.SetOperation_SET_OPERATION_UNDEFINED || len(s.ValuesLists) > 0 {
		t.partial = nil
	}
	return b.String(), cols
}

// setOperation emits UNION/INTERSECT/EXCEPT [ALL]; the columns are the
// left arm's.
func (t *translator) setOperation(s *pg.SelectStmt) (string, []colInfo) {
	left, lc := t.setArm(s.Larg)
	right, rc := t.setArm(s.Rarg)
	op := map[pg.SetOperation]string{pg.SetOperation_SETOP_UNION: "UNION",
		pg.SetOperation_SETOP_INTERSECT: "INTERSECT", pg.SetOperation_SETOP_EXCEPT: "EXCEPT"}[s.Op]
	if s.All {
		op += " ALL"
	}
	if s.All && s.Op != pg.SetOperation_SETOP_UNION {
		t.unsupported("%s", op)
	}
	for i := range lc {
		if i < len(rc) && (lc[i].typ.t == nil || lc[i].typ.unknown) {
			lc[i].typ = rc[i].typ
		}
		lc[i].typ.relOID, lc[i].typ.attNum = 0, 0 // a set operation's column is no table's
	}
	return left + " " + op + " " + right, lc
}

// setArm emits one side of a set operation; SQLite allows no ORDER BY,
// LIMIT or WITH inside an arm, so such an arm becomes a subquery.
func (t *translator) setArm(s *pg.SelectStmt) (string, []colInfo) {
	sql, cols := t.selectQuery(s)
	if len(s.SortClause) > 0 || s.LimitCount != nil || s.LimitOffset != nil || s.WithClause != nil {
		return "SELECT * FROM (" + sql + ")", cols
	}
	return sql, cols
}

// valuesList emits VALUES rows; colTypes (may be nil) types the parameters.
func (t *translator) valuesList(rows []*pg.Node, colTypes []xtype) (string, []colInfo) {
	var cols []colInfo
	vals := make([][]string, len(rows))
	xs := make([][]xtype, len(rows))
	for r, row := range rows {
		items := row.GetList().GetItems()
		vals[r] = make([]string, len(items))
		xs[r] = make([]xtype, len(items))
		for i, it := range items {
			var x xtype
			vals[r][i], x = t.expr(it)
			xs[r][i] = x
			if i < len(colTypes) {
				t.hintParam(it, colTypes[i].t)
				vals[r][i] = t.assignCoerce(vals[r][i], x, colTypes[i])
			}
			if r == 0 {
				cols = append(cols, colInfo{name: "column" + itoaTr(i+1), typ: x})
			} else if i < len(cols) && (cols[i].typ.t == nil || cols[i].typ.unknown) {
				cols[i].typ = x
			}
		}
	}
	t.numericValuesColumns(vals, xs, cols, len(colTypes)) // emit_numeric.go
	t.datetimeValuesColumns(vals, xs, cols, len(colTypes))
	parts := make([]string, len(rows))
	for r := range rows {
		parts[r] = "(" + strings.Join(vals[r], ", ") + ")"
	}
	return "VALUES " + strings.Join(parts, ", "), cols
}

// datetimeValuesColumns converts the untyped literals of a VALUES column
// that a date, timestamp or timestamptz in its first typed row types, as
// PostgreSQL resolves them: into the column's storage form, so that
// ('infinity'::date), ('infinity') are one value.
func (t *translator) datetimeValuesColumns(vals [][]string, xs [][]xtype, cols []colInfo, assigned int) {
	for i := assigned; i < len(cols); i++ {
		typ := cols[i].typ
		if typ.t == nil || typ.unknown || typ.t.Category != 'D' {
			continue
		}
		for r := range vals {
			if i < len(xs[r]) && xs[r][i].unknown {
				vals[r][i] = t.coerceLiteral(vals[r][i], xs[r][i], typ, -1)
			}
		}
	}
}

// simpleSelect emits SELECT … FROM … WHERE … GROUP BY … HAVING … WINDOW.
func (t *translator) simpleSelect(s *pg.SelectStmt) (string, []colInfo) {
	var b strings.Builder
	b.WriteString("SELECT ")
	if len(s.DistinctClause) > 0 {
		if len(s.DistinctClause) != 1 || s.DistinctClause[0].GetNode() != nil {
			t.unsupported("DISTINCT ON")
		}
		b.WriteString("DISTINCT ")
	}
	from := t.fromClause(s.FromClause)
	if item := t.targetSRFs(s); item != "" {
		if from == "" {
			from = " FROM " + item
		} else {
			from += ", " + item
		}
	}
	targets, cols := t.targetList(s.TargetList)
	partial := t.partial
	b.WriteString(targets)
	b.WriteString(from)
	if s.WhereClause != nil {
		w, _ := t.expr(s.WhereClause)
		b.WriteString(" WHERE " + w)
	}
	b.WriteString(t.groupBy(s))
	if len(s.WindowClause) > 0 {
		b.WriteString(" WINDOW " + t.windowClause(s.WindowClause))
	}
	t.partial = partial // WHERE's subqueries set it for themselves
	return b.String(), cols
}

// groupBy emits GROUP BY and HAVING.
func (t *translator) groupBy(s *pg.SelectStmt) string {
	out := ""
	if len(s.GroupClause) > 0 {
		if s.GroupDistinct {
			t.unsupported("GROUP BY DISTINCT")
		}
		parts := make([]string, len(s.GroupClause))
		for i, g := range s.GroupClause {
			if g.GetGroupingSet() != nil {
				t.unsupported("GROUPING SETS, ROLLUP and CUBE")
			}
			t.lits.suspend() // GROUP BY 1 is an ordinal, not a value
			parts[i], _ = t.expr(g)
			t.lits.resume()
		}
		out = " GROUP BY " + strings.Join(parts, ", ")
	}
	if s.HavingClause != nil {
		h, _ := t.expr(s.HavingClause)
		out += " HAVING " + h
	}
	return out
}

// targetList emits the select list with PostgreSQL's column names as
// aliases; cols is nil when a star makes the list unknown.
func (t *translator) targetList(targets []*pg.Node) (string, []colInfo) {
	parts := make([]string, 0, len(targets))
	cols := []colInfo{}
	var partial []colInfo // what is known of the columns when a * is not
	star := false
	for _, n := range targets {
		rt := n.GetResTarget()
		if cr := rt.Val.GetColumnRef(); cr != nil && cr.Fields[len(cr.Fields)-1].GetAStar() != nil {
			s, _ := t.columnRef(cr)
			if list, ok := t.srfStar(cr); ok {
				s = list
				t.starListed = true
			}
			parts = append(parts, s)
			expanded, ok := t.expandStar(cr)
			star = star || !ok
			cols = append(cols, expanded...)
			partial = append(partial, t.starColumns(cr)...)
			continue
		}
		s, x := t.expr(rt.Val)
		name := rt.Name
		if name == "" {
			name = columnName(rt.Val)
		}
		parts = append(parts, s+" AS "+alwaysQuote(name))
		cols = append(cols, colInfo{name: name, typ: x})
		partial = append(partial, colInfo{name: name, typ: x})
	}
	t.partial = nil
	if star {
		cols, t.partial = nil, partial
	}
	return strings.Join(parts, ", "), cols
}

// starColumns is what is known of the columns a * or t.* stands for,
// whether or not all of them are known (a catalog relation's typed
// columns): a FROM subquery over it keeps their types.
func (t *translator) starColumns(cr *pg.ColumnRef) []colInfo {
	rel := ""
	if len(cr.Fields) >= 2 {
		rel = strVal(cr.Fields[len(cr.Fields)-2])
	}
	var out []colInfo
	for _, r := range t.scope.rels {
		if rel == "" || r.name == rel {
			for _, c := range r.cols {
				c.expr = ""
				c.typ.relOID, c.typ.attNum = 0, 0
				out = append(out, c)
			}
		}
	}
	return out
}

// expandStar lists the columns a * or t.* stands for, if known.
func (t *translator) expandStar(cr *pg.ColumnRef) ([]colInfo, bool) {
	var out []colInfo
	rel := ""
	if len(cr.Fields) >= 2 {
		rel = strVal(cr.Fields[len(cr.Fields)-2])
	}
	for _, r := range t.scope.rels {
		if rel != "" && r.name != rel {
			continue
		}
		if !r.known {
			return nil, false
		}
		out = append(out, r.cols...)
	}
	return out, len(t.scope.rels) > 0
}

// orderLimit emits ORDER BY, LIMIT and OFFSET.
func (t *translator) orderLimit(s *pg.SelectStmt, cols []colInfo) string {
	t.lits.suspend() // ORDER BY 1 is an ordinal; LIMIT stays a literal
	defer t.lits.resume()
	out := ""
	if len(s.SortClause) > 0 {
		out += " ORDER BY " + t.sortList(s.SortClause)
	}
	if s.LimitOption == pg.LimitOption_LIMIT_OPTION_WITH_TIES {
		t.unsupported("FETCH … WITH TIES")
	}
	limit := ""
	if s.LimitCount != nil && !isNullConst(s.LimitCount) {
		limit, _ = t.expr(s.LimitCount)
		t.hintParam(s.LimitCount, TypeByOID(pgvalue.OIDInt8))
	}
	if s.LimitOffset != nil {
		off, _ := t.expr(s.LimitOffset)
		t.hintParam(s.LimitOffset, TypeByOID(pgvalue.OIDInt8))
		if limit == "" {
			limit = "-1"
		}
		return out + " LIMIT " + limit + " OFFSET " + off
	}
	if limit != "" {
		out += " LIMIT " + limit
	}
	return out
}

func isNullConst(n *pg.Node) bool {
	c := n.GetAConst()
	return c != nil && c.Isnull
}

// sortList emits ORDER BY items with PostgreSQL's NULL placement made
// explicit: PostgreSQL sorts NULLs last ascending and first descending,
// SQLite the other way round.
func (t *translator) sortList(items []*pg.Node) string {
	t.lits.suspend() // ORDER BY 1 is an ordinal, not a value
	defer t.lits.resume()
	parts := make([]string, len(items))
	for i, n := range items {
		sb := n.GetSortBy()
		s, x := t.expr(sb.Node)
		if _, isOp := sb.Node.GetNode().(*pg.Node_AExpr); isOp {
			s = "(" + s + ")"
		}
		s = numericSortKey(sb.Node, s, x) // emit_numeric.go
		desc := false
		switch sb.SortbyDir {
		case pg.SortByDir_SORTBY_DESC:
			s += " DESC"
			desc = true
		case pg.SortByDir_SORTBY_ASC:
			s += " ASC"
		case pg.SortByDir_SORTBY_USING:
			t.unsupported("ORDER BY … USING")
		}
		switch {
		case sb.SortbyNulls == pg.SortByNulls_SORTBY_NULLS_FIRST:
			s += " NULLS FIRST"
		case sb.SortbyNulls == pg.SortByNulls_SORTBY_NULLS_LAST:
			s += " NULLS LAST"
		case x.notNull:
		case desc:
			s += " NULLS FIRST"
		default:
			s += " NULLS LAST"
		}
		parts[i] = s
	}
	return strings.Join(parts, ", ")
}

// withClause emits WITH [RECURSIVE] and registers the CTEs in scope.
func (t *translator) withClause(w *pg.WithClause) string {
	parts := make([]string, len(w.Ctes))
	for i, n := range w.Ctes {
		c := n.GetCommonTableExpr()
		if c.SearchClause != nil || c.CycleClause != nil {
			t.unsupported("SEARCH/CYCLE in WITH")
		}
		sel := c.Ctequery.GetSelectStmt()
		if sel == nil {
			t.unsupported("data-modifying statements in WITH")
		}
		entry := &relEntry{name: c.Ctename}
		t.scope.ctes[c.Ctename] = entry // visible to itself when recursive
		body, cols := t.selectQuery(sel)
		names := nameList(c.Aliascolnames)
		entry.cols, entry.known = renameCols(cols, names)
		head := QuoteIdent(c.Ctename)
		if len(names) > 0 {
			head += "(" + identList(names) + ")"
		}
		switch c.Ctematerialized {
		case pg.CTEMaterialize_CTEMaterializeAlways:
			head += " AS MATERIALIZED ("
		case pg.CTEMaterialize_CTEMaterializeNever:
			head += " AS NOT MATERIALIZED ("
		default:
			head += " AS ("
		}
		parts[i] = head + body + ")"
	}
	kw := "WITH "
	if w.Recursive {
		kw = "WITH RECURSIVE "
	}
	return kw + strings.Join(parts, ", ") + " "
}

// renameCols applies a column alias list to known columns.
func renameCols(cols []colInfo, names []string) ([]colInfo, bool) {
	if cols == nil {
		if len(names) == 0 {
			return nil, false
		}
		out := make([]colInfo, len(names))
		for i, n := range names {
			out[i] = colInfo{name: n, typ: noType}
		}
		return out, true
	}
	out := append([]colInfo(nil), cols...)
	for i, n := range names {
		if i < len(out) {
			out[i].name = n
		}
	}
	return out, true
}

// identList quotes and joins identifiers.
func identList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = QuoteIdent(n)
	}
	return strings.Join(q, ", ")
}

// windowClause emits WINDOW name AS (…), ….
func (t *translator) windowClause(ws []*pg.Node) string {
	t.lits.suspend()
	defer t.lits.resume()
	parts := make([]string, len(ws))
	for i, n := range ws {
		w := n.GetWindowDef()
		parts[i] = QuoteIdent(w.Name) + " AS (" + t.windowSpec(w) + ")"
	}
	return strings.Join(parts, ", ")
}

// invalidWindow reports a frame PostgreSQL itself would refuse.
func invalidWindow(msg string) *pgerror.Error {
	return pgerror.New("42P20", "%s", msg)
}
