package sqlengine

import (
	"fmt"
	"strings"

	"github.com/pgraft/pgraft/pgvalue"
	"github.com/pgraft/pgraft/sqlengine/translate"
)

// pg_type, pg_settings and the information_schema views.

// pgTypeViewSQL builds pg_type from the type table of translate/types.go.
func pgTypeViewSQL() string {
	var rows []string
	for _, t := range translate.Types() {
		rows = append(rows, fmt.Sprintf("(%d, '%s', %d, %d, '%s', '%c', %d, %d, %d, '%s', '%s', '%s', '%s', '%s', '%c', %d, '%s')",
			t.OID, t.Name, t.Len, boolInt(t.Len == 1 || t.Len == 2 || t.Len == 4 || t.Len == 8),
			typType(t), t.Category, boolInt(typPreferred[t.Name]), elemOID(t), t.ArrayOID,
			typIO(t, "in"), typIO(t, "out"), typIO(t, "recv"), typIO(t, "send"), typAlign(t),
			typStorage(t), typCollation(t), typSubscript(t)))
	}
	return `SELECT CAST(column1 AS INTEGER) AS oid, column2 AS typname, 11 AS typnamespace, 10 AS typowner, column3 AS typlen,
       column4 AS typbyval, column5 AS typtype, column6 AS typcategory, column7 AS typispreferred,
       1 AS typisdefined, ',' AS typdelim, 0 AS typrelid, column17 AS typsubscript, column8 AS typelem,
       column9 AS typarray, column10 AS typinput, column11 AS typoutput, column12 AS typreceive,
       column13 AS typsend, '-' AS typmodin, '-' AS typmodout, '-' AS typanalyze, column14 AS typalign,
       column15 AS typstorage, 0 AS typnotnull, 0 AS typbasetype, -1 AS typtypmod, 0 AS typndims,
       column16 AS typcollation, NULL AS typdefaultbin, NULL AS typdefault, NULL AS typacl
  FROM (VALUES ` + strings.Join(rows, ",\n") + `)`
}

var typPreferred = map[string]bool{"bool": true, "text": true, "float8": true, "oid": true, "timestamptz": true, "interval": true}

func typType(t translate.PGType) string {
	if t.OID == pgvalue.OIDUnknown {
		return "p"
	}
	return "b"
}

func elemOID(t translate.PGType) uint32 {
	if t.Category != 'A' {
		return 0
	}
	for _, e := range translate.Types() {
		if e.ArrayOID == t.OID {
			return e.OID
		}
	}
	return 0
}

// typIO names a type's I/O functions as pg_type does (int4in, date_in, …).
func typIO(t translate.PGType, fn string) string {
	if t.Category == 'A' {
		return "array_" + fn
	}
	switch t.Name {
	case "json", "date", "time", "timestamp", "timestamptz", "interval", "numeric", "uuid", "jsonb":
		return t.Name + "_" + fn
	}
	return t.Name + fn
}

func typAlign(t translate.PGType) string {
	switch {
	case t.Len == 2:
		return "s"
	case t.Len == 4 || (t.Len == -1 && t.OID != pgvalue.OIDInt8Array):
		return "i"
	case t.Len == 8 || t.OID == pgvalue.OIDInterval || t.OID == pgvalue.OIDInt8Array:
		return "d"
	}
	return "c"
}

func typStorage(t translate.PGType) byte {
	switch {
	case t.OID == pgvalue.OIDNumeric:
		return 'm'
	case t.Len == -1:
		return 'x'
	}
	return 'p'
}

func typCollation(t translate.PGType) int {
	switch t.OID {
	case pgvalue.OIDText, pgvalue.OIDVarchar, pgvalue.OIDBPChar, pgvalue.OIDTextArray:
		return 100
	case pgvalue.OIDName, pgvalue.OIDNameArray:
		return 950
	}
	return 0
}

func typSubscript(t translate.PGType) string {
	if t.Category == 'A' {
		return "array_subscript_handler"
	}
	return "-"
}

// settingsRows are the pg_settings rows pgraft reports: the values it
// always has (it reports the server's fixed behaviour, not a session's SET).
var settingsRows = [][3]string{
	{"client_encoding", "UTF8", "string"}, {"DateStyle", "ISO, MDY", "string"},
	{"default_transaction_isolation", "serializable", "enum"}, {"integer_datetimes", "on", "bool"},
	{"IntervalStyle", "postgres", "enum"}, {"max_connections", "100", "integer"},
	{"max_identifier_length", "63", "integer"}, {"search_path", `"$user", public`, "string"},
	{"server_encoding", "UTF8", "string"}, {"server_version", "15.18", "string"},
	{"server_version_num", "150018", "integer"}, {"standard_conforming_strings", "on", "bool"},
	{"TimeZone", "UTC", "string"}, {"transaction_isolation", "serializable", "enum"},
}

