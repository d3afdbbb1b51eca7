package server_test

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgraft/pgraft/server/servertest"
)

// surfaceSchema is the schema of TestPsqlDescribeAsPostgres.
var surfaceSchema = []string{
	`CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL DEFAULT 'x', qty int CHECK (qty > 0))`,
	`CREATE INDEX items_name ON items (name)`,
	`CREATE VIEW v AS SELECT id, name FROM items`,
}

// TestPsqlDescribeAsPostgres: psql's describe commands answer (their
// output is compared with PostgreSQL 15's, run beside pgraft, by
// cmd/pgraft's TestPsqlDescribeMatchesPostgreSQL), and pgraft's integer
// range checks are in no catalog while they still enforce.
func TestPsqlDescribeAsPostgres(t *testing.T) {
	path, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("psql is not installed")
	}
	n := servertest.Start(t)
	c := connect(t, n)
	for _, s := range surfaceSchema {
		mustExec(t, c, s)
	}
	out, err := exec.Command(path, "-X", "-v", "ON_ERROR_STOP=1", "-d", n.DSN(), "-c", `\d items`, "-c", `\d+ items`, "-c", `\df`,
		"-c", `\dfS pg_catalog.nosuch*`, "-c", `\di`, "-c", `\dv`, "-c", `\d v`).CombinedOutput()
	if err != nil {
		t.Fatalf("psql: %v\n%s", err, out)
	}

	// \d+ of a view answers (its definition is pgraft's SQL, not
	// PostgreSQL's deparsed query).
	out, err = exec.Command(path, "-X", "-d", n.DSN(), "-v", "ON_ERROR_STOP=1", "-c", `\d+ v`).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "View definition:") || !strings.Contains(string(out), "| integer |") {
		t.Fatalf("\\d+ v: %v\n%s", err, out)
	}

	// pgraft's integer range checks are in no catalog, and still enforce.
	for _, q := range []string{
		`SELECT count(*) FROM pg_constraint WHERE conname LIKE 'pgraft%'`,
		`SELECT count(*) FROM information_schema.check_constraints WHERE constraint_name LIKE 'pgraft%'`,
		`SELECT count(*) FROM information_schema.table_constraints WHERE constraint_name LIKE 'pgraft%'`,
	} {
		if n := count(t, c, q); n != 0 {
			t.Errorf("%s = %d", q, n)
		}
	}
	if n := count(t, c, `SELECT relchecks FROM pg_class WHERE relname = 'items'`); n != 1 {
		t.Errorf("relchecks = %d, want 1", n)
	}
	_, err = c.Exec(context.Background(), `INSERT INTO items (id, qty) VALUES (1, 2147483648)`)
	wantCode(t, err, "22003")
}

