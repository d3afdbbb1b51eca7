package sqlengine

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"

	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/pgraft/pgraft/sqlengine/translate"
)

// testSchemaDDL is a schema written the way translation writes DDL: a
// serial rowid alias with its RowidMarker, modifiers kept in declared types,
// defaults in parentheses, named and unnamed constraints.
var testSchemaDDL = []string{
	`CREATE TABLE kv ("id" INTEGER /*pg:int4*/ PRIMARY KEY AUTOINCREMENT NOT NULL, "k" VARCHAR(20) NOT NULL UNIQUE,
		"v" NUMERIC(10,2) DEFAULT (0), "n" INT4 DEFAULT (-1), "t" TEXT DEFAULT ('x'), "b" BOOLEAN DEFAULT (1),
		"d" DATE DEFAULT ('2020-01-01'), "ts" TIMESTAMPTZ DEFAULT (pg_now()), "u" UUID, "j" JSONB_TEXT DEFAULT ('{}'),
		"f" FLOAT8 DEFAULT (1.5), "c" BPCHAR(3),
		CONSTRAINT kv_n_chk CHECK ("n" > -5), CHECK ("v" >= 0 AND "v" < 1000))`,
	`CREATE TABLE child ("a" INT4 REFERENCES kv ("id") ON DELETE CASCADE, "b" INT4, "c" INT4,
		UNIQUE ("b", "c"), FOREIGN KEY ("b") REFERENCES kv)`,
	`CREATE UNIQUE INDEX child_a_idx ON child ("a")`,
	`CREATE INDEX child_b_c_idx ON child ("b", "c" DESC)`,
	`CREATE TABLE tags ("name" TEXT PRIMARY KEY, "note" VARCHAR)`,
	`CREATE TABLE plain ("id" INTEGER /*pg:int8*/ PRIMARY KEY NOT NULL, "x" INT2)`,
	`CREATE VIEW kv_names AS SELECT "k" FROM kv`,
	`CREATE TABLE _pgraft_meta (k TEXT PRIMARY KEY, v TEXT)`,
}

// openCatalogDB opens a file database whose one connection is set up like
// a read connection (functions, catalog views, the authorizer), runs ddl
// with internal access, and publishes the loaded schema to state.
func openCatalogDB(t *testing.T, ddl []string) (*sql.DB, *catalogState) {
	t.Helper()
	state := newCatalogState()
	hook := func(c *sqlite3.SQLiteConn) error {
		if err := registerFunctions(c, state, nil); err != nil {
			return err
		}
		if err := registerNodeStatsRead(c, nil); err != nil { // as on read connections
			return err
		}
		trusted := newTrustedPrefix()
		if err := createCatalogViews(c, trusted); err != nil {
			return err
		}
		return installAuthorizer(c, false, trusted)
	}
	db := sql.OpenDB(newConnector("file:"+filepath.Join(t.TempDir(), "db.sqlite"), hook))
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	execInternal(t, db, append([]string{rolesTableSQL, sequencesTableSQL, aclTableSQL}, ddl...)...)
	var snap *SchemaSnapshot
	withInternalDB(t, db, func(c *sql.Conn) (err error) {
		snap, err = loadSchema(context.Background(), c)
		return err
	})
	state.Set(snap)
	return db, state
}

// withInternalDB runs fn on one of db's connections with internal access.
func withInternalDB(t *testing.T, db *sql.DB, fn func(c *sql.Conn) error) {
	t.Helper()
	c, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := withInternalConn(c, func() error { return fn(c) }); err != nil {
		t.Fatal(err)
	}
}

// execInternal runs statements with internal access: the tests' own setup,
// which may create reserved names (_pgraft_meta) and change the schema of a
// connection set up as a read connection.
func execInternal(t *testing.T, db *sql.DB, stmts ...string) {
	t.Helper()
	withInternalDB(t, db, func(c *sql.Conn) error {
		for _, s := range stmts {
			if _, err := c.ExecContext(context.Background(), s); err != nil {
				return fmt.Errorf("exec %q: %w", s, err)
			}
		}
		return nil
	})
}

func TestLoadSchemaTables(t *testing.T) {
	_, state := openCatalogDB(t, testSchemaDDL)
	snap := state.Get()
	var names []string
	for _, tb := range snap.Tables() {
		names = append(names, tb.Name)
	}
	if want := []string{"child", "kv", "kv_names", "plain", "tags"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("Tables() = %v, want %v (internal tables hidden, sorted)", names, want)
	}
	if snap.Table("_pgraft_meta") != nil || snap.Table("sqlite_sequence") != nil {
		t.Fatal("internal tables must not be visible")
	}
	if v := snap.Table("kv_names"); v == nil || !v.View || len(v.Columns) != 1 {
		t.Fatalf("view kv_names = %+v", v)
	}
	if snap.Table("kv").OID == 0 || snap.TableByOID(snap.Table("kv").OID) != snap.Table("kv") {
		t.Fatal("table OID lookup broken")
	}
}

