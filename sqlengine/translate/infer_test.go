package translate

import (
	"fmt"
	"testing"

	"github.com/pgraft/pgraft/pgvalue"
)

func TestInferParams(t *testing.T) {
	cases := []struct {
		in   string
		want []uint32
	}{
		{"SELECT id FROM users WHERE id = $1", []uint32{pgvalue.OIDInt8}},
		{"SELECT id FROM users WHERE $1 = name", []uint32{pgvalue.OIDText}},
		{"SELECT id FROM users u WHERE u.email = $1 AND u.active = $2", []uint32{pgvalue.OIDVarchar, pgvalue.OIDBool}},
		{"SELECT id FROM users WHERE created_at BETWEEN $1 AND $2", []uint32{pgvalue.OIDTimestamptz, pgvalue.OIDTimestamptz}},
		{"SELECT id FROM users WHERE id IN ($1, $2)", []uint32{pgvalue.OIDInt8, pgvalue.OIDInt8}},
		{"SELECT id FROM users WHERE name LIKE $1", []uint32{pgvalue.OIDText}},
		{"SELECT id FROM users LIMIT $1 OFFSET $2", []uint32{pgvalue.OIDInt8, pgvalue.OIDInt8}},
		{"SELECT $1::int", []uint32{pgvalue.OIDInt4}},
		{"SELECT $1 + 1", []uint32{pgvalue.OIDInt4}},
		{"SELECT $1", []uint32{0}},
		{"INSERT INTO users (name, score) VALUES ($1, $2)", []uint32{pgvalue.OIDText, pgvalue.OIDNumeric}},
		{"INSERT INTO users VALUES ($1, $2, $3)", []uint32{pgvalue.OIDInt8, pgvalue.OIDText, pgvalue.OIDVarchar}},
		{"UPDATE users SET active = $1 WHERE id = $2", []uint32{pgvalue.OIDBool, pgvalue.OIDInt8}},
		{"INSERT INTO orders (user_id) VALUES ($1) ON CONFLICT (id) DO UPDATE SET note = $2", []uint32{pgvalue.OIDInt8, pgvalue.OIDText}},
		{"SELECT o.id FROM orders o JOIN users u ON u.id = o.user_id WHERE o.placed = $1", []uint32{pgvalue.OIDDate}},
		{"SELECT 1 FROM users WHERE id = ANY($1)", []uint32{pgvalue.OIDInt8Array}},
		{"SELECT 1 FROM users WHERE id IN (SELECT user_id FROM orders WHERE amount > $1)", []uint32{pgvalue.OIDNumeric}},
		{"SELECT 1 FROM users WHERE $2 = id", []uint32{0, pgvalue.OIDInt8}},
		{"SELECT x FROM (SELECT id AS x FROM users) s WHERE x = $1", []uint32{pgvalue.OIDInt8}},
		{"WITH c AS (SELECT name FROM users) SELECT 1 FROM c WHERE name = $1", []uint32{pgvalue.OIDText}},
	}
	for _, c := range cases {
		st := translateOne(t, c.in)
		if fmt.Sprint(st.ParamOIDs) != fmt.Sprint(c.want) {
			t.Errorf("%s: ParamOIDs = %v, want %v", c.in, st.ParamOIDs, c.want)
		}
	}
}

func TestInferKeepsClientParamTypes(t *testing.T) {
	sts, err := SQL("SELECT id FROM users WHERE id = $1 AND name = $2", testSchema(),
		Options{ParamOIDs: []uint32{pgvalue.OIDText, 0, pgvalue.OIDInt4}})
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(sts[0].ParamOIDs); got != fmt.Sprint([]uint32{pgvalue.OIDText, pgvalue.OIDText, pgvalue.OIDInt4}) {
		t.Fatalf("ParamOIDs = %s", got)
	}
	sts, err = SQL("SELECT $1::int4", testSchema(), Options{ParamOIDs: []uint32{pgvalue.OIDText}})
	if err != nil || sts[0].SQL != `SELECT pg_cast(?1, 'text', 'int4', -1) AS "int4"` {
		t.Fatalf("cast of a text parameter: %v %v", sts, err)
	}
}

