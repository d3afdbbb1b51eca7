package sqlengine

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/pgraft/pgraft/pgvalue"
	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// time with time zone (timetz). PostgreSQL orders two timetz by their UTC
// time (time minus offset), then by offset, east before west
// (timetz_cmp_internal); two are equal only when both parts are. A timetz
// is stored as text that SQLite's BINARY order sorts that way, followed by
// what PostgreSQL prints:
//
//	"%012d%06d|%s": UTC time in µs + 16h, 16h − offset in seconds, the text
//	e.g. 10:00:00+02 is "093600000000050400|10:00:00+02"
//
// Both numbers are within their widths for every valid timetz (UTC time
// -15:59:59 to 39:59:59, offsets within ±15:59:59), so fixed-width digits
// compare as the numbers do; the text after '|' is the canonical output of
// the two, which makes equal keys equal texts.
const timetzBias = 16 * 3600 // seconds: keeps both keys positive

// timetzStorage is the stored text of t.
func timetzStorage(t pgvalue.Timetz) string {
	utc := t.Micros - int64(t.Offset)*1e6 + timetzBias*1e6
	return fmt.Sprintf("%012d%06d|%s", utc, timetzBias-int64(t.Offset), pgvalue.AppendTimetz(nil, t))
}

// parseTimetzStorage reads a stored timetz.
func parseTimetzStorage(v any) (pgvalue.Timetz, bool) {
	s := asString(v)
	if len(s) < 19 || s[18] != '|' {
		return pgvalue.Timetz{}, false
	}
	utc, err1 := strconv.ParseInt(s[:12], 10, 64)
	zone, err2 := strconv.ParseInt(s[12:18], 10, 64)
	if err1 != nil || err2 != nil {
		return pgvalue.Timetz{}, false
	}
	off := int32(timetzBias - zone)
	t := pgvalue.Timetz{Micros: utc - timetzBias*1e6 + int64(off)*1e6, Offset: off}
	return t, t.Valid()
}

// pgTimetz is the cast to timetz that translation emits:
// pg_timetz(x, srctyp, typmod, now, zone). now (the statement's time: the
// entry's in a write) and zone (the session's TimeZone, which translation
// writes into the statement) decide the offset of an input without one
// (and of a time or timestamptz cast to timetz), the zone's offset on the
// statement's date as PostgreSQL takes it; both are arguments, so the
// result is a function of them alone and every node computes the same. A
// zone named in the input (America/New_York) needs a date in it, as in
// PostgreSQL, and is read from this node's tz database (DESIGN.md §11).
func pgTimetz(a []any) (any, error) {
	x := a[0]
	if x == nil {
		return nil, nil
	}
	src, mod := asString(orEmpty(a[1])), int64(-1)
	if a[2] != nil {
		mod, _ = toInt(a[2])
	}
	now, ok := ParseStorageTime(asString(orEmpty(a[3])))
	loc, okZone := pgvalue.LoadZone(asString(orEmpty(a[4])))
	if !ok || !okZone {
		return nil, funcError(pgerror.InvalidParameterValue, "pg_timetz: bad statement time or zone")
	}
	var t pgvalue.Timetz
	var err error
	switch src {
	case "timetz":
		t, ok = parseTimetzStorage(x)
		if !ok {
			return nil, badTimetz(asString(x))
		}
	case "timestamptz":
		ts, ok := ParseStorageTime(asString(x))
		if !ok {
			return nil, badTimetz(asString(x))
		}
		t = timetzAt(ts.In(loc))
	case "time":
		wall, ok := ParseStorageTime("2000-01-01 " + asString(x))
		if !ok && asString(x) != "24:00:00" {
			return nil, badTimetz(asString(x))
		}
		t, err = timetzIn(asString(x), wall, now, loc)
	default:
		t, err = parseTimetz(asString(x), now, loc)
	}
	if err != nil {
		return nil, err
	}
	if mod >= 0 && mod < 6 {
		unit := int64(math.Pow10(6 - int(mod)))
		t.Micros = (t.Micros + unit/2) / unit * unit // time_scale rounds half up
	}
	return timetzStorage(t), nil
}

