package translate

import (
	"slices"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// INSERT, UPDATE, DELETE and TRUNCATE. Writes run with t.write set, which
// refuses the functions that would make replay differ between nodes.

// writeTarget opens the scope of a write: the target table under its alias.
func (t *translator) writeTarget(rv *pg.RangeVar) (string, *TableInfo, string) {
	t.write = true
	name := t.relationName(rv)
	ti := t.table(name)
	t.pushScope()
	alias := name
	sql := QuoteIdent(name)
	if rv.Alias != nil {
		alias = rv.Alias.Aliasname
		sql += " AS " + QuoteIdent(alias)
	}
	t.scope.rels = append(t.scope.rels, tableEntry(alias, ti))
	return sql, ti, name
}

// columnType is the type of a target column (noType when unknown); an
// unknown column of a known table is 42703 as in PostgreSQL.
func (t *translator) columnType(ti *TableInfo, table, col string) xtype {
	if ti == nil {
		return noType
	}
	c := ti.Column(col)
	if c == nil {
		t.fail(pgerror.New(pgerror.UndefinedColumn, "column \"%s\" of relation \"%s\" does not exist", col, table))
	}
	return xtype{t: c.Type, mod: c.TypeMod, legacy: c.LegacyNumeric}
}

// insertStatement translates INSERT.
func (t *translator) insertStatement(s *pg.InsertStmt) *Stmt {
	if s.WithClause != nil {
		t.unsupported("WITH in INSERT")
	}
	if s.Override == pg.OverridingKind_OVERRIDING_USER_VALUE {
		t.unsupported("OVERRIDING USER VALUE")
	}
	target, ti, table := t.writeTarget(s.Relation)
	defer t.popScope()
	cols := t.insertColumns(s, ti, table)
	body := t.insertSource(s, ti, table, &cols)
	t.checkIdentityAlways(ti, cols, s.Override == pg.OverridingKind_OVERRIDING_SYSTEM_VALUE) // sequence.go
	cols, body = t.serialRowidValue(ti, cols, body, s.OnConflictClause != nil)               // sequence.go
	var b strings.Builder
	b.WriteString("INSERT INTO " + target)
	if len(cols) > 0 && body != " DEFAULT VALUES" {
		b.WriteString(" (" + identList(cols) + ")")
	}
	b.WriteString(body)
	b.WriteString(t.onConflict(s.OnConflictClause))
	st := &Stmt{Kind: KindInsert, Tag: "INSERT", Bounded: boundedInsert(s)}
	b.WriteString(t.returning(st, s.ReturningList))
	st.SQL = b.String()
	return st
}

// insertColumns is the explicit column list, or the table's columns when
// a DEFAULT in VALUES needs positions.
func (t *translator) insertColumns(s *pg.InsertStmt, ti *TableInfo, table string) []string {
	var cols []string
	for _, n := range s.Cols {
		rt := n.GetResTarget()
		if len(rt.Indirection) > 0 {
			t.unsupported("INSERT into a subscript or field")
		}
		t.columnType(ti, table, rt.Name)
		cols = append(cols, rt.Name)
	}
	return cols
}

// insertSource emits VALUES / SELECT / DEFAULT VALUES.
func (t *translator) insertSource(s *pg.InsertStmt, ti *TableInfo, table string, cols *[]string) string {
	if s.SelectStmt == nil {
		return " DEFAULT VALUES"
	}
	sel := s.SelectStmt.GetSelectStmt()
	implicit := len(*cols) == 0 && ti != nil
	if implicit {
		for _, c := range ti.Columns {
			*cols = append(*cols, c.Name)
		}
	}
	types := make([]xtype, len(*cols))
	for i, c := range *cols {
		types[i] = t.columnType(ti, table, c)
	}
	if len(sel.ValuesLists) > 0 && sel.WithClause == nil && len(sel.SortClause) == 0 && sel.LimitCount == nil {
		if w := len(sel.ValuesLists[0].GetList().GetItems()); implicit && w < len(*cols) {
			*cols, types = (*cols)[:w], types[:w]
		}
		rows := t.fillMixedDefaults(sel.ValuesLists, ti, *cols)
		rows, keep := t.dropDefaults(rows, len(*cols))
		if keep == nil {
			return " DEFAULT VALUES"
		}
		*cols, types = pickNames(*cols, keep), pickX(types, keep)
		body, _ := t.valuesList(rows, types)
		return " " + body
	}
	if implicit {
		*cols = nil
	}
	body, selCols := t.selectQuery(sel)
	if wrapped, ok := t.coerceInsertSelect(body, selCols, types); ok {
		if s.OnConflictClause != nil {
			wrapped += " WHERE true" // SQLite's parser needs it before ON CONFLICT
		}
		return " " + wrapped
	}
	if s.OnConflictClause != nil && len(sel.FromClause) > 0 && sel.WhereClause == nil {
		body += " WHERE true" // SQLite's parser needs it before ON CONFLICT
	}
	return " " + body
}

// fillMixedDefaults replaces DEFAULT in a column of a multi-row VALUES
// where other rows give a value (knex writes such rows) with the column's
// default expression, NULL when it has none: SQLite has no DEFAULT in
// VALUES. Columns that are DEFAULT in every row are left to dropDefaults,
// which leaves them out for SQLite's own default.
func (t *translator) fillMixedDefaults(rows []*pg.Node, ti *TableInfo, cols []string) []*pg.Node {
	if len(rows) < 2 {
		return rows
	}
	width := len(rows[0].GetList().GetItems())
	mixed := map[int]bool{}
	for i := 0; i < width; i++ {
		defaults := 0
		for _, r := range rows {
			if items := r.GetList().GetItems(); i < len(items) && items[i].GetSetToDefault() != nil {
				defaults++
			}
		}
		if defaults > 0 && defaults < len(rows) {
			mixed[i] = true
		}
	}
	if len(mixed) == 0 {
		return rows
	}
	out := make([]*pg.Node, len(rows))
	for r, row := range rows {
		items := slices.Clone(row.GetList().GetItems())
		for i, it := range items {
			if mixed[i] && it.GetSetToDefault() != nil {
				items[i] = t.columnDefaultNode(ti, cols, i)
			}
		}
		out[r] = &pg.Node{Node: &pg.Node_List{List: &pg.List{Items: items}}}
	}
	return out
}

// columnDefaultNode is the default expression of target column i (as
// PostgreSQL shows it, parsed again), or NULL.
func (t *translator) columnDefaultNode(ti *TableInfo, cols []string, i int) *pg.Node {
	if ti == nil || i >= len(cols) {
		t.unsupported("DEFAULT in some rows of a multi-row VALUES for an unknown table")
	}
	def := "NULL"
	if c := ti.Column(cols[i]); c != nil && c.Default != "" {
		def = c.Default
	}
	tree, err := pg.Parse("SELECT " + def)
	if err != nil || len(tree.Stmts) != 1 {
		t.unsupported("DEFAULT in some rows of a multi-row VALUES for column %s", cols[i])
	}
	targets := tree.Stmts[0].Stmt.GetSelectStmt().GetTargetList()
	if len(targets) != 1 {
		t.unsupported("DEFAULT in some rows of a multi-row VALUES for column %s", cols[i])
	}
	return targets[0].GetResTarget().Val
}

// dropDefaults removes the positions where VALUES says DEFAULT: allowed
// when every row says DEFAULT there. keep lists the remaining positions
// (nil when nothing remains).
func (t *translator) dropDefaults(rows []*pg.Node, ncols int) ([]*pg.Node, []int) {
	width := len(rows[0].GetList().GetItems())
	var keep []int
	anyDefault := false
	for i := 0; i < width; i++ {
		defaults := 0
		for _, r := range rows {
			items := r.GetList().GetItems()
			if i < len(items) && items[i].GetSetToDefault() != nil {
				defaults++
			}
		}
		switch {
		case defaults == 0:
			keep = append(keep, i)
		case defaults == len(rows):
			anyDefault = true
		default:
			t.unsupported("DEFAULT in some rows of a multi-row VALUES only")
		}
	}
	if !anyDefault {
		return rows, allPositions(width)
	}
	if ncols < width {
		t.unsupported("DEFAULT in VALUES without a column list for an unknown table")
	}
	out := make([]*pg.Node, len(rows))
	for r, row := range rows {
		items := row.GetList().GetItems()
		kept := make([]*pg.Node, 0, len(keep))
		for _, i := range keep {
			kept = append(kept, items[i])
		}
		out[r] = &pg.Node{Node: &pg.Node_List{List: &pg.List{Items: kept}}}
	}
	return out, keep
}

func allPositions(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

func pickNames(s []string, keep []int) []string {
	out := make([]string, 0, len(keep))
	for _, i := range keep {
		if i < len(s) {
			out = append(out, s[i])
		}
	}
	return out
}

func pickX(s []xtype, keep []int) []xtype {
	out := make([]xtype, 0, len(keep))
	for _, i := range keep {
		if i < len(s) {
			out = append(out, s[i])
		}
	}
	return out
}

// onConflict emits ON CONFLICT (cols) DO NOTHING / DO UPDATE SET … WHERE.
func (t *translator) onConflict(c *pg.OnConflictClause) string {
	if c == nil {
		return ""
	}
	out := " ON CONFLICT"
	if c.Infer != nil {
		if c.Infer.Conname != "" {
			t.unsupported("ON CONFLICT ON CONSTRAINT")
		}
		parts := make([]string, len(c.Infer.IndexElems))
		for i, n := range c.Infer.IndexElems {
			parts[i] = t.indexElem(n.GetIndexElem())
		}
		out += " (" + strings.Join(parts, ", ") + ")"
		if c.Infer.WhereClause != nil {
			w, _ := t.expr(c.Infer.WhereClause)
			out += " WHERE " + w
		}
	}
	if c.Action == pg.OnConflictAction_ONCONFLICT_NOTHING {
		return out + " DO NOTHING"
	}
	if c.Infer == nil {
		t.fail(pgerror.New(pgerror.SyntaxError, "ON CONFLICT DO UPDATE requires inference specification or constraint name"))
	}
	// excluded.col has the target's columns.
	t.scope.rels = append(t.scope.rels, &relEntry{name: "excluded", cols: t.scope.rels[0].cols, known: t.scope.rels[0].known})
	out += " DO UPDATE SET " + t.setList(c.TargetList)
	if c.WhereClause != nil {
		w, _ := t.expr(c.WhereClause)
		out += " WHERE " + w
	}
	return out
}

// setList emits UPDATE's SET items, multi-column assignments included.
func (t *translator) setList(targets []*pg.Node) string {
	parts := make([]string, 0, len(targets))
	target := t.scope.rels[0]
	for i := 0; i < len(targets); i++ {
		rt := targets[i].GetResTarget()
		if len(rt.Indirection) > 0 {
			t.unsupported("UPDATE of a subscript or field")
		}
		if m := rt.Val.GetMultiAssignRef(); m != nil {
			n := int(m.Ncolumns)
			if i+n > len(targets) {
				t.unsupported("this multi-column assignment")
			}
			parts = append(parts, t.multiAssign(targets[i:i+n], m.Source))
			i += n - 1
			continue
		}
		col := t.targetColumn(target, rt.Name)
		if rt.Val.GetSetToDefault() != nil {
			t.unsupported("SET col = DEFAULT")
		}
		v, x := t.expr(rt.Val)
		t.hintParam(rt.Val, col.t)
		parts = append(parts, QuoteIdent(rt.Name)+" = "+t.assignCoerce(v, x, col))
	}
	return strings.Join(parts, ", ")
}

// targetColumn types a SET column of the written table.
func (t *translator) targetColumn(target *relEntry, name string) xtype {
	c, ok, may := target.find(name)
	if !ok && !may {
		t.fail(pgerror.New(pgerror.UndefinedColumn, "column \"%s\" of relation \"%s\" does not exist", name, target.name))
	}
	return c.typ
}

// multiAssign emits (a, b) = (x, y) or (a, b) = (SELECT …).
func (t *translator) multiAssign(targets []*pg.Node, source *pg.Node) string {
	names := make([]string, len(targets))
	for i, n := range targets {
		names[i] = n.GetResTarget().Name
	}
	if row := source.GetRowExpr(); row != nil {
		if len(row.Args) != len(names) {
			t.fail(pgerror.New(pgerror.SyntaxError, "number of columns does not match number of values"))
		}
		parts := make([]string, len(names))
		for i, a := range row.Args {
			col := t.targetColumn(t.scope.rels[0], names[i])
			v, x := t.expr(a)
			t.hintParam(a, col.t)
			parts[i] = QuoteIdent(names[i]) + " = " + t.assignCoerce(v, x, col)
		}
		return strings.Join(parts, ", ")
	}
	if l := source.GetSubLink(); l != nil && (l.SubLinkType == pg.SubLinkType_MULTIEXPR_SUBLINK || l.SubLinkType == pg.SubLinkType_EXPR_SUBLINK) {
		s, _ := t.subquery(l.Subselect)
		return "(" + identList(names) + ") = " + s
	}
	t.unsupported("this multi-column assignment")
	return ""
}

// returning emits RETURNING and fills the result columns.
func (t *translator) returning(st *Stmt, list []*pg.Node) string {
	if len(list) == 0 {
		return ""
	}
	st.Returning = true
	t.retAlias = t.scope.rels[0].name
	s, cols := t.targetList(list)
	t.retAlias = ""
	if !hasStar(list) {
		st.Columns = resultColumns(cols)
	}
	return " RETURNING " + s
}

// updateStatement translates UPDATE.
func (t *translator) updateStatement(s *pg.UpdateStmt) *Stmt {
	if s.WithClause != nil {
		t.unsupported("WITH in UPDATE")
	}
	target, _, _ := t.writeTarget(s.Relation)
	defer t.popScope()
	from := t.fromClause(s.FromClause)
	set := t.setList(s.TargetList)
	sql := "UPDATE " + target + " SET " + set + from
	if s.WhereClause != nil {
		w, _ := t.expr(s.WhereClause)
		sql += " WHERE " + w
	}
	st := &Stmt{Kind: KindUpdate, Tag: "UPDATE"}
	st.SQL = sql + t.returning(st, s.ReturningList)
	return st
}

// deleteStatement translates DELETE; USING becomes a correlated EXISTS.
func (t *translator) deleteStatement(s *pg.DeleteStmt) *Stmt {
	if s.WithClause != nil {
		t.unsupported("WITH in DELETE")
	}
	target, _, _ := t.writeTarget(s.Relation)
	defer t.popScope()
	sql := "DELETE FROM " + target
	st := &Stmt{Kind: KindDelete, Tag: "DELETE"}
	if len(s.UsingClause) > 0 {
		if len(s.ReturningList) > 0 {
			t.unsupported("DELETE … USING … RETURNING")
		}
		t.pushScope()
		from := t.fromClause(s.UsingClause)
		where := ""
		if s.WhereClause != nil {
			w, _ := t.expr(s.WhereClause)
			where = " WHERE " + w
		}
		t.popScope()
		st.SQL = sql + " WHERE EXISTS (SELECT 1" + from + where + ")"
		return st
	}
	if s.WhereClause != nil {
		w, _ := t.expr(s.WhereClause)
		sql += " WHERE " + w
	}
	st.SQL = sql + t.returning(st, s.ReturningList)
	return st
}

// truncateStatement turns TRUNCATE into DELETE per table.
func (t *translator) truncateStatement(s *pg.TruncateStmt) *Stmt {
	t.write = true
	st := &Stmt{Kind: KindDelete, Tag: "TRUNCATE TABLE"}
	names := map[string]bool{}
	for _, n := range s.Relations {
		names[t.relationName(n.GetRangeVar())] = true
	}
	for _, n := range s.Relations {
		name := n.GetRangeVar().Relname
		if s.Behavior == pg.DropBehavior_DROP_CASCADE && t.referencedByOthers(name, names) {
			t.unsupported("TRUNCATE … CASCADE of a referenced table")
		}
		sql := "DELETE FROM " + QuoteIdent(name)
		if st.SQL == "" {
			st.SQL = sql
		} else {
			st.Post = append(st.Post, sql)
		}
	}
	if s.RestartSeqs { // the sequences the tables own start again (sequence.go)
		for _, n := range s.Relations {
			st.Post = append(st.Post, t.ownedSequencesSQL("restart_owned", n.GetRangeVar().Relname))
		}
	}
	return st
}

// referencedByOthers reports whether a table outside set has a foreign key
// to name (per the schema's tables that translation can see).
func (t *translator) referencedByOthers(name string, set map[string]bool) bool {
	lister, ok := t.schema.(interface{ Tables() []*TableInfo })
	if !ok {
		return true // cannot tell: refuse rather than guess
	}
	for _, ti := range lister.Tables() {
		if set[ti.Name] {
			continue
		}
		for _, fk := range ti.FKs {
			if fk.RefTable == name {
				return true
			}
		}
	}
	return false
}
