package translate

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/pgraft/pgraft/pgvalue"
	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// CREATE TABLE and its column definitions. Columns are declared with the
// PostgreSQL type's SQLite declared type (types.go), except the integer
// single-column PRIMARY KEY, which must be declared INTEGER to be SQLite's
// rowid alias and keeps its type in a RowidMarker comment.

// ddlStatement dispatches the DDL statements; nil when n is not DDL.
func (t *translator) ddlStatement(n *pg.Node) *Stmt {
	switch v := n.GetNode().(type) {
	case *pg.Node_CreateStmt:
		if t.namesSequence(v.CreateStmt.Relation, v.CreateStmt.IfNotExists) { // sequence.go
			return &Stmt{Kind: KindNoop, Tag: "CREATE TABLE"} // PostgreSQL's NOTICE: already exists, skipping
		}
		return t.createTable(v.CreateStmt)
	case *pg.Node_IndexStmt:
		return t.createIndex(v.IndexStmt)
	case *pg.Node_DropStmt:
		if v.DropStmt.RemoveType == pg.ObjectType_OBJECT_SEQUENCE {
			return t.dropSequence(v.DropStmt) // sequence.go
		}
		t.dropNotSequence(v.DropStmt) // sequence.go
		return t.dropOwned(v.DropStmt, t.dropStatement(v.DropStmt))
	case *pg.Node_AlterTableStmt:
		if v.AlterTableStmt.Objtype == pg.ObjectType_OBJECT_SEQUENCE {
			return t.alterSequenceTable(v.AlterTableStmt)
		}
		return t.alterTable(v.AlterTableStmt)
	case *pg.Node_RenameStmt:
		if v.RenameStmt.RenameType == pg.ObjectType_OBJECT_SEQUENCE {
			return t.renameSequence(v.RenameStmt)
		}
		return t.renameOwner(v.RenameStmt, t.renameStatement(v.RenameStmt)) // sequence.go
	case *pg.Node_CreateSeqStmt:
		return t.createSequence(v.CreateSeqStmt)
	case *pg.Node_AlterSeqStmt:
		return t.alterSequence(v.AlterSeqStmt)
	case *pg.Node_AlterObjectSchemaStmt:
		return t.setSchema(v.AlterObjectSchemaStmt)
	case *pg.Node_ConstraintsSetStmt:
		return t.setConstraints(v.ConstraintsSetStmt)
	case *pg.Node_ViewStmt:
		return t.createView(v.ViewStmt)
	case *pg.Node_CreateSchemaStmt:
		return t.createSchema(v.CreateSchemaStmt)
	case *pg.Node_CreateExtensionStmt:
		return t.createExtension(v.CreateExtensionStmt)
	case *pg.Node_CommentStmt:
		return &Stmt{Kind: KindNoop, Tag: "COMMENT"}
	case *pg.Node_VacuumStmt:
		return t.analyze(v.VacuumStmt)
	}
	return nil
}

// tableDef collects what CREATE TABLE needs across its elements.
type tableDef struct {
	name    string
	pkCols  []string        // the PRIMARY KEY columns, wherever declared
	rowid   string          // the column that becomes the rowid alias, if any
	notNull map[string]bool // columns a PRIMARY KEY makes NOT NULL
	seqs    []*SequenceSpec // the sequences of serial and identity columns
}

