package translate

import (
	"fmt"
	"strconv"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/pgraft/pgraft/pgvalue"
	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// Expression emission. Each emitter returns SQLite SQL and the inferred
// type. Operands that are themselves operator expressions are
// parenthesized, so PostgreSQL's and SQLite's precedence rules never meet.

// expr emits one expression.
func (t *translator) expr(n *pg.Node) (string, xtype) {
	if n == nil {
		t.unsupported("empty expression")
	}
	switch v := n.GetNode().(type) {
	case *pg.Node_AConst:
		return t.constant(v.AConst)
	case *pg.Node_ColumnRef:
		return t.columnRef(v.ColumnRef)
	case *pg.Node_ParamRef:
		return t.paramRef(v.ParamRef)
	case *pg.Node_AExpr:
		return t.aExpr(v.AExpr)
	case *pg.Node_BoolExpr:
		return t.boolExpr(v.BoolExpr)
	case *pg.Node_NullTest:
		return t.nullTest(v.NullTest)
	case *pg.Node_BooleanTest:
		return t.booleanTest(v.BooleanTest)
	case *pg.Node_CaseExpr:
		return t.caseExpr(v.CaseExpr)
	case *pg.Node_CoalesceExpr:
		parts, xs := t.exprParts(v.CoalesceExpr.Args)
		if s, ok := t.numericList("coalesce", v.CoalesceExpr.Args, parts, xs); ok { // emit_numeric.go
			return s, typed(pgvalue.OIDNumeric)
		}
		return "coalesce(" + strings.Join(parts, ", ") + ")", firstTyped(xs)
	case *pg.Node_MinMaxExpr:
		parts, xs := t.exprParts(v.MinMaxExpr.Args)
		fn := "pg_numeric_least"
		if v.MinMaxExpr.Op == pg.MinMaxOp_IS_GREATEST {
			fn = "pg_numeric_greatest"
		}
		if s, ok := t.numericList(fn, v.MinMaxExpr.Args, parts, xs); ok {
			return s, typed(pgvalue.OIDNumeric)
		}
		s := strings.Join(parts, ", ")
		if v.MinMaxExpr.Op == pg.MinMaxOp_IS_GREATEST {
			return "pg_greatest(" + s + ")", firstTyped(xs)
		}
		return "pg_least(" + s + ")", firstTyped(xs)
	case *pg.Node_TypeCast:
		return t.typeCast(v.TypeCast)
	case *pg.Node_CollateClause:
		return t.collate(v.CollateClause)
	case *pg.Node_SubLink:
		return t.subLink(v.SubLink)
	case *pg.Node_AArrayExpr:
		s, xs := t.exprList(v.AArrayExpr.Elements)
		return "pg_array(" + s + ")", arrayOf(firstTyped(xs))
	case *pg.Node_AIndirection:
		return t.indirection(v.AIndirection)
	case *pg.Node_SqlvalueFunction:
		return t.sqlValueFunction(v.SqlvalueFunction)
	case *pg.Node_FuncCall:
		return t.funcCall(v.FuncCall)
	case *pg.Node_RowExpr:
		s, _ := t.exprList(v.RowExpr.Args)
		return "(" + s + ")", noType
	case *pg.Node_CurrentOfExpr:
		t.unsupported("WHERE CURRENT OF")
	case *pg.Node_SetToDefault:
		t.unsupported("DEFAULT in this position")
	case *pg.Node_GroupingFunc:
		t.unsupported("GROUPING()")
	}
	t.unsupported("expression %s", strings.TrimPrefix(fmt.Sprintf("%T", n.GetNode()), "*pg_query.Node_"))
	return "", noType
}

// operand emits an expression that is the operand of an operator.
func (t *translator) operand(n *pg.Node) (string, xtype) {
	s, x := t.expr(n)
	switch n.GetNode().(type) {
	case *pg.Node_AExpr, *pg.Node_BoolExpr, *pg.Node_NullTest, *pg.Node_BooleanTest, *pg.Node_CollateClause:
		return "(" + s + ")", x
	case *pg.Node_AConst:
		if strings.HasPrefix(s, "-") {
			return "(" + s + ")", x
		}
	case *pg.Node_TypeCast:
		if !strings.HasSuffix(s, ")") {
			return "(" + s + ")", x
		}
	}
	return s, x
}

// exprList emits a comma-separated list.
func (t *translator) exprList(ns []*pg.Node) (string, []xtype) {
	parts := make([]string, len(ns))
	xs := make([]xtype, len(ns))
	for i, n := range ns {
		parts[i], xs[i] = t.expr(n)
	}
	return strings.Join(parts, ", "), xs
}

// exprParts emits each expression of a list.
func (t *translator) exprParts(ns []*pg.Node) ([]string, []xtype) {
	parts, xs := make([]string, len(ns)), make([]xtype, len(ns))
	for i, n := range ns {
		parts[i], xs[i] = t.expr(n)
	}
	return parts, xs
}

// constant emits a literal, or in a shape's translation (shape.go) a
// parameter standing for it.
func (t *translator) constant(c *pg.A_Const) (string, xtype) {
	s, x := t.literal(c)
	if t.lits != nil && !c.Isnull {
		return t.lits.slot(c, s), x
	}
	return s, x
}

// literal emits a constant as SQLite literal text.
func (t *translator) literal(c *pg.A_Const) (string, xtype) {
	if c.Isnull {
		return "NULL", noType
	}
	switch v := c.Val.(type) {
	case *pg.A_Const_Ival:
		return strconv.Itoa(int(v.Ival.Ival)), typed(pgvalue.OIDInt4)
	case *pg.A_Const_Fval:
		s := v.Fval.Fval
		if _, err := strconv.ParseInt(s, 10, 64); err == nil {
			return s, typed(pgvalue.OIDInt8)
		}
		if strings.ContainsAny(s, "xXoObB_") {
			t.unsupported("non-decimal numeric literal %s", s)
		}
		return t.numericLiteral(s), typed(pgvalue.OIDNumeric) // exact text (emit_numeric.go)
	case *pg.A_Const_Boolval:
		if v.Boolval.Boolval {
			return "1", typed(pgvalue.OIDBool)
		}
		return "0", typed(pgvalue.OIDBool)
	case *pg.A_Const_Sval:
		return t.quoteString(v.Sval.Sval), xtype{t: TypeByOID(pgvalue.OIDText), mod: -1, unknown: true}
	case *pg.A_Const_Bsval:
		t.unsupported("bit string literals")
	}
	t.unsupported("constant")
	return "", noType
}

// columnRef emits a column reference, rewriting catalog qualifiers.
func (t *translator) columnRef(c *pg.ColumnRef) (string, xtype) {
	var parts, names []string
	for i, f := range c.Fields {
		if f.GetAStar() != nil {
			parts = append(parts, "*")
			continue
		}
		s := strVal(f)
		names = append(names, s)
		if len(c.Fields) == 3 && i == 0 && (s == "public" || s == "pg_catalog") {
			continue // schema.table.column: the table name alone is unique in SQLite
		}
		if len(c.Fields) == 3 && i == 1 && c.Fields[0] != nil && strVal(c.Fields[0]) == "information_schema" {
			parts = []string{QuoteIdent("information_schema_" + s)}
			continue
		}
		parts = append(parts, QuoteIdent(s))
	}
	if len(c.Fields) > 3 || len(c.Fields) == 3 && len(parts) > 2 {
		t.unsupported("column reference %s", strings.Join(names, "."))
	}
	if t.retAlias != "" && len(parts) == 2 {
		// SQLite's RETURNING sees only the written table, and unqualified.
		if names[0] != t.retAlias {
			t.unsupported("RETURNING columns of other tables")
		}
		parts = parts[1:]
	}
	if e := t.srfColumn(names); e != "" {
		return e, t.resolveColumn(names)
	}
	if len(names) > 0 && names[len(names)-1] == "tableoid" {
		if oid, ok := t.catalogTableOID(names); ok {
			return "CAST(" + strconv.Itoa(int(oid)) + " AS INTEGER)", typed(pgvalue.OIDOid)
		}
	}
	return strings.Join(parts, "."), t.resolveColumn(names)
}

// catalogTableOID resolves the system column tableoid of a catalog
// relation in scope (x.tableoid, or tableoid when one catalog is in FROM).
func (t *translator) catalogTableOID(names []string) (uint32, bool) {
	for s := t.scope; s != nil; s = s.parent {
		var found []*relEntry
		for _, r := range s.rels {
			if len(names) >= 2 && r.name == names[len(names)-2] || len(names) == 1 {
				found = append(found, r)
			}
		}
		if len(found) == 1 && found[0].catalogOID != 0 {
			if _, ok, _ := found[0].find("tableoid"); !ok {
				return found[0].catalogOID, true
			}
		}
		if len(found) > 0 {
			return 0, false
		}
	}
	return 0, false
}

// paramRef emits $n as ?n.
func (t *translator) paramRef(p *pg.ParamRef) (string, xtype) {
	n := int(p.Number)
	if n < 1 || n > maxParams {
		t.fail(pgerror.New(pgerror.UndefinedParameter, "there is no parameter $%d", n))
	}
	t.useParam(n)
	return "?" + strconv.Itoa(n), xtype{t: t.paramType(n), mod: -1}
}

// boolExpr emits AND/OR/NOT.
func (t *translator) boolExpr(b *pg.BoolExpr) (string, xtype) {
	parts := make([]string, len(b.Args))
	for i, a := range b.Args {
		s, _ := t.expr(a)
		if nb := a.GetBoolExpr(); nb != nil && nb.Boolop != pg.BoolExprType_NOT_EXPR {
			s = "(" + s + ")"
		} else if _, isOp := a.GetNode().(*pg.Node_AExpr); isOp && b.Boolop == pg.BoolExprType_NOT_EXPR {
			s = "(" + s + ")"
		}
		parts[i] = s
	}
	switch b.Boolop {
	case pg.BoolExprType_AND_EXPR:
		return joinBalanced(parts, " AND "), typed(pgvalue.OIDBool)
	case pg.BoolExprType_OR_EXPR:
		return joinBalanced(parts, " OR "), typed(pgvalue.OIDBool)
	}
	return "NOT " + parts[0], typed(pgvalue.OIDBool)
}

// joinBalanced joins the operands of one AND or OR. PostgreSQL keeps a
// chain of them as one flat node, but SQLite's parser nests a AND b AND …
// one level per operator, and refuses expressions over 1000 levels
// (SQLITE_LIMIT_EXPR_DEPTH). Long chains are grouped into a balanced tree
// instead, which both operators' associativity (three-valued logic
// included) allows; operands keep their order.
func joinBalanced(parts []string, op string) string {
	const flat = 32
	if len(parts) <= flat {
		return strings.Join(parts, op)
	}
	mid := len(parts) / 2
	return "(" + joinBalanced(parts[:mid], op) + ")" + op + "(" + joinBalanced(parts[mid:], op) + ")"
}

// nullTest emits IS [NOT] NULL.
func (t *translator) nullTest(n *pg.NullTest) (string, xtype) {
	s, _ := t.operand(n.Arg)
	if n.Nulltesttype == pg.NullTestType_IS_NOT_NULL {
		return s + " IS NOT NULL", typed(pgvalue.OIDBool)
	}
	return s + " IS NULL", typed(pgvalue.OIDBool)
}

// booleanTest emits IS [NOT] TRUE/FALSE/UNKNOWN; SQLite's IS TRUE matches
// PostgreSQL's for 0/1 booleans.
func (t *translator) booleanTest(b *pg.BooleanTest) (string, xtype) {
	s, _ := t.operand(b.Arg)
	ops := map[pg.BoolTestType]string{
		pg.BoolTestType_IS_TRUE: " IS TRUE", pg.BoolTestType_IS_NOT_TRUE: " IS NOT TRUE",
		pg.BoolTestType_IS_FALSE: " IS FALSE", pg.BoolTestType_IS_NOT_FALSE: " IS NOT FALSE",
		pg.BoolTestType_IS_UNKNOWN: " IS NULL", pg.BoolTestType_IS_NOT_UNKNOWN: " IS NOT NULL",
	}
	return s + ops[b.Booltesttype], typed(pgvalue.OIDBool)
}

// caseExpr emits simple and searched CASE.
func (t *translator) caseExpr(c *pg.CaseExpr) (string, xtype) {
	var b strings.Builder
	b.WriteString("CASE")
	var argX xtype
	var argNode *pg.Node
	if c.Arg != nil {
		s, x := t.expr(c.Arg)
		argX, argNode = x, c.Arg
		b.WriteString(" " + s)
	}
	var results []xtype
	for _, w := range c.Args {
		cw := w.GetCaseWhen()
		cond, cx := t.expr(cw.Expr)
		if argNode != nil {
			_, cond = t.unify(argNode, cw.Expr, "", cond, argX, cx)
		}
		res, rx := t.expr(cw.Result)
		results = append(results, rx)
		b.WriteString(" WHEN " + cond + " THEN " + res)
	}
	if c.Defresult != nil {
		s, x := t.expr(c.Defresult)
		results = append(results, x)
		b.WriteString(" ELSE " + s)
	}
	b.WriteString(" END")
	return b.String(), firstTyped(results)
}

// collate drops the collations that mean byte order and refuses others.
func (t *translator) collate(c *pg.CollateClause) (string, xtype) {
	t.checkCollation(c.Collname)
	return t.expr(c.Arg)
}

// checkCollation accepts the collations that mean byte order.
func (t *translator) checkCollation(names []*pg.Node) {
	switch name := lastName(names); name {
	case "C", "default", "POSIX", "ucs_basic":
	default:
		t.unsupported("COLLATE %q", name)
	}
}

// subquery emits a parenthesized sub-select at a new scope level.
func (t *translator) subquery(n *pg.Node) (string, []colInfo) {
	sel := n.GetSelectStmt()
	if sel == nil {
		t.unsupported("this subquery")
	}
	s, cols := t.selectQuery(sel)
	return "(" + s + ")", cols
}

// subLink emits EXISTS, scalar, IN/ANY/ALL and ARRAY subqueries.
func (t *translator) subLink(l *pg.SubLink) (string, xtype) {
	switch l.SubLinkType {
	case pg.SubLinkType_EXISTS_SUBLINK:
		s, _ := t.subquery(l.Subselect)
		return "EXISTS " + s, typed(pgvalue.OIDBool)
	case pg.SubLinkType_EXPR_SUBLINK:
		s, cols := t.subquery(l.Subselect)
		if len(cols) == 1 {
			return s, xtype{t: cols[0].typ.t, mod: cols[0].typ.mod}
		}
		return s, noType
	case pg.SubLinkType_ANY_SUBLINK, pg.SubLinkType_ALL_SUBLINK:
		return t.quantifiedSubLink(l)
	case pg.SubLinkType_ARRAY_SUBLINK:
		s, cols := t.subquery(l.Subselect)
		if len(cols) != 1 {
			t.unsupported("ARRAY(subquery) without a single named column")
		}
		// ARRAY(subquery) over no rows is the empty array, not NULL as
		// array_agg is.
		return "coalesce((SELECT pg_array_agg(" + alwaysQuote(cols[0].name) + ") FROM " + s + "), '{}')", arrayOf(cols[0].typ)
	}
	t.unsupported("this kind of subquery")
	return "", noType
}

// quantifiedSubLink emits x IN (sub) for = ANY and x NOT IN (sub) for <> ALL.
func (t *translator) quantifiedSubLink(l *pg.SubLink) (string, xtype) {
	op := "="
	if len(l.OperName) > 0 {
		op = lastName(l.OperName)
	}
	left, lx := t.operand(l.Testexpr)
	s, cols := t.subquery(l.Subselect)
	if len(cols) == 1 && lx.t == nil {
		t.hintParam(l.Testexpr, cols[0].typ.t)
	}
	switch {
	case l.SubLinkType == pg.SubLinkType_ANY_SUBLINK && op == "=":
		return left + " IN " + s, typed(pgvalue.OIDBool)
	case l.SubLinkType == pg.SubLinkType_ALL_SUBLINK && op == "<>":
		return left + " NOT IN " + s, typed(pgvalue.OIDBool)
	}
	kind := "ANY"
	if l.SubLinkType == pg.SubLinkType_ALL_SUBLINK {
		kind = "ALL"
	}
	t.unsupported("%s %s (subquery)", op, kind)
	return "", noType
}

// indirection emits array subscripts.
func (t *translator) indirection(a *pg.A_Indirection) (string, xtype) {
	s, x := t.operand(a.Arg)
	for _, ind := range a.Indirection {
		idx := ind.GetAIndices()
		if idx == nil || idx.IsSlice || idx.Uidx == nil {
			t.unsupported("this indirection (field selection or array slice)")
		}
		i, ix := t.expr(idx.Uidx)
		t.hintParam(idx.Uidx, TypeByOID(pgvalue.OIDInt4))
		_ = ix
		s = "pg_array_get(" + s + ", " + i + ")"
		x = elemOf(x)
	}
	return s, x
}

// arrayOf is the array type whose elements are x.
func arrayOf(x xtype) xtype {
	if x.t == nil || x.t.ArrayOID == 0 {
		return noType
	}
	return typed(x.t.ArrayOID)
}

// elemOf is the element type of an array type.
func elemOf(x xtype) xtype {
	if x.t == nil {
		return noType
	}
	for i := range pgTypes {
		if pgTypes[i].ArrayOID == x.t.OID && pgTypes[i].Decl != "" {
			return typed(pgTypes[i].OID)
		}
	}
	return noType
}

// sqlValueFunction emits CURRENT_DATE, CURRENT_USER and friends.
func (t *translator) sqlValueFunction(f *pg.SQLValueFunction) (string, xtype) {
	switch f.Op {
	case pg.SQLValueFunctionOp_SVFOP_CURRENT_DATE:
		return "pg_current_date()", typed(pgvalue.OIDDate)
	case pg.SQLValueFunctionOp_SVFOP_CURRENT_TIME, pg.SQLValueFunctionOp_SVFOP_CURRENT_TIME_N:
		// time with time zone: the statement's time in the session's zone.
		return t.castTo("pg_now()", "timestamptz", "timetz", f.Typmod), typed(pgvalue.OIDTimetz)
	case pg.SQLValueFunctionOp_SVFOP_LOCALTIME, pg.SQLValueFunctionOp_SVFOP_LOCALTIME_N:
		return "pg_current_time()", typed(pgvalue.OIDTime)
	case pg.SQLValueFunctionOp_SVFOP_CURRENT_TIMESTAMP, pg.SQLValueFunctionOp_SVFOP_CURRENT_TIMESTAMP_N:
		return "pg_now()", typed(pgvalue.OIDTimestamptz)
	case pg.SQLValueFunctionOp_SVFOP_LOCALTIMESTAMP, pg.SQLValueFunctionOp_SVFOP_LOCALTIMESTAMP_N:
		return "pg_now_local()", typed(pgvalue.OIDTimestamp)
	case pg.SQLValueFunctionOp_SVFOP_CURRENT_CATALOG:
		return t.quoteString(t.setting("database")), typed(pgvalue.OIDName)
	case pg.SQLValueFunctionOp_SVFOP_CURRENT_SCHEMA:
		return t.currentSchema(), typed(pgvalue.OIDName)
	case pg.SQLValueFunctionOp_SVFOP_SESSION_USER:
		if u := t.setting("session_user"); u != "" {
			return t.quoteString(u), typed(pgvalue.OIDName)
		}
	}
	return t.quoteString(t.setting("session_authorization")), typed(pgvalue.OIDName)
}

// setting reads a session setting ("" when unknown).
func (t *translator) setting(name string) string {
	if t.opts.Setting == nil {
		return ""
	}
	v, _ := t.opts.Setting(name)
	return v
}

// schemaNames are the schemas pgraft has.
var schemaNames = map[string]bool{"public": true, "pg_catalog": true, "information_schema": true}

// searchPath lists the existing schemas of search_path, in order.
func (t *translator) searchPath() []string {
	var out []string
	for _, s := range strings.Split(t.setting("search_path"), ",") {
		s = strings.Trim(strings.TrimSpace(s), `"`)
		if schemaNames[s] {
			out = append(out, s)
		}
	}
	return out
}

// currentSchema is current_schema(): the first existing schema of search_path.
func (t *translator) currentSchema() string {
	if p := t.searchPath(); len(p) > 0 {
		return t.quoteString(p[0])
	}
	return "NULL"
}
