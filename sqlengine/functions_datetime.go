package sqlengine

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/pgraft/pgraft/pgvalue"
	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// Date and time values are TEXT in the storage forms of translate/types.go. These
// functions parse PostgreSQL's ISO input forms into time.Time (always UTC)
// and format them back; they never read the clock, so that replicated
// writes stay deterministic ('now' and 'today' are refused).

var datetimeTypeName = map[string]string{
	"date": "date", "timestamp": "timestamp", "timestamptz": "timestamp with time zone",
	"time": "time without time zone",
}

var (
	reISODate   = regexp.MustCompile(`^(\d{4,})-(\d{1,2})-(\d{1,2})`)
	reMDYDate   = regexp.MustCompile(`^(\d{1,2})/(\d{1,2})/(\d{4,})`)
	reDenseDate = regexp.MustCompile(`^(\d{4})(\d{2})(\d{2})`)
	// Year first with / or . (PostgreSQL reads a leading 4-digit field as
	// the year whatever DateStyle says): 1962/2/18, 2021.01.01.
	reYMDSlash = regexp.MustCompile(`^(\d{4,})[/.](\d{1,2})[/.](\d{1,2})`)
	// Month names: Feb 18 1962, January 8, 1999, 08-Jan-1999, 8 jan 1999,
	// 1999-Jan-08, with an optional weekday first (Mon, …).
	reWeekday    = regexp.MustCompile(`^(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)[a-z]*,?\s+`)
	reMonthFirst = regexp.MustCompile(`^([a-z]{3,9})\.?[\s-]+(\d{1,2})(?:st|nd|rd|th)?,?[\s-]+(\d{4,})`)
	reDayMonth   = regexp.MustCompile(`^(\d{1,2})[\s-]+([a-z]{3,9})\.?,?[\s-]+(\d{4,})`)
	reYearMonth  = regexp.MustCompile(`^(\d{4,})[\s-]+([a-z]{3,9})\.?[\s-]+(\d{1,2})`)
	reMeridiem   = regexp.MustCompile(`^\s*([ap])\.?m\.?(?:\s+|$)`)
	reClock      = regexp.MustCompile(`^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?`)
	// HHMMSS[.f], a time written without colons (040506).
	reDenseClock = regexp.MustCompile(`^(\d{2})(\d{2})(\d{2})(?:\.(\d+))?(?:$|\s|[+-]|z)`)
	// YYMMDD (990108: 1999-01-08), YYYY.DDD (1999.008: day of year) and
	// Julian days (J2451187).
	reDenseDate6 = regexp.MustCompile(`^(\d{2})(\d{2})(\d{2})$`)
	reYearDay    = regexp.MustCompile(`^(\d{4})\.(\d{3})(?:$|\s)`)
	reJulian     = regexp.MustCompile(`^j(\d{1,8})(?:$|\s)`)
	// ctime's order, as date(1) and PostgreSQL's own Postgres DateStyle
	// print it: Sat Mar 04 05:06:07 2021 (the weekday is optional).
	reCtime = regexp.MustCompile(`^([a-z]{3,9})\s+(\d{1,2})\s+(\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)\s+(\d{4})(\s.*)?$`)
	reZone  = regexp.MustCompile(`^(?:z|utc|gmt|([+-])(\d{1,2})(?::?(\d{2}))?)$`)
)

// parsedTime is a parsed date/time input.
type parsedTime struct {
	t       time.Time // UTC after applying an explicit zone offset
	hasDate bool
	zone    bool // an explicit zone was given
	h24     bool // the clock read 24:00:00 (a time keeps it; a timestamp is the next day)
}

// julianEpoch is the Julian day number of 1970-01-01.
const julianEpoch = 2440588

// errBadDatetime and errDatetimeRange tell parseDatetime's callers which
// PostgreSQL error to raise.
type datetimeErr int

const (
	dtOK datetimeErr = iota
	dtSyntax
	dtRange
	dtSpecial // now, today, infinity…: not deterministic, or not a time.Time
)

