// The per-connection state of pgraft's SQLite authorizer (authorizer.go).
// SQLite owns it: it is the connection's client data, freed when the
// connection closes. Only the goroutine that holds the connection reads or
// writes it.

typedef struct sqlite3 sqlite3;

typedef struct pgraft_auth {
	int internal;          // a statement of pgraft's own: everything is allowed
	int allow_ddl;         // the write connection: client DDL may run here
	int ddl;               // the client statement being prepared changes the schema (ddlState)
	int privileged;        // internal access allowed what a client may not do
	int denied_kind;       // the last refusal (refusalKind), for its error
	int denied_action;     // its SQLite action code
	char denied_name[128]; // its object, truncated
	char trusted[48];      // name prefix of the catalog views, while they may be read; "" if not
	char catalog[48];      // name prefix of this connection's catalog views; "" if none
} pgraft_auth;
