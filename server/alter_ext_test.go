package server_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/pgraft/pgraft/server/servertest"
)

// TestAlterTableExtendedProtocol: ALTERs parsed, described and executed
// through the extended protocol (as JDBC sends every statement), in and
// out of a transaction.
func TestAlterTableExtendedProtocol(t *testing.T) {
	node := servertest.Start(t)
	conn := connect(t, node)
	ctx := context.Background()
	mustExec(t, conn, `CREATE TABLE t (id integer NOT NULL, v text)`)
	n := 0
	run := func(q string) {
		t.Helper()
		n++
		name := fmt.Sprintf("s%d", n)
		if _, err := conn.Prepare(ctx, name, q); err != nil { // Parse, Describe
			t.Fatalf("prepare %s: %v", q, err)
		}
		if _, err := conn.Exec(ctx, name); err != nil { // Bind, Execute
			t.Fatalf("%s: %v", q, err)
		}
	}
	run(`ALTER TABLE t ADD CONSTRAINT t_pkey PRIMARY KEY (id)`)
	run(`BEGIN`)
	run(`ALTER TABLE t ALTER COLUMN v SET DEFAULT 'x'`)
	run(`ALTER TABLE t ADD COLUMN w int`)
	run(`INSERT INTO t (id) VALUES (1)`)
	run(`COMMIT`)
	if got := queryStrings(t, conn, `SELECT v FROM t`); len(got) != 1 || got[0] != "x" {
		t.Fatalf("rows: %q", got)
	}
}
