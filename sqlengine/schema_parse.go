package sqlengine

import (
	"strings"

	"github.com/pgraft/pgraft/sqlengine/translate"
)

// A small reader of the CREATE TABLE text SQLite keeps in sqlite_schema.sql.
// SQLite's pragmas tell columns, indexes and foreign keys, but not what
// PostgreSQL also shows: constraint names, CHECK expressions, DEFERRABLE,
// AUTOINCREMENT and the RowidMarker comment. SQLite rewrites this text on
// ALTER TABLE, so it is always current.

// sqlToken is one token of SQLite SQL; start/end index the source text.
type sqlToken struct {
	kind       byte   // 'i' identifier or keyword, 'q' quoted identifier, 's' string, 'n' number, 'm' RowidMarker, 'p' punctuation
	val        string // identifier without quotes; marker's typname; punctuation itself
	start, end int
}

// word reports whether t is the unquoted keyword kw (upper-case).
func (t sqlToken) word(kw string) bool { return t.kind == 'i' && strings.EqualFold(t.val, kw) }

// ident reports whether t names something (bare or quoted identifier, or a
// string, which SQLite also accepts as a name).
func (t sqlToken) ident() bool { return t.kind == 'i' || t.kind == 'q' || t.kind == 's' }

func tokenizeSQL(s string) []sqlToken {
	var out []sqlToken
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			i++
		case c == '-' && i+1 < len(s) && s[i+1] == '-':
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			j := strings.Index(s[i+2:], "*/")
			end := len(s)
			if j >= 0 {
				end = i + 2 + j + 2
			}
			if strings.HasPrefix(s[i:], translate.RowidMarker) && j >= 0 {
				out = append(out, sqlToken{'m', strings.TrimSpace(s[i+len(translate.RowidMarker) : end-2]), i, end})
			}
			i = end
		case c == '\'' || c == '"' || c == '`' || c == '[':
			closer := map[byte]byte{'\'': '\'', '"': '"', '`': '`', '[': ']'}[c]
			j := i + 1
			var b strings.Builder
			for j < len(s) {
				if s[j] == closer {
					if closer != ']' && j+1 < len(s) && s[j+1] == closer {
						b.WriteByte(closer)
						j += 2
						continue
					}
					break
				}
				b.WriteByte(s[j])
				j++
			}
			kind := byte('q')
			if c == '\'' {
				kind = 's'
			}
			out = append(out, sqlToken{kind, b.String(), i, min(j+1, len(s))})
			i = j + 1
		case isIdentByte(c) && !(c >= '0' && c <= '9'):
			j := i
			for j < len(s) && isIdentByte(s[j]) {
				j++
			}
			out = append(out, sqlToken{'i', s[i:j], i, j})
			i = j
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9':
			j := i
			for j < len(s) && (isIdentByte(s[j]) || s[j] == '.' ||
				((s[j] == '+' || s[j] == '-') && (s[j-1] == 'e' || s[j-1] == 'E'))) {
				j++
			}
			out = append(out, sqlToken{'n', s[i:j], i, j})
			i = j
		default:
			n := 1
			for _, op := range []string{"->>", "||", "<=", ">=", "<>", "!=", "==", "->", "<<", ">>"} {
				if strings.HasPrefix(s[i:], op) {
					n = len(op)
					break
				}
			}
			out = append(out, sqlToken{'p', s[i : i+n], i, i + n})
			i += n
		}
	}
	return out
}

