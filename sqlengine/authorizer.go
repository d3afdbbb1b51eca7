package sqlengine

import (
	"fmt"
	"strings"

	"github.com/pgraft/pgraft/pgwire/pgerror"
	"github.com/pgraft/pgraft/sqlengine/translate"
)

// The sandbox. Every connection of the engine has an SQLite authorizer
// (sqlite3_set_authorizer, installed by authorizer_conn.go), consulted while
// SQLite prepares a statement. A client statement — anything translation
// produced, whether it runs on a read connection, in a WriteTx or in
// ApplyBatch — may only touch what is the same on every node and cannot
// break apply:
//
//   - Tables: any user table or view. Refused with 42P01 (relation does not
//     exist), as PostgreSQL answers for an unknown relation: every name
//     starting with "_pgraft" (pgraft's own tables, _pgraft_meta), "sqlite_"
//     (sqlite_master/sqlite_schema, sqlite_temp_master, sqlite_sequence,
//     sqlite_stat*) and "pragma_" (the table-valued pragma functions, e.g.
//     pragma_database_list, which reads the node's file path), for reading,
//     writing, DROP, ALTER and CREATE INDEX ON. Creating a table, view or
//     index whose name has one of these prefixes is refused with 42501.
//   - Functions: an allowlist (clientFunctions): every function pgraft
//     registers (functions*.go, determinism.go, except the four stand-ins
//     below) and the SQLite built-ins in sqliteFunctions, which are
//     deterministic and the same on every node and build. Anything else is
//     refused with 42883 (function does not exist), notably
//     sqlite_version(), sqlite_source_id(), sqlite_compileoption_get/used()
//     (the build), changes(), total_changes(), last_insert_rowid() (the
//     connection), sqlite_offset() (the file layout), load_extension(),
//     sqlite_log(), timediff() (reads the node's clock), libm's
//     transcendental functions (exp, ln, log*, pow, power, sin … tanh: the
//     C library may round differently), and SQLite's debug, FTS and R*Tree
//     functions. The date functions' 'localtime' and 'utc' modifiers read
//     the node's time zone: refused in writes with 0A000 (determinism.go);
//     a read answers with its node's zone, as now() with its node's clock.
//   - Statements: PRAGMA (but for the read-only schema pragmas in
//     clientPragmas, which SQLite's pragma_* functions run inside the
//     catalog views), ATTACH, DETACH, TEMP objects, triggers, virtual
//     tables, and any schema change on a read connection are refused with
//     42501 (permission denied).
//
// SQLite's own work for a client's DDL (recording the new table in
// sqlite_master, AUTOINCREMENT's sqlite_sequence, ANALYZE's sqlite_stat1,
// ALTER TABLE's sqlite_rename_* helpers) is allowed while that statement is
// prepared and run (ddlState), but not a query inside it: CREATE TABLE …
// AS fails (translation refuses it anyway).
//
// pgraft's own statements keep their access in two ways:
//
//   - Internal mode (pgraft_auth.internal), set around a statement of
//     pgraft's: apply's _pgraft_meta, initMeta, schema loading, checksum,
//     snapshot, PRAGMA schema_version and wal_checkpoint. The write
//     connection is serialized by Engine.wmu and a read connection is held
//     as a *sql.Conn, so no client statement runs meanwhile. The authorizer
//     runs at prepare time and go-sqlite3 caches prepared statements by
//     their text: when internal mode allowed something a client may not do
//     (pgraft_auth.privileged), leaving it re-installs the authorizer, which
//     expires every prepared statement of the connection, so a client that
//     sends the same text prepares it again under its own rights. The hot
//     internal statements of apply bypass the cache altogether (rawconn.go).
//   - The catalog views (catalog.go): each is created under a name with a
//     prefix secret to its connection (pgraft_auth.trusted) and exposed
//     through a view of its public name. SQLite names the innermost view an
//     access comes from, and a client could name a CTE or a view of its own
//     pg_class, but not guess the prefix. The write connection has the
//     catalog views too, for the catalog queries of a transaction that
//     changed the schema (WriteTx.CatalogQuery), but its views may be read
//     only while such a query runs (pgraft_auth.catalog holds the prefix,
//     pgraft_auth.trusted only then): to any other statement, a write that
//     every node replays included, reading them is refused (0A000).
//
// A refusal is a result of the statement, the same on every node, so apply
// treats SQLITE_AUTH as a data error: the entry fails on every node and
// changes nothing.

