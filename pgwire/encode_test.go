package pgwire_test

import (
	"math"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/pgraft/pgraft/pgvalue"
)

// TestTextEncoding checks row values against PostgreSQL 15's text output
// (float8 per src/common/d2s.c: fixed notation for decimal exponents in
// [-4, 15); float4 per f2s.c: [-4, 6)).
func TestTextEncoding(t *testing.T) {
	ist := time.FixedZone("IST", 5*3600+30*60)
	pdt := time.FixedZone("PDT", -7*3600)
	tests := []struct {
		name string
		oid  uint32
		v    any
		want string
	}{
		{"bool true", 16, true, "t"},
		{"bool false", 16, false, "f"},
		{"bool from int64", 16, int64(1), "t"},
		{"bool from int64 zero", 16, int64(0), "f"},
		{"int2", 21, int64(-32768), "-32768"},
		{"int4 from int", 23, 42, "42"},
		{"int8", 20, int64(math.MaxInt64), "9223372036854775807"},
		{"oid from uint32", 26, uint32(4000000000), "4000000000"},
		{"float8 0.1", 701, 0.1, "0.1"},
		{"float8 1e6 stays fixed", 701, 1e6, "1000000"},
		{"float8 100000", 701, 100000.0, "100000"},
		{"float8 1e15 goes exponent", 701, 1e15, "1e+15"},
		{"float8 123456789012345", 701, 123456789012345.0, "123456789012345"},
		{"float8 0.0001", 701, 0.0001, "0.0001"},
		{"float8 1.5e-07", 701, 1.5e-07, "1.5e-07"},
		{"float8 negative zero", 701, math.Copysign(0, -1), "-0"},
		{"float8 NaN", 701, math.NaN(), "NaN"},
		{"float8 +Inf", 701, math.Inf(1), "Infinity"},
		{"float8 -Inf", 701, math.Inf(-1), "-Infinity"},
		{"float8 smallest denormal", 701, 5e-324, "5e-324"},
		{"float8 max", 701, 1.7976931348623157e+308, "1.7976931348623157e+308"},
		{"float8 from int64", 701, int64(7), "7"},
		{"float8 never a halfway point", 701, 4.04615e+20, "4.0461500000000003e+20"},
		{"float4 0.1", 700, float32(0.1), "0.1"},
		{"float4 1e6 goes exponent", 700, 1e6, "1e+06"},
		{"float4 100000", 700, 100000.0, "100000"},
		{"float4 NaN", 700, math.NaN(), "NaN"},
		{"float4 tie to even", 700, float32(0.000244140625), "0.00024414062"},
		{"numeric int64", 1700, int64(-12), "-12"},
		{"numeric float64", 1700, 1.25, "1.25"},
		{"numeric has no negative zero", 1700, math.Copysign(0, -1), "0"},
		{"numeric string", 1700, "3.14159265358979323846", "3.14159265358979323846"},
		{"bytea", 17, []byte{0xde, 0xad, 0x00, 0x0f}, `\xdead000f`},
		{"bytea from string", 17, "AB", `\x4142`},
		{"bytea empty", 17, []byte{}, `\x`},
		{"date", 1082, time.Date(2024, 2, 29, 13, 0, 0, 0, time.UTC), "2024-02-29"},
		{"timestamp whole second", 1114, time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), "2024-01-02 03:04:05"},
		{"timestamp trims zeros", 1114, time.Date(2024, 1, 2, 3, 4, 5, 120000000, time.UTC), "2024-01-02 03:04:05.12"},
		{"timestamp rounds to micros", 1114, time.Date(2024, 1, 2, 3, 4, 5, 999999600, time.UTC), "2024-01-02 03:04:06"},
		{"timestamptz UTC", 1184, time.Date(2024, 1, 2, 3, 4, 5, 123456000, time.UTC), "2024-01-02 03:04:05.123456+00"},
		{"timestamptz negative offset", 1184, time.Date(2024, 1, 2, 3, 4, 5, 0, pdt), "2024-01-02 03:04:05-07"},
		{"timestamptz half-hour offset", 1184, time.Date(2024, 1, 2, 3, 4, 5, 0, ist), "2024-01-02 03:04:05+05:30"},
		{"date infinity", 1082, pgvalue.PosInfinity, "infinity"},
		{"timestamp -infinity", 1114, pgvalue.NegInfinity, "-infinity"},
		{"timestamptz infinity", 1184, pgvalue.PosInfinity, "infinity"},
		{"timetz", 1266, pgvalue.Timetz{Micros: 45296789000, Offset: -(5*3600 + 30*60)}, "12:34:56.789-05:30"},
		{"text", 25, "héllo", "héllo"},
		{"text from int64", 25, int64(5), "5"},
		{"empty text is not NULL", 25, "", ""},
	}
	ts := startServer(t, nil)
	fe, _, _ := ts.connect(t)
	sess := ts.h.session(0)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sess.setValue(tc.oid, tc.v)
			msgs := receiveAfter(t, fe, &pgproto3.Query{String: "value"})
			row, ok := msgs[1].(*pgproto3.DataRow)
			if !ok || len(row.Values) != 1 || row.Values[0] == nil {
				t.Fatalf("got %s; want one non-NULL value", describe(msgs))
			}
			if got := string(row.Values[0]); got != tc.want {
				t.Fatalf("%T %v as OID %d = %q; want %q", tc.v, tc.v, tc.oid, got, tc.want)
			}
		})
	}
	t.Run("nil is NULL", func(t *testing.T) {
		sess.setValue(25, nil)
		msgs := receiveAfter(t, fe, &pgproto3.Query{String: "value"})
		if row, ok := msgs[1].(*pgproto3.DataRow); !ok || row.Values[0] != nil {
			t.Fatalf("got %s; want NULL", describe(msgs))
		}
	})
}

