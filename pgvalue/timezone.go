package pgvalue

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Time zone settings. PostgreSQL accepts a zone name from the tz database,
// a numeric offset ("+02", "-5", "+05:30": positive is east of UTC, as
// with SET TIME ZONE 2), or a POSIX-style abbreviation with its offset,
// which is how it names the zone a number or an interval sets:
// SET TIME ZONE -7 shows as "<-07>+07" (the POSIX part counts west).

// LoadZone returns the location a TimeZone setting names, and false when
// the name is none of the above.
func LoadZone(name string) (*time.Location, bool) {
	v := strings.TrimSpace(name)
	switch strings.ToUpper(v) {
	case "":
		return nil, false
	case "UTC", "GMT", "Z", "ETC/UTC", "UCT", "ZULU":
		return time.UTC, true
	}
	if strings.HasPrefix(v, "<") {
		abbr, posix, ok := strings.Cut(v[1:], ">")
		if !ok {
			return nil, false
		}
		east, ok := parseOffset(abbr)
		west, ok2 := parseOffset(posix)
		if !ok || !ok2 || east != -west {
			return nil, false
		}
		return time.FixedZone(v, east), true
	}
	if c := v[0]; c == '+' || c == '-' || c >= '0' && c <= '9' {
		off, ok := parseOffset(v)
		if !ok {
			return nil, false
		}
		return time.FixedZone(v, off), true
	}
	if strings.Contains(v, "..") || strings.HasPrefix(v, "/") {
		return nil, false // a file path, not a zone name
	}
	loc, err := time.LoadLocation(v)
	if err != nil {
		return nil, false
	}
	return loc, true
}

// parseOffset reads "[+-]hh[:mm[:ss]]" as seconds east of UTC.
func parseOffset(s string) (int, bool) {
	sign := 1
	switch {
	case strings.HasPrefix(s, "+"):
		s = s[1:]
	case strings.HasPrefix(s, "-"):
		sign, s = -1, s[1:]
	}
	parts := strings.Split(s, ":")
	if len(parts) > 3 || s == "" {
		return 0, false
	}
	secs := 0
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || i > 0 && n > 59 || i == 0 && n > 167 {
			return 0, false
		}
		secs += n * []int{3600, 60, 1}[i]
	}
	return sign * secs, true
}

// OffsetZoneName is the name PostgreSQL gives the zone of a fixed offset
// (seconds east of UTC), as SHOW timezone prints it: 7 hours west is
// "<-07>+07", 5h30 east "<+05:30>-05:30", zero "<+00>-00".
func OffsetZoneName(east int) string {
	return "<" + offsetText(east, "+", "-") + ">" + offsetText(east, "-", "+")
}

// offsetText prints |secs| as hh[:mm[:ss]] after pos's sign for a
// non-negative offset and neg's for a negative one.
func offsetText(secs int, pos, neg string) string {
	sign := pos
	if secs < 0 {
		sign, secs = neg, -secs
	}
	s := fmt.Sprintf("%s%02d", sign, secs/3600)
	if m, sec := secs/60%60, secs%60; m != 0 || sec != 0 {
		s += fmt.Sprintf(":%02d", m)
		if sec != 0 {
			s += fmt.Sprintf(":%02d", sec)
		}
	}
	return s
}
