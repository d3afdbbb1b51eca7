package sqlengine

import (
	"context"
	"strconv"
	"strings"

	"github.com/pgraft/pgraft/pgvalue"
	"github.com/pgraft/pgraft/pgwire/pgerror"
	"github.com/pgraft/pgraft/sqlengine/translate"
)

// A unique violation as PostgreSQL reports it:
//
//	duplicate key value violates unique constraint "items_pkey"
//	DETAIL: Key (id)=(1) already exists.
//
// SQLite's message names only the table and the columns ("UNIQUE
// constraint failed: items.id"). The constraint's name comes from the
// schema as the statement's own connection sees it (the schema model the
// catalog uses, so \d and the error agree), and the key's values from a
// probe: for an INSERT, a read-only query over the statement's own rows
// finds the first one whose key is already in the table or earlier in the
// statement, the row PostgreSQL stops at. Both depend only on the
// statement and the database at that point of the log, so every node
// reports the same text (it is part of an entry's result); the probe runs
// under what is left of the statement's work budget and, being a query, is
// stopped without touching the transaction. Where no probe applies
// (UPDATE … FROM, a key the INSERT does not list) the DETAIL has no values.

// describeUnique rewrites a unique violation's constraint name, message
// and DETAIL. The caller holds the write connection; q and args are the
// failed statement.
func (e *Engine) describeUnique(ctx context.Context, q string, args []any, pe *pgerror.Error) *pgerror.Error {
	table, cols := pe.Table, uniqueColumns(pe)
	if table == "" || len(cols) == 0 {
		return pe
	}
	m := e.currentModel(ctx)
	t := m.tables[table]
	if t == nil {
		return pe
	}
	if name := uniqueIndexName(m, table, cols); name != "" {
		pe.Constraint = name
		pe.Message = "duplicate key value violates unique constraint \"" + name + "\""
	}
	if vals, ok := e.probeDuplicate(ctx, q, args, t, cols); ok {
		pe.Detail = "Key (" + strings.Join(cols, ", ") + ")=(" + strings.Join(vals, ", ") + ") already exists."
	}
	return pe
}

// currentModel is the schema model as the write connection sees it now,
// the statement's own transaction included (empty if it cannot be read).
func (e *Engine) currentModel(ctx context.Context) *schemaModel {
	var rows []schemaRow
	err := e.withInternal(func() (err error) {
		rows, err = readSchemaRows(ctx, e.wconn)
		return err
	})
	if err != nil {
		rows = nil
	}
	return buildSchemaModel(rows)
}

// describeForeignKey names the foreign key an INSERT broke and the key it
// did not find, as PostgreSQL does:
//
//	insert or update on table "c" violates foreign key constraint "c_pid_fkey"
//	DETAIL: Key (pid)=(5) is not present in table "p".
//
// SQLite says only "FOREIGN KEY constraint failed"; a probe like
// probeDuplicate's finds the first row of the INSERT whose key is in no
// row of the referenced table. Other statements keep SQLite's message.
func (e *Engine) describeForeignKey(ctx context.Context, q string, args []any, pe *pgerror.Error) *pgerror.Error {
	table := insertTable(q)
	if table == "" {
		return pe
	}
	m := e.currentModel(ctx)
	t := m.tables[table]
	if t == nil {
		return pe
	}
	target, source, ok := splitInsert(q, t)
	if !ok {
		return pe
	}
	for _, c := range t.constraints {
		if c.kind != 'f' || c.deferred || len(c.refCols) != len(c.cols) {
			continue
		}
		vals, ok := e.probeMissingKey(ctx, source, args, target, c)
		if !ok {
			continue
		}
		return &pgerror.Error{Code: pgerror.ForeignKeyViolation, Table: table, Constraint: c.name,
			Message: "insert or update on table \"" + table + "\" violates foreign key constraint \"" + c.name + "\"",
			Detail:  "Key (" + strings.Join(c.cols, ", ") + ")=(" + strings.Join(vals, ", ") + ") is not present in table \"" + c.refTable + "\"."}
	}
	return pe
}

