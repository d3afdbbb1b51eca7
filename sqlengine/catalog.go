package sqlengine

import (
	"fmt"
	"strconv"
	"strings"

	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/pgraft/pgraft/sqlengine/translate"
)

// The catalog: every read connection gets TEMP VIEWs named like the
// pg_catalog relations (pg_class) and "information_schema_" + name for the
// information_schema ones (translate/catalog_names.go), computed from SQLite's own
// schema at query time, so they never need a refresh. What SQLite's
// pragmas cannot say in PostgreSQL's terms (constraint names, types from the
// RowidMarker, defaults as PostgreSQL prints them) comes from the pgraft_*
// helper functions (catalog_funcs.go), which receive sqlite_schema as JSON.
//
// OIDs follow schema_load.go; pg_attrdef rows get oidAttrdefBase +
// (table rowid << 12) + attnum.

const oidAttrdefBase = 3 << 29

// oidRewriteBase plus a view's oid is the oid of its _RETURN rule.
const oidRewriteBase = 7 << 28

// userTables filters sqlite_schema rows to user tables and views.
const userRelFilter = `substr(s.name, 1, 7) NOT IN ('sqlite_', '_pgraft')`

// schemaJSON is the argument every pgraft_* view helper receives.
const schemaJSON = `(SELECT j FROM _pgraft_schema)`

