package sqlengine

import (
	"math"
	"strconv"

	"github.com/cockroachdb/apd/v3"

	"github.com/pgraft/pgraft/pgvalue"
	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// Exact numeric (pgvalue/decimal.go does the arithmetic): the functions
// translation emits where an expression is numeric. Each takes a numeric
// as SQLite hands it over (canonical text, or an INTEGER or REAL from a
// table made before numeric was exact, see docs/design.md) and returns
// canonical text, which the pg_numeric collation (NumericCollation)
// compares by value.

// NumericCollation is the collation of numeric columns and of numeric
// expressions translation emits; every connection registers it.
const NumericCollation = "pg_numeric"

// decimalArg reads a numeric argument. An INTEGER is exact; a REAL is a
// value stored before numeric was exact, which held the decimal whose
// shortest text the float is (pgvalue.NumericValue); text is numeric_in.
func decimalArg(x any) (*apd.Decimal, error) {
	switch v := x.(type) {
	case int64:
		return apd.New(v, 0), nil
	case float64:
		return floatDecimal(v, -1)
	}
	s := asString(x)
	if len(s) > 64+pgvalue.NumericMaxIntDigits+pgvalue.NumericMaxScale {
		return nil, funcError(pgerror.NumericValueOutOfRange, "value overflows numeric format")
	}
	d, err := pgvalue.ParseDecimal(s)
	return d, asFuncError(err)
}

// floatDecimal is the decimal of f printed with digits significant digits
// (-1: the shortest text that reads back as f).
func floatDecimal(f float64, digits int) (*apd.Decimal, error) {
	switch {
	case math.IsNaN(f):
		return &apd.Decimal{Form: apd.NaN}, nil
	case math.IsInf(f, 0):
		return &apd.Decimal{Form: apd.Infinite, Negative: f < 0}, nil
	}
	d, err := pgvalue.ParseDecimal(strconv.FormatFloat(f, 'g', digits, 64))
	if err != nil {
		return nil, asFuncError(err)
	}
	if digits > 0 { // float8_numeric: no trailing zeros of the rounding
		d.Reduce(d)
		if _, err := pgvalue.Normalize(d); err != nil {
			return nil, asFuncError(err)
		}
	}
	return d, nil
}

// decimalResult is d as the text a numeric is held in, after numeric's
// range check.
func decimalResult(d *apd.Decimal) (any, error) {
	if _, err := pgvalue.Normalize(d); err != nil {
		return nil, asFuncError(err)
	}
	return pgvalue.FormatDecimal(d), nil
}

func isNaN(d *apd.Decimal) bool { return d.Form == apd.NaN || d.Form == apd.NaNSignaling }

// numericCtx is the context of the exact operations: no rounding (apd
// rounds only when Precision is set), no traps (the results are checked).
var numericCtx = apd.Context{MaxExponent: apd.MaxExponent, MinExponent: apd.MinExponent}

// numericBinary makes a two-argument numeric function.
func numericBinary(name string, op func(x, y *apd.Decimal) (*apd.Decimal, error)) sqlFunc {
	return sqlFunc{name, 2, 2, true, strict(func(a []any) (any, error) {
		x, err := decimalArg(a[0])
		if err != nil {
			return nil, err
		}
		y, err := decimalArg(a[1])
		if err != nil {
			return nil, err
		}
		d, err := op(x, y)
		if err != nil {
			return nil, err
		}
		return decimalResult(d)
	})}
}

// numericUnary makes a one-argument numeric function.
func numericUnary(name string, op func(x *apd.Decimal) (*apd.Decimal, error)) sqlFunc {
	return sqlFunc{name, 1, 1, true, strict(func(a []any) (any, error) {
		x, err := decimalArg(a[0])
		if err != nil {
			return nil, err
		}
		d, err := op(x)
		if err != nil {
			return nil, err
		}
		return decimalResult(d)
	})}
}

// numericScaled makes round(x [, s]) and trunc(x [, s]).
func numericScaled(name string, op func(x *apd.Decimal, s int64) (*apd.Decimal, error)) sqlFunc {
	return sqlFunc{name, 1, 2, true, strict(func(a []any) (any, error) {
		x, err := decimalArg(a[0])
		if err != nil {
			return nil, err
		}
		s := int64(0)
		if len(a) == 2 {
			if s, err = toInt(a[1]); err != nil {
				return nil, err
			}
		}
		d, err := op(x, s)
		if err != nil {
			return nil, asFuncError(err)
		}
		return decimalResult(d)
	})}
}

func numericFuncs() []sqlFunc {
	return []sqlFunc{
		// pg_numeric(x [, typmod [, source type]]): numeric_in (or
		// int/float → numeric), then apply_typmod.
		{"pg_numeric", 1, 3, true, pgNumeric},
		numericBinary("pg_numeric_add", numericAdd),
		numericBinary("pg_numeric_sub", func(x, y *apd.Decimal) (*apd.Decimal, error) {
			return numericAdd(x, new(apd.Decimal).Neg(y))
		}),
		numericBinary("pg_numeric_mul", numericMul),
		numericBinary("pg_numeric_div", numericDiv),
		numericBinary("pg_numeric_mod", numericMod),
		numericUnary("pg_numeric_neg", func(x *apd.Decimal) (*apd.Decimal, error) {
			if isNaN(x) {
				return x, nil
			}
			return new(apd.Decimal).Neg(x), nil
		}),
		numericUnary("pg_numeric_abs", func(x *apd.Decimal) (*apd.Decimal, error) {
			if isNaN(x) {
				return x, nil
			}
			return new(apd.Decimal).Abs(x), nil
		}),
		numericUnary("pg_numeric_ceil", func(x *apd.Decimal) (*apd.Decimal, error) {
			d := new(apd.Decimal)
			if x.Form == apd.Finite {
				numericCtx.Ceil(d, x)
				return d, nil
			}
			return x, nil
		}),
		numericUnary("pg_numeric_floor", func(x *apd.Decimal) (*apd.Decimal, error) {
			d := new(apd.Decimal)
			if x.Form == apd.Finite {
				numericCtx.Floor(d, x)
				return d, nil
			}
			return x, nil
		}),
		numericUnary("pg_numeric_sign", func(x *apd.Decimal) (*apd.Decimal, error) {
			if isNaN(x) {
				return x, nil
			}
			return apd.New(int64(x.Sign()), 0), nil
		}),
		numericUnary("pg_numeric_sqrt", numericSqrt),
		numericUnary("pg_numeric_exp", numericExp),
		numericUnary("pg_numeric_ln", numericLn),
		// pg_numeric_log([base,] x): log(x) is log(10, x), as PostgreSQL's
		// SQL function defines it.
		{"pg_numeric_log", 1, 2, true, strict(func(a []any) (any, error) {
			base, x := apd.New(10, 0), a[0]
			if len(a) == 2 {
				b, err := decimalArg(a[0])
				if err != nil {
					return nil, err
				}
				base, x = b, a[1]
			}
			d, err := decimalArg(x)
			if err != nil {
				return nil, err
			}
			r, err := numericLog(base, d)
			if err != nil {
				return nil, err
			}
			return decimalResult(r)
		})},
		numericScaled("pg_numeric_round", func(x *apd.Decimal, s int64) (*apd.Decimal, error) {
			return pgvalue.RoundDecimal(x, s)
		}),
		numericScaled("pg_numeric_trunc", func(x *apd.Decimal, s int64) (*apd.Decimal, error) {
			return pgvalue.TruncDecimal(x, s)
		}),
		// pg_numeric_to(x, type): numeric → int2/int4/int8/float4/float8/text.
		{"pg_numeric_to", 2, 2, true, strict(pgNumericTo)},
		numericBinary("pg_numeric_divint", numericDivInt),
		numericBinary("pg_numeric_power", numericPower),
		{"pg_numeric_greatest", 1, -1, true, func(a []any) (any, error) { return numericExtreme(a, 1) }},
		{"pg_numeric_least", 1, -1, true, func(a []any) (any, error) { return numericExtreme(a, -1) }},
	}
}

// pgNumeric is pg_numeric(x [, typmod [, source]]).
func pgNumeric(a []any) (any, error) {
	if a[0] == nil {
		return nil, nil
	}
	var d *apd.Decimal
	var err error
	src := ""
	if len(a) == 3 {
		src = asString(a[2])
	}
	switch f, isFloat := a[0].(float64); {
	case isFloat && src == "float4":
		d, err = floatDecimal(float64(float32(f)), 6) // FLT_DIG
	case isFloat && src == "float8":
		d, err = floatDecimal(f, pgvalue.NumericDigits) // DBL_DIG
	default:
		d, err = decimalArg(a[0])
	}
	if err != nil {
		return nil, err
	}
	if len(a) >= 2 && a[1] != nil {
		mod, err := toInt(a[1])
		if err != nil {
			return nil, err
		}
		if d, err = pgvalue.TypmodDecimal(d, mod); err != nil {
			return nil, asFuncError(err)
		}
	}
	return decimalResult(d)
}

// numericSpecial is the result of an operation on NaN or an infinity, as
// numeric.c defines them: any NaN gives NaN, and so does what has no value
// (∞ − ∞, ∞ × 0); ok is false when both are finite.
func numericSpecial(x, y *apd.Decimal, op func(ctx *apd.Context, d, x, y *apd.Decimal) (apd.Condition, error)) (*apd.Decimal, bool) {
	if x.Form == apd.Finite && y.Form == apd.Finite {
		return nil, false
	}
	if isNaN(x) || isNaN(y) {
		return &apd.Decimal{Form: apd.NaN}, true
	}
	d := new(apd.Decimal)
	ctx := numericCtx
	ctx.Precision = 1
	if _, err := op(&ctx, d, x, y); err != nil || isNaN(d) {
		return &apd.Decimal{Form: apd.NaN}, true
	}
	return d, true
}

func numericAdd(x, y *apd.Decimal) (*apd.Decimal, error) {
	if d, ok := numericSpecial(x, y, (*apd.Context).Add); ok {
		return d, nil
	}
	d := new(apd.Decimal)
	if _, err := numericCtx.Add(d, x, y); err != nil {
		return nil, funcError(pgerror.NumericValueOutOfRange, "value overflows numeric format")
	}
	return d, nil
}

// numericMul is mul_var at the scale of the inputs' sum, which numeric_mul
// rounds to NUMERIC_DSCALE_MAX when it is larger.
func numericMul(x, y *apd.Decimal) (*apd.Decimal, error) {
	if d, ok := numericSpecial(x, y, (*apd.Context).Mul); ok {
		return d, nil
	}
	if int64(x.NumDigits())+int64(y.NumDigits()) > 2*(pgvalue.NumericMaxIntDigits+pgvalue.NumericMaxScale) {
		return nil, funcError(pgerror.NumericValueOutOfRange, "value overflows numeric format")
	}
	d := new(apd.Decimal)
	if _, err := numericCtx.Mul(d, x, y); err != nil {
		return nil, funcError(pgerror.NumericValueOutOfRange, "value overflows numeric format")
	}
	if -d.Exponent > pgvalue.NumericMaxScale {
		return pgvalue.RoundDecimal(d, pgvalue.NumericMaxScale)
	}
	return d, nil
}

// intDigits is the position of x's leading digit plus one (its digits
// before the point, when positive).
func intDigits(x *apd.Decimal) int64 {
	if x.Coeff.Sign() == 0 {
		return 0
	}
	return int64(x.NumDigits()) + int64(x.Exponent)
}

// numericDiv is numeric_div: the quotient rounded half away from zero at
// select_div_scale's scale.
func numericDiv(x, y *apd.Decimal) (*apd.Decimal, error) {
	if isNaN(x) || isNaN(y) {
		return &apd.Decimal{Form: apd.NaN}, nil
	}
	if y.Form == apd.Finite && y.Coeff.Sign() == 0 {
		return nil, errDivisionByZero()
	}
	if d, ok := numericSpecial(x, y, (*apd.Context).Quo); ok {
		if y.Form == apd.Infinite && x.Form == apd.Finite {
			return apd.New(0, 0), nil // PostgreSQL: finite / ±Infinity is 0
		}
		return d, nil
	}
	rscale := pgvalue.DivScale(x, y)
	if x.Coeff.Sign() == 0 {
		return pgvalue.RoundDecimal(apd.New(0, 0), int64(rscale))
	}
	// Truncate past the last digit kept, then round it half away from
	// zero: the truncation never crosses the halfway point.
	prec := intDigits(x) - intDigits(y) + 2 + int64(rscale) + 2
	if prec < 1 {
		prec = 1
	}
	ctx := numericCtx
	ctx.Precision = uint32(prec)
	ctx.Rounding = apd.RoundDown
	q := new(apd.Decimal)
	if _, err := ctx.Quo(q, x, y); err != nil {
		return nil, funcError(pgerror.NumericValueOutOfRange, "value overflows numeric format")
	}
	return pgvalue.RoundDecimal(q, int64(rscale))
}

// numericMod is numeric_mod: x − trunc(x / y) × y, at the larger scale.
func numericMod(x, y *apd.Decimal) (*apd.Decimal, error) {
	if isNaN(x) || isNaN(y) {
		return &apd.Decimal{Form: apd.NaN}, nil
	}
	if y.Form == apd.Finite && y.Coeff.Sign() == 0 {
		return nil, errDivisionByZero()
	}
	if x.Form == apd.Infinite {
		return &apd.Decimal{Form: apd.NaN}, nil
	}
	if y.Form == apd.Infinite {
		return new(apd.Decimal).Set(x), nil
	}
	ctx := numericCtx
	ctx.Precision = uint32(max(intDigits(x)-intDigits(y), 0) + int64(x.NumDigits()) + int64(y.NumDigits()) + 2 +
		int64(max(-x.Exponent, -y.Exponent, 0)))
	d := new(apd.Decimal)
	if _, err := ctx.Rem(d, x, y); err != nil {
		return nil, funcError(pgerror.NumericValueOutOfRange, "value overflows numeric format")
	}
	return d, nil
}

// numericSqrt is numeric_sqrt at its result scale.
func numericSqrt(x *apd.Decimal) (*apd.Decimal, error) {
	if isNaN(x) {
		return x, nil
	}
	if x.Sign() < 0 {
		return nil, funcError(codeInvalidPowerArgument, "cannot take square root of a negative number")
	}
	if x.Form == apd.Infinite {
		return x, nil
	}
	rscale := pgvalue.SqrtScale(x)
	if x.Coeff.Sign() == 0 {
		return pgvalue.RoundDecimal(apd.New(0, 0), int64(rscale))
	}
	ctx := numericCtx
	ctx.Precision = uint32(max(intDigits(x)/2+1, 1) + int64(rscale) + 6)
	ctx.Rounding = apd.RoundDown
	d := new(apd.Decimal)
	// Truncated, not rounded: the root stays at or below the true one,
	// so the final rounding cannot cross a halfway point.
	tc := numericCtx
	tc.Precision = ctx.Precision*2 + 10
	tc.Rounding = apd.RoundDown
	xr := x
	if x.NumDigits() > int64(tc.Precision) {
		xr = new(apd.Decimal)
		tc.Round(xr, x)
	}
	if _, err := ctx.Sqrt(d, xr); err != nil {
		return nil, funcError(pgerror.NumericValueOutOfRange, "value overflows numeric format")
	}
	return pgvalue.RoundDecimal(d, int64(rscale))
}

// pgNumericTo is numeric → int2, int4, int8 (rounded half away from
// zero), float4, float8 or text.
func pgNumericTo(a []any) (any, error) {
	x, err := decimalArg(a[0])
	if err != nil {
		return nil, err
	}
	typ := asString(a[1])
	switch typ {
	case "int2", "int4", "int8":
		if isNaN(x) {
			return nil, funcError(pgerror.FeatureNotSupported, "cannot convert NaN to "+intTypeName[typ])
		}
		if x.Form == apd.Infinite {
			return nil, funcError(pgerror.FeatureNotSupported, "cannot convert infinity to "+intTypeName[typ])
		}
		r, err := pgvalue.RoundDecimal(x, 0)
		if err != nil {
			return nil, asFuncError(err)
		}
		i, err := r.Int64()
		lo, hi := intRange(typ)
		if err != nil || i < lo || i > hi {
			return nil, funcError(pgerror.NumericValueOutOfRange, intTypeName[typ]+" out of range")
		}
		return i, nil
	case "float4", "float8":
		f, err := strconv.ParseFloat(pgvalue.FormatDecimal(x), 64)
		if err != nil && !isFloatRangeErr(err) {
			return nil, funcError(pgerror.InvalidTextRepresentation, err.Error())
		}
		if typ == "float4" {
			f = float64(float32(f))
		}
		if math.IsInf(f, 0) && x.Form == apd.Finite {
			return nil, funcError(pgerror.NumericValueOutOfRange, "value out of range: overflow")
		}
		if math.IsNaN(f) {
			return "NaN", nil
		}
		return f, nil
	}
	return decimalResult(x)
}

// numericDivInt is div(x, y): the quotient truncated to an integer.
func numericDivInt(x, y *apd.Decimal) (*apd.Decimal, error) {
	if isNaN(x) || isNaN(y) {
		return &apd.Decimal{Form: apd.NaN}, nil
	}
	if y.Form == apd.Finite && y.Coeff.Sign() == 0 {
		return nil, errDivisionByZero()
	}
	if x.Form != apd.Finite || y.Form != apd.Finite {
		if x.Form == apd.Finite {
			return apd.New(0, 0), nil
		}
		return &apd.Decimal{Form: apd.NaN}, nil
	}
	ctx := numericCtx
	ctx.Precision = uint32(max(intDigits(x)-intDigits(y)+2, 1))
	d := new(apd.Decimal)
	if _, err := ctx.QuoInteger(d, x, y); err != nil {
		return nil, funcError(pgerror.NumericValueOutOfRange, "value overflows numeric format")
	}
	return d, nil
}

// numericExtreme is greatest (sign 1) or least (-1) of the non-NULL
// arguments, NaN above every number as PostgreSQL orders them; NULL when
// all are NULL.
func numericExtreme(a []any, sign int) (any, error) {
	var best *apd.Decimal
	for _, v := range a {
		if v == nil {
			continue
		}
		d, err := decimalArg(v)
		if err != nil {
			return nil, err
		}
		if best == nil || numericOrder(d, best)*sign > 0 {
			best = d
		}
	}
	if best == nil {
		return nil, nil
	}
	return decimalResult(best)
}

// numericOrder compares two numerics as PostgreSQL orders them: NaN above
// everything, equal to itself.
func numericOrder(x, y *apd.Decimal) int {
	switch xn, yn := isNaN(x), isNaN(y); {
	case xn && yn:
		return 0
	case xn:
		return 1
	case yn:
		return -1
	}
	return x.Cmp(y)
}