// probeMissingKey finds the first row of an INSERT's source whose foreign
// key (all columns non-NULL) matches no row of the referenced table.
func (e *Engine) probeMissingKey(ctx context.Context, source string, args []any, target []string, c constraintDef) ([]string, bool) {
	pos := make([]int, len(c.cols))
	for i, k := range c.cols {
		pos[i] = -1
		for j, col := range target {
			if strings.EqualFold(col, k) {
				pos[i] = j
			}
		}
		if pos[i] < 0 {
			return nil, false // the key gets a default: no probe
		}
	}
	names := make([]string, len(target))
	for i := range target {
		names[i] = "c" + strconv.Itoa(i+1)
	}
	var notNull, match, out []string
	for i, k := range c.refCols {
		col := `n."c` + strconv.Itoa(pos[i]+1) + `"`
		notNull = append(notNull, col+" IS NOT NULL")
		match = append(match, "x."+translate.QuoteIdent(k)+" = "+col)
		out = append(out, col)
	}
	probe := `WITH "pg_src"(` + strings.Join(names, ", ") + `) AS (` + source + `), ` +
		`"pg_num" AS (SELECT row_number() OVER () AS "pg_rn", * FROM "pg_src") ` +
		`SELECT ` + strings.Join(out, ", ") + ` FROM "pg_num" n WHERE ` + strings.Join(notNull, " AND ") +
		` AND NOT EXISTS (SELECT 1 FROM ` + translate.QuoteIdent(c.refTable) + ` x WHERE ` + strings.Join(match, " AND ") +
		`) ORDER BY n."pg_rn" LIMIT 1`
	return e.probeRow(ctx, probe, args, len(c.cols), func(i int) *translate.PGType { return nil })
}

// hasSideEffects reports whether a probe would call a function that
// changes state when called again (a sequence's nextval or setval): the
// probe re-evaluates the statement's own expressions, so it is skipped.
func hasSideEffects(probe string) bool {
	p := strings.ToLower(probe)
	return strings.Contains(p, "nextval") || strings.Contains(p, "setval")
}

// insertTable is the table a translated INSERT writes, "" for any other
// statement.
func insertTable(q string) string {
	toks := tokenizeSQL(q)
	for i := 0; i+1 < len(toks) && i < 4; i++ {
		if !toks[0].word("INSERT") {
			return ""
		}
		if toks[i].word("INTO") && toks[i+1].ident() {
			return toks[i+1].val
		}
	}
	return ""
}

// uniqueColumns reads the key's columns back from the DETAIL MapError wrote.
func uniqueColumns(pe *pgerror.Error) []string {
	d, ok := strings.CutPrefix(pe.Detail, "Key (")
	if !ok {
		return nil
	}
	d, ok = strings.CutSuffix(d, ") already exists.")
	if !ok {
		return nil
	}
	return strings.Split(d, ", ")
}

// uniqueIndexName is the PostgreSQL name of the unique index (or the
// constraint owning it) on exactly these columns: a primary key first,
// then a UNIQUE constraint, then a unique index.
func uniqueIndexName(m *schemaModel, table string, cols []string) string {
	best, rank := "", 0
	for _, d := range m.indexes {
		if d.table != table || !d.unique || d.where != "" || len(d.cols) != len(cols) {
			continue
		}
		same := true
		for i, c := range d.cols {
			same = same && !c.expr && strings.EqualFold(c.name, cols[i])
		}
		if !same {
			continue
		}
		r := 1
		switch {
		case d.primary:
			r = 3
		case d.constraint == 'u':
			r = 2
		}
		if r > rank || r == rank && d.name < best {
			best, rank = d.name, r
		}
	}
	return best
}

// probeDuplicate finds the values of the first duplicate key an INSERT
// writes, as PostgreSQL prints them.
func (e *Engine) probeDuplicate(ctx context.Context, q string, args []any, t *modelTable, key []string) ([]string, bool) {
	if u, ok := splitUpdate(q); ok {
		return e.probeUpdatedDuplicate(ctx, u, args, t, key)
	}
	target, source, ok := splitInsert(q, t)
	if !ok {
		return nil, false
	}
	pos := make([]int, len(key))
	for i, k := range key {
		pos[i] = -1
		for j, c := range target {
			if strings.EqualFold(c, k) {
				pos[i] = j
			}
		}
		if pos[i] < 0 {
			return nil, false // the key gets a default: no probe
		}
	}
	names := make([]string, len(target))
	for i := range target {
		names[i] = "c" + strconv.Itoa(i+1)
	}
	var inTable, earlier, out []string
	for i, k := range key {
		c := `n."c` + strconv.Itoa(pos[i]+1) + `"`
		inTable = append(inTable, "x."+translate.QuoteIdent(k)+" = "+c)
		earlier = append(earlier, `m."c`+strconv.Itoa(pos[i]+1)+`" = `+c)
		out = append(out, c)
	}
	probe := `WITH "pg_src"(` + strings.Join(names, ", ") + `) AS (` + source + `), ` +
		`"pg_num" AS (SELECT row_number() OVER () AS "pg_rn", * FROM "pg_src") ` +
		`SELECT ` + strings.Join(out, ", ") + ` FROM "pg_num" n WHERE EXISTS (SELECT 1 FROM ` +
		translate.QuoteIdent(t.row.name) + ` x WHERE ` + strings.Join(inTable, " AND ") + `) OR EXISTS (SELECT 1 FROM "pg_num" m WHERE m."pg_rn" < n."pg_rn" AND ` +
		strings.Join(earlier, " AND ") + `) ORDER BY n."pg_rn" LIMIT 1`
	return e.probeRow(ctx, probe, args, len(key), func(i int) *translate.PGType { return keyType(t, key[i]) })
}

