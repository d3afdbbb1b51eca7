package sqlengine

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/pgraft/pgraft/sqlengine/translate"
)

// schemaModel is what the rows of sqlite_schema alone tell, in PostgreSQL
// terms: constraints with their PostgreSQL names and OIDs, and indexes
// (SQLite's automatic ones renamed as PostgreSQL names them, plus the
// implicit primary-key index of a rowid table). loadSchema and the catalog
// views' helper functions both build it, so they agree on names and OIDs.
type schemaModel struct {
	viewTypes   map[string]map[string]string // view → column → PostgreSQL type, from its ViewTypesMarker
	tables      map[string]*modelTable
	indexes     map[uint32]*indexDef
	indexByName map[string]*indexDef // by SQLite name
}

// modelTable is one user table of the model.
type modelTable struct {
	row         schemaRow
	oid         uint32
	ddl         *ddlTable
	rowidPK     string // the rowid-alias primary key column, "" if none
	pkIndexOID  uint32
	constraints []constraintDef
}

// constraintDef is one pg_constraint row.
type constraintDef struct {
	oid        uint32
	name       string
	kind       byte // 'p', 'u', 'f', 'c'
	table      string
	tableOID   uint32
	cols       []string
	attnums    []int
	expr       string   // CHECK, SQLite text
	useCols    []string // columns a CHECK mentions (cols holds the one it is named after)
	refTable   string
	refOID     uint32
	refCols    []string
	refAttnums []int
	onDelete   string
	onUpdate   string
	deferrable bool
	deferred   bool
	indexOID   uint32 // the index behind a PRIMARY KEY or UNIQUE
}

// indexDef is one index in PostgreSQL terms.
type indexDef struct {
	oid        uint32
	name       string // PostgreSQL's name
	sqliteName string // "" for the implicit rowid primary key
	table      string
	tableOID   uint32
	unique     bool
	primary    bool
	constraint byte // 'p' or 'u' when a constraint owns the index, else 0
	cols       []indexColumn
	where      string
}

// indexColumn is one key of an index.
type indexColumn struct {
	name   string // column name, or the expression text when expr
	attnum int    // 0 for an expression
	desc   bool
	expr   bool
}

func buildSchemaModel(rows []schemaRow) *schemaModel {
	m := &schemaModel{tables: map[string]*modelTable{}, indexes: map[uint32]*indexDef{}, indexByName: map[string]*indexDef{}}
	rowByName := map[string]schemaRow{}
	for _, r := range rows {
		rowByName[r.name] = r
		if r.typ == "view" {
			if types := viewTypes(r.sql); types != nil {
				if m.viewTypes == nil {
					m.viewTypes = map[string]map[string]string{}
				}
				m.viewTypes[r.name] = types
			}
		}
		if r.typ == "table" && !isInternalName(r.name) {
			if d := parseCreateTable(r.sql); d != nil {
				m.tables[r.name] = &modelTable{row: r, oid: uint32(oidFirstUser + r.rowid), ddl: d}
			}
		}
	}
	for _, t := range m.tables {
		m.addConstraints(t, rowByName)
	}
	for _, t := range m.tables {
		m.linkForeignKeyIndexes(t)
	}
	for _, r := range rows {
		if t := m.tables[r.tblName]; r.typ == "index" && t != nil && r.sql != "" {
			d := parseCreateIndex(r.sql, t)
			d.oid, d.sqliteName, d.table, d.tableOID = uint32(oidFirstUser+r.rowid), r.name, t.row.name, t.oid
			if d.name == "" {
				d.name = r.name
			}
			m.indexes[d.oid], m.indexByName[r.name] = d, d
		}
	}
	return m
}

