package main

import (
	"os/exec"
	"strings"
	"testing"
)

// psql runs psql against the node and returns its output.
func psql(t *testing.T, n *testNode, args ...string) string {
	t.Helper()
	path, err := exec.LookPath("psql")
	if err != nil {
		t.Fatalf("psql is not installed: %v", err)
	}
	base := []string{"-X", "-h", n.PGHost, "-p", n.PGPort, "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1"}
	out, err := exec.Command(path, append(base, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("psql %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func TestPsqlMetaCommands(t *testing.T) {
	n := startNode(t)
	psql(t, n, "-c", `CREATE TABLE kv (k bigint PRIMARY KEY, v text NOT NULL DEFAULT 'x', n integer)`,
		"-c", `CREATE INDEX kv_n_idx ON kv (n)`, "-c", `INSERT INTO kv VALUES (1, 'one', 10), (2, 'two', 20)`)

	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"select", []string{"-c", "SELECT k, v FROM kv ORDER BY k"}, []string{"one", "two", "(2 rows)"}},
		{"conninfo", []string{"-c", `\conninfo`}, []string{`database "postgres"`, `port "` + n.PGPort + `"`}},
		{"list tables", []string{"-c", `\dt`}, []string{"kv", "table", "public"}},
		{"describe all", []string{"-c", `\d`}, []string{"kv", "table"}},
		{"describe table", []string{"-c", `\d kv`},
			[]string{`Table "public.kv"`, "bigint", "not null", "text", "'x'::text", "integer", `"kv_pkey" PRIMARY KEY, btree (k)`, `"kv_n_idx" btree (n)`}},
		{"databases", []string{"-c", `\l`}, []string{"postgres", "UTF8"}},
		{"schemas", []string{"-c", `\dn`}, []string{"public"}},
		{"roles", []string{"-c", `\du`}, []string{"postgres", "Superuser"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := psql(t, n, tc.args...)
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

func TestPsqlReportsErrorsWithSQLState(t *testing.T) {
	n := startNode(t)
	path, _ := exec.LookPath("psql")
	out, err := exec.Command(path, "-X", "-h", n.PGHost, "-p", n.PGPort, "-U", "postgres", "-v", "VERBOSITY=verbose",
		"-c", "SELECT * FROM no_such_table").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "42P01") {
		t.Fatalf("want a 42P01 error, got %v:\n%s", err, out)
	}
}