// timetzAt is the timetz of a wall clock and its zone's offset.
func timetzAt(t time.Time) pgvalue.Timetz {
	_, off := t.Zone()
	y, m, d := t.Date()
	midnight := time.Date(y, m, d, 0, 0, 0, 0, t.Location())
	return pgvalue.Timetz{Micros: t.Sub(midnight).Microseconds(), Offset: int32(off)}
}

// timetzIn gives a time without zone the offset loc has at that time on
// the statement's date in loc, as PostgreSQL's DetermineTimeZoneOffset.
func timetzIn(text string, wall, now time.Time, loc *time.Location) (pgvalue.Timetz, error) {
	y, m, d := now.In(loc).Date()
	us := int64(wall.Hour()*3600+wall.Minute()*60+wall.Second())*1e6 + int64(wall.Nanosecond()/1000)
	if text == "24:00:00" {
		us = pgvalue.MaxTimeMicros
	}
	_, off := time.Date(y, m, d, 0, 0, 0, 0, loc).Add(time.Duration(us) * time.Microsecond).Zone()
	return pgvalue.Timetz{Micros: us, Offset: int32(off)}, nil
}

// parseTimetz is timetz_in: a time, optionally after a date, with an
// optional zone (offset, abbreviation or tz name).
func parseTimetz(s string, now time.Time, loc *time.Location) (pgvalue.Timetz, error) {
	if _, inf := pgvalue.ParseInfinity(s); inf {
		return pgvalue.Timetz{}, badTimetz(s)
	}
	p, e := parseDatetime(s, true)
	switch e {
	case dtSyntax, dtSpecial:
		return pgvalue.Timetz{}, badTimetz(s)
	case dtRange:
		return pgvalue.Timetz{}, funcError(pgerror.DatetimeFieldOverflow, fmt.Sprintf("date/time field value out of range: %q", s))
	}
	trimmed := strings.TrimSpace(s)
	bare := stripZone(trimmed)
	if p.hasDate && !strings.Contains(bare, ":") {
		return pgvalue.Timetz{}, badTimetz(s) // a date alone is no time
	}
	q, _ := parseDatetime(bare, true) // the wall clock, zone removed
	us := int64(q.t.Hour()*3600+q.t.Minute()*60+q.t.Second())*1e6 + int64(q.t.Nanosecond()/1000)
	if p.h24 {
		us = pgvalue.MaxTimeMicros
	}
	var off int
	zoneText := strings.TrimSpace(trimmed[len(bare):])
	lower := strings.ToLower(zoneText)
	_, abbrev := zoneAbbreviations[lower]
	named := !reZone.MatchString(lower) && !abbrev && namedZone(zoneText) != nil // as parseDatetime reads it
	switch {
	case !p.zone:
		t, err := timetzIn("", q.t, dateOr(p, q.t, now, loc), loc)
		t.Micros = us
		return t, err
	case named && !p.hasDate:
		// A tz database name needs the date to know its offset: PostgreSQL
		// refuses it without one rather than take today's.
		return pgvalue.Timetz{}, badTimetz(s)
	default:
		off = int(q.t.Sub(p.t).Seconds()) // wall clock minus UTC
	}
	t := pgvalue.Timetz{Micros: us, Offset: int32(off)}
	if !t.Valid() {
		return t, funcError("22009", fmt.Sprintf("time zone displacement out of range: %q", s))
	}
	return t, nil
}

// dateOr is the date whose offset a zone-less time takes: its own date when
// the input had one, else the statement's.
func dateOr(p parsedTime, wall, now time.Time, loc *time.Location) time.Time {
	if p.hasDate {
		return time.Date(wall.Year(), wall.Month(), wall.Day(), 12, 0, 0, 0, loc)
	}
	return now
}