// addConstraints names the table's constraints as PostgreSQL would, gives
// them OIDs and finds the indexes behind PRIMARY KEY and UNIQUE.
func (m *schemaModel) addConstraints(t *modelTable, rows map[string]schemaRow) {
	autoN := 0
	var seen [][]string
	names := constraintNames(t.row.name, t.ddl)
	for i, c := range t.ddl.constraints {
		cd := constraintDef{
			oid: uint32(oidConstraintBase + t.row.rowid<<8 + int64(i&0xff)), name: names[i], kind: c.kind,
			table: t.row.name, tableOID: t.oid, cols: c.cols, expr: c.expr, refTable: c.refTable,
			refCols: c.refCols, onDelete: c.onDelete, onUpdate: c.onUpdate,
			deferrable: c.deferrable, deferred: c.deferred,
		}
		if c.kind == 'c' {
			cd.cols = checkColumns(c.expr, t.ddl.columns)
		}
		cd.attnums = attnumsOf(t.ddl.columns, cd.cols)
		if c.kind == 'c' {
			cd.useCols = checkColumnsAll(c.expr, t.ddl.columns)
			cd.attnums = attnumsOf(t.ddl.columns, cd.useCols)
		}
		switch c.kind {
		case 'p', 'u':
			m.addConstraintIndex(t, &cd, rows, &autoN, &seen)
		case 'f':
			if ref, ok := rows[c.refTable]; ok {
				cd.refOID = uint32(oidFirstUser + ref.rowid)
				if rd := parseCreateTable(ref.sql); rd != nil {
					if cd.refCols == nil {
						cd.refCols = primaryKeyCols(rd)
					}
					cd.refAttnums = attnumsOf(rd.columns, cd.refCols)
				}
			}
		}
		t.constraints = append(t.constraints, cd)
	}
}

// constraintNames names a table's constraints (in d.constraints' order)
// as PostgreSQL would: the name written after CONSTRAINT, else
// PostgreSQL's generated one, made unique within the table.
func constraintNames(table string, d *ddlTable) []string {
	used := map[string]bool{}
	out := make([]string, len(d.constraints))
	for i, c := range d.constraints {
		name := c.name
		if name == "" {
			cols := c.cols
			if c.kind == 'c' {
				cols = checkColumns(c.expr, d.columns)
			}
			name = defaultConstraintName(table, c.kind, cols)
		}
		out[i] = uniqueName(name, used)
	}
	return out
}

// linkForeignKeyIndexes gives each foreign key of t the index it relies
// on, as PostgreSQL's conindid: the referenced table's PRIMARY KEY or
// UNIQUE index on exactly the referenced columns. pg_depend ties the key
// to it (catalog.go). Runs once every table's constraints are known.
func (m *schemaModel) linkForeignKeyIndexes(t *modelTable) {
	for i := range t.constraints {
		fk := &t.constraints[i]
		if fk.kind != 'f' {
			continue
		}
		ref := m.tables[fk.refTable]
		if ref == nil {
			continue
		}
		for _, c := range ref.constraints {
			if (c.kind == 'p' || c.kind == 'u') && c.indexOID != 0 && sameColumnSet(c.cols, fk.refCols) {
				fk.indexOID = c.indexOID
				break
			}
		}
	}
}

// sameColumnSet reports whether a and b name the same columns, in any
// order (identifiers compared as SQLite does, ignoring ASCII case).
func sameColumnSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.ContainsFunc(b, func(y string) bool { return strings.EqualFold(x, y) }) {
			return false
		}
	}
	return true
}

// addConstraintIndex links a PRIMARY KEY or UNIQUE to its index: the
// implicit one of a rowid primary key, or sqlite_autoindex_<table>_<n>,
// numbered like SQLite numbers them (a duplicate of an earlier key makes no
// index of its own).
func (m *schemaModel) addConstraintIndex(t *modelTable, cd *constraintDef, rows map[string]schemaRow, autoN *int, seen *[][]string) {
	idx := &indexDef{name: cd.name, table: t.row.name, tableOID: t.oid, unique: true, primary: cd.kind == 'p', constraint: cd.kind}
	for i, c := range cd.cols {
		idx.cols = append(idx.cols, indexColumn{name: c, attnum: cd.attnums[i]})
	}
	if cd.kind == 'p' && isRowidPK(t.ddl, cd.cols) {
		t.rowidPK = cd.cols[0]
		t.pkIndexOID = oidPKIndexBase + t.oid
		idx.oid = t.pkIndexOID
		cd.indexOID = idx.oid
		m.indexes[idx.oid] = idx
		return
	}
	for _, s := range *seen {
		if strings.Join(s, ",") == strings.Join(cd.cols, ",") {
			return
		}
	}
	*seen = append(*seen, cd.cols)
	*autoN++
	name := fmt.Sprintf("sqlite_autoindex_%s_%d", t.row.name, *autoN)
	if r, ok := rows[name]; ok {
		idx.oid, idx.sqliteName = uint32(oidFirstUser+r.rowid), name
		cd.indexOID = idx.oid
		m.indexes[idx.oid], m.indexByName[name] = idx, idx
	}
}

