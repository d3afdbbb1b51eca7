package server_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgraft/pgraft/server/servertest"
)

// copyIn runs COPY … FROM STDIN with data over the simple protocol.
func copyIn(t *testing.T, c *pgx.Conn, sql, data string) (pgconn.CommandTag, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return c.PgConn().CopyFrom(ctx, strings.NewReader(data), sql)
}

// copyOut runs COPY … TO STDOUT and returns the data.
func copyOut(t *testing.T, c *pgx.Conn, sql string) string {
	t.Helper()
	var buf bytes.Buffer
	if _, err := c.PgConn().CopyTo(context.Background(), &buf, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return buf.String()
}

func pgErr(err error) *pgconn.PgError {
	var pe *pgconn.PgError
	errors.As(err, &pe)
	return pe
}

func TestCopyTextAndCSV(t *testing.T) {
	n := servertest.Start(t)
	c := connect(t, n)
	mustExec(t, c, "CREATE TABLE t (id serial PRIMARY KEY, a int, b text, c numeric(10,2), d bool, e bytea, f timestamptz)")
	tag, err := copyIn(t, c, "COPY t (a, b, c, d, e, f) FROM STDIN",
		"1\tx\\ty\t1.5\tt\t\\\\x0102\t2020-01-02 03:04:05+00\n"+
			"2\t\\N\t\\N\t\\N\t\\N\t\\N\n"+
			"3\t\\x41\\101,\"q\t2\tf\t\\\\x\t2020-01-02 03:04:05.123+02\n"+
			"4\t\t0\tyes\t\\\\xff\t2020-01-02\n\\.\n")
	if err != nil || tag.String() != "COPY 4" {
		t.Fatalf("copy in: %v %v", tag, err)
	}
	want := "1\t1\tx\\ty\t1.50\tt\t\\\\x0102\t2020-01-02 03:04:05+00\n" +
		"2\t2\t\\N\t\\N\t\\N\t\\N\t\\N\n" +
		"3\t3\tAA,\"q\t2.00\tf\t\\\\x\t2020-01-02 01:04:05.123+00\n" +
		"4\t4\t\t0.00\tt\t\\\\xff\t2020-01-02 00:00:00+00\n"
	if got := copyOut(t, c, "COPY t TO STDOUT"); got != want {
		t.Errorf("text out:\n%q\nwant\n%q", got, want)
	}
	wantCSV := "id,a,b\n1,1,x\ty\n2,2,\n3,3,\"AA,\"\"q\"\n4,4,\"\"\n"
	if got := copyOut(t, c, "COPY t (id, a, b) TO STDOUT WITH (FORMAT csv, HEADER)"); got != wantCSV {
		t.Errorf("csv out:\n%q\nwant\n%q", got, wantCSV)
	}
	if got := copyOut(t, c, "COPY (SELECT a, b FROM t WHERE a > 2 ORDER BY a DESC) TO STDOUT CSV FORCE QUOTE * NULL 'NUL' DELIMITER ';'"); got != "\"4\";\"\"\n\"3\";\"AA,\"\"q\"\n" {
		t.Errorf("query csv out: %q", got)
	}
	// CSV in: header, quotes, embedded newline, CRLF, FORCE_NULL/FORCE_NOT_NULL.
	mustExec(t, c, "CREATE TABLE s (a int, b text, c text)")
	tag, err = copyIn(t, c, "COPY s FROM STDIN WITH (FORMAT csv, HEADER true, FORCE_NOT_NULL (b), FORCE_NULL (c))",
		"a,b,c\r\n1,,\"\"\r\n2,\"multi\r\nline\",\"x,\"\"y\"\r\n")
	if err != nil || tag.String() != "COPY 2" {
		t.Fatalf("csv in: %v %v", tag, err)
	}
	if got := copyOut(t, c, "COPY s TO STDOUT"); got != "1\t\t\\N\n2\tmulti\\r\\nline\tx,\"y\n" {
		t.Errorf("after csv in: %q", got)
	}
	// HEADER MATCH.
	_, err = copyIn(t, c, "COPY s FROM STDIN (FORMAT csv, HEADER match)", "a,x,c\n1,2,3\n")
	wantCode(t, err, "22P04")
	if pe := pgErr(err); pe.Where != "COPY s, line 1: \"a,x,c\"" {
		t.Errorf("where %q", pe.Where)
	}
	if _, err := copyIn(t, c, "COPY s FROM STDIN (FORMAT csv, HEADER match)", "a,b,c\n1,2,3\n"); err != nil {
		t.Fatal(err)
	}
}

func TestCopyErrors(t *testing.T) {
	n := servertest.Start(t)
	c := connect(t, n)
	ctx := context.Background()
	mustExec(t, c, "CREATE TABLE t (a int PRIMARY KEY, b text NOT NULL DEFAULT 'd', c numeric(10,2))")
	for _, tc := range []struct {
		data, code, msg, where string
	}{
		{"1\tx\t1.5\n2\tabc\n", "22P04", `missing data for column "c"`, "COPY t, line 2: \"2\tabc\""},
		{"1\tx\t1.5\t3\n", "22P04", "extra data after last expected column", "COPY t, line 1: \"1\tx\t1.5\t3\""},
		{"z\tx\t1.5\n", "22P02", `invalid input syntax for type integer: "z"`, `COPY t, line 1, column a: "z"`},
		{"1\tx\t1.5\n1\ty\t2\n", "23505", `duplicate key value violates unique constraint "t_pkey"`, "COPY t, line 2"},
		{"1\t\\N\t1.5\n", "23502", `null value in column "b" of relation "t" violates not-null constraint`, "COPY t, line 1"},
		{"1\tx\t1\n2\tlit\rcr\t1\n", "22P04", "literal carriage return found in data", ""},
	} {
		_, err := copyIn(t, c, "COPY t FROM STDIN", tc.data)
		pe := pgErr(err)
		if pe == nil || pe.Code != tc.code || pe.Message != tc.msg || tc.where != "" && pe.Where != tc.where {
			t.Errorf("%q: got %v (where %q), want %s %s (where %q)", tc.data, err, pe.Where, tc.code, tc.msg, tc.where)
		}
		if got := count(t, c, "SELECT count(*) FROM t"); got != 0 {
			t.Fatalf("%q: %d rows after a failed COPY", tc.data, got)
		}
	}
	// Statement errors, before any data.
	for sql, code := range map[string]string{
		"COPY t FROM '/etc/passwd'":                       "42501",
		"COPY t TO '/tmp/x'":                              "42501",
		"COPY t FROM PROGRAM 'ls'":                        "42501",
		"COPY nosuch FROM STDIN":                          "42P01",
		"COPY t (zz) FROM STDIN":                          "42703",
		"COPY t (a, a) FROM STDIN":                        "42701",
		"COPY t FROM STDIN (FORMAT xml)":                  "22023",
		"COPY t FROM STDIN (FORMAT csv, FORCE_QUOTE (a))": "0A000",
		"COPY t TO STDOUT (QUOTE '\"')":                   "0A000",
		"COPY t FROM STDIN (DELIMITER 'ab')":              "0A000",
		"COPY t FROM STDIN (BOGUS 1)":                     "42601",
	} {
		_, err := copyIn(t, c, sql, "1\tx\t1\n")
		wantCode(t, err, code)
	}
	// A constraint error deep in a batch of many rows names its line.
	var dup strings.Builder
	for i := 1; i <= 800; i++ {
		k := i
		if i == 700 {
			k = 3
		}
		fmt.Fprintf(&dup, "%d\tv\t1\n", k)
	}
	_, err := copyIn(t, c, "COPY t FROM STDIN", dup.String())
	if pe := pgErr(err); pe == nil || pe.Code != "23505" || pe.Where != "COPY t, line 700" || pe.Detail != "Key (a)=(3) already exists." {
		t.Errorf("duplicate at line 700: %v (where %q, detail %q)", err, pe.Where, pe.Detail)
	}
	if got := count(t, c, "SELECT count(*) FROM t"); got != 0 {
		t.Fatalf("%d rows after a failed COPY", got)
	}
	// Values of types kept as text are checked as PostgreSQL's input does.
	mustExec(t, c, "CREATE TABLE v (u uuid, j jsonb)")
	_, err = copyIn(t, c, "COPY v FROM STDIN", "notuuid\t{}\n")
	wantCode(t, err, "22P02")
	if pe := pgErr(err); pe.Where != `COPY v, line 1, column u: "notuuid"` {
		t.Errorf("where %q", pe.Where)
	}
	_, err = copyIn(t, c, "COPY v FROM STDIN", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\t{\n")
	wantCode(t, err, "22P02")
	// A COPY followed by more statements in one query string is part of
	// their implicit transaction: a later failure takes it back.
	_, err = copyIn(t, c, "COPY t FROM STDIN; SELECT 1/0", "1\tx\t1\n")
	wantCode(t, err, "22012")
	if got := count(t, c, "SELECT count(*) FROM t"); got != 0 {
		t.Fatalf("%d rows after a failed implicit transaction", got)
	}
	// COPY TO of a catalog relation works; of a missing one is 42P01.
	if got := copyOut(t, c, "COPY (SELECT relname FROM pg_class WHERE relname = 't') TO STDOUT"); got != "t\n" {
		t.Errorf("catalog query: %q", got)
	}
	if got := copyOut(t, c, "COPY pg_catalog.pg_namespace (nspname) TO STDOUT"); !strings.Contains(got, "public\n") {
		t.Errorf("catalog relation: %q", got)
	}
	_, err = c.PgConn().CopyTo(ctx, io.Discard, "COPY nosuch TO STDOUT")
	wantCode(t, err, "42P01")
	// CopyFail from the client: 57014, nothing written, connection fine.
	pr, pw := io.Pipe()
	go func() {
		pw.Write([]byte("1\tx\t1\n"))
		pw.CloseWithError(errors.New("client gave up"))
	}()
	_, err = c.PgConn().CopyFrom(ctx, pr, "COPY t FROM STDIN")
	if pe := pgErr(err); pe == nil || pe.Code != "57014" || !strings.HasPrefix(pe.Message, "COPY from stdin failed: ") {
		t.Errorf("CopyFail: %v", err)
	}
	if got := count(t, c, "SELECT count(*) FROM t"); got != 0 {
		t.Fatalf("%d rows after CopyFail", got)
	}
	// An error early in a long COPY: the rest of the data is discarded and the
	// connection stays usable.
	var big strings.Builder
	big.WriteString("x\ty\t1\n")
	for i := 0; i < 50000; i++ {
		fmt.Fprintf(&big, "%d\tv\t1\n", i)
	}
	_, err = copyIn(t, c, "COPY t FROM STDIN", big.String())
	wantCode(t, err, "22P02")
	if got := count(t, c, "SELECT count(*) FROM t"); got != 0 {
		t.Fatalf("%d rows after a failed COPY", got)
	}
}

func TestCopyInTransactionBlock(t *testing.T) {
	n := servertest.Start(t)
	c := connect(t, n)
	ctx := context.Background()
	mustExec(t, c, "CREATE TABLE t (a int PRIMARY KEY, b text)")
	mustExec(t, c, "BEGIN")
	mustExec(t, c, "INSERT INTO t VALUES (0, 'zero')")
	if _, err := copyIn(t, c, "COPY t FROM STDIN", "1\tone\n2\ttwo\n"); err != nil {
		t.Fatal(err)
	}
	if got := count(t, c, "SELECT count(*) FROM t"); got != 3 {
		t.Fatalf("in block: %d rows", got)
	}
	mustExec(t, c, "ROLLBACK")
	if got := count(t, c, "SELECT count(*) FROM t"); got != 0 {
		t.Fatalf("after rollback: %d rows", got)
	}
	// A failed COPY fails the block.
	mustExec(t, c, "BEGIN")
	_, err := copyIn(t, c, "COPY t FROM STDIN", "1\tone\nx\ttwo\n")
	wantCode(t, err, "22P02")
	_, err = c.Exec(ctx, "SELECT 1")
	wantCode(t, err, "25P02")
	mustExec(t, c, "ROLLBACK")
	// Committed with the block.
	mustExec(t, c, "BEGIN")
	if _, err := copyIn(t, c, "COPY t FROM STDIN", "1\tone\n2\ttwo\n"); err != nil {
		t.Fatal(err)
	}
	mustExec(t, c, "COMMIT")
	if got := count(t, c, "SELECT count(*) FROM t"); got != 2 {
		t.Fatalf("after commit: %d rows", got)
	}
	// A GENERATED ALWAYS identity column takes COPY's values, as in
	// PostgreSQL (pg_dump's data sections hold them).
	mustExec(t, c, "CREATE TABLE ident (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v text)")
	if _, err := copyIn(t, c, "COPY ident FROM STDIN", "7\tseven\n"); err != nil {
		t.Fatalf("identity: %v", err)
	}
	if _, err := copyIn(t, c, "COPY ident (v) FROM STDIN", "next\n"); err != nil {
		t.Fatalf("identity default: %v", err)
	}
	if got := copyOut(t, c, "COPY ident TO STDOUT"); got != "1\tnext\n7\tseven\n" {
		t.Errorf("identity: %q", got)
	}
	// Into a table the block created.
	mustExec(t, c, "BEGIN")
	mustExec(t, c, "CREATE TABLE fresh (x int, y text DEFAULT 'dflt')")
	if _, err := copyIn(t, c, "COPY fresh (x) FROM STDIN", "1\n2\n"); err != nil {
		t.Fatal(err)
	}
	mustExec(t, c, "COMMIT")
	if got := copyOut(t, c, "COPY fresh TO STDOUT"); got != "1\tdflt\n2\tdflt\n" {
		t.Errorf("fresh: %q", got)
	}
}

func TestCopyBinaryPgx(t *testing.T) {
	n := servertest.Start(t)
	c := connect(t, n)
	ctx := context.Background()
	mustExec(t, c, `CREATE TABLE b (i2 smallint, i4 int, i8 bigint, f4 real, f8 float8, n numeric(10,2), t text,
		v varchar(10), ok bool, by bytea, d date, ts timestamp, tz timestamptz, u uuid, j json, jb jsonb)`)
	ts := time.Date(2024, 3, 4, 5, 6, 7, 123000000, time.UTC)
	rows := [][]any{
		{int16(1), int32(2), int64(3), float32(1.5), 2.25, "12.34", "text", "var", true, []byte{0, 1, 255},
			time.Date(2024, 3, 4, 0, 0, 0, 0, time.UTC), ts, ts, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", `{"a":1}`, `{"b": [1, 2]}`},
		{nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil},
	}
	cols := []string{"i2", "i4", "i8", "f4", "f8", "n", "t", "v", "ok", "by", "d", "ts", "tz", "u", "j", "jb"}
	got, err := c.CopyFrom(ctx, pgx.Identifier{"b"}, cols, pgx.CopyFromRows(rows))
	if err != nil || got != 2 {
		t.Fatalf("CopyFrom: %d, %v", got, err)
	}
	want := "1\t2\t3\t1.5\t2.25\t12.34\ttext\tvar\tt\t\\\\x0001ff\t2024-03-04\t2024-03-04 05:06:07.123\t2024-03-04 05:06:07.123+00\ta0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\t{\"a\":1}\t{\"b\": [1, 2]}\n" +
		strings.Repeat("\\N\t", 15) + "\\N\n"
	if out := copyOut(t, c, "COPY b TO STDOUT"); out != want {
		t.Errorf("after binary in:\n%q\nwant\n%q", out, want)
	}
	// Binary out, read back in: the same rows.
	bin := copyOut(t, c, "COPY b TO STDOUT (FORMAT binary)")
	if !strings.HasPrefix(bin, "PGCOPY\n\xff\r\n\x00") || !strings.HasSuffix(bin, "\xff\xff") {
		t.Fatalf("binary out framing: %q", bin)
	}
	mustExec(t, c, `CREATE TABLE b2 (i2 smallint, i4 int, i8 bigint, f4 real, f8 float8, n numeric(10,2), t text,
		v varchar(10), ok bool, by bytea, d date, ts timestamp, tz timestamptz, u uuid, j json, jb jsonb)`)
	if _, err := copyIn(t, c, "COPY b2 FROM STDIN (FORMAT binary)", bin); err != nil {
		t.Fatalf("binary in: %v", err)
	}
	if out := copyOut(t, c, "COPY b2 TO STDOUT"); out != want {
		t.Errorf("binary round trip:\n%q\nwant\n%q", out, want)
	}
	// Bad binary data.
	_, err = copyIn(t, c, "COPY b2 FROM STDIN (FORMAT binary)", "not binary")
	wantCode(t, err, "22P04")
}

func TestCopyLarge(t *testing.T) {
	n := servertest.Start(t)
	c := connect(t, n)
	mustExec(t, c, "CREATE TABLE t (a int PRIMARY KEY, b text)")
	var data strings.Builder
	const rows = 20000
	for i := 0; i < rows; i++ {
		fmt.Fprintf(&data, "%d\trow %d\n", i, i)
	}
	tag, err := copyIn(t, c, "COPY t FROM STDIN", data.String())
	if err != nil || tag.String() != fmt.Sprintf("COPY %d", rows) {
		t.Fatalf("%v %v", tag, err)
	}
	if out := copyOut(t, c, "COPY t TO STDOUT"); out != data.String() {
		t.Errorf("round trip differs (%d bytes, want %d)", len(out), data.Len())
	}
	// More than pgraft.max_transaction_size: refused whole with 54000 and
	// a hint (bigtxn_test.go has COPYs larger than one log entry).
	mustExec(t, c, "CREATE TABLE big (a int, b text)")
	mustExec(t, c, "SET pgraft.max_transaction_size = '1MB'")
	pad := strings.Repeat("x", 1000)
	var huge strings.Builder
	for i := 0; i < 2000; i++ {
		fmt.Fprintf(&huge, "%d\t%s\n", i, pad)
	}
	_, err = copyIn(t, c, "COPY big FROM STDIN", huge.String())
	wantCode(t, err, "54000")
	if pe := pgErr(err); pe.Hint == "" {
		t.Errorf("no hint: %v", err)
	}
	if got := count(t, c, "SELECT count(*) FROM big"); got != 0 {
		t.Fatalf("%d rows after a refused COPY", got)
	}
}

// copyInCluster runs a COPY through conn while leadership may move: a
// write no leader took (retryable) is tried again; one whose outcome is
// unknown (40003) counts as done when landed reports its rows there.
func copyInCluster(t *testing.T, conn *pgx.Conn, sql, data string, landed func() bool) pgconn.CommandTag {
	t.Helper()
	deadline := time.Now().Add(clusterWait)
	for {
		tag, err := copyIn(t, conn, sql, data)
		if err == nil {
			return tag
		}
		if sqlstate(err) == "40003" && landed() {
			return tag
		}
		if !retryable(err) || time.Now().After(deadline) {
			t.Fatalf("%s: %v", sql, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestCopyClusterThroughFollower(t *testing.T) {
	skipShortCluster(t)
	cl := servertest.NewCluster(t, 3)
	leaderExec(t, cl, "CREATE TABLE t (id serial PRIMARY KEY, a int UNIQUE, b text)")
	fc := connect(t, cl.Followers()[0])
	var data strings.Builder
	for i := 0; i < 1500; i++ {
		fmt.Fprintf(&data, "%d,\"v %d\"\n", i, i)
	}
	has := func(a int) func() bool {
		return func() bool { return retryCount(t, fc, fmt.Sprintf("SELECT count(*) FROM t WHERE a = %d", a)) == 1 }
	}
	copyInCluster(t, fc, "COPY t (a, b) FROM STDIN CSV", data.String(), has(1499))
	// Read-your-writes on the follower, COPY TO read locally.
	out := copyOut(t, fc, "COPY (SELECT a, b FROM t ORDER BY a) TO STDOUT CSV")
	if out != strings.ReplaceAll(data.String(), "\"", "") {
		t.Errorf("follower copy out differs: %.200q", out)
	}
	// A failing COPY through the follower changes nothing anywhere.
	_, err := copyIn(t, fc, "COPY t (a, b) FROM STDIN", "5000\tx\n1\ty\n")
	for retryable(err) && sqlstate(err) != "40003" {
		time.Sleep(20 * time.Millisecond)
		_, err = copyIn(t, fc, "COPY t (a, b) FROM STDIN", "5000\tx\n1\ty\n")
	}
	wantCode(t, err, "23505")
	if got := retryCount(t, fc, "SELECT count(*) FROM t"); got != 1500 {
		t.Fatalf("%d rows after a failed COPY", got)
	}
	// A table the follower's session just created (forwarded DDL): the
	// COPY translates once the follower has it.
	if _, err := fc.Exec(context.Background(), "CREATE TABLE fresh (x int, y text DEFAULT 'd')"); err != nil && !retryable(err) {
		t.Fatal(err)
	}
	copyInCluster(t, fc, "COPY fresh (x) FROM STDIN", "1\n2\n", func() bool {
		return retryCount(t, fc, "SELECT count(*) FROM fresh") == 2
	})
	if got := copyOut(t, fc, "COPY fresh TO STDOUT"); got != "1\td\n2\td\n" {
		t.Errorf("fresh via follower: %q", got)
	}
	// Binary through the follower.
	bin := func() error {
		_, err := fc.CopyFrom(context.Background(), pgx.Identifier{"t"}, []string{"a", "b"},
			pgx.CopyFromRows([][]any{{int32(7000), "seven"}, {int32(8000), nil}}))
		return err
	}
	for err := bin(); err != nil; err = bin() {
		if sqlstate(err) == "40003" && has(8000)() {
			break
		}
		if !retryable(err) {
			t.Fatalf("binary via follower: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := retryCount(t, fc, "SELECT count(*) FROM t WHERE a >= 7000 AND b IS DISTINCT FROM 'x'"); got != 2 {
		t.Errorf("binary rows: %d", got)
	}
	// Inside blocks, on a follower (forwarded) and on the leader (local):
	// COPY TO sees the block's own rows, ROLLBACK takes the COPY back.
	for _, conn := range []*pgx.Conn{fc, connect(t, cl.Leader())} {
		mustExec(t, conn, "BEGIN")
		if _, err := conn.Exec(context.Background(), "INSERT INTO t (a, b) VALUES (-1, 'in block')"); err != nil {
			if retryable(err) {
				conn.Exec(context.Background(), "ROLLBACK")
				continue // leadership moved: the block is lost, as it should be
			}
			t.Fatal(err)
		}
		if _, err := copyIn(t, conn, "COPY t (a, b) FROM STDIN", "-2\tcopied\n"); err != nil {
			if retryable(err) {
				conn.Exec(context.Background(), "ROLLBACK")
				continue
			}
			t.Fatal(err)
		}
		if got := copyOut(t, conn, "COPY (SELECT a, b FROM t WHERE a < 0 ORDER BY a) TO STDOUT"); got != "-2\tcopied\n-1\tin block\n" {
			t.Errorf("COPY TO in a block: %q", got)
		}
		mustExec(t, conn, "ROLLBACK")
		if got := retryCount(t, conn, "SELECT count(*) FROM t WHERE a < 0"); got != 0 {
			t.Errorf("after ROLLBACK: %d rows", got)
		}
	}
	cl.RequireConverged()
}

func TestCopyPrivileges(t *testing.T) {
	n := servertest.Start(t)
	root := connect(t, n)
	mustExec(t, root, "CREATE ROLE clerk LOGIN")
	mustExec(t, root, "CREATE TABLE items (id int PRIMARY KEY, name text)")
	mustExec(t, root, "INSERT INTO items VALUES (1, 'a')")
	c := mustLogin(t, n, "clerk", "")
	denied := func(err error) {
		t.Helper()
		wantCode(t, err, "42501")
		if !strings.Contains(err.Error(), "permission denied for table items") {
			t.Errorf("%v", err)
		}
	}
	_, err := copyIn(t, c, "COPY items FROM STDIN", "2\tb\n")
	denied(err)
	_, err = c.PgConn().CopyTo(context.Background(), io.Discard, "COPY items TO STDOUT")
	denied(err)
	_, err = c.PgConn().CopyTo(context.Background(), io.Discard, "COPY (SELECT name FROM items) TO STDOUT")
	denied(err)
	mustExec(t, root, "GRANT SELECT ON items TO clerk")
	if got := copyOut(t, c, "COPY (SELECT name FROM items) TO STDOUT"); got != "a\n" {
		t.Errorf("after GRANT SELECT: %q", got)
	}
	_, err = copyIn(t, c, "COPY items FROM STDIN", "2\tb\n")
	denied(err)
	mustExec(t, root, "GRANT INSERT ON items TO clerk")
	if _, err := copyIn(t, c, "COPY items FROM STDIN", "2\tb\n"); err != nil {
		t.Fatalf("after GRANT INSERT: %v", err)
	}
	// COPY FROM needs INSERT alone, as in PostgreSQL.
	mustExec(t, root, "REVOKE SELECT ON items FROM clerk")
	if _, err := copyIn(t, c, "COPY items (id, name) FROM STDIN", "3\tc\n"); err != nil {
		t.Fatalf("COPY FROM with INSERT alone: %v", err)
	}
	_, err = c.PgConn().CopyTo(context.Background(), io.Discard, "COPY items TO STDOUT")
	denied(err)
	// Server files stay refused for a superuser too.
	_, err = copyIn(t, root, "COPY items FROM '/etc/passwd'", "")
	wantCode(t, err, "42501")
	if pe := pgErr(err); !strings.Contains(pe.Hint, "never reads or writes files") {
		t.Errorf("hint: %q", pe.Hint)
	}
}

// TestCopyStalledClient: a COPY whose client stops sending while it holds
// the write gate ends after pgraft.idle_write_timeout (25P03), and a
// cancel ends a stalled COPY too; other writers go on.
func TestCopyStalledClient(t *testing.T) {
	n := servertest.Start(t)
	c := connect(t, n)
	other := connect(t, n)
	ctx := context.Background()
	mustExec(t, c, "CREATE TABLE t (a int PRIMARY KEY, b text)")
	mustExec(t, c, "SET pgraft.idle_write_timeout = '300ms'")
	var rows strings.Builder
	for i := 0; i < 600; i++ { // more than a batch: the gate is held
		fmt.Fprintf(&rows, "%d\tx\n", i)
	}
	stall := func(c *pgx.Conn, d time.Duration) error {
		pr, pw := io.Pipe()
		go func() {
			pw.Write([]byte(rows.String()))
			time.Sleep(d)
			pw.Close()
		}()
		_, err := c.PgConn().CopyFrom(ctx, pr, "COPY t FROM STDIN")
		return err
	}
	done := make(chan error, 1)
	go func() { done <- stall(c, time.Second) }()
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	if _, err := other.Exec(ctx, "INSERT INTO t VALUES (-1, 'other')"); err != nil {
		t.Fatalf("other writer: %v", err)
	}
	if waited := time.Since(start); waited > 2*time.Second {
		t.Errorf("the other writer waited %v", waited)
	}
	wantCode(t, <-done, "25P03")
	if got := count(t, c, "SELECT count(*) FROM t"); got != 1 {
		t.Errorf("%d rows", got)
	}
	// statement_timeout ends a stalled COPY as in PostgreSQL (57014).
	mustExec(t, c, "SET pgraft.idle_write_timeout = 0")
	mustExec(t, c, "SET statement_timeout = '300ms'")
	wantCode(t, stall(c, 700*time.Millisecond), "57014")
	mustExec(t, c, "SET statement_timeout = 0")
	if got := count(t, c, "SELECT count(*) FROM t"); got != 1 {
		t.Errorf("%d rows", got)
	}
}
