package pgvalue

import (
	"math"
	"math/big"
	"math/bits"
	"strconv"
)

// AppendFloat8 appends f as PostgreSQL 15's float8out prints it with the
// default extra_float_digits (1): the shortest decimal that reads back as f
// (src/common/d2s.c), in fixed notation when its decimal exponent is in
// [-4, 15), else as d.ddde±XX with at least two exponent digits; NaN,
// Infinity and -Infinity by name, and negative zero as "-0".
//
// PostgreSQL's shortest (Ryu) differs from Go's strconv in two rare cases
// (see shortestDigits): it never prints a decimal lying exactly halfway
// between f and a neighbouring float (d2s.c is built without
// STRICTLY_SHORTEST), so 4.04615e+20 is 4.0461500000000003e+20; and it
// breaks a tie between two equally close shortest decimals to the even one.
// Go's shortest 'g' differs more: it switches to the exponent form at 1e+06
// already.
func AppendFloat8(b []byte, f float64) []byte {
	return appendShortest(b, f, 64, 15)
}

// FormatFloat8 is AppendFloat8 as a string.
func FormatFloat8(f float64) string {
	var buf [32]byte
	return string(AppendFloat8(buf[:0], f))
}

// AppendFloat4 appends f as float4out prints it (src/common/f2s.c): as
// AppendFloat8, with the shortest digits of the float32 and fixed notation
// for decimal exponents in [-4, 6).
func AppendFloat4(b []byte, f float32) []byte {
	return appendShortest(b, float64(f), 32, 6)
}

// AppendNumericFloat appends f, a numeric held as a float64 (numeric.go),
// as numeric_out prints its value: every digit in fixed notation, never an
// exponent; NaN, Infinity and -Infinity by name; zero without a sign,
// since numeric has no negative zero. (PostgreSQL also keeps the scale the
// value was written with, 1.50; a float64 cannot.)
func AppendNumericFloat(b []byte, f float64) []byte {
	if f == 0 {
		return append(b, '0')
	}
	if s, special := specialFloat(f); special {
		return append(b, s...)
	}
	return strconv.AppendFloat(b, f, 'f', -1, 64)
}

// specialFloat names the values that PostgreSQL's float and numeric output
// functions print as words.
func specialFloat(f float64) (string, bool) {
	switch {
	case math.IsNaN(f):
		return "NaN", true
	case math.IsInf(f, 1):
		return "Infinity", true
	case math.IsInf(f, -1):
		return "-Infinity", true
	}
	return "", false
}

// appendShortest prints f (a float of bitSize bits) as d2s.c and f2s.c do:
// fixed notation when the decimal exponent is in [-4, fixedBelow), else
// Go's 'e' layout, which is theirs (d.ddde±XX).
func appendShortest(b []byte, f float64, bitSize, fixedBelow int) []byte {
	if s, special := specialFloat(f); special {
		return append(b, s...)
	}
	var buf [32]byte
	digits, exp := shortestDigits(buf[:0], f, bitSize)
	if math.Signbit(f) {
		b = append(b, '-')
	}
	if exp < -4 || exp >= fixedBelow {
		b = append(b, digits[0])
		if len(digits) > 1 {
			b = append(b, '.')
			b = append(b, digits[1:]...)
		}
		b = append(b, 'e')
		if exp < 0 {
			b = append(b, '-')
			exp = -exp
		} else {
			b = append(b, '+')
		}
		if exp < 10 {
			b = append(b, '0')
		}
		return strconv.AppendInt(b, int64(exp), 10)
	}
	if exp < 0 {
		b = append(b, '0', '.')
		for i := exp + 1; i < 0; i++ {
			b = append(b, '0')
		}
		return append(b, digits...)
	}
	if len(digits) <= exp+1 {
		b = append(b, digits...)
		for i := len(digits); i <= exp; i++ {
			b = append(b, '0')
		}
		return b
	}
	b = append(b, digits[:exp+1]...)
	b = append(b, '.')
	return append(b, digits[exp+1:]...)
}

// shortestDigits appends to dst the significant digits of PostgreSQL's
// shortest decimal for |f| (finite) and returns them with the decimal
// exponent of the first digit. Go's shortest is PostgreSQL's except in two
// rare cases, which exactShortest settles: Go's may lie exactly halfway to
// a neighbouring float, a point PostgreSQL excludes (Go includes it when
// the mantissa is even: the point still reads back as f); and Go may break
// a tie between two equally close shortest decimals upwards where
// PostgreSQL takes the even one (float4 2^-12 is 0.00024414062).
func shortestDigits(dst []byte, f float64, bitSize int) ([]byte, int) {
	sci := strconv.AppendFloat(dst, math.Abs(f), 'e', -1, bitSize) // d[.ddd]e±XX[X]
	e := len(sci) - 4
	for sci[e] != 'e' {
		e--
	}
	exp := 0
	for _, c := range sci[e+2:] {
		exp = exp*10 + int(c-'0')
	}
	if sci[e+1] == '-' {
		exp = -exp
	}
	digits := sci[:e]
	if len(digits) > 1 {
		digits = append(digits[:1], digits[2:]...) // drop the point
	}
	fl := decompose(f, bitSize)
	if mayDiffer(digits, exp, fl) {
		if d, dexp, ok := exactShortest(dst[:0], fl, exp); ok {
			return d, dexp
		}
	}
	return digits, exp
}