// viewRowidType is the PostgreSQL type of a view column SQLite declares
// "INTEGER": only a rowid-alias primary key has that declared type in
// pgraft's tables, and its type lives in a comment the view cannot see
// (RowidMarker). It is the type of the rowid key of that name, else the
// type every table's rowid key has; "" when neither tells.
func (m *schemaModel) viewRowidType(view, col, decl string) string {
	if !strings.EqualFold(strings.TrimSpace(decl), "INTEGER") {
		return ""
	}
	if typ := m.viewTypes[view][col]; typ != "" {
		return typ // the view says (views made before it did: the guess below)
	}
	byName, all := "", ""
	mixed := false
	for _, t := range m.tables {
		if t.rowidPK == "" || t.ddl.rowidType == "" {
			continue
		}
		if strings.EqualFold(t.rowidPK, col) {
			if byName != "" && byName != t.ddl.rowidType {
				byName, mixed = "", true
				break
			}
			byName = t.ddl.rowidType
		}
		if all == "" {
			all = t.ddl.rowidType
		} else if all != t.ddl.rowidType {
			all = "-"
		}
	}
	switch {
	case byName != "":
		return byName
	case !mixed && all != "-":
		return all
	}
	return ""
}

// isRowidPK reports whether a primary key makes its column the rowid alias:
// one column declared exactly INTEGER in a rowid table.
func isRowidPK(d *ddlTable, cols []string) bool {
	if d.withoutRowid || len(cols) != 1 {
		return false
	}
	for i, c := range d.columns {
		if strings.EqualFold(c, cols[0]) {
			return strings.EqualFold(strings.TrimSpace(d.decls[i]), "INTEGER")
		}
	}
	return false
}

func primaryKeyCols(d *ddlTable) []string {
	for _, c := range d.constraints {
		if c.kind == 'p' {
			return c.cols
		}
	}
	return nil
}

func attnumsOf(columns, names []string) []int {
	out := make([]int, 0, len(names))
	for _, n := range names {
		num := 0
		for i, c := range columns {
			if strings.EqualFold(c, n) {
				num = i + 1
				break
			}
		}
		out = append(out, num)
	}
	return out
}

// checkColumnsAll returns the distinct table columns a CHECK mentions.
func checkColumnsAll(expr string, columns []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, t := range tokenizeSQL(expr) {
		if t.kind != 'i' && t.kind != 'q' {
			continue
		}
		for _, c := range columns {
			if strings.EqualFold(c, t.val) && !seen[c] {
				seen[c] = true
				out = append(out, c)
			}
		}
	}
	return out
}

// checkColumns is what PostgreSQL names a CHECK after: its column when it
// mentions exactly one, else none.
func checkColumns(expr string, columns []string) []string {
	if cols := checkColumnsAll(expr, columns); len(cols) == 1 {
		return cols
	}
	return nil
}

// defaultConstraintName is PostgreSQL's ChooseConstraintName result before
// de-duplication: table_pkey, table_cols_key, table_cols_fkey,
// table_col_check or table_check.
func defaultConstraintName(table string, kind byte, cols []string) string {
	if kind == 'p' {
		return truncName(table + "_pkey")
	}
	suffix := map[byte]string{'u': "key", 'f': "fkey", 'c': "check"}[kind]
	parts := append([]string{table}, cols...)
	return truncName(strings.Join(append(parts, suffix), "_"))
}

// truncName cuts a name to PostgreSQL's 63 bytes.
func truncName(s string) string {
	if len(s) > 63 {
		return s[:63]
	}
	return s
}

func uniqueName(name string, used map[string]bool) string {
	n := name
	for i := 1; used[n]; i++ {
		n = name + strconv.Itoa(i)
	}
	used[n] = true
	return n
}

