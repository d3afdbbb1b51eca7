package sqlengine

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// An interval is stored as PostgreSQL's own text output (IntervalStyle
// postgres, e.g. "1 year 2 mons 3 days 04:05:06.5"), so that it reads back
// as PostgreSQL prints it. Interval arithmetic is not supported.

// interval is PostgreSQL's interval representation.
type interval struct {
	months, days int64
	micros       int64
}

var (
	reIntervalUnit  = regexp.MustCompile(`^([+-]?\d+(?:\.\d+)?)\s*([a-z]+)`)
	reIntervalClock = regexp.MustCompile(`^([+-])?(\d+):(\d{1,2})(?::(\d{1,2})(?:\.(\d+))?)?`)
	// A number of days before a clock: 1 2:03:04.
	reIntervalDays = regexp.MustCompile(`^([+-]?\d+)\s+([+-]?\d+:)`)
	// SQL's year-month literal: 1-2 is 1 year 2 months.
	reIntervalYM = regexp.MustCompile(`^([+-])?(\d+)-(\d+)$`)
	// ISO 8601's format with designators; every field may have a fraction
	// and a sign (P1Y2M3DT4H5M6S, P0.5D, PT-1.5S).
	reISOInterval = regexp.MustCompile(`^p(?:([+-]?\d+(?:\.\d+)?)y)?(?:([+-]?\d+(?:\.\d+)?)m)?(?:([+-]?\d+(?:\.\d+)?)w)?(?:([+-]?\d+(?:\.\d+)?)d)?(?:t(?:([+-]?\d+(?:\.\d+)?)h)?(?:([+-]?\d+(?:\.\d+)?)m)?(?:([+-]?\d+(?:\.\d+)?)s)?)?$`)
)

// maxIntervalSeconds bounds a bare number of seconds: the time part is
// int64 microseconds.
const maxIntervalSeconds = math.MaxInt64 / 1e6

// parseInterval accepts "N unit" groups (PostgreSQL's unit spellings, with
// an optional leading @), a [-]HH:MM[:SS[.f]] clock with an optional
// number of days before it, a trailing "ago", a bare number of seconds,
// SQL's Y-M, and the ISO 8601 form P…T….
func parseInterval(s string) (interval, bool) {
	t := strings.ToLower(strings.TrimSpace(s))
	t = strings.TrimSpace(strings.TrimPrefix(t, "@"))
	if m := reISOInterval.FindStringSubmatch(t); m != nil && t != "p" && !strings.HasSuffix(t, "t") {
		var iv interval
		for i, unit := range [...]string{"year", "month", "week", "day", "hour", "minute", "second"} {
			if m[i+1] != "" && !addIntervalUnit(&iv, m[i+1], unit) {
				return interval{}, false
			}
		}
		return iv, true
	}
	if m := reIntervalYM.FindStringSubmatch(t); m != nil {
		months := int64(atoi(m[2]))*12 + int64(atoi(m[3]))
		if m[1] == "-" {
			months = -months
		}
		return interval{months: months}, len(m[2]) < 10 && len(m[3]) < 10
	}
	if f, err := strconv.ParseFloat(t, 64); err == nil {
		if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > maxIntervalSeconds || !isDecimal(t) {
			return interval{}, false // "infinity", "nan" and 1e400 are no intervals
		}
		return interval{micros: int64(math.Round(f * 1e6))}, true
	}
	var iv interval
	ago, seen := false, false
	for t != "" {
		if strings.HasPrefix(t, "ago") {
			ago, t = true, strings.TrimSpace(t[3:])
			continue
		}
		if m := reIntervalDays.FindStringSubmatch(t); m != nil {
			iv.days += int64(atoi(m[1]))
			t, seen = t[len(m[0])-len(m[2]):], true
			continue
		}
		if m := reIntervalClock.FindStringSubmatch(t); m != nil {
			us := int64(atoi(m[2]))*3600e6 + int64(atoi(m[3]))*60e6 + int64(atoi(m[4]))*1e6
			us += int64(atoi((m[5] + "000000")[:6]))
			if m[1] == "-" {
				us = -us
			}
			iv.micros += us
			t, seen = strings.TrimSpace(t[len(m[0]):]), true
			continue
		}
		m := reIntervalUnit.FindStringSubmatch(t)
		if m == nil || !addIntervalUnit(&iv, m[1], m[2]) {
			return interval{}, false
		}
		t, seen = strings.TrimSpace(strings.TrimPrefix(t[len(m[0]):], ",")), true
	}
	if ago {
		iv = interval{-iv.months, -iv.days, -iv.micros}
	}
	return iv, seen
}

// isDecimal reports whether t is a plain decimal number (digits, one dot,
// a sign, an exponent), not a word ParseFloat also reads.
func isDecimal(t string) bool {
	return strings.Trim(t, "+-.0123456789e") == ""
}