// probeRow runs a probe under the statement's budget and prints the first
// row's n values as PostgreSQL's output functions would (typ gives each
// column's type, nil when unknown); ok is false when there is none or the
// probe failed.
func (e *Engine) probeRow(ctx context.Context, probe string, args []any, n int, typ func(int) *translate.PGType) ([]string, bool) {
	if hasSideEffects(probe) {
		return nil, false
	}
	e.wauth.beginClient(probe)
	rs, err := e.wconn.QueryContext(ctx, probe, args...)
	if err != nil {
		return nil, false
	}
	defer rs.Close()
	if !rs.Next() {
		return nil, false
	}
	vals := make([]any, n)
	ptrs := make([]any, n)
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if rs.Scan(ptrs...) != nil {
		return nil, false
	}
	text := make([]string, n)
	for i, v := range vals {
		text[i] = keyText(v, typ(i))
	}
	return text, true
}

// updateParts is what a probe needs of a translated single-table UPDATE.
type updateParts struct {
	table, alias string
	set          map[string]string // column (lower case) → new value's SQL
	where        string            // "" when there is none
}

// splitUpdate reads UPDATE t [AS a] SET c = e, … [WHERE …] [RETURNING …];
// ok is false for anything else (FROM, row-valued SET, ORDER BY, LIMIT).
func splitUpdate(q string) (updateParts, bool) {
	toks := tokenizeSQL(q)
	var u updateParts
	if len(toks) < 5 || !toks[0].word("UPDATE") {
		return u, false
	}
	i := 1
	if toks[i].word("OR") {
		i += 2
	}
	if i >= len(toks) || !toks[i].ident() {
		return u, false
	}
	u.table = toks[i].val
	i++
	if i < len(toks) && toks[i].word("AS") {
		i++
	}
	if i < len(toks) && toks[i].ident() && !toks[i].word("SET") {
		u.alias = toks[i].val
		i++
	}
	if i >= len(toks) || !toks[i].word("SET") {
		return u, false
	}
	u.set = map[string]string{}
	i++
	for {
		if i+2 >= len(toks) || !toks[i].ident() || toks[i+1].val != "=" {
			return u, false
		}
		col := strings.ToLower(toks[i].val)
		start, depth, j := toks[i+2].start, 0, i+2
		end := len(q)
		for ; j < len(toks); j++ {
			tk := toks[j]
			switch {
			case tk.kind == 'p' && tk.val == "(":
				depth++
			case tk.kind == 'p' && tk.val == ")":
				depth--
			case depth == 0 && (tk.kind == 'p' && tk.val == "," || tk.word("WHERE") || tk.word("RETURNING") ||
				tk.word("FROM") || tk.word("ORDER") || tk.word("LIMIT")):
				end = tk.start
			}
			if end != len(q) {
				break
			}
		}
		u.set[col] = strings.TrimSpace(q[start:end])
		if j >= len(toks) {
			return u, true
		}
		switch {
		case toks[j].val == ",":
			i = j + 1
			continue
		case toks[j].word("RETURNING"):
			return u, true
		case toks[j].word("WHERE"):
			wstart, wend, depth := toks[j].end, len(q), 0
			for k := j + 1; k < len(toks); k++ {
				switch {
				case toks[k].kind == 'p' && toks[k].val == "(":
					depth++
				case toks[k].kind == 'p' && toks[k].val == ")":
					depth--
				case depth == 0 && (toks[k].word("RETURNING") || toks[k].word("ORDER") || toks[k].word("LIMIT")):
					if !toks[k].word("RETURNING") {
						return u, false
					}
					wend, k = toks[k].start, len(toks)
				}
			}
			u.where = strings.TrimSpace(q[wstart:wend])
			return u, true
		}
		return u, false
	}
}