// createTable translates CREATE TABLE.
func (t *translator) createTable(s *pg.CreateStmt) *Stmt {
	t.write = true
	name := t.relationName(s.Relation)
	switch {
	case len(s.InhRelations) > 0:
		t.unsupported("INHERITS")
	case s.Partspec != nil:
		t.unsupported("PARTITION BY")
	case s.Partbound != nil:
		t.unsupported("PARTITION OF")
	case s.OfTypename != nil:
		t.unsupported("CREATE TABLE OF type")
	case s.Tablespacename != "":
		t.unsupported("TABLESPACE")
	case s.AccessMethod != "":
		t.unsupported("USING access method")
	}
	t.tableStorageParams(s.Options) // reloptions.go: checked, then ignored
	def := t.tableShape(name, s)
	t.pushScope()
	defer t.popScope()
	t.scope.rels = append(t.scope.rels, columnDefsEntry(name, s.TableElts))
	var parts []string
	for _, e := range s.TableElts {
		switch v := e.GetNode().(type) {
		case *pg.Node_ColumnDef:
			parts = append(parts, t.columnDef(v.ColumnDef, def))
		case *pg.Node_Constraint:
			if c := t.tableConstraint(v.Constraint, def); c != "" {
				parts = append(parts, c)
			}
		case *pg.Node_TableLikeClause:
			t.unsupported("CREATE TABLE … LIKE")
		default:
			t.unsupported("this CREATE TABLE element")
		}
	}
	head := "CREATE TABLE "
	if s.IfNotExists {
		head += "IF NOT EXISTS "
	}
	sql := head + QuoteIdent(name) + " (" + strings.Join(parts, ", ") + ")"
	st := &Stmt{Kind: KindDDL, Tag: "CREATE TABLE", SQL: sql}
	for _, spec := range def.seqs {
		spec.IfNotExists = s.IfNotExists
		st.Post = append(st.Post, t.seqSpecSQL(spec))
	}
	return st
}

// columnDefsEntry types the columns being created, for CHECK and DEFAULT.
func columnDefsEntry(name string, elts []*pg.Node) *relEntry {
	r := &relEntry{name: name, known: true}
	for _, e := range elts {
		if cd := e.GetColumnDef(); cd != nil {
			typ := TypeByName(lastName(cd.TypeName.Names))
			r.cols = append(r.cols, colInfo{name: cd.Colname, typ: xtype{t: typ, mod: -1}})
		}
	}
	return r
}

// tableShape finds the primary key and decides the rowid column.
func (t *translator) tableShape(name string, s *pg.CreateStmt) *tableDef {
	def := &tableDef{name: name, notNull: map[string]bool{}}
	types := map[string]*pg.TypeName{}
	pks := 0
	for _, e := range s.TableElts {
		if cd := e.GetColumnDef(); cd != nil {
			types[cd.Colname] = cd.TypeName
			for _, c := range cd.Constraints {
				if c.GetConstraint().GetContype() == pg.ConstrType_CONSTR_PRIMARY {
					def.pkCols = append(def.pkCols, cd.Colname)
					pks++
				}
			}
		}
		if c := e.GetConstraint(); c != nil && c.Contype == pg.ConstrType_CONSTR_PRIMARY {
			def.pkCols = append(def.pkCols, nameList(c.Keys)...)
			pks++
		}
	}
	if pks > 1 {
		t.fail(pgerror.New("42P16", "multiple primary keys for table \"%s\" are not allowed", name))
	}
	if len(def.pkCols) > 1 || len(def.pkCols) == 1 && types[def.pkCols[0]] == nil {
		for _, c := range def.pkCols {
			def.notNull[c] = true
		}
		return def
	}
	if len(def.pkCols) == 1 {
		tn := types[def.pkCols[0]]
		if typ := TypeByName(lastName(tn.Names)); typ != nil && len(tn.ArrayBounds) == 0 &&
			(typ.OID == pgvalue.OIDInt2 || typ.OID == pgvalue.OIDInt4 || typ.OID == pgvalue.OIDInt8) {
			def.rowid = def.pkCols[0]
		} else {
			def.notNull[def.pkCols[0]] = true
		}
	}
	return def
}

// isSerial reports whether a column type is serial/bigserial/smallserial.
func isSerial(tn *pg.TypeName) bool {
	switch lastName(tn.Names) {
	case "serial", "serial4", "bigserial", "serial8", "smallserial", "serial2":
		return len(tn.Names) == 1 || strVal(tn.Names[0]) == "pg_catalog"
	}
	return false
}

