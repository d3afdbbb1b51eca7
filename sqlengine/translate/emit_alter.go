package translate

import (
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// CREATE INDEX, DROP, ALTER TABLE, RENAME, CREATE SCHEMA/EXTENSION, ANALYZE.

// createIndex translates CREATE [UNIQUE] INDEX.
func (t *translator) createIndex(s *pg.IndexStmt) *Stmt {
	t.write = true
	table := t.relationName(s.Relation)
	switch {
	case s.AccessMethod != "" && s.AccessMethod != "btree":
		t.unsupported("index method %s", s.AccessMethod)
	case len(s.IndexIncludingParams) > 0:
		t.unsupported("INCLUDE in indexes")
	case s.TableSpace != "":
		t.unsupported("TABLESPACE")
	case s.NullsNotDistinct:
		t.unsupported("NULLS NOT DISTINCT")
	}
	t.indexStorageParams(s.Options) // reloptions.go: checked, then ignored
	t.pushScope()
	defer t.popScope()
	t.scope.rels = append(t.scope.rels, tableEntry(table, t.table(table)))
	elems := make([]string, len(s.IndexParams))
	for i, n := range s.IndexParams {
		elems[i] = t.indexElem(n.GetIndexElem())
	}
	name := s.Idxname
	if name == "" {
		name = indexName(table, s.IndexParams, "idx")
	}
	sql := "CREATE "
	if s.Unique {
		sql += "UNIQUE "
	}
	sql += "INDEX "
	if s.IfNotExists {
		sql += "IF NOT EXISTS "
	}
	sql += QuoteIdent(name) + " ON " + QuoteIdent(table) + " (" + strings.Join(elems, ", ") + ")"
	if s.WhereClause != nil {
		w, _ := t.expr(s.WhereClause)
		sql += " WHERE " + w
	}
	return &Stmt{Kind: KindDDL, Tag: "CREATE INDEX", SQL: sql}
}

// indexName is PostgreSQL's generated name: table_col1_col2_suffix.
func indexName(table string, params []*pg.Node, suffix string) string {
	parts := []string{table}
	for _, n := range params {
		e := n.GetIndexElem()
		switch {
		case e == nil:
			parts = append(parts, strVal(n))
		case e.Name != "":
			parts = append(parts, e.Name)
		default:
			parts = append(parts, "expr")
		}
	}
	name := strings.Join(parts, "_") + "_" + suffix
	if len(name) > 63 {
		name = name[:63]
	}
	return name
}

// patternOpclasses change which operators an index serves, not results.
var patternOpclasses = map[string]bool{"text_pattern_ops": true, "varchar_pattern_ops": true, "bpchar_pattern_ops": true}

// indexElem emits one index column or expression.
func (t *translator) indexElem(e *pg.IndexElem) string {
	if e == nil {
		t.unsupported("this index element")
	}
	if len(e.Collation) > 0 {
		t.checkCollation(e.Collation)
	}
	if len(e.Opclass) > 0 && !patternOpclasses[lastName(e.Opclass)] || len(e.Opclassopts) > 0 {
		t.unsupported("operator class %s", lastName(e.Opclass))
	}
	s := QuoteIdent(e.Name)
	if e.Expr != nil {
		v, _ := t.expr(e.Expr)
		s = "(" + v + ")"
	}
	switch e.Ordering {
	case pg.SortByDir_SORTBY_ASC:
		s += " ASC"
	case pg.SortByDir_SORTBY_DESC:
		s += " DESC"
	}
	if e.NullsOrdering == pg.SortByNulls_SORTBY_NULLS_FIRST || e.NullsOrdering == pg.SortByNulls_SORTBY_NULLS_LAST {
		t.unsupported("NULLS FIRST/LAST in indexes")
	}
	return s
}

// dropKinds names the droppable objects.
var dropKinds = map[pg.ObjectType]string{
	pg.ObjectType_OBJECT_TABLE: "TABLE", pg.ObjectType_OBJECT_INDEX: "INDEX", pg.ObjectType_OBJECT_VIEW: "VIEW",
}

// dropStatement translates DROP TABLE/INDEX/VIEW, one SQLite statement per
// object.
func (t *translator) dropStatement(s *pg.DropStmt) *Stmt {
	t.write = true
	kind, ok := dropKinds[s.RemoveType]
	if !ok {
		if s.RemoveType == pg.ObjectType_OBJECT_EXTENSION && s.MissingOk {
			return &Stmt{Kind: KindNoop, Tag: "DROP EXTENSION"}
		}
		t.unsupported("DROP %s", strings.TrimPrefix(s.RemoveType.String(), "OBJECT_"))
	}
	st := &Stmt{Kind: KindDDL, Tag: "DROP " + kind}
	names := make([]string, len(s.Objects))
	for i, o := range s.Objects {
		names[i] = t.qualifiedName(nameList(o.GetList().GetItems()))
	}
	add := func(sql string) {
		if st.SQL == "" {
			st.SQL = sql
		} else {
			st.Post = append(st.Post, sql)
		}
	}
	for _, name := range names {
		if kind != "INDEX" && s.Behavior == pg.DropBehavior_DROP_CASCADE {
			// CASCADE: the engine first drops the views on it and other
			// tables' FOREIGN KEYs referencing it (alter_deps.go).
			add((&AlterSpec{Actions: []AlterAction{{Op: "drop_dependents", Name: name}}}).Encode())
		}
		sql := "DROP " + kind + " "
		if s.MissingOk {
			sql += "IF EXISTS "
		}
		add(sql + QuoteIdent(name))
	}
	return st
}

// qualifiedName resolves a [schema.]name list for DDL.
func (t *translator) qualifiedName(parts []string) string {
	switch len(parts) {
	case 1:
		return parts[0]
	case 2:
		return t.relationName(&pg.RangeVar{Schemaname: parts[0], Relname: parts[1]})
	}
	t.unsupported("cross-database references")
	return ""
}

// createSchema accepts CREATE SCHEMA IF NOT EXISTS public.
func (t *translator) createSchema(s *pg.CreateSchemaStmt) *Stmt {
	if s.Schemaname == "public" && len(s.SchemaElts) == 0 {
		if s.IfNotExists {
			return &Stmt{Kind: KindNoop, Tag: "CREATE SCHEMA"}
		}
		t.fail(pgerror.New("42P06", "schema \"public\" already exists"))
	}
	t.unsupported("CREATE SCHEMA")
	return nil
}

// providedExtensions are extensions whose functions pgraft has built in.
var providedExtensions = map[string]bool{"uuid-ossp": true, "pgcrypto": true, "plpgsql": true}

// createExtension accepts CREATE EXTENSION IF NOT EXISTS for built-ins.
func (t *translator) createExtension(s *pg.CreateExtensionStmt) *Stmt {
	if providedExtensions[s.Extname] && s.IfNotExists {
		return &Stmt{Kind: KindNoop, Tag: "CREATE EXTENSION"}
	}
	if providedExtensions[s.Extname] {
		t.fail(pgerror.New(pgerror.DuplicateObject, "extension \"%s\" already exists", s.Extname))
	}
	t.unsupported("CREATE EXTENSION %s", s.Extname)
	return nil
}

// analyze runs ANALYZE through the log (statistics steer the planner).
// VACUUM (with any options) is accepted and does nothing: SQLite reuses the
// pages deleted rows free, and its own VACUUM would rewrite a node's file
// outside the log; the tables it names must exist.
func (t *translator) analyze(v *pg.VacuumStmt) *Stmt {
	if v.IsVacuumcmd {
		for _, r := range v.Rels {
			rv := r.GetVacuumRelation().GetRelation()
			if rv == nil {
				continue
			}
			if name := t.readRelation(rv); t.schema != nil && t.table(name) == nil {
				t.fail(pgerror.New(pgerror.UndefinedTable, "relation \"%s\" does not exist", rv.Relname))
			}
		}
		return &Stmt{Kind: KindNoop, Tag: "VACUUM"}
	}
	if len(v.Options) > 0 {
		t.unsupported("ANALYZE options")
	}
	t.write = true
	sql := "ANALYZE"
	if len(v.Rels) > 1 {
		t.unsupported("ANALYZE of several tables")
	}
	for _, r := range v.Rels {
		vr := r.GetVacuumRelation()
		if len(vr.VaCols) > 0 {
			t.unsupported("ANALYZE of columns")
		}
		sql += " " + QuoteIdent(t.relationName(vr.Relation))
	}
	return &Stmt{Kind: KindDDL, Tag: "ANALYZE", SQL: sql}
}
