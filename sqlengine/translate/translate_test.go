package translate

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/pgraft/pgraft/pgvalue"
	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// fakeSchema is the Schema the translation tests see.
type fakeSchema map[string]*TableInfo

func (f fakeSchema) Table(name string) *TableInfo { return f[name] }

// Tables lists the tables (the optional interface TRUNCATE/DROP CASCADE use).
func (f fakeSchema) Tables() []*TableInfo {
	out := make([]*TableInfo, 0, len(f))
	for _, t := range f {
		out = append(out, t)
	}
	return out
}

func testCol(name, typ string, mod int32, notNull bool) ColumnInfo {
	return ColumnInfo{Name: name, Type: TypeByName(typ), TypeMod: mod, NotNull: notNull}
}

// testSchema: users, orders (orders.user_id references users).
func testSchema() fakeSchema {
	id := testCol("id", "int8", -1, true)
	id.PrimaryKey, id.Rowid = true, true
	oid := testCol("id", "int4", -1, true)
	oid.PrimaryKey, oid.Rowid, oid.Serial = true, true, true
	return fakeSchema{
		"users": {Name: "users", OID: 16384, Columns: []ColumnInfo{id,
			testCol("name", "text", -1, true), testCol("email", "varchar", 104, false), testCol("active", "bool", -1, false),
			testCol("created_at", "timestamptz", -1, false), testCol("score", "numeric", (10<<16|2)+4, false)}},
		"orders": {Name: "orders", OID: 16390, Columns: []ColumnInfo{oid,
			testCol("user_id", "int8", -1, false), testCol("amount", "numeric", -1, false), testCol("placed", "date", -1, false),
			testCol("note", "text", -1, false)},
			FKs: []ForeignKeyInfo{{Columns: []string{"user_id"}, RefTable: "users", RefColumns: []string{"id"}}}},
	}
}

func testOptions() Options {
	settings := map[string]string{"session_authorization": "alice", "database": "app",
		"search_path": `"$user", public`, "pid": "4242", "in_hot_standby": "off", "application_name": "psql"}
	return Options{Setting: func(name string) (string, bool) {
		v, ok := settings[name]
		return v, ok
	}}
}

// translateOne translates a single statement and fails the test on error.
func translateOne(t *testing.T, sql string) *Stmt {
	t.Helper()
	sts, err := SQL(sql, testSchema(), testOptions())
	if err != nil {
		t.Fatalf("SQL(%q): %v", sql, err)
	}
	if len(sts) != 1 {
		t.Fatalf("SQL(%q): %d statements, want 1", sql, len(sts))
	}
	return sts[0]
}

type sqlCase struct{ name, in, want string }

func runSQLCases(t *testing.T, cases []sqlCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := translateOne(t, c.in)
			if st.SQL != c.want {
				t.Errorf("SQL(%q)\n got: %s\nwant: %s", c.in, st.SQL, c.want)
			}
		})
	}
}

func TestTranslateSelect(t *testing.T) {
	runSQLCases(t, []sqlCase{
		{"star passes through", "SELECT * FROM users", "SELECT * FROM users"},
		{"qualified star", "SELECT u.* FROM users u", "SELECT u.* FROM users AS u"},
		{"targets are aliased with PostgreSQL names", "SELECT id, name AS n, 1, count(*) FROM users GROUP BY id",
			`SELECT id AS "id", name AS "n", 1 AS "?column?", count(*) AS "count" FROM users GROUP BY id`},
		{"where with booleans", "SELECT id FROM users WHERE active = true AND NOT (id > 5)",
			`SELECT id AS "id" FROM users WHERE active = 1 AND NOT (id > 5)`},
		{"order by makes PostgreSQL null order explicit", "SELECT name FROM users ORDER BY email, score DESC, id",
			`SELECT name AS "name" FROM users ORDER BY email NULLS LAST, score DESC NULLS FIRST, id`},
		{"explicit nulls ordering kept", "SELECT name FROM users ORDER BY email DESC NULLS LAST",
			`SELECT name AS "name" FROM users ORDER BY email DESC NULLS LAST`},
		{"limit all is no limit", "SELECT id FROM users LIMIT ALL", `SELECT id AS "id" FROM users`},
		{"offset without limit", "SELECT id FROM users OFFSET 5", `SELECT id AS "id" FROM users LIMIT -1 OFFSET 5`},
		{"fetch first", "SELECT id FROM users FETCH FIRST 3 ROWS ONLY", `SELECT id AS "id" FROM users LIMIT 3`},
		{"joins", "SELECT u.name, o.amount FROM users u JOIN orders o ON o.user_id = u.id LEFT JOIN orders o2 USING (id)",
			`SELECT u.name AS "name", o.amount AS "amount" FROM users AS u JOIN orders AS o ON o.user_id = u.id LEFT JOIN orders AS o2 USING (id)`},
		{"natural, cross, full and comma joins", "SELECT 1 FROM users NATURAL JOIN orders CROSS JOIN orders o3 FULL JOIN users u2 ON true, orders o4",
			`SELECT 1 AS "?column?" FROM users NATURAL JOIN orders CROSS JOIN orders AS o3 FULL JOIN users AS u2 ON 1, orders AS o4`},
		{"distinct", "SELECT DISTINCT name FROM users", `SELECT DISTINCT name AS "name" FROM users`},
		{"union all and except", "SELECT id FROM users UNION ALL SELECT id FROM orders EXCEPT SELECT 3",
			`SELECT id AS "id" FROM users UNION ALL SELECT id AS "id" FROM orders EXCEPT SELECT 3 AS "?column?"`},
		{"set arm with limit becomes a subquery", "(SELECT id FROM users ORDER BY id LIMIT 1) UNION SELECT 2",
			`SELECT * FROM (SELECT id AS "id" FROM users ORDER BY id LIMIT 1) UNION SELECT 2 AS "?column?"`},
		{"values", "VALUES (1, 'a'), (2, 'b')", "VALUES (1, 'a'), (2, 'b')"},
		{"with recursive", "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT n FROM r",
			`WITH RECURSIVE r(n) AS (SELECT 1 AS "?column?" UNION ALL SELECT n + 1 AS "?column?" FROM r WHERE n < 3) SELECT n AS "n" FROM r`},
		{"subqueries", "SELECT (SELECT max(id) FROM orders) AS m FROM users WHERE EXISTS (SELECT 1 FROM orders) AND id IN (SELECT user_id FROM orders) AND id NOT IN (1, 2)",
			`SELECT (SELECT max(id) AS "max" FROM orders) AS "m" FROM users WHERE EXISTS (SELECT 1 AS "?column?" FROM orders) AND id IN (SELECT user_id AS "user_id" FROM orders) AND id NOT IN (1, 2)`},
		{"any and all subqueries", "SELECT 1 FROM users WHERE id = ANY (SELECT user_id FROM orders) AND id <> ALL (SELECT 7)",
			`SELECT 1 AS "?column?" FROM users WHERE id IN (SELECT user_id AS "user_id" FROM orders) AND id NOT IN (SELECT 7 AS "?column?")`},
		{"window function", "SELECT row_number() OVER (PARTITION BY user_id ORDER BY amount DESC ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) FROM orders",
			`SELECT row_number() OVER (PARTITION BY user_id ORDER BY amount DESC NULLS FIRST ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS "row_number" FROM orders`},
		{"named window with exclusion", "SELECT sum(amount) OVER w FROM orders WINDOW w AS (ORDER BY id ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING EXCLUDE CURRENT ROW)",
			`SELECT (pg_numeric_sum(amount) OVER w COLLATE pg_numeric) AS "sum" FROM orders WINDOW w AS (ORDER BY id ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING EXCLUDE CURRENT ROW)`},
		{"table statement", "TABLE users", "SELECT * FROM users"},
		{"for update is dropped", "SELECT id FROM users WHERE id = 1 FOR UPDATE", `SELECT id AS "id" FROM users WHERE id = 1`},
		{"subquery with column aliases", "SELECT a FROM (SELECT 1, 2) AS s(a, b)",
			`SELECT a AS "a" FROM (WITH s(a, b) AS (SELECT 1 AS "?column?", 2 AS "?column?") SELECT * FROM s) AS s`},
		{"public qualifier dropped", "SELECT public.users.id FROM public.users", `SELECT users.id AS "id" FROM users`},
		{"quoted identifiers only when needed", `SELECT "Weird Col", "order" FROM "MyTable"`,
			`SELECT "Weird Col" AS "Weird Col", "order" AS "order" FROM "MyTable"`},
		{"aggregate decorations", "SELECT count(DISTINCT name) FILTER (WHERE active), string_agg(name, ',' ORDER BY email) FROM users",
			`SELECT count(DISTINCT name) FILTER (WHERE active) AS "count", group_concat(name, ',' ORDER BY email NULLS LAST) AS "string_agg" FROM users`},
	})
}