// parseDatetime parses "YYYY-MM-DD[( |T)HH:MM[:SS[.f]]][zone]", the MDY and
// YYYYMMDD date forms, a bare time (when dateOptional), and 'epoch'.
func parseDatetime(s string, dateOptional bool) (parsedTime, datetimeErr) {
	orig := strings.TrimSpace(s)
	t := strings.ToLower(orig)
	switch t {
	case "epoch":
		return parsedTime{t: time.Unix(0, 0).UTC(), hasDate: true}, dtOK
	case "allballs": // 00:00:00 UTC, a time only
		if dateOptional {
			return parsedTime{t: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)}, dtOK
		}
		return parsedTime{}, dtSyntax
	case "now", "today", "tomorrow", "yesterday", "infinity", "-infinity":
		return parsedTime{}, dtSpecial
	}
	if m := reCtime.FindStringSubmatch(strings.TrimPrefix(t, reWeekday.FindString(t))); m != nil && monthOf(m[1]) > 0 {
		// Reorder into ISO and read that (Sat Mar 04 05:06:07 2021 PST).
		iso := fmt.Sprintf("%s-%02d-%02d %s%s", m[4], monthOf(m[1]), atoi(m[2]), m[3], m[5])
		return parseDatetime(iso, dateOptional)
	}
	var p parsedTime
	y, mo, d := 2000, 1, 1
	if m := reJulian.FindStringSubmatch(t); m != nil {
		jd := time.Unix(0, 0).UTC().AddDate(0, 0, atoi(m[1])-julianEpoch)
		y, mo, d = jd.Year(), int(jd.Month()), jd.Day()
		t = t[len(m[0]):]
		p.hasDate = true
	} else if m := reYearDay.FindStringSubmatch(t); m != nil {
		doy := atoi(m[2])
		if doy < 1 || doy > 366 { // 366 in a common year is the next 1 January, as PostgreSQL reads it
			return p, dtRange
		}
		jd := time.Date(atoi(m[1]), 1, doy, 0, 0, 0, 0, time.UTC)
		y, mo, d = jd.Year(), int(jd.Month()), jd.Day()
		t = t[len(m[0]):]
		p.hasDate = true
	} else if m := reDenseDate6.FindStringSubmatch(t); m != nil && !dateOptional {
		// A two-digit year: 70-99 are 19xx, 00-69 20xx, as PostgreSQL.
		y, mo, d = atoi(m[1]), atoi(m[2]), atoi(m[3])
		if y < 70 {
			y += 2000
		} else {
			y += 1900
		}
		t = ""
		p.hasDate = true
	} else if m := reISODate.FindStringSubmatch(t); m != nil {
		y, mo, d = atoi(m[1]), atoi(m[2]), atoi(m[3])
		t = t[len(m[0]):]
		p.hasDate = true
	} else if m := reMDYDate.FindStringSubmatch(t); m != nil {
		mo, d, y = atoi(m[1]), atoi(m[2]), atoi(m[3])
		t = t[len(m[0]):]
		p.hasDate = true
	} else if m := reDenseDate.FindStringSubmatch(t); m != nil && (len(t) == 8 || t[8] == ' ' || t[8] == 't') {
		y, mo, d = atoi(m[1]), atoi(m[2]), atoi(m[3])
		t = t[8:]
		p.hasDate = true
	} else if m := reYMDSlash.FindStringSubmatch(t); m != nil {
		y, mo, d = atoi(m[1]), atoi(m[2]), atoi(m[3])
		t = t[len(m[0]):]
		p.hasDate = true
	} else if yy, mm, dd, rest, ok := namedMonthDate(t); ok {
		y, mo, d, t = yy, mm, dd, rest
		p.hasDate = true
	} else if !dateOptional {
		return p, dtSyntax
	}
	if p.hasDate && (strings.HasPrefix(t, "t") || strings.HasPrefix(t, " ")) {
		t = strings.TrimLeft(t[1:], " ")
	}
	h, mi, sec, nanos := 0, 0, 0, 0
	m := reClock.FindStringSubmatch(t)
	if m == nil {
		if m = reDenseClock.FindStringSubmatch(t); m != nil {
			m[0] = strings.TrimRight(m[0], " +-z") // the zone that follows is read below
		}
	}
	if m != nil {
		h, mi, sec = atoi(m[1]), atoi(m[2]), atoi(m[3])
		frac := (m[4] + "000000000")[:9]
		nanos = atoi(frac)
		if len(m[4]) > 6 {
			// PostgreSQL keeps microseconds: rint of the fraction read as a
			// double (.1234565 is .12345649999… there, so 123456).
			f, _ := strconv.ParseFloat("0."+m[4], 64)
			nanos = int(math.RoundToEven(f*1e6)) * 1000
		}
		t = strings.TrimSpace(t[len(m[0]):])
		if mm := reMeridiem.FindStringSubmatch(t); mm != nil { // 10:00 pm
			if h < 1 || h > 12 {
				return p, dtRange
			}
			h %= 12
			if mm[1] == "p" {
				h += 12
			}
			t = strings.TrimSpace(t[len(mm[0]):])
		}
	} else if !p.hasDate {
		return p, dtSyntax
	}
	offset := 0
	var loc *time.Location // a zone given by name (America/New_York)
	if t != "" {
		if m := reZone.FindStringSubmatch(t); m != nil {
			p.zone = true
			if m[1] != "" {
				offset = atoi(m[2])*3600 + atoi(m[3])*60
				if m[1] == "-" {
					offset = -offset
				}
			}
		} else if off, ok := zoneAbbreviations[t]; ok {
			p.zone, offset = true, off
		} else if l := namedZone(orig[len(orig)-len(t):]); l != nil {
			p.zone, loc = true, l
		} else {
			return p, dtSyntax
		}
	}
	if mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) || h > 24 || mi > 59 || sec > 60 ||
		(h == 24 && (mi > 0 || sec > 0 || nanos > 0)) {
		return p, dtRange
	}
	p.h24 = h*3600+mi*60+sec == 86400 // 24:00:00, or 23:59:60 (a leap second rolls over)
	if loc != nil {
		p.t = time.Date(y, time.Month(mo), d, h, mi, sec, nanos, loc).UTC()
		return p, dtOK
	}
	p.t = time.Date(y, time.Month(mo), d, h, mi, sec, nanos, time.UTC).Add(-time.Duration(offset) * time.Second)
	return p, dtOK
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// zoneAbbreviations are the offsets, in seconds east of UTC, of the zone
// abbreviations of PostgreSQL's Default timezone_abbreviations set that
// input meets most (EST, PDT, CET, …).
var zoneAbbreviations = map[string]int{
	"est": -5 * 3600, "edt": -4 * 3600, "cst": -6 * 3600, "cdt": -5 * 3600, "mst": -7 * 3600,
	"mdt": -6 * 3600, "pst": -8 * 3600, "pdt": -7 * 3600, "akst": -9 * 3600, "akdt": -8 * 3600,
	"hst": -10 * 3600, "wet": 0, "west": 3600, "bst": 3600, "cet": 3600, "cest": 2 * 3600,
	"met": 3600, "mest": 2 * 3600, "eet": 2 * 3600, "eest": 3 * 3600, "msk": 3 * 3600,
	"ist": 2 * 3600, "jst": 9 * 3600, "kst": 9 * 3600, "aest": 10 * 3600, "aedt": 11 * 3600,
	"acst": 9*3600 + 1800, "awst": 8 * 3600, "nzst": 12 * 3600, "nzdt": 13 * 3600,
}