func isIdentByte(c byte) bool {
	return c == '_' || c == '$' || c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

// ddlTable is what parseCreateTable reads from a CREATE TABLE text.
type ddlTable struct {
	columns       []string // names in definition order (attnum-1)
	decls         []string // their declared types, as written
	rowidType     string   // typname from the RowidMarker, "" if none
	autoincrement bool
	withoutRowid  bool
	constraints   []ddlConstraint // in definition order
	items         []span          // each column or table constraint, in the text (alter.go edits them)
	itemCols      []int           // per item: its column's index in columns, -1 for a table constraint
	open, close   int             // the offsets of the column list's "(" and ")"
}

// span is a byte range [start, end) of a statement's text.
type span struct{ start, end int }

// ddlConstraint is one PRIMARY KEY, UNIQUE, FOREIGN KEY or CHECK.
type ddlConstraint struct {
	name       string // as written after CONSTRAINT, "" if none
	kind       byte   // 'p', 'u', 'f', 'c'
	cols       []string
	expr       string // CHECK expression text, as SQLite stores it
	refTable   string
	refCols    []string // nil: the referenced table's primary key
	onDelete   string   // PostgreSQL's words: "NO ACTION", "CASCADE", …
	onUpdate   string
	deferrable bool
	deferred   bool
	text       span // where it is written, its CONSTRAINT name included
	nameTok    span // the name after CONSTRAINT (empty when unnamed)
	tableLevel bool // a table constraint (its own item), not a column's
}

// parseCreateTable reads a CREATE TABLE statement. It is lenient: what it
// does not understand it skips, and it never fails; a nil result means the
// text is not a CREATE TABLE with a column list.
func parseCreateTable(sql string) *ddlTable {
	toks := tokenizeSQL(sql)
	open := -1
	for i, t := range toks {
		if t.kind == 'p' && t.val == "(" {
			open = i
			break
		}
		if t.word("AS") {
			return nil // CREATE TABLE … AS SELECT: no constraints to read
		}
	}
	if open < 0 {
		return nil
	}
	d := &ddlTable{}
	items, closeIdx := splitItems(toks, open)
	d.open, d.close = toks[open].start, len(sql)
	if closeIdx < len(toks) {
		d.close = toks[closeIdx].start
	}
	for _, it := range items {
		if len(it) == 0 {
			continue
		}
		d.items = append(d.items, span{it[0].start, it[len(it)-1].end})
		if isTableConstraintStart(it[0]) {
			d.itemCols = append(d.itemCols, -1)
			n := len(d.constraints)
			d.parseConstraints(sql, it, nil)
			for i := n; i < len(d.constraints); i++ {
				d.constraints[i].text, d.constraints[i].tableLevel = d.items[len(d.items)-1], true
			}
			continue
		}
		d.itemCols = append(d.itemCols, len(d.columns))
		col := it[0].val
		d.columns = append(d.columns, col)
		d.decls = append(d.decls, columnDecl(sql, it[1:]))
		d.parseConstraints(sql, it[1:], []string{col})
	}
	rest := toks[min(closeIdx+1, len(toks)):]
	for i := 0; i+1 < len(rest); i++ {
		if rest[i].word("WITHOUT") && rest[i+1].word("ROWID") {
			d.withoutRowid = true
		}
	}
	return d
}

// splitItems splits the parenthesised list starting at toks[open] at its
// top-level commas; it returns the items and the index of the closing ")".
func splitItems(toks []sqlToken, open int) ([][]sqlToken, int) {
	var items [][]sqlToken
	depth, start := 0, open+1
	for i := open; i < len(toks); i++ {
		t := toks[i]
		if t.kind != 'p' {
			continue
		}
		switch t.val {
		case "(":
			depth++
		case ")":
			depth--
			if depth == 0 {
				return append(items, toks[start:i]), i
			}
		case ",":
			if depth == 1 {
				items = append(items, toks[start:i])
				start = i + 1
			}
		}
	}
	return append(items, toks[start:]), len(toks)
}

// columnDecl returns the declared type at the start of a column's tokens
// (after its name): words and parenthesised modifiers up to the first
// constraint keyword or RowidMarker.
func columnDecl(src string, toks []sqlToken) string {
	end := -1
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.kind == 'p' && t.val == "(" {
			i = matchParen(toks, i)
			end = i
			continue
		}
		if t.kind != 'i' || isColumnConstraintWord(t) {
			break
		}
		end = i
	}
	if end < 0 {
		return ""
	}
	return src[toks[0].start:toks[end].end]
}

func isColumnConstraintWord(t sqlToken) bool {
	for _, kw := range []string{"CONSTRAINT", "PRIMARY", "NOT", "NULL", "UNIQUE", "CHECK", "DEFAULT",
		"COLLATE", "REFERENCES", "GENERATED", "AS"} {
		if t.word(kw) {
			return true
		}
	}
	return false
}

func isTableConstraintStart(t sqlToken) bool {
	for _, kw := range []string{"CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"} {
		if t.word(kw) {
			return true
		}
	}
	return false
}

// parseConstraints reads the constraints of a column (col set) or one table
// constraint (col nil). The column's type tokens are skipped on the way.
func (d *ddlTable) parseConstraints(src string, toks []sqlToken, col []string) {
	name := ""
	var nameTok span
	start := -1 // where the constraint being read starts (its CONSTRAINT keyword)
	at := func(i int) span { return span{start, toks[i].end} }
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if start < 0 {
			start = t.start
		}
		switch {
		case t.kind == 'm':
			d.rowidType = t.val
		case t.word("AUTOINCREMENT"):
			d.autoincrement = true
		case t.word("CONSTRAINT") && i+1 < len(toks):
			name, nameTok, start = toks[i+1].val, span{toks[i+1].start, toks[i+1].end}, t.start
			i++
			continue
		case t.word("PRIMARY"), t.word("UNIQUE"):
			c := ddlConstraint{name: name, kind: 'u', cols: col, nameTok: nameTok}
			if t.word("PRIMARY") {
				c.kind = 'p'
			}
			if col == nil {
				c.cols, i = parenNames(toks, i+1)
			} else {
				i = skipKeyOptions(toks, i)
			}
			c.text = at(min(i, len(toks)-1))
			d.constraints, name = append(d.constraints, c), ""
		case t.word("CHECK"):
			j := matchParen(toks, i+1)
			if j > i+1 {
				expr := src[toks[i+1].end:toks[j].start]
				d.constraints = append(d.constraints, ddlConstraint{name: name, kind: 'c', expr: strings.TrimSpace(expr),
					nameTok: nameTok, text: at(j)})
				i = j
			}
			name = ""
		case t.word("FOREIGN"):
			cols, j := parenNames(toks, i+1)
			col, i = cols, j
			continue
		case t.word("REFERENCES"):
			c, j := parseReferences(toks, i+1)
			c.name, c.cols, c.nameTok = name, col, nameTok
			c.text = at(min(j, len(toks)-1))
			d.constraints, name = append(d.constraints, c), ""
			i = j
		case t.kind == 'p' && t.val == "(":
			i = matchParen(toks, i) // type modifiers, DEFAULT (…), GENERATED … AS (…)
		}
		start, nameTok = -1, span{}
	}
}

