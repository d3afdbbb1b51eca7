package sqlengine

import (
	"database/sql"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/pgraft/pgraft/sqlengine/translate"
)

// queryRows runs q and returns each row as its columns' text, "NULL" for NULL.
func queryRows(t *testing.T, db *sql.DB, q string, args ...any) [][]string {
	t.Helper()
	rs, err := db.Query(q, args...)
	if err != nil {
		t.Fatalf("query %s: %v", q, err)
	}
	defer rs.Close()
	cols, _ := rs.Columns()
	var out [][]string
	for rs.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			t.Fatalf("scan: %v", err)
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			switch x := v.(type) {
			case nil:
				row[i] = "NULL"
			case []byte:
				row[i] = string(x)
			default:
				row[i] = fmt.Sprint(x)
			}
		}
		out = append(out, row)
	}
	if err := rs.Err(); err != nil {
		t.Fatalf("rows: %v", err)
	}
	return out
}

func rowsText(rows [][]string) string {
	var b strings.Builder
	for _, r := range rows {
		b.WriteString(strings.Join(r, "|") + "\n")
	}
	return b.String()
}

func oidOf(t *testing.T, db *sql.DB, rel string) string {
	t.Helper()
	rows := queryRows(t, db, `SELECT c.oid FROM pg_class c WHERE pg_regex(c.relname, ?, '') AND pg_table_is_visible(c.oid)`, "^("+rel+")$")
	if len(rows) != 1 {
		t.Fatalf("\\d %s step 1: %v", rel, rows)
	}
	return rows[0][0]
}

