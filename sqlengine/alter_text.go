package sqlengine

import (
	"strings"

	"github.com/pgraft/pgraft/sqlengine/translate"
)

// alter_text.go: edits of a CREATE TABLE text as SQLite keeps it in
// sqlite_schema, for the table rebuilds of alter.go. The text is pgraft's
// own translation (or SQLite's rewrite of it after a rename), read with the
// tokenizer and parser of schema_parse.go; every edit replaces a byte range
// and the text is parsed again before the next one.

// tableEdit is a CREATE TABLE text under edit.
type tableEdit struct {
	table string // the table's name
	sql   string
	d     *ddlTable
}

func newTableEdit(table, sql string) *tableEdit {
	e := &tableEdit{table: table, sql: sql}
	e.reparse()
	return e
}

func (e *tableEdit) reparse() { e.d = parseCreateTable(e.sql) }

// replace puts text in place of sp and parses the result.
func (e *tableEdit) replace(sp span, text string) {
	e.sql = e.sql[:sp.start] + text + e.sql[sp.end:]
	e.reparse()
}

// column returns the index of the column named name (SQLite compares
// names without case), or -1.
func (e *tableEdit) column(name string) int {
	for i, c := range e.d.columns {
		if strings.EqualFold(c, name) {
			return i
		}
	}
	return -1
}

// columnItem returns the span of column i's definition.
func (e *tableEdit) columnItem(i int) span {
	for k, c := range e.d.itemCols {
		if c == i {
			return e.d.items[k]
		}
	}
	return span{}
}

// removeItem deletes item k with the comma that separates it.
func (e *tableEdit) removeItem(k int) {
	if k < 0 {
		return
	}
	sp := e.d.items[k]
	switch {
	case k > 0:
		sp.start = e.d.items[k-1].end
	case len(e.d.items) > 1:
		sp.end = e.d.items[1].start
	}
	e.replace(sp, "")
}

// itemOf returns the index of the item that holds offset pos.
func (e *tableEdit) itemOf(pos int) int {
	for k, it := range e.d.items {
		if pos >= it.start && pos < it.end {
			return k
		}
	}
	return -1
}

// appendColumn adds a column definition after the last column.
func (e *tableEdit) appendColumn(def string) {
	last := -1
	for k, c := range e.d.itemCols {
		if c >= 0 {
			last = k
		}
	}
	if last < 0 {
		e.replace(span{e.d.open + 1, e.d.open + 1}, def)
		return
	}
	end := e.d.items[last].end
	e.replace(span{end, end}, ", "+def)
}

// appendConstraint adds a table constraint at the end of the list.
func (e *tableEdit) appendConstraint(def string) {
	if len(e.d.items) == 0 {
		e.replace(span{e.d.open + 1, e.d.open + 1}, def)
		return
	}
	end := e.d.items[len(e.d.items)-1].end
	e.replace(span{end, end}, ", "+def)
}

// appendToColumn adds a clause at the end of column i's definition.
func (e *tableEdit) appendToColumn(i int, clause string) {
	end := e.columnItem(i).end
	e.replace(span{end, end}, " "+clause)
}

// columnClause is one part of a column definition: its declared type, the
// RowidMarker, or a constraint clause.
type columnClause struct {
	kind string // "decl", "marker", "autoincrement", "notnull", "null", "default", "collate", "generated", "p", "u", "c", "f"
	name string // the CONSTRAINT name before it, if any
	text span   // its CONSTRAINT name included
}

