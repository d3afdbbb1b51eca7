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
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/pgraft/pgraft/server/servertest"
)

// TestDatetimeGolden replays testdata/datetime_golden.txt in one session:
// infinity and -infinity as input, output, casts, isfinite, arithmetic,
// extract, date_trunc, comparisons and ordering; time with time zone's
// input (offsets, abbreviations, zone names with a date), output, order
// and casts; as PostgreSQL 15 printed them.
func TestDatetimeGolden(t *testing.T) {
	replayQueryGolden(t, "datetime_golden.txt")
}

// TestInfinityTable: infinite dates and timestamps stored in a table,
// written as literals, text parameters and pgx's binary infinities, sort
// below and above every finite value in ORDER BY, WHERE through an index,
// min/max and UNIQUE, and read back in text and binary, on one node and on
// three that converge.
func TestInfinityTable(t *testing.T) {
	t.Run("one node", func(t *testing.T) {
		n := servertest.Start(t)
		checkInfinityTable(t, connect(t, n))
	})
	t.Run("three nodes", func(t *testing.T) {
		cl := servertest.NewCluster(t, 3)
		checkInfinityTable(t, connect(t, cl.Leader()))
		cl.RequireConverged()
		for _, node := range cl.Nodes { // every node reads the same values
			c := connect(t, node)
			got := runText(context.Background(), c, "SELECT min(d), max(d), min(ts), max(tz) FROM ev")
			if strings.Join(got, "") != "-infinity|infinity|-infinity|infinity" {
				t.Errorf("node %s: min/max = %q", node.DataDir, got)
			}
		}
	})
}

