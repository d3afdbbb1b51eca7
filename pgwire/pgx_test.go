package pgwire_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/pgraft/pgraft/pgvalue"
)

func (ts *testServer) pgxConnect(t *testing.T, sslmode string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, fmt.Sprintf("postgres://alice@%s/db?sslmode=%s", ts.addr, sslmode))
	if err != nil {
		t.Fatalf("pgx.Connect: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestPgxQueriesInEveryMode(t *testing.T) {
	ts := startServer(t, nil)
	conn := ts.pgxConnect(t, "prefer") // SSLRequest answered N, then plain
	ctx := testCtx(t)
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeDescribeExec,
		pgx.QueryExecModeExec, pgx.QueryExecModeSimpleProtocol} {
		t.Run(mode.String(), func(t *testing.T) {
			rows, err := conn.Query(ctx, "rows 3", mode)
			if err != nil {
				t.Fatal(err)
			}
			got, err := pgx.CollectRows(rows, pgx.RowTo[int64])
			if err != nil || !reflect.DeepEqual(got, []int64{1, 2, 3}) {
				t.Fatalf("rows = %v, %v", got, err)
			}
			if tag := rows.CommandTag().String(); tag != "SELECT 3" {
				t.Fatalf("tag %q", tag)
			}
		})
	}
	if err := conn.Ping(ctx); err != nil {
		t.Fatalf("Ping (an empty query): %v", err)
	}
	var pgErr *pgconn.PgError
	if _, err := conn.Exec(ctx, "fail 23505"); !errors.As(err, &pgErr) || pgErr.Code != "23505" {
		t.Fatalf("Exec error = %v; want 23505", err)
	}
	if _, err := conn.Exec(ctx, "set TimeZone Asia/Tokyo"); err != nil {
		t.Fatal(err)
	}
	if got := conn.PgConn().ParameterStatus("TimeZone"); got != "Asia/Tokyo" {
		t.Fatalf("TimeZone after SET = %q", got)
	}
}

func TestPgxLargeResultStreams(t *testing.T) {
	ts := startServer(t, nil)
	conn := ts.pgxConnect(t, "disable")
	rows, err := conn.Query(testCtx(t), "rows 20000")
	if err != nil {
		t.Fatal(err)
	}
	var n, sum int64
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		n, sum = n+1, sum+v
	}
	if rows.Err() != nil || n != 20000 || sum != 20000*20001/2 {
		t.Fatalf("got %d rows summing to %d, err %v", n, sum, rows.Err())
	}
}