// TestTextParameterDecoding checks what a Session receives for text-format
// Bind parameters, and the SQLSTATE of bad ones.
func TestTextParameterDecoding(t *testing.T) {
	utc := func(y int, mo time.Month, d, h, mi, s, ns int) time.Time {
		return time.Date(y, mo, d, h, mi, s, ns, time.UTC)
	}
	tests := []struct {
		typ, in  string
		want     any
		wantCode string
	}{
		{"int8", " 42 ", int64(42), ""},
		{"int8", "x", nil, "22P02"},
		{"int8", "9223372036854775808", nil, "22003"},
		{"int2", "40000", nil, "22003"},
		{"int4", "-2147483648", int64(-2147483648), ""},
		{"float8", "1.5e-07", 1.5e-07, ""},
		{"float8", "Infinity", math.Inf(1), ""},
		{"float8", "1e400", nil, "22003"},
		{"float8", "0x10", nil, "22P02"},
		{"bool", "TRUE", true, ""},
		{"bool", " yes", true, ""},
		{"bool", "of", false, ""},
		{"bool", "0", false, ""},
		{"bool", "maybe", nil, "22P02"},
		{"bool", "\u00a0true", nil, "22P02"}, // boolin trims ASCII white space only
		{"bytea", `\x00ff`, []byte{0, 0xff}, ""},
		{"bytea", `a\\b\001`, []byte{'a', '\\', 'b', 1}, ""},
		{"bytea", `\xzz`, nil, "22023"},
		{"bytea", `\xz`, nil, "22023"}, // a bad digit, not an odd count
		{"bytea", `bad\`, nil, "22P02"},
		{"date", "2024-01-02", utc(2024, 1, 2, 0, 0, 0, 0), ""},
		{"timestamp", "2024-01-02 03:04:05.123456", utc(2024, 1, 2, 3, 4, 5, 123456000), ""},
		{"timestamp", "2024-01-02 03:04:05+02", utc(2024, 1, 2, 3, 4, 5, 0), ""},
		{"timestamptz", "2024-01-02 03:04:05.123456+00", utc(2024, 1, 2, 3, 4, 5, 123456000), ""},
		{"timestamptz", "2024-01-02T03:04:05Z", utc(2024, 1, 2, 3, 4, 5, 0), ""},
		{"timestamptz", "2024-01-02 05:34:05+05:30", utc(2024, 1, 2, 0, 4, 5, 0), ""},
		{"timestamptz", "2024-01-02", utc(2024, 1, 2, 0, 0, 0, 0), ""},
		{"timestamptz", "yesterday-ish", nil, "22007"},
		{"date", " Infinity", pgvalue.PosInfinity, ""},
		{"timestamp", "-infinity", pgvalue.NegInfinity, ""},
		{"timestamptz", "INFINITY ", pgvalue.PosInfinity, ""},
		{"timestamptz", "+infinity", nil, "22007"}, // PostgreSQL 16's spelling
		{"uuid", "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11", "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11", ""},
		{"numeric", "1.50", "1.50", ""},
		{"unknown", "anything", "anything", ""},
		{"text", "a\xffb", nil, "22021"},
	}
	ts := startServer(t, nil)
	fe, _, _ := ts.connect(t)
	for _, tc := range tests {
		t.Run(tc.typ+" "+tc.in, func(t *testing.T) {
			got := roundTrip(t, fe, &pgproto3.Parse{Query: "echo " + tc.typ},
				&pgproto3.Bind{Parameters: [][]byte{[]byte(tc.in)}}, &pgproto3.Sync{})
			if tc.wantCode != "" {
				if want := "ParseComplete ErrorResponse(" + tc.wantCode + ") ReadyForQuery(I)"; got != want {
					t.Fatalf("got %s; want %s", got, want)
				}
				return
			}
			if args := ts.h.session(0).args(); len(args) != 1 || !same(args[0], tc.want) {
				t.Fatalf("session got %#v; want %#v (%s)", args, tc.want, got)
			}
		})
	}
}
