package sqlengine

// catalogTypedColumns gives translation the PostgreSQL types of catalog view
// columns that are not text, so that result columns get the right OID: the
// views compute these columns from SQLite's schema as integers, and a client
// reading pg_attribute.attnotnull must see a boolean 't'/'f' (psql compares
// the text with "t"), not "1". Columns not listed are typed by SQLite (text
// or integer values); oid columns are in catalogOIDColumns.
var catalogTypedColumns = map[string]map[string]uint32{
	"pg_attribute": cols(OIDBool, "attnotnull", "atthasdef", "atthasmissing", "attisdropped", "attislocal", "attbyval").
		with(OIDInt2, "attnum", "attlen").with(OIDInt4, "atttypmod", "attndims", "attinhcount", "attstattarget"),
	"pg_class": cols(OIDBool, "relhasindex", "relhasrules", "relhastriggers", "relhassubclass", "relrowsecurity",
		"relforcerowsecurity", "relispartition", "relispopulated", "relisshared").
		with(OIDInt2, "relnatts", "relchecks").with(OIDInt4, "relpages", "relallvisible").with(OIDFloat4, "reltuples"),
	"pg_index": cols(OIDBool, "indisunique", "indisprimary", "indisclustered", "indisvalid", "indisreplident",
		"indisexclusion", "indimmediate", "indcheckxmin", "indisready", "indislive", "indnullsnotdistinct").
		with(OIDInt2, "indnatts", "indnkeyatts"),
	"pg_constraint":   cols(OIDBool, "condeferrable", "condeferred", "convalidated", "conislocal", "connoinherit").with(OIDInt4, "coninhcount"),
	"pg_type":         cols(OIDBool, "typbyval", "typisdefined", "typispreferred", "typnotnull").with(OIDInt2, "typlen").with(OIDInt4, "typtypmod", "typndims"),
	"pg_roles":        cols(OIDBool, "rolsuper", "rolinherit", "rolcreaterole", "rolcreatedb", "rolcanlogin", "rolreplication", "rolbypassrls").with(OIDInt4, "rolconnlimit"),
	"pg_authid":       cols(OIDBool, "rolsuper", "rolinherit", "rolcreaterole", "rolcreatedb", "rolcanlogin", "rolreplication", "rolbypassrls").with(OIDInt4, "rolconnlimit"),
	"pg_user":         cols(OIDBool, "usecreatedb", "usesuper", "userepl", "usebypassrls"),
	"pg_database":     cols(OIDBool, "datistemplate", "datallowconn").with(OIDInt4, "encoding", "datconnlimit"),
	"pg_auth_members": cols(OIDBool, "admin_option"),
	"pg_tables":       cols(OIDBool, "hasindexes", "hasrules", "hastriggers", "rowsecurity"),
	"pg_matviews":     cols(OIDBool, "hasindexes", "ispopulated"),
	"pg_proc":         cols(OIDBool, "proisstrict", "proleakproof", "proretset", "prosecdef").with(OIDInt2, "pronargs", "pronargdefaults"),
	"pg_trigger":      cols(OIDBool, "tgdeferrable", "tginitdeferred", "tgisinternal").with(OIDInt2, "tgnargs"),
	"pg_publication":  cols(OIDBool, "puballtables", "pubinsert", "pubupdate", "pubdelete", "pubtruncate", "pubviaroot"),
	"pg_policy":       cols(OIDBool, "polpermissive"),
	"pg_collation":    cols(OIDBool, "collisdeterministic"),
	"pg_extension":    cols(OIDBool, "extrelocatable"),
	"pg_language":     cols(OIDBool, "lanispl", "lanpltrusted"),
	"pg_operator":     cols(OIDBool, "oprcanhash", "oprcanmerge"),
	"pg_sequence":     cols(OIDBool, "seqcycle"),
	"pg_sequences":    cols(OIDBool, "cycle"),
	"pg_settings":     cols(OIDBool, "pending_restart"),
	"pg_rewrite":      cols(OIDBool, "is_instead"),
	"pg_locks":        cols(OIDBool, "granted", "fastpath"),
	"pg_inherits":     cols(OIDBool, "inhdetachpending").with(OIDInt4, "inhseqno"),
	"pg_attrdef":      cols(OIDInt2, "adnum"),
}

type colTypes map[string]uint32

func cols(oid uint32, names ...string) colTypes { return colTypes{}.with(oid, names...) }

func (c colTypes) with(oid uint32, names ...string) colTypes {
	for _, n := range names {
		c[n] = oid
	}
	return c
}