func settingsViewSQL() string {
	var rows []string
	for _, r := range settingsRows {
		rows = append(rows, fmt.Sprintf("('%s', '%s', '%s')", r[0], strings.ReplaceAll(r[1], "'", "''"), r[2]))
	}
	return `SELECT column1 AS name, column2 AS setting, NULL AS unit, 'pgraft' AS category, '' AS short_desc,
       NULL AS extra_desc, 'user' AS context, column3 AS vartype, 'default' AS source, NULL AS min_val,
       NULL AS max_val, NULL AS enumvals, column2 AS boot_val, column2 AS reset_val, NULL AS sourcefile,
       NULL AS sourceline, 0 AS pending_restart
  FROM (VALUES ` + strings.Join(rows, ", ") + `)`
}

// infoSchemaViews are the information_schema relations with rows.
var infoSchemaViews = []struct{ name, sql string }{
	{"information_schema_schemata", `
SELECT 'postgres' AS catalog_name, column1 AS schema_name, 'postgres' AS schema_owner,
       NULL AS default_character_set_catalog, NULL AS default_character_set_schema,
       NULL AS default_character_set_name, NULL AS sql_path
  FROM (VALUES ('information_schema'), ('pg_catalog'), ('pg_toast'), ('public'))`},
	{"information_schema_tables", `
SELECT 'postgres' AS table_catalog, 'public' AS table_schema, r.relname AS table_name,
       CASE r.relkind WHEN 'r' THEN 'BASE TABLE' ELSE 'VIEW' END AS table_type,
       NULL AS self_referencing_column_name, NULL AS reference_generation,
       NULL AS user_defined_type_catalog, NULL AS user_defined_type_schema, NULL AS user_defined_type_name,
       CASE r.relkind WHEN 'r' THEN 'YES' ELSE 'NO' END AS is_insertable_into, 'NO' AS is_typed,
       NULL AS commit_action
  FROM _pgraft_rel r WHERE r.relkind IN ('r', 'v')`},
	{"information_schema_columns", `
SELECT 'postgres' AS table_catalog, 'public' AS table_schema, c.relname AS table_name, a.attname AS column_name,
       a.attnum AS ordinal_position, a.adbin AS column_default,
       CASE WHEN a.attnotnull THEN 'NO' ELSE 'YES' END AS is_nullable,
       CASE WHEN t.typcategory = 'A' THEN 'ARRAY' ELSE format_type(a.atttypid, NULL) END AS data_type,
       CASE WHEN a.atttypid IN (1042, 1043) AND a.atttypmod >= 4 THEN a.atttypmod - 4 END AS character_maximum_length,
       CASE WHEN a.atttypid IN (25, 1042, 1043) THEN
            CASE WHEN a.atttypmod >= 4 THEN (a.atttypmod - 4) * 4 ELSE 1073741824 END END AS character_octet_length,
       CASE a.atttypid WHEN 21 THEN 16 WHEN 23 THEN 32 WHEN 20 THEN 64 WHEN 700 THEN 24 WHEN 701 THEN 53
            WHEN 1700 THEN CASE WHEN a.atttypmod >= 4 THEN ((a.atttypmod - 4) >> 16) & 65535 END END AS numeric_precision,
       CASE WHEN a.atttypid IN (20, 21, 23, 700, 701) THEN 2 WHEN a.atttypid = 1700 THEN 10 END AS numeric_precision_radix,
       CASE WHEN a.atttypid IN (20, 21, 23) THEN 0
            WHEN a.atttypid = 1700 AND a.atttypmod >= 4 THEN (a.atttypmod - 4) & 65535 END AS numeric_scale,
       CASE WHEN a.atttypid = 1082 THEN 0
            WHEN a.atttypid IN (1083, 1114, 1184, 1186) THEN CASE WHEN a.atttypmod >= 0 THEN a.atttypmod ELSE 6 END
            END AS datetime_precision,
       NULL AS interval_type, NULL AS interval_precision, NULL AS character_set_catalog,
       NULL AS character_set_schema, NULL AS character_set_name, NULL AS collation_catalog,
       NULL AS collation_schema, NULL AS collation_name, NULL AS domain_catalog, NULL AS domain_schema,
       NULL AS domain_name, 'postgres' AS udt_catalog, 'pg_catalog' AS udt_schema, t.typname AS udt_name,
       NULL AS scope_catalog, NULL AS scope_schema, NULL AS scope_name, NULL AS maximum_cardinality,
       CAST(a.attnum AS TEXT) AS dtd_identifier, 'NO' AS is_self_referencing,
       CASE WHEN a.attidentity = '' THEN 'NO' ELSE 'YES' END AS is_identity,
       CASE a.attidentity WHEN 'a' THEN 'ALWAYS' WHEN 'd' THEN 'BY DEFAULT' END AS identity_generation, NULL AS identity_start, NULL AS identity_increment,
       NULL AS identity_maximum, NULL AS identity_minimum, 'NO' AS identity_cycle,
       CASE WHEN a.attgenerated = '' THEN 'NEVER' ELSE 'ALWAYS' END AS is_generated,
       NULL AS generation_expression, CASE WHEN c.relkind = 'r' THEN 'YES' ELSE 'NO' END AS is_updatable
  FROM _pgraft_att a JOIN _pgraft_rel c ON c.oid = a.attrelid LEFT JOIN pg_type t ON t.oid = a.atttypid`},
	{"information_schema_table_constraints", `
SELECT 'postgres' AS constraint_catalog, 'public' AS constraint_schema, c.conname AS constraint_name,
       'postgres' AS table_catalog, 'public' AS table_schema, c.relname AS table_name,
       CASE c.contype WHEN 'p' THEN 'PRIMARY KEY' WHEN 'u' THEN 'UNIQUE' WHEN 'f' THEN 'FOREIGN KEY' ELSE 'CHECK' END AS constraint_type,
       CASE WHEN c.j ->> 'deferrable' THEN 'YES' ELSE 'NO' END AS is_deferrable,
       CASE WHEN c.j ->> 'deferred' THEN 'YES' ELSE 'NO' END AS initially_deferred, 'YES' AS enforced,
       CASE WHEN c.contype IN ('p', 'u') THEN 'YES' END AS nulls_distinct
  FROM _pgraft_con c`},
	{"information_schema_key_column_usage", `
SELECT 'postgres' AS constraint_catalog, 'public' AS constraint_schema, c.conname AS constraint_name,
       'postgres' AS table_catalog, 'public' AS table_schema, c.relname AS table_name, k.value AS column_name,
       k.key + 1 AS ordinal_position, CASE WHEN c.contype = 'f' THEN k.key + 1 END AS position_in_unique_constraint
  FROM _pgraft_con c, json_each(c.j, '$.cols') k WHERE c.contype IN ('p', 'u', 'f')`},
	{"information_schema_referential_constraints", `
SELECT 'postgres' AS constraint_catalog, 'public' AS constraint_schema, c.conname AS constraint_name,
       'postgres' AS unique_constraint_catalog, 'public' AS unique_constraint_schema,
       (SELECT u.conname FROM _pgraft_con u WHERE u.conrelid = c.j ->> 'confrelid' AND u.contype IN ('p', 'u')
           AND u.j ->> 'conkey' = c.j ->> 'confkey') AS unique_constraint_name,
       'NONE' AS match_option,
       CASE c.j ->> 'upd' WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' WHEN 'd' THEN 'SET DEFAULT'
            WHEN 'r' THEN 'RESTRICT' ELSE 'NO ACTION' END AS update_rule,
       CASE c.j ->> 'del' WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' WHEN 'd' THEN 'SET DEFAULT'
            WHEN 'r' THEN 'RESTRICT' ELSE 'NO ACTION' END AS delete_rule
  FROM _pgraft_con c WHERE c.contype = 'f'`},
	{"information_schema_constraint_column_usage", `
SELECT 'postgres' AS table_catalog, 'public' AS table_schema,
       CASE WHEN c.contype = 'f' THEN c.j ->> 'reftable' ELSE c.relname END AS table_name, k.value AS column_name,
       'postgres' AS constraint_catalog, 'public' AS constraint_schema, c.conname AS constraint_name
  FROM _pgraft_con c, json_each(c.j, '$.usecols') k`},
	{"information_schema_check_constraints", `
SELECT 'postgres' AS constraint_catalog, 'public' AS constraint_schema, c.conname AS constraint_name,
       substr(c.j ->> 'def', 7) AS check_clause
  FROM _pgraft_con c WHERE c.contype = 'c'`},
	{"information_schema_views", `
SELECT 'postgres' AS table_catalog, 'public' AS table_schema, v.viewname AS table_name,
       v.definition AS view_definition, 'NONE' AS check_option, 'NO' AS is_updatable,
       'NO' AS is_insertable_into, 'NO' AS is_trigger_updatable, 'NO' AS is_trigger_deletable,
       'NO' AS is_trigger_insertable_into
  FROM pg_views v`},
	{"information_schema_character_sets", `
SELECT NULL AS character_set_catalog, NULL AS character_set_schema, 'UTF8' AS character_set_name,
       'UCS' AS character_repertoire, 'UTF8' AS form_of_use, 'postgres' AS default_collate_catalog,
       'pg_catalog' AS default_collate_schema, 'C.UTF-8' AS default_collate_name`},
}
