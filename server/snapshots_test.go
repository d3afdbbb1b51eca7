package server_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgraft/pgraft/server/servertest"
)

// snapRows is what a session reads of table snap: its rows, and their
// COPY TO text (pg_dump's read).
func snapRows(t *testing.T, c *pgx.Conn) string {
	t.Helper()
	var rows string
	if err := c.QueryRow(context.Background(),
		`SELECT coalesce(string_agg(id || '=' || v, ',' ORDER BY id), '') FROM snap`).Scan(&rows); err != nil {
		t.Fatalf("read snap: %v", err)
	}
	var out bytes.Buffer
	if _, err := c.PgConn().CopyTo(context.Background(), &out, "COPY (SELECT id, v FROM snap ORDER BY id) TO STDOUT"); err != nil {
		t.Fatalf("COPY snap: %v", err)
	}
	return rows + "|" + strings.ReplaceAll(out.String(), "\n", ";")
}

func exportSnapshot(t *testing.T, c *pgx.Conn) string {
	t.Helper()
	var id string
	if err := c.QueryRow(context.Background(), "SELECT pg_catalog.pg_export_snapshot()").Scan(&id); err != nil {
		t.Fatalf("pg_export_snapshot: %v", err)
	}
	return id
}

// importSnapshot opens a transaction on c as pg_dump's workers do and
// imports id into it.
func importSnapshot(c *pgx.Conn, id string) error {
	ctx := context.Background()
	if _, err := c.Exec(ctx, "BEGIN"); err != nil {
		return err
	}
	if _, err := c.Exec(ctx, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"); err != nil {
		return err
	}
	_, err := c.Exec(ctx, "SET TRANSACTION SNAPSHOT '"+id+"'")
	return err
}