// catalogViews are created in order: later views read earlier ones.
var catalogViews = []struct{ name, sql string }{
	{"_pgraft_schema", `SELECT json_group_array(json_array(type, name, tbl_name, rowid, sql)) AS j FROM main.sqlite_schema`},
	// pg_sequence_state: every sequence with its options, state and owner
	// (sequences.go); the other sequence views and FROM seqname read it.
	{"pg_sequence_state", `
SELECT CAST(` + strconv.Itoa(oidSequenceBase) + ` + q.id AS INTEGER) AS oid, q.name AS seqname, q.typid,
       q.start, q.increment, q.minvalue, q.maxvalue, q.cache, q.cycle,
       q.last_value, q.log_cnt, q.is_called, q.owner_table, q.owner_column, q.identity,
       CAST(16384 + t.rowid AS INTEGER) AS owner_oid,
       (SELECT p.cid + 1 FROM pragma_table_xinfo(t.name, 'main') p WHERE p.name = q.owner_column) AS owner_attnum
  FROM _pgraft_sequences q LEFT JOIN main.sqlite_schema t ON t.type = 'table' AND t.name = q.owner_table`},
	{"_pgraft_rel", `
SELECT CAST(16384 + s.rowid AS INTEGER) AS oid, s.name AS relname,
       CASE s.type WHEN 'table' THEN 'r' ELSE 'v' END AS relkind,
       s.name AS tblname, CAST(16384 + s.rowid AS INTEGER) AS tbloid, NULL AS j
  FROM main.sqlite_schema s WHERE s.type IN ('table', 'view') AND ` + userRelFilter + `
UNION ALL
SELECT CAST(i.value ->> 'oid' AS INTEGER), i.value ->> 'name', 'i', s.name, CAST(16384 + s.rowid AS INTEGER), i.value
  FROM main.sqlite_schema s, json_each(pgraft_indexes(` + schemaJSON + `, s.name)) i
 WHERE s.type = 'table' AND ` + userRelFilter + `
UNION ALL
SELECT CAST(` + strconv.Itoa(oidSequenceBase) + ` + q.id AS INTEGER), q.name, 'S', q.name,
       CAST(` + strconv.Itoa(oidSequenceBase) + ` + q.id AS INTEGER), NULL FROM _pgraft_sequences q`},
	{"_pgraft_con", `
SELECT CAST(c.value ->> 'oid' AS INTEGER) AS oid, c.value ->> 'name' AS conname, c.value ->> 'type' AS contype,
       CAST(16384 + s.rowid AS INTEGER) AS conrelid, s.name AS relname, c.value AS j
  FROM main.sqlite_schema s, json_each(pgraft_constraints(` + schemaJSON + `, s.name)) c
 WHERE s.type = 'table' AND ` + userRelFilter},
	{"pg_namespace", `
SELECT CAST(11 AS INTEGER) AS oid, 'pg_catalog' AS nspname, 10 AS nspowner, NULL AS nspacl
UNION ALL SELECT 99, 'pg_toast', 10, NULL
UNION ALL SELECT 2200, 'public', 6171,
       coalesce((SELECT pgraft_acltext(x.acl) FROM _pgraft_acl x WHERE x.space = 'nsp' AND x.name = 'public'),
                '{pg_database_owner=UC/pg_database_owner,=U/pg_database_owner}')
UNION ALL SELECT 13000, 'information_schema', 10, NULL`},
	// pg_description: the comment PostgreSQL gives schema public (pg_dump
	// emits COMMENT ON SCHEMA public IS '' when it is missing); COMMENT ON
	// keeps nothing yet.
	{"pg_description", `
SELECT CAST(2200 AS INTEGER) AS objoid, CAST(2615 AS INTEGER) AS classoid, CAST(0 AS INTEGER) AS objsubid,
       'standard public schema' AS description`},
	{"pg_default_acl", `
SELECT CAST(14000 + x.rowid AS INTEGER) AS oid, coalesce((SELECT a.oid FROM pg_authid a WHERE a.rolname = x.owner), 10) AS defaclrole,
       CASE WHEN x.name LIKE '_:public:%' THEN 2200 ELSE 0 END AS defaclnamespace, x.kind AS defaclobjtype,
       pgraft_acltext(x.acl) AS defaclacl
  FROM (SELECT row_number() OVER (ORDER BY name) AS rowid, * FROM _pgraft_acl WHERE space = 'def') x`},
	{"pg_type", ""}, // built from translate/types.go by pgTypeViewSQL
	{"pg_class", `
SELECT CAST(r.oid AS INTEGER) AS oid, r.relname, CAST(2200 AS INTEGER) AS relnamespace, 0 AS reltype, CAST(0 AS INTEGER) AS reloftype,
       coalesce((SELECT a.oid FROM _pgraft_acl x JOIN pg_authid a ON a.rolname = x.owner
                  WHERE x.space = 'rel' AND x.name = r.relname), 10) AS relowner, CAST(CASE r.relkind WHEN 'r' THEN 2 WHEN 'i' THEN 403 ELSE 0 END AS INTEGER) AS relam,
       CASE r.relkind WHEN 'v' THEN 0 ELSE r.oid END AS relfilenode, 0 AS reltablespace,
       0 AS relpages, CASE r.relkind WHEN 'r' THEN -1 ELSE 0 END AS reltuples, 0 AS relallvisible,
       0 AS reltoastrelid,
       CASE WHEN r.relkind = 'r' THEN EXISTS (SELECT 1 FROM _pgraft_rel x WHERE x.relkind = 'i' AND x.tbloid = r.oid) ELSE 0 END AS relhasindex,
       0 AS relisshared, 'p' AS relpersistence, r.relkind,
       CASE WHEN r.relkind = 'i' THEN r.j ->> 'natts' WHEN r.relkind = 'S' THEN 3
            ELSE (SELECT count(*) FROM pragma_table_xinfo(r.relname, 'main') p WHERE p.hidden <> 1) END AS relnatts,
       CASE WHEN r.relkind = 'r' THEN (SELECT count(*) FROM _pgraft_con c WHERE c.conrelid = r.oid AND c.contype = 'c') ELSE 0 END AS relchecks,
       r.relkind = 'v' AS relhasrules,
       CASE WHEN r.relkind = 'r' THEN
            EXISTS (SELECT 1 FROM _pgraft_con c WHERE c.contype = 'f' AND (c.conrelid = r.oid OR c.j ->> 'confrelid' = r.oid))
            OR EXISTS (SELECT 1 FROM main.sqlite_schema t WHERE t.type = 'trigger' AND t.tbl_name = r.relname)
            ELSE 0 END AS relhastriggers,
       0 AS relhassubclass, 0 AS relrowsecurity, 0 AS relforcerowsecurity, 1 AS relispopulated,
       CASE r.relkind WHEN 'r' THEN 'd' ELSE 'n' END AS relreplident, 0 AS relispartition, 0 AS relrewrite,
       0 AS relfrozenxid, 0 AS relminmxid,
       (SELECT pgraft_acltext(x.acl) FROM _pgraft_acl x WHERE x.space = 'rel' AND x.name = r.relname) AS relacl, NULL AS reloptions, NULL AS relpartbound
  FROM _pgraft_rel r`},
	{"_pgraft_att", `
SELECT a.attrelid, a.attname, a.atttypid, t.typlen AS attlen, a.attnum,
       CASE WHEN t.typcategory = 'A' THEN 1 ELSE 0 END AS attndims, a.atttypmod,
       t.typbyval AS attbyval, t.typalign AS attalign, t.typstorage AS attstorage,
       a.attnotnull, CASE WHEN a.attidentity = '' THEN a.adbin END AS adbin, a.attgenerated,
       coalesce(t.typcollation, 0) AS attcollation, a.attidentity
  FROM (SELECT CAST(16384 + s.rowid AS INTEGER) AS attrelid, p.name AS attname, CAST(p.cid + 1 AS INTEGER) AS attnum,
               CAST(pgraft_atttypid(` + schemaJSON + `, s.name, p.name, p.type) AS INTEGER) AS atttypid,
               pgraft_atttypmod(` + schemaJSON + `, s.name, p.name, p.type) AS atttypmod,
               (p."notnull" OR (p.pk > 0 AND s.type = 'table')) AS attnotnull,
               pgraft_attdef(` + schemaJSON + `, s.name, p.name, p.type, p.dflt_value, NULL) AS adbin,
               CASE WHEN p.hidden IN (2, 3) THEN 's' ELSE '' END AS attgenerated,
               coalesce((SELECT q.identity FROM _pgraft_sequences q
                          WHERE q.owner_table = s.name AND q.owner_column = p.name AND q.identity IS NOT NULL), '') AS attidentity
          FROM main.sqlite_schema s, pragma_table_xinfo(s.name, 'main') p
         WHERE s.type IN ('table', 'view') AND ` + userRelFilter + ` AND p.hidden <> 1) a
  LEFT JOIN pg_type t ON t.oid = a.atttypid`},
	{"pg_attribute", `
SELECT attrelid, attname, atttypid, -1 AS attstattarget, attlen, attnum, attndims, -1 AS attcacheoff,
       atttypmod, attbyval, attalign, attstorage, '' AS attcompression, attnotnull,
       adbin IS NOT NULL AS atthasdef, 0 AS atthasmissing, attidentity, attgenerated,
       0 AS attisdropped, 1 AS attislocal, 0 AS attinhcount, attcollation, NULL AS attacl,
       NULL AS attoptions, NULL AS attfdwoptions, NULL AS attmissingval
  FROM _pgraft_att`},
	{"pg_attrdef", `
SELECT ` + strconv.Itoa(oidAttrdefBase) + ` + ((a.attrelid - 16384) << 12) + a.attnum AS oid, a.attrelid AS adrelid,
       a.attnum AS adnum, a.adbin
  FROM _pgraft_att a WHERE a.adbin IS NOT NULL`},
	{"pg_index", `
SELECT CAST(r.oid AS INTEGER) AS indexrelid, CAST(r.tbloid AS INTEGER) AS indrelid, r.j ->> 'natts' AS indnatts, r.j ->> 'natts' AS indnkeyatts,
       r.j ->> 'unique' AS indisunique, 0 AS indnullsnotdistinct, r.j ->> 'primary' AS indisprimary,
       0 AS indisexclusion, 1 AS indimmediate, 0 AS indisclustered, 1 AS indisvalid, 0 AS indcheckxmin,
       1 AS indisready, 1 AS indislive, 0 AS indisreplident, r.j ->> 'indkey' AS indkey,
       NULL AS indcollation, NULL AS indclass, r.j ->> 'indoption' AS indoption, NULL AS indexprs,
       r.j ->> 'pred' AS indpred
  FROM _pgraft_rel r WHERE r.relkind = 'i'`},
	{"pg_constraint", `
SELECT c.oid, c.conname, 2200 AS connamespace, c.contype, c.j ->> 'deferrable' AS condeferrable,
       c.j ->> 'deferred' AS condeferred, 1 AS convalidated, c.conrelid, 0 AS contypid,
       CAST(c.j ->> 'conindid' AS INTEGER) AS conindid, 0 AS conparentid,
       CAST(c.j ->> 'confrelid' AS INTEGER) AS confrelid,
       c.j ->> 'upd' AS confupdtype, c.j ->> 'del' AS confdeltype,
       CASE c.contype WHEN 'f' THEN 's' ELSE ' ' END AS confmatchtype, 1 AS conislocal, 0 AS coninhcount,
       0 AS connoinherit, c.j ->> 'conkey' AS conkey, c.j ->> 'confkey' AS confkey, NULL AS conpfeqop,
       NULL AS conppeqop, NULL AS conffeqop, NULL AS confdelsetcols, NULL AS conexclop,
       CASE c.contype WHEN 'c' THEN substr(c.j ->> 'defp', 8, length(c.j ->> 'defp') - 8) END AS conbin
  FROM _pgraft_con c`},
	{"pg_database", `
SELECT 5 AS oid, 'postgres' AS datname, 10 AS datdba, 6 AS encoding, 'c' AS datlocprovider,
       0 AS datistemplate, 1 AS datallowconn, -1 AS datconnlimit, 0 AS datfrozenxid, 1 AS datminmxid,
       1663 AS dattablespace, 'C.UTF-8' AS datcollate, 'C.UTF-8' AS datctype, NULL AS daticulocale,
       NULL AS datcollversion, NULL AS datacl`},
	// pg_authid: the stored roles (roles.go), and postgres as the
	// superuser of a cluster in trust mode that has not stored it. Passwords
	// are never shown: pgraft has no superuser-only catalog yet.
	{"pg_authid", `
SELECT 10 AS oid, 'postgres' AS rolname, 1 AS rolsuper, 1 AS rolinherit, 1 AS rolcreaterole,
       1 AS rolcreatedb, 1 AS rolcanlogin, 1 AS rolreplication, 1 AS rolbypassrls, -1 AS rolconnlimit,
       NULL AS rolpassword, NULL AS rolvaliduntil
 WHERE NOT EXISTS (SELECT 1 FROM _pgraft_roles WHERE name = 'postgres' OR oid = 10)
UNION ALL
SELECT r.oid, r.name, r.superuser, 1, r.createrole, r.createdb, r.login, r.superuser, r.superuser, -1,
       NULL, NULL
  FROM _pgraft_roles r
UNION ALL
SELECT 6171, 'pg_database_owner', 0, 1, 0, 0, 0, 0, 0, -1, NULL, NULL`},
	{"pg_roles", `
SELECT rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, rolreplication,
       rolconnlimit, '********' AS rolpassword, rolvaliduntil, rolbypassrls, NULL AS rolconfig, oid
  FROM pg_authid`},
	{"pg_user", `
SELECT rolname AS usename, oid AS usesysid, rolcreatedb AS usecreatedb, rolsuper AS usesuper,
       rolreplication AS userepl, rolbypassrls AS usebypassrls, '********' AS passwd,
       rolvaliduntil AS valuntil, NULL AS useconfig
  FROM pg_authid WHERE rolcanlogin`},
	{"pg_am", `
SELECT 2 AS oid, 'heap' AS amname, 'heap_tableam_handler' AS amhandler, 't' AS amtype
UNION ALL SELECT 403, 'btree', 'bthandler', 'i'`},
	{"pg_collation", `
SELECT 100 AS oid, 'default' AS collname, 11 AS collnamespace, 10 AS collowner, 'd' AS collprovider,
       1 AS collisdeterministic, -1 AS collencoding, NULL AS collcollate, NULL AS collctype,
       NULL AS colliculocale, NULL AS collversion
UNION ALL SELECT 950, 'C', 11, 10, 'c', 1, -1, 'C', 'C', NULL, NULL
UNION ALL SELECT 951, 'POSIX', 11, 10, 'c', 1, -1, 'POSIX', 'POSIX', NULL, NULL`},
	{"pg_tablespace", `
SELECT 1663 AS oid, 'pg_default' AS spcname, 10 AS spcowner, NULL AS spcacl, NULL AS spcoptions
UNION ALL SELECT 1664, 'pg_global', 10, NULL, NULL`},
	{"pg_language", `
SELECT 12 AS oid, 'internal' AS lanname, 10 AS lanowner, 0 AS lanispl, 0 AS lanpltrusted,
       0 AS lanplcallfoid, 0 AS laninline, 2246 AS lanvalidator, NULL AS lanacl
UNION ALL SELECT 13, 'c', 10, 0, 0, 0, 0, 2247, NULL
UNION ALL SELECT 14, 'sql', 10, 0, 1, 0, 0, 2248, NULL`},
	{"pg_extension", `
SELECT 13500 AS oid, 'plpgsql' AS extname, 10 AS extowner, 11 AS extnamespace, 0 AS extrelocatable,
       '1.0' AS extversion, NULL AS extconfig, NULL AS extcondition`},
	{"pg_settings", ""}, // built by settingsViewSQL
	{"pg_tables", `
SELECT 'public' AS schemaname, c.relname AS tablename, (SELECT a.rolname FROM pg_authid a WHERE a.oid = c.relowner) AS tableowner, NULL AS tablespace,
       c.relhasindex AS hasindexes, c.relhasrules AS hasrules, c.relhastriggers AS hastriggers,
       c.relrowsecurity AS rowsecurity
  FROM pg_class c WHERE c.relkind = 'r'`},
	{"pg_views", `
SELECT 'public' AS schemaname, s.name AS viewname,
       coalesce((SELECT x.owner FROM _pgraft_acl x WHERE x.space = 'rel' AND x.name = s.name), 'postgres') AS viewowner,
       ' ' || trim(substr(s.sql, instr(upper(s.sql), ' AS ') + 4)) AS definition
  FROM main.sqlite_schema s WHERE s.type = 'view' AND ` + userRelFilter},
	{"pg_indexes", `
SELECT 'public' AS schemaname, r.tblname AS tablename, r.relname AS indexname, NULL AS tablespace,
       r.j ->> 'def' AS indexdef
  FROM _pgraft_rel r WHERE r.relkind = 'i'`},
	{"pg_sequence", `
SELECT q.oid AS seqrelid, q.typid AS seqtypid, q.start AS seqstart, q.increment AS seqincrement,
       q.maxvalue AS seqmax, q.minvalue AS seqmin, q.cache AS seqcache, q.cycle AS seqcycle
  FROM pg_sequence_state q`},
	{"pg_sequences", `
SELECT 'public' AS schemaname, q.seqname AS sequencename,
       coalesce((SELECT x.owner FROM _pgraft_acl x WHERE x.space = 'rel' AND x.name = q.seqname), 'postgres') AS sequenceowner,
       CASE q.typid WHEN 21 THEN 'smallint' WHEN 23 THEN 'integer' ELSE 'bigint' END AS data_type,
       q.start AS start_value, q.minvalue AS min_value, q.maxvalue AS max_value, q.increment AS increment_by,
       q.cycle, q.cache AS cache_size, CASE WHEN q.is_called THEN q.last_value END AS last_value
  FROM pg_sequence_state q`},
	// _pgraft_viewdep: what each view reads, from its ViewDepsMarker.
	{"_pgraft_viewdep", `
SELECT CAST(16384 + s.rowid AS INTEGER) AS viewoid, d.value AS relname
  FROM main.sqlite_schema s,
       json_each(CASE WHEN instr(s.sql, '` + translate.ViewDepsMarker + `') > 0 THEN
         substr(s.sql, instr(s.sql, '` + translate.ViewDepsMarker + `') + ` + strconv.Itoa(len(translate.ViewDepsMarker)) + `,
                instr(substr(s.sql, instr(s.sql, '` + translate.ViewDepsMarker + `') + ` + strconv.Itoa(len(translate.ViewDepsMarker)) + `), '*/') - 1)
         ELSE '[]' END) d
 WHERE s.type = 'view' AND ` + userRelFilter},
	// pg_rewrite: each view's _RETURN rule (its oid is the view's plus
	// oidRewriteBase), which pg_depend ties to the view and what it reads.
	{"pg_rewrite", `
SELECT CAST(` + strconv.Itoa(oidRewriteBase) + ` + r.oid AS INTEGER) AS oid, '_RETURN' AS rulename, r.oid AS ev_class,
       '1' AS ev_type, 'O' AS ev_enabled, 1 AS is_instead, '<>' AS ev_qual, '<>' AS ev_action
  FROM _pgraft_rel r WHERE r.relkind = 'v'`},
	// pg_depend: sequence ownership, defaults on sequences, views' rules,
	// and, as in PostgreSQL, each constraint on its columns, a foreign key on
	// the referenced columns and index, and a PRIMARY KEY's or UNIQUE's index
	// on its constraint. pg_restore -j needs the foreign key's: it runs a key
	// only once the referenced table's data is loaded and its PRIMARY KEY
	// made, because the key depends on that table and, through the index, on
	// that constraint; without them it could run first and fail (seen
	// restoring pgraft's pg_dump -Fd -j 2).
	{"pg_depend", `
SELECT 1259 AS classid, q.oid AS objid, 0 AS objsubid, 1259 AS refclassid, q.owner_oid AS refobjid,
       q.owner_attnum AS refobjsubid, CASE WHEN q.identity IS NULL THEN 'a' ELSE 'i' END AS deptype
  FROM pg_sequence_state q WHERE q.owner_oid IS NOT NULL AND q.owner_attnum IS NOT NULL
UNION ALL
SELECT 2604, d.oid, 0, 1259, q.oid, 0, 'n'
  FROM pg_attrdef d JOIN pg_sequence_state q
    ON d.adbin IN ('nextval(''' || q.seqname || '''::regclass)', 'nextval(''"' || q.seqname || '"''::regclass)')
UNION ALL
SELECT 2618, ` + strconv.Itoa(oidRewriteBase) + ` + r.oid, 0, 1259, r.oid, 0, 'i' FROM _pgraft_rel r WHERE r.relkind = 'v'
UNION ALL
SELECT 2618, ` + strconv.Itoa(oidRewriteBase) + ` + v.viewoid, 0, 1259, r.oid, 0, 'n'
  FROM _pgraft_viewdep v JOIN _pgraft_rel r ON r.relname = v.relname AND r.relkind IN ('r', 'v', 'S')
UNION ALL
SELECT 2606, c.oid, 0, 1259, c.conrelid, CAST(k.value AS INTEGER), 'a'
  FROM _pgraft_con c, json_each('[' || substr(c.j ->> 'conkey', 2, length(c.j ->> 'conkey') - 2) || ']') k
UNION ALL
SELECT 2606, c.oid, 0, 1259, CAST(c.j ->> 'confrelid' AS INTEGER), CAST(k.value AS INTEGER), 'n'
  FROM _pgraft_con c, json_each('[' || substr(c.j ->> 'confkey', 2, length(c.j ->> 'confkey') - 2) || ']') k
 WHERE c.contype = 'f'
UNION ALL
SELECT 2606, c.oid, 0, 1259, CAST(c.j ->> 'conindid' AS INTEGER), 0, 'n'
  FROM _pgraft_con c WHERE c.contype = 'f' AND CAST(c.j ->> 'conindid' AS INTEGER) > 0
UNION ALL
SELECT 1259, CAST(c.j ->> 'conindid' AS INTEGER), 0, 2606, c.oid, 0, 'i'
  FROM _pgraft_con c WHERE c.contype IN ('p', 'u') AND CAST(c.j ->> 'conindid' AS INTEGER) > 0`},
	{"information_schema_sequences", `
SELECT 'postgres' AS sequence_catalog, 'public' AS sequence_schema, q.seqname AS sequence_name,
       CASE q.typid WHEN 21 THEN 'smallint' WHEN 23 THEN 'integer' ELSE 'bigint' END AS data_type,
       CASE q.typid WHEN 21 THEN 16 WHEN 23 THEN 32 ELSE 64 END AS numeric_precision,
       2 AS numeric_precision_radix, 0 AS numeric_scale, CAST(q.start AS TEXT) AS start_value,
       CAST(q.minvalue AS TEXT) AS minimum_value, CAST(q.maxvalue AS TEXT) AS maximum_value,
       CAST(q.increment AS TEXT) AS increment, CASE WHEN q.cycle THEN 'YES' ELSE 'NO' END AS cycle_option
  FROM pg_sequence_state q WHERE q.identity IS NULL`}, // PostgreSQL leaves identity columns' out
	{"pg_stat_user_tables", `
SELECT c.oid AS relid, 'public' AS schemaname, c.relname, 0 AS seq_scan, 0 AS seq_tup_read, 0 AS idx_scan,
       0 AS idx_tup_fetch, 0 AS n_tup_ins, 0 AS n_tup_upd, 0 AS n_tup_del, 0 AS n_tup_hot_upd,
       0 AS n_live_tup, 0 AS n_dead_tup, 0 AS n_mod_since_analyze, 0 AS n_ins_since_vacuum,
       NULL AS last_vacuum, NULL AS last_autovacuum, NULL AS last_analyze, NULL AS last_autoanalyze,
       0 AS vacuum_count, 0 AS autovacuum_count, 0 AS analyze_count, 0 AS autoanalyze_count
  FROM pg_class c WHERE c.relkind = 'r'`},
	{"pg_statio_all_tables", `
SELECT c.oid AS relid, 'public' AS schemaname, c.relname, 0 AS heap_blks_read, 0 AS heap_blks_hit,
       0 AS idx_blks_read, 0 AS idx_blks_hit, 0 AS toast_blks_read, 0 AS toast_blks_hit,
       0 AS tidx_blks_read, 0 AS tidx_blks_hit
  FROM pg_class c WHERE c.relkind = 'r'`}, // Sequelize's describeTable joins it for comments
	{"pg_statio_user_tables", `SELECT * FROM pg_statio_all_tables`},
}

