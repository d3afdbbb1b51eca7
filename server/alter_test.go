package server_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/pgraft/pgraft/server/servertest"
)

// The ALTER TABLE statements ORMs and pg_dump emit, as they emit them.
var (
	pgDumpAlter = []string{
		`CREATE TABLE public.p (id integer NOT NULL, name text)`,
		`CREATE TABLE public.c (id integer NOT NULL, pid integer, note text)`,
		`INSERT INTO p VALUES (1, 'one'), (2, 'two')`,
		`INSERT INTO c VALUES (10, 1, '5'), (11, 2, '6'), (12, NULL, NULL)`,
		`ALTER TABLE public.p OWNER TO postgres`,
		`ALTER TABLE ONLY public.p ADD CONSTRAINT p_pkey PRIMARY KEY (id)`,
		`ALTER TABLE ONLY public.c ADD CONSTRAINT c_pkey PRIMARY KEY (id)`,
		`ALTER TABLE ONLY public.c ADD CONSTRAINT c_pid_fkey FOREIGN KEY (pid) REFERENCES public.p(id)`,
		`CREATE VIEW pv AS SELECT id, name FROM p`,
	}
	djangoAlter = []string{
		`CREATE TABLE "b" ("id" serial NOT NULL PRIMARY KEY, "title" varchar(100) NOT NULL)`,
		`CREATE TABLE "a" ("id" serial NOT NULL PRIMARY KEY, "b_id" integer NOT NULL)`,
		`ALTER TABLE "a" ADD CONSTRAINT "a_b_id_fk_b_id" FOREIGN KEY ("b_id") REFERENCES "b" ("id") DEFERRABLE INITIALLY DEFERRED`,
		`CREATE INDEX "a_b_id_idx" ON "a" ("b_id")`,
		`ALTER TABLE "b" ADD COLUMN "rank" integer DEFAULT 0 NOT NULL`,
		`ALTER TABLE "b" ALTER COLUMN "rank" DROP DEFAULT`,
		`ALTER TABLE "b" ADD CONSTRAINT "b_title_uniq" UNIQUE ("title")`,
		`ALTER TABLE "a" ADD COLUMN "c_id" integer NULL CONSTRAINT "a_c_id_fk_b_id" REFERENCES "b"("id") DEFERRABLE INITIALLY DEFERRED; SET CONSTRAINTS "a_c_id_fk_b_id" IMMEDIATE`,
		`SET CONSTRAINTS "a_b_id_fk_b_id" IMMEDIATE; ALTER TABLE "a" DROP CONSTRAINT "a_b_id_fk_b_id"`,
	}
	knexAlter = []string{
		`create table "z" ("id" serial primary key)`,
		`create table "x" ("id" serial primary key, "y" integer, "c" text default 'd')`,
		`alter table "x" add constraint "x_y_foreign" foreign key ("y") references "z" ("id") on delete cascade`,
		`ALTER TABLE "x" ALTER COLUMN "c" TYPE VARCHAR(255)`,
		`ALTER TABLE "x" ALTER COLUMN "c" DROP DEFAULT`,
		`UPDATE "x" SET "c" = 'v' WHERE "c" IS NULL`,
		`ALTER TABLE "x" ALTER COLUMN "c" SET NOT NULL`,
	}
)

// runAlterScript runs the migrations above on conn, with rows in between
// that must survive them.
func runAlterScript(t *testing.T, exec func(string)) {
	t.Helper()
	for _, q := range pgDumpAlter {
		exec(q)
	}
	for _, q := range djangoAlter[:2] {
		exec(q)
	}
	exec(`INSERT INTO b (title) VALUES ('t1'), ('t2')`)
	exec(`INSERT INTO a (b_id) VALUES (1), (2), (2)`)
	for _, q := range djangoAlter[2:] {
		exec(q)
	}
	for _, q := range knexAlter[:2] {
		exec(q)
	}
	exec(`INSERT INTO z DEFAULT VALUES`)
	exec(`INSERT INTO x (y) VALUES (1), (NULL)`)
	for _, q := range knexAlter[2:] {
		exec(q)
	}
}

func constraintDefs(t *testing.T, conn *pgx.Conn) string {
	t.Helper()
	return strings.Join(queryStrings(t, conn, `SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid)
		FROM pg_constraint WHERE conname NOT LIKE 'pgraft%' ORDER BY 1`), "\n")
}

// wantConstraints is what PostgreSQL 15 shows for the script's tables.
const wantConstraints = `a a_c_id_fk_b_id FOREIGN KEY (c_id) REFERENCES b(id) DEFERRABLE INITIALLY DEFERRED
a a_pkey PRIMARY KEY (id)
b b_pkey PRIMARY KEY (id)
b b_title_uniq UNIQUE (title)
c c_pid_fkey FOREIGN KEY (pid) REFERENCES p(id)
c c_pkey PRIMARY KEY (id)
p p_pkey PRIMARY KEY (id)
x x_pkey PRIMARY KEY (id)
x x_y_foreign FOREIGN KEY (y) REFERENCES z(id) ON DELETE CASCADE
z z_pkey PRIMARY KEY (id)`

