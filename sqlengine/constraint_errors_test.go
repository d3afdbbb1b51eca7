package sqlengine

import (
	"strings"
	"testing"
)

func TestSplitInsert(t *testing.T) {
	tbl := &modelTable{ddl: &ddlTable{columns: []string{"id", "name"}}}
	tests := []struct{ name, q, cols, source string }{
		{"values with a column list", `INSERT INTO "t" ("id", "name") VALUES (?1, 'a(b'), (2, 'c') RETURNING "id" AS "id"`,
			"id,name", `VALUES (?1, 'a(b'), (2, 'c')`},
		{"no column list", `INSERT INTO t VALUES (1, 'x') ON CONFLICT DO NOTHING`, "id,name", `VALUES (1, 'x')`},
		{"select with a join", `INSERT INTO t (id) SELECT a.x FROM a JOIN b ON a.x = b.x`, "id", `SELECT a.x FROM a JOIN b ON a.x = b.x`},
		{"alias", `INSERT INTO t AS z (name) VALUES ('on conflict')`, "name", `VALUES ('on conflict')`},
		{"not an insert", `UPDATE t SET id = 1`, "", ""},
		{"default values", `INSERT INTO t DEFAULT VALUES`, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cols, source, ok := splitInsert(tc.q, tbl)
			if !ok {
				cols, source = nil, ""
			}
			if strings.Join(cols, ",") != tc.cols || source != tc.source {
				t.Fatalf("splitInsert(%q) = %q, %q, want %q, %q", tc.q, cols, source, tc.cols, tc.source)
			}
		})
	}
}

func TestUniqueIndexName(t *testing.T) {
	m := buildSchemaModel([]schemaRow{
		{typ: "table", name: "t", tblName: "t", rowid: 1, sql: `CREATE TABLE t ("id" INTEGER /*pg:int4*/ PRIMARY KEY, "a" INT4 UNIQUE, "b" TEXT, CONSTRAINT "named" UNIQUE ("a", "b"))`},
		{typ: "index", name: "sqlite_autoindex_t_1", tblName: "t", rowid: 2},
		{typ: "index", name: "sqlite_autoindex_t_2", tblName: "t", rowid: 3},
		{typ: "index", name: "t_b_idx", tblName: "t", rowid: 4, sql: `CREATE UNIQUE INDEX "t_b_idx" ON "t" ("b")`},
	})
	for cols, want := range map[string]string{"id": "t_pkey", "a": "t_a_key", "a,b": "named", "b": "t_b_idx", "b,a": ""} {
		if got := uniqueIndexName(m, "t", strings.Split(cols, ",")); got != want {
			t.Errorf("uniqueIndexName(%s) = %q, want %q", cols, got, want)
		}
	}
}

func TestViewRowidType(t *testing.T) {
	m := buildSchemaModel([]schemaRow{
		{typ: "table", name: "a", tblName: "a", rowid: 1, sql: `CREATE TABLE a ("id" INTEGER /*pg:int4*/ PRIMARY KEY, "x" INT4)`},
		{typ: "table", name: "b", tblName: "b", rowid: 2, sql: `CREATE TABLE b ("bid" INTEGER /*pg:int8*/ PRIMARY KEY)`},
	})
	for _, tc := range []struct{ col, decl, want string }{
		{"id", "INTEGER", "int4"}, {"bid", "integer", "int8"}, {"renamed", "INTEGER", ""}, {"x", "INT4", ""},
	} {
		if got := m.viewRowidType("v", tc.col, tc.decl); got != tc.want {
			t.Errorf("viewRowidType(%s, %s) = %q, want %q", tc.col, tc.decl, got, tc.want)
		}
	}
	one := buildSchemaModel([]schemaRow{{typ: "table", name: "a", tblName: "a", rowid: 1, sql: `CREATE TABLE a ("id" INTEGER /*pg:int4*/ PRIMARY KEY)`}})
	if got := one.viewRowidType("v", "renamed", "INTEGER"); got != "int4" {
		t.Errorf("one rowid type everywhere: %q", got)
	}
	// A view that says its columns' types is believed over any guess.
	marked := buildSchemaModel([]schemaRow{
		{typ: "table", name: "a", tblName: "a", rowid: 1, sql: `CREATE TABLE a ("id" INTEGER /*pg:int4*/ PRIMARY KEY)`},
		{typ: "table", name: "b", tblName: "b", rowid: 2, sql: `CREATE TABLE b ("id" INTEGER /*pg:int8*/ PRIMARY KEY)`},
		{typ: "view", name: "v", tblName: "v", rowid: 3, sql: `CREATE VIEW "v" /*pgview:{"id":"int4"}*/ AS SELECT id AS "id" FROM a`},
	})
	if got := marked.viewRowidType("v", "id", "INTEGER"); got != "int4" {
		t.Errorf("a marked view's column: %q, want int4", got)
	}
	if got := marked.viewRowidType("w", "id", "INTEGER"); got != "" {
		t.Errorf("an unmarked view over mixed keys: %q, want no guess", got)
	}
}

func TestInsertTable(t *testing.T) {
	for q, want := range map[string]string{
		`INSERT INTO "ch" ("id") VALUES (1)`: "ch", `INSERT INTO t SELECT 1`: "t", `UPDATE t SET a = 1`: "", `WITH x AS (SELECT 1) INSERT INTO t SELECT 1`: "",
	} {
		if got := insertTable(q); got != want {
			t.Errorf("insertTable(%q) = %q, want %q", q, got, want)
		}
	}
}

func TestSplitUpdate(t *testing.T) {
	tests := []struct{ q, table, alias, set, where string }{
		{`UPDATE "t" SET "a" = ?1, "b" = f(x, (1, 2)) WHERE "id" = 3 RETURNING "a" AS "a"`, "t", "", `a=?1;b=f(x, (1, 2))`, `"id" = 3`},
		{`UPDATE t AS z SET a = 'x,y' WHERE (a = 'where')`, "t", "z", `a='x,y'`, `(a = 'where')`},
		{`UPDATE t u SET a = a + 1`, "t", "u", `a=a + 1`, ""},
		{`UPDATE t SET a = 1 FROM o WHERE o.id = t.id`, "", "", "", ""},
		{`UPDATE t SET (a, b) = (1, 2)`, "", "", "", ""},
		{`DELETE FROM t`, "", "", "", ""},
	}
	for _, tc := range tests {
		u, ok := splitUpdate(tc.q)
		set := ""
		if ok {
			var parts []string
			for _, c := range []string{"a", "b"} {
				if e, has := u.set[c]; has {
					parts = append(parts, c+"="+e)
				}
			}
			set = strings.Join(parts, ";")
		} else {
			u = updateParts{}
		}
		if u.table != tc.table || u.alias != tc.alias || set != tc.set || u.where != tc.where {
			t.Errorf("splitUpdate(%q) = %q %q %q %q, want %q %q %q %q", tc.q, u.table, u.alias, set, u.where, tc.table, tc.alias, tc.set, tc.where)
		}
	}
}

func TestProbesSkipSequenceCalls(t *testing.T) {
	for probe, want := range map[string]bool{
		`WITH "pg_src"("c1") AS (VALUES (nextval('s'))) SELECT 1`: true,
		`WITH "pg_src"("c1") AS (VALUES (pg_setval(1))) SELECT 1`: true,
		`WITH "pg_src"("c1") AS (VALUES (?1)) SELECT 1`:           false,
	} {
		if got := hasSideEffects(probe); got != want {
			t.Errorf("hasSideEffects(%q) = %v", probe, got)
		}
	}
}