func checkInfinityTable(t *testing.T, c *pgx.Conn) {
	ctx := context.Background()
	mustExec(t, c, "CREATE TABLE ev (id int PRIMARY KEY, d date, ts timestamp, tz timestamptz)")
	mustExec(t, c, "CREATE UNIQUE INDEX ev_d ON ev (d)")
	mustExec(t, c, "CREATE INDEX ev_ts ON ev (ts)")
	// Finite values are stored as older builds stored them.
	mustExec(t, c, `INSERT INTO ev VALUES (1, '2024-01-01', '2024-01-01 10:00', '2024-01-01 10:00+02'),
		(2, '0001-01-01', '0001-01-01 00:00:00', '0001-01-01 00:00:00+00'),
		(3, '9999-12-31', '9999-12-31 23:59:59.999999', '9999-12-31 23:59:59.999999+00'),
		(4, 'infinity', '-infinity', 'infinity')`)
	// Text parameters (typed by the columns) and binary ones (pgx sends
	// int32/int64 min and max).
	mustExec(t, c, "INSERT INTO ev VALUES (5, $1, $2, $3)", "-infinity", "infinity", "-infinity")
	_, err := c.Exec(ctx, "INSERT INTO ev VALUES ($1, $2)", 6, pgtype.Date{InfinityModifier: pgtype.NegativeInfinity, Valid: true})
	wantCode(t, err, "23505") // a second -infinity
	_, err = c.Exec(ctx, "INSERT INTO ev VALUES (7, 'infinity')")
	wantCode(t, err, "23505")
	var id int
	if err := c.QueryRow(ctx, "SELECT id FROM ev WHERE ts = $1", pgtype.Timestamp{InfinityModifier: pgtype.Infinity, Valid: true}).Scan(&id); err != nil || id != 5 {
		t.Errorf("WHERE ts = binary infinity: id %d, %v", id, err)
	}

	for _, tc := range []struct{ q, want string }{
		{"SELECT id, d FROM ev ORDER BY d", "5|-infinity\n2|0001-01-01\n1|2024-01-01\n3|9999-12-31\n4|infinity"},
		{"SELECT id, ts FROM ev ORDER BY ts DESC", "5|infinity\n3|9999-12-31 23:59:59.999999\n1|2024-01-01 10:00:00\n2|0001-01-01 00:00:00\n4|-infinity"},
		{"SELECT id, tz FROM ev ORDER BY tz", "5|-infinity\n2|0001-01-01 00:00:00+00\n1|2024-01-01 08:00:00+00\n3|9999-12-31 23:59:59.999999+00\n4|infinity"},
		{"SELECT id FROM ev WHERE d > '9999-12-30' ORDER BY id", "3\n4"},
		{"SELECT id FROM ev WHERE ts < '0001-01-02' ORDER BY id", "2\n4"},
		{"SELECT id FROM ev WHERE d = '-infinity'", "5"},
		{"SELECT id FROM ev WHERE tz = 'infinity'::timestamp", "4"},
		{"SELECT min(d), max(d), min(ts), max(ts) FROM ev", "-infinity|infinity|-infinity|infinity"},
		{"SELECT id, isfinite(d), d + 1, ts + interval '1 day' FROM ev WHERE id IN (4, 5) ORDER BY id",
			"4|f|infinity|-infinity\n5|f|-infinity|infinity"},
		{"UPDATE ev SET ts = 'infinity' WHERE id = 1 RETURNING ts, d", "infinity|2024-01-01"},
		{"SELECT count(*) FROM ev WHERE ts = 'infinity'", "2"},
	} {
		if got := strings.Join(runText(ctx, c, tc.q), "\n"); got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.q, got, tc.want)
		}
	}
	_, err = c.Exec(ctx, "UPDATE ev SET d = d - date '2020-01-01' + date '2020-01-01' WHERE id = 4")
	wantCode(t, err, "22008") // cannot subtract infinite dates

	// pgx reads date and timestamps in binary: PostgreSQL's int32/int64
	// min and max, which pgtype gives as InfinityModifier.
	var d pgtype.Date
	var ts pgtype.Timestamp
	var tz pgtype.Timestamptz
	if err := c.QueryRow(ctx, "SELECT d, ts, tz FROM ev WHERE id = 4").Scan(&d, &ts, &tz); err != nil {
		t.Fatal(err)
	}
	if d.InfinityModifier != pgtype.Infinity || ts.InfinityModifier != pgtype.NegativeInfinity || tz.InfinityModifier != pgtype.Infinity {
		t.Errorf("binary infinities: %v %v %v", d.InfinityModifier, ts.InfinityModifier, tz.InfinityModifier)
	}
	if err := c.QueryRow(ctx, "SELECT d, ts, tz FROM ev WHERE id = 2").Scan(&d, &ts, &tz); err != nil {
		t.Fatal(err)
	}
	if d.InfinityModifier != pgtype.Finite || !d.Time.Equal(time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("0001-01-01 read back as %+v", d)
	}

	// COPY: pgx's CopyFrom sends binary, COPY TO STDOUT prints text, and
	// COPY FROM in text reads the words.
	mustExec(t, c, "CREATE TABLE evc (id int PRIMARY KEY, d date, ts timestamptz)")
	rows := [][]any{
		{1, pgtype.Date{InfinityModifier: pgtype.Infinity, Valid: true}, pgtype.Timestamptz{InfinityModifier: pgtype.NegativeInfinity, Valid: true}},
		{2, pgtype.Date{Time: time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), Valid: true}, nil},
	}
	if n, err := c.CopyFrom(ctx, pgx.Identifier{"evc"}, []string{"id", "d", "ts"}, pgx.CopyFromRows(rows)); err != nil || n != 2 {
		t.Fatalf("CopyFrom: %d, %v", n, err)
	}
	if _, err := c.PgConn().CopyFrom(ctx, strings.NewReader("3\t-infinity\tinfinity\n"), "COPY evc FROM STDIN"); err != nil {
		t.Fatalf("COPY FROM text: %v", err)
	}
	var out bytes.Buffer
	if _, err := c.PgConn().CopyTo(ctx, &out, "COPY (SELECT * FROM evc ORDER BY d) TO STDOUT"); err != nil {
		t.Fatal(err)
	}
	if want := "3\t-infinity\tinfinity\n2\t2024-02-29\t\\N\n1\tinfinity\t-infinity\n"; out.String() != want {
		t.Errorf("COPY TO: %q, want %q", out.String(), want)
	}
}