// SQLite's authorizer action codes (sqlite3.h, SQLITE_CREATE_INDEX …).
const (
	authCreateIndex       = 1
	authCreateTable       = 2
	authCreateTempIndex   = 3
	authCreateTempTable   = 4
	authCreateTempTrigger = 5
	authCreateTempView    = 6
	authCreateTrigger     = 7
	authCreateView        = 8
	authDelete            = 9
	authDropIndex         = 10
	authDropTable         = 11
	authDropTempIndex     = 12
	authDropTempTable     = 13
	authDropTempTrigger   = 14
	authDropTempView      = 15
	authDropTrigger       = 16
	authDropView          = 17
	authInsert            = 18
	authPragma            = 19
	authRead              = 20
	authSelect            = 21
	authTransaction       = 22
	authUpdate            = 23
	authAttach            = 24
	authDetach            = 25
	authAlterTable        = 26
	authReindex           = 27
	authAnalyze           = 28
	authCreateVTable      = 29
	authDropVTable        = 30
	authFunction          = 31
	authSavepoint         = 32
	authRecursive         = 33
)

// ddlState tells whether the client statement being prepared is a schema
// change, whose own bookkeeping SQLite performs with statements of its own
// that the authorizer sees.
type ddlState int

const (
	ddlNone ddlState = iota
	// ddlCreateTable: CREATE TABLE. A SELECT that follows is the query of
	// CREATE TABLE … AS, a client's, and ends the allowance.
	ddlCreateTable
	// ddlSchema: any other schema change (ALTER TABLE runs queries of its
	// own on sqlite_master, ANALYZE reads sqlite_stat1 back).
	ddlSchema
)

// ddlBefore is the DDL state of client statement q before SQLite prepares
// it. ANALYZE of one table deletes and reads that table's sqlite_stat1 rows
// before the authorizer learns that the statement is ANALYZE; nothing else
// can start with that keyword.
func ddlBefore(q string) ddlState {
	q = strings.TrimLeft(q, " \t\r\n")
	if hasPrefixFold(q, "ANALYZE") && (len(q) == len("ANALYZE") || strings.ContainsRune(" \t\r\n;", rune(q[len("ANALYZE")]))) {
		return ddlSchema
	}
	return ddlNone
}

// refusalKind says how a refusal reads to the client.
type refusalKind int

const (
	refusedNone       refusalKind = iota
	refusedRelation               // 42P01: the relation does not exist
	refusedFunction               // 42883: the function does not exist
	refusedReserved               // 42501: a name reserved for pgraft and SQLite
	refusedPermission             // 42501: a statement clients may not run
	refusedCatalog                // 0A000: a write that reads the catalog views
)

// refusal is why a client may not do what the authorizer was asked.
type refusal struct {
	kind   refusalKind
	action int
	name   string // the relation, function, pragma or object
}

// authRequest is one call of the authorizer.
type authRequest struct {
	action     int
	arg1, arg2 string // action-specific: table and column, index and table, pragma and argument, -- and function …
	inner      string // the innermost view or trigger the access comes from; "" at the top level
}

// authConn is the state of one connection's authorizer, as authorize sees it.
type authConn struct {
	internal bool
	allowDDL bool
	ddl      ddlState
	trusted  string // the catalog views' name prefix while they may be read, else ""
	catalog  string // the catalog views' name prefix; "" when the connection has none
}