func TestTranslateExpressions(t *testing.T) {
	runSQLCases(t, []sqlCase{
		{"string quoting and E strings", `SELECT 'it''s', E'a\nb'`, "SELECT 'it''s' AS \"?column?\", 'a\nb' AS \"?column?\""},
		{"numbers and null", "SELECT 1.5, 3000000000, -2, NULL", `SELECT '1.5' AS "?column?", 3000000000 AS "?column?", -2 AS "?column?", NULL AS "?column?"`},
		{"params become numbered", "SELECT id FROM users WHERE id = $1 OR name = $2", `SELECT id AS "id" FROM users WHERE id = ?1 OR name = ?2`},
		{"is distinct from", "SELECT a IS DISTINCT FROM b, a IS NOT DISTINCT FROM b FROM (SELECT 1 a, 2 b) s",
			`SELECT a IS NOT b AS "?column?", a IS b AS "?column?" FROM (SELECT 1 AS "a", 2 AS "b") AS s`},
		{"null and boolean tests", "SELECT email IS NULL, active IS NOT TRUE, active IS FALSE, active IS UNKNOWN FROM users",
			`SELECT email IS NULL AS "?column?", active IS NOT TRUE AS "?column?", active IS FALSE AS "?column?", active IS NULL AS "?column?" FROM users`},
		{"between symmetric", "SELECT 1 FROM users WHERE id BETWEEN 1 AND 5 AND id NOT BETWEEN SYMMETRIC 9 AND 7",
			`SELECT 1 AS "?column?" FROM users WHERE id BETWEEN 1 AND 5 AND NOT (id BETWEEN 9 AND 7 OR id BETWEEN 7 AND 9)`},
		{"like and ilike", "SELECT 1 FROM users WHERE name LIKE 'a%' AND name NOT ILIKE '%B' AND name LIKE 'x!_' ESCAPE '!'",
			`SELECT 1 AS "?column?" FROM users WHERE name LIKE 'a%' ESCAPE '\' AND lower(name) NOT LIKE lower('%B') ESCAPE '\' AND name LIKE 'x!_' ESCAPE '!'`},
		{"regex operators", "SELECT 1 FROM users WHERE name ~ '^a' AND name !~* 'b' AND name OPERATOR(pg_catalog.~) 'c'",
			`SELECT 1 AS "?column?" FROM users WHERE pg_regex(name, '^a', '') AND NOT pg_regex(name, 'b', 'i') AND pg_regex(name, 'c', '')`},
		{"case coalesce nullif greatest", "SELECT CASE WHEN id > 1 THEN 'a' ELSE 'b' END, CASE id WHEN 1 THEN 'x' END, coalesce(email, name), nullif(id, 0), greatest(1, 2), least(3, 4) FROM users",
			`SELECT CASE WHEN id > 1 THEN 'a' ELSE 'b' END AS "case", CASE id WHEN 1 THEN 'x' END AS "case", coalesce(email, name) AS "coalesce", nullif(id, 0) AS "nullif", pg_greatest(1, 2) AS "greatest", pg_least(3, 4) AS "least" FROM users`},
		{"collate C dropped", `SELECT name FROM users ORDER BY email COLLATE "C"`, `SELECT name AS "name" FROM users ORDER BY email NULLS LAST`},
		{"power and unary minus", "SELECT 2 ^ 3, -id FROM users", `SELECT pg_power(2, 3) AS "?column?", -id AS "?column?" FROM users`},
		{"precedence is kept with parentheses", "SELECT (1 + 2) * 3, 'a' || 'b' = 'ab'",
			`SELECT (1 + 2) * 3 AS "?column?", ('a' || 'b') = 'ab' AS "?column?"`},
		{"arrays", "SELECT ARRAY[1, 2], (ARRAY[1, 2])[1], 1 = ANY (ARRAY[1, 2]), 3 <> ALL ('{1,2}'::int4[])",
			`SELECT pg_array(1, 2) AS "array", pg_array_get(pg_array(1, 2), 1) AS "array", pg_array_contains(pg_array(1, 2), 1) AS "?column?", NOT pg_array_contains('{1,2}', 3) AS "?column?"`},
		{"array subquery", "SELECT ARRAY(SELECT name FROM users)",
			`SELECT coalesce((SELECT pg_array_agg("name") FROM (SELECT name AS "name" FROM users)), '{}') AS "array"`},
		{"json operators", "SELECT '{\"a\":1}'::json -> 'a', '{\"a\":1}'::json ->> 'a'",
			`SELECT pg_json_get('j->', pg_cast('{"a":1}', '', 'json', -1), 'a') AS "?column?", pg_json_get('j->>', pg_cast('{"a":1}', '', 'json', -1), 'a') AS "?column?"`},
		{"literal compared with a typed column is converted", "SELECT 1 FROM users WHERE created_at > '2024-01-01 10:00+02' AND active = 't'",
			`SELECT 1 AS "?column?" FROM users WHERE created_at > pg_cast_datetime('2024-01-01 10:00+02', '', 'timestamptz', -1) AND active = pg_cast('t', '', 'bool', -1)`},
	})
}

