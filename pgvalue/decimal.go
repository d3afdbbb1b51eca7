package pgvalue

import (
	"fmt"
	"math"
	"strings"

	"github.com/cockroachdb/apd/v3"

	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// Exact numeric, as PostgreSQL's numeric.c computes it, on
// github.com/cockroachdb/apd/v3 decimals. A value's display scale (dscale:
// the digits after the point, 1.50 has two) is the decimal's negative
// exponent; a decimal never has a positive exponent once it went through
// Normalize, so it prints without one, as numeric_out does.
//
// The text this file prints (FormatDecimal) is also how pgraft stores a
// numeric (translate/types.go): canonical, with its scale, compared by
// CompareNumericText, the pg_numeric collation.

// PostgreSQL's limits on a numeric (numeric.c).
const (
	NumericMaxIntDigits     = 131072 // digits before the point (NUMERIC_WEIGHT_MAX)
	NumericMaxScale         = 16383  // digits after the point (NUMERIC_DSCALE_MAX)
	NumericMaxDisplayScale  = 1000   // NUMERIC_MAX_DISPLAY_SCALE
	NumericMinSigDigits     = 16     // NUMERIC_MIN_SIG_DIGITS
	NumericMaxResultScale   = 2000   // NUMERIC_MAX_RESULT_SCALE (round's scale limit)
	numericMaxPrecisionCalc = NumericMaxIntDigits + NumericMaxScale + 16
)

// errNumericOverflow is numeric.c's make_result error.
func errNumericOverflow() error {
	return pgerror.New(pgerror.NumericValueOutOfRange, "value overflows numeric format")
}

// ParseDecimal reads numeric_in's syntax: optional white space, a sign,
// digits with an optional point, an optional exponent; or NaN, Infinity,
// inf (any case). 22P02 for anything else, 22003 beyond numeric's range.
// The exponent is checked before any digit is made, so '1e100000000'
// costs nothing.
func ParseDecimal(s string) (*apd.Decimal, error) {
	t := strings.TrimSpace(s)
	bad := func() (*apd.Decimal, error) {
		return nil, pgerror.New(pgerror.InvalidTextRepresentation, "invalid input syntax for type numeric: \"%s\"", s)
	}
	body, neg := t, false
	if body != "" && (body[0] == '+' || body[0] == '-') {
		neg = body[0] == '-'
		body = body[1:]
	}
	switch strings.ToLower(body) {
	case "nan":
		if body != t {
			return bad() // a sign before NaN is refused
		}
		return &apd.Decimal{Form: apd.NaN}, nil
	case "infinity", "inf":
		return &apd.Decimal{Form: apd.Infinite, Negative: neg}, nil
	}
	mant, exp := body, int64(0)
	if i := strings.IndexAny(body, "eE"); i >= 0 {
		mant = body[:i]
		e := body[i+1:]
		eneg := false
		if e != "" && (e[0] == '+' || e[0] == '-') {
			eneg = e[0] == '-'
			e = e[1:]
		}
		if e == "" {
			return bad()
		}
		for _, c := range []byte(e) {
			if c < '0' || c > '9' {
				return bad()
			}
			if exp > 1<<40 {
				return nil, errNumericOverflow() // PostgreSQL: "value overflows numeric format"
			}
			exp = exp*10 + int64(c-'0')
		}
		if eneg {
			exp = -exp
		}
	}
	digits := 0
	point := -1
	var coeff strings.Builder
	coeff.Grow(len(mant))
	for i := 0; i < len(mant); i++ {
		c := mant[i]
		switch {
		case c >= '0' && c <= '9':
			digits++
			coeff.WriteByte(c)
		case c == '.' && point < 0:
			point = digits
		default:
			return bad()
		}
	}
	if digits == 0 {
		return bad()
	}
	scale := int64(0)
	if point >= 0 {
		scale = int64(digits - point)
	}
	scale -= exp // the exponent moves the point
	// Digits before the point, leading zeros aside, and the scale, each
	// within numeric's range, before any big number is made.
	cs := strings.TrimLeft(coeff.String(), "0")
	if cs != "" && int64(len(cs))-scale > NumericMaxIntDigits {
		return nil, errNumericOverflow()
	}
	if scale > NumericMaxScale {
		return nil, errNumericOverflow()
	}
	if cs == "" {
		cs = "0"
	}
	d := new(apd.Decimal)
	if _, ok := d.Coeff.SetString(cs, 10); !ok {
		return bad()
	}
	d.Negative = neg
	d.Exponent = int32(-scale)
	return Normalize(d)
}

// Normalize gives a finite d a non-positive exponent (1E+3 is 1000, dscale
// 0) and no negative zero, and checks numeric's range: 22003 beyond it.
func Normalize(d *apd.Decimal) (*apd.Decimal, error) {
	if d.Form != apd.Finite {
		return d, nil
	}
	if d.Coeff.Sign() == 0 {
		d.Negative = false
	}
	if d.Exponent > 0 {
		if int64(d.NumDigits())+int64(d.Exponent) > NumericMaxIntDigits {
			return nil, errNumericOverflow()
		}
		var m apd.BigInt
		m.Exp(apd.NewBigInt(10), apd.NewBigInt(int64(d.Exponent)), nil)
		d.Coeff.Mul(&d.Coeff, &m)
		d.Exponent = 0
	}
	if d.Coeff.Sign() != 0 && int64(d.NumDigits())+int64(d.Exponent) > NumericMaxIntDigits {
		return nil, errNumericOverflow()
	}
	if -int64(d.Exponent) > NumericMaxScale {
		return nil, errNumericOverflow()
	}
	return d, nil
}

// FormatDecimal prints d as numeric_out does: no exponent, the scale's
// digits after the point, NaN, Infinity and -Infinity as words.
func FormatDecimal(d *apd.Decimal) string {
	switch d.Form {
	case apd.NaN, apd.NaNSignaling:
		return "NaN"
	case apd.Infinite:
		if d.Negative {
			return "-Infinity"
		}
		return "Infinity"
	}
	digits := d.Coeff.String()
	if digits[0] == '-' {
		digits = digits[1:]
	}
	var b strings.Builder
	b.Grow(len(digits) + 3)
	if d.Negative && d.Coeff.Sign() != 0 {
		b.WriteByte('-')
	}
	if d.Exponent >= 0 {
		b.WriteString(digits)
		for i := int32(0); i < d.Exponent; i++ {
			b.WriteByte('0')
		}
		return b.String()
	}
	scale := int(-d.Exponent)
	if len(digits) <= scale {
		b.WriteString("0.")
		for i := len(digits); i < scale; i++ {
			b.WriteByte('0')
		}
		b.WriteString(digits)
		return b.String()
	}
	b.WriteString(digits[:len(digits)-scale])
	b.WriteByte('.')
	b.WriteString(digits[len(digits)-scale:])
	return b.String()
}

// Scale is d's display scale (digits after the point).
func Scale(d *apd.Decimal) int32 {
	if d.Form != apd.Finite || d.Exponent > 0 {
		return 0
	}
	return -d.Exponent
}

// TypmodDecimal is apply_typmod for numeric(p,s), typmod ((p<<16)|s)+4:
// d rounded to s places, half away from zero, and 22003 when it needs more
// than p-s digits before the point. NaN passes; infinities fail, as
// PostgreSQL 15 refuses them in a constrained numeric.
func TypmodDecimal(d *apd.Decimal, typmod int64) (*apd.Decimal, error) {
	if typmod < 4 {
		return d, nil
	}
	tm := typmod - 4
	prec, scale := int64(tm>>16)&0xffff, int64(int16(tm&0xffff))
	switch d.Form {
	case apd.NaN, apd.NaNSignaling:
		return d, nil
	case apd.Infinite:
		return nil, pgerror.New(pgerror.NumericValueOutOfRange, "numeric field overflow").WithDetail(
			fmt.Sprintf("A field with precision %d, scale %d cannot hold an infinite value.", prec, scale))
	}
	r, err := RoundDecimal(d, scale)
	if err != nil {
		return nil, err
	}
	if r.Coeff.Sign() != 0 && int64(r.NumDigits())+int64(r.Exponent) > prec-scale {
		detail := fmt.Sprintf("A field with precision %d, scale %d must round to an absolute value less than 10^%d.", prec, scale, prec-scale)
		if prec-scale <= 0 {
			detail = fmt.Sprintf("A field with precision %d, scale %d must round to an absolute value less than 1.", prec, scale)
		}
		return nil, pgerror.New(pgerror.NumericValueOutOfRange, "numeric field overflow").WithDetail(detail)
	}
	return r, nil
}

// RoundDecimal is round(d, scale): half away from zero to scale places
// (within numeric_round's limits); a negative scale rounds to tens,
// hundreds…, and the result's display scale is max(scale, 0).
func RoundDecimal(d *apd.Decimal, scale int64) (*apd.Decimal, error) {
	return roundWith(d, scale, apd.RoundHalfUp)
}

// TruncDecimal is trunc(d, scale): RoundDecimal toward zero.
func TruncDecimal(d *apd.Decimal, scale int64) (*apd.Decimal, error) {
	return roundWith(d, scale, apd.RoundDown)
}

func roundWith(d *apd.Decimal, scale int64, mode apd.Rounder) (*apd.Decimal, error) {
	if d.Form != apd.Finite {
		return d, nil
	}
	// numeric_round's limits: the digits a numeric can have after the
	// point, and one more than it can have before.
	scale = max(min(scale, NumericMaxScale), -int64(NumericMaxIntDigits)-1)
	if scale < 0 && (d.Coeff.Sign() == 0 || int64(d.NumDigits())+int64(d.Exponent) < -scale) {
		return apd.New(0, 0), nil // below half a unit of the place rounded to
	}
	r := new(apd.Decimal)
	ctx := apd.BaseContext
	ctx.Rounding = mode
	ctx.Traps = 0
	ctx.Precision = uint32(d.NumDigits()) + 2 // Quantize needs room for the digits kept
	if int64(d.Exponent) >= -scale {
		r.Set(d) // already within scale: only the display scale grows
	} else {
		if _, err := ctx.Quantize(r, d, int32(-scale)); err != nil {
			return nil, errNumericOverflow()
		}
	}
	if scale < 0 {
		// Rounded to tens or more: the digits below are zeros, shown
		// without a fraction.
		if _, err := Normalize(r); err != nil {
			return nil, err
		}
		return r, nil
	}
	if int64(r.Exponent) > -scale { // widen the display scale: 1.2 at scale 3 is 1.200
		shift := int64(r.Exponent) + scale
		var m apd.BigInt
		m.Exp(apd.NewBigInt(10), apd.NewBigInt(shift), nil)
		r.Coeff.Mul(&r.Coeff, &m)
		r.Exponent = int32(-scale)
	}
	return Normalize(r)
}

// numericRank orders the kinds of numeric text for CompareNumericText.
const (
	rankNegInf = iota
	rankFinite
	rankPosInf
	rankNaN
	rankOther // not a numeric at all: after every numeric, bytewise
)

// plainDecimal is a numeric's text split for comparison without parsing:
// sign, integer digits without leading zeros, fraction digits without
// trailing zeros.
type plainDecimal struct {
	neg        bool
	int, frac  string
	zero, okay bool
}

func splitPlain(s string) plainDecimal {
	var p plainDecimal
	if s != "" && (s[0] == '-' || s[0] == '+') {
		p.neg = s[0] == '-'
		s = s[1:]
	}
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	intPart := s[:i]
	frac := ""
	if i < len(s) && s[i] == '.' {
		j := i + 1
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		frac = s[i+1 : j]
		i = j
	}
	if i != len(s) || intPart == "" && frac == "" {
		return p // not plain: the slow path decides
	}
	p.int = strings.TrimLeft(intPart, "0")
	p.frac = strings.TrimRight(frac, "0")
	p.zero = p.int == "" && p.frac == ""
	if p.zero {
		p.neg = false
	}
	p.okay = true
	return p
}

// CompareNumericText compares two numerics' texts by value: 1.0 equals
// 1.00, -Infinity < every number < Infinity < NaN (as PostgreSQL orders
// them), and text that is no numeric at all after every numeric, bytewise.
// It is a total order on strings: it is the pg_numeric collation, which
// indexes and UNIQUE rely on.
func CompareNumericText(a, b string) int {
	pa, pb := splitPlain(a), splitPlain(b)
	if pa.okay && pb.okay {
		return comparePlain(pa, pb)
	}
	ra, da := numericKey(a, pa)
	rb, db := numericKey(b, pb)
	switch {
	case ra != rb:
		return cmpInt(ra, rb)
	case ra == rankFinite:
		return da.Cmp(db)
	case ra == rankOther:
		return strings.Compare(a, b)
	}
	return 0
}

func numericKey(s string, p plainDecimal) (int, *apd.Decimal) {
	if p.okay {
		d, _, err := apd.NewFromString(strings.TrimLeft(s, "+"))
		if err == nil {
			return rankFinite, d
		}
	}
	if len(s) > 64+NumericMaxIntDigits+NumericMaxScale {
		return rankOther, nil
	}
	d, err := ParseDecimal(s)
	if err != nil {
		return rankOther, nil
	}
	switch {
	case d.Form == apd.NaN:
		return rankNaN, nil
	case d.Form == apd.Infinite && d.Negative:
		return rankNegInf, nil
	case d.Form == apd.Infinite:
		return rankPosInf, nil
	}
	return rankFinite, d
}

func comparePlain(a, b plainDecimal) int {
	sa, sb := plainSign(a), plainSign(b)
	if sa != sb {
		return cmpInt(sa, sb)
	}
	if sa == 0 {
		return 0
	}
	c := 0
	switch {
	case len(a.int) != len(b.int):
		c = cmpInt(len(a.int), len(b.int))
	default:
		c = strings.Compare(a.int, b.int)
		if c == 0 {
			c = strings.Compare(a.frac, b.frac) // no trailing zeros: a prefix is smaller
		}
	}
	return c * sa
}

func plainSign(p plainDecimal) int {
	switch {
	case p.zero:
		return 0
	case p.neg:
		return -1
	}
	return 1
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// DivScale is select_div_scale: the display scale of x / y, at least
// NumericMinSigDigits significant digits, at least either input's scale,
// at most NumericMaxDisplayScale. PostgreSQL works in base-10000 digits;
// so does this, from the decimal digits.
func DivScale(x, y *apd.Decimal) int32 {
	w1, f1 := nbaseLead(x)
	w2, f2 := nbaseLead(y)
	qweight := w1 - w2
	if f1 <= f2 {
		qweight--
	}
	rscale := int64(NumericMinSigDigits) - qweight*4
	rscale = max(rscale, int64(Scale(x)), int64(Scale(y)), 0)
	return int32(min(rscale, NumericMaxDisplayScale))
}

// nbaseLead is the weight and value of d's first non-zero base-10000 digit
// (0, 0 for zero), as numeric.c's NumericVar has them.
func nbaseLead(d *apd.Decimal) (weight int64, first int64) {
	if d.Form != apd.Finite || d.Coeff.Sign() == 0 {
		return 0, 0
	}
	digits := d.Coeff.String()
	if digits[0] == '-' {
		digits = digits[1:]
	}
	e := int64(len(digits)) - 1 + int64(d.Exponent) // decimal weight of the leading digit
	weight = floorDiv(e, 4)
	k := int(e - 4*weight + 1) // decimal digits of the first base-10000 digit: 1..4
	for i := 0; i < k; i++ {
		first *= 10
		if i < len(digits) {
			first += int64(digits[i] - '0')
		}
	}
	return weight, first
}

// SqrtScale is numeric_sqrt's result scale.
func SqrtScale(x *apd.Decimal) int32 {
	w, _ := nbaseLead(x)
	sweight := (w+1)*4/2 - 1
	rscale := int64(NumericMinSigDigits) - sweight
	rscale = max(rscale, int64(Scale(x)), 0)
	return int32(min(rscale, NumericMaxDisplayScale))
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// LogScale is numeric_log's result scale for log(base, x).
func LogScale(base, x *apd.Decimal) int32 {
	rscale := int64(NumericMinSigDigits) - lnDweight(x) + lnDweight(base)
	rscale = max(rscale, int64(Scale(base)), int64(Scale(x)), 0)
	return int32(min(rscale, NumericMaxDisplayScale))
}

// LnScale is numeric_ln's result scale, from estimate_ln_dweight.
func LnScale(x *apd.Decimal) int32 {
	rscale := int64(NumericMinSigDigits) - lnDweight(x)
	rscale = max(rscale, int64(Scale(x)), 0)
	return int32(min(rscale, NumericMaxDisplayScale))
}

// lnDweight is estimate_ln_dweight: the decimal weight of ln(x), roughly.
func lnDweight(x *apd.Decimal) int64 {
	if x.Form != apd.Finite || x.Sign() <= 0 {
		return 0
	}
	lo, hi := apd.New(9, -1), apd.New(11, -1)
	if x.Cmp(lo) >= 0 && x.Cmp(hi) <= 0 {
		d := new(apd.Decimal)
		apd.BaseContext.Sub(d, x, apd.New(1, 0))
		if d.IsZero() {
			return 0
		}
		w, first := nbaseLead(d)
		return w*4 + int64(math.Log10(float64(first)))
	}
	w, first := nbaseLead(x)
	digits, dweight := float64(first), w*4
	if second, ok := nbaseSecond(x); ok {
		digits = digits*10000 + float64(second)
		dweight -= 4
	}
	lnVar := math.Log(digits) + float64(dweight)*2.302585092994046
	return int64(math.Log10(math.Abs(lnVar)))
}

// nbaseSecond is the base-10000 digit after x's first (ok false when x
// has only one).
func nbaseSecond(x *apd.Decimal) (int64, bool) {
	digits := x.Coeff.String()
	if digits[0] == '-' {
		digits = digits[1:]
	}
	e := int64(len(digits)) - 1 + int64(x.Exponent)
	w := floorDiv(e, 4)
	k := int(e - 4*w + 1) // decimal digits in the first base-10000 digit
	rest := strings.TrimRight(digits[min(k, len(digits)):], "0")
	if rest == "" {
		// No second digit unless the fraction reaches into it (trailing
		// zeros of the scale are not digits of NumericVar).
		return 0, false
	}
	var second int64
	for i := 0; i < 4; i++ {
		second *= 10
		if k+i < len(digits) {
			second += int64(digits[k+i] - '0')
		}
	}
	return second, true
}
