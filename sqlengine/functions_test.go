package sqlengine

import (
	"strings"
	"testing"
)

// Each case is one SQL expression and PostgreSQL 15's answer for the
// PostgreSQL original (in SQLite's rendering: booleans 1/0, NULL as "NULL").
func TestFunctionsValues(t *testing.T) {
	db, _ := openCatalogDB(t, nil)
	tests := []struct{ name, expr, want string }{
		{"regex", `pg_regex('abc', '^a.c$', '')`, "1"},
		{"regex case-insensitive", `pg_regex('ABC', '^abc$', 'i')`, "1"},
		{"regex case-sensitive", `pg_regex('ABC', '^abc$', '')`, "0"},
		{"regex dot matches newline", `pg_regex('a' || char(10) || 'b', 'a.b', '')`, "1"},
		{"regex word boundary", `pg_regex('foo bar', '\ybar\y', '')`, "1"},
		{"regex NULL", `pg_regex(NULL, 'a', '')`, "NULL"},
		{"greatest ignores NULL", `pg_greatest(1, NULL, 3, 2)`, "3"},
		{"least of text", `pg_least('b', 'a', NULL)`, "a"},
		{"greatest all NULL", `pg_greatest(NULL, NULL)`, "NULL"},
		{"concat skips NULL", `pg_concat('a', NULL, 1)`, "a1"},
		{"concat_ws", `pg_concat_ws(',', 'a', NULL, 'b')`, "a,b"},
		{"left negative", `pg_left('abcde', -2)`, "abc"},
		{"right negative", `pg_right('abcde', -2)`, "cde"},
		{"repeat", `pg_repeat('ab', 3)`, "ababab"},
		{"lpad fill", `pg_lpad('hi', 5, 'xy')`, "xyxhi"},
		{"rpad truncates", `pg_rpad('hi', 1)`, "h"},
		{"split_part negative", `pg_split_part('a,b,c', ',', -1)`, "c"},
		{"split_part past end", `pg_split_part('a,b,c', ',', 5)`, ""},
		{"initcap", `pg_initcap('hello wORLD-foo bar1x')`, "Hello World-Foo Bar1x"},
		{"md5", `pg_md5('abc')`, "900150983cd24fb0d6963f7d28e17f72"},
		{"reverse", `pg_reverse('abé')`, "éba"},
		{"starts_with", `pg_starts_with('alphabet', 'alph')`, "1"},
		{"to_hex negative int4", `pg_to_hex(-1)`, "ffffffff"},
		{"to_hex", `pg_to_hex(255)`, "ff"},
		{"chr", `pg_chr(233)`, "é"},
		{"ascii", `pg_ascii('é')`, "233"},
		{"quote_ident", `quote_ident('Foo')`, `"Foo"`},
		{"quote_ident plain", `quote_ident('foo')`, "foo"},
		{"quote_literal", `quote_literal('it''s')`, "'it''s'"},
		{"quote_literal backslash", `quote_literal('a\b')`, `E'a\\b'`},
		{"ceil", `pg_ceil(1.2)`, "2"},
		{"floor", `pg_floor(-1.2)`, "-2"},
		{"power", `pg_power(2, 10)`, "1024"},
		{"sqrt", `pg_sqrt(2)`, "1.4142135623730951"},
		{"ln", `pg_ln(10)`, "2.302585092994046"},
		{"log10", `pg_log(100)`, "2"},
		{"mod negative", `pg_mod(-7, 3)`, "-1"},
		{"mod numeric", `pg_mod(7.5, 2)`, "1.5"},
		{"sign", `pg_sign(-3.2)`, "-1"},
		{"trunc places", `pg_trunc(1.789, 2)`, "1.78"},
		{"trunc", `pg_trunc(-1.7)`, "-1"},
		{"div", `pg_div(-7, 2)`, "-3"},
		{"pi", `pg_pi()`, "3.141592653589793"},
		{"extract dow", `pg_extract('dow', '2020-01-05 10:11:12.5')`, "0"},
		{"extract doy", `pg_extract('doy', '2020-03-01')`, "61"},
		{"extract week", `pg_extract('week', '2021-01-01')`, "53"},
		{"extract isoyear", `pg_extract('isoyear', '2021-01-01')`, "2020"},
		{"timestamp plus an interval of more hours than a Duration holds", `pg_dt_arith('+', '2020-01-01 00:00:00', 'timestamp', '1000000 hours', 'interval')`, "2134-01-29 16:00:00"},
		{"extract epoch", `printf('%.1f', pg_extract('epoch', '2020-01-01 00:00:01.5'))`, "1577836801.5"},
		{"extract century", `pg_extract('century', '2000-06-01')`, "20"},
		{"extract millennium", `pg_extract('millennium', '2001-01-01')`, "3"},
		{"extract julian", `pg_extract('julian', '2000-01-01')`, "2451545"},
		{"extract second", `pg_extract('second', '2020-01-01 10:11:12.5')`, "12.5"},
		{"extract milliseconds", `pg_extract('milliseconds', '2020-01-01 10:11:12.5')`, "12500"},
		{"extract quarter", `pg_extract('quarter', '2020-08-01')`, "3"},
		{"extract decade", `pg_extract('decade', '2019-01-01')`, "201"},
		{"extract isodow", `pg_extract('isodow', '2020-01-05')`, "7"},
		{"extract plural unit", `pg_extract('years', '2020-01-05')`, "2020"},
		{"extract from interval", `pg_extract('hour', '1 day 02:00:00')`, "2"},
		{"date_trunc week", `pg_date_trunc('week', '2020-01-08 10:00:00')`, "2020-01-06 00:00:00"},
		{"date_trunc quarter", `pg_date_trunc('quarter', '2020-08-08 10:00:00')`, "2020-07-01 00:00:00"},
		{"date_trunc century", `pg_date_trunc('century', '2020-08-08 00:00:00')`, "2001-01-01 00:00:00"},
		{"date_trunc hour", `pg_date_trunc('hour', '2020-08-08 10:11:12')`, "2020-08-08 10:00:00"},
		{"date_trunc keeps date", `pg_date_trunc('month', '2020-08-08')`, "2020-08-01"},
		{"version", `substr(pg_version(), 1, 14)`, "PostgreSQL 15."},
		{"array quoting", `pg_array('a b', '', 'NULL', 'x"y', NULL, 3)`, `{"a b","","NULL","x\"y",NULL,3}`},
		{"empty array", `pg_array()`, "{}"},
		{"array_agg", `(SELECT pg_array_agg(x) FROM (SELECT 1 AS x UNION ALL SELECT 2))`, "{1,2}"},
		{"array_agg of nothing", `(SELECT pg_array_agg(x) FROM (SELECT 1 AS x WHERE 0))`, "NULL"},
		{"any true", `pg_array_contains('{1,NULL}', 1)`, "1"},
		{"any unknown", `pg_array_contains('{1,NULL}', 2)`, "NULL"},
		{"any false", `pg_array_contains('{a,b}', 'c')`, "0"},
		{"array get", `pg_array_get('{10,20,30}', 2)`, "20"},
		{"array get out of range", `pg_array_get('{10,20,30}', 4)`, "NULL"},
		{"array get quoted", `pg_array_get('{"a,b",c}', 1)`, "a,b"},
		{"array_to_string skips NULL", `array_to_string('{a,NULL,c}', ',')`, "a,c"},
		{"array_to_string null text", `array_to_string('{a,NULL,c}', ',', '*')`, "a,*,c"},
		{"array_upper", `array_upper('{1,2,3}', 1)`, "3"},
		{"array_length empty", `array_length('{}', 1)`, "NULL"},
		{"to_json text", `pg_to_json('a"b')`, `"a\"b"`},
		{"to_json number", `pg_to_json(1.5)`, "1.5"},
		{"format_type varchar", `format_type(1043, 24)`, "character varying(20)"},
		{"format_type varchar no typmod", `format_type(1043, -1)`, "character varying"},
		{"format_type numeric", `format_type(1700, 655366)`, "numeric(10,2)"},
		{"format_type bpchar", `format_type(1042, 7)`, "character(3)"},
		{"format_type bpchar -1", `format_type(1042, -1)`, "bpchar"},
		{"format_type bpchar NULL", `format_type(1042, NULL)`, "character"},
		{"format_type timestamptz(3)", `format_type(1184, 3)`, "timestamp(3) with time zone"},
		{"format_type timestamp", `format_type(1114, NULL)`, "timestamp without time zone"},
		{"format_type array", `format_type(1007, -1)`, "integer[]"},
		{"format_type char", `format_type(18, -1)`, `"char"`},
		{"format_type unknown oid", `format_type(99999, -1)`, "???"},
		{"format_type zero", `format_type(0, -1)`, "-"},
		{"userbyid", `pg_get_userbyid(10)`, "postgres"},
		{"encoding", `pg_encoding_to_char(6)`, "UTF8"},
		{"size pretty", `pg_size_pretty(123456789)`, "118 MB"},
		{"size pretty kB", `pg_size_pretty(10240)`, "10 kB"},
		{"size pretty bytes", `pg_size_pretty(10239)`, "10239 bytes"},
		{"privileges", `has_table_privilege('postgres', 'kv', 'SELECT')`, "1"},
		{"descriptions", `obj_description(16384, 'pg_class')`, "NULL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rows := queryRows(t, db, "SELECT "+tc.expr)
			if got := rows[0][0]; got != tc.want {
				t.Fatalf("SELECT %s = %q, want %q", tc.expr, got, tc.want)
			}
		})
	}
}

