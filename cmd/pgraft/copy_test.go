package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// dumpScript is what pg_dump 15 writes for a table with a serial column,
// with the settings pg_dump sends cut to those pgraft accepts: the COPY
// data block that psql -f streams to the server.
const dumpScript = `SET statement_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
CREATE TABLE public.items (
    id integer NOT NULL,
    name text NOT NULL,
    price numeric(10,2),
    tags text
);
CREATE SEQUENCE public.items_id_seq AS integer START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;
ALTER SEQUENCE public.items_id_seq OWNED BY public.items.id;
ALTER TABLE ONLY public.items ALTER COLUMN id SET DEFAULT nextval('public.items_id_seq'::regclass);
COPY public.items (id, name, price, tags) FROM stdin;
1	a\\tb	1.50	\N
2	c\\d	2.00	x,y
3	line\nbreak	\N	
\.
SELECT pg_catalog.setval('public.items_id_seq', 3, true);
ALTER TABLE ONLY public.items
    ADD CONSTRAINT items_pkey PRIMARY KEY (id);
`

func TestPsqlCopy(t *testing.T) {
	n := startNode(t)
	dir := t.TempDir()
	script := filepath.Join(dir, "dump.sql")
	if err := os.WriteFile(script, []byte(dumpScript), 0o644); err != nil {
		t.Fatal(err)
	}
	if out := psql(t, n, "-f", script); !strings.Contains(out, "COPY 3") {
		t.Fatalf("psql -f of a dump:\n%s", out)
	}
	psql(t, n, "-c", "INSERT INTO items (name) VALUES ('four')")
	want := "1\ta\\\\tb\t1.50\t\\N\n2\tc\\\\d\t2.00\tx,y\n3\tline\\nbreak\t\\N\t\n4\tfour\t\\N\t\\N\n"
	if out := psql(t, n, "-c", "COPY items TO STDOUT"); out != want {
		t.Errorf("COPY TO after the dump:\n%q\nwant\n%q", out, want)
	}

	// \copy both ways, csv with a header, through files on the client.
	out := filepath.Join(dir, "items.csv")
	psql(t, n, "-c", fmt.Sprintf(`\copy items TO '%s' WITH (FORMAT csv, HEADER)`, out))
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	wantCSV := "id,name,price,tags\n1,a\\tb,1.50,\n2,c\\d,2.00,\"x,y\"\n3,\"line\nbreak\",,\"\"\n4,four,,\n"
	if string(data) != wantCSV {
		t.Errorf("\\copy to:\n%q\nwant\n%q", data, wantCSV)
	}
	psql(t, n, "-c", "CREATE TABLE items2 (id int PRIMARY KEY, name text, price numeric(10,2), tags text)")
	if got := psql(t, n, "-c", fmt.Sprintf(`\copy items2 FROM '%s' WITH (FORMAT csv, HEADER)`, out)); !strings.Contains(got, "COPY 4") {
		t.Errorf("\\copy from: %s", got)
	}
	if a, b := psql(t, n, "-c", "COPY items TO STDOUT"), psql(t, n, "-c", "COPY items2 TO STDOUT"); a != b {
		t.Errorf("round trip differs:\n%q\n%q", a, b)
	}

	// An error in the data: psql reports the line, nothing is written.
	bad := filepath.Join(dir, "bad.txt")
	os.WriteFile(bad, []byte("10\tok\t1\t\\N\nx\tbad\t1\t\\N\n"), 0o644)
	path, _ := exec.LookPath("psql")
	res, err := exec.Command(path, "-X", "-h", n.PGHost, "-p", n.PGPort, "-U", "postgres", "-v", "ON_ERROR_STOP=1",
		"-c", fmt.Sprintf(`\copy items2 FROM '%s'`, bad)).CombinedOutput()
	if err == nil || !strings.Contains(string(res), `invalid input syntax for type integer: "x"`) ||
		!strings.Contains(string(res), `COPY items2, line 2, column id: "x"`) {
		t.Errorf("bad data: %v\n%s", err, res)
	}
	if got := psql(t, n, "-At", "-c", "SELECT count(*) FROM items2"); strings.TrimSpace(got) != "4" {
		t.Errorf("rows after a failed \\copy: %s", got)
	}
}

// TestPgbenchInit loads pgbench's tables with its client-side COPY. Its
// vacuum step is skipped: VACUUM is refused (0A000).
func TestPgbenchInit(t *testing.T) {
	path, err := exec.LookPath("pgbench")
	if err != nil {
		path = "/usr/lib/postgresql/15/bin/pgbench"
		if _, err := os.Stat(path); err != nil {
			t.Skip("pgbench is not installed")
		}
	}
	n := startNode(t)
	out, err := exec.Command(path, "-i", "-s", "1", "-I", "dtgp", "-h", n.PGHost, "-p", n.PGPort, "-U", "postgres", "postgres").CombinedOutput()
	if err != nil {
		t.Fatalf("pgbench -i: %v\n%s", err, out)
	}
	if got := psql(t, n, "-At", "-c", "SELECT count(*), sum(abalance) FROM pgbench_accounts"); strings.TrimSpace(got) != "100000|0" {
		t.Errorf("pgbench_accounts: %s", got)
	}
}