func badTimetz(s string) error {
	return funcError(pgerror.InvalidDatetimeFormat, fmt.Sprintf("invalid input syntax for type time with time zone: %q", s))
}

// castFromTimetz is a stored timetz cast to time (its time of day) or to
// text (what PostgreSQL prints).
func castFromTimetz(x any, dsttyp string) (any, error) {
	t, ok := parseTimetzStorage(x)
	if !ok {
		return nil, badTimetz(asString(x))
	}
	if dsttyp == "time" {
		return string(pgvalue.AppendTimeMicros(nil, t.Micros)), nil
	}
	return string(pgvalue.AppendTimetz(nil, t)), nil
}

// castTimetzFixed is the cast to timetz where no statement time or session
// zone is at hand (a bound parameter, pg_cast): only an input with an
// explicit offset or abbreviation has one meaning everywhere, so one
// without is refused.
func castTimetzFixed(x any) (any, error) {
	s := asString(x)
	p, e := parseDatetime(s, true)
	if e == dtOK && !p.zone {
		return nil, funcError(pgerror.FeatureNotSupported,
			fmt.Sprintf("a time with time zone here needs an explicit UTC offset: %q", s))
	}
	t, err := parseTimetz(s, time.Unix(0, 0).UTC(), time.UTC)
	if err != nil {
		return nil, err
	}
	return timetzStorage(t), nil
}

// timetzArith is timetz ± interval (timetz_pl_interval, timetz_mi_interval):
// the interval's time part moves the clock round the day, its days and
// months do nothing, the offset stays. ok is false for other operands.
func timetzArith(op string, l any, lt string, r any, rt string) (v any, ok bool, err error) {
	tz, iv, minus := l, r, op == "-"
	switch {
	case lt == "timetz" && rt == "interval" && (op == "+" || op == "-"):
	case lt == "interval" && rt == "timetz" && op == "+":
		tz, iv = r, l
	default:
		if lt == "timetz" || rt == "timetz" {
			return nil, true, funcError(pgerror.UndefinedFunction, fmt.Sprintf("operator does not exist: %s %s %s", orUnknown(lt), op, orUnknown(rt)))
		}
		return nil, false, nil
	}
	t, okT := parseTimetzStorage(tz)
	d, okI := parseInterval(asString(iv))
	if !okT || !okI {
		return nil, true, badTimetz(asString(tz))
	}
	span := d.micros % pgvalue.MaxTimeMicros
	if minus {
		span = -span
	}
	t.Micros = ((t.Micros+span)%pgvalue.MaxTimeMicros + pgvalue.MaxTimeMicros) % pgvalue.MaxTimeMicros
	return timetzStorage(t), true, nil
}

// extractTimetz is extract/date_part of a timetz (timetz_part_common).
func extractTimetz(unit string, t pgvalue.Timetz) (any, error) {
	us := t.Micros
	switch unit {
	case "hour":
		return us / 3600e6, nil
	case "minute":
		return us / 60e6 % 60, nil
	case "second":
		return numberResult(float64(us%60e6)/1e6, nil)
	case "milliseconds":
		return numberResult(float64(us%60e6)/1e3, nil)
	case "microseconds":
		return us % 60e6, nil
	case "epoch":
		return numberResult(float64(us-int64(t.Offset)*1e6)/1e6, nil)
	case "timezone":
		return int64(t.Offset), nil
	case "timezone_hour":
		return int64(t.Offset / 3600), nil
	case "timezone_minute":
		return int64(t.Offset / 60 % 60), nil
	}
	return nil, funcError(pgerror.FeatureNotSupported, fmt.Sprintf("unit %q not supported for type time with time zone", unit))
}

// mustCastFromTimetz is the text of a timetz this package stored.
func mustCastFromTimetz(v any) any {
	t, _ := castFromTimetz(v, "text")
	return t
}