func TestFunctionsErrors(t *testing.T) {
	db, _ := openCatalogDB(t, nil)
	tests := []struct{ name, expr, code, msg string }{
		{"sqrt of negative", `pg_sqrt(-1)`, "2201F", "cannot take square root of a negative number"},
		{"ln of zero", `pg_ln(0)`, "2201E", "cannot take logarithm of zero"},
		{"ln of negative", `pg_ln(-1)`, "2201E", "cannot take logarithm of a negative number"},
		{"mod by zero", `pg_mod(1, 0)`, "22012", "division by zero"},
		{"div by zero", `pg_div(1, 0)`, "22012", "division by zero"},
		{"zero to negative power", `pg_power(0, -1)`, "2201F", "zero raised to a negative power is undefined"},
		{"negative to fractional power", `pg_power(-8, 0.5)`, "2201F", "a negative number raised to a non-integer power yields a complex result"},
		{"exp overflow", `pg_exp(1000)`, "22003", "value out of range: overflow"},
		{"split_part zero", `pg_split_part('a', ',', 0)`, "22023", "field position must not be zero"},
		{"chr zero", `pg_chr(0)`, "54000", "null character not permitted"},
		{"repeat too long", `pg_repeat('abc', 100000000)`, "54000", "requested length too large"},
		{"repeat length overflows int64", `pg_repeat('ab', 4611686018427387904)`, "54000", "requested length too large"},
		{"lpad multibyte fill past the limit", `pg_lpad('', 40000000, 'é')`, "54000", "requested length too large"},
		{"rpad huge count", `pg_rpad('a', 9223372036854775807)`, "54000", "requested length too large"},
		{"concat past the limit", `pg_concat(pg_repeat('x', 40000000), pg_repeat('y', 40000000))`, "54000", "requested length too large"},
		{"concat_ws separators past the limit", `pg_concat_ws(pg_repeat('x', 40000000), 'a', 'b', 'c')`, "54000", "requested length too large"},
		{"array_to_string separators past the limit", `array_to_string('{a,b,c}', pg_repeat('x', 40000000))`, "54000", "requested length too large"},
		{"timestamp plus interval past the range", `pg_dt_arith('+', '2020-01-01 00:00:00', 'timestamp', '2147483647 days', 'interval')`, "22008", "timestamp out of range"},
		{"date plus days past the range", `pg_dt_arith('+', '2020-01-01', 'date', 2147483647, 'int4')`, "22008", "date out of range"},
		{"interval times huge", `pg_dt_arith('*', '1 day', 'interval', 1e300, 'float8')`, "22008", "interval out of range"},
		{"interval sum past int32 days", `pg_dt_arith('+', '2000000000 days', 'interval', '2000000000 days', 'interval')`, "22008", "interval out of range"},
		{"interval cast past int32 months", `pg_cast('200000000 years', 'text', 'interval')`, "22008", "interval out of range"},
		{"char(n) padding past the limit", `pg_cast('a', 'text', 'bpchar', 9223372036854775807)`, "54000", "requested length too large"},
		{"bad regex", `pg_regex('a', '(', '')`, "2201B", ""},
		{"bad extract unit", `pg_extract('fortnight', '2020-01-01')`, "22023", ""},
		{"wrong arity", `pg_left('a')`, "42883", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := db.Exec("SELECT " + tc.expr)
			if err == nil {
				t.Fatal("no error")
			}
			code, msg, ok := splitFuncError(err.Error())
			if !ok || code != tc.code || (tc.msg != "" && msg != tc.msg) {
				t.Fatalf("error %q, want %s %q", err, tc.code, tc.msg)
			}
		})
	}
}

