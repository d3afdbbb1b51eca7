package sqlengine

import (
	"fmt"
	"math"

	"github.com/cockroachdb/apd/v3"

	"github.com/pgraft/pgraft/pgvalue"
	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// functions_numeric_power.go: power, exp, ln and log of exact numerics,
// at PostgreSQL's result scales, and the rounding helpers they share.

// numericPower is power(x, y) for numerics. An integer exponent is
// power_var_int's: x^y rounded half away from zero at scale max(16, x's
// scale), exact where the digits are few (computed with a bounded
// precision otherwise). Another exponent still computes in float8, as
// before exact numeric (docs/design.md).
func numericPower(x, y *apd.Decimal) (*apd.Decimal, error) {
	if isNaN(x) || isNaN(y) {
		if isNaN(x) && y.Form == apd.Finite && y.IsZero() || isNaN(y) && x.Form == apd.Finite && x.Cmp(apd.New(1, 0)) == 0 {
			return apd.New(1, 0), nil // PostgreSQL: NaN ^ 0 = 1 ^ NaN = 1
		}
		return &apd.Decimal{Form: apd.NaN}, nil
	}
	n, err := y.Int64()
	integral := err == nil && y.Form == apd.Finite && n >= math.MinInt32 && n <= math.MaxInt32
	if integral {
		var frac apd.Decimal
		var whole apd.Decimal
		y.Modf(&whole, &frac)
		integral = frac.IsZero()
	}
	if !integral && x.Form == apd.Finite && y.Form == apd.Finite {
		return numericPowerReal(x, y)
	}
	if !integral || x.Form != apd.Finite {
		r, err := pgPower([]any{pgvalue.FormatDecimal(x), pgvalue.FormatDecimal(y)})
		if err != nil {
			return nil, err
		}
		return floatDecimal(r.(float64), -1)
	}
	if x.IsZero() && n < 0 {
		return nil, funcError(codeInvalidPowerArgument, "zero raised to a negative power is undefined")
	}
	rscale := int64(min(max(pgvalue.NumericMinSigDigits, pgvalue.Scale(x)), pgvalue.NumericMaxDisplayScale))
	if n == 0 || x.IsZero() {
		v := apd.New(0, 0)
		if n == 0 {
			v = apd.New(1, 0) // 0 ^ 0 is 1
		}
		return pgvalue.RoundDecimal(v, rscale)
	}
	// The result's decimal weight, roughly: refuse what numeric cannot
	// hold before computing it; what rounds to zero is zero.
	f, _ := new(apd.Decimal).Abs(x).Float64()
	weight := math.Log10(f) * float64(n)
	if math.IsInf(f, 0) { // more digits than a float: weight from the digits
		weight = float64(intDigits(x)) * float64(n)
	}
	if weight > pgvalue.NumericMaxIntDigits {
		return nil, funcError(pgerror.NumericValueOutOfRange, "value overflows numeric format")
	}
	if weight < -float64(rscale)-2 {
		return pgvalue.RoundDecimal(apd.New(0, 0), rscale)
	}
	abs := n
	if abs < 0 {
		abs = -abs
	}
	p := new(apd.Decimal)
	if int64(x.NumDigits())*abs <= 20000 {
		// Exact: square and multiply without rounding.
		p.Set(apd.New(1, 0))
		base := new(apd.Decimal).Set(x)
		for e := abs; e > 0; e >>= 1 {
			if e&1 == 1 {
				numericCtx.Mul(p, p, base)
			}
			if e > 1 {
				numericCtx.Mul(base, base, base)
			}
		}
	} else {
		ctx := numericCtx
		ctx.Precision = uint32(max(int64(math.Abs(weight)), 0) + rscale + 24)
		if _, err := ctx.Pow(p, x, apd.New(abs, 0)); err != nil {
			return nil, funcError(pgerror.NumericValueOutOfRange, "value overflows numeric format")
		}
	}
	if n < 0 {
		ctx := numericCtx
		ctx.Precision = uint32(max(int64(-weight)+2, 1) + rscale + 4)
		ctx.Rounding = apd.RoundDown
		q := new(apd.Decimal)
		if _, err := ctx.Quo(q, apd.New(1, 0), p); err != nil {
			return nil, funcError(pgerror.NumericValueOutOfRange, "value overflows numeric format")
		}
		p = q
	}
	return pgvalue.RoundDecimal(p, rscale)
}

// resultScale is the scale numeric_exp and power_var choose for a result
// of decimal weight about w: NUMERIC_MIN_SIG_DIGITS − w, at least the
// inputs' scales, within the display limits.
func resultScale(w float64, scales ...int32) int64 {
	w = max(min(w, pgvalue.NumericMaxResultScale), -pgvalue.NumericMaxResultScale)
	rscale := int64(pgvalue.NumericMinSigDigits) - int64(w) // (int) truncates toward zero
	for _, s := range scales {
		rscale = max(rscale, int64(s))
	}
	return min(max(rscale, 0), pgvalue.NumericMaxDisplayScale)
}

// maxTranscendentalDigits bounds the precision of exp, ln and a
// non-integer power.
const maxTranscendentalDigits = 2012

// transcendental computes op at enough precision for rscale places after
// a result of decimal weight about w, then rounds half away from zero.
func transcendental(w float64, rscale int64, op func(ctx *apd.Context, d *apd.Decimal) (apd.Condition, error)) (*apd.Decimal, error) {
	if w > pgvalue.NumericMaxIntDigits {
		return nil, funcError(pgerror.NumericValueOutOfRange, "value overflows numeric format")
	}
	ctx := numericCtx
	ctx.Precision = uint32(max(int64(w)+2, 1) + rscale + 12)
	if ctx.Precision > maxTranscendentalDigits {
		// apd's series at tens of thousands of digits take minutes: a
		// write must finish within its budget on every node.
		return nil, funcError(pgerror.FeatureNotSupported, fmt.Sprintf(
			"exp, ln and power of numeric with more than %d significant digits are not supported by pgraft", maxTranscendentalDigits-12))
	}
	d := new(apd.Decimal)
	if _, err := op(&ctx, d); err != nil || d.Form != apd.Finite {
		return nil, funcError(pgerror.NumericValueOutOfRange, "value overflows numeric format")
	}
	return pgvalue.RoundDecimal(d, rscale)
}

// numericExp is numeric_exp.
func numericExp(x *apd.Decimal) (*apd.Decimal, error) {
	if isNaN(x) {
		return x, nil
	}
	if x.Form == apd.Infinite {
		if x.Negative {
			return apd.New(0, 0), nil
		}
		return x, nil
	}
	f, _ := x.Float64()
	w := f * 0.434294481903252 // log10(e): the result's decimal weight
	if w < -float64(pgvalue.NumericMaxDisplayScale)-2 {
		return pgvalue.RoundDecimal(apd.New(0, 0), resultScale(w, pgvalue.Scale(x)))
	}
	rscale := resultScale(w, pgvalue.Scale(x))
	return transcendental(w, rscale, func(ctx *apd.Context, d *apd.Decimal) (apd.Condition, error) {
		return ctx.Exp(d, roundScale(x, int64(ctx.Precision)+5))
	})
}

// numericLn is numeric_ln.
func numericLn(x *apd.Decimal) (*apd.Decimal, error) {
	if isNaN(x) {
		return x, nil
	}
	switch {
	case x.Sign() == 0:
		return nil, funcError(codeInvalidLogArgument, "cannot take logarithm of zero")
	case x.Sign() < 0:
		return nil, funcError(codeInvalidLogArgument, "cannot take logarithm of a negative number")
	case x.Form == apd.Infinite:
		return x, nil
	}
	rscale := int64(pgvalue.LnScale(x))
	w := math.Log10(math.Abs(float64(intDigits(x))*2.302585092994046) + 1)
	return transcendental(w, rscale, func(ctx *apd.Context, d *apd.Decimal) (apd.Condition, error) {
		return ctx.Ln(d, roundSig(x, ctx.Precision+5))
	})
}

// numericPowerReal is power_var for a non-integer exponent: exp(y·ln x)
// at the scale its estimated weight gives.
func numericPowerReal(x, y *apd.Decimal) (*apd.Decimal, error) {
	if x.Sign() < 0 {
		return nil, funcError(codeInvalidPowerArgument, "a negative number raised to a non-integer power yields a complex result")
	}
	if x.IsZero() {
		if y.Sign() < 0 {
			return nil, funcError(codeInvalidPowerArgument, "zero raised to a negative power is undefined")
		}
		return pgvalue.RoundDecimal(apd.New(0, 0), resultScale(0, pgvalue.Scale(x), pgvalue.Scale(y)))
	}
	xf, _ := x.Float64()
	yf, _ := y.Float64()
	w := yf * math.Log(xf) * 0.434294481903252
	if math.IsInf(xf, 0) || math.IsNaN(w) {
		return nil, funcError(pgerror.NumericValueOutOfRange, "value overflows numeric format")
	}
	rscale := resultScale(w, pgvalue.Scale(x), pgvalue.Scale(y))
	if w < -float64(rscale)-2 {
		return pgvalue.RoundDecimal(apd.New(0, 0), rscale)
	}
	return transcendental(w, rscale, func(ctx *apd.Context, d *apd.Decimal) (apd.Condition, error) {
		return ctx.Pow(d, roundSig(x, ctx.Precision+5), roundSig(y, ctx.Precision+5))
	})
}

// numericLog is numeric_log: ln(x) / ln(base) at its scale.
func numericLog(base, x *apd.Decimal) (*apd.Decimal, error) {
	if isNaN(base) || isNaN(x) {
		return &apd.Decimal{Form: apd.NaN}, nil
	}
	for _, v := range []*apd.Decimal{base, x} {
		switch {
		case v.Sign() == 0:
			return nil, funcError(codeInvalidLogArgument, "cannot take logarithm of zero")
		case v.Sign() < 0:
			return nil, funcError(codeInvalidLogArgument, "cannot take logarithm of a negative number")
		case v.Form == apd.Infinite:
			return nil, funcError(pgerror.FeatureNotSupported, "log of an infinite numeric is not supported by pgraft")
		}
	}
	if base.Cmp(apd.New(1, 0)) == 0 {
		return nil, errDivisionByZero()
	}
	rscale := int64(pgvalue.LogScale(base, x))
	w := math.Log10(math.Abs(float64(intDigits(x))*2.302585092994046) + 1)
	return transcendental(w, rscale, func(ctx *apd.Context, d *apd.Decimal) (apd.Condition, error) {
		inner := *ctx
		inner.Precision += 8
		var lx, lb apd.Decimal
		if _, err := inner.Ln(&lx, roundSig(x, inner.Precision+5)); err != nil {
			return 0, err
		}
		if _, err := inner.Ln(&lb, roundSig(base, inner.Precision+5)); err != nil {
			return 0, err
		}
		return ctx.Quo(d, &lx, &lb)
	})
}

// roundSig is x rounded to digits significant digits: the input of a
// series needs no more digits than its result (ln(x·(1+δ)) = ln x + δ,
// exp(x+δ) = exp(x)·(1+δ), √(x·(1+δ)) = √x·(1+δ/2)), and apd's series cost
// grows with the digits of their argument (ln of a 100000-digit number
// took minutes).
func roundSig(x *apd.Decimal, digits uint32) *apd.Decimal {
	if x.Form != apd.Finite || x.NumDigits() <= int64(digits) {
		return x
	}
	ctx := numericCtx
	ctx.Precision = digits
	d := new(apd.Decimal)
	ctx.Round(d, x)
	return d
}

// roundScale is x rounded to scale places when it has more.
func roundScale(x *apd.Decimal, scale int64) *apd.Decimal {
	if x.Form != apd.Finite || int64(pgvalue.Scale(x)) <= scale {
		return x
	}
	d, err := pgvalue.RoundDecimal(x, scale)
	if err != nil {
		return x
	}
	return d
}
