package translate

import (
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"
	pgparser "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// access.go finds what a statement touches, for the server's privilege
// check (server/privileges.go): every relation of the public schema that
// it names, with the privilege PostgreSQL requires for that use. It reads
// the parse tree only, so it is the same for every role and cached with
// the translation.
//
// PostgreSQL's privilege letters (aclitem): r SELECT, a INSERT, w UPDATE,
// d DELETE, D TRUNCATE, x REFERENCES, t TRIGGER, U USAGE, C CREATE. Here
// "O" stands for ownership (ALTER, DROP, CREATE INDEX, OR REPLACE).
//
// What is checked is the relation as written: a view needs SELECT on the
// view, not on its tables (whose privileges were its owner's when the view
// was created: CREATE VIEW needs SELECT on what it reads).

// Access is one requirement of a statement.
type Access struct {
	Rel string // the relation, as folded ("" with Schema)
	// Privs are privilege letters, any one of which suffices ("Uw" for
	// nextval: USAGE or UPDATE); "O" requires ownership.
	Privs  string
	Schema bool // CREATE on schema public (Privs "C")
}

// accessOf lists the requirements of a statement, each once.
func accessOf(stmt *pg.Node) []Access {
	w := &accessWalker{marks: map[*pg.RangeVar]string{}, ctes: map[string]bool{}}
	w.walk(stmt)
	var out []Access
	seen := map[Access]bool{}
	add := func(a Access) {
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	if w.schema {
		add(Access{Privs: "C", Schema: true})
	}
	for _, u := range w.uses {
		if u.rv != nil && u.rv.Schemaname == "" && w.ctes[u.rel] {
			continue // a WITH query's name, not a relation
		}
		for _, p := range strings.Split(u.privs, ",") {
			add(Access{Rel: u.rel, Privs: p})
		}
	}
	return out
}

// use is one relation the walk met; privs lists requirements separated by
// commas, each satisfied by any of its letters.
type use struct {
	rel   string
	privs string
	rv    *pg.RangeVar // nil for names that are not RangeVars (DROP)
}

type accessWalker struct {
	marks  map[*pg.RangeVar]string // the privileges a parent requires of a RangeVar; "-" skips it
	ctes   map[string]bool
	uses   []use
	schema bool
}

// userRelation reports whether a RangeVar may name a relation of the
// public schema, and its folded name.
func userRelation(rv *pg.RangeVar) (string, bool) {
	if rv == nil || rv.Catalogname != "" || rv.Schemaname != "" && rv.Schemaname != "public" {
		return "", false
	}
	return rv.Relname, true
}

func (w *accessWalker) mark(rv *pg.RangeVar, privs string) {
	if rv != nil {
		w.marks[rv] = privs
	}
}

// walk visits every node of the tree: a parent marks the RangeVars it uses
// in a special way before its children are visited.
func (w *accessWalker) walk(n proto.Message) {
	if n == nil {
		return
	}
	w.visit(n)
	n.ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Kind() != protoreflect.MessageKind {
			return true
		}
		if fd.IsList() {
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				w.walk(l.Get(i).Message().Interface())
			}
		} else if !fd.IsMap() {
			w.walk(v.Message().Interface())
		}
		return true
	})
}

func (w *accessWalker) visit(n proto.Message) {
	switch s := n.(type) {
	case *pg.RangeVar:
		privs, ok := w.marks[s]
		if !ok {
			privs = "r"
		}
		if rel, ok := userRelation(s); ok && privs != "-" {
			w.uses = append(w.uses, use{rel: rel, privs: privs, rv: s})
		}
	case *pg.CommonTableExpr:
		w.ctes[s.Ctename] = true
	case *pg.InsertStmt:
		p := "a"
		if len(s.ReturningList) > 0 || s.OnConflictClause != nil {
			p += ",r"
		}
		if s.OnConflictClause != nil && s.OnConflictClause.Action == pg.OnConflictAction_ONCONFLICT_UPDATE {
			p += ",w"
		}
		w.mark(s.Relation, p)
	case *pg.UpdateStmt:
		p := "w"
		if s.WhereClause != nil || len(s.ReturningList) > 0 || len(s.FromClause) > 0 || readsColumns(s.TargetList) {
			p += ",r"
		}
		w.mark(s.Relation, p)
	case *pg.DeleteStmt:
		p := "d"
		if s.WhereClause != nil || len(s.ReturningList) > 0 || len(s.UsingClause) > 0 {
			p += ",r"
		}
		w.mark(s.Relation, p)
	case *pg.TruncateStmt:
		for _, r := range s.Relations {
			w.mark(r.GetRangeVar(), "D")
		}
	case *pg.CreateStmt:
		w.mark(s.Relation, "-")
		w.schema = true
	case *pg.Constraint:
		w.mark(s.Pktable, "x")
	case *pg.ViewStmt:
		w.mark(s.View, "-")
		if s.Replace {
			w.mark(s.View, "O")
		}
		w.schema = true
	case *pg.CreateSeqStmt:
		w.mark(s.Sequence, "-")
		w.schema = true
	case *pg.IndexStmt:
		w.mark(s.Relation, "O")
	case *pg.AlterTableStmt:
		w.mark(s.Relation, "O")
	case *pg.AlterSeqStmt:
		w.mark(s.Sequence, "O")
	case *pg.RenameStmt:
		w.mark(s.Relation, "O")
	case *pg.DropStmt:
		switch s.RemoveType {
		case pg.ObjectType_OBJECT_TABLE, pg.ObjectType_OBJECT_VIEW, pg.ObjectType_OBJECT_SEQUENCE,
			pg.ObjectType_OBJECT_INDEX, pg.ObjectType_OBJECT_MATVIEW:
			for _, o := range s.Objects {
				if rel, ok := droppedName(o); ok {
					w.uses = append(w.uses, use{rel: rel, privs: "O"})
				}
			}
		}
	case *pg.FuncCall:
		if rel, privs, ok := sequenceCall(s); ok {
			w.uses = append(w.uses, use{rel: rel, privs: privs})
		}
	}
}