func TestFunctionsRegexCacheIsBounded(t *testing.T) {
	c := newRegexCache(4)
	for i := 0; i < 10; i++ {
		if _, err := c.get(strings.Repeat("a", i+1), ""); err != nil {
			t.Fatal(err)
		}
	}
	if c.order.Len() != 4 || len(c.byKey) != 4 {
		t.Fatalf("cache holds %d/%d entries, want 4", c.order.Len(), len(c.byKey))
	}
	if _, ok := c.byKey["\x00"+strings.Repeat("a", 10)]; !ok {
		t.Fatal("most recent pattern evicted")
	}
}

func TestFunctionsCatalogDefsNeedSnapshot(t *testing.T) {
	db, state := openCatalogDB(t, testSchemaDDL)
	pk := queryRows(t, db, `SELECT oid FROM pg_constraint WHERE conname = 'kv_pkey'`)[0][0]
	if got := queryRows(t, db, `SELECT pg_get_constraintdef(?)`, pk)[0][0]; got != "PRIMARY KEY (id)" {
		t.Fatalf("pg_get_constraintdef = %q", got)
	}
	view := queryRows(t, db, `SELECT oid FROM pg_class WHERE relname = 'kv_names'`)[0][0]
	if got := queryRows(t, db, `SELECT pg_get_viewdef(?, 1)`, view)[0][0]; got != ` SELECT "k" FROM kv;` {
		t.Fatalf("pg_get_viewdef = %q", got)
	}
	state.Set(nil)
	if got := queryRows(t, db, `SELECT pg_get_constraintdef(?)`, pk)[0][0]; got != "NULL" {
		t.Fatalf("without a snapshot pg_get_constraintdef = %q, want NULL", got)
	}
}