// TestTimetzTable: a timetz column orders and indexes as PostgreSQL
// (by UTC time, then offset), UNIQUE tells 10:00+02 from 08:00+00, a
// literal without an offset takes the session's zone on the statement's
// date, binary parameters and results are timetz_send's (int64 µs, int32
// seconds west), CURRENT_TIME is a timetz; on one node and on three that
// converge.
func TestTimetzTable(t *testing.T) {
	t.Run("one node", func(t *testing.T) {
		n := servertest.Start(t)
		checkTimetzTable(t, connect(t, n))
	})
	t.Run("three nodes", func(t *testing.T) {
		cl := servertest.NewCluster(t, 3)
		checkTimetzTable(t, connect(t, cl.Leader()))
		cl.RequireConverged()
		for _, node := range cl.Nodes {
			got := runText(context.Background(), connect(t, node), "SELECT string_agg(t::text, ',' ORDER BY t) FROM tz")
			if want := "00:30:00+14,10:00:00+02,08:00:00+00,09:00:00+00,10:00:00-05,23:00:00-10"; strings.Join(got, "") != want {
				t.Errorf("node %s: %q, want %q", node.DataDir, got, want)
			}
		}
	})
}

func checkTimetzTable(t *testing.T, c *pgx.Conn) {
	ctx := context.Background()
	mustExec(t, c, "CREATE TABLE tz (id int PRIMARY KEY, t timetz, at time with time zone DEFAULT current_time)")
	mustExec(t, c, "CREATE UNIQUE INDEX tz_t ON tz (t)")
	mustExec(t, c, "INSERT INTO tz (id, t) VALUES (1, '10:00+02'), (2, '08:00+00'), (3, '09:00 UTC'), (4, '23:00-10'), (5, '00:30+14')")
	_, err := c.Exec(ctx, "INSERT INTO tz (id, t) VALUES (6, '10:00:00+02:00')")
	wantCode(t, err, "23505")
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Detail != "Key (t)=(10:00:00+02) already exists." {
		t.Errorf("DETAIL %q", pe.Detail)
	}
	// No offset: the session's zone on the statement's date (New York is
	// -05 or -04 by the season: either way a value of its own).
	mustExec(t, c, "SET TIME ZONE 'America/New_York'")
	mustExec(t, c, "INSERT INTO tz (id, t) VALUES (7, '2021-01-04 10:00')")
	mustExec(t, c, "RESET TIME ZONE")
	_, err = c.Exec(ctx, "INSERT INTO tz (id, t) VALUES (8, '10:00 America/New_York')")
	wantCode(t, err, "22007") // a zone name needs a date, as in PostgreSQL

	for _, tc := range []struct{ q, want string }{
		{"SELECT id FROM tz ORDER BY t", "5\n1\n2\n3\n7\n4"},
		{"SELECT id FROM tz WHERE t > '08:00+00' ORDER BY id", "3\n4\n7"},
		{"SELECT id FROM tz WHERE t = '10:00+02'", "1"},
		{"SELECT min(t), max(t) FROM tz", "00:30:00+14|23:00:00-10"},
		{"SELECT t::time FROM tz WHERE id = 7", "10:00:00"},
		{"SELECT count(*) FROM tz WHERE at::text LIKE '%:%:%+00'", "6"}, // CURRENT_TIME in the session's zone, UTC
	} {
		if got := strings.Join(runText(ctx, c, tc.q), "\n"); got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.q, got, tc.want)
		}
	}

	// Binary: 10:00:00+02 is 36000000000 µs and 7200 s east, sent as -7200.
	bin := []byte{0, 0, 0, 8, 0x61, 0xc4, 0x68, 0, 0xff, 0xff, 0xe3, 0xe0}
	res := c.PgConn().ExecParams(ctx, "SELECT id, t FROM tz WHERE t = $1", [][]byte{bin}, []uint32{1266},
		[]int16{1}, []int16{1, 1}).Read()
	if res.Err != nil || len(res.Rows) != 1 {
		t.Fatalf("binary timetz parameter: %v, %d rows", res.Err, len(res.Rows))
	}
	if got := res.Rows[0][1]; string(got) != string(bin) {
		t.Errorf("binary timetz result % x, want % x", got, bin)
	}
	if oid := res.FieldDescriptions[1].DataTypeOID; oid != 1266 {
		t.Errorf("timetz column OID %d", oid)
	}
}