// authorize decides one request. It returns whether to allow it, and what a
// client would be refused (refusedNone if a client may do it): in internal
// mode or from a catalog view the request is allowed anyway, and a
// refusal then means that internal access was used.
func (c *authConn) authorize(r authRequest) (bool, refusal) {
	if c.trusted != "" && strings.HasPrefix(r.inner, c.trusted) {
		return true, refusal{} // the body of one of this connection's catalog views
	}
	if c.catalog != "" && strings.HasPrefix(r.inner, c.catalog) {
		// The write connection's catalog views, outside a transaction's
		// catalog query: a write may not read them.
		return c.internal, refusal{refusedCatalog, r.action, ""}
	}
	ref := c.client(r)
	return c.internal || ref.kind == refusedNone, ref
}

// client is the policy for client statements (see the top of this file).
func (c *authConn) client(r authRequest) refusal {
	switch r.action {
	case authSelect:
		if c.ddl == ddlCreateTable {
			c.ddl = ddlNone // the query of CREATE TABLE … AS is a client's
		}
		return refusal{}
	case authRecursive, authTransaction, authSavepoint:
		return refusal{}
	case authRead:
		return c.table(r, false)
	case authInsert, authUpdate, authDelete:
		return c.table(r, true)
	case authFunction:
		name := strings.ToLower(r.arg2)
		if clientFunctions[name] || c.ddl != ddlNone && ddlFunctions[name] {
			return refusal{}
		}
		return refusal{refusedFunction, r.action, r.arg2}
	case authPragma:
		if clientPragmas[strings.ToLower(r.arg1)] {
			return refusal{}
		}
		return refusal{refusedPermission, r.action, r.arg1}
	case authCreateTable, authCreateView, authCreateIndex, authDropTable, authDropView, authDropIndex,
		authAlterTable, authReindex, authAnalyze:
		return c.schemaChange(r)
	}
	return refusal{refusedPermission, r.action, r.arg1}
}

// table decides a read or a write of one table.
func (c *authConn) table(r authRequest, write bool) refusal {
	name := r.arg1
	switch {
	case c.trusted != "" && strings.HasPrefix(name, c.trusted) && !write:
		return refusal{} // a catalog view's body, read through its public view
	case c.catalog != "" && strings.HasPrefix(name, c.catalog):
		return refusal{refusedCatalog, r.action, ""}
	case write && isSchemaTable(name):
		// Only DDL writes these: SQLite refuses a client's own INSERT,
		// UPDATE or DELETE on sqlite_master, and PRAGMA writable_schema is
		// refused.
		return refusal{}
	case c.ddl != ddlNone && isSQLiteBookkeeping(name):
		return refusal{}
	case isReservedName(name):
		return refusal{refusedRelation, r.action, name}
	}
	return refusal{}
}

// schemaChange decides CREATE, DROP, ALTER, ANALYZE and REINDEX, and notes
// that the statement is DDL.
func (c *authConn) schemaChange(r authRequest) refusal {
	if !c.allowDDL {
		return refusal{refusedPermission, r.action, r.arg1}
	}
	name, table := r.arg1, ""
	switch r.action {
	case authCreateIndex, authDropIndex:
		table = r.arg2
	case authAlterTable:
		name = r.arg2 // arg1 is the database
	}
	creates := r.action == authCreateTable || r.action == authCreateView || r.action == authCreateIndex
	state := ddlSchema
	switch {
	case creates && hasPrefixFold(name, "sqlite_") && !isReservedName(table):
		// SQLite's own objects: sqlite_autoindex_* for a UNIQUE or PRIMARY
		// KEY constraint, sqlite_sequence for AUTOINCREMENT, sqlite_stat1
		// for ANALYZE. SQLite refuses these names to a client itself.
	case r.action == authAnalyze:
		// ANALYZE without a name visits every table, _pgraft_meta included;
		// the statistics go to sqlite_stat1, which clients cannot read.
	case isReservedName(table):
		return refusal{refusedRelation, r.action, table}
	case isReservedName(name):
		if creates {
			return refusal{refusedReserved, r.action, name}
		}
		return refusal{refusedRelation, r.action, name}
	case r.action == authCreateTable:
		state = ddlCreateTable
	}
	c.ddl = max(c.ddl, state)
	return refusal{}
}