func TestAlterTableMigrations(t *testing.T) {
	n := servertest.Start(t)
	conn := connect(t, n)
	runAlterScript(t, func(q string) { mustExec(t, conn, q) })
	if got := constraintDefs(t, conn); got != wantConstraints {
		t.Fatalf("constraints:\n%s\nwant:\n%s", got, wantConstraints)
	}
	// Rows survived every rebuild; references hold in both directions.
	if got := count(t, conn, `SELECT count(*) FROM a`) + count(t, conn, `SELECT count(*) FROM c`); got != 6 {
		t.Fatalf("rows of a and c: %d", got)
	}
	_, err := conn.Exec(context.Background(), `INSERT INTO c VALUES (13, 9, NULL)`)
	wantCode(t, err, "23503")
	_, err = conn.Exec(context.Background(), `DELETE FROM p WHERE id = 1`)
	wantCode(t, err, "23503")
	mustExec(t, conn, `DELETE FROM z`)
	if got := count(t, conn, `SELECT count(*) FROM x`); got != 1 {
		t.Fatalf("ON DELETE CASCADE into the rebuilt x: %d rows left, want 1", got)
	}
	if got := count(t, conn, `SELECT count(*) FROM pv`); got != 2 {
		t.Fatalf("view over the rebuilt p: %d rows", got)
	}
	// A failed conversion changes nothing; a good one converts.
	_, err = conn.Exec(context.Background(), `UPDATE c SET note = 'abc' WHERE id = 12`)
	if err != nil {
		t.Fatal(err)
	}
	_, err = conn.Exec(context.Background(), `ALTER TABLE c ALTER COLUMN note TYPE integer USING note::integer`)
	wantCode(t, err, "22P02")
	if got := queryStrings(t, conn, `SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'c'::regclass AND attname = 'note'`); got[0] != "text" {
		t.Fatalf("type after a failed conversion: %q", got)
	}
	mustExec(t, conn, `UPDATE c SET note = '7' WHERE id = 12`)
	mustExec(t, conn, `ALTER TABLE c ALTER COLUMN note TYPE integer USING note::integer`)
	if got := count(t, conn, `SELECT sum(note) FROM c`); got != 18 {
		t.Fatalf("converted values sum to %d, want 18", got)
	}
	_, err = conn.Exec(context.Background(), `ALTER TABLE c ALTER COLUMN pid SET NOT NULL`)
	wantCode(t, err, "23502")
	_, err = conn.Exec(context.Background(), `ALTER TABLE p DROP COLUMN name`)
	wantCode(t, err, "2BP01")
	_, err = conn.Exec(context.Background(), `ALTER TABLE p OWNER TO nobody`)
	wantCode(t, err, "42704")
}

// TestAlterTableInTransaction: a migration's ALTERs inside one transaction
// see each other, and the catalog and the next statements see their
// effect; a failed ALTER fails the transaction and changes nothing.
func TestAlterTableInTransaction(t *testing.T) {
	n := servertest.Start(t)
	conn := connect(t, n)
	mustExec(t, conn, `CREATE TABLE t (id integer NOT NULL, v text)`)
	mustExec(t, conn, `INSERT INTO t VALUES (1, 'a')`)
	ctx := context.Background()
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`ALTER TABLE t ADD CONSTRAINT t_pkey PRIMARY KEY (id)`,
		`ALTER TABLE t ADD COLUMN n integer DEFAULT 5 NOT NULL`,
		`ALTER TABLE t ALTER COLUMN n DROP DEFAULT`,
		`INSERT INTO t (id, v, n) VALUES (2, 'b', $1)`,
	} {
		args := []any{}
		if strings.Contains(q, "$1") {
			args = append(args, 7)
		}
		if _, err := tx.Exec(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if got := count(t, conn, `SELECT sum(n) FROM t`); got != 12 {
		t.Fatalf("sum(n) = %d, want 12", got)
	}
	if got := queryStrings(t, conn, `SELECT conname FROM pg_constraint WHERE conrelid = 't'::regclass AND contype = 'p'`); len(got) != 1 || got[0] != "t_pkey" {
		t.Fatalf("primary key: %q", got)
	}
	tx, err = conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = tx.Exec(ctx, `ALTER TABLE t ADD COLUMN z int, ALTER COLUMN v TYPE int USING v::int`)
	wantCode(t, err, "22P02")
	_ = tx.Rollback(ctx)
	if got := count(t, conn, `SELECT count(*) FROM pg_attribute WHERE attrelid = 't'::regclass AND attname = 'z'`); got != 0 {
		t.Fatal("column z exists after the failed ALTER")
	}
}

// TestAlterTableCluster: the same migrations through a follower and the
// leader of three nodes leave every node with the same database.
func TestAlterTableCluster(t *testing.T) {
	skipShortCluster(t)
	c := servertest.NewCluster(t, 3)
	follower := c.Nodes[(c.LeaderIndex()+1)%3]
	fconn := connect(t, follower)
	runAlterScript(t, func(q string) {
		if strings.HasPrefix(strings.ToUpper(q), "ALTER") {
			mustExec(t, fconn, q) // forwarded to the leader
			return
		}
		leaderExec(t, c, q)
	})
	leaderExec(t, c, `ALTER TABLE c ALTER COLUMN note TYPE integer USING note::integer`)
	leaderExec(t, c, `ALTER TABLE c DROP CONSTRAINT c_pid_fkey, DROP COLUMN pid`)
	c.RequireConverged()
	for i := range c.Nodes {
		conn := connect(t, c.Nodes[i])
		if _, err := conn.Exec(context.Background(), `SET pgraft.read_consistency = 'linearizable'`); err != nil {
			t.Fatal(err)
		}
		got := constraintDefs(t, conn)
		want := strings.Replace(wantConstraints, "c c_pid_fkey FOREIGN KEY (pid) REFERENCES p(id)\n", "", 1)
		if got != want {
			t.Fatalf("node %d constraints:\n%s\nwant:\n%s", i, got, want)
		}
	}
}
