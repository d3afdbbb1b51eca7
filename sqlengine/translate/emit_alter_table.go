package translate

import (
	"slices"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/pgraft/pgraft/pgvalue"
	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// ALTER TABLE, ALTER INDEX/VIEW, RENAME and SET SCHEMA. What SQLite does in
// one statement of its own (RENAME TO, RENAME COLUMN) is emitted as such;
// everything else becomes one AlterSpec (alter_spec.go) that the engine
// carries out against the table as it is when the entry applies. All the
// actions of one ALTER TABLE are one spec, so they succeed or fail
// together.

// alterTable translates ALTER TABLE and the ALTER INDEX/VIEW forms that
// share its parse node.
func (t *translator) alterTable(s *pg.AlterTableStmt) *Stmt {
	t.write = true
	tag := "ALTER " + strings.TrimPrefix(s.Objtype.String(), "OBJECT_")
	switch s.Objtype {
	case pg.ObjectType_OBJECT_TABLE:
	case pg.ObjectType_OBJECT_INDEX, pg.ObjectType_OBJECT_VIEW, pg.ObjectType_OBJECT_SEQUENCE:
		return t.alterOther(s, tag)
	default:
		t.unsupported("%s", tag)
	}
	name := t.relationName(s.Relation)
	ti := t.table(name)
	if (ti == nil || ti.View) && t.schema != nil && onlyOwner(s.Cmds) {
		// pg_dump writes "ALTER TABLE x OWNER TO …" for sequences and
		// views too, as PostgreSQL allows.
		return t.alterOther(s, tag)
	}
	if ti == nil && t.schema != nil {
		if s.MissingOk {
			return &Stmt{Kind: KindNoop, Tag: tag}
		}
		t.fail(pgerror.New(pgerror.UndefinedTable, "relation \"%s\" does not exist", name))
	}
	if ti != nil && ti.View {
		t.fail(pgerror.New(pgerror.WrongObjectType, "\"%s\" is not a table", name))
	}
	t.pushScope()
	defer t.popScope()
	// Later commands see the columns earlier ones add or drop.
	if ti != nil {
		work := *ti
		work.Columns = slices.Clone(ti.Columns)
		ti = &work
	}
	t.scope.rels = append(t.scope.rels, tableEntry(name, ti))
	spec := &AlterSpec{Table: name}
	for _, c := range s.Cmds {
		cmd := c.GetAlterTableCmd()
		spec.Actions = append(spec.Actions, t.alterCmd(name, ti, cmd)...)
		if ti != nil && t.adjustColumns(ti, cmd) {
			t.scope.rels[len(t.scope.rels)-1] = tableEntry(name, ti)
		}
	}
	if t.maxParam > 0 {
		t.fail(pgerror.New(pgerror.UndefinedParameter, "there is no parameter $1"))
	}
	if len(spec.Actions) == 0 {
		return &Stmt{Kind: KindNoop, Tag: tag}
	}
	return &Stmt{Kind: KindDDL, Tag: tag, SQL: spec.Encode(), Post: t.alterPost}
}

// addIdentity is ALTER COLUMN … ADD GENERATED {ALWAYS | BY DEFAULT} AS
// IDENTITY [(options)], pg_dump's form of an identity column: the column
// gets DEFAULT nextval of a new sequence it owns, marked as its identity,
// made right after the ALTER in the same entry (Stmt.Post).
func (t *translator) addIdentity(table string, ti *TableInfo, c *pg.AlterTableCmd) []AlterAction {
	col := t.needColumn(table, ti, c.Name)
	ident := c.Def.GetConstraint()
	if ident == nil {
		t.unsupported("ADD GENERATED without IDENTITY")
	}
	if col != nil {
		switch {
		case col.Type.OID != pgvalue.OIDInt2 && col.Type.OID != pgvalue.OIDInt4 && col.Type.OID != pgvalue.OIDInt8:
			t.fail(pgerror.New(pgerror.InvalidParameterValue, "identity column type must be smallint, integer, or bigint"))
		case col.Identity != 0:
			t.fail(pgerror.New("55000", "column \"%s\" of relation \"%s\" is already an identity column", c.Name, table))
		case col.Default != "":
			t.fail(pgerror.New("55000", "column \"%s\" of relation \"%s\" already has a default value", c.Name, table))
		case !col.NotNull:
			t.fail(pgerror.New("55000", "column \"%s\" of relation \"%s\" must be declared NOT NULL before identity can be added", c.Name, table))
		}
	}
	typ := uint32(pgvalue.OIDInt8)
	if col != nil {
		typ = col.Type.OID
	}
	spec := &SequenceSpec{Op: "create", Name: t.serialSequenceName(&tableDef{name: table}, c.Name), TypeOID: typ,
		OwnedBy: &[]string{table, c.Name}, Identity: "d"}
	if ident.GeneratedWhen == "a" {
		spec.Identity = "a"
	}
	t.seqOptions(ident.Options, spec, false)
	t.alterPost = append(t.alterPost, t.seqSpecSQL(spec))
	return []AlterAction{{Op: "set_default", Column: c.Name, SQL: "(" + NextvalFunc + "(" + t.quoteString(spec.Name) + "))"}}
}

// onlyOwner reports whether every command is OWNER TO.
func onlyOwner(cmds []*pg.Node) bool {
	for _, c := range cmds {
		if c.GetAlterTableCmd().GetSubtype() != pg.AlterTableType_AT_ChangeOwner {
			return false
		}
	}
	return len(cmds) > 0
}

// alterOther accepts what is harmless on an index or a view: OWNER TO and
// storage parameters.
func (t *translator) alterOther(s *pg.AlterTableStmt, tag string) *Stmt {
	name := t.relationName(s.Relation)
	spec := &AlterSpec{Table: ""}
	for _, n := range s.Cmds {
		c := n.GetAlterTableCmd()
		switch c.GetSubtype() {
		case pg.AlterTableType_AT_ChangeOwner:
			spec.Actions = append(spec.Actions, t.ownerAction(c.Newowner, name)...)
		case pg.AlterTableType_AT_SetRelOptions, pg.AlterTableType_AT_ResetRelOptions:
			if s.Objtype != pg.ObjectType_OBJECT_INDEX {
				t.unsupported("%s … SET (…)", tag)
			}
			t.indexStorageParams(c.Def.GetList().GetItems(), c.Subtype == pg.AlterTableType_AT_ResetRelOptions) // reloptions.go
		default:
			t.unsupported("%s %s", tag, strings.TrimPrefix(c.GetSubtype().String(), "AT_"))
		}
	}
	if ti := t.table(name); s.Objtype == pg.ObjectType_OBJECT_VIEW && t.schema != nil && (ti == nil || !ti.View) && !s.MissingOk {
		t.fail(pgerror.New(pgerror.UndefinedTable, "relation \"%s\" does not exist", name))
	}
	if len(spec.Actions) == 0 {
		return &Stmt{Kind: KindNoop, Tag: tag}
	}
	return &Stmt{Kind: KindDDL, Tag: tag, SQL: spec.Encode()}
}

// alterCmd translates one ALTER TABLE command into the spec's actions
// (none for a command that changes nothing in pgraft).
func (t *translator) alterCmd(table string, ti *TableInfo, c *pg.AlterTableCmd) []AlterAction {
	switch c.Subtype {
	case pg.AlterTableType_AT_AddColumn:
		cd := c.Def.GetColumnDef()
		if c.MissingOk && ti != nil && ti.Column(cd.Colname) != nil {
			return nil
		}
		return []AlterAction{{Op: "add_column", Column: cd.Colname, SQL: t.addColumnDef(table, cd)}}
	case pg.AlterTableType_AT_DropColumn:
		if c.MissingOk && ti != nil && ti.Column(c.Name) == nil {
			return nil
		}
		t.needColumn(table, ti, c.Name)
		return []AlterAction{{Op: "drop_column", Column: c.Name, MissingOK: c.MissingOk,
			Cascade: c.Behavior == pg.DropBehavior_DROP_CASCADE}}
	case pg.AlterTableType_AT_AddConstraint:
		return []AlterAction{t.addConstraint(table, ti, c.Def.GetConstraint())}
	case pg.AlterTableType_AT_DropConstraint:
		return []AlterAction{{Op: "drop_constraint", Name: c.Name, MissingOK: c.MissingOk,
			Cascade: c.Behavior == pg.DropBehavior_DROP_CASCADE}}
	case pg.AlterTableType_AT_ValidateConstraint:
		return []AlterAction{{Op: "validate_constraint", Name: c.Name}}
	case pg.AlterTableType_AT_ColumnDefault:
		col := t.needColumn(table, ti, c.Name)
		if c.Def == nil {
			return []AlterAction{{Op: "drop_default", Column: c.Name}}
		}
		return []AlterAction{{Op: "set_default", Column: c.Name, SQL: t.defaultExpr(c.Def, col)}}
	case pg.AlterTableType_AT_SetNotNull, pg.AlterTableType_AT_DropNotNull:
		t.needColumn(table, ti, c.Name)
		op := "set_not_null"
		if c.Subtype == pg.AlterTableType_AT_DropNotNull {
			op = "drop_not_null"
		}
		return []AlterAction{{Op: op, Column: c.Name}}
	case pg.AlterTableType_AT_AlterColumnType:
		return []AlterAction{t.alterColumnType(table, ti, c)}
	case pg.AlterTableType_AT_ChangeOwner:
		return t.ownerAction(c.Newowner, table)
	case pg.AlterTableType_AT_AddIdentity:
		return t.addIdentity(table, ti, c)
	case pg.AlterTableType_AT_SetRelOptions, pg.AlterTableType_AT_ResetRelOptions:
		t.tableStorageParams(c.Def.GetList().GetItems(), c.Subtype == pg.AlterTableType_AT_ResetRelOptions) // reloptions.go
		return nil
	case pg.AlterTableType_AT_SetStatistics, pg.AlterTableType_AT_SetStorage, pg.AlterTableType_AT_SetCompression:
		t.needColumn(table, ti, c.Name)
		return nil
	case pg.AlterTableType_AT_ClusterOn, pg.AlterTableType_AT_DropCluster, pg.AlterTableType_AT_ReplicaIdentity,
		pg.AlterTableType_AT_SetLogged:
		return nil // planner and replication hints: no meaning in pgraft
	}
	if n, ok := alterCmdNames[c.Subtype]; ok {
		t.unsupported("%s", n)
	}
	t.unsupported("ALTER TABLE %s", strings.TrimPrefix(c.Subtype.String(), "AT_"))
	return nil
}

// adjustColumns applies ADD COLUMN and DROP COLUMN to ti, the table as
// the statement's later commands see it; it reports a change.
func (t *translator) adjustColumns(ti *TableInfo, c *pg.AlterTableCmd) bool {
	switch c.Subtype {
	case pg.AlterTableType_AT_AddColumn:
		cd := c.Def.GetColumnDef()
		if ti.Column(cd.Colname) != nil {
			return false
		}
		typ, mod := TypeByName(lastName(cd.TypeName.Names)), int32(-1)
		if typ == nil {
			typ = TypeByName("text")
		}
		ti.Columns = append(ti.Columns, ColumnInfo{Name: cd.Colname, Type: typ, TypeMod: mod})
		return true
	case pg.AlterTableType_AT_DropColumn:
		n := len(ti.Columns)
		ti.Columns = slices.DeleteFunc(ti.Columns, func(col ColumnInfo) bool { return col.Name == c.Name })
		return len(ti.Columns) != n
	}
	return false
}

// alterCmdNames name the ALTER TABLE commands pgraft refuses, as a user
// writes them.
var alterCmdNames = map[pg.AlterTableType]string{
	pg.AlterTableType_AT_SetIdentity:  "ALTER COLUMN … SET GENERATED",
	pg.AlterTableType_AT_DropIdentity: "ALTER COLUMN … DROP IDENTITY", pg.AlterTableType_AT_SetExpression: "ALTER COLUMN … SET EXPRESSION",
	pg.AlterTableType_AT_DropExpression: "ALTER COLUMN … DROP EXPRESSION", pg.AlterTableType_AT_AlterConstraint: "ALTER CONSTRAINT",
	pg.AlterTableType_AT_SetUnLogged: "SET UNLOGGED", pg.AlterTableType_AT_SetTableSpace: "SET TABLESPACE",
	pg.AlterTableType_AT_SetAccessMethod: "SET ACCESS METHOD", pg.AlterTableType_AT_AddInherit: "INHERIT",
	pg.AlterTableType_AT_DropInherit: "NO INHERIT", pg.AlterTableType_AT_AttachPartition: "ATTACH PARTITION",
	pg.AlterTableType_AT_DetachPartition: "DETACH PARTITION", pg.AlterTableType_AT_EnableRowSecurity: "ENABLE ROW LEVEL SECURITY",
	pg.AlterTableType_AT_ForceRowSecurity: "FORCE ROW LEVEL SECURITY", pg.AlterTableType_AT_EnableTrig: "ENABLE TRIGGER",
	pg.AlterTableType_AT_DisableTrig: "DISABLE TRIGGER", pg.AlterTableType_AT_AddOf: "OF type",
	pg.AlterTableType_AT_SetOptions: "ALTER COLUMN … SET (…)", pg.AlterTableType_AT_ResetOptions: "ALTER COLUMN … RESET (…)",
}

// needColumn returns the column, or fails with 42703 as PostgreSQL does
// (nil when the schema is unknown).
func (t *translator) needColumn(table string, ti *TableInfo, name string) *ColumnInfo {
	if ti == nil {
		return nil
	}
	col := ti.Column(name)
	if col == nil {
		t.fail(pgerror.New(pgerror.UndefinedColumn, "column \"%s\" of relation \"%s\" does not exist", name, table))
	}
	return col
}

// addColumnDef is the column definition of ADD COLUMN, constraints
// included (UNIQUE, PRIMARY KEY, CHECK, REFERENCES).
func (t *translator) addColumnDef(table string, cd *pg.ColumnDef) string {
	if isSerial(cd.TypeName) {
		t.unsupported("ADD COLUMN of a serial column")
	}
	def := &tableDef{name: table, notNull: map[string]bool{}}
	for _, c := range cd.Constraints {
		switch c.GetConstraint().GetContype() {
		case pg.ConstrType_CONSTR_IDENTITY:
			t.unsupported("ADD COLUMN … GENERATED AS IDENTITY")
		case pg.ConstrType_CONSTR_PRIMARY:
			def.notNull[cd.Colname] = true
		case pg.ConstrType_CONSTR_FOREIGN:
			if c.GetConstraint().SkipValidation {
				c.GetConstraint().SkipValidation = false // NOT VALID: a new column holds no value to check
			}
		}
	}
	return t.columnDef(cd, def)
}

// defaultExpr is SET DEFAULT's expression, coerced to the column's type as
// CREATE TABLE coerces a default.
func (t *translator) defaultExpr(e *pg.Node, col *ColumnInfo) string {
	var colType xtype
	if col != nil {
		colType = xtype{t: col.Type, mod: col.TypeMod}
	}
	d := t.columnConstraint(&pg.Constraint{Contype: pg.ConstrType_CONSTR_DEFAULT, RawExpr: e}, "", &tableDef{notNull: map[string]bool{}}, colType)
	return strings.TrimPrefix(d, "DEFAULT ")
}

// addConstraint translates ADD [CONSTRAINT name] PRIMARY KEY, UNIQUE, CHECK
// or FOREIGN KEY.
func (t *translator) addConstraint(table string, ti *TableInfo, c *pg.Constraint) AlterAction {
	a := AlterAction{Op: "add_constraint", Name: c.Conname, NoValidate: c.SkipValidation}
	if len(c.Including) > 0 || c.Indexspace != "" || c.NullsNotDistinct {
		t.unsupported("INCLUDE, USING INDEX TABLESPACE and NULLS NOT DISTINCT on constraints")
	}
	if len(c.Options) > 0 {
		t.indexStorageParams(c.Options)
	}
	switch c.Contype {
	case pg.ConstrType_CONSTR_PRIMARY, pg.ConstrType_CONSTR_UNIQUE:
		a.Kind, a.Cols = "u", nameList(c.Keys)
		word := "UNIQUE"
		if c.Contype == pg.ConstrType_CONSTR_PRIMARY {
			a.Kind, word = "p", "PRIMARY KEY"
		}
		if c.Indexname != "" {
			a.Index, a.Cols = c.Indexname, t.indexColumns(table, ti, c.Indexname)
			if a.Name == "" {
				a.Name = c.Indexname
			}
		}
		for _, col := range a.Cols {
			t.needColumn(table, ti, col)
		}
		a.SQL = word + " (" + identList(a.Cols) + ")"
	case pg.ConstrType_CONSTR_CHECK:
		v, _ := t.expr(c.RawExpr)
		a.Kind, a.SQL, a.Check = "c", "CHECK ("+v+")", v
	case pg.ConstrType_CONSTR_FOREIGN:
		a.Kind, a.Cols = "f", nameList(c.FkAttrs)
		for _, col := range a.Cols {
			t.needColumn(table, ti, col)
		}
		a.RefTable, a.RefCols = t.relationName(c.Pktable), nameList(c.PkAttrs)
		if a.RefTable != table && t.schema != nil && t.table(a.RefTable) == nil {
			t.fail(pgerror.New(pgerror.UndefinedTable, "relation \"%s\" does not exist", a.RefTable))
		}
		a.SQL = t.foreignKey(c)
	case pg.ConstrType_CONSTR_EXCLUSION:
		t.unsupported("EXCLUDE constraints")
	default:
		t.unsupported("ALTER TABLE … ADD CONSTRAINT %s", strings.TrimPrefix(c.Contype.String(), "CONSTR_"))
	}
	return a
}

// indexColumns are the columns of the plain-column index that USING INDEX
// names; 42704 when the table has no such index.
func (t *translator) indexColumns(table string, ti *TableInfo, index string) []string {
	if ti == nil {
		t.unsupported("USING INDEX on a table this node does not know")
	}
	for _, ix := range ti.Indexes {
		if ix.Name == index {
			for _, c := range ix.Columns {
				if strings.HasPrefix(c, "(") {
					t.fail(pgerror.New("42809", "index \"%s\" contains expressions", index))
				}
			}
			return ix.Columns
		}
	}
	t.fail(pgerror.New(pgerror.UndefinedObject, "index \"%s\" for table \"%s\" does not exist", index, table))
	return nil
}

// alterColumnType translates ALTER COLUMN c TYPE t [USING expr]. Without
// USING, the conversion must be one PostgreSQL makes on assignment.
func (t *translator) alterColumnType(table string, ti *TableInfo, c *pg.AlterTableCmd) AlterAction {
	cd := c.Def.GetColumnDef()
	col := t.needColumn(table, ti, c.Name)
	if cd.CollClause != nil {
		t.checkCollation(cd.CollClause.Collname)
	}
	if isSerial(cd.TypeName) {
		t.fail(pgerror.New(pgerror.UndefinedObject, "type \"%s\" does not exist", lastName(cd.TypeName.Names)))
	}
	decl, x := t.columnDecl(cd.TypeName)
	using := cd.RawDefault
	if using == nil {
		if col != nil && !assignable(col.Type, x.t) {
			t.fail(pgerror.New(pgerror.DatatypeMismatch, "column \"%s\" cannot be cast automatically to type %s", c.Name, x.t.SQLName).
				WithHint("You might need to specify \"USING " + c.Name + "::" + x.t.SQLName + "\"."))
		}
		using = pg.MakeColumnRefNode([]*pg.Node{pg.MakeStrNode(c.Name)}, -1)
	}
	conv, _ := t.typeCast(&pg.TypeCast{Arg: using, TypeName: cd.TypeName, Location: -1})
	return AlterAction{Op: "set_type", Column: c.Name, SQL: decl, Type: x.t.Name, Using: conv,
		Check: strings.TrimSpace(rangeCheck(c.Name, x))}
}

// assignable reports whether PostgreSQL converts from into to on
// assignment (an implicit or assignment cast): within a category, to a
// string type, and between numbers.
func assignable(from, to *PGType) bool {
	switch {
	case from == nil || to == nil || from == to:
		return true
	case to.Category == 'S':
		return true
	case from.Category == 'S':
		return false
	case from.Category == to.Category:
		return true
	}
	return false
}

// ownerAction is OWNER TO role of relation rel (the engine checks the
// role and records the owner at apply, sqlengine/acl.go).
func (t *translator) ownerAction(r *pg.RoleSpec, rel string) []AlterAction {
	if r == nil || r.Roletype != pg.RoleSpecType_ROLESPEC_CSTRING {
		return nil // CURRENT_USER, SESSION_USER, CURRENT_ROLE: the session's own role
	}
	return []AlterAction{{Op: "owner", Name: r.Rolename, Object: rel}}
}

// renameStatement translates ALTER TABLE … RENAME [COLUMN|CONSTRAINT] and
// ALTER INDEX … RENAME.
func (t *translator) renameStatement(r *pg.RenameStmt) *Stmt {
	t.write = true
	switch r.RenameType {
	case pg.ObjectType_OBJECT_TABLE:
		name := t.relationName(r.Relation)
		if t.missingRelation(name, r.MissingOk) {
			return &Stmt{Kind: KindNoop, Tag: "ALTER TABLE"}
		}
		// The engine names the table's unnamed constraints first: PostgreSQL
		// keeps t_pkey when t becomes t2, pgraft would derive t2_pkey.
		spec := &AlterSpec{Table: name, Actions: []AlterAction{{Op: "rename_table", NewName: r.Newname}}}
		return &Stmt{Kind: KindDDL, Tag: "ALTER TABLE", SQL: spec.Encode()}
	case pg.ObjectType_OBJECT_COLUMN:
		if r.RelationType != pg.ObjectType_OBJECT_TABLE {
			t.unsupported("renaming columns of this relation kind")
		}
		name := t.relationName(r.Relation)
		if t.missingRelation(name, r.MissingOk) {
			return &Stmt{Kind: KindNoop, Tag: "ALTER TABLE"}
		}
		t.needColumn(name, t.table(name), r.Subname)
		return &Stmt{Kind: KindDDL, Tag: "ALTER TABLE", SQL: "ALTER TABLE " + QuoteIdent(name) +
			" RENAME COLUMN " + QuoteIdent(r.Subname) + " TO " + QuoteIdent(r.Newname)}
	case pg.ObjectType_OBJECT_TABCONSTRAINT:
		name := t.relationName(r.Relation)
		if t.missingRelation(name, r.MissingOk) {
			return &Stmt{Kind: KindNoop, Tag: "ALTER TABLE"}
		}
		spec := &AlterSpec{Table: name, Actions: []AlterAction{{Op: "rename_constraint", Name: r.Subname, NewName: r.Newname}}}
		return &Stmt{Kind: KindDDL, Tag: "ALTER TABLE", SQL: spec.Encode()}
	case pg.ObjectType_OBJECT_INDEX:
		name := t.relationName(r.Relation)
		spec := &AlterSpec{Actions: []AlterAction{{Op: "rename_index", Name: name, NewName: r.Newname, MissingOK: r.MissingOk}}}
		return &Stmt{Kind: KindDDL, Tag: "ALTER INDEX", SQL: spec.Encode()}
	}
	t.unsupported("ALTER %s … RENAME", strings.TrimPrefix(r.RenameType.String(), "OBJECT_"))
	return nil
}

// missingRelation reports a table this node's schema does not have: true
// with IF EXISTS (nothing to do), else 42P01.
func (t *translator) missingRelation(name string, missingOK bool) bool {
	if t.schema == nil || t.table(name) != nil {
		return false
	}
	if missingOK {
		return true
	}
	t.fail(pgerror.New(pgerror.UndefinedTable, "relation \"%s\" does not exist", name))
	return false
}

// setSchema accepts ALTER TABLE … SET SCHEMA public, where every table
// already is; any other schema does not exist in pgraft (3F000).
func (t *translator) setSchema(s *pg.AlterObjectSchemaStmt) *Stmt {
	tag := "ALTER " + strings.TrimPrefix(s.ObjectType.String(), "OBJECT_")
	switch s.ObjectType {
	case pg.ObjectType_OBJECT_TABLE, pg.ObjectType_OBJECT_VIEW:
	default:
		t.unsupported("%s … SET SCHEMA", tag)
	}
	name := t.relationName(s.Relation)
	if t.missingRelation(name, s.MissingOk) {
		return &Stmt{Kind: KindNoop, Tag: tag}
	}
	if s.Newschema != "public" {
		t.fail(pgerror.New(invalidSchemaName, "schema \"%s\" does not exist", s.Newschema))
	}
	return &Stmt{Kind: KindNoop, Tag: tag}
}

// setConstraints accepts SET CONSTRAINTS … IMMEDIATE, which Django sends
// around the foreign keys it adds and drops: pgraft checks deferred
// foreign keys when the transaction commits (23503 there, where PostgreSQL
// would fail this statement if a violation were pending). DEFERRED would
// have to defer constraints pgraft checks at once: 0A000.
func (t *translator) setConstraints(s *pg.ConstraintsSetStmt) *Stmt {
	if s.Deferred {
		t.unsupported("SET CONSTRAINTS … DEFERRED")
	}
	return &Stmt{Kind: KindNoop, Tag: "SET CONSTRAINTS"}
}