// emptyCatalogViews are relations pgraft has no rows for; they exist with
// PostgreSQL 15's columns so that queries joining them run.
var emptyCatalogViews = []struct{ name, cols string }{
	{"pg_auth_members", "roleid, member, grantor, admin_option"},
	{"pg_shdescription", "objoid, classoid, description"},
	{"pg_policy", "oid, polname, polrelid, polcmd, polpermissive, polroles, polqual, polwithcheck"},
	{"pg_statistic_ext", "oid, stxrelid, stxname, stxnamespace, stxowner, stxstattarget, stxkeys, stxkind, stxexprs"},
	{"pg_publication", "oid, pubname, pubowner, puballtables, pubinsert, pubupdate, pubdelete, pubtruncate, pubviaroot"},
	{"pg_publication_namespace", "oid, pnpubid, pnnspid"},
	{"pg_publication_rel", "oid, prpubid, prrelid, prqual, prattrs"},
	{"pg_inherits", "inhrelid, inhparent, inhseqno, inhdetachpending"},
	{"pg_trigger", "oid, tgrelid, tgparentid, tgname, tgfoid, tgtype, tgenabled, tgisinternal, tgconstrrelid, " +
		"tgconstrindid, tgconstraint, tgdeferrable, tginitdeferred, tgnargs, tgattr, tgargs, tgqual, tgoldtable, tgnewtable"},
	{"pg_proc", "oid, proname, pronamespace, proowner, prolang, procost, prorows, provariadic, prosupport, " +
		"prokind, prosecdef, proleakproof, proisstrict, proretset, provolatile, proparallel, pronargs, " +
		"pronargdefaults, prorettype, proargtypes, proallargtypes, proargmodes, proargnames, proargdefaults, " +
		"protrftypes, prosrc, probin, prosqlbody, proconfig, proacl"},
	{"pg_range", "rngtypid, rngsubtype, rngmultitypid, rngcollation, rngsubopc, rngcanonical, rngsubdiff"},
	{"pg_enum", "oid, enumtypid, enumsortorder, enumlabel"},
	// What pg_dump reads and pgraft has none of.
	{"pg_init_privs", "objoid, classoid, objsubid, privtype, initprivs"},
	{"pg_transform", "oid, trftype, trflang, trffromsql, trftosql"},
	{"pg_opclass", "oid, opcmethod, opcname, opcnamespace, opcowner, opcfamily, opcintype, opcdefault, opckeytype"},
	{"pg_opfamily", "oid, opfmethod, opfname, opfnamespace, opfowner"},
	{"pg_ts_parser", "oid, prsname, prsnamespace, prsstart, prstoken, prsend, prsheadline, prslextype"},
	{"pg_ts_dict", "oid, dictname, dictnamespace, dictowner, dicttemplate, dictinitoption"},
	{"pg_ts_template", "oid, tmplname, tmplnamespace, tmplinit, tmpllexize"},
	{"pg_ts_config", "oid, cfgname, cfgnamespace, cfgowner, cfgparser"},
	{"pg_foreign_data_wrapper", "oid, fdwname, fdwowner, fdwhandler, fdwvalidator, fdwacl, fdwoptions"},
	{"pg_foreign_server", "oid, srvname, srvowner, srvfdw, srvtype, srvversion, srvacl, srvoptions"},
	{"pg_user_mapping", "oid, umuser, umserver, umoptions"},
	{"pg_conversion", "oid, conname, connamespace, conowner, conforencoding, contoencoding, conproc, condefault"},
	{"pg_subscription", "oid, subdbid, subskiplsn, subname, subowner, subenabled, subbinary, substream, subtwophasestate, subdisableonerr, subconninfo, subslotname, subsynccommit, subpublications"},
	{"pg_largeobject_metadata", "oid, lomowner, lomacl"},
	{"pg_seclabel", "objoid, classoid, objsubid, provider, label"},
	{"pg_shseclabel", "objoid, classoid, provider, label"},
	{"pg_seclabels", "objoid, classoid, objsubid, objtype, objnamespace, objname, provider, label"},
	{"pg_db_role_setting", "setdatabase, setrole, setconfig"},
	{"pg_amop", "oid, amopfamily, amoplefttype, amoprighttype, amopstrategy, amoppurpose, amopopr, amopmethod, amopsortfamily"},
	{"pg_amproc", "oid, amprocfamily, amproclefttype, amprocrighttype, amprocnum, amproc"},
	{"pg_partitioned_table", "partrelid, partstrat, partnatts, partdefid, partattrs, partclass, partcollation, partexprs"},
	{"pg_matviews", "schemaname, matviewname, matviewowner, tablespace, hasindexes, ispopulated, definition"},
	{"pg_foreign_table", "ftrelid, ftserver, ftoptions"},
	{"pg_locks", "locktype, database, relation, page, tuple, virtualxid, transactionid, classid, objid, " +
		"objsubid, virtualtransaction, pid, mode, granted, fastpath, waitstart"},
	{"pg_event_trigger", "oid, evtname, evtevent, evtowner, evtfoid, evtenabled, evttags"},
	{"pg_operator", "oid, oprname, oprnamespace, oprowner, oprkind, oprcanmerge, oprcanhash, oprleft, " +
		"oprright, oprresult, oprcom, oprnegate, oprcode, oprrest, oprjoin"},
	{"pg_cast", "oid, castsource, casttarget, castfunc, castcontext, castmethod"},
	// psycopg 3 looks up named (server-side) cursors here; pgraft has none.
	{"pg_cursors", "name, statement, is_holdable, is_binary, is_scrollable, creation_time"},
	{"information_schema_routines", "specific_catalog, specific_schema, specific_name, routine_catalog, " +
		"routine_schema, routine_name, routine_type, module_catalog, module_schema, module_name, udt_catalog, " +
		"udt_schema, udt_name, data_type, character_maximum_length, numeric_precision, numeric_scale, " +
		"type_udt_catalog, type_udt_schema, type_udt_name, dtd_identifier, routine_body, routine_definition, " +
		"external_name, external_language, parameter_style, is_deterministic, sql_data_access, is_null_call, " +
		"security_type, is_user_defined_cast, is_implicitly_invocable, created, last_altered"},
	{"information_schema_triggers", "trigger_catalog, trigger_schema, trigger_name, event_manipulation, " +
		"event_object_catalog, event_object_schema, event_object_table, action_order, action_condition, " +
		"action_statement, action_orientation, action_timing, action_reference_old_table, " +
		"action_reference_new_table, action_reference_old_row, action_reference_new_row, created"},
}

