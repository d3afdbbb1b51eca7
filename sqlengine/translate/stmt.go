package translate

// Kind classifies a translated statement: it decides where the statement
// runs (server/route.go) and how its result is reported.
type Kind uint8

const (
	KindSelect     Kind = iota + 1 // returns rows, changes nothing (SELECT, VALUES, TABLE, WITH … SELECT)
	KindInsert                     // INSERT (…RETURNING, …ON CONFLICT)
	KindUpdate                     // UPDATE, and a SELECT that calls nextval/setval (Tag "SELECT", Returning)
	KindDelete                     // DELETE, and TRUNCATE (Tag "TRUNCATE TABLE")
	KindDDL                        // CREATE/DROP/ALTER …: a write that changes the schema
	KindBegin                      // BEGIN, START TRANSACTION (options in Tx)
	KindCommit                     // COMMIT, END
	KindRollback                   // ROLLBACK, ABORT
	KindSavepoint                  // SAVEPOINT name (Savepoint)
	KindRelease                    // RELEASE [SAVEPOINT] name (Savepoint)
	KindRollbackTo                 // ROLLBACK TO [SAVEPOINT] name (Savepoint)
	KindSet                        // SET, SET LOCAL, SET TIME ZONE, SET TRANSACTION …, RESET, SELECT set_config(…)
	KindShow                       // SHOW name, SHOW ALL (Show)
	KindDiscard                    // DISCARD ALL / PLANS / …, DEALLOCATE: session housekeeping
	KindNoop                       // accepted and without effect (UNLISTEN *, COMMENT ON for now, …): Tag says what
	KindDeclare                    // DECLARE name CURSOR FOR query (Cursor)
	KindFetch                      // FETCH / MOVE [FORWARD] n FROM name (Cursor)
	KindClose                      // CLOSE name | ALL (Cursor)
	KindRole                       // CREATE/ALTER/DROP ROLE or USER (Role): a write through the log
	KindCopy                       // COPY … FROM STDIN / TO STDOUT (Copy): run by the server (server/copy.go)
)

// IsWrite reports whether statements of this kind change data or schema and
// so must go through the log.
func (k Kind) IsWrite() bool {
	return k == KindInsert || k == KindUpdate || k == KindDelete || k == KindDDL || k == KindRole
}

