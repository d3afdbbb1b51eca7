package server_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/pgraft/pgraft/server/servertest"
)

// TestPrivileges: ownership and GRANT/REVOKE as PostgreSQL 15 enforces
// them, each refusal with 42501 and PostgreSQL's message. The node runs in
// trust mode: stored roles log in without a password and are checked;
// the superuser (postgres, no stored role) passes everything.
func TestPrivileges(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	n := servertest.StartDir(t, dir)
	root := connect(t, n)
	ctx := context.Background()
	for _, q := range []string{
		"CREATE ROLE reader LOGIN",
		"CREATE ROLE writer LOGIN",
		"CREATE ROLE app LOGIN",
		"CREATE TABLE items (id serial PRIMARY KEY, name text, secret text)",
		"INSERT INTO items (name, secret) VALUES ('a', 's1'), ('b', 's2')",
		"CREATE TABLE hidden (x int)",
		"CREATE VIEW item_names AS SELECT id, name FROM items",
	} {
		mustExec(t, root, q)
	}
	as := func(user string) *pgx.Conn { return mustLogin(t, n, user, "") }
	reader, writer, app := as("reader"), as("writer"), as("app")
	denied := func(c *pgx.Conn, q, msg string) {
		t.Helper()
		_, err := c.Exec(ctx, q)
		wantCode(t, err, "42501")
		if err != nil && !strings.Contains(err.Error(), msg) {
			t.Errorf("%s: %v, want %q", q, err, msg)
		}
	}
	ok := func(c *pgx.Conn, q string) {
		t.Helper()
		if _, err := c.Exec(ctx, q); err != nil {
			t.Errorf("%s: %v", q, err)
		}
	}

	// Nothing granted: nothing but the catalogs.
	denied(reader, "SELECT * FROM items", "permission denied for table items")
	denied(reader, "SELECT 1 FROM (SELECT id FROM items) s", "permission denied for table items")
	denied(reader, "WITH x AS (SELECT * FROM items) SELECT * FROM x", "permission denied for table items")
	denied(reader, "SELECT * FROM item_names", "permission denied for view item_names")
	ok(reader, "SELECT relname FROM pg_class")
	ok(reader, "WITH items AS (SELECT 1) SELECT * FROM items") // a WITH query, not the table
	var super string
	if err := reader.QueryRow(ctx, "SHOW is_superuser").Scan(&super); err != nil || super != "off" {
		t.Errorf("SHOW is_superuser for reader: %q %v", super, err)
	}

	// SELECT on a view reads the view alone; on the table, the table.
	mustExec(t, root, "GRANT SELECT ON item_names TO reader")
	ok(reader, "SELECT * FROM item_names")
	denied(reader, "SELECT * FROM items", "permission denied for table items")
	mustExec(t, root, "GRANT SELECT ON TABLE items TO reader")
	ok(reader, "SELECT * FROM items")
	denied(reader, "INSERT INTO items (name) VALUES ('x')", "permission denied for table items")
	denied(reader, "UPDATE items SET name = 'x'", "permission denied for table items")
	denied(reader, "DELETE FROM items", "permission denied for table items")
	denied(reader, "TRUNCATE items", "permission denied for table items")
	denied(reader, "DROP TABLE items", "must be owner of table items")
	denied(reader, "ALTER TABLE items ADD COLUMN z int", "must be owner of table items")
	denied(reader, "CREATE INDEX ON items (name)", "must be owner of table items")
	denied(reader, "GRANT SELECT ON items TO writer", "permission denied for table items")

	// INSERT without SELECT: plain inserts pass; RETURNING and WHERE read.
	mustExec(t, root, "GRANT INSERT, UPDATE ON items TO writer")
	mustExec(t, root, "GRANT USAGE ON SEQUENCE items_id_seq TO writer")
	ok(writer, "INSERT INTO items (name) VALUES ('w')")
	denied(writer, "INSERT INTO items (name) VALUES ('w') RETURNING id", "permission denied for table items")
	ok(writer, "UPDATE items SET name = 'all'")
	denied(writer, "UPDATE items SET name = 'x' WHERE id = 1", "permission denied for table items")
	denied(writer, "DELETE FROM items", "permission denied for table items")
	ok(writer, "SELECT nextval('items_id_seq')")
	denied(writer, "SELECT setval('items_id_seq', 100)", "permission denied for sequence items_id_seq")
	// A transaction block stops at the refused statement.
	tx, err := writer.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "INSERT INTO items (name) VALUES ('in tx')"); err != nil {
		t.Fatal(err)
	}
	_, err = tx.Exec(ctx, "SELECT * FROM hidden")
	wantCode(t, err, "42501")
	_ = tx.Rollback(ctx)

	// REVOKE takes it back; PUBLIC reaches everyone.
	mustExec(t, root, "REVOKE SELECT ON items FROM reader")
	denied(reader, "SELECT * FROM items", "permission denied for table items")
	mustExec(t, root, "GRANT SELECT ON hidden TO PUBLIC")
	ok(reader, "SELECT * FROM hidden")
	ok(app, "SELECT * FROM hidden")
	mustExec(t, root, "REVOKE ALL ON hidden FROM PUBLIC")
	denied(app, "SELECT * FROM hidden", "permission denied for table hidden")

	// CREATE on schema public is the database owner's (PostgreSQL 15) until granted;
	// what a role creates it owns, may change, and may grant.
	denied(app, "CREATE TABLE mine (a int)", "permission denied for schema public")
	mustExec(t, root, "GRANT CREATE ON SCHEMA public TO app")
	ok(app, "CREATE TABLE mine (id serial PRIMARY KEY, a int)")
	ok(app, "INSERT INTO mine (a) VALUES (1)")
	ok(app, "ALTER TABLE mine ADD COLUMN b text")
	ok(app, "CREATE INDEX mine_a ON mine (a)")
	ok(app, "GRANT SELECT ON mine TO reader")
	ok(reader, "SELECT * FROM mine")
	denied(reader, "DROP INDEX mine_a", "must be owner of index mine_a")
	denied(app, "CREATE VIEW peek AS SELECT secret FROM items", "permission denied for table items")
	denied(app, "CREATE TABLE child (id int REFERENCES items (id))", "permission denied for table items")
	var owner, acl string
	if err := root.QueryRow(ctx, `SELECT pg_get_userbyid(relowner), relacl::text FROM pg_class WHERE relname = 'mine'`).Scan(&owner, &acl); err != nil {
		t.Fatal(err)
	}
	if owner != "app" || acl != "{app=arwdDxt/app,reader=r/app}" {
		t.Errorf("pg_class of mine: owner %s, relacl %s", owner, acl)
	}
	if err := root.QueryRow(ctx, `SELECT tableowner FROM pg_tables WHERE tablename = 'items'`).Scan(&owner); err != nil || owner != "postgres" {
		t.Errorf("pg_tables owner of items: %s %v", owner, err)
	}
	// Renames keep owner and grants; a role that owns something stays.
	ok(app, "ALTER TABLE mine RENAME TO ours")
	ok(reader, "SELECT * FROM ours")
	_, err = root.Exec(ctx, "DROP ROLE app")
	wantCode(t, err, "2BP01")
	mustExec(t, root, "ALTER TABLE ours OWNER TO writer")
	denied(app, "DROP TABLE ours", "must be owner of table ours")
	ok(writer, "DROP TABLE ours")
	mustExec(t, root, "REVOKE ALL ON SCHEMA public FROM app")
	mustExec(t, root, "REVOKE ALL ON items FROM writer")
	mustExec(t, root, "REVOKE ALL ON SEQUENCE items_id_seq FROM writer")
	mustExec(t, root, "REVOKE ALL ON item_names FROM reader")
	mustExec(t, root, "REVOKE ALL ON hidden FROM reader")
	mustExec(t, root, "DROP ROLE app")

	// Errors of GRANT itself.
	_, err = root.Exec(ctx, "GRANT SELECT ON nosuch TO reader")
	wantCode(t, err, "42P01")
	_, err = root.Exec(ctx, "GRANT SELECT ON items TO nobody")
	wantCode(t, err, "42704")
	_, err = root.Exec(ctx, "GRANT INSERT ON SEQUENCE items_id_seq TO reader")
	wantCode(t, err, "0LP01")
	_, err = root.Exec(ctx, "GRANT SELECT (name) ON items TO reader")
	wantCode(t, err, "0A000")

	// SET ROLE and SET SESSION AUTHORIZATION: a superuser becomes another
	// role and has its privileges; nobody else may.
	denied(reader, "SET ROLE postgres", `permission denied to set role "postgres"`)
	denied(reader, "SET SESSION AUTHORIZATION postgres", "permission denied to set session authorization")
	mustExec(t, root, "SET ROLE reader")
	var cur, sess string
	if err := root.QueryRow(ctx, "SELECT current_user, session_user").Scan(&cur, &sess); err != nil || cur != "reader" || sess != "postgres" {
		t.Errorf("after SET ROLE reader: current_user %q session_user %q %v", cur, sess, err)
	}
	denied(root, "SELECT * FROM hidden", "permission denied for table hidden")
	mustExec(t, root, "RESET ROLE")
	mustExec(t, root, "SELECT * FROM hidden")

	// ALL TABLES IN SCHEMA, and the grants survive a restart.
	mustExec(t, root, "GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader")
	reader.Close(ctx)
	root.Close(ctx)
	n.Stop()
	n = servertest.StartDir(t, dir)
	reader = as("reader")
	ok(reader, "SELECT * FROM items")
	ok(reader, "SELECT * FROM item_names")
	denied(reader, "SELECT nextval('items_id_seq')", "permission denied for sequence items_id_seq")
}

