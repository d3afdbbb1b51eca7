package sqlengine

import (
	"fmt"
	"math"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// Date and time arithmetic (PostgreSQL's operators on date, timestamp,
// timestamptz and interval). Values are in their storage forms (translate/types.go):
// SQLite's own + and - would treat '2024-01-01' as the number 2024.
// Translation emits pg_dt_arith(op, left, 'ltype', right, 'rtype') whenever
// an operand of + - * / is one of these types.

func registerDateArith(c *sqlite3.SQLiteConn) error {
	return registerGuarded(c, "pg_dt_arith", dtArith, true)
}

func dtArith(op string, l any, lt string, r any, rt string) (any, error) {
	if l == nil || r == nil {
		return nil, nil
	}
	if v, ok, err := infiniteArith(op, l, lt, r, rt); ok { // functions_infinity.go
		return v, err
	}
	if v, ok, err := timetzArith(op, l, lt, r, rt); ok { // functions_timetz.go
		return v, err
	}
	switch {
	case isTS(lt) && rt == "interval" && (op == "+" || op == "-"):
		return tsPlusInterval(l, lt, r, op == "-")
	case lt == "interval" && isTS(rt) && op == "+":
		return tsPlusInterval(r, rt, l, false)
	case lt == "date" && isInt(r) && (op == "+" || op == "-"):
		n, _ := toInt(r)
		return dateAddDays(l, n, op == "-")
	case isInt(l) && rt == "date" && op == "+":
		n, _ := toInt(l)
		return dateAddDays(r, n, false)
	case lt == "date" && rt == "interval" && (op == "+" || op == "-"):
		return tsPlusInterval(l, "timestamp", r, op == "-")
	case lt == "date" && rt == "date" && op == "-":
		a, okA := parseTS(l)
		b, okB := parseTS(r)
		if !okA || !okB {
			return nil, badDatetime(l, r)
		}
		return int64(math.Round(a.Sub(b).Hours() / 24)), nil
	case isTS(lt) && isTS(rt) && op == "-":
		a, okA := parseTS(l)
		b, okB := parseTS(r)
		if !okA || !okB {
			return nil, badDatetime(l, r)
		}
		us := a.Sub(b).Microseconds()
		return interval{days: us / 86400e6, micros: us % 86400e6}.String(), nil
	case lt == "interval" && rt == "interval" && (op == "+" || op == "-"):
		a, b, err := twoIntervals(l, r)
		if err != nil {
			return nil, err
		}
		if op == "-" {
			b = interval{months: -b.months, days: -b.days, micros: -b.micros}
		}
		sum := interval{months: a.months + b.months, days: a.days + b.days, micros: a.micros + b.micros}
		if (a.micros > 0 && b.micros > 0 && sum.micros < 0) || (a.micros < 0 && b.micros < 0 && sum.micros >= 0) || !sum.fits() {
			return nil, errIntervalRange() // both parts fit, so months and days cannot wrap
		}
		return sum.String(), nil
	case lt == "interval" && (op == "*" || op == "/") && isNumber(r):
		f, _ := toFloat(r)
		return scaleInterval(l, f, op == "/")
	case rt == "interval" && op == "*" && isNumber(l):
		f, _ := toFloat(l)
		return scaleInterval(r, f, false)
	}
	return nil, funcError(pgerror.UndefinedFunction, fmt.Sprintf("operator does not exist: %s %s %s", orUnknown(lt), op, orUnknown(rt)))
}

func isTS(t string) bool { return t == "timestamp" || t == "timestamptz" }

func orUnknown(t string) string {
	if t == "" {
		return "unknown"
	}
	return t
}

func isInt(v any) bool {
	switch x := v.(type) {
	case int64:
		return true
	case float64:
		return x == math.Trunc(x)
	}
	return false
}

func isNumber(v any) bool {
	switch v.(type) {
	case int64, float64:
		return true
	}
	return false
}

func parseTS(v any) (time.Time, bool) {
	switch x := v.(type) {
	case time.Time:
		return x.UTC(), true
	case string:
		return ParseStorageTime(x)
	}
	return time.Time{}, false
}

func badDatetime(l, r any) error {
	return funcError(pgerror.InvalidDatetimeFormat, fmt.Sprintf("invalid input syntax for a date or time value: %v, %v", l, r))
}

func twoIntervals(l, r any) (interval, interval, error) {
	a, okA := parseInterval(asString(l))
	b, okB := parseInterval(asString(r))
	if !okA || !okB {
		return a, b, funcError(pgerror.InvalidDatetimeFormat, fmt.Sprintf("invalid input syntax for type interval: %v", l))
	}
	return a, b, nil
}

// tsPlusInterval adds an interval as PostgreSQL does: months first, with the
// day clamped to the end of the month (Jan 31 + 1 month = Feb 29), then days,
// then the time part.
func tsPlusInterval(ts any, typ string, iv any, minus bool) (any, error) {
	t, ok := parseTS(ts)
	if !ok {
		return nil, badDatetime(ts, iv)
	}
	d, ok := parseInterval(asString(iv))
	if !ok {
		return nil, funcError(pgerror.InvalidDatetimeFormat, fmt.Sprintf("invalid input syntax for type interval: %v", iv))
	}
	if !d.fits() {
		return nil, errIntervalRange()
	}
	if minus {
		d = interval{months: -d.months, days: -d.days, micros: -d.micros}
	}
	if d.months != 0 {
		y, m := t.Year(), int(t.Month())+int(d.months)
		first := time.Date(y, time.Month(m), 1, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
		last := first.AddDate(0, 1, -1).Day()
		day := min(t.Day(), last)
		t = time.Date(first.Year(), first.Month(), day, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
	}
	// Whole days first: a Duration holds only ±292 years of nanoseconds.
	t = t.AddDate(0, 0, int(d.days+d.micros/86400e6)).Add(time.Duration(d.micros%86400e6) * time.Microsecond)
	if t.Year() < -4713 || t.Year() > 294276 {
		return nil, funcError(pgerror.DatetimeFieldOverflow, "timestamp out of range")
	}
	return formatTimestamp(t), nil
}

func dateAddDays(date any, n int64, minus bool) (any, error) {
	t, ok := parseTS(date)
	if !ok {
		return nil, badDatetime(date, n)
	}
	if minus {
		n = -n
	}
	if n < math.MinInt32 || n > math.MaxInt32 {
		return nil, funcError(pgerror.NumericValueOutOfRange, "integer out of range") // date + int4
	}
	t = t.AddDate(0, 0, int(n))
	if t.Year() < -4713 || t.Year() > 5874897 {
		return nil, funcError(pgerror.DatetimeFieldOverflow, "date out of range")
	}
	return t.Format("2006-01-02"), nil
}

func scaleInterval(iv any, f float64, divide bool) (any, error) {
	d, ok := parseInterval(asString(iv))
	if !ok {
		return nil, funcError(pgerror.InvalidDatetimeFormat, fmt.Sprintf("invalid input syntax for type interval: %v", iv))
	}
	if divide {
		if f == 0 {
			return nil, funcError(pgerror.DivisionByZero, "division by zero")
		}
		f = 1 / f
	}
	// PostgreSQL carries fractional months into days (30 per month) and
	// fractional days into time.
	months := float64(d.months) * f
	days := float64(d.days)*f + (months-math.Trunc(months))*30
	micros := float64(d.micros)*f + (days-math.Trunc(days))*86400e6
	r, err := intervalFromFloats(months, days, micros)
	if err != nil {
		return nil, err
	}
	return r.String(), nil
}