// Stmt is one PostgreSQL statement translated for SQLite. SQL fills it;
// the engine and the server read it and never change it, so a Stmt may be
// shared by a cached prepared statement.
type Stmt struct {
	Kind Kind
	Tag  string // CommandComplete verb: "SELECT", "INSERT", "UPDATE", "DELETE", "CREATE TABLE", "SET", "BEGIN", …

	// SQL is the SQLite statement to run ("" for utility kinds). Parameters
	// are numbered "?1", "?2", … as in the PostgreSQL source ($1, $2, …).
	SQL string
	// Post holds further SQLite statements without parameters that run right
	// after SQL in the same transaction (e.g. a CREATE INDEX that a PostgreSQL
	// UNIQUE constraint clause in ALTER TABLE implies).
	Post []string

	// ParamOIDs has one OID per parameter $1…$n: the client's, or the type
	// inferred from context (a compared or assigned column, a cast), or 0
	// when nothing tells.
	ParamOIDs []uint32

	// Columns describes the result columns when the translator knows them,
	// in order; nil when it cannot tell (a "*" in the target list). OID 0 in
	// an entry means "use SQLite's declared type, else text". Names follow
	// PostgreSQL's rules ("?column?", "count", "now"); the SQL carries them as
	// aliases so that SQLite reports the same names.
	Columns []ResultColumn

	Returning bool // INSERT/UPDATE/DELETE … RETURNING: the write returns rows
	// Bounded: an INSERT of VALUES rows of constants and parameters, whose
	// work is small and fixed (bounded.go): the leader proposes it as an
	// autocommit write without running it first.
	Bounded   bool
	ForUpdate bool // SELECT … FOR UPDATE/SHARE: takes the write gate inside a transaction
	Catalog   bool // reads pg_catalog or information_schema relations: runs on the catalog connection
	Checksum  bool // SELECT pgraft_checksum(): answered by Engine.Checksum, not by SQLite
	// CommitIndex: SELECT pgraft_commit_index(), answered by the server (a
	// consistency token, DESIGN.md §5), not by SQLite.
	CommitIndex bool
	// ExportSnapshot: SELECT pg_export_snapshot() on its own, answered by
	// the server (server/snapshots.go).
	ExportSnapshot bool
	// Advisory names the advisory-lock function of "SELECT pg_advisory_lock(…)"
	// and its kin, which the server runs; SQL then only evaluates the
	// arguments ("" when there are none).
	Advisory string
	// SessionSeq is "SELECT currval('s')" or "SELECT lastval()" alone,
	// which the server answers from the session (sequence.go); SQL is "".
	SessionSeq *SessionSeq
	// SessionValues: the statement calls currval or lastval inside a larger
	// one; the server binds the session's values (BindSessionSeqs).
	SessionValues bool

	// Utility statement details; nil/empty unless Kind says so.
	Tx        *TxOptions  // KindBegin, and KindSet for SET TRANSACTION / SESSION CHARACTERISTICS
	Savepoint string      // KindSavepoint, KindRelease, KindRollbackTo (name folded like an identifier)
	Set       *SetStmt    // KindSet
	Show      string      // KindShow: the parameter name, lower-case ("all" for SHOW ALL)
	Cursor    *CursorStmt // KindDeclare, KindFetch, KindClose
	Role      *RoleStmt   // KindRole (emit_role.go)
	Copy      *CopyStmt   // KindCopy (emit_copy.go)

	Source string // the statement's PostgreSQL text, for logs and error positions

	// Access lists the relations the statement uses and the privileges
	// each use needs (access.go), for the server's privilege check.
	Access []Access

	// Bound holds the values of parameters ?1…?n that stand for the query's
	// own constants, when the statement comes from a Shape (shape.go); it
	// then has no client parameters. Run SQL with Bound as its arguments.
	Bound []any
	// Template is the shared translation a Shape's statement was copied
	// from (nil otherwise): what describes it, for caches keyed by statement.
	Template *Stmt
}

// ResultColumn is the translator's knowledge of one result column.
type ResultColumn struct {
	Name     string
	OID      uint32 // 0: unknown, let SQLite's declared type decide
	TypeMod  int32  // -1 when none
	TableOID uint32 // a plain table column: its table's OID, else 0
	AttNum   int16  // a plain table column: its attribute number, else 0
}

// CursorStmt is DECLARE, FETCH/MOVE or CLOSE of an SQL-level cursor.
type CursorStmt struct {
	Name  string // folded like an identifier; "" with All
	Query *Stmt  // DECLARE: the cursor's query (a KindSelect)
	Hold  bool   // DECLARE … WITH HOLD
	Count int64  // FETCH/MOVE: rows to return or skip; 0 means ALL
	Move  bool   // MOVE: skip rows without returning them
	All   bool   // CLOSE ALL
}

// TxOptions are the options of BEGIN / START TRANSACTION / SET TRANSACTION.
type TxOptions struct {
	Isolation  string // "", "read uncommitted", "read committed", "repeatable read", "serializable"
	ReadOnly   *bool  // nil when not given
	Deferrable *bool  // nil when not given
	Session    bool   // SET SESSION CHARACTERISTICS AS TRANSACTION: sets the defaults
	// Import: SET TRANSACTION SNAPSHOT, whose identifier is Snapshot (and
	// no other option is set).
	Import   bool
	Snapshot string
}

// SetStmt is SET / RESET / set_config.
type SetStmt struct {
	Name   string   // lower-case; "timezone" for SET TIME ZONE; "" with All
	Values []string // the values as text (a list for search_path); nil for DEFAULT / RESET
	Local  bool     // SET LOCAL, or set_config(…, true)
	Reset  bool     // RESET name, SET name TO DEFAULT
	All    bool     // RESET ALL
	Result bool     // SELECT set_config(…): returns one row, one text column "set_config"
	// IfKnown: SELECT set_config(name, …) FROM pg_settings WHERE name = '…'
	// (pg_dump's form): no row and no change for a parameter pg_settings
	// does not list.
	IfKnown bool
}