// droppedName is the relation a DROP names, when it is one of the public
// schema.
func droppedName(o *pg.Node) (string, bool) {
	items := o.GetList().GetItems()
	if len(items) == 0 || len(items) > 2 {
		return "", false
	}
	if len(items) == 2 && items[0].GetString_().GetSval() != "public" {
		return "", false
	}
	return items[len(items)-1].GetString_().GetSval(), true
}

// sequenceCall recognizes nextval, currval and setval of a sequence named
// by a constant, with the privileges PostgreSQL asks of each.
func sequenceCall(f *pg.FuncCall) (rel, privs string, ok bool) {
	if len(f.Funcname) == 0 || len(f.Args) == 0 {
		return "", "", false
	}
	name := f.Funcname[len(f.Funcname)-1].GetString_().GetSval()
	switch name {
	case "nextval":
		privs = "Uw"
	case "currval":
		privs = "rU"
	case "setval":
		privs = "w"
	default:
		return "", "", false
	}
	arg := f.Args[0]
	if tc := arg.GetTypeCast(); tc != nil {
		arg = tc.Arg
	}
	c := arg.GetAConst()
	if c == nil || c.GetSval() == nil {
		return "", "", false
	}
	rel, ok = RegclassName(c.GetSval().Sval)
	return rel, privs, ok
}

// readsColumns reports whether UPDATE's SET expressions read a column (so
// the update needs SELECT too).
func readsColumns(targets []*pg.Node) bool {
	found := false
	for _, t := range targets {
		if rt := t.GetResTarget(); rt != nil && rt.Val != nil {
			found = found || containsColumnRef(rt.Val)
		}
	}
	return found
}

func containsColumnRef(n proto.Message) bool {
	if _, ok := n.(*pg.ColumnRef); ok {
		return true
	}
	found := false
	n.ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Kind() != protoreflect.MessageKind || fd.IsMap() {
			return true
		}
		if fd.IsList() {
			l := v.List()
			for i := 0; i < l.Len() && !found; i++ {
				found = containsColumnRef(l.Get(i).Message().Interface())
			}
		} else {
			found = containsColumnRef(v.Message().Interface())
		}
		return !found
	})
	return found
}

// QualifyRelations rewrites a query so that every relation it names
// without a schema (but the names of its WITH queries) reads public.name:
// pg_get_viewdef's text when public is not on search_path, as pg_dump
// sets it, so that the dump restores anywhere. ok is false when the text
// does not parse (it is then returned as it is).
func QualifyRelations(query string) (string, bool) {
	tree, err := pgparser.Parse(query)
	if err != nil {
		return query, false
	}
	w := &accessWalker{marks: map[*pg.RangeVar]string{}, ctes: map[string]bool{}}
	for _, raw := range tree.Stmts {
		w.walk(raw.Stmt)
	}
	for _, u := range w.uses {
		if u.rv != nil && u.rv.Schemaname == "" && !w.ctes[u.rv.Relname] {
			u.rv.Schemaname = "public"
		}
	}
	out, err := pgparser.Deparse(tree)
	if err != nil {
		return query, false
	}
	if strings.HasSuffix(strings.TrimSpace(query), ";") {
		out += ";"
	}
	return " " + out, true
}
