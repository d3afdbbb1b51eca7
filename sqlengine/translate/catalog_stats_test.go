package translate

import (
	"strings"
	"testing"

	"github.com/pgraft/pgraft/pgvalue"
)

// References to the node-local views become queries over their function,
// for the session's user, under the name or alias the query gave them.
func TestNodeStatsReferences(t *testing.T) {
	setting := func(name string) (string, bool) {
		if name == "session_authorization" {
			return "o'brien", true
		}
		return "", false
	}
	tests := []struct{ sql, want string }{
		{"SELECT pid FROM pg_stat_activity WHERE pid <> pg_backend_pid()", "FROM json_each(pgraft_stat_activity('o''brien'))) AS pg_stat_activity"},
		{"SELECT a.pid FROM pg_catalog.pg_stat_activity a", ") AS a"},
		{"SELECT application_name FROM pg_stat_replication", "FROM json_each(pgraft_stat_replication('o''brien'))) AS pg_stat_replication"},
		{"SELECT x FROM pg_stat_activity s(x)", "(WITH s(x, "},
		{"WITH pg_stat_activity AS (SELECT 1 AS pid) SELECT pid FROM pg_stat_activity", `AS "pid" FROM pg_stat_activity`},
	}
	for _, tc := range tests {
		st, err := SQL(tc.sql, nil, Options{Setting: setting})
		if err != nil {
			t.Fatalf("%s: %v", tc.sql, err)
		}
		if !strings.Contains(st[0].SQL, tc.want) {
			t.Errorf("%s\n got %s\nwant it to contain %s", tc.sql, st[0].SQL, tc.want)
		}
	}
	st, err := SQL("SELECT pid, backend_start, datid, query FROM pg_stat_activity", nil, Options{Setting: setting})
	if err != nil {
		t.Fatal(err)
	}
	var oids []uint32
	for _, c := range st[0].Columns {
		oids = append(oids, c.OID)
	}
	want := []uint32{pgvalue.OIDInt4, pgvalue.OIDTimestamptz, pgvalue.OIDOid, pgvalue.OIDText}
	if len(oids) != len(want) {
		t.Fatalf("columns %v", st[0].Columns)
	}
	for i := range want {
		if oids[i] != want[i] {
			t.Errorf("column %d OID %d, want %d", i, oids[i], want[i])
		}
	}
}

func TestFormatLSN(t *testing.T) {
	for idx, want := range map[uint64]string{0: "0/0", 26: "0/1A", 1<<32 + 255: "1/FF"} {
		if got := FormatLSN(idx); got != want {
			t.Errorf("FormatLSN(%d) = %q, want %q", idx, got, want)
		}
	}
}