func TestTranslateFunctions(t *testing.T) {
	runSQLCases(t, []sqlCase{
		{"time functions", "SELECT now(), CURRENT_TIMESTAMP, localtimestamp, current_date, current_time, localtime",
			`SELECT pg_now() AS "now", pg_now() AS "current_timestamp", pg_now_local() AS "localtimestamp", pg_current_date() AS "current_date", pg_timetz(pg_now(), 'timestamptz', -1, pg_now(), 'UTC') AS "current_time", pg_current_time() AS "localtime"`},
		{"timetz casts carry the statement's time and zone", "SELECT '10:00'::timetz, CAST('10:00+02' AS time with time zone)",
			`SELECT pg_timetz('10:00', '', -1, pg_now(), 'UTC') AS "timetz", pg_timetz('10:00+02', '', -1, pg_now(), 'UTC') AS "timetz"`},
		{"pg_catalog qualifier stripped", "SELECT pg_catalog.lower('A'), pg_catalog.format_type(23, NULL)",
			`SELECT lower('A') AS "lower", format_type(23, NULL) AS "format_type"`},
		{"string functions", "SELECT char_length('ab'), btrim(' a '), trim(both from ' a '), substring('hello' from 2 for 3), substring('hello', 2), position('l' in 'hello'), strpos('hello', 'l'), concat('a', 1), left('abc', 2), octet_length('é')",
			`SELECT length('ab') AS "char_length", trim(' a ') AS "btrim", trim(' a ') AS "btrim", substr('hello', 2, 3) AS "substring", substr('hello', 2) AS "substring", instr('hello', 'l') AS "position", instr('hello', 'l') AS "strpos", pg_concat('a', 1) AS "concat", pg_left('abc', 2) AS "left", length(CAST('é' AS BLOB)) AS "octet_length"`},
		{"math functions", "SELECT ceil(1.5), ceiling(1.5), floor(1.5), mod(7, 2), random()",
			`SELECT (pg_numeric_ceil('1.5') COLLATE pg_numeric) AS "ceil", (pg_numeric_ceil('1.5') COLLATE pg_numeric) AS "ceiling", (pg_numeric_floor('1.5') COLLATE pg_numeric) AS "floor", pg_mod(7, 2) AS "mod", pg_random() AS "random"`},
		{"extract and date_trunc", "SELECT extract(YEAR FROM created_at), date_part('month', created_at), date_trunc('day', created_at) FROM users",
			`SELECT pg_extract('year', created_at) AS "extract", pg_extract('month', created_at) AS "date_part", pg_date_trunc('day', created_at) AS "date_trunc" FROM users`},
		{"aggregates mapped", "SELECT string_agg(name, ','), array_agg(id), bool_and(active), bool_or(active), every(active) FROM users",
			`SELECT group_concat(name, ',') AS "string_agg", pg_array_agg(id) AS "array_agg", min(active) AS "bool_and", max(active) AS "bool_or", min(active) AS "every" FROM users`},
		{"uuid and json", "SELECT gen_random_uuid(), uuid_generate_v4(), json_build_object('a', 1), jsonb_agg(id), to_json(name) FROM users",
			`SELECT gen_random_uuid() AS "gen_random_uuid", gen_random_uuid() AS "uuid_generate_v4", pg_json_build_object('json', '?n', 'a', 1) AS "json_build_object", pg_json_agg('ab', 'n', id) AS "jsonb_agg", pg_json_to('nt', name) AS "to_json" FROM users`},
		{"session functions are literals", "SELECT current_user, session_user, current_database(), current_schema(), current_schemas(false), current_schemas(true), pg_backend_pid(), pg_is_in_recovery(), current_setting('application_name'), version()",
			`SELECT 'alice' AS "current_user", 'alice' AS "session_user", 'app' AS "current_database", 'public' AS "current_schema", '{public}' AS "current_schemas", '{pg_catalog,public}' AS "current_schemas", 4242 AS "pg_backend_pid", 0 AS "pg_is_in_recovery", 'psql' AS "current_setting", pg_version() AS "version"`},
		{"missing setting with missing_ok", "SELECT current_setting('nope', true)", `SELECT NULL AS "current_setting"`},
		{"casts", "SELECT '5'::int, CAST(id AS text), id::int8, 1::numeric(10,2), varchar(3) 'abcd', $1::int4 FROM users",
			`SELECT pg_cast('5', '', 'int4', -1) AS "int4", pg_cast(id, 'int8', 'text', -1) AS "id", id AS "id", (pg_numeric(1, 655366, 'int4') COLLATE pg_numeric) AS "numeric", pg_cast('abcd', '', 'varchar', 7) AS "varchar", ?1 AS "int4" FROM users`},
		{"regclass and friends", "SELECT 'users'::regclass, oid::regclass, 'int4'::regtype, 23::regtype, 11::regnamespace, 'x'::regproc FROM pg_class",
			`SELECT (SELECT oid FROM pg_class WHERE relname = 'users') AS "regclass", (SELECT relname FROM pg_class WHERE oid = (oid)) AS "oid", 23 AS "regtype", format_type(23, NULL) AS "regtype", (SELECT nspname FROM pg_namespace WHERE oid = (11)) AS "regnamespace", 'x' AS "regproc" FROM pg_class`},
		{"generate_series in FROM", "SELECT s FROM generate_series(1, 3) s",
			`SELECT s AS "s" FROM (WITH RECURSIVE pg_series(s) AS (SELECT 1 WHERE 1 <= 3 UNION ALL SELECT s + 1 FROM pg_series WHERE s + 1 <= 3) SELECT s FROM pg_series) AS s`},
		{"jsonb_typeof keeps PostgreSQL names", "SELECT jsonb_typeof('1')",
			`SELECT CASE json_type('1') WHEN 'integer' THEN 'number' WHEN 'real' THEN 'number' WHEN 'true' THEN 'boolean' WHEN 'false' THEN 'boolean' ELSE json_type('1') END AS "jsonb_typeof"`},
	})
}

func TestTranslateCatalogRelations(t *testing.T) {
	cases := []struct{ in, want string }{
		{"SELECT relname FROM pg_catalog.pg_class c", `SELECT relname AS "relname" FROM pg_class AS c`},
		{"SELECT relname FROM pg_class", `SELECT relname AS "relname" FROM pg_class`},
		{"SELECT table_name FROM information_schema.tables", `SELECT table_name AS "table_name" FROM information_schema_tables AS tables`},
		{"SELECT t.table_name FROM information_schema.tables t", `SELECT t.table_name AS "table_name" FROM information_schema_tables AS t`},
	}
	for _, c := range cases {
		st := translateOne(t, c.in)
		if st.SQL != c.want || !st.Catalog {
			t.Errorf("SQL(%q) = %q catalog=%v, want %q catalog=true", c.in, st.SQL, st.Catalog, c.want)
		}
	}
	if st := translateOne(t, "SELECT id FROM users"); st.Catalog {
		t.Errorf("a user table query is marked Catalog")
	}
}

