package sqlengine

import (
	"bytes"
	"math"
	"strings"
	"testing"
)

// errCode returns the SQLSTATE funcError put into err, or "" when none.
func errCode(err error) string {
	if err == nil {
		return ""
	}
	code, _, ok := splitFuncError(err.Error())
	if !ok {
		return "?"
	}
	return code
}

// Expected values are PostgreSQL 15's answers (checked on 15.18), in
// pgraft's storage form (translate/types.go): bool 1/0, timestamps as UTC text.
func TestCastValues(t *testing.T) {
	tests := []struct {
		name     string
		x        any
		src, dst string
		mod      int64
		want     any
	}{
		{"text to int4 trims", " 12 ", "", "int4", -1, int64(12)},
		{"numeric to int rounds half away", 2.5, "numeric", "int4", -1, int64(3)},
		{"negative numeric rounds away", -2.5, "", "int4", -1, int64(-3)},
		{"float8 to int rounds half even", 2.5, "float8", "int4", -1, int64(2)},
		{"float8 3.5 to int", 3.5, "float8", "int4", -1, int64(4)},
		{"1.5 to int", 1.5, "", "int8", -1, int64(2)},
		{"text to float8", "1.5e3", "", "float8", -1, 1500.0},
		{"float4 rounds to single", "123456.7", "", "float4", -1, float64(float32(123456.7))},
		{"infinity", "-Infinity", "", "float8", -1, math.Inf(-1)},
		{"NaN is text (SQLite has no NaN)", "nan", "", "float8", -1, "NaN"},
		{"numeric typmod rounds", 12.345, "", "numeric", (4<<16 | 2) + 4, 12.35},
		{"numeric integral", "42.000", "", "numeric", -1, int64(42)},
		{"numeric 15 digits", "1234567890.12345", "", "numeric", -1, 1234567890.12345},
		{"numeric typmod rounds to 15 digits", "1234567890.123456789", "", "numeric", (20<<16 | 5) + 4, 1234567890.12346},
		{"numeric big integer, few digits", "1e20", "", "numeric", -1, 1e20},
		{"numeric int64 max", "9223372036854775807", "", "numeric", -1, int64(math.MaxInt64)},
		{"float8 to numeric keeps 15 digits", 0.1 + 0.2, "float8", "numeric", -1, 0.3},
		{"float4 to numeric keeps 6 digits", float64(float32(0.1)), "float4", "numeric", -1, 0.1},
		{"bytea empty hex", `\x`, "", "bytea", -1, []byte{}},
		{"bool prefixes", "ye", "", "bool", -1, int64(1)},
		{"bool of", "of", "", "bool", -1, int64(0)},
		{"bool trims and folds", " TRUE ", "", "bool", -1, int64(1)},
		{"int to bool", int64(5), "int4", "bool", -1, int64(1)},
		{"bool to text", int64(1), "bool", "text", -1, "true"},
		{"int to text", int64(1), "int4", "text", -1, "1"},
		{"float to text", 1e15, "float8", "text", -1, "1e+15"},
		{"small float to text", 0.00001, "float8", "text", -1, "1e-05"},
		{"float halfway point to text", 4.04615e+20, "float8", "text", -1, "4.0461500000000003e+20"},
		{"numeric to text never has an exponent", 1e20, "numeric", "text", -1, "100000000000000000000"},
		{"small numeric to text", 0.00001, "numeric", "text", -1, "0.00001"},
		{"numeric negative zero to text", math.Copysign(0, -1), "numeric", "text", -1, "0"},
		{"float4 to text prints float4 digits", float64(float32(0.1)), "float4", "text", -1, "0.1"},
		{"varchar(n) truncates", "abcdef", "", "varchar", 3 + 4, "abc"},
		{"bpchar(n) pads", "ab", "", "bpchar", 4 + 4, "ab  "},
		{"bytea hex", `\x0aff`, "", "bytea", -1, []byte{0x0a, 0xff}},
		{"bytea escape", `a\\b\001`, "", "bytea", -1, []byte{'a', '\\', 'b', 1}},
		{"bytea to text", []byte{0x0a, 0xff}, "bytea", "text", -1, `\x0aff`},
		{"date", "2020-1-2", "", "date", -1, "2020-01-02"},
		{"date from timestamp text", "2020-01-02 03:04:05", "", "date", -1, "2020-01-02"},
		{"date mdy", "01/02/2020", "", "date", -1, "2020-01-02"},
		{"timestamp", "2020-01-02T03:04:05.500", "", "timestamp", -1, "2020-01-02 03:04:05.5"},
		{"timestamp ignores zone", "2020-01-02 03:04:05+02", "", "timestamp", -1, "2020-01-02 03:04:05"},
		{"timestamptz to UTC", "2020-01-02 03:04:05.5+02", "", "timestamptz", -1, "2020-01-02 01:04:05.5"},
		{"timestamptz Z", "2020-01-02 03:04:05Z", "", "timestamptz", -1, "2020-01-02 03:04:05"},
		{"timestamp precision", "2020-01-02 03:04:05.123456", "", "timestamp", 2, "2020-01-02 03:04:05.12"},
		{"epoch", "epoch", "", "timestamptz", -1, "1970-01-01 00:00:00"},
		{"date only to timestamp", "2020-01-02", "", "timestamp", -1, "2020-01-02 00:00:00"},
		{"uuid braces and case", "{A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11}", "", "uuid", -1, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
		{"uuid no dashes", "a0eebc999c0b4ef8bb6d6bb9bd380a11", "", "uuid", -1, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
		{"uuid dashes every four", "a0eebc99-9c0b4ef8-bb6d6bb9-bd380a11", "", "uuid", -1, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
		{"json kept verbatim", `{"b":1,  "a":2}`, "", "json", -1, `{"b":1,  "a":2}`},
		{"jsonb normalized", `{"b":1, "a": [1.50, 1e2, 1.0e1, -0], "aa":null, "b":"x/\u00e9\n"}`, "", "jsonb", -1,
			`{"a": [1.50, 100, 10, 0], "b": "x/é\n", "aa": null}`},
		{"jsonb scalar", ` "x" `, "", "jsonb", -1, `"x"`},
		{"oid", "16384", "", "oid", -1, int64(16384)},
		{"interval units", "1 day 2 hours", "", "interval", -1, "1 day 02:00:00"},
		{"interval plural and clock", "3 years 14 mons 00:00:01.5", "", "interval", -1, "4 years 2 mons 00:00:01.5"},
		{"interval ago", "2 days ago", "", "interval", -1, "-2 days"},
		{"interval iso", "P1DT2H", "", "interval", -1, "1 day 02:00:00"},
		{"NULL stays NULL", nil, "", "int4", -1, nil},
		{"unknown type passes through", "x", "", "regnamespace", -1, "x"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := pgCast(tc.x, tc.src, tc.dst, tc.mod)
			if err != nil {
				t.Fatalf("pgCast(%v, %q, %q, %d): %v", tc.x, tc.src, tc.dst, tc.mod, err)
			}
			if gb, ok := got.([]byte); ok {
				if !bytes.Equal(gb, tc.want.([]byte)) {
					t.Fatalf("got %x, want %x", gb, tc.want)
				}
				return
			}
			if got != tc.want {
				t.Fatalf("pgCast(%v → %s) = %#v, want %#v", tc.x, tc.dst, got, tc.want)
			}
		})
	}
}

func TestCastErrors(t *testing.T) {
	tests := []struct {
		name     string
		x        any
		src, dst string
		mod      int64
		code     string
		msg      string
	}{
		{"integer syntax", "abc", "", "int4", -1, "22P02", `invalid input syntax for type integer: "abc"`},
		{"bigint syntax", "x", "", "int8", -1, "22P02", `invalid input syntax for type bigint: "x"`},
		{"decimal text is not an integer", "1.5", "", "int4", -1, "22P02", `invalid input syntax for type integer: "1.5"`},
		{"text out of range", "70000", "", "int2", -1, "22003", `value "70000" is out of range for type smallint`},
		{"int out of range", int64(99999999999), "int8", "int4", -1, "22003", "integer out of range"},
		{"float out of range", 1e19, "float8", "int8", -1, "22003", "bigint out of range"},
		{"boolean syntax", "o", "", "bool", -1, "22P02", `invalid input syntax for type boolean: "o"`},
		{"boolean syntax quotes the input as it is", `x"y`, "", "bool", -1, "22P02", `invalid input syntax for type boolean: "x"y"`},
		{"boolean trims ASCII white space only", "\u00a0true", "", "bool", -1, "22P02", "invalid input syntax for type boolean: \"\u00a0true\""},
		{"float syntax", "abc", "", "float8", -1, "22P02", `invalid input syntax for type double precision: "abc"`},
		{"real overflow", "1e40", "", "float4", -1, "22003", `"1e40" is out of range for type real`},
		{"numeric syntax", "abc", "", "numeric", -1, "22P02", `invalid input syntax for type numeric: "abc"`},
		{"numeric overflow", 123.4, "", "numeric", (4<<16 | 2) + 4, "22003", "numeric field overflow"},
		{"numeric 21 digits", "1234567890.12345678901", "", "numeric", -1, "0A000",
			"numeric values with more than 15 significant digits are not supported by pgraft"},
		{"numeric beyond int64", "9223372036854775808", "", "numeric", -1, "0A000", ""},
		{"numeric 20 digits after typmod", "123456789012345678.567", "", "numeric", (30<<16 | 2) + 4, "0A000", ""},
		{"numeric tiny", "1e-400", "", "numeric", -1, "0A000", ""},
		{"numeric huge", "1e400", "", "numeric", -1, "0A000", ""},
		{"bytea bad hex", `\xz`, "", "bytea", -1, "22023", `invalid hexadecimal digit: "z"`},
		{"bytea odd hex", `\x1`, "", "bytea", -1, "22023", `invalid hexadecimal data: odd number of digits`},
		{"timestamp syntax", "x", "", "timestamp", -1, "22007", `invalid input syntax for type timestamp: "x"`},
		{"date syntax", "x", "", "date", -1, "22007", `invalid input syntax for type date: "x"`},
		{"timestamptz syntax", "2020-01-01 x", "", "timestamptz", -1, "22007", `invalid input syntax for type timestamp with time zone: "2020-01-01 x"`},
		{"month out of range", "2020-13-01", "", "date", -1, "22008", `date/time field value out of range: "2020-13-01"`},
		{"hour out of range", "2020-01-01 25:00", "", "timestamp", -1, "22008", `date/time field value out of range: "2020-01-01 25:00"`},
		{"now is not deterministic", "now", "", "timestamptz", -1, "0A000", ""},
		{"uuid syntax", "x", "", "uuid", -1, "22P02", `invalid input syntax for type uuid: "x"`},
		{"json syntax", "{", "", "json", -1, "22P02", "invalid input syntax for type json"},
		{"jsonb syntax", "x", "", "jsonb", -1, "22P02", "invalid input syntax for type json"},
		{"interval syntax", "forever", "", "interval", -1, "22007", `invalid input syntax for type interval: "forever"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := pgCast(tc.x, tc.src, tc.dst, tc.mod)
			if errCode(err) != tc.code {
				t.Fatalf("pgCast(%v → %s) error %v, want SQLSTATE %s", tc.x, tc.dst, err, tc.code)
			}
			if _, msg, _ := splitFuncError(err.Error()); tc.msg != "" && msg != tc.msg {
				t.Fatalf("message %q, want %q", msg, tc.msg)
			}
		})
	}
}

func TestCastThroughSQL(t *testing.T) {
	db, _ := openCatalogDB(t, nil)
	got := rowsText(queryRows(t, db, `SELECT pg_cast('12', '', 'int4', -1), pg_cast(NULL, '', 'int4', -1), typeof(pg_cast('1.5', '', 'float8', -1))`))
	if got != "12|NULL|real\n" {
		t.Fatalf("got %q", got)
	}
	_, err := db.Exec(`SELECT pg_cast('abc', '', 'int4', -1)`)
	if err == nil || !strings.Contains(err.Error(), `pgraft:22P02:invalid input syntax for type integer: "abc"`) {
		t.Fatalf("error %v does not carry the SQLSTATE", err)
	}
}

// go-sqlite3 turns a zero-length []byte result into NULL; the CAST … AS
// BLOB that translation wraps around the call (byteaResultSQL in
// sqlengine/translate) must give back an empty BLOB, and leave others alone.
func TestCastEmptyByteaThroughSQL(t *testing.T) {
	db, _ := openCatalogDB(t, nil)
	q := `SELECT typeof(x), length(x), hex(x) FROM (SELECT CAST(pg_cast(?, '', 'bytea', -1) AS BLOB) AS x)`
	tests := []struct {
		in   any
		want string
	}{
		{`\x`, "blob|0|\n"},
		{`\x00ff`, "blob|2|00FF\n"},
		{"", "blob|0|\n"},
		{[]byte{}, "blob|0|\n"},
		{[]byte("ab"), "blob|2|6162\n"},
		{nil, "null|NULL|\n"},
	}
	for _, tc := range tests {
		if got := rowsText(queryRows(t, db, q, tc.in)); got != tc.want {
			t.Errorf("cast %#v: got %q, want %q", tc.in, got, tc.want)
		}
	}
	// Without the wrapper the empty value is empty text, never NULL.
	if got := rowsText(queryRows(t, db, `SELECT typeof(pg_cast('\x', '', 'bytea', -1))`)); got != "text\n" {
		t.Errorf("bare pg_cast of '\\x': %q", got)
	}
}
