package sqlengine

import (
	"context"
	"database/sql"
	"path/filepath"
	"regexp"
	"testing"
)

// checksumBase builds every database the checksum tests compare: tables of
// each kind (rowid alias, plain rowid, WITHOUT ROWID, AUTOINCREMENT), values
// of every storage class, columns whose declared types go-sqlite3 would
// convert, and _pgraft_meta.
var checksumBase = []string{
	`CREATE TABLE kv ("id" INTEGER PRIMARY KEY AUTOINCREMENT, "k" TEXT, "d" DATE, "b" BOOLEAN, "f" FLOAT8, "raw" BLOB)`,
	`CREATE TABLE plain ("x" TEXT, "rowid" INT)`, // shadows one name of the rowid
	`CREATE TABLE wr ("a" TEXT, "b" INT, "v", PRIMARY KEY ("b", "a")) WITHOUT ROWID`,
	`CREATE INDEX kv_k ON kv ("k")`,
	`CREATE VIEW kv_view AS SELECT "k" FROM kv`,
	`CREATE TABLE _pgraft_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID`,
	`INSERT INTO kv ("k", "d", "b", "f", "raw") VALUES ('a', '2020-01-02', 1, 0.3, X''), ('b', NULL, 0, 1e300, NULL), ('c', '2021-02-03', 1, -2.5, X'00ff')`,
	`INSERT INTO plain ("x", "rowid") VALUES ('p', 7), ('q', 8), ('r', NULL)`,
	`INSERT INTO wr VALUES ('x', 2, 1), ('y', 1, '1'), ('x', 1, 1.5)`,
	`INSERT INTO _pgraft_meta VALUES ('applied_index', 42)`,
}

func openChecksumDB(t *testing.T, extra ...string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(t.TempDir(), "db.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	for _, s := range append(append([]string{}, checksumBase...), extra...) {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("exec %q: %v", s, err)
		}
	}
	return db
}

func checksumOf(t *testing.T, db *sql.DB) string {
	t.Helper()
	tx, err := db.BeginTx(context.Background(), &sql.TxOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	sum, err := checksumDB(context.Background(), tx)
	if err != nil {
		t.Fatalf("checksumDB: %v", err)
	}
	return sum
}

func TestChecksumSameStatementsSameDigest(t *testing.T) {
	a, b := checksumOf(t, openChecksumDB(t)), checksumOf(t, openChecksumDB(t))
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(a) {
		t.Fatalf("checksum %q is not a hex SHA-256", a)
	}
	if a != b {
		t.Fatalf("same statements, different checksums: %s %s", a, b)
	}
}

func TestChecksumDetectsChanges(t *testing.T) {
	base := checksumOf(t, openChecksumDB(t))
	tests := []struct {
		name string
		stmt string
	}{
		{"text value", `UPDATE kv SET "k" = 'z' WHERE "id" = 2`},
		{"date column text", `UPDATE kv SET "d" = '2020-01-03' WHERE "id" = 1`},
		{"boolean column", `UPDATE kv SET "b" = 0 WHERE "id" = 1`},
		{"float last bit", `UPDATE kv SET "f" = 0.30000000000000004 WHERE "id" = 1`},
		{"empty blob to NULL", `UPDATE kv SET "raw" = NULL WHERE "id" = 1`},
		{"NULL to empty blob", `UPDATE kv SET "raw" = X'' WHERE "id" = 2`},
		{"storage class only", `UPDATE wr SET "v" = '1.5' WHERE "b" = 1 AND "a" = 'x'`},
		{"integer vs real", `UPDATE wr SET "v" = 1.0 WHERE "b" = 2`},
		{"rowid alias", `UPDATE kv SET "id" = 10 WHERE "id" = 3`},
		{"hidden rowid", `UPDATE plain SET _rowid_ = 100 WHERE "x" = 'q'`},
		{"column named rowid", `UPDATE plain SET "rowid" = 9 WHERE "x" = 'p'`},
		{"without rowid key", `UPDATE wr SET "a" = 'w' WHERE "b" = 2`},
		{"row deleted", `DELETE FROM plain WHERE "x" = 'r'`},
		{"row added", `INSERT INTO wr VALUES ('z', 3, NULL)`},
		{"sqlite_sequence", `UPDATE sqlite_sequence SET seq = seq + 1 WHERE name = 'kv'`},
		{"schema: index", `CREATE INDEX wr_v ON wr ("v")`},
		{"schema: empty table", `CREATE TABLE more ("x" INT)`},
		{"schema: view text", `DROP VIEW kv_view; CREATE VIEW kv_view AS SELECT "k", "d" FROM kv`},
	}
	seen := map[string]string{base: "base"}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := checksumOf(t, openChecksumDB(t, tc.stmt))
			if other, ok := seen[got]; ok {
				t.Fatalf("checksum equals the one of %q", other)
			}
			seen[got] = tc.name
		})
	}
}

// What is node-local or not replicated content leaves the checksum alone.
func TestChecksumIgnoresNodeLocalState(t *testing.T) {
	base := checksumOf(t, openChecksumDB(t))
	tests := []struct {
		name string
		stmt string
	}{
		{"_pgraft_meta", `UPDATE _pgraft_meta SET value = 43`},
		{"ANALYZE statistics", `ANALYZE`},
		{"page layout", `VACUUM`},
		{"temp objects", `CREATE TEMP TABLE scratch (x); INSERT INTO scratch VALUES (1)`},
		{"row rewritten unchanged", `UPDATE kv SET "k" = "k"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := checksumOf(t, openChecksumDB(t, tc.stmt)); got != base {
				t.Fatalf("checksum changed: %s, want %s", got, base)
			}
		})
	}
}

// Anywhere but as a statement of its own (which the server routes to
// checksumDB), the SQL function fails with 0A000.
func TestChecksumFunctionInsideExpression(t *testing.T) {
	db, _ := openCatalogDB(t, nil)
	_, err := db.Exec(`SELECT length(pgraft_checksum())`)
	if err == nil || !regexp.MustCompile(`pgraft:0A000:pgraft_checksum\(\) is supported only`).MatchString(err.Error()) {
		t.Fatalf("error %v, want 0A000", err)
	}
}