func TestLoadSchemaColumns(t *testing.T) {
	_, state := openCatalogDB(t, testSchemaDDL)
	kv := state.Get().Table("kv")
	type col struct {
		name, typ string
		mod       int32
		notNull   bool
		def       string
		pk, rowid bool
		serial    bool
	}
	want := []col{
		{"id", "int4", -1, true, "nextval('kv_id_seq'::regclass)", true, true, true},
		{"k", "varchar", 24, true, "", false, false, false},
		{"v", "numeric", 655366, false, "0", false, false, false},
		{"n", "int4", -1, false, "'-1'::integer", false, false, false},
		{"t", "text", -1, false, "'x'::text", false, false, false},
		{"b", "bool", -1, false, "true", false, false, false},
		{"d", "date", -1, false, "'2020-01-01'::date", false, false, false},
		{"ts", "timestamptz", -1, false, "now()", false, false, false},
		{"u", "uuid", -1, false, "", false, false, false},
		{"j", "jsonb", -1, false, "'{}'::jsonb", false, false, false},
		{"f", "float8", -1, false, "1.5", false, false, false},
		{"c", "bpchar", 7, false, "", false, false, false},
	}
	if len(kv.Columns) != len(want) {
		t.Fatalf("kv has %d columns, want %d", len(kv.Columns), len(want))
	}
	for i, w := range want {
		c := kv.Columns[i]
		got := col{c.Name, c.Type.Name, c.TypeMod, c.NotNull, c.Default, c.PrimaryKey, c.Rowid, c.Serial}
		if got != w {
			t.Errorf("column %d = %+v, want %+v", i, got, w)
		}
	}
	plain := state.Get().Table("plain")
	if c := plain.Columns[0]; c.Type.Name != "int8" || !c.Rowid || c.Serial || c.Default != "" {
		t.Errorf("plain.id = %+v, want int8 rowid, not serial, no default", c)
	}
	if c := plain.Columns[1]; c.Type.Name != "int2" || c.NotNull {
		t.Errorf("plain.x = %+v, want nullable int2", c)
	}
}

func TestLoadSchemaIndexesAndKeys(t *testing.T) {
	_, state := openCatalogDB(t, testSchemaDDL)
	snap := state.Get()
	idx := func(tb string) map[string]translate.IndexInfo {
		m := map[string]translate.IndexInfo{}
		for _, i := range snap.Table(tb).Indexes {
			m[i.Name] = i
		}
		return m
	}
	kv := idx("kv")
	if i := kv["kv_pkey"]; !i.Primary || !i.Unique || !reflect.DeepEqual(i.Columns, []string{"id"}) ||
		i.SQL != "CREATE UNIQUE INDEX kv_pkey ON public.kv USING btree (id)" {
		t.Errorf("kv_pkey = %+v", i)
	}
	if i := kv["kv_k_key"]; i.Primary || !i.Unique || i.SQL != "CREATE UNIQUE INDEX kv_k_key ON public.kv USING btree (k)" {
		t.Errorf("kv_k_key = %+v", i)
	}
	child := idx("child")
	for name, sql := range map[string]string{
		"child_b_c_key": "CREATE UNIQUE INDEX child_b_c_key ON public.child USING btree (b, c)",
		"child_a_idx":   "CREATE UNIQUE INDEX child_a_idx ON public.child USING btree (a)",
		"child_b_c_idx": "CREATE INDEX child_b_c_idx ON public.child USING btree (b, c DESC)",
	} {
		if child[name].SQL != sql {
			t.Errorf("index %s SQL = %q, want %q", name, child[name].SQL, sql)
		}
	}
	if len(child) != 3 {
		t.Errorf("child has indexes %v, want 3", child)
	}
	if i := idx("tags")["tags_pkey"]; !i.Primary || i.OID == 0 {
		t.Errorf("tags_pkey = %+v (a text primary key has SQLite's automatic index)", i)
	}
	fks := snap.Table("child").FKs
	want := []translate.ForeignKeyInfo{
		{Name: "child_a_fkey", Columns: []string{"a"}, RefTable: "kv", RefColumns: []string{"id"}, OnDelete: "CASCADE", OnUpdate: "NO ACTION"},
		{Name: "child_b_fkey", Columns: []string{"b"}, RefTable: "kv", RefColumns: []string{"id"}, OnDelete: "NO ACTION", OnUpdate: "NO ACTION"},
	}
	if !reflect.DeepEqual(fks, want) {
		t.Errorf("child FKs = %+v\nwant %+v", fks, want)
	}
}