// psql 15's \d queries in the SQLite dialect translation produces; the
// expected rows are PostgreSQL 15's for the same schema (booleans as 1/0),
// except where the comment says pgraft differs.
func TestCatalogPsqlDescribe(t *testing.T) {
	db, _ := openCatalogDB(t, testSchemaDDL)
	kv, child := oidOf(t, db, "kv"), oidOf(t, db, "child")
	tests := []struct {
		name, query string
		args        []any
		want        string
	}{
		{"dt lists user tables", `SELECT n.nspname, c.relname, CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'i' THEN 'index' END, pg_get_userbyid(c.relowner)
			FROM pg_class c LEFT JOIN pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_am am ON am.oid = c.relam
			WHERE c.relkind IN ('r','p','') AND n.nspname <> 'pg_catalog' AND NOT pg_regex(n.nspname, '^pg_toast', '')
			AND n.nspname <> 'information_schema' AND pg_table_is_visible(c.oid) ORDER BY 1,2`, nil,
			"public|child|table|postgres\npublic|kv|table|postgres\npublic|plain|table|postgres\npublic|tags|table|postgres\n"},
		{"d lists views too", `SELECT c.relname, c.relkind FROM pg_class c LEFT JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE c.relkind IN ('r','p','v','m','S','f','') AND n.nspname = 'public' ORDER BY 1`, nil,
			"child|r\nkv|r\nkv_names|v\nplain|r\ntags|r\n"},
		{"d table flags (string oid literal)", `SELECT c.relchecks, c.relkind, c.relhasindex, c.relhasrules, c.relhastriggers, c.relrowsecurity,
			c.relforcerowsecurity, 0 AS relhasoids, c.relispartition, '', c.reltablespace, CASE WHEN c.reloftype = 0 THEN '' ELSE 'x' END,
			c.relpersistence, c.relreplident, am.amname FROM pg_class c LEFT JOIN pg_class tc ON (c.reltoastrelid = tc.oid)
			LEFT JOIN pg_am am ON (c.relam = am.oid) WHERE c.oid = '` + kv + `'`, nil,
			"2|r|1|0|1|0|0|0|0||0||p|d|heap\n"},
		{"d table columns", `SELECT a.attname, format_type(a.atttypid, a.atttypmod),
			(SELECT pg_get_expr(d.adbin, d.adrelid, 1) FROM pg_attrdef d WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum AND a.atthasdef),
			a.attnotnull, (SELECT c.collname FROM pg_collation c, pg_type t WHERE c.oid = a.attcollation AND t.oid = a.atttypid AND a.attcollation <> t.typcollation) AS attcollation,
			a.attidentity, a.attgenerated FROM pg_attribute a WHERE a.attrelid = '` + kv + `' AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`, nil,
			"id|integer|nextval('kv_id_seq'::regclass)|1|NULL||\n" +
				"k|character varying(20)|NULL|1|NULL||\n" +
				"v|numeric(10,2)|0|0|NULL||\n" +
				"n|integer|'-1'::integer|0|NULL||\n" +
				"t|text|'x'::text|0|NULL||\n" +
				"b|boolean|true|0|NULL||\n" +
				"d|date|'2020-01-01'::date|0|NULL||\n" +
				"ts|timestamp with time zone|now()|0|NULL||\n" +
				"u|uuid|NULL|0|NULL||\n" +
				"j|jsonb|'{}'::jsonb|0|NULL||\n" +
				"f|double precision|1.5|0|NULL||\n" +
				"c|character(3)|NULL|0|NULL||\n"},
		{"d table indexes", `SELECT c2.relname, i.indisprimary, i.indisunique, i.indisclustered, i.indisvalid, pg_get_indexdef(i.indexrelid, 0, 1),
			pg_get_constraintdef(con.oid, 1), contype, condeferrable, condeferred, i.indisreplident, c2.reltablespace
			FROM pg_class c, pg_class c2, pg_index i LEFT JOIN pg_constraint con ON (conrelid = i.indrelid AND conindid = i.indexrelid AND contype IN ('p','u','x'))
			WHERE c.oid = '` + kv + `' AND c.oid = i.indrelid AND i.indexrelid = c2.oid ORDER BY i.indisprimary DESC, c2.relname`, nil,
			"kv_pkey|1|1|0|1|CREATE UNIQUE INDEX kv_pkey ON kv USING btree (id)|PRIMARY KEY (id)|p|0|0|0|0\n" +
				"kv_k_key|0|1|0|1|CREATE UNIQUE INDEX kv_k_key ON kv USING btree (k)|UNIQUE (k)|u|0|0|0|0\n"},
		{"d child indexes", `SELECT c2.relname, i.indisunique, pg_get_indexdef(i.indexrelid, 0, 1), pg_get_constraintdef(con.oid, 1), i.indkey
			FROM pg_class c, pg_class c2, pg_index i LEFT JOIN pg_constraint con ON (conrelid = i.indrelid AND conindid = i.indexrelid AND contype IN ('p','u','x'))
			WHERE c.oid = ? AND c.oid = i.indrelid AND i.indexrelid = c2.oid ORDER BY i.indisprimary DESC, c2.relname`, []any{child},
			"child_a_idx|1|CREATE UNIQUE INDEX child_a_idx ON child USING btree (a)|NULL|1\n" +
				"child_b_c_idx|0|CREATE INDEX child_b_c_idx ON child USING btree (b, c DESC)|NULL|2 3\n" +
				"child_b_c_key|1|CREATE UNIQUE INDEX child_b_c_key ON child USING btree (b, c)|UNIQUE (b, c)|2 3\n"},
		// PostgreSQL shows the constants typed: CHECK (n > '-5'::integer).
		{"d check constraints", `SELECT r.conname, pg_get_constraintdef(r.oid, 1) FROM pg_constraint r
			WHERE r.conrelid = '` + kv + `' AND r.contype = 'c' ORDER BY 1`, nil,
			"kv_n_chk|CHECK (n > -5)\nkv_v_check|CHECK (v >= 0 AND v < 1000)\n"},
		{"d foreign keys", `SELECT conname, pg_get_constraintdef(r.oid, 1) AS condef FROM pg_constraint r
			WHERE r.conrelid = ? AND r.contype = 'f' AND conparentid = 0 ORDER BY conname`, []any{child},
			"child_a_fkey|FOREIGN KEY (a) REFERENCES kv(id) ON DELETE CASCADE\nchild_b_fkey|FOREIGN KEY (b) REFERENCES kv(id)\n"},
		{"d referenced by", `SELECT conname, (SELECT relname FROM pg_class WHERE oid = (conrelid)) AS ontable, pg_get_constraintdef(oid, 1) AS condef
			FROM pg_constraint c WHERE confrelid = ? AND contype = 'f' AND conparentid = 0 ORDER BY conname`, []any{kv},
			"child_a_fkey|child|FOREIGN KEY (a) REFERENCES kv(id) ON DELETE CASCADE\nchild_b_fkey|child|FOREIGN KEY (b) REFERENCES kv(id)\n"},
		{"l lists the database", `SELECT d.datname, pg_get_userbyid(d.datdba), pg_encoding_to_char(d.encoding), d.datcollate, d.datctype,
			d.daticulocale, CASE d.datlocprovider WHEN 'c' THEN 'libc' WHEN 'i' THEN 'icu' END, array_to_string(d.datacl, char(10))
			FROM pg_database d ORDER BY 1`, nil, "postgres|postgres|UTF8|C.UTF-8|C.UTF-8|NULL|libc|NULL\n"},
		{"dn lists schemas", `SELECT n.nspname, pg_get_userbyid(n.nspowner) FROM pg_namespace n
			WHERE NOT pg_regex(n.nspname, '^pg_', '') AND n.nspname <> 'information_schema' ORDER BY 1`, nil, "public|pg_database_owner\n"},
		{"du lists roles", `SELECT r.rolname, r.rolsuper, r.rolinherit, r.rolcreaterole, r.rolcreatedb, r.rolcanlogin, r.rolconnlimit,
			r.rolvaliduntil, coalesce((SELECT pg_array_agg(rolname) FROM (SELECT b.rolname FROM pg_auth_members m JOIN pg_roles b ON (m.roleid = b.oid)
			WHERE m.member = r.oid)), '{}') AS memberof, r.rolreplication, r.rolbypassrls FROM pg_roles r WHERE NOT pg_regex(r.rolname, '^pg_', '') ORDER BY 1`, nil,
			"postgres|1|1|1|1|1|-1|NULL|{}|1|1\n"},
		{"view columns", `SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
			JOIN pg_class c ON c.oid = a.attrelid WHERE c.relname = 'kv_names'`, nil, "k|character varying(20)\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := rowsText(queryRows(t, db, tc.query, tc.args...)); got != tc.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}

// Every catalog relation translation may name exists, and selecting all
// of it works.
func TestCatalogEveryRelationExists(t *testing.T) {
	db, _ := openCatalogDB(t, testSchemaDDL)
	for _, n := range translate.CatalogViews() {
		queryRows(t, db, "SELECT * FROM "+n)
	}
}

func TestCatalogInformationSchema(t *testing.T) {
	db, _ := openCatalogDB(t, testSchemaDDL)
	tests := []struct{ name, query, want string }{
		{"tables", `SELECT table_name, table_type FROM information_schema_tables WHERE table_schema = 'public' ORDER BY 1`,
			"child|BASE TABLE\nkv|BASE TABLE\nkv_names|VIEW\nplain|BASE TABLE\ntags|BASE TABLE\n"},
		{"columns", `SELECT column_name, ordinal_position, column_default, is_nullable, data_type, character_maximum_length,
			numeric_precision, numeric_scale, udt_name FROM information_schema_columns WHERE table_name = 'kv' AND ordinal_position <= 4 ORDER BY 2`,
			"id|1|nextval('kv_id_seq'::regclass)|NO|integer|NULL|32|0|int4\n" +
				"k|2|NULL|NO|character varying|20|NULL|NULL|varchar\n" +
				"v|3|0|YES|numeric|NULL|10|2|numeric\n" +
				"n|4|'-1'::integer|YES|integer|NULL|32|0|int4\n"},
		{"table constraints", `SELECT constraint_name, constraint_type FROM information_schema_table_constraints WHERE table_name = 'child' ORDER BY 1`,
			"child_a_fkey|FOREIGN KEY\nchild_b_c_key|UNIQUE\nchild_b_fkey|FOREIGN KEY\n"},
		{"key column usage", `SELECT constraint_name, column_name, ordinal_position FROM information_schema_key_column_usage WHERE table_name = 'child' ORDER BY 1, 3`,
			"child_a_fkey|a|1\nchild_b_c_key|b|1\nchild_b_c_key|c|2\nchild_b_fkey|b|1\n"},
		{"referential constraints", `SELECT constraint_name, unique_constraint_name, update_rule, delete_rule FROM information_schema_referential_constraints ORDER BY 1`,
			"child_a_fkey|kv_pkey|NO ACTION|CASCADE\nchild_b_fkey|kv_pkey|NO ACTION|NO ACTION\n"},
		{"constraint column usage", `SELECT table_name, column_name, constraint_name FROM information_schema_constraint_column_usage WHERE constraint_name LIKE 'child%' ORDER BY 3, 2`,
			"kv|id|child_a_fkey\nchild|b|child_b_c_key\nchild|c|child_b_c_key\nkv|id|child_b_fkey\n"},
		{"schemata", `SELECT schema_name FROM information_schema_schemata ORDER BY 1`, "information_schema\npg_catalog\npg_toast\npublic\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := rowsText(queryRows(t, db, tc.query)); got != tc.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}

func TestCatalogViewsFollowSchemaChanges(t *testing.T) {
	db, _ := openCatalogDB(t, testSchemaDDL)
	execInternal(t, db, `ALTER TABLE plain ADD COLUMN "extra" TEXT DEFAULT ('y')`)
	got := queryRows(t, db, `SELECT a.attname, d.adbin FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
		LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum WHERE c.relname = 'plain' ORDER BY a.attnum`)
	want := [][]string{{"id", "NULL"}, {"x", "NULL"}, {"extra", "'y'::text"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("after ALTER TABLE: %v, want %v", got, want)
	}
}

func TestCatalogPgType(t *testing.T) {
	db, _ := openCatalogDB(t, nil)
	got := rowsText(queryRows(t, db, `SELECT oid, typname, typlen, typbyval, typcategory, typelem, typarray, typinput, typalign, typcollation
		FROM pg_type WHERE oid IN (16, 23, 25, 1043, 1700, 1007, 2950) ORDER BY oid`))
	want := "16|bool|1|1|B|0|1000|boolin|c|0\n" +
		"23|int4|4|1|N|0|1007|int4in|i|0\n" +
		"25|text|-1|0|S|0|1009|textin|i|100\n" +
		"1007|_int4|-1|0|A|23|0|array_in|i|0\n" +
		"1043|varchar|-1|0|S|0|1015|varcharin|i|100\n" +
		"1700|numeric|-1|0|N|0|1231|numeric_in|i|0\n" +
		"2950|uuid|16|0|U|0|2951|uuid_in|c|0\n"
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

// psycopg 3 reads pg_cursors for named cursors: PostgreSQL 15's columns, no rows.
func TestCatalogPgCursorsIsEmpty(t *testing.T) {
	db, _ := openCatalogDB(t, nil)
	q := `SELECT name, statement, is_holdable, is_binary, is_scrollable, creation_time FROM pg_cursors`
	if got := queryRows(t, db, q); len(got) != 0 {
		t.Fatalf("pg_cursors has rows: %v", got)
	}
	if !slices.Contains(translate.CatalogViews(), "pg_cursors") {
		t.Fatalf("pg_catalog.pg_cursors is not a catalog relation")
	}
}

// TestCatalogPgDependConstraints: a constraint depends on its columns, a
// foreign key also on the referenced columns and index, and a key's index
// on its constraint, as in PostgreSQL 15 (the wants below are what it
// answers). pg_restore -j orders a foreign key after the referenced
// table's data and PRIMARY KEY through these rows.
func TestCatalogPgDependConstraints(t *testing.T) {
	e := newTestEngine(t)
	mustPG(t, e, `CREATE TABLE orders (id bigserial PRIMARY KEY, note text)`)
	mustPG(t, e, `CREATE TABLE tags (order_id bigint REFERENCES orders (id), tag text, PRIMARY KEY (order_id, tag))`)
	got := queryPG(t, e, `SELECT c.conname, d.deptype, r.relname, coalesce(a.attname, '-')
		FROM pg_depend d JOIN pg_constraint c ON d.classid = 'pg_constraint'::regclass AND d.objid = c.oid
		JOIN pg_class r ON d.refclassid = 'pg_class'::regclass AND r.oid = d.refobjid
		LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
		WHERE c.conrelid IN ('orders'::regclass, 'tags'::regclass)
		ORDER BY 1, 2, 3, 4`)
	want := "[orders_pkey|a|orders|id tags_order_id_fkey|a|tags|order_id tags_order_id_fkey|n|orders|id " +
		"tags_order_id_fkey|n|orders_pkey|- tags_pkey|a|tags|order_id tags_pkey|a|tags|tag]"
	if got != want {
		t.Errorf("pg_depend of constraints:\n got %s\nwant %s", got, want)
	}
	got = queryPG(t, e, `SELECT i.relname, d.deptype, c.conname FROM pg_depend d
		JOIN pg_class i ON d.classid = 'pg_class'::regclass AND i.oid = d.objid
		JOIN pg_constraint c ON d.refclassid = 'pg_constraint'::regclass AND c.oid = d.refobjid ORDER BY 1`)
	if want := "[orders_pkey|i|orders_pkey tags_pkey|i|tags_pkey]"; got != want {
		t.Errorf("pg_depend of constraint indexes:\n got %s\nwant %s", got, want)
	}
}