// parseCreateIndex reads CREATE [UNIQUE] INDEX … ON t (keys) [WHERE pred].
func parseCreateIndex(sql string, t *modelTable) *indexDef {
	d := &indexDef{}
	toks := tokenizeSQL(sql)
	on := -1
	for i, tk := range toks {
		if tk.word("UNIQUE") && on < 0 {
			d.unique = true
		}
		if tk.word("ON") {
			on = i
			break
		}
	}
	if on < 0 || on+2 >= len(toks) {
		return d
	}
	items, closeIdx := splitItems(toks, on+2)
	for _, it := range items {
		if len(it) == 0 {
			continue
		}
		d.cols = append(d.cols, indexKey(sql, it, t.ddl.columns))
	}
	for i := closeIdx + 1; i < len(toks); i++ {
		if toks[i].word("WHERE") && i+1 < len(toks) {
			d.where = pgExprText(sql[toks[i+1].start:])
			break
		}
	}
	return d
}

// indexKey reads one key of CREATE INDEX: a column or an expression, with
// ASC/DESC and COLLATE dropped from the text.
func indexKey(src string, it []sqlToken, columns []string) indexColumn {
	end := len(it)
	var k indexColumn
	for end > 0 {
		last := it[end-1]
		switch {
		case last.word("DESC"):
			k.desc = true
		case last.word("ASC"):
		default:
			if end >= 2 && it[end-2].word("COLLATE") {
				end--
				continue
			}
			goto done
		}
		end--
	}
done:
	if end == 0 {
		return k
	}
	text := src[it[0].start:it[end-1].end]
	if end == 1 && (it[0].kind == 'i' || it[0].kind == 'q') {
		k.name = it[0].val
		k.attnum = attnumsOf(columns, []string{k.name})[0]
		return k
	}
	k.name, k.expr = "("+pgExprText(text)+")", true
	return k
}

// pgExprText turns SQLite expression text into PostgreSQL's spelling where
// it is a matter of quoting: identifiers lose quotes they do not need.
func pgExprText(s string) string {
	var b strings.Builder
	pos := 0
	for _, t := range tokenizeSQL(s) {
		b.WriteString(s[pos:t.start])
		if t.kind == 'q' {
			b.WriteString(pgQuoteIdent(t.val))
		} else {
			b.WriteString(s[t.start:t.end])
		}
		pos = t.end
	}
	b.WriteString(s[pos:])
	return numericExprText(strings.TrimSpace(b.String()))
}

// numericIntConst is an integer that exact numeric's comparisons made
// numeric (translate/emit_numeric.go).
var numericIntConst = regexp.MustCompile(`pg_numeric\((\d+)\) COLLATE ` + NumericCollation)

// numericAssigned is a constant written to a numeric column (a DEFAULT):
// pg_numeric(1.5, typmod) is 1.5.
var numericAssigned = regexp.MustCompile(`pg_numeric\('?(-?[0-9.]+)'?, -?\d+\)`)

// numericCastConst is a constant cast to numeric: (pg_numeric(100, -1,
// 'int4')) is 100::numeric.
var numericCastConst = regexp.MustCompile(`\(pg_numeric\(('?-?[0-9.]+'?), -1, '\w*'\)\)`)

// numericExprText spells exact numeric's comparisons as PostgreSQL does:
// pg_numeric(0) COLLATE pg_numeric is 0::numeric, and the collation goes.
func numericExprText(s string) string {
	if !strings.Contains(s, "pg_numeric") {
		return s
	}
	s = numericAssigned.ReplaceAllString(s, "${1}")
	s = numericIntConst.ReplaceAllString(s, "${1}::numeric")
	s = strings.ReplaceAll(s, " COLLATE "+NumericCollation, "")
	return numericCastConst.ReplaceAllString(s, "${1}::numeric")
}

// info returns the IndexInfo of d.
func (d *indexDef) info() translate.IndexInfo {
	ii := translate.IndexInfo{Name: d.name, OID: d.oid, Unique: d.unique, Primary: d.primary, SQL: d.def(false, 0)}
	for _, c := range d.cols {
		ii.Columns = append(ii.Columns, c.name)
	}
	return ii
}

