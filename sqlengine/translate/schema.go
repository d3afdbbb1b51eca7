package translate

// Schema is the view of user tables that translation consults: to infer
// parameter types from the columns they are compared with or assigned to, to
// type result columns, and to check DDL. Names are as PostgreSQL folds them
// (lower-case unless quoted).
type Schema interface {
	Table(name string) *TableInfo // nil when there is no such table or view
}

// TableInfo describes one user table (or view) in PostgreSQL terms.
type TableInfo struct {
	Name    string
	OID     uint32 // pg_class.oid as the catalog reports it
	View    bool
	Columns []ColumnInfo // in attnum order
	Indexes []IndexInfo
	FKs     []ForeignKeyInfo
}

// Column returns the column with that name, or nil.
func (t *TableInfo) Column(name string) *ColumnInfo {
	for i := range t.Columns {
		if t.Columns[i].Name == name {
			return &t.Columns[i]
		}
	}
	return nil
}

// ColumnInfo describes one column.
type ColumnInfo struct {
	Name       string
	Type       *PGType // never nil: unknown declared types are text
	TypeMod    int32   // varchar(n)/bpchar(n): n+4; numeric(p,s): ((p<<16)|s)+4; -1 when none
	NotNull    bool
	Default    string // the default as PostgreSQL would show it (pg_get_expr), "" if none
	PrimaryKey bool
	Rowid      bool // the table's INTEGER PRIMARY KEY (rowid alias)
	Serial     bool // filled automatically (serial/identity, i.e. AUTOINCREMENT)
	Identity   byte // an identity column: 'a' (GENERATED ALWAYS) or 'd' (BY DEFAULT); 0 otherwise
	// LegacyNumeric: a numeric column made before numeric was exact
	// (LegacyNumericDecl), which holds INTEGER and REAL values.
	LegacyNumeric bool
}

// IndexInfo describes one index, including those behind PRIMARY KEY and
// UNIQUE constraints.
type IndexInfo struct {
	Name    string
	OID     uint32
	Columns []string
	Unique  bool
	Primary bool
	SQL     string // CREATE INDEX text as PostgreSQL would print it (pg_get_indexdef)
}

// ForeignKeyInfo describes one FOREIGN KEY constraint.
type ForeignKeyInfo struct {
	Name       string
	Columns    []string
	RefTable   string
	RefColumns []string
	OnDelete   string // "NO ACTION", "CASCADE", "SET NULL", "SET DEFAULT", "RESTRICT"
	OnUpdate   string
	Deferred   bool // DEFERRABLE INITIALLY DEFERRED
}

// Options carry the session facts that some statements read while
// they are translated.
type Options struct {
	// ParamOIDs are the types the client gave for $1…$n (0 = unspecified).
	ParamOIDs []uint32
	// Setting returns a session setting for current_setting(), SHOW-like
	// functions and current_user/session_user ("session_authorization"),
	// current_database() ("database"), pg_is_in_recovery() ("in_hot_standby").
	// ok is false for an unknown name.
	Setting func(name string) (value string, ok bool)

	extract *litExtract // shape.go: translate constants into parameters
}