// TestDefaultPrivileges: ALTER DEFAULT PRIVILEGES gives what a role creates
// later its grants, globally and for schema public, as PostgreSQL 15 does;
// psql's \ddp reads pg_default_acl.
func TestDefaultPrivileges(t *testing.T) {
	n := servertest.Start(t)
	root := connect(t, n)
	ctx := context.Background()
	for _, q := range []string{
		"CREATE ROLE owner1 LOGIN",
		"CREATE ROLE reporting LOGIN",
		"GRANT CREATE ON SCHEMA public TO owner1",
		"ALTER DEFAULT PRIVILEGES FOR ROLE owner1 GRANT SELECT ON TABLES TO reporting",
		"ALTER DEFAULT PRIVILEGES FOR ROLE owner1 IN SCHEMA public GRANT INSERT ON TABLES TO reporting",
		"ALTER DEFAULT PRIVILEGES FOR ROLE owner1 GRANT USAGE ON SEQUENCES TO reporting",
		"ALTER DEFAULT PRIVILEGES GRANT EXECUTE ON FUNCTIONS TO reporting",
	} {
		mustExec(t, root, q)
	}
	owner := mustLogin(t, n, "owner1", "")
	mustExec(t, owner, "CREATE TABLE later (id serial PRIMARY KEY, v text)")
	mustExec(t, root, "CREATE TABLE roots (id int)") // postgres has no defaults
	var acl string
	if err := root.QueryRow(ctx, "SELECT relacl::text FROM pg_class WHERE relname = 'later'").Scan(&acl); err != nil {
		t.Fatal(err)
	}
	if acl != "{owner1=arwdDxt/owner1,reporting=ar/owner1}" {
		t.Errorf("relacl of later = %s", acl)
	}
	rep := mustLogin(t, n, "reporting", "")
	mustExec(t, rep, "INSERT INTO later (v) VALUES ('x')")
	if got := count(t, rep, "SELECT count(*) FROM later"); got != 1 {
		t.Errorf("reporting reads %d rows", got)
	}
	_, err := rep.Exec(ctx, "SELECT * FROM roots")
	wantCode(t, err, "42501")
	var defs string
	if err := root.QueryRow(ctx, `SELECT string_agg(pg_get_userbyid(defaclrole) || ' ' || defaclobjtype || ' ' || defaclnamespace::text || ' ' || defaclacl::text, '; ' ORDER BY defaclobjtype, defaclnamespace)
		FROM pg_default_acl`).Scan(&defs); err != nil {
		t.Fatal(err)
	}
	if defs != "owner1 S 0 {owner1=rwU/owner1,reporting=U/owner1}; owner1 r 0 {owner1=arwdDxt/owner1,reporting=r/owner1}; owner1 r 2200 {reporting=a/owner1}" {
		t.Errorf("pg_default_acl: %s", defs)
	}
	_, err = owner.Exec(ctx, "ALTER DEFAULT PRIVILEGES FOR ROLE reporting GRANT SELECT ON TABLES TO owner1")
	wantCode(t, err, "42501")
	_, err = root.Exec(ctx, "DROP ROLE reporting")
	wantCode(t, err, "2BP01")
	mustExec(t, root, "ALTER DEFAULT PRIVILEGES FOR ROLE owner1 REVOKE ALL ON TABLES FROM reporting")
	mustExec(t, root, "ALTER DEFAULT PRIVILEGES FOR ROLE owner1 IN SCHEMA public REVOKE ALL ON TABLES FROM reporting")
	mustExec(t, root, "ALTER DEFAULT PRIVILEGES FOR ROLE owner1 REVOKE ALL ON SEQUENCES FROM reporting")
	if got := count(t, root, "SELECT count(*) FROM pg_default_acl"); got != 0 {
		t.Errorf("%d default ACLs left after revoking all", got)
	}
	mustExec(t, root, "REVOKE ALL ON later FROM reporting")
	mustExec(t, root, "REVOKE ALL ON SEQUENCE later_id_seq FROM reporting")
	mustExec(t, root, "DROP ROLE reporting")
}
