package pgvalue

import (
	"math/big"
	"testing"

	"github.com/pgraft/pgraft/pgwire/pgerror"
)

func TestNumericFits(t *testing.T) {
	tests := []struct {
		s    string
		want bool
	}{
		{"0", true},
		{" -12.5 ", true},
		{"123456789012345", true},
		{"0.000123456789012345", true},
		{"-9223372036854775808", true},
		{"9223372036854775808", false},
		{"100000000000000000000000", true},
		{"1.000000000000001", true},   // 16 digits, but exactly the shortest decimal of a float64
		{"1.0000000000000001", false}, // no float64 prints as this
		{"1e400", false},
		{"NaN", true},
		{"abc", true},
	}
	for _, tc := range tests {
		if got := NumericFits(tc.s); got != tc.want {
			t.Errorf("NumericFits(%q) = %v, want %v", tc.s, got, tc.want)
		}
	}
}

func TestNumericValue(t *testing.T) {
	tests := []struct {
		in   string
		want any
		code string
	}{
		{"42", int64(42), ""},
		{"1.5", 1.5, ""},
		{"1e20", 1e20, ""},
		{"0.30000000000000004", 0.30000000000000004, ""},
		{"1.0000000000000001", nil, pgerror.FeatureNotSupported},
	}
	for _, tc := range tests {
		r, ok := ParseNumeric(tc.in)
		if !ok {
			t.Fatalf("ParseNumeric(%q) failed", tc.in)
		}
		got, err := NumericValue(r)
		if pgerror.Code(err) != tc.code && (err != nil || tc.code != "") || err == nil && got != tc.want {
			t.Errorf("NumericValue(%s) = %v, %v; want %v, %s", tc.in, got, err, tc.want, tc.code)
		}
	}
}

// TestNumericTypmod: numeric(5,2) as PostgreSQL 15 applies it.
func TestNumericTypmod(t *testing.T) {
	typmod := int64(5<<16|2) + 4
	for in, want := range map[string]string{"1.005": "101/100", "-1.005": "-101/100", "999.994": "99999/100"} {
		r, _ := new(big.Rat).SetString(in)
		got, err := NumericTypmod(r, typmod)
		if err != nil || got.RatString() != want {
			t.Errorf("NumericTypmod(%s) = %v, %v; want %s", in, got, err, want)
		}
	}
	r, _ := new(big.Rat).SetString("999.995")
	if _, err := NumericTypmod(r, typmod); pgerror.Code(err) != pgerror.NumericValueOutOfRange {
		t.Errorf("999.995 as numeric(5,2): %v, want 22003", err)
	}
}