// columnDecl is the declared type of a (non-rowid) column.
func (t *translator) columnDecl(tn *pg.TypeName) (string, xtype) {
	if len(tn.ArrayBounds) > 0 {
		t.unsupported("array columns")
	}
	typ, mod := t.lookupType(tn)
	if typ.Decl == "" {
		t.unsupported("columns of type %s", typ.SQLName)
	}
	decl := typ.Decl
	if len(tn.Typmods) > 0 && mod >= 0 {
		mods := make([]string, len(tn.Typmods))
		for i, m := range tn.Typmods {
			v, _ := constInt(m)
			mods[i] = itoaTr(int(v))
		}
		decl += "(" + strings.Join(mods, ",") + ")"
	}
	if typ.OID == pgvalue.OIDNumeric {
		decl += " COLLATE " + NumericCollation
	}
	return decl, xtype{t: typ, mod: mod}
}

// columnDef emits one column definition.
func (t *translator) columnDef(cd *pg.ColumnDef, def *tableDef) string {
	if cd.CollClause != nil {
		t.checkCollation(cd.CollClause.Collname)
	}
	seq := t.serialColumn(cd, def) // sequence.go; nil for an ordinary column
	out := alwaysQuote(cd.Colname) + " "
	var colType xtype
	if cd.Colname == def.rowid {
		typ, _ := t.lookupType(cd.TypeName)
		colType = xtype{t: typ, mod: -1}
		out += "INTEGER " + RowidMarker + typ.Name + "*/ PRIMARY KEY NOT NULL"
	} else {
		decl, x := t.columnDecl(cd.TypeName)
		out += decl
		colType = x
		if def.notNull[cd.Colname] || seq != nil {
			out += " NOT NULL"
		}
	}
	if seq != nil {
		out += " DEFAULT (" + NextvalFunc + "(" + t.quoteString(seq.Name) + "))"
	}
	if cd.IsNotNull && !strings.Contains(out, "NOT NULL") {
		out += " NOT NULL"
	}
	for _, c := range cd.Constraints {
		if s := t.columnConstraint(c.GetConstraint(), cd.Colname, def, colType); s != "" {
			out += " " + s
		}
	}
	return out + rangeCheck(cd.Colname, colType)
}

// rangeCheck keeps int2 and int4 columns within their PostgreSQL range:
// SQLite stores any 64-bit integer. The constraint's name marks it for
// sqlengine/errors.go, which reports a violation as 22003 like PostgreSQL's
// "integer out of range", and for the catalog, which hides it.
func rangeCheck(col string, x xtype) string {
	if x.t == nil {
		return ""
	}
	var lo, hi int64
	switch x.t.OID {
	case pgvalue.OIDInt2:
		lo, hi = -32768, 32767
	case pgvalue.OIDInt4:
		lo, hi = -2147483648, 2147483647
	default:
		return ""
	}
	return fmt.Sprintf(" CONSTRAINT %s CHECK (%s BETWEEN %d AND %d)",
		alwaysQuote(RangeCheckPrefix+x.t.Name+"_"+col), alwaysQuote(col), lo, hi)
}

// RangeCheckPrefix starts the name of the constraints rangeCheck adds;
// sqlengine/errors.go reports their violations as 22003.
const RangeCheckPrefix = "pgraft_range_"

