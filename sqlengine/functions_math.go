package sqlengine

import (
	"fmt"
	"math"

	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// Math functions. SQLite hands over INTEGER or REAL; numeric columns hold
// either. Integral results of rounding functions come back as INTEGER so
// that they print without a fraction, as PostgreSQL prints numeric.

const (
	codeInvalidPowerArgument = "2201F" // invalid_argument_for_power_function
	codeInvalidLogArgument   = "2201E" // invalid_argument_for_logarithm
)

func errDivisionByZero() error { return funcError(pgerror.DivisionByZero, "division by zero") }

// toFloat reads a numeric argument.
func toFloat(x any) (float64, error) {
	switch v := x.(type) {
	case int64:
		return float64(v), nil
	case float64:
		return v, nil
	}
	s := asString(x)
	f, ok := parseFloatText(s)
	if !ok {
		return 0, funcError(pgerror.InvalidTextRepresentation, fmt.Sprintf("invalid input syntax for type double precision: %q", s))
	}
	return f, nil
}

// floatResult returns f, as INTEGER when it is integral and fits.
func floatResult(f float64) any {
	if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return int64(f)
	}
	if math.IsNaN(f) {
		return "NaN"
	}
	return f
}

// unaryMath makes a one-argument function that keeps an INTEGER argument as
// it is when op leaves integers unchanged (ceil, floor, trunc, sign…).
func unaryMath(name string, keepInt bool, op func(float64) (float64, error)) sqlFunc {
	return sqlFunc{name, 1, 1, true, strict(func(a []any) (any, error) {
		if i, ok := a[0].(int64); ok && keepInt {
			f, err := op(float64(i))
			if err != nil {
				return nil, err
			}
			return int64(f), nil
		}
		f, err := toFloat(a[0])
		if err != nil {
			return nil, err
		}
		r, err := op(f)
		if err != nil {
			return nil, err
		}
		return floatResult(r), nil
	})}
}

func noErr(op func(float64) float64) func(float64) (float64, error) {
	return func(f float64) (float64, error) { return op(f), nil }
}

func mathFuncs() []sqlFunc {
	return []sqlFunc{
		unaryMath("pg_ceil", true, noErr(math.Ceil)),
		unaryMath("pg_ceiling", true, noErr(math.Ceil)),
		unaryMath("pg_floor", true, noErr(math.Floor)),
		unaryMath("pg_sign", true, noErr(sign)),
		unaryMath("pg_sqrt", false, func(f float64) (float64, error) {
			if f < 0 {
				return 0, funcError(codeInvalidPowerArgument, "cannot take square root of a negative number")
			}
			return math.Sqrt(f), nil
		}),
		unaryMath("pg_exp", false, func(f float64) (float64, error) {
			r := math.Exp(f)
			if math.IsInf(r, 0) {
				return 0, funcError(pgerror.NumericValueOutOfRange, "value out of range: overflow")
			}
			return r, nil
		}),
		unaryMath("pg_ln", false, func(f float64) (float64, error) { return logBase(math.Log, f) }),
		{"pg_log", 1, 2, true, strict(pgLog)},
		{"pg_power", 2, 2, true, strict(pgPower)},
		{"pg_mod", 2, 2, true, strict(pgMod)},
		{"pg_div", 2, 2, true, strict(pgDiv)},
		// pg_divisor is the right side of / and %: SQLite answers NULL for a
		// zero divisor, PostgreSQL fails with 22012.
		{"pg_divisor", 1, 1, true, func(a []any) (any, error) {
			switch v := a[0].(type) {
			case int64:
				if v == 0 {
					return nil, errDivisionByZero()
				}
			case float64:
				if v == 0 {
					return nil, errDivisionByZero()
				}
			}
			return a[0], nil
		}},
		{"pg_trunc", 1, 2, true, strict(pgTrunc)},
		{"pg_pi", 0, 0, true, func([]any) (any, error) { return math.Pi, nil }},
	}
}

func sign(f float64) float64 {
	switch {
	case f > 0:
		return 1
	case f < 0:
		return -1
	}
	return 0
}

func logBase(log func(float64) float64, f float64) (float64, error) {
	switch {
	case f == 0:
		return 0, funcError(codeInvalidLogArgument, "cannot take logarithm of zero")
	case f < 0:
		return 0, funcError(codeInvalidLogArgument, "cannot take logarithm of a negative number")
	}
	return log(f), nil
}

// pgLog is log(x) (base 10) and log(b, x).
func pgLog(a []any) (any, error) {
	x, err := toFloat(a[len(a)-1])
	if err != nil {
		return nil, err
	}
	lx, err := logBase(math.Log10, x)
	if err != nil || len(a) == 1 {
		return floatOrErr(lx, err)
	}
	b, err := toFloat(a[0])
	if err != nil {
		return nil, err
	}
	lb, err := logBase(math.Log10, b)
	if err != nil {
		return nil, err
	}
	if lb == 0 {
		return nil, errDivisionByZero()
	}
	return floatResult(lx / lb), nil
}

func floatOrErr(f float64, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return floatResult(f), nil
}

func pgPower(a []any) (any, error) {
	x, err := toFloat(a[0])
	if err != nil {
		return nil, err
	}
	y, err := toFloat(a[1])
	if err != nil {
		return nil, err
	}
	switch {
	case x == 0 && y < 0:
		return nil, funcError(codeInvalidPowerArgument, "zero raised to a negative power is undefined")
	case x < 0 && y != math.Trunc(y):
		return nil, funcError(codeInvalidPowerArgument, "a negative number raised to a non-integer power yields a complex result")
	}
	r := math.Pow(x, y)
	if math.IsInf(r, 0) {
		return nil, funcError(pgerror.NumericValueOutOfRange, "value out of range: overflow")
	}
	return r, nil
}

func pgMod(a []any) (any, error) {
	i, iok := a[0].(int64)
	j, jok := a[1].(int64)
	if iok && jok {
		if j == 0 {
			return nil, errDivisionByZero()
		}
		if j == -1 {
			return int64(0), nil // avoids the MinInt64 % -1 trap
		}
		return i % j, nil
	}
	x, err := toFloat(a[0])
	if err != nil {
		return nil, err
	}
	y, err := toFloat(a[1])
	if err != nil {
		return nil, err
	}
	if y == 0 {
		return nil, errDivisionByZero()
	}
	return floatResult(math.Mod(x, y)), nil
}

// pgDiv is div(a, b): the integer quotient, truncated toward zero.
func pgDiv(a []any) (any, error) {
	x, err := toFloat(a[0])
	if err != nil {
		return nil, err
	}
	y, err := toFloat(a[1])
	if err != nil {
		return nil, err
	}
	if y == 0 {
		return nil, errDivisionByZero()
	}
	i, iok := a[0].(int64)
	j, jok := a[1].(int64)
	if iok && jok && !(i == math.MinInt64 && j == -1) {
		return i / j, nil
	}
	return floatResult(math.Trunc(x / y)), nil
}

// pgTrunc is trunc(x) and trunc(x, n): toward zero at n decimal places.
func pgTrunc(a []any) (any, error) {
	if i, ok := a[0].(int64); ok && len(a) == 1 {
		return i, nil
	}
	x, err := toFloat(a[0])
	if err != nil {
		return nil, err
	}
	n := int64(0)
	if len(a) > 1 {
		if n, err = toInt(a[1]); err != nil {
			return nil, err
		}
	}
	p := math.Pow10(int(n))
	return floatResult(math.Trunc(x*p) / p), nil
}
