package pgvalue

import (
	"strings"
	"time"
)

// Date and time text as PostgreSQL 15 prints it with DateStyle ISO. Each
// function rounds t to microseconds, PostgreSQL's precision. Years outside
// 1..9999 print as Go prints them (no "BC").

// AppendDate appends t's date: 2024-02-29.
func AppendDate(b []byte, t time.Time) []byte {
	return t.Round(time.Microsecond).AppendFormat(b, "2006-01-02")
}

// AppendTime appends t's time of day, the fraction without trailing zeros:
// 13:04:05.12.
func AppendTime(b []byte, t time.Time) []byte {
	return t.Round(time.Microsecond).AppendFormat(b, "15:04:05.999999")
}

// AppendTimestamp appends t's wall clock as a timestamp:
// 2024-01-02 03:04:05.12.
func AppendTimestamp(b []byte, t time.Time) []byte {
	return t.Round(time.Microsecond).AppendFormat(b, "2006-01-02 15:04:05.999999")
}

// AppendTimestamptz appends t as a timestamptz in t's own zone (the
// session's TimeZone is the caller's business), with the zone's UTC offset:
// 2024-01-02 03:04:05+05:30.
func AppendTimestamptz(b []byte, t time.Time) []byte {
	t = t.Round(time.Microsecond)
	b = t.AppendFormat(b, "2006-01-02 15:04:05.999999")
	_, off := t.Zone()
	return AppendUTCOffset(b, off)
}

// AppendUTCOffset appends an offset in seconds east of UTC the way
// PostgreSQL's EncodeTimezone does: "+00", "-07", "+05:30", and seconds
// only when not zero.
func AppendUTCOffset(b []byte, off int) []byte {
	sign := byte('+')
	if off < 0 {
		sign, off = '-', -off
	}
	h, m, s := off/3600, off/60%60, off%60
	b = append(b, sign, byte('0'+h/10), byte('0'+h%10))
	if m != 0 || s != 0 {
		b = append(b, ':', byte('0'+m/10), byte('0'+m%10))
	}
	if s != 0 {
		b = append(b, ':', byte('0'+s/10), byte('0'+s%10))
	}
	return b
}

// InfiniteTime is a date, timestamp or timestamptz that is PostgreSQL's
// infinity (after every other value) or -infinity (before every other
// value). It is how pgwire hands such a parameter to the engine and how the
// engine hands such a row value back; in the database it is the text
// String returns, which sorts right among the ISO texts of finite values
// (translate/types.go).
type InfiniteTime int8

// The two infinities.
const (
	NegInfinity InfiniteTime = -1
	PosInfinity InfiniteTime = 1
)

// String is the value's text in PostgreSQL's output and in storage:
// "infinity" or "-infinity".
func (i InfiniteTime) String() string {
	if i < 0 {
		return "-infinity"
	}
	return "infinity"
}

// ParseInfinity reads the special inputs "infinity" and "-infinity" as
// date_in, timestamp_in and timestamptz_in do in PostgreSQL 15: any case,
// surrounding white space allowed, and between the sign and the word too
// (ParseDateTime soaks it up); "+infinity" is PostgreSQL 16's.
func ParseInfinity(s string) (InfiniteTime, bool) {
	t := strings.ToLower(strings.TrimSpace(s))
	inf := PosInfinity
	if rest, ok := strings.CutPrefix(t, "-"); ok {
		t, inf = strings.TrimSpace(rest), NegInfinity
	}
	if t != "infinity" {
		return 0, false
	}
	return inf, true
}
