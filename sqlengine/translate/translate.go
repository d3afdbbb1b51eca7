package translate

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"
	pgparser "github.com/pganalyze/pg_query_go/v6/parser"

	"github.com/pgraft/pgraft/pgvalue"
	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// Translation reads PostgreSQL's own parse tree (pg_query) and emits SQLite
// SQL from it; the input text is never edited. Every construct the emitters
// do not know fails with 0A000 naming it, so a statement is either translated
// faithfully or refused. A translator lives for one statement and is used by
// one goroutine.

// invalidSchemaName is SQLSTATE 3F000 (invalid_schema_name).
const invalidSchemaName = "3F000"

// maxParams is the highest parameter number a statement may use: the most
// a Bind message can carry (PostgreSQL's limit too). The translator keeps a
// slot per number up to the highest, so $2000000000 must not get that far.
const maxParams = 65535

// SQL parses one query string (one or more statements) and translates each.
// An empty or comment-only string returns no statements. Errors are *pgerror.Error.
func SQL(sql string, schema Schema, opts Options) ([]*Stmt, error) {
	if err := checkParseDepth(sql); err != nil {
		return nil, err // before pg_query: too deep a tree overflows its C stack
	}
	tree, err := pg.Parse(sql)
	if err != nil {
		return nil, parseError(err)
	}
	out := make([]*Stmt, 0, len(tree.Stmts))
	for _, raw := range tree.Stmts {
		st, err := translateRaw(sql, raw, schema, opts)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

// Split returns the text of each statement of a query string, as SQL
// translates them (a syntax error is 42601, as from SQL).
func Split(sql string) ([]string, error) {
	if err := checkParseDepth(sql); err != nil {
		return nil, err
	}
	tree, err := pg.Parse(sql)
	if err != nil {
		return nil, parseError(err)
	}
	out := make([]string, len(tree.Stmts))
	for i, raw := range tree.Stmts {
		out[i] = statementText(sql, raw)
	}
	return out, nil
}

// parseError turns pg_query's error into 42601 with PostgreSQL's message and
// cursor position.
func parseError(err error) error {
	var pe *pgparser.Error
	if errors.As(err, &pe) {
		e := pgerror.New(pgerror.SyntaxError, "%s", pe.Message)
		e.Position = int32(pe.Cursorpos)
		return e
	}
	return pgerror.New(pgerror.SyntaxError, "%s", err.Error())
}

// statementText cuts a statement's own text out of the query string.
func statementText(sql string, raw *pg.RawStmt) string {
	start := int(raw.StmtLocation)
	end := len(sql)
	if raw.StmtLen > 0 && start+int(raw.StmtLen) <= len(sql) {
		end = start + int(raw.StmtLen)
	}
	if start > end {
		start = end
	}
	return strings.TrimSpace(sql[start:end])
}

// bailout carries a *pgerror.Error up through the recursive emitters; it is
// recovered in translateRaw and never escapes the package.
type bailout struct{ err *pgerror.Error }

// translator holds what one statement's translation accumulates.
type translator struct {
	schema     Schema
	opts       Options
	params     []uint32 // inferred OIDs, indexed by $n-1
	maxParam   int
	write      bool // inside INSERT/UPDATE/DELETE/DDL: determinism rules apply
	catalog    bool
	forUpdate  bool
	scope      *scope
	retAlias   string                   // inside RETURNING: the written table's alias
	lits       *litExtract              // shape.go: constants become parameters; nil otherwise
	tlistSRF   map[*pg.FuncCall]colInfo // set-returning calls of select lists, read from FROM (emit_srf.go)
	starListed bool                     // a * was spelled out column by column (srfStar)
	partial    []colInfo                // the typed columns of the last query whose * left its list unknown
	seqWrite   bool                     // calls nextval or setval: the statement is a write
	seqRead    []string                 // currval's sequences ("" for lastval), answered by the server
	alterPost  []string                 // ALTER TABLE: statements that run after its spec (emit_alter_table.go)
}

func translateRaw(sql string, raw *pg.RawStmt, schema Schema, opts Options) (st *Stmt, err error) {
	t := &translator{schema: schema, opts: opts, lits: opts.extract}
	t.params = append([]uint32(nil), opts.ParamOIDs...)
	defer func() {
		if r := recover(); r != nil {
			b, ok := r.(bailout)
			if !ok {
				panic(r)
			}
			st, err = nil, b.err
		}
	}()
	st = t.statement(raw.Stmt)
	st.Source = statementText(sql, raw)
	n := t.maxParam
	if len(opts.ParamOIDs) > n {
		n = len(opts.ParamOIDs)
	}
	if n > 0 {
		st.ParamOIDs = append([]uint32(nil), t.params[:n]...)
	}
	st.Catalog = st.Catalog || t.catalog
	if st.Kind != KindCopy { // a COPY lists its own (emit_copy.go)
		st.Access = accessOf(raw.Stmt)
	}
	t.sequenceStatement(st)
	st.ForUpdate = st.ForUpdate || t.forUpdate
	st.Checksum = st.Kind == KindSelect && reChecksumQuery.MatchString(st.SQL)
	st.CommitIndex = st.Kind == KindSelect && reCommitIndexQuery.MatchString(st.SQL)
	st.ExportSnapshot = st.Kind == KindSelect && reExportSnapshotQuery.MatchString(st.SQL)
	if m := reAdvisoryQuery.FindStringSubmatch(st.SQL); m != nil && st.Kind == KindSelect {
		st.Advisory, st.SQL = m[1], ""
		if m[2] != "" {
			st.SQL = "SELECT " + m[2]
		}
		oid := pgvalue.OIDText // void
		if strings.Contains(m[1], "try_") || strings.Contains(m[1], "unlock") && m[1] != "pg_advisory_unlock_all" {
			oid = pgvalue.OIDBool
		}
		st.Columns = []ResultColumn{{Name: m[3], OID: oid, TypeMod: -1}}
		argType := pgvalue.OIDInt8 // pg_advisory_lock(bigint), or (integer, integer)
		if strings.Contains(m[2], ",") {
			argType = pgvalue.OIDInt4
		}
		for i, oid := range st.ParamOIDs {
			if oid == 0 {
				st.ParamOIDs[i] = argType
			}
		}
	}
	return st, nil
}

// reAdvisoryQuery matches a SELECT of one advisory-lock function alone, which
// the server answers (session advisory locks are held by the server, not by
// SQLite).
var reAdvisoryQuery = regexp.MustCompile(`^SELECT (pg_(?:try_)?advisory_(?:xact_)?(?:lock|unlock)(?:_shared)?|pg_advisory_unlock_all)\((.*)\) AS "([^"]*)"$`)

// reChecksumQuery matches the translation of "SELECT pgraft_checksum()" on
// its own, which the engine answers (sqlengine/checksum.go).
var reChecksumQuery = regexp.MustCompile(`^SELECT pgraft_checksum\(\) AS "[^"]*"$`)

// reCommitIndexQuery matches the translation of "SELECT pgraft_commit_index()"
// on its own, which the server answers.
var reCommitIndexQuery = regexp.MustCompile(`^SELECT pgraft_commit_index\(\) AS "[^"]*"$`)

// reExportSnapshotQuery matches the translation of "SELECT
// pg_export_snapshot()" on its own, which the server answers.
var reExportSnapshotQuery = regexp.MustCompile(`^SELECT pg_export_snapshot\(\) AS "[^"]*"$`)

// fail aborts the translation with err.
func (t *translator) fail(err *pgerror.Error) { panic(bailout{err}) }

// unsupported aborts with 0A000 naming the construct.
func (t *translator) unsupported(format string, args ...any) {
	t.fail(pgerror.Unsupported(fmt.Sprintf(format, args...)))
}

// statement dispatches on the statement node.
func (t *translator) statement(n *pg.Node) *Stmt {
	switch {
	case n.GetSelectStmt() != nil:
		return t.selectStatement(n.GetSelectStmt())
	case n.GetInsertStmt() != nil:
		return t.insertStatement(n.GetInsertStmt())
	case n.GetUpdateStmt() != nil:
		return t.updateStatement(n.GetUpdateStmt())
	case n.GetDeleteStmt() != nil:
		return t.deleteStatement(n.GetDeleteStmt())
	case n.GetTruncateStmt() != nil:
		return t.truncateStatement(n.GetTruncateStmt())
	case n.GetCopyStmt() != nil:
		return t.copyStatement(n.GetCopyStmt())
	}
	if st := t.roleStatement(n); st != nil { // emit_role.go; before ddl: ALTER ROLE … RENAME
		return st
	}
	if st := t.ddlStatement(n); st != nil {
		return st
	}
	if st := t.utilityStatement(n); st != nil {
		return st
	}
	t.unsupported("%s", statementName(n))
	return nil
}

// unsupportedStatements names statements that are refused outright.
var unsupportedStatements = map[string]string{
	"ExplainStmt": "EXPLAIN",
	"PrepareStmt": "PREPARE", "ExecuteStmt": "EXECUTE", "DeclareCursorStmt": "DECLARE CURSOR",
	"FetchStmt": "FETCH", "ClosePortalStmt": "CLOSE", "CallStmt": "CALL", "DoStmt": "DO",
	"ListenStmt": "LISTEN", "NotifyStmt": "NOTIFY", "CreateFunctionStmt": "CREATE FUNCTION",
	"CreateTrigStmt": "CREATE TRIGGER", "CompositeTypeStmt": "CREATE TYPE",
	"CreateEnumStmt": "CREATE TYPE", "CreateDomainStmt": "CREATE DOMAIN",
	"GrantRoleStmt": "GRANT", "CreatedbStmt": "CREATE DATABASE",
	"DropdbStmt": "DROP DATABASE", "CreateTableAsStmt": "CREATE TABLE AS",
	"RefreshMatViewStmt": "REFRESH MATERIALIZED VIEW", "ClusterStmt": "CLUSTER",
	"ReindexStmt": "REINDEX", "CheckPointStmt": "CHECKPOINT", "LoadStmt": "LOAD",
	"CreatePolicyStmt": "CREATE POLICY", "RuleStmt": "CREATE RULE", "AlterOwnerStmt": "ALTER OWNER",
	"AlterObjectSchemaStmt": "ALTER … SET SCHEMA", "CreatePLangStmt": "CREATE LANGUAGE",
	"ReassignOwnedStmt": "REASSIGN OWNED",
	"DropOwnedStmt":     "DROP OWNED", "SecLabelStmt": "SECURITY LABEL", "CreateStatsStmt": "CREATE STATISTICS",
	"AlterEnumStmt": "ALTER TYPE", "AlterDomainStmt": "ALTER DOMAIN", "CreateCastStmt": "CREATE CAST",
	"DefineStmt": "CREATE AGGREGATE/OPERATOR/TYPE", "AlterFunctionStmt": "ALTER FUNCTION",
	"CreateEventTrigStmt": "CREATE EVENT TRIGGER", "CreatePublicationStmt": "CREATE PUBLICATION",
	"CreateSubscriptionStmt": "CREATE SUBSCRIPTION", "MergeStmt": "MERGE",
	"AlterDatabaseStmt": "ALTER DATABASE", "AlterSystemStmt": "ALTER SYSTEM",
}

// statementName is a readable name for a statement node in an error.
func statementName(n *pg.Node) string {
	name := fmt.Sprintf("%T", n.GetNode())
	name = strings.TrimPrefix(name, "*pg_query.Node_")
	if s, ok := unsupportedStatements[name]; ok {
		return s
	}
	return "statement " + name
}

// --- names and literals ---

// sqliteKeywords are the words SQLite reserves; identifiers spelled like one
// are quoted.
var sqliteKeywords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`abort action add after all alter always analyze and as asc
	attach autoincrement before begin between by cascade case cast check collate column commit
	conflict constraint create cross current current_date current_time current_timestamp database
	default deferrable deferred delete desc detach distinct do drop each else end escape except
	exclude exclusive exists explain fail filter first following for foreign from full generated
	glob group groups having if ignore immediate in index indexed initially inner insert instead
	intersect into is isnull join key last left like limit match materialized natural no not
	nothing notnull null nulls of offset on or order others outer over partition plan pragma
	preceding primary query raise range recursive references regexp reindex release rename
	replace restrict returning right rollback row rows savepoint select set table temp temporary
	then ties to transaction trigger unbounded union unique update using vacuum values view
	virtual when where window with without true false rowid`) {
		m[w] = true
	}
	return m
}()

