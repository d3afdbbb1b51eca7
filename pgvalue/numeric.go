package pgvalue

import (
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// The numeric of tables made before exact numeric (decimal.go): an int64
// when the value is an integer that fits, else a float64 (a REAL) that
// prints back as exactly the value. That covers every decimal of up to
// NumericDigits significant digits within a REAL's normal range, and the
// shortest decimal of any float64. Any other value is refused with 0A000,
// never rounded. Writes to such a column keep these rules (pg_cast to
// numeric, whose behaviour old log entries rely on).

// NumericDigits is how many significant decimal digits a float64 keeps
// exactly through a decimal round trip (DBL_DIG); it is also how many
// float8_numeric prints.
const NumericDigits = 15

// ParseNumeric reads numeric_in's decimal syntax exactly: an optional sign,
// digits with an optional point, an optional exponent. No hexadecimal,
// fractions, underscores or infinities; the caller trims white space and
// handles NaN.
func ParseNumeric(s string) (*big.Rat, bool) {
	if s == "" || strings.ContainsAny(s, "/xXpP_") || strings.EqualFold(strings.TrimLeft(s, "+-"), "inf") ||
		strings.EqualFold(strings.TrimLeft(s, "+-"), "infinity") {
		return nil, false
	}
	r, ok := new(big.Rat).SetString(s)
	return r, ok
}

// NumericTypmod is apply_typmod for numeric(p,s): r rounded to s decimal
// places, half away from zero, and 22003 when the result needs more than
// p-s integer digits. typmod is ((p<<16)|s)+4.
func NumericTypmod(r *big.Rat, typmod int64) (*big.Rat, error) {
	tm := typmod - 4
	prec, scale := int(tm>>16)&0xffff, int(tm&0xffff)
	rounded := roundRat(r, scale)
	limit := new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(prec-scale)), nil))
	if new(big.Rat).Abs(rounded).Cmp(limit) >= 0 {
		// PostgreSQL adds a DETAIL ("A field with precision p, scale s must
		// round to …"); the message is the same.
		return nil, pgerror.New(pgerror.NumericValueOutOfRange, "numeric field overflow")
	}
	return rounded, nil
}

// roundRat rounds r to scale decimal places, half away from zero.
func roundRat(r *big.Rat, scale int) *big.Rat {
	m := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)
	x := new(big.Rat).Mul(r, new(big.Rat).SetInt(m))
	num, den := new(big.Int).Abs(x.Num()), x.Denom()
	q, rem := new(big.Int).QuoRem(num, den, new(big.Int))
	if rem.Mul(rem, big.NewInt(2)).Cmp(den) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	if x.Sign() < 0 {
		q.Neg(q)
	}
	return new(big.Rat).SetFrac(q, m)
}

// NumericValue returns how pgraft holds the numeric r: an int64 when r is
// one, else a float64 that prints back as exactly r; 0A000 when there is
// none.
func NumericValue(r *big.Rat) (any, error) {
	if r.IsInt() && r.Num().IsInt64() {
		return r.Num().Int64(), nil
	}
	f, exact := ratAsFloat(r)
	if !exact {
		return nil, pgerror.New(pgerror.FeatureNotSupported,
			"numeric values with more than 15 significant digits are not supported by pgraft")
	}
	return f, nil
}

// ratAsFloat converts a terminating decimal r to float64 and reports whether
// the float, printed with NumericDigits significant digits, is r again: true
// exactly when r has at most 15 significant digits and lies within the
// range of a normal float64.
//
// It also accepts r when it is exactly the shortest decimal of a float64
// (what drivers print for a double, e.g. 0.30000000000000004 or 5e-324):
// held as that float, it prints back as the same digits.
func ratAsFloat(r *big.Rat) (float64, bool) {
	f, _ := r.Float64()
	if math.IsInf(f, 0) {
		return f, false
	}
	if f == 0 || math.Abs(f) >= 0x1p-1022 {
		back, ok := new(big.Rat).SetString(strconv.FormatFloat(f, 'g', NumericDigits, 64))
		if ok && back.Cmp(r) == 0 {
			return f, true
		}
	}
	back, ok := new(big.Rat).SetString(strconv.FormatFloat(f, 'g', -1, 64))
	return f, ok && back.Cmp(r) == 0
}

// NumericFits reports whether the numeric input text s (a constant or a
// bound parameter for a numeric) can be held exactly (NumericValue): it is
// an int64, or a decimal with at most 15 significant digits within the
// range of a float64. Held as text under SQLite's NUMERIC affinity,
// anything else would be rounded silently, so the caller refuses it with
// 0A000 when this returns false. No typmod is applied: a value that would
// fit only after rounding to a column's scale still reports false. Text
// that is not a numeric literal at all ("NaN", "abc") reports true:
// rejecting or holding it is the caller's parse's business, not a
// precision question.
func NumericFits(s string) bool {
	r, ok := ParseNumeric(strings.TrimSpace(s))
	if !ok {
		return true
	}
	_, err := NumericValue(r)
	return err == nil
}
