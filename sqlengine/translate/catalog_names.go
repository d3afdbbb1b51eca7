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
	SequenceStateView: true, // pgraft's: every sequence's state and options (sqlengine/sequences.go)
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