// QuoteIdent quotes an identifier for SQLite when it is not a plain
// lower-case word or is one of SQLite's keywords.
func QuoteIdent(s string) string {
	plain := s != "" && !sqliteKeywords[s]
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || i > 0 && r >= '0' && r <= '9') {
			plain = false
			break
		}
	}
	if plain {
		return s
	}
	return alwaysQuote(s)
}

// alwaysQuote double-quotes an identifier.
func alwaysQuote(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// quoteString renders a SQL string literal for SQLite. NUL cannot be
// stored in PostgreSQL text: 22021 as PostgreSQL says.
func (t *translator) quoteString(s string) string {
	if strings.IndexByte(s, 0) >= 0 {
		t.fail(pgerror.New(pgerror.CharacterNotInRepertoire,
			"invalid byte sequence for encoding \"UTF8\": 0x00"))
	}
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// strVal returns the text of a String node ("" otherwise).
func strVal(n *pg.Node) string {
	if n == nil {
		return ""
	}
	if s := n.GetString_(); s != nil {
		return s.Sval
	}
	return ""
}

// nameList returns the String items of a name list.
func nameList(ns []*pg.Node) []string {
	out := make([]string, 0, len(ns))
	for _, n := range ns {
		out = append(out, strVal(n))
	}
	return out
}

// lastName returns the last element of a qualified name list.
func lastName(ns []*pg.Node) string {
	if len(ns) == 0 {
		return ""
	}
	return strVal(ns[len(ns)-1])
}

// constInt returns an integer constant's value.
func constInt(n *pg.Node) (int64, bool) {
	c := n.GetAConst()
	if c == nil || c.Isnull {
		return 0, false
	}
	switch v := c.Val.(type) {
	case *pg.A_Const_Ival:
		return int64(v.Ival.Ival), true
	case *pg.A_Const_Fval:
		i, err := strconv.ParseInt(v.Fval.Fval, 10, 64)
		return i, err == nil
	}
	return 0, false
}

// constString returns a string constant's value.
func constString(n *pg.Node) (string, bool) {
	c := n.GetAConst()
	if c == nil || c.Isnull {
		return "", false
	}
	if v, ok := c.Val.(*pg.A_Const_Sval); ok {
		return v.Sval.Sval, true
	}
	return "", false
}

// useParam records a reference to $n.
func (t *translator) useParam(n int) {
	if n < 1 || n > maxParams {
		t.fail(pgerror.New(pgerror.UndefinedParameter, "there is no parameter $%d", n))
	}
	if n > t.maxParam {
		t.maxParam = n
	}
	for len(t.params) < n {
		t.params = append(t.params, 0)
	}
}

// paramType returns the (client or inferred) type of $n, or nil.
func (t *translator) paramType(n int) *PGType {
	if n < 1 || n > len(t.params) {
		return nil
	}
	return TypeByOID(t.params[n-1])
}

// hintParam gives an untyped parameter node the type typ.
func (t *translator) hintParam(n *pg.Node, typ *PGType) {
	if n == nil || typ == nil {
		return
	}
	p := n.GetParamRef()
	if p == nil || int(p.Number) < 1 || int(p.Number) > maxParams {
		return // paramRef refuses it
	}
	t.useParam(int(p.Number))
	if t.params[p.Number-1] == 0 && typ.OID != pgvalue.OIDUnknown {
		t.params[p.Number-1] = typ.OID
	}
}

// relationName resolves a table reference for a write or DDL: public or
// unqualified, never a catalog relation.
func (t *translator) relationName(rv *pg.RangeVar) string {
	if rv == nil {
		t.unsupported("statement without a relation")
	}
	if rv.Catalogname != "" {
		t.unsupported("cross-database references")
	}
	switch rv.Schemaname {
	case "", "public":
	case "pg_catalog", "information_schema":
		t.fail(pgerror.New(pgerror.InsufficientPrivilege,
			"permission denied: \"%s.%s\" is a system catalog", rv.Schemaname, rv.Relname))
	default:
		t.fail(pgerror.New(invalidSchemaName, "schema \"%s\" does not exist", rv.Schemaname))
	}
	if rv.Relpersistence == "t" {
		t.unsupported("TEMP tables")
	}
	if rv.Relpersistence == "u" {
		t.unsupported("UNLOGGED tables")
	}
	return rv.Relname
}

// table looks a user table up in the schema (nil when unknown).
func (t *translator) table(name string) *TableInfo {
	if t.schema == nil {
		return nil
	}
	return t.schema.Table(name)
}
