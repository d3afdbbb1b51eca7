package translate

import "slices"

// Catalog relations. Translation rewrites a reference to one of these —
// schema-qualified (pg_catalog.pg_class, information_schema.tables) or not —
// to the SQLite name below; every read connection has a TEMP VIEW of that
// name computed from SQLite's own schema (sqlengine/catalog.go), so catalog queries run
// like any other read and always see the current schema.

// pgCatalogRelations are the pg_catalog relations pgraft answers. The SQLite
// view has the same name (pg_catalog.pg_class -> pg_class).
var pgCatalogRelations = map[string]bool{
	"pg_class": true, "pg_namespace": true, "pg_attribute": true, "pg_type": true,
	"pg_index": true, "pg_attrdef": true, "pg_constraint": true, "pg_database": true,
	"pg_roles": true, "pg_user": true, "pg_authid": true, "pg_auth_members": true,
	"pg_am": true, "pg_description": true, "pg_shdescription": true, "pg_collation": true,
	"pg_policy": true, "pg_statistic_ext": true, "pg_publication": true,
	"pg_publication_namespace": true, "pg_publication_rel": true, "pg_inherits": true,
	"pg_trigger": true, "pg_proc": true, "pg_tablespace": true, "pg_settings": true,
	"pg_range": true, "pg_enum": true, "pg_extension": true, "pg_sequence": true,
	"pg_views": true, "pg_tables": true, "pg_indexes": true, "pg_partitioned_table": true,
	"pg_rewrite": true, "pg_depend": true, "pg_matviews": true, "pg_foreign_table": true,
	"pg_stat_activity": true, "pg_locks": true, "pg_event_trigger": true, "pg_language": true,
	"pg_operator": true, "pg_cast": true, "pg_sequences": true, "pg_stat_user_tables": true,
	"pg_statio_all_tables": true, "pg_statio_user_tables": true, "pg_default_acl": true,
	"pg_cursors": true, "pg_stat_replication": true, "pg_stat_wal_receiver": true,
	"pg_init_privs": true, "pg_transform": true, "pg_opclass": true, "pg_opfamily": true, "pg_ts_parser": true, "pg_ts_dict": true, "pg_ts_template": true, "pg_ts_config": true, "pg_foreign_data_wrapper": true, "pg_foreign_server": true, "pg_user_mapping": true, "pg_conversion": true, "pg_subscription": true, "pg_largeobject_metadata": true, "pg_seclabel": true, "pg_shseclabel": true, "pg_seclabels": true, "pg_db_role_setting": true, "pg_amop": true, "pg_amproc": true,
	SequenceStateView: true, // pgraft's: every sequence's state and options (sqlengine/sequences.go)
}

// catalogRelationOIDs are the pg_class oids of the catalogs, PostgreSQL
// 15's: what their system column tableoid holds (pg_dump selects it).
var catalogRelationOIDs = map[string]uint32{
	"pg_class": 1259, "pg_attribute": 1249, "pg_type": 1247, "pg_proc": 1255, "pg_namespace": 2615,
	"pg_extension": 3079, "pg_constraint": 2606, "pg_attrdef": 2604, "pg_index": 2610, "pg_depend": 2608,
	"pg_description": 2609, "pg_default_acl": 826, "pg_collation": 3456, "pg_am": 2601, "pg_language": 2612,
	"pg_cast": 2605, "pg_trigger": 2620, "pg_rewrite": 2618, "pg_policy": 3256, "pg_publication": 6104,
	"pg_publication_rel": 6106, "pg_publication_namespace": 6237, "pg_inherits": 2611,
	"pg_event_trigger": 3466, "pg_operator": 2617, "pg_statistic_ext": 3381, "pg_database": 1262,
	"pg_authid": 1260, "pg_tablespace": 1213, "pg_sequence": 2224, "pg_enum": 3501, "pg_range": 3541,
	"pg_partitioned_table": 3350, "pg_foreign_table": 3118, "pg_auth_members": 1261, "pg_shdescription": 2396,
	"pg_roles": 1260, "pg_user": 1260,
	"pg_init_privs": 3394, "pg_transform": 3576, "pg_opclass": 2616, "pg_opfamily": 2753, "pg_ts_parser": 3601, "pg_ts_dict": 3600, "pg_ts_template": 3764, "pg_ts_config": 3602, "pg_foreign_data_wrapper": 2328, "pg_foreign_server": 1417, "pg_user_mapping": 1418, "pg_conversion": 2607, "pg_subscription": 6100, "pg_largeobject_metadata": 2995, "pg_seclabel": 3596, "pg_shseclabel": 3592, "pg_db_role_setting": 2964, "pg_amop": 2602, "pg_amproc": 2603,
}

// infoSchemaRelations are the information_schema relations pgraft answers.
// The SQLite view is named "information_schema_" + name.
var infoSchemaRelations = map[string]bool{
	"tables": true, "columns": true, "schemata": true, "table_constraints": true,
	"key_column_usage": true, "referential_constraints": true,
	"constraint_column_usage": true, "views": true, "sequences": true, "routines": true,
	"check_constraints": true, "character_sets": true, "triggers": true,
}

// catalogViewName returns the SQLite view that stands for a catalog relation,
// and whether schema.name is one. schema is "" for an unqualified name; an
// unqualified name matches pg_catalog only (PostgreSQL's search_path always
// has pg_catalog first).
func catalogViewName(schema, name string) (string, bool) {
	switch schema {
	case "", "pg_catalog":
		if pgCatalogRelations[name] {
			return name, true
		}
	case "information_schema":
		if infoSchemaRelations[name] {
			return "information_schema_" + name, true
		}
	}
	return "", false
}

// CatalogViews returns the names of the SQLite views that catalog
// references translate to, sorted: the engine creates each on every read
// connection (sqlengine/catalog.go).
func CatalogViews() []string {
	names := make([]string, 0, len(pgCatalogRelations)+len(infoSchemaRelations))
	for n := range pgCatalogRelations {
		names = append(names, n)
	}
	for n := range infoSchemaRelations {
		names = append(names, "information_schema_"+n)
	}
	slices.Sort(names)
	return names
}