// namedZone is the time zone a name such as America/New_York or PST8PDT
// stands for (the tz database's names, as SET TIME ZONE takes them), or
// nil. A zone name has a letter first and no spaces.
func namedZone(name string) *time.Location {
	if name == "" || strings.ContainsAny(name, " \t") || !(name[0] >= 'A' && name[0] <= 'Z' || name[0] >= 'a' && name[0] <= 'z') {
		return nil
	}
	if l, err := time.LoadLocation(name); err == nil {
		return l
	}
	return nil
}

// monthNumbers are the month names PostgreSQL reads, by their first three
// letters (a longer word must be a prefix of the full name).
var monthNumbers = map[string]int{"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
	"jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12}

var monthFull = [...]string{"", "january", "february", "march", "april", "may", "june", "july",
	"august", "september", "october", "november", "december"}

// monthOf is the number of a month name or abbreviation (jan, january,
// sept), 0 when word is none.
func monthOf(word string) int {
	if len(word) < 3 {
		return 0
	}
	n := monthNumbers[word[:3]]
	if n == 0 || !strings.HasPrefix(monthFull[n], word) && !(n == 9 && word == "sept") {
		return 0
	}
	return n
}

// namedMonthDate reads a date written with a month name (Feb 18 1962,
// January 8, 1999, 08-Jan-1999, 1999-Jan-08), after an optional weekday;
// rest is what follows it.
func namedMonthDate(t string) (y, mo, d int, rest string, ok bool) {
	if m := reWeekday.FindString(t); m != "" {
		t = t[len(m):]
	}
	if m := reMonthFirst.FindStringSubmatch(t); m != nil && monthOf(m[1]) > 0 {
		return atoi(m[3]), monthOf(m[1]), atoi(m[2]), t[len(m[0]):], true
	}
	if m := reDayMonth.FindStringSubmatch(t); m != nil && monthOf(m[2]) > 0 {
		return atoi(m[3]), monthOf(m[2]), atoi(m[1]), t[len(m[0]):], true
	}
	if m := reYearMonth.FindStringSubmatch(t); m != nil && monthOf(m[2]) > 0 {
		return atoi(m[1]), monthOf(m[2]), atoi(m[3]), t[len(m[0]):], true
	}
	return 0, 0, 0, "", false
}

func daysIn(y, m int) int {
	return time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// castDatetime converts text to the storage form of date, timestamp,
// timestamptz or time.
func castDatetime(x any, srctyp, typ string, typmod int64) (any, error) {
	s := asString(x)
	inf, ok := pgvalue.ParseInfinity(s) // the input words
	if !ok && isDatetimeType(srctyp) {
		inf, ok = storedInfinity(x) // a stored infinity
	}
	if ok {
		return castInfinity(inf, s, srctyp, typ) // functions_infinity.go
	}
	return castFinite(x, s, srctyp, typ, typmod)
}

// castFinite is castDatetime of anything but an infinity.
func castFinite(x any, s, srctyp, typ string, typmod int64) (any, error) {
	p, e := parseDatetime(s, typ == "time")
	switch e {
	case dtSyntax:
		return nil, funcError(pgerror.InvalidDatetimeFormat,
			fmt.Sprintf("invalid input syntax for type %s: %q", datetimeTypeName[typ], s))
	case dtRange:
		return nil, funcError(pgerror.DatetimeFieldOverflow, fmt.Sprintf("date/time field value out of range: %q", s))
	case dtSpecial:
		return nil, funcError(pgerror.FeatureNotSupported,
			fmt.Sprintf("the special %s input %q is not supported by pgraft", datetimeTypeName[typ], strings.TrimSpace(s)))
	}
	t := p.t
	if t.Year() < 1 || t.Year() > 9999 {
		// Stored as ISO text, a year outside 1..9999 would neither print
		// nor sort as PostgreSQL's do.
		return nil, funcError(pgerror.FeatureNotSupported,
			fmt.Sprintf("%s values outside the years 1 to 9999 are not supported by pgraft: %q", datetimeTypeName[typ], strings.TrimSpace(s)))
	}
	if (typ == "timestamp" || typ == "time") && p.zone {
		// timestamp and time without time zone ignore an explicit zone:
		// re-parse the wall clock without it.
		q, _ := parseDatetime(stripZone(strings.TrimSpace(s)), typ == "time")
		t = q.t
	}
	if typmod >= 0 && typmod < 6 && typ != "date" {
		unit := time.Duration(math.Pow10(9 - int(typmod)))
		t = t.Round(unit)
	}
	switch typ {
	case "date":
		return t.Format("2006-01-02"), nil
	case "time":
		if p.h24 {
			return "24:00:00", nil // PostgreSQL keeps the end of the day
		}
		return t.Format("15:04:05.999999"), nil
	}
	_ = srctyp
	return formatTimestamp(t), nil
}

var reZoneSuffix = regexp.MustCompile(`(?i)\s*(z|utc|gmt|[+-]\d{1,2}(:?\d{2})?)$`)

// stripZone removes the zone that ends a date/time input: an offset, Z,
// UTC, an abbreviation (PST) or a tz database name (America/New_York).
func stripZone(s string) string {
	if r := reZoneSuffix.ReplaceAllString(s, ""); r != s {
		return r
	}
	if i := strings.LastIndexAny(s, " \t"); i > 0 {
		word := s[i+1:]
		if _, ok := zoneAbbreviations[strings.ToLower(word)]; ok || namedZone(word) != nil {
			return strings.TrimSpace(s[:i])
		}
	}
	return s
}

// extractUnits maps PostgreSQL's unit spellings to canonical field names.
var extractUnits = map[string]string{
	"y": "year", "yr": "year", "yrs": "year", "year": "year", "years": "year",
	"mon": "month", "mons": "month", "month": "month", "months": "month",
	"d": "day", "day": "day", "days": "day",
	"h": "hour", "hr": "hour", "hrs": "hour", "hour": "hour", "hours": "hour",
	"m": "minute", "min": "minute", "mins": "minute", "minute": "minute", "minutes": "minute",
	"s": "second", "sec": "second", "secs": "second", "second": "second", "seconds": "second",
	"ms": "milliseconds", "msec": "milliseconds", "msecs": "milliseconds", "millisecond": "milliseconds",
	"milliseconds": "milliseconds", "us": "microseconds", "usec": "microseconds", "usecs": "microseconds",
	"microsecond": "microseconds", "microseconds": "microseconds",
	"w": "week", "week": "week", "weeks": "week", "qtr": "quarter", "quarter": "quarter",
	"dec": "decade", "decade": "decade", "decades": "decade", "c": "century", "cent": "century",
	"century": "century", "centuries": "century", "mil": "millennium", "millennium": "millennium",
	"millennia": "millennium", "epoch": "epoch", "dow": "dow", "doy": "doy", "isodow": "isodow",
	"isoyear": "isoyear", "julian": "julian", "j": "julian", "timezone": "timezone",
	"timezone_hour": "timezone_hour", "timezone_minute": "timezone_minute",
}

// pgExtract is extract(field FROM x) / date_part('field', x) on a date or
// timestamp storage text (or an interval's text).
func pgExtract(field string, x any) (any, error) {
	if x == nil {
		return nil, nil
	}
	unit, ok := extractUnits[strings.ToLower(strings.TrimSpace(field))]
	if !ok {
		return nil, funcError(pgerror.InvalidParameterValue, fmt.Sprintf("unit %q not recognized for type timestamp", field))
	}
	if inf, ok := storedInfinity(x); ok {
		return extractInfinity(unit, inf)
	}
	if t, ok := parseTimetzStorage(x); ok {
		return extractTimetz(unit, t) // functions_timetz.go
	}
	s := asString(x)
	p, e := parseDatetime(s, true)
	if e != dtOK {
		if iv, ok := parseInterval(s); ok {
			return extractInterval(unit, iv)
		}
		return nil, funcError(pgerror.InvalidDatetimeFormat, fmt.Sprintf("invalid input syntax for type timestamp: %q", s))
	}
	return numberResult(extractTime(unit, p.t))
}

// numberResult returns an integral float as int64, like numeric output.
func numberResult(f float64, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return int64(f), nil
	}
	return f, nil
}

func extractTime(unit string, t time.Time) (float64, error) {
	y := t.Year()
	secs := float64(t.Second()) + float64(t.Nanosecond())/1e9
	switch unit {
	case "year":
		return float64(y), nil
	case "month":
		return float64(t.Month()), nil
	case "day":
		return float64(t.Day()), nil
	case "hour":
		return float64(t.Hour()), nil
	case "minute":
		return float64(t.Minute()), nil
	case "second":
		return secs, nil
	case "milliseconds":
		return secs * 1000, nil
	case "microseconds":
		return float64(t.Second())*1e6 + float64(t.Nanosecond()/1000), nil
	case "epoch":
		return float64(t.UnixMicro()) / 1e6, nil
	case "dow":
		return float64(t.Weekday()), nil
	case "isodow":
		return float64((int(t.Weekday())+6)%7 + 1), nil
	case "doy":
		return float64(t.YearDay()), nil
	case "quarter":
		return float64((int(t.Month())-1)/3 + 1), nil
	case "week":
		_, w := t.ISOWeek()
		return float64(w), nil
	case "isoyear":
		iy, _ := t.ISOWeek()
		return float64(iy), nil
	case "decade":
		return math.Floor(float64(y) / 10), nil
	case "century":
		return float64((y + 99) / 100), nil
	case "millennium":
		return float64((y + 999) / 1000), nil
	case "julian":
		days := float64(t.Unix())/86400 + 2440587.5 + 0.5
		return days, nil
	case "timezone", "timezone_hour", "timezone_minute":
		return 0, nil
	}
	return 0, funcError(pgerror.FeatureNotSupported, fmt.Sprintf("unit %q not supported for type timestamp", unit))
}

// pgDateTrunc is date_trunc('unit', x); the result keeps x's storage form
// (a date stays a date, a timestamp a timestamp).
func pgDateTrunc(field string, x any) (any, error) {
	if x == nil {
		return nil, nil
	}
	if _, ok := storedInfinity(x); ok {
		return x, nil // timestamp_trunc keeps an infinity, whatever the unit
	}
	s := asString(x)
	p, e := parseDatetime(s, false)
	if e != dtOK {
		return nil, funcError(pgerror.InvalidDatetimeFormat, fmt.Sprintf("invalid input syntax for type timestamp: %q", s))
	}
	t := p.t
	unit := extractUnits[strings.ToLower(strings.TrimSpace(field))]
	y, mo, d := t.Date()
	switch unit {
	case "microseconds":
		t = t.Truncate(time.Microsecond)
	case "milliseconds":
		t = t.Truncate(time.Millisecond)
	case "second":
		t = t.Truncate(time.Second)
	case "minute":
		t = t.Truncate(time.Minute)
	case "hour":
		t = t.Truncate(time.Hour)
	case "day":
		t = time.Date(y, mo, d, 0, 0, 0, 0, time.UTC)
	case "week":
		t = time.Date(y, mo, d-(int(t.Weekday())+6)%7, 0, 0, 0, 0, time.UTC)
	case "month":
		t = time.Date(y, mo, 1, 0, 0, 0, 0, time.UTC)
	case "quarter":
		t = time.Date(y, time.Month((int(mo)-1)/3*3+1), 1, 0, 0, 0, 0, time.UTC)
	case "year":
		t = time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)
	case "decade":
		t = time.Date(y-y%10, 1, 1, 0, 0, 0, 0, time.UTC)
	case "century":
		t = time.Date((y-1)/100*100+1, 1, 1, 0, 0, 0, 0, time.UTC)
	case "millennium":
		t = time.Date((y-1)/1000*1000+1, 1, 1, 0, 0, 0, 0, time.UTC)
	default:
		return nil, funcError(pgerror.InvalidParameterValue, fmt.Sprintf("unit %q not recognized for type timestamp", field))
	}
	if !strings.ContainsAny(strings.TrimSpace(s), ": ") {
		return t.Format("2006-01-02"), nil
	}
	return formatTimestamp(t), nil
}