// clauses splits column i's definition into its parts.
func (e *tableEdit) clauses(i int) []columnClause {
	item := e.columnItem(i)
	toks := tokenizeSQL(e.sql[:item.end])
	first := 0
	for first < len(toks) && toks[first].start < item.start {
		first++
	}
	toks = toks[first:]
	var out []columnClause
	if len(toks) == 0 {
		return nil
	}
	if decl := columnDecl(e.sql, toks[1:]); decl != "" {
		out = append(out, columnClause{kind: "decl", text: span{toks[1].start, toks[1].start + len(decl)}})
	}
	name, start := "", -1
	add := func(kind string, from, to int) {
		if start < 0 {
			start = toks[from].start
		}
		out = append(out, columnClause{kind: kind, name: name, text: span{start, toks[to].end}})
		name, start = "", -1
	}
	for j := 1; j < len(toks); j++ {
		t := toks[j]
		switch {
		case t.kind == 'm':
			add("marker", j, j)
		case t.word("CONSTRAINT") && j+1 < len(toks):
			name, start = toks[j+1].val, t.start
			j++
		case t.word("AUTOINCREMENT"):
			add("autoincrement", j, j)
		case t.word("NOT") && j+1 < len(toks) && toks[j+1].word("NULL"):
			add("notnull", j, skipConflict(toks, j+1))
			j = skipConflict(toks, j+1)
		case t.word("NULL"):
			add("null", j, j)
		case t.word("PRIMARY"), t.word("UNIQUE"):
			end := skipKeyOptions(toks, j)
			add(map[bool]string{true: "p", false: "u"}[t.word("PRIMARY")], j, end)
			j = end
		case t.word("CHECK"):
			end := matchParen(toks, j+1)
			add("c", j, end)
			j = end
		case t.word("DEFAULT") && j+1 < len(toks):
			end := j + 1
			switch n := toks[j+1]; {
			case n.kind == 'p' && n.val == "(":
				end = matchParen(toks, j+1)
			case n.kind == 'p' && (n.val == "-" || n.val == "+") && j+2 < len(toks):
				end = j + 2
			}
			add("default", j, end)
			j = end
		case t.word("COLLATE") && j+1 < len(toks):
			add("collate", j, j+1)
			j++
		case t.word("REFERENCES"):
			_, end := parseReferences(toks, j+1)
			end = min(end, len(toks)-1)
			add("f", j, end)
			j = end
		case t.word("GENERATED"), t.word("AS"):
			end := j
			for end+1 < len(toks) && !(toks[end].kind == 'p' && toks[end].val == "(") {
				end++
			}
			end = matchParen(toks, end)
			if end+1 < len(toks) && (toks[end+1].word("STORED") || toks[end+1].word("VIRTUAL")) {
				end++
			}
			add("generated", j, end)
			j = end
		case t.kind == 'p' && t.val == "(":
			j = matchParen(toks, j)
		}
	}
	return out
}

// skipConflict returns the index of the last token of "x [ON CONFLICT y]"
// where x is toks[i].
func skipConflict(toks []sqlToken, i int) int {
	if i+3 < len(toks) && toks[i+1].word("ON") && toks[i+2].word("CONFLICT") {
		return i + 3
	}
	return i
}

// generatedUsing returns the other columns whose generated expression
// names column col.
func (e *tableEdit) generatedUsing(col string) []string {
	var out []string
	for i, name := range e.d.columns {
		if strings.EqualFold(name, col) {
			continue
		}
		g, ok := e.clause(i, "generated")
		if !ok {
			continue
		}
		for _, t := range tokenizeSQL(e.sql[g.text.start:g.text.end]) {
			if (t.kind == 'i' || t.kind == 'q') && strings.EqualFold(t.val, col) {
				out = append(out, name)
				break
			}
		}
	}
	return out
}

// clause returns column i's first clause of that kind.
func (e *tableEdit) clause(i int, kind string) (columnClause, bool) {
	for _, c := range e.clauses(i) {
		if c.kind == kind {
			return c, true
		}
	}
	return columnClause{}, false
}

// removeClauses deletes every clause of column i that keep says to drop
// (with the space before it).
func (e *tableEdit) removeClauses(i int, drop func(columnClause) bool) {
	cs := e.clauses(i)
	for k := len(cs) - 1; k >= 0; k-- {
		if drop(cs[k]) {
			sp := cs[k].text
			for sp.start > 0 && e.sql[sp.start-1] == ' ' {
				sp.start--
			}
			e.replace(sp, "")
		}
	}
}

// isRowidAlias reports whether column i is declared "INTEGER" with the
// RowidMarker: the rowid alias pgraft makes of an integer primary key.
func (e *tableEdit) isRowidAlias(i int) bool {
	d, ok := e.clause(i, "decl")
	_, marked := e.clause(i, "marker")
	return ok && marked && strings.EqualFold(strings.TrimSpace(e.sql[d.text.start:d.text.end]), "INTEGER")
}