// TestSetReturningFunctionsInFrom checks the set-returning functions in
// FROM and in select lists through pgx, with parameters.
func TestSetReturningFunctionsInFrom(t *testing.T) {
	n := servertest.Start(t)
	c := connect(t, n)
	ctx := context.Background()
	mustExec(t, c, `CREATE TABLE docs (id int PRIMARY KEY, body jsonb, tags text)`)
	mustExec(t, c, `INSERT INTO docs VALUES (1, '{"b": 2, "a": [1, 2]}', '{x,y}'), (2, '{"c": null}', '{z}')`)

	var got []string
	rows, err := c.Query(ctx, `SELECT d.id, e.key, e.value FROM docs d, jsonb_each(d.body) e ORDER BY 1, 2`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int32
		var k, v string
		if err := rows.Scan(&id, &k, &v); err != nil {
			t.Fatal(err)
		}
		got = append(got, k+"="+v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, " ") != `a=[1, 2] b=2 c=null` {
		t.Fatalf("jsonb_each rows = %q", got)
	}

	var sum, ord int64
	if err := c.QueryRow(ctx, `SELECT sum(x), max(n) FROM unnest($1::int[]) WITH ORDINALITY AS u(x, n)`, []int32{4, 5, 6}).Scan(&sum, &ord); err != nil {
		t.Fatal(err)
	}
	if sum != 15 || ord != 3 {
		t.Fatalf("sum, max ordinality = %d, %d", sum, ord)
	}
	tags := queryStrings(t, c, `SELECT tag FROM docs, unnest(tags::text[]) AS tag ORDER BY tag`)
	if strings.Join(tags, ",") != "x,y,z" {
		t.Fatalf("lateral unnest = %q", tags)
	}
	words := queryStrings(t, c, `SELECT unnest(ARRAY['a', 'b', 'c'])`)
	if strings.Join(words, ",") != "a,b,c" {
		t.Fatalf("select-list unnest = %q", words)
	}
	// Two arrays zip; the shorter is padded with NULL.
	var nulls int64
	if err := c.QueryRow(ctx, `SELECT count(*) FROM unnest(ARRAY[1,2,3], ARRAY['a']) AS z(n, s) WHERE s IS NULL`).Scan(&nulls); err != nil || nulls != 2 {
		t.Fatalf("zip NULLs = %d, %v", nulls, err)
	}
	_, err = c.Exec(ctx, `SELECT * FROM jsonb_array_elements('{"a": 1}')`)
	wantCode(t, err, "22023")

	// SQLAlchemy's primary-key reflection (set-returning functions in a
	// select list) and Django's index introspection (unnest of two arrays
	// WITH ORDINALITY, LATERAL).
	pk := queryStrings(t, c, `SELECT a.attname FROM pg_attribute a JOIN (SELECT unnest(ix.indkey) attnum,
		generate_subscripts(ix.indkey, 1) ord FROM pg_index ix WHERE ix.indrelid = 'docs'::regclass AND ix.indisprimary) k
		ON a.attnum = k.attnum WHERE a.attrelid = 'docs'::regclass ORDER BY k.ord`)
	if strings.Join(pk, ",") != "id" {
		t.Fatalf("primary key columns = %q", pk)
	}
	idx := queryStrings(t, c, `SELECT indexname || ':' || array_to_string(array_agg(attname ORDER BY arridx), ',') FROM (
		SELECT c2.relname AS indexname, attr.attname, idx.arridx, CASE (option & 1) WHEN 1 THEN 'DESC' ELSE 'ASC' END AS ordering
		  FROM (SELECT * FROM pg_index i, unnest(i.indkey, i.indoption) WITH ORDINALITY koi(key, option, arridx)) idx
		  LEFT JOIN pg_class c ON idx.indrelid = c.oid LEFT JOIN pg_class c2 ON idx.indexrelid = c2.oid
		  LEFT JOIN pg_attribute attr ON attr.attrelid = c.oid AND attr.attnum = idx.key
		 WHERE c.relname = 'docs') s2 GROUP BY indexname`)
	if strings.Join(idx, ",") != "docs_pkey:id" {
		t.Fatalf("django index introspection = %q", idx)
	}
	// A catalog column keeps its type through a FROM subquery over *.
	var unique, primary bool
	if err := c.QueryRow(ctx, `SELECT indisunique, indisprimary FROM (SELECT * FROM pg_index i,
		unnest(i.indkey, i.indoption) WITH ORDINALITY koi(key, option, arridx)) idx`).Scan(&unique, &primary); err != nil || !unique || !primary {
		t.Fatalf("indisunique, indisprimary = %v, %v, %v", unique, primary, err)
	}
}

// TestSetReturningFunctionsReplicate writes through set-returning
// functions on a three-node cluster: every node applies the same rows.
func TestSetReturningFunctionsReplicate(t *testing.T) {
	c := servertest.NewCluster(t, 3)
	leaderExec(t, c, `CREATE TABLE kv (k text PRIMARY KEY, v text, n bigint)`)
	leaderExec(t, c, `INSERT INTO kv SELECT e.key, e.value, o FROM jsonb_each_text($1::jsonb) WITH ORDINALITY e(key, value, o)`,
		`{"b": "2", "a": "1", "c": null}`)
	leaderExec(t, c, `INSERT INTO kv (k, n) SELECT 'w' || w, length(w) FROM regexp_split_to_table('one two three', ' ') w`)
	leaderExec(t, c, `UPDATE kv SET v = (SELECT string_agg(x, '-') FROM unnest(ARRAY['p', k]) x) WHERE v IS NULL`)
	leaderExec(t, c, `INSERT INTO kv SELECT 'z', string_agg(DISTINCT substr(v, 1, 1), ',' ORDER BY substr(v, 1, 1) DESC),
		percentile_disc(0.5) WITHIN GROUP (ORDER BY n) FROM kv`)
	c.RequireConverged()
	for _, f := range c.Followers() {
		fc := connect(t, f)
		got := queryStrings(t, fc, `SELECT k || '=' || v || '/' || n FROM kv ORDER BY k`)
		want := "a=1/1,b=2/2,c=p-c/3,wone=p-wone/3,wthree=p-wthree/5,wtwo=p-wtwo/3,z=p,2,1/3"
		if strings.Join(got, ",") != want {
			t.Fatalf("follower rows = %q, want %s", got, want)
		}
	}
}

// TestConstraintViolationsAsPostgres checks the constraint name and the DETAIL
// ORMs parse, on a three-node cluster through the leader and a follower
// (which forwards the write): every node reports the entry's error alike.
func TestConstraintViolationsAsPostgres(t *testing.T) {
	c := servertest.NewCluster(t, 3)
	leader := connect(t, c.Leader())
	leaderExec(t, c, `CREATE TABLE items (id int PRIMARY KEY, email text UNIQUE, qty int)`)
	leaderExec(t, c, `CREATE TABLE pairs (a int, b text, c boolean, CONSTRAINT pairs_ab UNIQUE (a, b))`)
	leaderExec(t, c, `CREATE UNIQUE INDEX pairs_c_idx ON pairs (c)`)
	leaderExec(t, c, `INSERT INTO items VALUES (1, 'a@x', 1), (2, 'b@x', 2)`)
	leaderExec(t, c, `INSERT INTO pairs VALUES (1, 'x', true)`)
	follower := connect(t, c.Followers()[0])
	cases := []struct {
		sql, constraint, detail string
		args                    []any
	}{
		{`INSERT INTO items (id, email) VALUES (1, 'new')`, "items_pkey", "Key (id)=(1) already exists.", nil},
		{`INSERT INTO items (id, email) VALUES ($1, $2)`, "items_email_key", "Key (email)=(b@x) already exists.", []any{9, "b@x"}},
		{`INSERT INTO items VALUES (7, 'q', 1), (8, 'r', 1), (7, 's', 1)`, "items_pkey", "Key (id)=(7) already exists.", nil},
		{`INSERT INTO items (id) SELECT x FROM (VALUES (3), (2)) v(x)`, "items_pkey", "Key (id)=(2) already exists.", nil},
		{`INSERT INTO pairs VALUES (1, 'x', false)`, "pairs_ab", "Key (a, b)=(1, x) already exists.", nil},
		{`INSERT INTO pairs VALUES (2, 'y', true) RETURNING a`, "pairs_c_idx", "Key (c)=(t) already exists.", nil},
		{`UPDATE items SET id = 1 WHERE id = 2`, "items_pkey", "Key (id)=(1) already exists.", nil},
		{`UPDATE items SET id = id + 1`, "items_pkey", "Key (id)=(2) already exists.", nil},
		{`UPDATE items i SET email = upper(i.email) WHERE id = $1 RETURNING id`, "", "", []any{-1}},
		{`UPDATE items SET email = 'b@x', qty = 3 WHERE email = $1`, "items_email_key", "Key (email)=(b@x) already exists.", []any{"a@x"}},
		{`UPDATE items SET id = 2 FROM pairs WHERE items.id = pairs.a`, "items_pkey", "Key (id) already exists.", nil},
	}
	for _, conn := range []*pgx.Conn{leader, follower} {
		for _, tc := range cases {
			err := execRetrying(t, conn, tc.sql, tc.args...)
			if tc.constraint == "" {
				if err != nil {
					t.Fatalf("%s: %v", tc.sql, err)
				}
				continue
			}
			var pe *pgconn.PgError
			if !errors.As(err, &pe) || pe.Code != "23505" {
				t.Fatalf("%s: %v, want 23505", tc.sql, err)
			}
			if pe.ConstraintName != tc.constraint || pe.Detail != tc.detail ||
				pe.Message != `duplicate key value violates unique constraint "`+tc.constraint+`"` {
				t.Errorf("%s: %q / %q / %q, want constraint %q, detail %q", tc.sql, pe.Message, pe.ConstraintName, pe.Detail, tc.constraint, tc.detail)
			}
		}
	}

	// A foreign key an INSERT breaks is named, with the missing key.
	leaderExec(t, c, `CREATE TABLE p (id int PRIMARY KEY)`)
	leaderExec(t, c, `CREATE TABLE ch (id int PRIMARY KEY, pid int REFERENCES p (id))`)
	leaderExec(t, c, `INSERT INTO p VALUES (1)`)
	for _, conn := range []*pgx.Conn{leader, follower} {
		err := execRetrying(t, conn, `INSERT INTO ch VALUES (1, 1), (2, NULL), (3, $1)`, 5)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "23503" || pe.ConstraintName != "ch_pid_fkey" ||
			pe.Message != `insert or update on table "ch" violates foreign key constraint "ch_pid_fkey"` ||
			pe.Detail != `Key (pid)=(5) is not present in table "p".` {
			t.Errorf("foreign key violation: %#v", err)
		}
	}
	c.RequireConverged()
}

// TestSessionSettingsAsPostgres: SET TIME ZONE in each of PostgreSQL's
// forms (Sequelize sends the INTERVAL one on connect) and what SHOW and
// timestamptz output then say; and on a follower current_setting agrees
// with SHOW on transaction_read_only.
func TestSessionSettingsAsPostgres(t *testing.T) {
	c := servertest.NewCluster(t, 3)
	conn := connect(t, c.Leader())
	ctx := context.Background()
	if _, err := conn.Exec(ctx, `SET client_min_messages TO warning;SET TIME ZONE INTERVAL '+00:00' HOUR TO MINUTE;`); err != nil {
		t.Fatalf("Sequelize's connect: %v", err)
	}
	cases := []struct{ set, show, ts string }{
		{`SET TIME ZONE INTERVAL '+00:00' HOUR TO MINUTE`, "<+00>-00", "2024-01-01 12:00:00+00"},
		{`SET TIME ZONE INTERVAL '-08:00' HOUR TO MINUTE`, "<-08>+08", "2024-01-01 04:00:00-08"},
		{`SET TIME ZONE -7`, "<-07>+07", "2024-01-01 05:00:00-07"},
		{`SET TIME ZONE 5.5`, "<+05:30>-05:30", "2024-01-01 17:30:00+05:30"},
		{`SET timezone = '+02'`, "<+02>-02", "2024-01-01 14:00:00+02"},
		{`SET timezone TO 'Europe/Paris'`, "Europe/Paris", "2024-01-01 13:00:00+01"},
		{`SET TIME ZONE 'UTC'`, "UTC", "2024-01-01 12:00:00+00"},
		{`SET TIME ZONE LOCAL`, "UTC", "2024-01-01 12:00:00+00"},
	}
	for _, tc := range cases {
		mustExec(t, conn, tc.set)
		if got := queryStrings(t, conn, `SHOW timezone`); got[0] != tc.show {
			t.Errorf("%s: SHOW timezone = %q, want %q", tc.set, got[0], tc.show)
		}
		var ts string
		if err := conn.QueryRow(ctx, `SELECT '2024-01-01 12:00:00+00'::timestamptz`, pgx.QueryExecModeSimpleProtocol).Scan(&ts); err != nil || ts != tc.ts {
			t.Errorf("%s: timestamptz = %q (%v), want %q", tc.set, ts, err, tc.ts)
		}
	}
	_, err := conn.Exec(ctx, `SET TIME ZONE INTERVAL '1 day' HOUR TO MINUTE`)
	wantCode(t, err, "22023")
	_, err = conn.Exec(ctx, `SET TIME ZONE 'nowhere'`)
	wantCode(t, err, "22023")

	for _, n := range c.Followers() {
		fc := connect(t, n)
		show := queryStrings(t, fc, `SHOW transaction_read_only`)
		cur := queryStrings(t, fc, `SELECT current_setting('transaction_read_only')`)
		if show[0] != "on" || cur[0] != show[0] {
			t.Errorf("follower: SHOW transaction_read_only = %s, current_setting = %s", show[0], cur[0])
		}
	}
	lc := queryStrings(t, connect(t, c.Leader()), `SELECT current_setting('transaction_read_only')`)
	if lc[0] != "off" {
		t.Errorf("leader: current_setting('transaction_read_only') = %s", lc[0])
	}
}

// TestStorageParameters runs pgbench's CREATE TABLEs: storage parameters
// are checked as PostgreSQL checks them, then ignored.
func TestStorageParameters(t *testing.T) {
	n := servertest.Start(t)
	c := connect(t, n)
	mustExec(t, c, `create table pgbench_tellers(tid int not null,bid int,tbalance int,filler char(84)) with (fillfactor=100)`)
	mustExec(t, c, `create table pgbench_branches(bid int not null,bbalance int,filler char(88)) with (fillfactor=100)`)
	mustExec(t, c, `create index pgbench_tellers_bid on pgbench_tellers (bid) with (fillfactor=70, deduplicate_items=off)`)
	mustExec(t, c, `insert into pgbench_tellers(tid,bid,tbalance) values (1,1,0)`)
	// pgbench's run looks its table up with a LATERAL subquery.
	var on int32
	var strat *string
	var inh int64
	if err := c.QueryRow(context.Background(), `select o.n, p.partstrat, pg_catalog.count(i.inhparent) from pg_catalog.pg_class as c
		join pg_catalog.pg_namespace as n on (n.oid = c.relnamespace)
		cross join lateral (select pg_catalog.array_position(pg_catalog.current_schemas(true), n.nspname)) as o(n)
		left join pg_catalog.pg_partitioned_table as p on (p.partrelid = c.oid)
		left join pg_catalog.pg_inherits as i on (c.oid = i.inhparent)
		where c.relname = 'pgbench_tellers' and o.n is not null group by 1, 2 order by 1 asc limit 1`).Scan(&on, &strat, &inh); err != nil ||
		on != 2 || strat != nil || inh != 0 {
		t.Fatalf("pgbench's table lookup: %d %v %d %v", on, strat, inh, err)
	}
	_, err := c.Exec(context.Background(), `create table ff (a int) with (nosuch=1)`)
	wantCode(t, err, "22023")
	_, err = c.Exec(context.Background(), `create table ff (a int) with (fillfactor=5)`)
	wantCode(t, err, "22023")
}

// TestJSONBOperators runs jsonb operators and functions in writes on a
// three-node cluster and reads them back as PostgreSQL prints jsonb.
func TestJSONBOperators(t *testing.T) {
	c := servertest.NewCluster(t, 3)
	conn := connect(t, c.Leader())
	leaderExec(t, c, `CREATE TABLE docs (id int PRIMARY KEY, body jsonb NOT NULL)`)
	leaderExec(t, c, `INSERT INTO docs VALUES (1, $1), (2, jsonb_build_object('tags', ARRAY['x','y'], 'n', 2, 'ok', true))`,
		`{"name": "a", "meta": {"views": 1}}`)
	leaderExec(t, c, `UPDATE docs SET body = jsonb_set(body, '{meta,views}', to_jsonb((body #>> '{meta,views}')::int + 1)) WHERE body ? 'meta'`)
	leaderExec(t, c, `UPDATE docs SET body = (body || '{"extra": [1, 2]}') - 'n' WHERE body @> '{"ok": true}'`)
	c.RequireConverged()
	for _, n := range append([]*servertest.Node{c.Leader()}, c.Followers()...) {
		got := queryStrings(t, connect(t, n), `SELECT body::text FROM docs ORDER BY id`)
		want := []string{`{"meta": {"views": 2}, "name": "a"}`, `{"ok": true, "tags": ["x", "y"], "extra": [1, 2]}`}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("bodies = %q, want %q", got, want)
		}
	}
	tags := queryStrings(t, conn, `SELECT t FROM docs, jsonb_array_elements_text(body -> 'tags') t ORDER BY t`)
	if strings.Join(tags, ",") != "x,y" {
		t.Fatalf("tags = %q", tags)
	}
	agg := queryStrings(t, conn, `SELECT jsonb_object_agg(id, body ->> 'name')::text FROM docs`)
	if agg[0] != `{"1": "a", "2": null}` {
		t.Fatalf("jsonb_object_agg = %q", agg)
	}
	// Parameters take the type the operator gives them.
	var n int64
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM docs WHERE body @> $1 OR body ? $2`,
		map[string]any{"ok": true}, "meta").Scan(&n); err != nil || n != 2 {
		t.Fatalf("@> and ? with parameters: %d, %v", n, err)
	}
	var name string
	if err := conn.QueryRow(context.Background(), `SELECT body ->> $1 FROM docs WHERE id = 1`, "name").Scan(&name); err != nil || name != "a" {
		t.Fatalf("->> with a parameter: %q, %v", name, err)
	}
	_, err := conn.Exec(context.Background(), `SELECT '{"a": 1}'::jsonb - 1`)
	wantCode(t, err, "22023")
}

// execRetrying runs a statement that is not meant to commit (it fails, or
// changes nothing) until its answer is not a leadership change's.
func execRetrying(t *testing.T, conn *pgx.Conn, sql string, args ...any) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), clusterWait)
	defer cancel()
	for {
		_, err := conn.Exec(ctx, sql, args...)
		if err == nil || !retryable(err) || sqlstate(err) == "" || ctx.Err() != nil {
			return err
		}
		time.Sleep(20 * time.Millisecond) // a poll: leadership is moving
	}
}

// TestArrayAndRegexpFunctions: the array and regular-expression functions
// through pgx, their arrays decoded as PostgreSQL's.
func TestArrayAndRegexpFunctions(t *testing.T) {
	n := servertest.Start(t)
	c := connect(t, n)
	ctx := context.Background()
	var parts []string
	var pos, card int32
	var typ string
	if err := c.QueryRow(ctx, `SELECT string_to_array($1, ','), array_position(ARRAY['x','y'], 'y'), cardinality(ARRAY[1,2,3]), pg_typeof(1)::text`,
		"a,b").Scan(&parts, &pos, &card, &typ); err != nil {
		t.Fatal(err)
	}
	if strings.Join(parts, "|") != "a|b" || pos != 2 || card != 3 || typ != "integer" {
		t.Fatalf("got %q %d %d %q", parts, pos, card, typ)
	}
	var ints []int32
	if err := c.QueryRow(ctx, `SELECT array_remove(array_append(ARRAY[1, 2], 1), 2)`).Scan(&ints); err != nil || len(ints) != 2 || ints[0] != 1 || ints[1] != 1 {
		t.Fatalf("array_remove(array_append(…)) = %v, %v", ints, err)
	}
	got := queryStrings(t, c, `SELECT regexp_replace('John Smith', '(\w+) (\w+)', '\2, \1')`)
	if got[0] != "Smith, John" {
		t.Fatalf("regexp_replace = %q", got)
	}
	mustExec(t, c, `CREATE TABLE words (w text)`)
	mustExec(t, c, `INSERT INTO words SELECT (regexp_matches('a1b22c333', '[0-9]+', 'g'))[1]`)
	if n := count(t, c, `SELECT count(*) FROM words`); n != 3 {
		t.Fatalf("regexp_matches rows = %d", n)
	}
}