// TestExportedSnapshot: sessions that import a snapshot read exactly what
// the exporter reads (rows and COPY), while a third session writes between
// them; the id ends with the exporting transaction, or its session, while
// importers keep reading; and every misuse fails as in PostgreSQL.
func TestExportedSnapshot(t *testing.T) {
	n := servertest.Start(t)
	ctx := context.Background()
	exp, imp1, imp2, w := connect(t, n), connect(t, n), connect(t, n), connect(t, n)
	mustExec(t, w, "CREATE TABLE snap (id int PRIMARY KEY, v text)")
	mustExec(t, w, "INSERT INTO snap VALUES (1, 'a'), (2, 'b'), (3, 'c')")
	const want = "1=a,2=b,3=c|1\ta;2\tb;3\tc;"

	mustExec(t, exp, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
	id := exportSnapshot(t, exp)
	mustExec(t, w, "INSERT INTO snap VALUES (4, 'd')")
	if err := importSnapshot(imp1, id); err != nil {
		t.Fatalf("import %s: %v", id, err)
	}
	mustExec(t, imp1, "LOCK TABLE snap IN ACCESS SHARE MODE NOWAIT")
	mustExec(t, w, "UPDATE snap SET v = 'x' WHERE id = 1")
	mustExec(t, imp2, "BEGIN ISOLATION LEVEL REPEATABLE READ")
	mustExec(t, imp2, "SET TRANSACTION SNAPSHOT '"+id+"'")
	mustExec(t, w, "DELETE FROM snap WHERE id = 2")
	for name, c := range map[string]*pgx.Conn{"exporter": exp, "importer 1": imp1, "importer 2": imp2} {
		if got := snapRows(t, c); got != want {
			t.Errorf("%s reads %q, want %q", name, got, want)
		}
	}
	if got := snapRows(t, w); got != "1=x,3=c,4=d|1\tx;3\tc;4\td;" {
		t.Errorf("the writer reads %q", got)
	}
	// Sessions of one snapshot take turns on its connection: while the
	// exporter's cursor has rows open, an importer's read waits, within its
	// statement_timeout (57014); once the cursor closes it runs.
	mustExec(t, exp, "DECLARE cur CURSOR FOR SELECT id FROM snap ORDER BY id")
	if got := count(t, exp, "FETCH 1 FROM cur"); got != 1 {
		t.Fatalf("FETCH = %d, want 1", got)
	}
	mustExec(t, imp1, "SET statement_timeout = 100")
	_, err := imp1.Exec(ctx, "SELECT count(*) FROM snap")
	wantCode(t, err, "57014")
	mustExec(t, imp1, "ROLLBACK")
	if err := importSnapshot(imp1, id); err != nil {
		t.Fatalf("import %s again: %v", id, err)
	}
	mustExec(t, exp, "CLOSE cur")
	if got := count(t, imp1, "SELECT count(*) FROM snap"); got != 3 {
		t.Fatalf("importer count after the cursor closed = %d, want 3", got)
	}
	mustExec(t, imp1, "SET statement_timeout = 0")

	// An importer that writes fails as its snapshot's reader would: the data
	// changed since.
	_, err = imp2.Exec(ctx, "INSERT INTO snap VALUES (9, 'z')")
	wantCode(t, err, "40001")
	mustExec(t, imp2, "ROLLBACK")

	// The id ends with the exporting transaction; importers keep reading.
	mustExec(t, exp, "COMMIT")
	if got := snapRows(t, imp1); got != want {
		t.Errorf("importer after the exporter's COMMIT reads %q, want %q", got, want)
	}
	err = importSnapshot(imp2, id)
	wantCode(t, err, "22023")
	if !strings.Contains(err.Error(), `invalid snapshot identifier: "`+id+`"`) {
		t.Errorf("ended id: %v", err)
	}
	mustExec(t, imp2, "ROLLBACK")
	mustExec(t, imp1, "COMMIT")

	// READ COMMITTED exports the snapshot its first export takes.
	mustExec(t, exp, "BEGIN")
	rc := exportSnapshot(t, exp)
	mustExec(t, w, "INSERT INTO snap VALUES (5, 'e')")
	if err := importSnapshot(imp1, rc); err != nil {
		t.Fatal(err)
	}
	if got := snapRows(t, imp1); got != "1=x,3=c,4=d|1\tx;3\tc;4\td;" {
		t.Errorf("importer of a READ COMMITTED export reads %q", got)
	}
	mustExec(t, imp1, "COMMIT")
	// A session that disconnects ends its exports.
	exp.Close(ctx)
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := importSnapshot(imp1, rc)
		mustExec(t, imp1, "ROLLBACK")
		if sqlstate(err) == "22023" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("import after the exporter disconnected: %v, want 22023", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestExportedSnapshotErrors: the checks of pg_export_snapshot and SET
// TRANSACTION SNAPSHOT, with PostgreSQL 15's SQLSTATEs and messages.
func TestExportedSnapshotErrors(t *testing.T) {
	n := servertest.Start(t)
	ctx := context.Background()
	exp, c := connect(t, n), connect(t, n)
	mustExec(t, exp, "CREATE TABLE snap (id int PRIMARY KEY, v text)")
	mustExec(t, exp, "BEGIN ISOLATION LEVEL REPEATABLE READ")
	id := exportSnapshot(t, exp)
	if again := exportSnapshot(t, exp); again == id || !strings.HasPrefix(again, id[:len(id)-1]) {
		t.Errorf("second export of one transaction %q, first %q: want a new id of the same transaction", again, id)
	}

	cases := []struct {
		name  string
		stmts []string // the last one fails
		code  string
		msg   string
	}{
		{"outside a block, READ COMMITTED", []string{"SET TRANSACTION SNAPSHOT '" + id + "'"}, "0A000",
			"a snapshot-importing transaction must have isolation level SERIALIZABLE or REPEATABLE READ"},
		{"READ COMMITTED", []string{"BEGIN", "SET TRANSACTION SNAPSHOT '" + id + "'"}, "0A000",
			"a snapshot-importing transaction must have isolation level SERIALIZABLE or REPEATABLE READ"},
		{"after a query", []string{"BEGIN ISOLATION LEVEL REPEATABLE READ", "SELECT 1", "SET TRANSACTION SNAPSHOT '" + id + "'"}, "25001",
			"SET TRANSACTION SNAPSHOT must be called before any query"},
		{"after a catalog query", []string{"BEGIN ISOLATION LEVEL REPEATABLE READ", "SELECT count(*) FROM pg_class", "SET TRANSACTION SNAPSHOT '" + id + "'"}, "25001",
			"SET TRANSACTION SNAPSHOT must be called before any query"},
		{"in a savepoint", []string{"BEGIN ISOLATION LEVEL REPEATABLE READ", "SAVEPOINT a", "SET TRANSACTION SNAPSHOT '" + id + "'"}, "25001",
			"SET TRANSACTION SNAPSHOT must be called before any query"},
		{"unknown id", []string{"BEGIN ISOLATION LEVEL REPEATABLE READ", "SET TRANSACTION SNAPSHOT '00000003-00000010-1'"}, "22023",
			`invalid snapshot identifier: "00000003-00000010-1"`},
		{"malformed id", []string{"BEGIN ISOLATION LEVEL REPEATABLE READ", "SET TRANSACTION SNAPSHOT 'x/../y'"}, "22023",
			`invalid snapshot identifier: "x/../y"`},
		{"serializable from repeatable read", []string{"BEGIN ISOLATION LEVEL SERIALIZABLE", "SET TRANSACTION SNAPSHOT '" + id + "'"}, "0A000",
			"a serializable transaction cannot import a snapshot from a non-serializable transaction"},
		{"isolation after the import", []string{"BEGIN ISOLATION LEVEL REPEATABLE READ", "SET TRANSACTION SNAPSHOT '" + id + "'",
			"SET TRANSACTION ISOLATION LEVEL SERIALIZABLE"}, "25001", "SET TRANSACTION ISOLATION LEVEL must be called before any query"},
		{"export in a subtransaction", []string{"BEGIN", "SAVEPOINT a", "SELECT pg_export_snapshot()"}, "0A000",
			"cannot export a snapshot from a subtransaction"},
		{"export after a write", []string{"BEGIN", "INSERT INTO snap VALUES (1, 'a')", "SELECT pg_export_snapshot()"}, "0A000",
			"pg_export_snapshot() in a transaction block that has written is not supported by pgraft"},
		{"export inside an expression", []string{"SELECT length(pg_export_snapshot())"}, "0A000",
			"pg_export_snapshot() is supported only as a statement of its own"},
	}
	for _, tc := range cases {
		var err error
		for i, s := range tc.stmts {
			_, err = c.Exec(ctx, s)
			if i < len(tc.stmts)-1 && err != nil {
				t.Fatalf("%s: %s: %v", tc.name, s, err)
			}
		}
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != tc.code || !strings.Contains(pe.Message, tc.msg) {
			t.Errorf("%s: %v, want %s %q", tc.name, err, tc.code, tc.msg)
		}
		mustExec(t, c, "ROLLBACK")
	}

	// A serializable importer needs a serializable exporter, and a
	// read-only one a read-only importer.
	mustExec(t, exp, "COMMIT")
	mustExec(t, exp, "BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY")
	ser := exportSnapshot(t, exp)
	mustExec(t, c, "BEGIN ISOLATION LEVEL SERIALIZABLE")
	_, err := c.Exec(ctx, "SET TRANSACTION SNAPSHOT '"+ser+"'")
	wantCode(t, err, "0A000")
	mustExec(t, c, "ROLLBACK")
	mustExec(t, c, "BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY")
	mustExec(t, c, "SET TRANSACTION SNAPSHOT '"+ser+"'")
	mustExec(t, c, "COMMIT")
	mustExec(t, exp, "COMMIT")

	// A transaction exports at most 64 ids (53400), all ended with it.
	mustExec(t, exp, "BEGIN ISOLATION LEVEL REPEATABLE READ")
	var last string
	for i := 0; i < 64; i++ {
		last = exportSnapshot(t, exp)
	}
	_, err = exp.Exec(ctx, "SELECT pg_export_snapshot()")
	wantCode(t, err, "53400")
	mustExec(t, exp, "ROLLBACK")
	err = importSnapshot(c, last)
	wantCode(t, err, "22023")
	mustExec(t, c, "ROLLBACK")

	// Outside a block the export's own transaction ends at once: the id is
	// well formed and never importable.
	dead := exportSnapshot(t, exp)
	err = importSnapshot(c, dead)
	wantCode(t, err, "22023")
	mustExec(t, c, "ROLLBACK")
}

// TestExportedSnapshotOnACluster: on a follower, an exported snapshot is
// read locally by its importers while the leader writes; the id is refused
// on the other nodes (22023, saying where it was made); the leader exports
// and imports alike.
func TestExportedSnapshotOnACluster(t *testing.T) {
	cl := servertest.NewCluster(t, 3)
	leader, fols := cl.Leader(), cl.Followers()
	w := connect(t, leader)
	mustExec(t, w, "CREATE TABLE snap (id int PRIMARY KEY, v text)")
	mustExec(t, w, "INSERT INTO snap VALUES (1, 'a'), (2, 'b')")
	cl.RequireConverged()
	const want = "1=a,2=b|1\ta;2\tb;"

	for name, node := range map[string]*servertest.Node{"follower": fols[0], "leader": leader} {
		exp, imp := connect(t, node), connect(t, node)
		mustExec(t, exp, "SET pgraft.read_consistency = 'linearizable'")
		mustExec(t, exp, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
		id := exportSnapshot(t, exp)
		mustExec(t, w, "INSERT INTO snap VALUES (3, 'c')")
		cl.RequireConverged()
		if err := importSnapshot(imp, id); err != nil {
			t.Fatalf("%s: import: %v", name, err)
		}
		for who, c := range map[string]*pgx.Conn{"exporter": exp, "importer": imp} {
			if got := snapRows(t, c); got != want {
				t.Errorf("%s: %s reads %q, want %q", name, who, got, want)
			}
		}
		others := []*servertest.Node{leader, fols[1]}
		if node == leader {
			others = fols
		}
		for _, other := range others {
			o := connect(t, other)
			err := importSnapshot(o, id)
			var pe *pgconn.PgError
			if !errors.As(err, &pe) || pe.Code != "22023" || !strings.Contains(pe.Detail, "exported on another node") {
				t.Errorf("%s: import on another node: %v, want 22023 with a DETAIL", name, err)
			}
			mustExec(t, o, "ROLLBACK")
		}
		mustExec(t, imp, "COMMIT")
		mustExec(t, exp, "COMMIT")
		mustExec(t, w, "DELETE FROM snap WHERE id = 3")
		cl.RequireConverged()
	}
}