func addIntervalUnit(iv *interval, num, unit string) bool {
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || math.Abs(f) > 1e15 {
		return false // past any interval: int64(f*…) would be garbage
	}
	switch extractUnits[unit] {
	case "millennium":
		iv.months += int64(f * 12000)
	case "century":
		iv.months += int64(f * 1200)
	case "decade":
		iv.months += int64(f * 120)
	case "year":
		iv.months += int64(f * 12)
	case "month":
		iv.months += int64(f)
		days := (f - math.Trunc(f)) * 30
		iv.days += int64(days)
		iv.micros += int64(math.Round((days - math.Trunc(days)) * 86400e6))
	case "week":
		days := f * 7
		iv.days += int64(days)
		iv.micros += int64(math.Round((days - math.Trunc(days)) * 86400e6))
	case "day":
		iv.days += int64(f)
		iv.micros += int64(math.Round((f - math.Trunc(f)) * 86400e6))
	case "hour":
		iv.micros += int64(math.Round(f * 3600e6))
	case "minute":
		iv.micros += int64(math.Round(f * 60e6))
	case "second":
		iv.micros += int64(math.Round(f * 1e6))
	case "milliseconds":
		iv.micros += int64(math.Round(f * 1e3))
	case "microseconds":
		iv.micros += int64(math.Round(f))
	default:
		return false
	}
	return true
}

// String is interval_out with IntervalStyle postgres (EncodeInterval): a
// part's unit is plural unless it is exactly 1, and a positive part after
// a negative one carries a "+".
func (iv interval) String() string {
	var parts []string
	before := false // the previous part was negative
	part := func(n int64, unit string) {
		if n == 0 {
			return
		}
		sign := ""
		if before && n > 0 {
			sign = "+"
		}
		s := fmt.Sprintf("%s%d %s", sign, n, unit)
		if n != 1 {
			s += "s"
		}
		parts = append(parts, s)
		before = n < 0
	}
	part(iv.months/12, "year")
	part(iv.months%12, "mon")
	part(iv.days, "day")
	if iv.micros != 0 || len(parts) == 0 {
		us := iv.micros
		sign := ""
		if us < 0 {
			sign, us = "-", -us
		} else if before {
			sign = "+"
		}
		clock := fmt.Sprintf("%s%02d:%02d:%02d", sign, us/3600e6, us/60e6%60, us/1e6%60)
		if frac := us % 1e6; frac != 0 {
			clock += strings.TrimRight(fmt.Sprintf(".%06d", frac), "0")
		}
		parts = append(parts, clock)
	}
	return strings.Join(parts, " ")
}

func castInterval(x any) (any, error) {
	s := asString(x)
	iv, ok := parseInterval(s)
	if !ok {
		return nil, funcError(pgerror.InvalidDatetimeFormat, fmt.Sprintf("invalid input syntax for type interval: %q", s))
	}
	if !iv.fits() {
		return nil, errIntervalRange()
	}
	return iv.String(), nil
}

// fits reports whether iv is in PostgreSQL's interval range: months and
// days are int32 there, the time part int64 microseconds.
func (iv interval) fits() bool {
	return iv.months >= math.MinInt32 && iv.months <= math.MaxInt32 &&
		iv.days >= math.MinInt32 && iv.days <= math.MaxInt32
}

func errIntervalRange() error {
	return funcError(pgerror.DatetimeFieldOverflow, "interval out of range")
}

// intervalFromFloats builds an interval from computed parts, or fails with
// interval out of range where a part would not fit.
func intervalFromFloats(months, days, micros float64) (interval, error) {
	if math.IsNaN(months+days+micros) || math.Abs(months) > math.MaxInt32 || math.Abs(days) > math.MaxInt32 ||
		math.Abs(micros) >= math.MaxInt64 {
		return interval{}, errIntervalRange()
	}
	return interval{months: int64(months), days: int64(days), micros: int64(math.Round(micros))}, nil
}

// extractInterval is extract(field FROM interval).
func extractInterval(unit string, iv interval) (any, error) {
	secs := float64(iv.micros%60e6) / 1e6
	switch unit {
	case "epoch":
		return numberResult(float64(iv.months/12)*365.25*86400+float64(iv.months%12)*30*86400+
			float64(iv.days)*86400+float64(iv.micros)/1e6, nil)
	case "year":
		return iv.months / 12, nil
	case "month":
		return iv.months % 12, nil
	case "day":
		return iv.days, nil
	case "hour":
		return iv.micros / 3600e6, nil
	case "minute":
		return iv.micros / 60e6 % 60, nil
	case "second":
		return numberResult(secs, nil)
	case "milliseconds":
		return numberResult(secs*1000, nil)
	case "microseconds":
		return iv.micros % 60e6, nil
	}
	return nil, funcError(pgerror.FeatureNotSupported, fmt.Sprintf("unit %q not supported for type interval", unit))
}