// columnConstraint emits one column constraint ("" when absorbed).
func (t *translator) columnConstraint(c *pg.Constraint, col string, def *tableDef, colType xtype) string {
	name := ""
	if c.Conname != "" {
		name = "CONSTRAINT " + QuoteIdent(c.Conname) + " "
	}
	switch c.Contype {
	case pg.ConstrType_CONSTR_NULL, pg.ConstrType_CONSTR_IDENTITY:
		return ""
	case pg.ConstrType_CONSTR_NOTNULL:
		if col == def.rowid || def.notNull[col] {
			return ""
		}
		return name + "NOT NULL"
	case pg.ConstrType_CONSTR_DEFAULT:
		v, x := t.expr(c.RawExpr)
		if x.unknown && colType.t != nil && colType.t.Category == 'S' {
			return name + "DEFAULT (" + v + ")" // a constant SQLite can keep (ADD COLUMN needs one)
		}
		return name + "DEFAULT (" + t.assignCoerce(v, x, colType) + ")"
	case pg.ConstrType_CONSTR_PRIMARY:
		t.indexStorageParams(c.Options)
		if col == def.rowid {
			return ""
		}
		return name + "PRIMARY KEY"
	case pg.ConstrType_CONSTR_GENERATED:
		v, _ := t.expr(c.RawExpr)
		return name + "GENERATED ALWAYS AS (" + v + ") STORED"
	case pg.ConstrType_CONSTR_ATTR_DEFERRABLE:
		return "DEFERRABLE"
	case pg.ConstrType_CONSTR_ATTR_NOT_DEFERRABLE:
		return "NOT DEFERRABLE"
	case pg.ConstrType_CONSTR_ATTR_DEFERRED:
		return "INITIALLY DEFERRED"
	case pg.ConstrType_CONSTR_ATTR_IMMEDIATE:
		return "INITIALLY IMMEDIATE"
	}
	return name + t.sharedConstraint(c)
}

// sharedConstraint emits UNIQUE, CHECK and REFERENCES, which read the same
// at column and table level.
func (t *translator) sharedConstraint(c *pg.Constraint) string {
	if c.SkipValidation {
		t.unsupported("NOT VALID")
	}
	if len(c.Including) > 0 || c.Indexspace != "" || c.Indexname != "" {
		t.unsupported("index options on a constraint")
	}
	t.indexStorageParams(c.Options)
	cols := ""
	if len(c.Keys) > 0 {
		cols = " (" + identList(nameList(c.Keys)) + ")"
	}
	switch c.Contype {
	case pg.ConstrType_CONSTR_UNIQUE:
		if c.NullsNotDistinct {
			t.unsupported("UNIQUE NULLS NOT DISTINCT")
		}
		return "UNIQUE" + cols
	case pg.ConstrType_CONSTR_PRIMARY:
		return "PRIMARY KEY" + cols
	case pg.ConstrType_CONSTR_CHECK:
		v, _ := t.expr(c.RawExpr)
		return "CHECK (" + v + ")"
	case pg.ConstrType_CONSTR_FOREIGN:
		return t.foreignKey(c)
	case pg.ConstrType_CONSTR_EXCLUSION:
		t.unsupported("EXCLUDE constraints")
	}
	t.unsupported("this constraint")
	return ""
}