// reservedPrefixes start the names of relations that are not the client's:
// pgraft's own tables, SQLite's, and SQLite's table-valued pragma functions.
var reservedPrefixes = []string{"_pgraft", "sqlite_", "pragma_"}

func isReservedName(name string) bool {
	for _, p := range reservedPrefixes {
		if hasPrefixFold(name, p) {
			return true
		}
	}
	return false
}

// hasPrefixFold is strings.HasPrefix ignoring ASCII case, as SQLite
// compares names.
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// isSchemaTable reports whether name is SQLite's schema table (main or temp).
func isSchemaTable(name string) bool {
	switch strings.ToLower(name) {
	case "sqlite_master", "sqlite_schema", "sqlite_temp_master", "sqlite_temp_schema":
		return true
	}
	return false
}

// isSQLiteBookkeeping reports whether name is one of the tables SQLite
// maintains for DDL: the schema table, sqlite_sequence and sqlite_stat*.
func isSQLiteBookkeeping(name string) bool {
	return isSchemaTable(name) || strings.EqualFold(name, "sqlite_sequence") || hasPrefixFold(name, "sqlite_stat")
}

// clientPragmas are the PRAGMAs a client statement may run: the read-only
// schema pragmas behind SQLite's pragma_* table-valued functions, which
// prepare them while they run (the catalog views read pragma_table_xinfo).
// The pragma_* functions themselves are relations a client cannot name.
var clientPragmas = map[string]bool{
	"table_info": true, "table_xinfo": true, "index_list": true, "index_info": true,
	"index_xinfo": true, "foreign_key_list": true,
}

// ddlFunctions are SQLite's internal helpers of ALTER TABLE, allowed while
// the schema change that calls them is prepared.
var ddlFunctions = map[string]bool{
	"sqlite_rename_column": true, "sqlite_rename_table": true, "sqlite_rename_test": true,
	"sqlite_rename_quotefix": true, "sqlite_drop_column": true, "sqlite_add_constraint": true,
	"sqlite_drop_constraint": true, "sqlite_find_constraint": true, "sqlite_fail": true,
}

// sqliteFunctions are the SQLite built-ins a client statement may call:
// their result depends only on their arguments, the same on every node and
// build. Each one not listed is refused, whatever a later SQLite adds.
var sqliteFunctions = []string{
	// scalar (iif, if, coalesce, likely … are inlined by the planner)
	"abs", "char", "coalesce", "concat", "concat_ws", "format", "glob", "hex", "if", "ifnull", "iif",
	"instr", "length", "like", "likelihood", "likely", "lower", "ltrim", "max", "min", "nullif",
	"octet_length", "printf", "quote", "replace", "round", "rtrim", "sign", "substr", "substring",
	"trim", "typeof", "unhex", "unicode", "unistr", "unistr_quote", "unlikely", "upper", "zeroblob",
	// aggregates (median and percentile* only with the sqlite_percentile build tag)
	"avg", "count", "group_concat", "string_agg", "sum", "total",
	"median", "percentile", "percentile_cont", "percentile_disc",
	// window functions
	"row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile", "lag", "lead",
	"first_value", "last_value", "nth_value",
	// JSON (json_each and json_tree are table-valued: relations, allowed)
	"json", "jsonb", "json_array", "jsonb_array", "json_array_length", "json_array_insert",
	"jsonb_array_insert", "json_error_position", "json_extract", "jsonb_extract", "json_insert",
	"jsonb_insert", "json_object", "jsonb_object", "json_patch", "jsonb_patch", "json_pretty",
	"json_quote", "json_remove", "jsonb_remove", "json_replace", "jsonb_replace", "json_set",
	"jsonb_set", "json_type", "json_valid", "json_group_array", "jsonb_group_array",
	"json_group_object", "jsonb_group_object", "->", "->>",
	// math, only with the sqlite_math_functions build tag: the ones IEEE
	// arithmetic makes exact (not exp, ln, log*, pow, trigonometry)
	"ceil", "ceiling", "floor", "trunc", "mod", "pi", "sqrt", "degrees", "radians",
	// date and time: the write connection replaces them with versions that
	// take 'now' from the entry and refuse 'localtime' and 'utc'
	// (determinism.go); a read answers with this node's clock, like now()
	"date", "time", "datetime", "julianday", "unixepoch", "strftime",
	"current_date", "current_time", "current_timestamp",
	// randomness: the write connection draws from the entry's seed
	"random", "randomblob",
}