// def is pg_get_indexdef(oid, col, pretty): the whole CREATE INDEX when
// col is 0, else the text of key col. Only the pretty form leaves the
// (visible) table unqualified, as PostgreSQL does.
func (d *indexDef) def(pretty bool, col int) string {
	if col > 0 {
		if col > len(d.cols) {
			return ""
		}
		return d.cols[col-1].keyText(false)
	}
	var b strings.Builder
	b.WriteString("CREATE ")
	if d.unique {
		b.WriteString("UNIQUE ")
	}
	b.WriteString("INDEX " + pgQuoteIdent(d.name) + " ON ")
	if !pretty {
		b.WriteString("public.")
	}
	b.WriteString(pgQuoteIdent(d.table) + " USING btree (")
	for i, c := range d.cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c.keyText(true))
	}
	b.WriteString(")")
	if d.where != "" {
		b.WriteString(" WHERE (" + d.where + ")")
	}
	return b.String()
}

func (c indexColumn) keyText(withOrder bool) string {
	s := c.name
	if !c.expr {
		s = pgQuoteIdent(s)
	} else {
		s = indexExprText(s)
	}
	if withOrder && c.desc {
		s += " DESC"
	}
	return s
}

// def is pg_get_constraintdef(oid, pretty).
func (c *constraintDef) def(pretty bool) string {
	cols := quoteIdents(c.cols)
	switch c.kind {
	case 'p':
		return "PRIMARY KEY (" + cols + ")"
	case 'u':
		return "UNIQUE (" + cols + ")"
	case 'c':
		if pretty {
			return "CHECK (" + pgExprText(c.expr) + ")"
		}
		return "CHECK ((" + pgExprText(c.expr) + "))"
	}
	s := "FOREIGN KEY (" + cols + ") REFERENCES " + pgQuoteIdent(c.refTable) + "(" + quoteIdents(c.refCols) + ")"
	if c.onUpdate != "" && c.onUpdate != "NO ACTION" {
		s += " ON UPDATE " + c.onUpdate
	}
	if c.onDelete != "" && c.onDelete != "NO ACTION" {
		s += " ON DELETE " + c.onDelete
	}
	if c.deferrable {
		s += " DEFERRABLE"
	}
	if c.deferred {
		s += " INITIALLY DEFERRED"
	}
	return s
}

func quoteIdents(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = pgQuoteIdent(n)
	}
	return strings.Join(q, ", ")
}

// fkActionCode is pg_constraint.confupdtype/confdeltype for an action.
func fkActionCode(action string) string {
	switch action {
	case "CASCADE":
		return "c"
	case "RESTRICT":
		return "r"
	case "SET NULL":
		return "n"
	case "SET DEFAULT":
		return "d"
	}
	return "a"
}

// indexExprText prints an index expression as pg_get_indexdef does: a
// function call bare (lower(name)), anything else in one pair of
// parentheses ((a + 1)), however many the stored text had.
func indexExprText(s string) string {
	core := strings.TrimSpace(s)
	for len(core) >= 2 && core[0] == '(' && closingParen(core, 0) == len(core)-1 {
		core = strings.TrimSpace(core[1 : len(core)-1])
	}
	if i := strings.IndexByte(core, '('); i > 0 && isIdentText(core[:i]) && closingParen(core, i) == len(core)-1 {
		return core
	}
	return "(" + core + ")"
}

// closingParen returns the index of the parenthesis that closes the one at
// open, skipping quoted text; -1 if none.
func closingParen(s string, open int) int {
	depth := 0
	for i := open; i < len(s); i++ {
		switch s[i] {
		case '\'', '"':
			q := s[i]
			for i++; i < len(s) && s[i] != q; i++ {
			}
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

// isIdentText reports whether s is a (possibly qualified) plain name.
func isIdentText(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r == '.' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// viewTypes reads a CREATE VIEW text's ViewTypesMarker comment; nil when
// it has none.
func viewTypes(sql string) map[string]string {
	i := strings.Index(sql, translate.ViewTypesMarker)
	if i < 0 {
		return nil
	}
	rest := sql[i+len(translate.ViewTypesMarker):]
	end := strings.Index(rest, "*/")
	if end < 0 {
		return nil
	}
	var types map[string]string
	if err := json.Unmarshal([]byte(rest[:end]), &types); err != nil {
		return nil
	}
	return types
}