// binaryFloat is |f| as m·2^e2, with m the integer mantissa (implicit bit
// included); asym is set when the float below is half as far as the one
// above: m is the smallest mantissa of a binade above the lowest.
type binaryFloat struct {
	m    uint64
	e2   int
	asym bool
}

func decompose(f float64, bitSize int) binaryFloat {
	mantBits, expBits, raw := 52, 11, math.Float64bits(f)
	if bitSize == 32 {
		mantBits, expBits, raw = 23, 8, uint64(math.Float32bits(float32(f)))
	}
	bias := 1<<(expBits-1) - 1
	frac, exp := raw&(1<<mantBits-1), int(raw>>mantBits)&(1<<expBits-1)
	if exp == 0 {
		return binaryFloat{m: frac, e2: 1 - bias - mantBits}
	}
	return binaryFloat{m: frac | 1<<mantBits, e2: exp - bias - mantBits, asym: frac == 0 && exp > 1}
}

// mayDiffer is a cheap test for the two cases where Go's shortest decimal
// digits·10^k (k = exp-len(digits)+1) may not be PostgreSQL's; it may say
// yes when they agree, never no when they differ.
//   - A halfway point: only for e2 ≥ 1, where halfway points are integers
//     (2m±1)·2^(e2-1) with exactly e2-1 trailing zero bits.
//   - A tie: the float's exact decimal has one digit more than Go's and ends
//     in 5. A float that is not an integer has exactly j decimal places when
//     it is an odd multiple of 2^-j; Go's decimal has -k of them.
func mayDiffer(digits []byte, exp int, fl binaryFloat) bool {
	k := exp - len(digits) + 1
	if fl.e2 >= 1 {
		if k < 0 {
			return false
		}
		var d uint64
		for _, c := range digits {
			d = d*10 + uint64(c-'0')
		}
		return k+bits.TrailingZeros64(d) == fl.e2-1
	}
	j := -(fl.e2 + bits.TrailingZeros64(fl.m))
	return j >= 1 && j == max(0, -k)+1
}

// exactShortest finds, in exact arithmetic, the decimal with the fewest
// significant digits strictly between the points halfway to the
// neighbouring floats, and of those the one closest to the float, ties to
// even: Ryu's choice as PostgreSQL builds it (bounds excluded). exp is
// Go's decimal exponent for the float, a hint within one of the truth. It
// runs only when mayDiffer says so, so it is written for exactness, not
// speed.
func exactShortest(dst []byte, fl binaryFloat, exp int) ([]byte, int, bool) {
	pow2 := func(q uint64, e int) *big.Rat { // q·2^e
		r := new(big.Rat).SetInt(new(big.Int).SetUint64(q))
		t := new(big.Int).Lsh(big.NewInt(1), uint(abs(e)))
		if e >= 0 {
			return r.Mul(r, new(big.Rat).SetInt(t))
		}
		return r.Quo(r, new(big.Rat).SetInt(t))
	}
	pow10 := func(e int) *big.Rat {
		t := new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(e))), nil))
		if e < 0 {
			return t.Inv(t)
		}
		return t
	}
	loQ := 4*fl.m - 2
	if fl.asym {
		loQ = 4*fl.m - 1
	}
	lo, v, hi := pow2(loQ, fl.e2-2), pow2(fl.m, fl.e2), pow2(4*fl.m+2, fl.e2-2)
	for v.Cmp(pow10(exp)) < 0 {
		exp--
	}
	for v.Cmp(pow10(exp+1)) >= 0 {
		exp++
	}
	one := big.NewInt(1)
	for n := 1; n <= 17; n++ {
		k := exp - n + 1 // candidates: multiples of 10^k
		unit := pow10(k)
		x := new(big.Rat).Quo(v, unit)
		q, r := new(big.Int).QuoRem(x.Num(), x.Denom(), new(big.Int))
		if c := new(big.Int).Lsh(r, 1).Cmp(x.Denom()); c > 0 || c == 0 && q.Bit(0) == 1 {
			q.Add(q, one)
		}
		for _, cand := range []*big.Int{q, new(big.Int).Sub(q, one), new(big.Int).Add(q, one)} {
			c := new(big.Rat).Mul(new(big.Rat).SetInt(cand), unit)
			if c.Cmp(lo) > 0 && c.Cmp(hi) < 0 {
				s := cand.String()
				dexp := len(s) - 1 + k
				for len(s) > 1 && s[len(s)-1] == '0' {
					s = s[:len(s)-1]
				}
				return append(dst, s...), dexp, true
			}
		}
	}
	return nil, 0, false // unreachable: 17 digits always tell floats apart
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