// pgType returns the PostgreSQL type of column i, from its declared type
// or its RowidMarker.
func (e *tableEdit) pgType(i int) *translate.PGType {
	if m, ok := e.clause(i, "marker"); ok {
		if t := translate.TypeByName(strings.TrimSuffix(strings.TrimPrefix(e.sql[m.text.start:m.text.end], translate.RowidMarker), "*/")); t != nil {
			return t
		}
	}
	if i < len(e.d.decls) {
		return translate.TypeByDecl(e.d.decls[i])
	}
	return nil
}

// setDecl makes column i's declared type decl. A rowid alias given a
// declared type of its own stops being one (its marker and AUTOINCREMENT
// go).
func (e *tableEdit) setDecl(i int, decl string) {
	e.removeClauses(i, func(c columnClause) bool { return c.kind == "marker" || c.kind == "autoincrement" })
	if d, ok := e.clause(i, "decl"); ok {
		e.replace(d.text, decl)
		return
	}
	name := e.columnItem(i)
	toks := tokenizeSQL(e.sql[name.start:name.end])
	end := name.start + toks[0].end
	e.replace(span{end, end}, " "+decl)
}

// makeRowidAlias declares integer column i "INTEGER /*pg:type*/", so that a
// single-column primary key on it makes it the rowid alias, as CREATE
// TABLE does.
func (e *tableEdit) makeRowidAlias(i int, typ *translate.PGType) {
	e.setDecl(i, "INTEGER "+translate.RowidMarker+typ.Name+"*/")
}

// demoteRowidAlias gives a rowid alias whose primary key goes its own
// declared type back.
func (e *tableEdit) demoteRowidAlias(i int) {
	if !e.isRowidAlias(i) {
		return
	}
	if t := e.pgType(i); t != nil && t.Decl != "" {
		e.setDecl(i, t.Decl)
	}
}

// named is a constraint with the name PostgreSQL knows it by.
type named struct {
	ddlConstraint
	pgName string
}

// constraints lists the table's constraints with their PostgreSQL names,
// as the catalog names them (schema_model.go addConstraints), pgraft's
// range checks left out.
func (e *tableEdit) constraints() []named {
	names := constraintNames(e.table, e.d)
	out := make([]named, 0, len(names))
	for i, c := range e.d.constraints {
		if strings.HasPrefix(c.name, translate.RangeCheckPrefix) {
			continue
		}
		out = append(out, named{c, names[i]})
	}
	return out
}

// constraint returns the constraint PostgreSQL calls name.
func (e *tableEdit) constraint(name string) (named, bool) {
	for _, c := range e.constraints() {
		if c.pgName == name {
			return c, true
		}
	}
	return named{}, false
}

// removeConstraint deletes a constraint: its item when it is a table
// constraint, else its clause of a column definition.
func (e *tableEdit) removeConstraint(c ddlConstraint) {
	if c.tableLevel {
		e.removeItem(e.itemOf(c.text.start))
		return
	}
	sp := c.text
	for sp.start > 0 && e.sql[sp.start-1] == ' ' {
		sp.start--
	}
	e.replace(sp, "")
}

// primaryKey returns the table's primary key columns (nil when none).
func (e *tableEdit) primaryKey() []string { return primaryKeyCols(e.d) }

// hasRowidAlias reports whether the table's rows are keyed by a rowid
// alias column.
func (e *tableEdit) hasRowidAlias() bool {
	pk := e.primaryKey()
	return pk != nil && isRowidPK(e.d, pk)
}

// createAs returns the text with the table named name instead.
func (e *tableEdit) createAs(name string) string {
	return "CREATE TABLE " + sqlQuote(name) + " " + e.sql[e.d.open:]
}

// sqlQuote double-quotes an identifier for SQLite.
func sqlQuote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// sqlQuoteAll quotes and joins identifiers.
func sqlQuoteAll(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = sqlQuote(n)
	}
	return strings.Join(q, ", ")
}