// emptyViewSQL selects no rows with the given column names.
func emptyViewSQL(cols string) string {
	var b strings.Builder
	b.WriteString("SELECT ")
	for i, c := range strings.Split(cols, ",") {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("NULL AS " + strings.TrimSpace(c))
	}
	b.WriteString(" WHERE 0")
	return b.String()
}

// createCatalogViews creates the catalog TEMP VIEWs on one read connection.
// It runs in the engine's connect hook, before query_only is set and the
// authorizer is installed.
//
// Each view's body is a view named trusted + name, and the view of the
// public name only selects from it. The authorizer lets the body of a view
// whose name starts with trusted read SQLite's schema (sqlite_schema,
// pragma_table_xinfo), which no client statement may: trusted is secret to
// the connection, so a client cannot name a CTE or a view of its own that
// way, while pg_class is a name anyone can give a CTE.
func createCatalogViews(conn *sqlite3.SQLiteConn, trusted string) error {
	for _, v := range allCatalogViews() {
		body := translate.QuoteIdent(trusted + v.name)
		if _, err := conn.Exec("CREATE TEMP VIEW IF NOT EXISTS "+body+" AS "+v.sql, nil); err != nil {
			return fmt.Errorf("create catalog view %s: %w", v.name, err)
		}
		if _, err := conn.Exec("CREATE TEMP VIEW IF NOT EXISTS "+v.name+" AS SELECT * FROM "+body, nil); err != nil {
			return fmt.Errorf("create catalog view %s: %w", v.name, err)
		}
	}
	return nil
}

// allCatalogViews is every catalog view in creation order.
func allCatalogViews() []struct{ name, sql string } {
	var out []struct{ name, sql string }
	for _, v := range catalogViews {
		switch v.name {
		case "pg_type":
			v.sql = pgTypeViewSQL()
		case "pg_settings":
			v.sql = settingsViewSQL()
		}
		out = append(out, v)
	}
	for _, v := range emptyCatalogViews {
		out = append(out, struct{ name, sql string }{v.name, emptyViewSQL(v.cols)})
	}
	// Node-local views (nodestats.go): translation queries their function
	// for the session's user; the views themselves show what a user of no
	// name may see.
	for _, name := range []string{"pg_stat_activity", "pg_stat_replication", "pg_stat_wal_receiver"} {
		q, _ := translate.NodeStatsQuery(name, "")
		out = append(out, struct{ name, sql string }{name, q})
	}
	return append(out, infoSchemaViews...)
}
