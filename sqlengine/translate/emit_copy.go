package translate

import (
	"strings"
	"sync"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// emit_copy.go translates COPY … FROM STDIN and COPY … TO STDOUT into a
// CopyStmt that the server runs (server/copy.go): the columns and options,
// checked as PostgreSQL's ProcessCopyOptions checks them, and for COPY TO
// the query whose rows go out. COPY FROM's rows become INSERTs the server
// translates itself. Server files and programs are refused: pgraft never
// touches a node's files.

// CopyStmt is KindCopy's detail.
type CopyStmt struct {
	From     bool
	Relation string // the table ("" for COPY (query) TO)
	// Columns are COPY FROM's target columns in data order, or COPY TO's
	// column list when one was given.
	Columns []CopyColumn
	// Query is COPY TO's query (a KindSelect): the table's columns, or the
	// client's query.
	Query *Stmt
	// Insert is COPY FROM's INSERT prefix in PostgreSQL's syntax,
	// `INSERT INTO "t" ("a", "b")` (with OVERRIDING SYSTEM VALUE when it
	// writes a GENERATED ALWAYS identity column), to which the server
	// appends VALUES.
	Insert  string
	Options CopyOptions
}

// CopyColumn is one column of a COPY FROM.
type CopyColumn struct {
	Name    string
	OID     uint32
	TypeMod int32
}

// CopyOptions are the options of a COPY, defaults filled in.
type CopyOptions struct {
	Format      string // "text", "csv", "binary"
	Delimiter   string
	Null        string
	Header      bool
	HeaderMatch bool
	Quote       string
	Escape      string
	// ForceQuoteAll is FORCE_QUOTE *; the lists name columns.
	ForceQuoteAll                       bool
	ForceQuote, ForceNotNull, ForceNull []string
}

// copyStatement translates a CopyStmt.
func (t *translator) copyStatement(c *pg.CopyStmt) *Stmt {
	if c.Filename != "" || c.IsProgram {
		t.fail(copyFileError(c))
	}
	if c.WhereClause != nil {
		t.unsupported("COPY … WHERE")
	}
	cs := &CopyStmt{From: c.IsFrom}
	cs.Options = t.copyOptions(c)
	st := &Stmt{Kind: KindCopy, Tag: "COPY", Copy: cs}
	if c.Query != nil {
		if c.IsFrom {
			t.fail(pgerror.New(pgerror.SyntaxError, "COPY FROM does not support a query"))
		}
		q := t.copyQueryStmt(c.Query)
		q.Access = accessOf(c.Query)
		q.Source = queryText(c.Query)
		cs.Query = q
		st.Catalog = q.Catalog
		return st
	}
	if !c.IsFrom && c.Relation != nil && (c.Relation.Schemaname == "pg_catalog" || c.Relation.Schemaname == "information_schema" ||
		c.Relation.Schemaname == "" && t.table(c.Relation.Relname) == nil) {
		// Not a user table: a catalog relation (PostgreSQL copies those
		// out too), or a missing one, which the query reports as missing.
		q, parsed := t.copyQuery(copyRelationQuery(c))
		q.Access = accessOf(parsed)
		cs.Query = q
		st.Catalog = q.Catalog
		return st
	}
	name := t.relationName(c.Relation)
	cs.Relation = name
	info := t.table(name)
	if info == nil {
		t.fail(pgerror.New(pgerror.UndefinedTable, "relation \"%s\" does not exist", name))
	}
	if info.View {
		if c.IsFrom {
			t.fail(pgerror.New(pgerror.WrongObjectType, "cannot copy to view \"%s\"", name))
		}
		t.fail(pgerror.New(pgerror.WrongObjectType, "cannot copy from view \"%s\"", name).
			WithHint("Try the COPY (SELECT ...) TO variant."))
	}
	var names []string
	seen := map[string]bool{}
	for _, n := range c.Attlist {
		col := n.GetString_().GetSval()
		if info.Column(col) == nil {
			t.fail(pgerror.New(pgerror.UndefinedColumn, "column \"%s\" of relation \"%s\" does not exist", col, name))
		}
		if seen[col] {
			t.fail(pgerror.New(pgerror.DuplicateColumn, "column \"%s\" specified more than once", col))
		}
		seen[col] = true
		names = append(names, col)
	}
	if len(names) == 0 {
		for _, col := range info.Columns {
			names = append(names, col.Name)
		}
	}
	quoted := make([]string, len(names))
	overriding := ""
	for i, n := range names {
		col := info.Column(n)
		if col.Identity == 'a' {
			// COPY writes GENERATED ALWAYS identity columns, as PostgreSQL's
			// does (pg_dump's data sections hold them).
			overriding = " OVERRIDING SYSTEM VALUE"
		}
		cs.Columns = append(cs.Columns, CopyColumn{Name: n, OID: col.Type.OID, TypeMod: col.TypeMod})
		quoted[i] = alwaysQuote(n)
	}
	t.checkForceColumns(cs, names)
	if c.IsFrom {
		cs.Insert = "INSERT INTO " + alwaysQuote(name) + " (" + strings.Join(quoted, ", ") + ")" + overriding
		st.Access = []Access{{Rel: name, Privs: "a"}}
		return st
	}
	q, _ := t.copyQuery("SELECT " + strings.Join(quoted, ", ") + " FROM " + alwaysQuote(name))
	cs.Query = q
	st.Access = []Access{{Rel: name, Privs: "r"}}
	return st
}

// copyQuery translates the query of COPY relation TO, and returns its
// parse tree too.
func (t *translator) copyQuery(sql string) (*Stmt, *pg.Node) {
	tree, err := pg.Parse(sql)
	if err != nil || len(tree.Stmts) != 1 {
		t.fail(pgerror.New(pgerror.InternalError, "COPY query: %v", err))
	}
	q := t.copyQueryStmt(tree.Stmts[0].Stmt)
	q.Source = sql
	return q, tree.Stmts[0].Stmt
}

// copyQueryStmt translates COPY TO's query: a plain read, which runs where
// reads run. What the server answers itself instead of SQLite (sequence
// functions, parameters: a COPY has none) is refused.
func (t *translator) copyQueryStmt(n *pg.Node) *Stmt {
	q := t.statement(n)
	if q.Kind != KindSelect {
		t.unsupported("COPY of a statement other than SELECT")
	}
	if t.maxParam > 0 {
		t.fail(pgerror.New(pgerror.UndefinedParameter, "there is no parameter $1"))
	}
	if t.seqWrite || len(t.seqRead) > 0 {
		t.unsupported("COPY of a query that calls nextval, setval, currval or lastval")
	}
	q.Catalog = q.Catalog || t.catalog
	q.ForUpdate = q.ForUpdate || t.forUpdate
	return q
}

// copyRelationQuery is the query of COPY relation TO for a relation that
// is not a user table.
func copyRelationQuery(c *pg.CopyStmt) string {
	cols := "*"
	if len(c.Attlist) > 0 {
		names := make([]string, len(c.Attlist))
		for i, n := range c.Attlist {
			names[i] = alwaysQuote(n.GetString_().GetSval())
		}
		cols = strings.Join(names, ", ")
	}
	rel := alwaysQuote(c.Relation.Relname)
	if c.Relation.Schemaname != "" {
		rel = alwaysQuote(c.Relation.Schemaname) + "." + rel
	}
	return "SELECT " + cols + " FROM " + rel
}

// queryText is the PostgreSQL text of COPY's query, for where the query
// runs as text (a follower's block forwards it to the leader).
func queryText(n *pg.Node) string {
	version := parseTreeVersion()
	text, err := pg.Deparse(&pg.ParseResult{Version: version, Stmts: []*pg.RawStmt{{Stmt: n}}})
	if err != nil {
		return ""
	}
	return text
}

// copyFileError is PostgreSQL's answer to a role without the server-file
// roles; pgraft never reads or writes a node's files, whoever asks.
func copyFileError(c *pg.CopyStmt) *pgerror.Error {
	var e *pgerror.Error
	switch {
	case c.IsProgram:
		e = pgerror.New(pgerror.InsufficientPrivilege, "must be superuser or have privileges of the pg_execute_server_program role to COPY to or from an external program")
	case c.IsFrom:
		e = pgerror.New(pgerror.InsufficientPrivilege, "must be superuser or have privileges of the pg_read_server_files role to COPY from a file")
	default:
		e = pgerror.New(pgerror.InsufficientPrivilege, "must be superuser or have privileges of the pg_write_server_files role to COPY to a file")
	}
	return e.WithHint("Anyone can COPY to stdout or from stdin. psql's \\copy command also works for anyone. " +
		"pgraft never reads or writes files or runs programs on its nodes, not even for a superuser.")
}

func redundantOptions() *pgerror.Error {
	return pgerror.New(pgerror.SyntaxError, "conflicting or redundant options")
}

// copyOptions reads and checks the options (ProcessCopyOptions).
func (t *translator) copyOptions(c *pg.CopyStmt) CopyOptions {
	var o CopyOptions
	var fmtSet, delimSet, nullSet, headerSet, quoteSet, escapeSet, fqSet, fnnSet, fnSet bool
	for _, n := range c.Options {
		d := n.GetDefElem()
		if d == nil {
			continue
		}
		switch d.Defname {
		case "format":
			if fmtSet {
				t.fail(redundantOptions())
			}
			fmtSet = true
			v, _ := defText(d)
			switch v {
			case "text", "csv", "binary":
				o.Format = v
			default:
				t.fail(pgerror.New(pgerror.InvalidParameterValue, "COPY format \"%s\" not recognized", v))
			}
		case "delimiter":
			if delimSet {
				t.fail(redundantOptions())
			}
			delimSet = true
			o.Delimiter = t.copyString(d)
		case "null":
			if nullSet {
				t.fail(redundantOptions())
			}
			nullSet = true
			o.Null = t.copyString(d)
		case "header":
			if headerSet {
				t.fail(redundantOptions())
			}
			headerSet = true
			o.Header, o.HeaderMatch = t.copyHeader(d, c.IsFrom)
		case "quote":
			if quoteSet {
				t.fail(redundantOptions())
			}
			quoteSet = true
			o.Quote = t.copyString(d)
		case "escape":
			if escapeSet {
				t.fail(redundantOptions())
			}
			escapeSet = true
			o.Escape = t.copyString(d)
		case "force_quote":
			if fqSet {
				t.fail(redundantOptions())
			}
			fqSet = true
			if d.Arg != nil && d.Arg.GetAStar() != nil {
				o.ForceQuoteAll = true
			} else {
				o.ForceQuote = t.copyNames(d)
			}
		case "force_not_null":
			if fnnSet {
				t.fail(redundantOptions())
			}
			fnnSet = true
			o.ForceNotNull = t.copyNames(d)
		case "force_null":
			if fnSet {
				t.fail(redundantOptions())
			}
			fnSet = true
			o.ForceNull = t.copyNames(d)
		case "encoding":
			v, _ := defText(d)
			switch strings.ToUpper(strings.ReplaceAll(strings.ReplaceAll(v, "-", ""), "_", "")) {
			case "UTF8", "UNICODE", "SQLASCII":
			default:
				t.unsupported("COPY ENCODING '%s' (only UTF8)", v)
			}
		case "freeze":
			// A storage hint: rows are visible the same either way.
		case "oids":
			t.fail(pgerror.New(pgerror.SyntaxError, "option \"oids\" not recognized"))
		default:
			t.fail(pgerror.New(pgerror.SyntaxError, "option \"%s\" not recognized", d.Defname))
		}
	}
	if o.Format == "" {
		o.Format = "text"
	}
	csv, binary := o.Format == "csv", o.Format == "binary"
	if binary && delimSet {
		t.fail(pgerror.New(pgerror.SyntaxError, "cannot specify DELIMITER in BINARY mode"))
	}
	if binary && nullSet {
		t.fail(pgerror.New(pgerror.SyntaxError, "cannot specify NULL in BINARY mode"))
	}
	if binary && headerSet {
		t.fail(pgerror.New(pgerror.FeatureNotSupported, "cannot specify HEADER in BINARY mode"))
	}
	if !delimSet {
		o.Delimiter = "\t"
		if csv {
			o.Delimiter = ","
		}
	}
	if !nullSet {
		o.Null = `\N`
		if csv {
			o.Null = ""
		}
	}
	if csv {
		if !quoteSet {
			o.Quote = `"`
		}
		if !escapeSet {
			o.Escape = o.Quote
		}
	}
	unsupported := func(msg string) { t.fail(pgerror.New(pgerror.FeatureNotSupported, "%s", msg)) }
	if len(o.Delimiter) != 1 {
		unsupported("COPY delimiter must be a single one-byte character")
	}
	if o.Delimiter == "\n" || o.Delimiter == "\r" {
		unsupported("COPY delimiter cannot be newline or carriage return")
	}
	if strings.ContainsAny(o.Null, "\r\n") {
		unsupported("COPY null representation cannot use newline or carriage return")
	}
	if !csv && strings.Contains(`\.abcdefghijklmnopqrstuvwxyz0123456789`, o.Delimiter) {
		unsupported("COPY delimiter cannot be \"" + o.Delimiter + "\"")
	}
	if !csv && quoteSet {
		unsupported("COPY quote available only in CSV mode")
	}
	if csv && len(o.Quote) != 1 {
		unsupported("COPY quote must be a single one-byte character")
	}
	if csv && o.Delimiter == o.Quote {
		t.fail(pgerror.New(pgerror.InvalidParameterValue, "COPY delimiter and quote must be different"))
	}
	if !csv && escapeSet {
		unsupported("COPY escape available only in CSV mode")
	}
	if csv && len(o.Escape) != 1 {
		unsupported("COPY escape must be a single one-byte character")
	}
	if !csv && fqSet {
		unsupported("COPY force quote available only in CSV mode")
	}
	if fqSet && c.IsFrom {
		unsupported("COPY force quote only available using COPY TO")
	}
	if !csv && fnnSet {
		unsupported("COPY force not null available only in CSV mode")
	}
	if fnnSet && !c.IsFrom {
		unsupported("COPY force not null only available using COPY FROM")
	}
	if !csv && fnSet {
		unsupported("COPY force null available only in CSV mode")
	}
	if fnSet && !c.IsFrom {
		unsupported("COPY force null only available using COPY FROM")
	}
	if !binary && strings.Contains(o.Null, o.Delimiter) {
		unsupported("COPY delimiter must not appear in the NULL specification")
	}
	if csv && strings.Contains(o.Null, o.Quote) {
		unsupported("CSV quote character must not appear in the NULL specification")
	}
	return o
}

// copyString is an option's string value.
func (t *translator) copyString(d *pg.DefElem) string {
	v, ok := defText(d)
	if !ok || d.Arg.GetString_() == nil {
		t.fail(pgerror.New(pgerror.SyntaxError, "%s requires a string value", d.Defname))
	}
	return v
}

// copyHeader reads HEADER: a boolean, or MATCH (COPY FROM only).
func (t *translator) copyHeader(d *pg.DefElem, from bool) (header, match bool) {
	if d.Arg == nil {
		return true, false
	}
	v, _ := defText(d)
	switch strings.ToLower(v) {
	case "true", "on", "1", "yes", "t", "y":
		return true, false
	case "false", "off", "0", "no", "f", "n":
		return false, false
	case "match":
		if !from {
			t.fail(pgerror.New(pgerror.FeatureNotSupported, "cannot use \"match\" with HEADER in COPY TO"))
		}
		return true, true
	}
	t.fail(pgerror.New(pgerror.SyntaxError, "header requires a Boolean value or \"match\""))
	return false, false
}

// copyNames reads a column list option.
func (t *translator) copyNames(d *pg.DefElem) []string {
	l := d.Arg.GetList()
	if l == nil {
		t.fail(pgerror.New(pgerror.SyntaxError, "argument to option \"%s\" must be a list of column names", d.Defname))
	}
	var out []string
	for _, n := range l.Items {
		out = append(out, n.GetString_().GetSval())
	}
	return out
}

// checkForceColumns checks that the FORCE_* columns are COPY's columns
// (names nil: a query, whose columns the server knows).
func (t *translator) checkForceColumns(cs *CopyStmt, names []string) {
	if names == nil {
		return
	}
	in := map[string]bool{}
	for _, n := range names {
		in[n] = true
	}
	check := func(list []string, opt string) {
		for _, n := range list {
			if !in[n] {
				t.fail(pgerror.New(pgerror.InvalidColumnReference, "%s column \"%s\" not referenced by COPY", opt, n))
			}
		}
	}
	check(cs.Options.ForceQuote, "FORCE_QUOTE")
	check(cs.Options.ForceNotNull, "FORCE_NOT_NULL")
	check(cs.Options.ForceNull, "FORCE_NULL")
}

// parseTreeVersion is the parse tree version Deparse wants: pg_query's own.
var parseTreeVersion = sync.OnceValue(func() int32 {
	tree, err := pg.Parse("SELECT 1")
	if err != nil {
		return 0
	}
	return tree.Version
})