func TestTranslateMultipleStatements(t *testing.T) {
	sts, err := SQL("SHOW transaction_read_only; select pg_catalog.pg_is_in_recovery()", testSchema(), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	if len(sts) != 2 || sts[0].Kind != KindShow || sts[0].Source != "SHOW transaction_read_only" ||
		sts[1].Source != "select pg_catalog.pg_is_in_recovery()" || sts[1].SQL != `SELECT 0 AS "pg_is_in_recovery"` {
		t.Fatalf("got %+v", sts)
	}
	for _, empty := range []string{"", "  ", "-- ping", "/* c */ ;"} {
		sts, err := SQL(empty, testSchema(), testOptions())
		if err != nil || len(sts) != 0 {
			t.Errorf("SQL(%q) = %v, %v; want no statements", empty, sts, err)
		}
	}
}

func TestTranslateErrors(t *testing.T) {
	cases := []struct{ in, code, msg string }{
		{"SELEC 1", pgerror.SyntaxError, `syntax error at or near "SELEC"`},
		{"SELECT DISTINCT ON (id) id FROM users", pgerror.FeatureNotSupported, "DISTINCT ON"},
		{"SELECT B'101'", pgerror.FeatureNotSupported, "bit string"},
		{"SELECT nosuchfunc(1)", pgerror.UndefinedFunction, "function nosuchfunc(integer) does not exist"},
		{"SELECT 1::nosuchtype", pgerror.UndefinedObject, `type "nosuchtype" does not exist`},
		{"SELECT current_setting('nope')", pgerror.UndefinedObject, `unrecognized configuration parameter "nope"`},
		{"SELECT txid_current()", pgerror.FeatureNotSupported, "txid_current"},
		{"SELECT 1 FROM other.t", invalidSchemaName, `schema "other" does not exist`},
		{"SELECT 1 FROM pg_catalog.pg_nothing", pgerror.UndefinedTable, `relation "pg_catalog.pg_nothing" does not exist`},
		{"SELECT a COLLATE \"de_DE\" FROM users", pgerror.FeatureNotSupported, "COLLATE"},
		{"SELECT ARRAY[1] @> ARRAY[1]", pgerror.FeatureNotSupported, "@>"},
		{"SELECT x FROM users WHERE x SIMILAR TO 'a'", pgerror.FeatureNotSupported, "SIMILAR"},
		{"SELECT 1 FROM users GROUP BY ROLLUP (id)", pgerror.FeatureNotSupported, "ROLLUP"},
		{"SELECT rank(1) WITHIN GROUP (ORDER BY id) FROM users", pgerror.FeatureNotSupported, "WITHIN GROUP with rank"},
		{"SELECT percentile_cont(ARRAY[0.5]) WITHIN GROUP (ORDER BY id) FROM users", pgerror.FeatureNotSupported, "array of fractions"},
		{"SELECT * FROM lower('x')", pgerror.FeatureNotSupported, "function lower in FROM"},
		{"SELECT * FROM ROWS FROM (unnest(ARRAY[1]), unnest(ARRAY[2]))", pgerror.FeatureNotSupported, "ROWS FROM"},
		{"SELECT 1 + unnest(ARRAY[1])", pgerror.FeatureNotSupported, "set-returning function unnest"},
		{"SELECT json_each('{}')", pgerror.FeatureNotSupported, "json_each with more than one column"},
		{"SELECT count(*), unnest(ARRAY[1]) FROM users GROUP BY id", pgerror.FeatureNotSupported, "GROUP BY"},
		{"SELECT * FROM generate_subscripts(ARRAY[1])", pgerror.UndefinedFunction, "generate_subscripts"},
		{"SELECT * FROM unnest(ARRAY[1]) u(a, b)", pgerror.SyntaxError, "too many column aliases"},
		{"SELECT id FROM users ORDER BY id FETCH FIRST 1 ROWS WITH TIES", pgerror.FeatureNotSupported, "WITH TIES"},
		{"SELECT 1 FROM users u, LATERAL (SELECT * FROM pg_class) s", pgerror.FeatureNotSupported, "LATERAL over a subquery whose columns are not known"},
		{"SELECT 1 FROM users u, LATERAL (SELECT u.id) s(a, b)", pgerror.InvalidColumnReference, "has 1 columns available but 2 columns specified"},
		{"INSERT INTO users (id) VALUES (last_insert_rowid())", pgerror.FeatureNotSupported, "last_insert_rowid"},
		{"UPDATE users SET name = strftime('%s', 'now', 'localtime')", pgerror.FeatureNotSupported, "localtime"},
		{"UPDATE users SET name = datetime('2024-06-01 12:00:00', 'UTC')", pgerror.FeatureNotSupported, "'utc' modifier"},
		{"DELETE FROM users WHERE CURRENT OF c", pgerror.FeatureNotSupported, "CURRENT OF"},
		{"INSERT INTO users (nope) VALUES (1)", pgerror.UndefinedColumn, `column "nope" of relation "users" does not exist`},
		{"SELECT $0", pgerror.UndefinedParameter, "there is no parameter $0"},
	}
	for _, c := range cases {
		_, err := SQL(c.in, testSchema(), testOptions())
		pe := pgerror.As(err)
		if pe == nil {
			t.Errorf("SQL(%q): err = %v, want SQLSTATE %s", c.in, err, c.code)
			continue
		}
		if pe.Code != c.code || !strings.Contains(pe.Message, c.msg) {
			t.Errorf("SQL(%q): %s %q, want %s containing %q", c.in, pe.Code, pe.Message, c.code, c.msg)
		}
	}
}

func TestTranslateSyntaxErrorPosition(t *testing.T) {
	_, err := SQL("SELECT 1 FROM WHERE", testSchema(), testOptions())
	pe := pgerror.As(err)
	if pe == nil || pe.Code != pgerror.SyntaxError || pe.Position != 15 || pe.Message != `syntax error at or near "WHERE"` {
		t.Fatalf("got %#v", pe)
	}
}

func TestTranslateNulByte(t *testing.T) {
	_, err := SQL("SELECT E'a\\000b'", testSchema(), testOptions())
	if c := pgerror.Code(err); c != pgerror.CharacterNotInRepertoire && c != pgerror.SyntaxError {
		t.Fatalf("NUL in a string: got %v (%s)", err, c)
	}
	_, err = SQL("SELECT E'a\\x00b'", testSchema(), testOptions())
	if c := pgerror.Code(err); c == "" {
		t.Fatalf("NUL in a string accepted")
	}
}

func TestTranslateDML(t *testing.T) {
	runSQLCases(t, []sqlCase{
		{"insert multi-row with params and returning", "INSERT INTO users (name, email) VALUES ('a', 'b'), ($1, $2) RETURNING id, name AS n",
			`INSERT INTO users (name, email) VALUES ('a', pg_cast('b', '', 'varchar', 104)), (?1, ?2) RETURNING id AS "id", name AS "n"`},
		{"DEFAULT in a single row drops the column", "INSERT INTO users VALUES (DEFAULT, 'x', DEFAULT, true)",
			`INSERT INTO users (name, active) VALUES ('x', 1)`},
		{"DEFAULT in every row drops the column", "INSERT INTO users (id, name) VALUES (DEFAULT, 'x'), (DEFAULT, 'y')",
			`INSERT INTO users (name) VALUES ('x'), ('y')`},
		{"all DEFAULT is DEFAULT VALUES", "INSERT INTO users (id, name) VALUES (DEFAULT, DEFAULT)", "INSERT INTO users DEFAULT VALUES"},
		{"default values", "INSERT INTO users DEFAULT VALUES", "INSERT INTO users DEFAULT VALUES"},
		{"on conflict do update", "INSERT INTO users (id, name) VALUES (1, 'a') ON CONFLICT (id) DO UPDATE SET name = excluded.name WHERE users.active",
			"INSERT INTO users (id, name) VALUES (1, 'a') ON CONFLICT (id) DO UPDATE SET name = excluded.name WHERE users.active"},
		{"on conflict do nothing", "INSERT INTO users (id, name) VALUES (1, 'a') ON CONFLICT DO NOTHING",
			"INSERT INTO users (id, name) VALUES (1, 'a') ON CONFLICT DO NOTHING"},
		{"insert select gets WHERE true before ON CONFLICT", "INSERT INTO orders (user_id, amount) SELECT id, 5 FROM users ON CONFLICT (id) DO NOTHING",
			`INSERT INTO orders (user_id, amount) WITH pgraft_insert_rows(c1, c2) AS (SELECT id AS "id", 5 AS "?column?" FROM users) SELECT c1, pg_numeric(c2, -1) FROM pgraft_insert_rows WHERE true ON CONFLICT (id) DO NOTHING`},
		{"literals are converted to the column type", "INSERT INTO users (name, created_at, active) VALUES ('n', now(), 'yes')",
			`INSERT INTO users (name, created_at, active) VALUES ('n', pg_now(), pg_cast('yes', '', 'bool', -1))`},
		{"update with multi-assignment", "UPDATE users SET name = $1, (email, active) = ($2, $3) WHERE id = $4 RETURNING *",
			"UPDATE users SET name = ?1, email = ?2, active = ?3 WHERE id = ?4 RETURNING *"},
		{"update from", "UPDATE users u SET score = o.amount FROM orders o WHERE o.user_id = u.id RETURNING u.id",
			`UPDATE users AS u SET score = pg_numeric(o.amount, 655366) FROM orders AS o WHERE o.user_id = u.id RETURNING id AS "id"`},
		{"update with row subquery", "UPDATE users SET (name, email) = (SELECT note, note FROM orders WHERE orders.user_id = users.id)",
			`UPDATE users SET (name, email) = (SELECT note AS "note", note AS "note" FROM orders WHERE orders.user_id = users.id)`},
		{"delete returning", "DELETE FROM users WHERE id = $1 RETURNING id", `DELETE FROM users WHERE id = ?1 RETURNING id AS "id"`},
		{"delete using becomes exists", "DELETE FROM users USING orders WHERE orders.user_id = users.id",
			"DELETE FROM users WHERE EXISTS (SELECT 1 FROM orders WHERE orders.user_id = users.id)"},
	})
}

func TestTranslateDDL(t *testing.T) {
	runSQLCases(t, []sqlCase{
		{"create table with serial key and constraints",
			"CREATE TABLE t (id serial PRIMARY KEY, name varchar(20) NOT NULL DEFAULT 'x', price numeric(10,2) CHECK (price > 0), code char(3) UNIQUE, created timestamptz DEFAULT now(), updated timestamp DEFAULT CURRENT_TIMESTAMP, ok boolean DEFAULT false, owner int REFERENCES users(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED)",
			`CREATE TABLE t ("id" INTEGER /*pg:int4*/ PRIMARY KEY NOT NULL DEFAULT (pg_nextval('t_id_seq')) CONSTRAINT "pgraft_range_int4_id" CHECK ("id" BETWEEN -2147483648 AND 2147483647), "name" VARCHAR(20) NOT NULL DEFAULT ('x'), "price" NUMERIC_TEXT(10,2) COLLATE pg_numeric CHECK (price > pg_numeric(0) COLLATE pg_numeric), "code" BPCHAR(3) UNIQUE, "created" TIMESTAMPTZ DEFAULT (pg_now()), "updated" TIMESTAMP DEFAULT (pg_now_local()), "ok" BOOLEAN DEFAULT (0), "owner" INT4 REFERENCES users (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED CONSTRAINT "pgraft_range_int4_owner" CHECK ("owner" BETWEEN -2147483648 AND 2147483647))`},
		{"composite primary key and table constraints",
			"CREATE TABLE IF NOT EXISTS t2 (a int, b text, PRIMARY KEY (a, b), CONSTRAINT fk FOREIGN KEY (a) REFERENCES users (id) ON UPDATE SET NULL, UNIQUE (b), CHECK (a > 1))",
			`CREATE TABLE IF NOT EXISTS t2 ("a" INT4 NOT NULL CONSTRAINT "pgraft_range_int4_a" CHECK ("a" BETWEEN -2147483648 AND 2147483647), "b" TEXT NOT NULL, PRIMARY KEY (a, b), CONSTRAINT fk FOREIGN KEY (a) REFERENCES users (id) ON UPDATE SET NULL, UNIQUE (b), CHECK (a > 1))`},
		{"identity on a table-level primary key", "CREATE TABLE t3 (id bigint GENERATED ALWAYS AS IDENTITY, v text, PRIMARY KEY (id))",
			`CREATE TABLE t3 ("id" INTEGER /*pg:int8*/ PRIMARY KEY NOT NULL DEFAULT (pg_nextval('t3_id_seq')), "v" TEXT)`},
		{"plain integer primary key and other types", "CREATE TABLE t4 (id int PRIMARY KEY, u uuid DEFAULT gen_random_uuid(), j jsonb, b bytea, d date, f float8, r real, s smallint)",
			`CREATE TABLE t4 ("id" INTEGER /*pg:int4*/ PRIMARY KEY NOT NULL CONSTRAINT "pgraft_range_int4_id" CHECK ("id" BETWEEN -2147483648 AND 2147483647), "u" UUID DEFAULT (gen_random_uuid()), "j" JSONB_TEXT, "b" BYTEA_BLOB, "d" DATE, "f" FLOAT8, "r" FLOAT4, "s" INT2 CONSTRAINT "pgraft_range_int2_s" CHECK ("s" BETWEEN -32768 AND 32767))`},
		{"create index", "CREATE UNIQUE INDEX IF NOT EXISTS ix ON users USING btree (lower(email), name DESC) WHERE active",
			"CREATE UNIQUE INDEX IF NOT EXISTS ix ON users ((lower(email)), name DESC) WHERE active"},
		{"unnamed index gets PostgreSQL's name", "CREATE INDEX CONCURRENTLY ON users (email, name)", "CREATE INDEX users_email_name_idx ON users (email, name)"},
		{"drop several", "DROP TABLE IF EXISTS users, orders", "DROP TABLE IF EXISTS users"},
		{"drop cascade", "DROP TABLE IF EXISTS users CASCADE", `/*pgraft:alter*/ {"table":"","actions":[{"op":"drop_dependents","name":"users"}]}`},
		{"alter drop and rename", "ALTER TABLE users RENAME COLUMN email TO mail", "ALTER TABLE users RENAME COLUMN email TO mail"},
		{"create view", "CREATE VIEW v2 (a, b) AS SELECT id, name FROM users", `CREATE VIEW v2(a, b) /*pgview:{"a":"int8"}*/ /*pgdeps:["users"]*/ AS SELECT id AS "id", name AS "name" FROM users`},
		{"analyze", "ANALYZE users", "ANALYZE users"},
	})
}

func TestTranslateDDLFields(t *testing.T) {
	st := translateOne(t, "DROP TABLE IF EXISTS users, orders")
	if st.Kind != KindDDL || st.Tag != "DROP TABLE" || len(st.Post) != 3 || st.Post[0] != "DROP TABLE IF EXISTS orders" ||
		st.Post[1] != `SELECT pgraft_seq_ddl('{"op":"drop_owned","table":"users"}')` {
		t.Errorf("DROP TABLE a, b: %+v", st)
	}
	st = translateOne(t, "CREATE OR REPLACE VIEW v AS SELECT 1")
	if st.SQL != "DROP VIEW IF EXISTS v" || len(st.Post) != 1 || st.Post[0] != `CREATE VIEW v /*pgview:{"?column?":"int4"}*/ AS SELECT 1 AS "?column?"` || st.Tag != "CREATE VIEW" {
		t.Errorf("CREATE OR REPLACE VIEW: %+v", st)
	}
	st = translateOne(t, "TRUNCATE users, orders")
	if st.Kind != KindDelete || st.Tag != "TRUNCATE TABLE" || st.SQL != "DELETE FROM users" || len(st.Post) != 1 {
		t.Errorf("TRUNCATE: %+v", st)
	}
	for in, tag := range map[string]string{"CREATE SCHEMA IF NOT EXISTS public": "CREATE SCHEMA",
		`CREATE EXTENSION IF NOT EXISTS "uuid-ossp"`: "CREATE EXTENSION", "COMMENT ON TABLE users IS 'x'": "COMMENT",
		"UNLISTEN *": "UNLISTEN", "ALTER TABLE users DROP COLUMN IF EXISTS nope": "ALTER TABLE"} {
		if st := translateOne(t, in); st.Kind != KindNoop || st.Tag != tag {
			t.Errorf("%s: %+v, want KindNoop %q", in, st, tag)
		}
	}
}

func TestTranslateStorageParameters(t *testing.T) {
	ok := []string{
		"CREATE TABLE ff (a int) WITH (fillfactor=100)",
		"CREATE TABLE ff (a int) WITH (autovacuum_enabled=false, toast.autovacuum_enabled=off, parallel_workers=2, oids=false)",
		"CREATE TABLE ff (a int) WITH (autovacuum_vacuum_scale_factor=0.2, vacuum_index_cleanup=auto)",
		"CREATE INDEX ff_i ON users (id) WITH (fillfactor=70, deduplicate_items=off)",
		"CREATE TABLE ff (a int PRIMARY KEY WITH (fillfactor=80), b int, UNIQUE (b) WITH (fillfactor=90))",
	}
	for _, q := range ok {
		if _, err := SQL(q, testSchema(), testOptions()); err != nil {
			t.Errorf("SQL(%q): %v", q, err)
		}
	}
	bad := []struct{ in, code, msg, detail string }{
		{"CREATE TABLE ff (a int) WITH (nosuch=1)", pgerror.InvalidParameterValue, `unrecognized parameter "nosuch"`, ""},
		{"CREATE TABLE ff (a int) WITH (fillfactor=5)", pgerror.InvalidParameterValue, `value 5 out of bounds for option "fillfactor"`, `Valid values are between "10" and "100".`},
		{"CREATE TABLE ff (a int) WITH (fillfactor='x')", pgerror.InvalidParameterValue, `invalid value for integer option "fillfactor": x`, ""},
		{"CREATE TABLE ff (a int) WITH (fillfactor)", pgerror.InvalidParameterValue, `invalid value for integer option "fillfactor": true`, ""},
		{"CREATE TABLE ff (a int) WITH (toast.fillfactor=10)", pgerror.InvalidParameterValue, `unrecognized parameter "fillfactor"`, ""},
		{"CREATE TABLE ff (a int) WITH (foo.bar=1)", pgerror.InvalidParameterValue, `unrecognized parameter namespace "foo"`, ""},
		{"CREATE TABLE ff (a int) WITH (autovacuum_enabled=maybe)", pgerror.InvalidParameterValue, `invalid value for boolean option "autovacuum_enabled": maybe`, ""},
		{"CREATE TABLE ff (a int) WITH (oids=true)", pgerror.FeatureNotSupported, "OIDS", ""},
		{"CREATE INDEX ff_i ON users (id) WITH (nosuch=1)", pgerror.InvalidParameterValue, `unrecognized parameter "nosuch"`, ""},
		{"CREATE TABLE ff (a int PRIMARY KEY WITH (fillfactor=1))", pgerror.InvalidParameterValue, `value 1 out of bounds for option "fillfactor"`, `Valid values are between "10" and "100".`},
	}
	for _, c := range bad {
		_, err := SQL(c.in, testSchema(), testOptions())
		pe := pgerror.As(err)
		if pe == nil || pe.Code != c.code || !strings.Contains(pe.Message, c.msg) || pe.Detail != c.detail {
			t.Errorf("SQL(%q) = %v, want %s %q %q", c.in, err, c.code, c.msg, c.detail)
		}
	}
}

func TestTranslateDDLErrors(t *testing.T) {
	cases := map[string]string{
		"CREATE TEMP TABLE t6 (a int)":                                                                 "TEMP",
		"CREATE UNLOGGED TABLE t6 (a int)":                                                             "UNLOGGED",
		"CREATE TABLE t7 (a int[])":                                                                    "array",
		"CREATE TABLE t8 (a int) PARTITION BY RANGE (a)":                                               "PARTITION BY",
		"CREATE TABLE t9 (LIKE users)":                                                                 "LIKE",
		"CREATE TABLE c (a int) INHERITS (users)":                                                      "INHERITS",
		"CREATE TABLE x (a int, EXCLUDE USING gist (a WITH =))":                                        "EXCLUDE",
		"CREATE INDEX ON users USING gin (email)":                                                      "gin",
		"ALTER TABLE users ALTER COLUMN id SET GENERATED ALWAYS":                                       "SET GENERATED",
		"ALTER TABLE users ENABLE ROW LEVEL SECURITY":                                                  "ROW LEVEL SECURITY",
		"ALTER TABLE users ADD CONSTRAINT ex EXCLUDE USING gist (id WITH =)":                           "EXCLUDE",
		"ALTER TABLE users INHERIT orders":                                                             "INHERIT",
		"ALTER TABLE users SET TABLESPACE t":                                                           "TABLESPACE",
		"INSERT INTO users (id, name) VALUES (1, 'a') ON CONFLICT ON CONSTRAINT users_pkey DO NOTHING": "ON CONSTRAINT",
		"TRUNCATE users CASCADE":                                                                       "CASCADE",
		"CREATE SCHEMA foo":                                                                            "CREATE SCHEMA",
		"CREATE EXTENSION postgis":                                                                     "postgis",
		"CREATE FUNCTION f() RETURNS int AS 'select 1' LANGUAGE sql":                                   "CREATE FUNCTION",
		"CREATE TRIGGER tr AFTER INSERT ON users FOR EACH ROW EXECUTE FUNCTION f()":                    "CREATE TRIGGER",
		"CREATE TYPE mood AS ENUM ('a')":                                                               "CREATE TYPE",
		"EXPLAIN SELECT 1":                                                                             "EXPLAIN",
		"COPY users FROM STDIN WHERE id > 1":                                                           "COPY",
		"LOCK TABLE users":                                                                             "LOCK TABLE",
		"LISTEN x":                                                                                     "LISTEN",
		"NOTIFY x":                                                                                     "NOTIFY",
		"PREPARE p AS SELECT 1":                                                                        "PREPARE",
		"EXECUTE p":                                                                                    "EXECUTE",
		"CALL p()":                                                                                     "CALL",
		"DO $$ BEGIN END $$":                                                                           "DO",
		"COMMIT AND CHAIN":                                                                             "AND CHAIN",
		"PREPARE TRANSACTION 'x'":                                                                      "PREPARE TRANSACTION",
		"DELETE FROM users USING orders WHERE orders.user_id = users.id RETURNING orders.id": "RETURNING",
		"UPDATE users u SET name = 'x' FROM orders o RETURNING o.id":                         "RETURNING columns of other tables",
	}
	for in, want := range cases {
		_, err := SQL(in, testSchema(), testOptions())
		pe := pgerror.As(err)
		if pe == nil || pe.Code != pgerror.FeatureNotSupported || !strings.Contains(pe.Message, want) {
			t.Errorf("SQL(%q) = %v, want 0A000 naming %q", in, err, want)
		}
	}
	_, err := SQL("CREATE TABLE x (a int PRIMARY KEY, b int, PRIMARY KEY (b))", testSchema(), testOptions())
	if pgerror.Code(err) != "42P16" {
		t.Errorf("two primary keys: %v", err)
	}
	_, err = SQL("CREATE TABLE other.x (a int)", testSchema(), testOptions())
	if pgerror.Code(err) != invalidSchemaName {
		t.Errorf("unknown schema: %v", err)
	}
}

func TestTranslateUtility(t *testing.T) {
	yes, no := true, false
	cases := []struct {
		in   string
		want Stmt
	}{
		{"BEGIN", Stmt{Kind: KindBegin, Tag: "BEGIN", Tx: &TxOptions{}}},
		{"BEGIN ISOLATION LEVEL SERIALIZABLE, READ ONLY, DEFERRABLE", Stmt{Kind: KindBegin, Tag: "BEGIN",
			Tx: &TxOptions{Isolation: "serializable", ReadOnly: &yes, Deferrable: &yes}}},
		{"START TRANSACTION READ WRITE", Stmt{Kind: KindBegin, Tag: "START TRANSACTION", Tx: &TxOptions{ReadOnly: &no}}},
		{"COMMIT", Stmt{Kind: KindCommit, Tag: "COMMIT"}},
		{"END", Stmt{Kind: KindCommit, Tag: "COMMIT"}},
		{"ABORT", Stmt{Kind: KindRollback, Tag: "ROLLBACK"}},
		{"SAVEPOINT Sp1", Stmt{Kind: KindSavepoint, Tag: "SAVEPOINT", Savepoint: "sp1"}},
		{"RELEASE SAVEPOINT sp1", Stmt{Kind: KindRelease, Tag: "RELEASE", Savepoint: "sp1"}},
		{"ROLLBACK TO sp1", Stmt{Kind: KindRollbackTo, Tag: "ROLLBACK", Savepoint: "sp1"}},
		{`SET search_path TO "$user", public`, Stmt{Kind: KindSet, Tag: "SET", Set: &SetStmt{Name: "search_path", Values: []string{"$user", "public"}}}},
		{"SET LOCAL statement_timeout = 5000", Stmt{Kind: KindSet, Tag: "SET", Set: &SetStmt{Name: "statement_timeout", Values: []string{"5000"}, Local: true}}},
		{"SET TIME ZONE 'UTC'", Stmt{Kind: KindSet, Tag: "SET", Set: &SetStmt{Name: "timezone", Values: []string{"UTC"}}}},
		{"SET TIME ZONE LOCAL", Stmt{Kind: KindSet, Tag: "SET", Set: &SetStmt{Name: "timezone", Reset: true}}},
		{"SET TIME ZONE DEFAULT", Stmt{Kind: KindSet, Tag: "SET", Set: &SetStmt{Name: "timezone", Reset: true}}},
		{"SET TIME ZONE -7", Stmt{Kind: KindSet, Tag: "SET", Set: &SetStmt{Name: "timezone", Values: []string{"<-07>+07"}}}},
		{"SET TIME ZONE 5.5", Stmt{Kind: KindSet, Tag: "SET", Set: &SetStmt{Name: "timezone", Values: []string{"<+05:30>-05:30"}}}},
		{"SET TIME ZONE INTERVAL '-08:00' HOUR TO MINUTE", Stmt{Kind: KindSet, Tag: "SET", Set: &SetStmt{Name: "timezone", Values: []string{"<-08>+08"}}}},
		{"SET TIME ZONE INTERVAL '+00:00' HOUR TO MINUTE", Stmt{Kind: KindSet, Tag: "SET", Set: &SetStmt{Name: "timezone", Values: []string{"<+00>-00"}}}},
		{"SET TIME ZONE INTERVAL '2 hours'", Stmt{Kind: KindSet, Tag: "SET", Set: &SetStmt{Name: "timezone", Values: []string{"<+02>-02"}}}},
		{"SET timezone = -3", Stmt{Kind: KindSet, Tag: "SET", Set: &SetStmt{Name: "timezone", Values: []string{"<-03>+03"}}}},
		{"SET timezone TO '+02'", Stmt{Kind: KindSet, Tag: "SET", Set: &SetStmt{Name: "timezone", Values: []string{"<+02>-02"}}}},
		{"SET timezone TO 'Europe/Paris'", Stmt{Kind: KindSet, Tag: "SET", Set: &SetStmt{Name: "timezone", Values: []string{"Europe/Paris"}}}},
		{"SET NAMES 'UTF8'", Stmt{Kind: KindSet, Tag: "SET", Set: &SetStmt{Name: "client_encoding", Values: []string{"UTF8"}}}},
		{"SET SESSION application_name = DEFAULT", Stmt{Kind: KindSet, Tag: "SET", Set: &SetStmt{Name: "application_name", Reset: true}}},
		{"SET extra_float_digits = 3", Stmt{Kind: KindSet, Tag: "SET", Set: &SetStmt{Name: "extra_float_digits", Values: []string{"3"}}}},
		{"SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", Stmt{Kind: KindSet, Tag: "SET", Tx: &TxOptions{Isolation: "repeatable read"}}},
		{"SET TRANSACTION SNAPSHOT '00000003-0000001B-1'", Stmt{Kind: KindSet, Tag: "SET", Tx: &TxOptions{Import: true, Snapshot: "00000003-0000001B-1"}}},
		{"SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY", Stmt{Kind: KindSet, Tag: "SET", Tx: &TxOptions{ReadOnly: &yes, Session: true}}},
		{"RESET statement_timeout", Stmt{Kind: KindSet, Tag: "RESET", Set: &SetStmt{Name: "statement_timeout", Reset: true}}},
		{"RESET ALL", Stmt{Kind: KindSet, Tag: "RESET", Set: &SetStmt{Reset: true, All: true}}},
		{"SHOW ALL", Stmt{Kind: KindShow, Tag: "SHOW", Show: "all"}},
		{"SHOW TIME ZONE", Stmt{Kind: KindShow, Tag: "SHOW", Show: "timezone"}},
		{"SHOW TRANSACTION ISOLATION LEVEL", Stmt{Kind: KindShow, Tag: "SHOW", Show: "transaction_isolation"}},
		{"SHOW DateStyle", Stmt{Kind: KindShow, Tag: "SHOW", Show: "datestyle"}},
		{"DISCARD ALL", Stmt{Kind: KindDiscard, Tag: "DISCARD ALL"}},
		{"DEALLOCATE PREPARE foo", Stmt{Kind: KindDiscard, Tag: "DEALLOCATE"}},
		{"DEALLOCATE ALL", Stmt{Kind: KindDiscard, Tag: "DEALLOCATE ALL"}},
		{"SELECT set_config('search_path', 'public', false)", Stmt{Kind: KindSet, Tag: "SELECT",
			Set:     &SetStmt{Name: "search_path", Values: []string{"public"}, Result: true},
			Columns: []ResultColumn{{Name: "set_config", OID: pgvalue.OIDText, TypeMod: -1}}}},
		{"SELECT pg_catalog.set_config('application_name', 'x', true)", Stmt{Kind: KindSet, Tag: "SELECT",
			Set:     &SetStmt{Name: "application_name", Values: []string{"x"}, Local: true, Result: true},
			Columns: []ResultColumn{{Name: "set_config", OID: pgvalue.OIDText, TypeMod: -1}}}},
	}
	for _, c := range cases {
		got := translateOne(t, c.in)
		got.Source = ""
		if !stmtEqual(got, &c.want) {
			t.Errorf("SQL(%q)\n got: %s\nwant: %s", c.in, dumpStmt(got), dumpStmt(&c.want))
		}
	}
}

func stmtEqual(a, b *Stmt) bool { return dumpStmt(a) == dumpStmt(b) }

// dumpStmt renders a Stmt with its pointers followed, for comparison.
func dumpStmt(s *Stmt) string {
	out := fmt.Sprintf("kind=%d tag=%q sql=%q post=%q cols=%v sp=%q show=%q", s.Kind, s.Tag, s.SQL, s.Post, s.Columns, s.Savepoint, s.Show)
	if s.Set != nil {
		out += fmt.Sprintf(" set=%+v", *s.Set)
	}
	if s.Tx != nil {
		out += fmt.Sprintf(" tx={%q ro=%s def=%s session=%v import=%v %q}", s.Tx.Isolation, boolPtr(s.Tx.ReadOnly), boolPtr(s.Tx.Deferrable), s.Tx.Session,
			s.Tx.Import, s.Tx.Snapshot)
	}
	return out
}

func boolPtr(b *bool) string {
	if b == nil {
		return "nil"
	}
	return fmt.Sprint(*b)
}

// TestParamNumberBounds: the translator keeps a slot per parameter number up
// to the highest, so a number past what Bind can carry fails (42P02, as
// PostgreSQL says for a parameter it does not have) before any allocation.
func TestParamNumberBounds(t *testing.T) {
	tests := []struct{ sql, code string }{
		{"SELECT $65535::int", ""},
		{"SELECT $65536::int", pgerror.UndefinedParameter},
		{"SELECT 1 WHERE 1 = $2000000000", pgerror.UndefinedParameter},
		{"SELECT 1 WHERE 1 = $9223372036854775807", pgerror.UndefinedParameter},
	}
	for _, tc := range tests {
		_, err := SQL(tc.sql, nil, Options{})
		if got := pgerror.Code(err); got != tc.code {
			t.Errorf("%s: %v (%q), want %q", tc.sql, err, got, tc.code)
		}
	}
}

// TestTranslatePsqlCatalogQueries translates every query psql 15 sends for
// \dt, \d, \d tbl, \l, \dn and \du (captured from PostgreSQL 15).
func TestTranslatePsqlCatalogQueries(t *testing.T) {
	data, err := os.ReadFile("../../testdata/sql/psql15-catalog.sql")
	if err != nil {
		t.Fatal(err)
	}
	queries := splitNamedQueries(string(data))
	if len(queries) < 14 {
		t.Fatalf("found %d queries in psql15-catalog.sql, want at least 14", len(queries))
	}
	for name, q := range queries {
		sts, err := SQL(q, testSchema(), testOptions())
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if len(sts) != 1 || sts[0].Kind != KindSelect || !sts[0].Catalog || strings.Contains(sts[0].SQL, "pg_catalog.") {
			t.Errorf("%s: got %+v", name, sts)
		}
	}
}

// splitNamedQueries reads "-- name: x" sections.
func splitNamedQueries(s string) map[string]string {
	out := map[string]string{}
	name := ""
	var b strings.Builder
	flush := func() {
		if name != "" {
			out[name] = strings.TrimSpace(b.String())
		}
		b.Reset()
	}
	for _, line := range strings.Split(s, "\n") {
		if n, ok := strings.CutPrefix(line, "-- name: "); ok {
			flush()
			name = strings.TrimSpace(n)
			continue
		}
		if name != "" {
			b.WriteString(line + "\n")
		}
	}
	flush()
	return out
}

// psycopg 3 reads pg_cursors for named cursors: a catalog relation, whose
// view the engine creates empty.
func TestCatalogViewNamePgCursors(t *testing.T) {
	if name, ok := catalogViewName("pg_catalog", "pg_cursors"); !ok || name != "pg_cursors" {
		t.Fatalf("pg_catalog.pg_cursors is not a catalog relation")
	}
}

// TestVacuumIsANoop: VACUUM with options is accepted and changes nothing;
// a table it names must exist.
func TestVacuumIsANoop(t *testing.T) {
	for _, q := range []string{"VACUUM", "VACUUM ANALYZE users", "VACUUM (VERBOSE, ANALYZE) users", "VACUUM FULL users"} {
		if st := translateOne(t, q); st.Kind != KindNoop || st.Tag != "VACUUM" {
			t.Errorf("%s: %+v", q, st)
		}
	}
	if _, err := SQL("VACUUM nosuch", testSchema(), testOptions()); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("VACUUM nosuch: %v", err)
	}
}

// TestExportSnapshotStatement: pg_export_snapshot() alone in a SELECT, as
// pg_dump writes it, is the server's to answer; inside anything larger it
// stays a call, which the engine's stand-in refuses (0A000).
func TestExportSnapshotStatement(t *testing.T) {
	for _, c := range []struct {
		in   string
		want bool
	}{
		{"SELECT pg_catalog.pg_export_snapshot()", true},
		{"select pg_export_snapshot()", true},
		{"SELECT pg_export_snapshot() AS id", true},
		{"SELECT pg_export_snapshot(), pg_export_snapshot()", false},
		{"SELECT pg_export_snapshot() FROM items", false},
	} {
		st := translateOne(t, c.in)
		if st.ExportSnapshot != c.want {
			t.Errorf("SQL(%q).ExportSnapshot = %v, want %v", c.in, st.ExportSnapshot, c.want)
		}
		if c.want && (len(st.Columns) != 1 || st.Columns[0].OID != pgvalue.OIDText) {
			t.Errorf("SQL(%q) columns %v, want one text column", c.in, st.Columns)
		}
	}
}