// probeUpdatedDuplicate finds the first row an UPDATE changes (in rowid
// order, the order it writes them) whose new key is still held by a row it
// has not reached yet or was given to a row before it.
func (e *Engine) probeUpdatedDuplicate(ctx context.Context, u updateParts, args []any, t *modelTable, key []string) ([]string, bool) {
	if t.ddl.withoutRowid {
		return nil, false
	}
	from := translate.QuoteIdent(u.table)
	if u.alias != "" {
		from += " AS " + translate.QuoteIdent(u.alias)
	}
	self := translate.QuoteIdent(u.table)
	if u.alias != "" {
		self = translate.QuoteIdent(u.alias)
	}
	newKey := make([]string, len(key))
	var inTable, earlier, out []string
	for i, k := range key {
		newKey[i] = self + "." + translate.QuoteIdent(k)
		if expr, ok := u.set[strings.ToLower(k)]; ok {
			newKey[i] = "(" + expr + ")"
		}
		newKey[i] += ` AS "k` + strconv.Itoa(i+1) + `"`
		c := `u."k` + strconv.Itoa(i+1) + `"`
		inTable = append(inTable, "x."+translate.QuoteIdent(k)+" = "+c)
		earlier = append(earlier, `m."k`+strconv.Itoa(i+1)+`" = `+c)
		out = append(out, c)
	}
	where := ""
	if u.where != "" {
		where = " WHERE " + u.where
	}
	probe := `WITH "pg_upd" AS (SELECT ` + self + `.rowid AS "pg_rid", ` + strings.Join(newKey, ", ") + ` FROM ` + from + where + `) ` +
		`SELECT ` + strings.Join(out, ", ") + ` FROM "pg_upd" u WHERE EXISTS (SELECT 1 FROM ` + translate.QuoteIdent(u.table) +
		` x WHERE ` + strings.Join(inTable, " AND ") + ` AND x.rowid <> u."pg_rid" AND (x.rowid > u."pg_rid" OR x.rowid NOT IN (SELECT "pg_rid" FROM "pg_upd")))` +
		` OR EXISTS (SELECT 1 FROM "pg_upd" m WHERE m."pg_rid" < u."pg_rid" AND ` + strings.Join(earlier, " AND ") + `) ORDER BY u."pg_rid" LIMIT 1`
	return e.probeRow(ctx, probe, args, len(key), func(i int) *translate.PGType { return keyType(t, key[i]) })
}

// keyType is a column's PostgreSQL type, nil when unknown.
func keyType(t *modelTable, col string) *translate.PGType {
	for i, c := range t.ddl.columns {
		if strings.EqualFold(c, col) {
			if t.rowidPK != "" && strings.EqualFold(t.rowidPK, col) && t.ddl.rowidType != "" {
				return translate.TypeByName(t.ddl.rowidType)
			}
			return translate.TypeByDecl(t.ddl.decls[i])
		}
	}
	return nil
}

// keyText prints a key value as PostgreSQL's output function would.
func keyText(v any, typ *translate.PGType) string {
	if b, ok := v.([]byte); ok {
		v = string(b)
	}
	switch x := v.(type) {
	case nil:
		return "null"
	case int64:
		if typ != nil && typ.OID == pgvalue.OIDBool {
			if x != 0 {
				return "t"
			}
			return "f"
		}
		return strconv.FormatInt(x, 10)
	case float64:
		return pgvalue.FormatFloat8(x)
	}
	if inf, ok := storedInfinity(v); ok && typ != nil && isDatetimeType(typ.Name) {
		return inf.String()
	}
	if t, ok := parseTimetzStorage(v); ok && typ != nil && typ.OID == pgvalue.OIDTimetz {
		return string(pgvalue.AppendTimetz(nil, t))
	}
	return asString(v)
}

// splitInsert reads a translated INSERT: its target columns (the table's
// own, in order, when it lists none) and the text of its VALUES or SELECT.
func splitInsert(q string, t *modelTable) ([]string, string, bool) {
	toks := tokenizeSQL(q)
	i := 0
	if len(toks) < 4 || !toks[0].word("INSERT") {
		return nil, "", false
	}
	for i < len(toks) && !toks[i].word("INTO") {
		i++
	}
	i += 2 // INTO and the table
	if i < len(toks) && toks[i].word("AS") {
		i += 2
	}
	if i >= len(toks) {
		return nil, "", false
	}
	target := t.ddl.columns
	if toks[i].val == "(" && toks[i].kind == 'p' {
		names, next := parenNames(toks, i)
		if next <= i {
			return nil, "", false
		}
		target, i = names, next+1
	}
	if i >= len(toks) || !(toks[i].word("VALUES") || toks[i].word("SELECT") || toks[i].word("WITH")) {
		return nil, "", false
	}
	start, end, depth := toks[i].start, len(q), 0
	for j := i; j < len(toks); j++ {
		switch {
		case toks[j].kind == 'p' && toks[j].val == "(":
			depth++
		case toks[j].kind == 'p' && toks[j].val == ")":
			depth--
		case depth == 0 && (toks[j].word("RETURNING") || toks[j].word("ON") && j+1 < len(toks) && toks[j+1].word("CONFLICT")):
			end = toks[j].start
			j = len(toks)
		}
	}
	return target, strings.TrimSpace(q[start:end]), true
}