// refusedStandIns are functions the write connection registers only to
// refuse them with a clear error; a client never reaches them.
var refusedStandIns = map[string]bool{
	"last_insert_rowid": true, "changes": true, "total_changes": true, "sqlite_version": true,
}

// clientFunctions is the allowlist: sqliteFunctions and every function
// pgraft registers. Read-only after package initialization.
var clientFunctions = buildClientFunctions()

func buildClientFunctions() map[string]bool {
	m := map[string]bool{}
	for _, name := range sqliteFunctions {
		m[name] = true
	}
	for _, name := range registeredFunctionNames() {
		if !refusedStandIns[name] {
			m[name] = true
		}
	}
	return m
}

// registeredFunctionNames lists every function registerFunctions,
// registerWriteFunctions and registerReadFunctions install.
func registeredFunctionNames() []string {
	var names []string
	for _, fns := range [][]sqlFunc{castFuncs(nil), stringFuncs(), mathFuncs(), arrayFuncs(), srfFuncs(nil), jsonbFuncs(), arrayOpFuncs(nil),
		catalogFuncs(nil), checksumFuncs(), numericFuncs()} {
		for _, f := range fns {
			names = append(names, f.name)
		}
	}
	names = append(names, "pg_dt_arith", "pg_array_agg", "pg_json_agg", "pg_string_agg", "pg_ordered_set", "pg_numeric_sum", "pg_numeric_avg")
	for name := range writeFuncs(&detState{}) {
		names = append(names, name)
	}
	names = append(names, translate.SQLiteDateFuncs()...)
	names = append(names, detStateFuncs...)
	for name := range readFuncs(nil, readClock{}) {
		names = append(names, name)
	}
	for _, f := range readSequenceFuncs() {
		names = append(names, f.name)
	}
	names = append(names, translate.StatActivityFunc, translate.StatReplicationFunc, translate.StatWalReceiverFunc) // nodestats.go
	return names
}

// authError is the client's error for a refusal.
func authError(r refusal) *pgerror.Error {
	switch r.kind {
	case refusedRelation:
		return pgerror.New(pgerror.UndefinedTable, "relation %q does not exist", r.name)
	case refusedFunction:
		return pgerror.New(pgerror.UndefinedFunction, "function %s does not exist", r.name).
			WithHint("No function matches the given name and argument types. You might need to add explicit type casts.")
	case refusedCatalog:
		return pgerror.New(pgerror.FeatureNotSupported, "reading pg_catalog or information_schema in a write is not supported by pgraft")
	case refusedReserved:
		return pgerror.New(pgerror.InsufficientPrivilege, "permission denied to create %q", r.name).
			WithDetail("Names starting with _pgraft, sqlite_ or pragma_ are reserved.")
	}
	return pgerror.New(pgerror.InsufficientPrivilege, "permission denied: %s", refusedWhat(r))
}

// refusedWhat names what a statement clients may not run tried to do.
func refusedWhat(r refusal) string {
	switch r.action {
	case authPragma:
		return "PRAGMA " + r.name
	case authAttach:
		return "ATTACH"
	case authDetach:
		return "DETACH"
	case authCreateTempIndex, authCreateTempTable, authCreateTempTrigger, authCreateTempView,
		authDropTempIndex, authDropTempTable, authDropTempTrigger, authDropTempView:
		return "temporary objects"
	case authCreateTrigger, authDropTrigger:
		return "triggers"
	case authCreateVTable, authDropVTable:
		return "virtual tables"
	case authCreateTable, authCreateView, authCreateIndex, authDropTable, authDropView, authDropIndex,
		authAlterTable, authReindex, authAnalyze:
		return "schema changes on a read connection"
	}
	return fmt.Sprintf("SQLite action %d", r.action)
}