// fkActions maps PostgreSQL's action codes.
var fkActions = map[string]string{"r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}

// foreignKey emits [FOREIGN KEY (cols)] REFERENCES t (cols) [actions].
func (t *translator) foreignKey(c *pg.Constraint) string {
	if c.FkMatchtype == "f" || c.FkMatchtype == "p" {
		t.unsupported("MATCH FULL/PARTIAL")
	}
	if len(c.FkDelSetCols) > 0 {
		t.unsupported("ON DELETE SET NULL/DEFAULT with a column list")
	}
	out := ""
	if len(c.FkAttrs) > 0 {
		out = "FOREIGN KEY (" + identList(nameList(c.FkAttrs)) + ") "
	}
	ref := t.relationName(c.Pktable)
	if l := strings.ToLower(ref); strings.HasPrefix(l, "_pgraft") || strings.HasPrefix(l, "sqlite_") || strings.HasPrefix(l, "pragma_") {
		// pgraft's and SQLite's own tables are not the client's to reference
		// (sqlengine/authorizer.go).
		t.fail(pgerror.New(pgerror.UndefinedTable, "relation \"%s\" does not exist", ref))
	}
	out += "REFERENCES " + QuoteIdent(ref)
	if len(c.PkAttrs) > 0 {
		out += " (" + identList(nameList(c.PkAttrs)) + ")"
	}
	if a := fkActions[c.FkDelAction]; a != "" {
		out += " ON DELETE " + a
	}
	if a := fkActions[c.FkUpdAction]; a != "" {
		out += " ON UPDATE " + a
	}
	switch {
	case c.Initdeferred:
		out += " DEFERRABLE INITIALLY DEFERRED"
	case c.Deferrable:
		out += " DEFERRABLE"
	}
	return out
}

// tableConstraint emits a table-level constraint ("" when the primary key
// became the rowid column).
func (t *translator) tableConstraint(c *pg.Constraint, def *tableDef) string {
	if c.Contype == pg.ConstrType_CONSTR_PRIMARY && def.rowid != "" {
		return ""
	}
	name := ""
	if c.Conname != "" {
		name = "CONSTRAINT " + QuoteIdent(c.Conname) + " "
	}
	return name + t.sharedConstraint(c)
}

// createView translates CREATE [OR REPLACE] VIEW.
func (t *translator) createView(v *pg.ViewStmt) *Stmt {
	t.write = true
	name := t.relationName(v.View)
	if len(v.Options) > 0 || v.WithCheckOption != pg.ViewCheckOption_NO_CHECK_OPTION && v.WithCheckOption != pg.ViewCheckOption_VIEW_CHECK_OPTION_UNDEFINED {
		t.unsupported("view options")
	}
	body, cols := t.selectQuery(v.Query.GetSelectStmt())
	if t.maxParam > 0 {
		t.fail(pgerror.New(pgerror.UndefinedParameter, "there is no parameter $1"))
	}
	head := "CREATE VIEW " + QuoteIdent(name)
	if len(v.Aliases) > 0 {
		head += "(" + identList(nameList(v.Aliases)) + ")"
		for i, a := range nameList(v.Aliases) {
			if i < len(cols) {
				cols[i].name = a
			}
		}
	}
	head += viewTypesComment(cols) + viewDepsComment(v.Query)
	st := &Stmt{Kind: KindDDL, Tag: "CREATE VIEW", SQL: head + " AS " + body}
	if v.Replace {
		st.Post = []string{st.SQL}
		st.SQL = "DROP VIEW IF EXISTS " + QuoteIdent(name)
	}
	return st
}

// ViewTypesMarker starts the comment that CREATE VIEW carries after the
// view's name: a JSON object from column name to PostgreSQL type name, for
// the columns SQLite declares INTEGER. SQLite gives a view column the
// declared type of its source, and a rowid-alias key's is INTEGER whatever
// its PostgreSQL type (int2, int4 or int8, kept in a RowidMarker the view
// cannot see); the catalog reads the view's own types here.
const ViewTypesMarker = "/*pgview:"

// ViewDepsMarker starts the comment that CREATE VIEW carries after the
// view's name with the relations its query reads, a JSON array: the
// catalog's pg_depend and pg_rewrite show them, so pg_dump creates a view
// after what it reads.
const ViewDepsMarker = "/*pgdeps:"

// viewDepsComment is the ViewDepsMarker comment for a view's query ("" when
// it reads no relation).
func viewDepsComment(query *pg.Node) string {
	var deps []string
	for _, a := range accessOf(query) {
		if a.Rel != "" && !slices.Contains(deps, a.Rel) {
			deps = append(deps, a.Rel)
		}
	}
	if len(deps) == 0 {
		return ""
	}
	slices.Sort(deps)
	b, err := json.Marshal(deps)
	if err != nil {
		return ""
	}
	return " " + ViewDepsMarker + strings.ReplaceAll(string(b), "*/", `*\/`) + "*/"
}

// viewTypesComment is the ViewTypesMarker comment for a view's columns
// whose type translation knows and that a rowid key may stand behind
// (integers), or "" when there is none.
func viewTypesComment(cols []colInfo) string {
	types := map[string]string{}
	for _, c := range cols {
		if c.typ.t == nil || c.typ.unknown || c.name == "" {
			continue
		}
		switch c.typ.t.OID {
		case pgvalue.OIDInt2, pgvalue.OIDInt4, pgvalue.OIDInt8:
			types[c.name] = c.typ.t.Name
		}
	}
	if len(types) == 0 {
		return ""
	}
	b, err := json.Marshal(types)
	if err != nil {
		return ""
	}
	return " " + ViewTypesMarker + strings.ReplaceAll(string(b), "*/", `*\/`) + "*/"
}
