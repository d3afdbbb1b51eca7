package pgvalue

import (
	"sort"
	"testing"

	"github.com/cockroachdb/apd/v3"

	"github.com/pgraft/pgraft/pgwire/pgerror"
)

func TestParseFormatDecimal(t *testing.T) {
	tests := []struct{ in, out, code string }{
		{"1.50", "1.50", ""},
		{"  -0.000 ", "0.000", ""},
		{"+3", "3", ""},
		{".5", "0.5", ""},
		{"5.", "5", ""},
		{"1e3", "1000", ""},
		{"1.5E-3", "0.0015", ""},
		{"-12.3400e1", "-123.400", ""},
		{"123456789012345678901234567890.123", "123456789012345678901234567890.123", ""},
		{"NaN", "NaN", ""},
		{"nan", "NaN", ""},
		{"-inf", "-Infinity", ""},
		{"Infinity", "Infinity", ""},
		{"1e131071", "", ""}, // fits: checked below by length only
		{"1e131072", "", pgerror.NumericValueOutOfRange},
		{"1e100000000", "", pgerror.NumericValueOutOfRange},
		{"1e-16384", "", pgerror.NumericValueOutOfRange},
		{"1e99999999999999999999", "", pgerror.NumericValueOutOfRange},
		{"abc", "", pgerror.InvalidTextRepresentation},
		{"", "", pgerror.InvalidTextRepresentation},
		{"1.2.3", "", pgerror.InvalidTextRepresentation},
		{"1e", "", pgerror.InvalidTextRepresentation},
		{"-NaN", "", pgerror.InvalidTextRepresentation},
		{"0x10", "", pgerror.InvalidTextRepresentation},
		{".", "", pgerror.InvalidTextRepresentation},
	}
	for _, tc := range tests {
		d, err := ParseDecimal(tc.in)
		if tc.code != "" {
			if e := pgerror.As(err); e == nil || e.Code != tc.code {
				t.Errorf("ParseDecimal(%q) = %v, %v; want SQLSTATE %s", tc.in, d, err, tc.code)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseDecimal(%q): %v", tc.in, err)
			continue
		}
		if got := FormatDecimal(d); tc.out != "" && got != tc.out {
			t.Errorf("FormatDecimal(ParseDecimal(%q)) = %q, want %q", tc.in, got, tc.out)
		}
	}
}

func TestCompareNumericText(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"1.0", "1.00", 0},
		{"1", "1.000", 0},
		{"0", "-0.00", 0},
		{"1.10", "1.1", 0},
		{"1.09", "1.1", -1},
		{"10", "9.99", 1},
		{"-10", "-9.99", -1},
		{"-1", "0.5", -1},
		{"100", "1e2", 0},
		{"NaN", "Infinity", 1},
		{"Infinity", "99999999999999999999", 1},
		{"-Infinity", "-99999999999999999999", -1},
		{"NaN", "NaN", 0},
		{"abc", "NaN", 1},
		{"abc", "abd", -1},
		{"0.001", "0.0009", 1},
	}
	for _, tc := range tests {
		if got := CompareNumericText(tc.a, tc.b); got != tc.want {
			t.Errorf("CompareNumericText(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := CompareNumericText(tc.b, tc.a); got != -tc.want {
			t.Errorf("CompareNumericText(%q, %q) = %d, want %d", tc.b, tc.a, got, -tc.want)
		}
	}
	// A total order: sorting by it agrees with apd's order of the values.
	vals := []string{"3", "-1.5", "0", "1e3", "0.001", "-0.0010", "999.999", "1000.0", "-Infinity", "NaN", "Infinity", "2.50", "2.5"}
	sort.SliceStable(vals, func(i, j int) bool { return CompareNumericText(vals[i], vals[j]) < 0 })
	for i := 1; i < len(vals); i++ {
		if CompareNumericText(vals[i-1], vals[i]) > 0 {
			t.Fatalf("not sorted: %v", vals)
		}
	}
}

func TestTypmodDecimal(t *testing.T) {
	mod := func(p, s int64) int64 { return (p<<16 | s) + 4 }
	tests := []struct {
		in   string
		mod  int64
		out  string
		code string
	}{
		{"1.005", mod(10, 2), "1.01", ""},
		{"-1.005", mod(10, 2), "-1.01", ""},
		{"4.695", mod(10, 2), "4.70", ""},
		{"190.1", mod(10, 2), "190.10", ""},
		{"12.345", mod(5, 2), "12.35", ""},
		{"999.995", mod(5, 2), "", pgerror.NumericValueOutOfRange},
		{"0.5", mod(1, 0), "1", ""},
		{"NaN", mod(5, 2), "NaN", ""},
		{"Infinity", mod(5, 2), "", pgerror.NumericValueOutOfRange},
		{"1.5", -1, "1.5", ""},
	}
	for _, tc := range tests {
		d, err := ParseDecimal(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		r, err := TypmodDecimal(d, tc.mod)
		if tc.code != "" {
			if e := pgerror.As(err); e == nil || e.Code != tc.code {
				t.Errorf("TypmodDecimal(%s, %d) = %v, %v; want SQLSTATE %s", tc.in, tc.mod, r, err, tc.code)
			}
			continue
		}
		if err != nil || FormatDecimal(r) != tc.out {
			t.Errorf("TypmodDecimal(%s, %d) = %v, %v; want %s", tc.in, tc.mod, r, err, tc.out)
		}
	}
}

func TestDivScale(t *testing.T) {
	// select_div_scale's answers, from PostgreSQL 15 (the digits after
	// the point of x / y).
	tests := []struct {
		x, y string
		want int32
	}{
		{"1", "3", 20},
		{"10", "4.0", 16},
		{"10.0", "3", 16},
		{"2.0", "3e10", 28},
		{"1000000", "7", 12},
		{"0.0001", "3", 24},
		{"100000000000000000000", "3.0", 1},
		{"99999.99", "0.01", 12},
		{"22", "7", 16},
	}
	for _, tc := range tests {
		x, _, _ := apd.NewFromString(tc.x)
		y, _, _ := apd.NewFromString(tc.y)
		x, _ = Normalize(x)
		y, _ = Normalize(y)
		if got := DivScale(x, y); got != tc.want {
			t.Errorf("DivScale(%s, %s) = %d, want %d", tc.x, tc.y, got, tc.want)
		}
	}
}