// skipKeyOptions returns the index of the last token of a column's
// PRIMARY KEY or UNIQUE (at toks[i]): KEY, ASC/DESC and ON CONFLICT x
// belong to it; AUTOINCREMENT is read on its own.
func skipKeyOptions(toks []sqlToken, i int) int {
	for i+1 < len(toks) {
		switch n := toks[i+1]; {
		case n.word("KEY"), n.word("ASC"), n.word("DESC"):
			i++
		case n.word("ON") && i+3 < len(toks) && toks[i+2].word("CONFLICT"):
			i += 3
		default:
			return i
		}
	}
	return i
}

// matchParen returns the index of the ")" closing the "(" at toks[i], or i
// when toks[i] is not "(".
func matchParen(toks []sqlToken, i int) int {
	if i >= len(toks) || toks[i].kind != 'p' || toks[i].val != "(" {
		return i
	}
	depth := 0
	for j := i; j < len(toks); j++ {
		if toks[j].kind == 'p' {
			switch toks[j].val {
			case "(":
				depth++
			case ")":
				depth--
				if depth == 0 {
					return j
				}
			}
		}
	}
	return len(toks) - 1
}

// parenNames reads "(a, b DESC, …)" after KEY or UNIQUE (skipping a KEY
// keyword) and returns the first name of each element and the index of ")".
func parenNames(toks []sqlToken, i int) ([]string, int) {
	for i < len(toks) && toks[i].word("KEY") {
		i++
	}
	if i >= len(toks) || toks[i].val != "(" {
		return nil, i - 1
	}
	end := matchParen(toks, i)
	var names []string
	first := true
	for j := i + 1; j < end; j++ {
		switch {
		case toks[j].kind == 'p' && toks[j].val == ",":
			first = true
		case first && toks[j].ident():
			names = append(names, toks[j].val)
			first = false
		case toks[j].kind == 'p' && toks[j].val == "(":
			j = matchParen(toks, j)
		}
	}
	return names, end
}

// parseReferences reads "t [(cols)] [ON DELETE|UPDATE action] [MATCH x]
// [[NOT] DEFERRABLE [INITIALLY DEFERRED|IMMEDIATE]]" starting at the table.
func parseReferences(toks []sqlToken, i int) (ddlConstraint, int) {
	c := ddlConstraint{kind: 'f', onDelete: "NO ACTION", onUpdate: "NO ACTION"}
	if i >= len(toks) {
		return c, i
	}
	c.refTable = toks[i].val
	if i+1 < len(toks) && toks[i+1].val == "(" {
		c.refCols, i = parenNames(toks, i+1)
	}
	for i+1 < len(toks) {
		t := toks[i+1]
		switch {
		case t.word("ON") && i+2 < len(toks):
			action, n := readAction(toks[i+3:])
			if toks[i+2].word("DELETE") {
				c.onDelete = action
			} else {
				c.onUpdate = action
			}
			i += 2 + n
		case t.word("MATCH"):
			i += 2
		case t.word("NOT") && i+2 < len(toks) && toks[i+2].word("DEFERRABLE"):
			i += 2
		case t.word("DEFERRABLE"):
			c.deferrable = true
			i++
		case t.word("INITIALLY") && i+2 < len(toks):
			c.deferred = toks[i+2].word("DEFERRED")
			i += 2
		default:
			return c, i
		}
	}
	return c, i
}

// readAction reads a referential action and returns it with its token count.
func readAction(toks []sqlToken) (string, int) {
	if len(toks) == 0 {
		return "NO ACTION", 0
	}
	switch {
	case toks[0].word("CASCADE"):
		return "CASCADE", 1
	case toks[0].word("RESTRICT"):
		return "RESTRICT", 1
	case toks[0].word("SET") && len(toks) > 1:
		return "SET " + strings.ToUpper(toks[1].val), 2
	case toks[0].word("NO") && len(toks) > 1:
		return "NO ACTION", 2
	}
	return "NO ACTION", 1
}