func TestInferResultColumns(t *testing.T) {
	rc := func(name string, oid uint32, mod int32) ResultColumn {
		return ResultColumn{Name: name, OID: oid, TypeMod: mod}
	}
	rcAt := func(name string, oid uint32, mod int32, table uint32, att int16) ResultColumn {
		return ResultColumn{Name: name, OID: oid, TypeMod: mod, TableOID: table, AttNum: att}
	}
	cases := []struct {
		in   string
		want []ResultColumn
	}{
		{"SELECT id, email, score FROM users", []ResultColumn{rcAt("id", pgvalue.OIDInt8, -1, 16384, 1), rcAt("email", pgvalue.OIDVarchar, 104, 16384, 3), rcAt("score", pgvalue.OIDNumeric, 655366, 16384, 6)}},
		{"SELECT u.name AS n, o.amount FROM users u JOIN orders o ON o.user_id = u.id",
			[]ResultColumn{rcAt("n", pgvalue.OIDText, -1, 16384, 2), rcAt("amount", pgvalue.OIDNumeric, -1, 16390, 3)}},
		{"SELECT id FROM users JOIN orders USING (id)", []ResultColumn{rc("id", 0, -1)}},
		{"SELECT 1, 3000000000, 1.5, 'a', true, NULL", []ResultColumn{rc("?column?", pgvalue.OIDInt4, -1), rc("?column?", pgvalue.OIDInt8, -1),
			rc("?column?", pgvalue.OIDNumeric, -1), rc("?column?", pgvalue.OIDText, -1), rc("?column?", pgvalue.OIDBool, -1), rc("?column?", 0, -1)}},
		{"SELECT count(*), sum(id), sum(amount), avg(id), min(placed), max(note) FROM orders",
			[]ResultColumn{rc("count", pgvalue.OIDInt8, -1), rc("sum", pgvalue.OIDInt8, -1), rc("sum", pgvalue.OIDNumeric, -1), rc("avg", pgvalue.OIDNumeric, -1),
				rc("min", pgvalue.OIDDate, -1), rc("max", pgvalue.OIDText, -1)}},
		{"SELECT id = 1, name LIKE 'a', EXISTS (SELECT 1), id IN (1), NOT active, 'a' || 'b', length(name) FROM users",
			[]ResultColumn{rc("?column?", pgvalue.OIDBool, -1), rc("?column?", pgvalue.OIDBool, -1), rc("exists", pgvalue.OIDBool, -1), rc("?column?", pgvalue.OIDBool, -1),
				rc("?column?", pgvalue.OIDBool, -1), rc("?column?", pgvalue.OIDText, -1), rc("length", pgvalue.OIDInt4, -1)}},
		{"SELECT now(), current_date, random(), gen_random_uuid(), extract(year FROM now()), date_trunc('day', created_at), version(), current_user, pg_is_in_recovery() FROM users",
			[]ResultColumn{rc("now", pgvalue.OIDTimestamptz, -1), rc("current_date", pgvalue.OIDDate, -1), rc("random", pgvalue.OIDFloat8, -1), rc("gen_random_uuid", pgvalue.OIDUUID, -1),
				rc("extract", pgvalue.OIDNumeric, -1), rc("date_trunc", pgvalue.OIDTimestamptz, -1), rc("version", pgvalue.OIDText, -1), rc("current_user", pgvalue.OIDName, -1),
				rc("pg_is_in_recovery", pgvalue.OIDBool, -1)}},
		{"SELECT $1::int8, id::text, '5'::varchar(3), CASE WHEN active THEN score END, coalesce(NULL, id), id + 1.5, (SELECT max(placed) FROM orders) FROM users",
			[]ResultColumn{rc("int8", pgvalue.OIDInt8, -1), rc("id", pgvalue.OIDText, -1), rc("varchar", pgvalue.OIDVarchar, 7), rc("case", pgvalue.OIDNumeric, -1),
				rc("coalesce", pgvalue.OIDInt8, -1), rc("?column?", pgvalue.OIDNumeric, -1), rc("max", pgvalue.OIDDate, -1)}},
		{"SELECT id FROM users UNION SELECT 2", []ResultColumn{rc("id", pgvalue.OIDInt8, -1)}},
		{"VALUES (1, 'x')", []ResultColumn{rc("column1", pgvalue.OIDInt4, -1), rc("column2", pgvalue.OIDText, -1)}},
		{"SELECT * FROM users", nil},
		{"SELECT u.*, 1 FROM users u", nil},
	}
	for _, c := range cases {
		st := translateOne(t, c.in)
		if fmt.Sprint(st.Columns) != fmt.Sprint(c.want) {
			t.Errorf("%s:\n got %v\nwant %v", c.in, st.Columns, c.want)
		}
	}
}

func TestInferReturningColumns(t *testing.T) {
	st := translateOne(t, "INSERT INTO users (name) VALUES ('a') RETURNING id, created_at AS c, score * 2")
	want := "[{id 20 -1 16384 1} {c 1184 -1 16384 5} {?column? 1700 -1 0 0}]"
	if !st.Returning || fmt.Sprint(st.Columns) != want {
		t.Fatalf("RETURNING columns = %v (returning=%v), want %s", st.Columns, st.Returning, want)
	}
	if st := translateOne(t, "DELETE FROM users RETURNING *"); !st.Returning || st.Columns != nil {
		t.Fatalf("RETURNING *: %+v", st)
	}
}