func TestPgxBatchPipeline(t *testing.T) {
	ts := startServer(t, nil)
	conn := ts.pgxConnect(t, "disable")
	b := &pgx.Batch{}
	b.Queue("rows 2")
	b.Queue("echo int8 text", int64(5), "five")
	b.Queue("exec")
	br := conn.SendBatch(testCtx(t), b)
	rows, err := br.Query()
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil || !reflect.DeepEqual(got, []int64{1, 2}) {
		t.Fatalf("first query: %v, %v", got, err)
	}
	var n int64
	var s string
	if err := br.QueryRow().Scan(&n, &s); err != nil || n != 5 || s != "five" {
		t.Fatalf("second query: %d %q %v", n, s, err)
	}
	if tag, err := br.Exec(); err != nil || tag.String() != "INSERT 0 1" {
		t.Fatalf("third query: %v %v", tag, err)
	}
	if err := br.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestPgxCancelRequest(t *testing.T) {
	ts := startServer(t, nil)
	conn := ts.pgxConnect(t, "disable")
	started := ts.h.session(0).sleepStarted()
	errc := make(chan error, 1)
	go func() {
		_, err := conn.Exec(context.Background(), "sleep")
		errc <- err
	}()
	<-started
	// A second connection: conn is busy with the Exec.
	if err := conn.PgConn().CancelRequest(testCtx(t)); err != nil {
		t.Fatalf("CancelRequest: %v", err)
	}
	var pgErr *pgconn.PgError
	if err := <-errc; !errors.As(err, &pgErr) || pgErr.Code != "57014" {
		t.Fatalf("canceled Exec = %v; want 57014", err)
	}
}

// TestPgxBinaryRoundTrip sends each type as a binary (where pgx can) Bind
// parameter and reads it back as a binary result column: decode.go and
// encode.go against pgx's own codecs.
func TestPgxBinaryRoundTrip(t *testing.T) {
	uuid := pgtype.UUID{Bytes: [16]byte{0xa0, 0xee, 0xbc, 0x99, 0x9c, 0x0b, 0x4e, 0xf8, 0xbb, 0x6d, 0x6b, 0xb9, 0xbd, 0x38, 0x0a, 0x11}, Valid: true}
	var num pgtype.Numeric
	if err := num.Scan("-123.4500"); err != nil {
		t.Fatal(err)
	}
	ts := time.Date(2024, 1, 2, 3, 4, 5, 123456000, time.UTC)
	tests := []struct {
		typ     string
		in      any // sent, and expected back
		wantArg any // what the Session received
	}{
		{"int2", int16(-7), int64(-7)},
		{"int4", int32(123456), int64(123456)},
		{"int8", int64(1) << 40, int64(1) << 40},
		{"oid", uint32(4000000000), int64(4000000000)},
		{"float4", float32(1.5), float64(1.5)},
		{"float8", 0.1, 0.1},
		{"bool", true, true},
		{"bytea", []byte{0, 1, 0xff}, []byte{0, 1, 0xff}},
		{"text", "héllo", "héllo"},
		{"varchar", "v", "v"},
		{"date", time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)},
		{"timestamp", ts, ts},
		{"timestamptz", ts, ts},
		{"date", pgtype.Date{InfinityModifier: pgtype.Infinity, Valid: true}, pgvalue.PosInfinity},
		{"date", pgtype.Date{InfinityModifier: pgtype.NegativeInfinity, Valid: true}, pgvalue.NegInfinity},
		{"timestamp", pgtype.Timestamp{InfinityModifier: pgtype.NegativeInfinity, Valid: true}, pgvalue.NegInfinity},
		{"timestamptz", pgtype.Timestamptz{InfinityModifier: pgtype.Infinity, Valid: true}, pgvalue.PosInfinity},
		{"numeric", num, "-123.4500"},
		{"uuid", uuid, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
		{"json", `{"a":1}`, `{"a":1}`},
		{"jsonb", `{"a": 1}`, `{"a": 1}`},
	}
	srv := startServer(t, nil)
	conn := srv.pgxConnect(t, "disable")
	ctx := testCtx(t)
	for _, tc := range tests {
		t.Run(tc.typ, func(t *testing.T) {
			out := reflect.New(reflect.TypeOf(tc.in))
			if err := conn.QueryRow(ctx, "echo "+tc.typ, tc.in).Scan(out.Interface()); err != nil {
				t.Fatalf("query: %v", err)
			}
			if args := srv.h.session(0).args(); len(args) != 1 || !same(args[0], tc.wantArg) {
				t.Errorf("session got %#v; want %#v", args, tc.wantArg)
			}
			if got := out.Elem().Interface(); !same(got, tc.in) {
				t.Errorf("read back %#v; want %#v", got, tc.in)
			}
		})
	}
	t.Run("null", func(t *testing.T) {
		var got *int64
		if err := conn.QueryRow(ctx, "echo int8", nil).Scan(&got); err != nil || got != nil {
			t.Fatalf("NULL round trip: %v, %v", got, err)
		}
	})
}

func same(a, b any) bool {
	switch x := a.(type) {
	case time.Time:
		y, ok := b.(time.Time)
		return ok && x.Equal(y)
	case pgtype.Numeric:
		y, ok := b.(pgtype.Numeric)
		xv, _ := x.Value()
		yv, _ := y.Value()
		return ok && xv == yv
	}
	return reflect.DeepEqual(a, b)
}

// TestPgxBinaryFromOtherGoTypes covers row values whose Go type is not the
// column type's natural one: pgx asks binary for all of these columns.
func TestPgxBinaryFromOtherGoTypes(t *testing.T) {
	ts := startServer(t, nil)
	conn := ts.pgxConnect(t, "disable")
	ctx := testCtx(t)
	sess := ts.h.session(0)
	tests := []struct {
		name string
		oid  uint32
		v    any
		want string // the value as pgx reads it back into a string via its text form
	}{
		{"numeric from string", 1700, "12.5000", "12.5000"},
		{"numeric from float64", 1700, 2.5, "2.5"},
		{"numeric from int64", 1700, int64(-3), "-3"},
		{"uuid from string", 2950, "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
		{"bool from int64", 16, int64(1), "true"},
		{"float4 from float64", 700, 0.25, "0.25"},
		{"int4 from int", 23, 12, "12"},
		{"text from int64", 25, int64(9), "9"},
		{"jsonb from string", 3802, `{"k": [1, 2]}`, `{"k": [1, 2]}`},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sess.setValue(tc.oid, tc.v)
			var got any
			// A distinct text per case: pgx caches descriptions by SQL text.
			if err := conn.QueryRow(ctx, fmt.Sprintf("value %d", i)).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if s := fmtValue(got); s != tc.want {
				t.Fatalf("read back %#v (%s); want %s", got, s, tc.want)
			}
		})
	}
	t.Run("value that cannot be binary is an error", func(t *testing.T) {
		sess.setValue(1700, "not a number")
		var got any
		var pgErr *pgconn.PgError
		if err := conn.QueryRow(ctx, "value bad").Scan(&got); !errors.As(err, &pgErr) || pgErr.Code != "22P03" {
			t.Fatalf("err = %v; want 22P03", err)
		}
		if err := conn.Ping(ctx); err != nil {
			t.Fatalf("connection unusable after the error: %v", err)
		}
	})
}

func fmtValue(v any) string {
	switch x := v.(type) {
	case pgtype.Numeric:
		b, _ := x.MarshalJSON()
		return string(b)
	case [16]byte:
		u := pgtype.UUID{Bytes: x, Valid: true}
		s, _ := u.Value()
		return s.(string)
	case map[string]any:
		return fmt.Sprintf(`{"k": %v}`, strings.Join(strings.Fields(fmt.Sprint(x["k"])), ", "))
	case float32:
		return fmt.Sprint(x)
	}
	return fmt.Sprint(v)
}
