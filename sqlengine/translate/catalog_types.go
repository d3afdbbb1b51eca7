package translate

import "github.com/pgraft/pgraft/pgvalue"

// catalogTypedColumns gives translation the PostgreSQL types of catalog view
// columns that are not text, so that result columns get the right OID: the
// views compute these columns from SQLite's schema as integers, and a client
// reading pg_attribute.attnotnull must see a boolean 't'/'f' (psql compares
// the text with "t"), not "1". Columns not listed are typed by SQLite (text
// or integer values); oid columns are in catalogOIDColumns.
var catalogTypedColumns = map[string]map[string]uint32{
	"pg_attribute": cols(pgvalue.OIDBool, "attnotnull", "atthasdef", "atthasmissing", "attisdropped", "attislocal", "attbyval").
		with(pgvalue.OIDInt2, "attnum", "attlen").with(pgvalue.OIDInt4, "atttypmod", "attndims", "attinhcount", "attstattarget"),
	"pg_class": cols(pgvalue.OIDBool, "relhasindex", "relhasrules", "relhastriggers", "relhassubclass", "relrowsecurity",
		"relforcerowsecurity", "relispartition", "relispopulated", "relisshared").
		with(pgvalue.OIDInt2, "relnatts", "relchecks").with(pgvalue.OIDInt4, "relpages", "relallvisible").with(pgvalue.OIDFloat4, "reltuples"),
	"pg_index": cols(pgvalue.OIDBool, "indisunique", "indisprimary", "indisclustered", "indisvalid", "indisreplident",
		"indisexclusion", "indimmediate", "indcheckxmin", "indisready", "indislive", "indnullsnotdistinct").
		with(pgvalue.OIDInt2, "indnatts", "indnkeyatts"),
	"pg_constraint": cols(pgvalue.OIDBool, "condeferrable", "condeferred", "convalidated", "conislocal", "connoinherit").with(pgvalue.OIDInt4, "coninhcount").
		with(pgvalue.OIDInt2Array, "conkey", "confkey"), // SQLAlchemy reads them as lists
	"pg_type":         cols(pgvalue.OIDBool, "typbyval", "typisdefined", "typispreferred", "typnotnull").with(pgvalue.OIDInt2, "typlen").with(pgvalue.OIDInt4, "typtypmod", "typndims"),
	"pg_roles":        cols(pgvalue.OIDBool, "rolsuper", "rolinherit", "rolcreaterole", "rolcreatedb", "rolcanlogin", "rolreplication", "rolbypassrls").with(pgvalue.OIDInt4, "rolconnlimit"),
	"pg_authid":       cols(pgvalue.OIDBool, "rolsuper", "rolinherit", "rolcreaterole", "rolcreatedb", "rolcanlogin", "rolreplication", "rolbypassrls").with(pgvalue.OIDInt4, "rolconnlimit"),
	"pg_user":         cols(pgvalue.OIDBool, "usecreatedb", "usesuper", "userepl", "usebypassrls"),
	"pg_database":     cols(pgvalue.OIDBool, "datistemplate", "datallowconn").with(pgvalue.OIDInt4, "encoding", "datconnlimit"),
	"pg_auth_members": cols(pgvalue.OIDBool, "admin_option"),
	"pg_tables":       cols(pgvalue.OIDBool, "hasindexes", "hasrules", "hastriggers", "rowsecurity"),
	"pg_matviews":     cols(pgvalue.OIDBool, "hasindexes", "ispopulated"),
	"pg_proc":         cols(pgvalue.OIDBool, "proisstrict", "proleakproof", "proretset", "prosecdef").with(pgvalue.OIDInt2, "pronargs", "pronargdefaults"),
	"pg_trigger":      cols(pgvalue.OIDBool, "tgdeferrable", "tginitdeferred", "tgisinternal").with(pgvalue.OIDInt2, "tgnargs"),
	"pg_publication":  cols(pgvalue.OIDBool, "puballtables", "pubinsert", "pubupdate", "pubdelete", "pubtruncate", "pubviaroot"),
	"pg_policy":       cols(pgvalue.OIDBool, "polpermissive"),
	"pg_collation":    cols(pgvalue.OIDBool, "collisdeterministic"),
	"pg_extension":    cols(pgvalue.OIDBool, "extrelocatable"),
	"pg_language":     cols(pgvalue.OIDBool, "lanispl", "lanpltrusted"),
	"pg_operator":     cols(pgvalue.OIDBool, "oprcanhash", "oprcanmerge"),
	"pg_sequence":     cols(pgvalue.OIDBool, "seqcycle").with(pgvalue.OIDInt8, "seqstart", "seqincrement", "seqmax", "seqmin", "seqcache"),
	"pg_sequences":    cols(pgvalue.OIDBool, "cycle").with(pgvalue.OIDInt8, "start_value", "min_value", "max_value", "increment_by", "cache_size", "last_value"),
	SequenceStateView: cols(pgvalue.OIDBool, "is_called", "cycle").with(pgvalue.OIDInt8, "last_value", "log_cnt", "start", "increment", "minvalue", "maxvalue", "cache"),
	"pg_settings":     cols(pgvalue.OIDBool, "pending_restart"),
	"pg_rewrite":      cols(pgvalue.OIDBool, "is_instead"),
	"pg_locks":        cols(pgvalue.OIDBool, "granted", "fastpath"),
	"pg_inherits":     cols(pgvalue.OIDBool, "inhdetachpending").with(pgvalue.OIDInt4, "inhseqno"),
	"pg_attrdef":      cols(pgvalue.OIDInt2, "adnum"),
	"pg_stat_activity": cols(pgvalue.OIDInt4, "pid", "leader_pid", "client_port").with(pgvalue.OIDInt8, "query_id").
		with(pgvalue.OIDTimestamptz, "backend_start", "xact_start", "query_start", "state_change").with(pgvalue.OIDName, "datname", "usename"),
	"pg_stat_replication": cols(pgvalue.OIDInt4, "pid", "client_port", "sync_priority").with(pgvalue.OIDName, "usename").
		with(pgvalue.OIDTimestamptz, "backend_start", "reply_time").with(pgvalue.OIDInterval, "write_lag", "flush_lag", "replay_lag"),
	"pg_stat_wal_receiver": cols(pgvalue.OIDInt4, "pid", "receive_start_tli", "received_tli", "sender_port").
		with(pgvalue.OIDTimestamptz, "last_msg_send_time", "last_msg_receipt_time", "latest_end_time").with(pgvalue.OIDName, "slot_name"),
}

type colTypes map[string]uint32

func cols(oid uint32, names ...string) colTypes { return colTypes{}.with(oid, names...) }

func (c colTypes) with(oid uint32, names ...string) colTypes {
	for _, n := range names {
		c[n] = oid
	}
	return c
}
