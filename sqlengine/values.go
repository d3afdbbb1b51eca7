package sqlengine

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/pgraft/pgraft/pgvalue"
	"github.com/pgraft/pgraft/pgwire/pgerror"
	"github.com/pgraft/pgraft/sqlengine/translate"
)

// Conversions between the values pgwire speaks (nil, bool, int64, float64,
// string, []byte, time.Time; see pgwire.Portal) and SQLite's storage values,
// following the storage conventions in translate/types.go.

// ToStorage converts a bound parameter of PostgreSQL type oid to the value
// bound to SQLite.
func ToStorage(v any, oid uint32) (any, error) {
	if oid == pgvalue.OIDNumeric {
		switch x := v.(type) {
		case int64, float64, int, int32, float32:
			return stringToStorage(asString(normalizeNumber(x)), oid)
		}
	}
	switch x := v.(type) {
	case nil, int64, float64, []byte:
		if oid == pgvalue.OIDBool {
			if i, ok := x.(int64); ok {
				return boolInt(i != 0), nil
			}
		}
		return x, nil
	case bool:
		return boolInt(x), nil
	case int:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case float32:
		return float64(x), nil
	case time.Time:
		return timeToStorage(x, oid), nil
	case pgvalue.Timetz:
		return timetzStorage(x), nil
	case pgvalue.InfiniteTime:
		return infinityStorage(x), nil // sorts before or after every finite value (functions_infinity.go)
	case string:
		return stringToStorage(x, oid)
	}
	return nil, pgerror.New(pgerror.InvalidParameterValue, "unsupported parameter value of type %T", v)
}

func timeToStorage(t time.Time, oid uint32) string {
	switch oid {
	case pgvalue.OIDDate:
		return t.Format("2006-01-02")
	case pgvalue.OIDTimestamp:
		return formatTimestamp(t)
	default: // timestamptz, or a time bound where the type is unknown
		return formatTimestamp(t.UTC())
	}
}

func stringToStorage(s string, oid uint32) (any, error) {
	switch oid {
	case pgvalue.OIDDate, pgvalue.OIDTimestamp, pgvalue.OIDTimestamptz:
		if inf, ok := pgvalue.ParseInfinity(s); ok {
			return infinityStorage(inf), nil
		}
	case pgvalue.OIDTimetz:
		v, err := castTimetzFixed(s)
		if err != nil {
			if code, text, ok := splitFuncError(err.Error()); ok {
				return nil, &pgerror.Error{Code: code, Message: text}
			}
			return nil, err
		}
		return v, nil
	case pgvalue.OIDBool:
		b, ok := pgvalue.ParseBool(s)
		if !ok {
			return nil, pgvalue.InvalidInput("boolean", s)
		}
		return boolInt(b), nil
	case pgvalue.OIDInt2, pgvalue.OIDInt4, pgvalue.OIDInt8, pgvalue.OIDOid:
		i, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return nil, pgerror.New(pgerror.InvalidTextRepresentation, "invalid input syntax for type %s: %q", translate.TypeByOID(oid).SQLName, s)
		}
		return i, nil
	case pgvalue.OIDFloat4, pgvalue.OIDFloat8:
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil && !isFloatRangeErr(err) {
			return nil, pgerror.New(pgerror.InvalidTextRepresentation, "invalid input syntax for type %s: %q", translate.TypeByOID(oid).SQLName, s)
		}
		return f, nil
	case pgvalue.OIDUUID:
		return strings.ToLower(strings.TrimSpace(s)), nil
	case pgvalue.OIDNumeric:
		v, err := pgNumeric([]any{s}) // canonical text, exact (functions_numeric.go)
		if err != nil {
			if code, text, ok := splitFuncError(err.Error()); ok {
				return nil, &pgerror.Error{Code: code, Message: text}
			}
			return nil, err
		}
		return v, nil
	}
	return s, nil
}

func isFloatRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// FromStorage converts a value read from SQLite for a column of PostgreSQL
// type oid to the Go value pgwire encodes. loc is the session's TimeZone,
// in which timestamptz values are shown.
func FromStorage(v any, oid uint32, loc *time.Location) any {
	if v == nil {
		return nil
	}
	switch oid {
	case pgvalue.OIDBool:
		return toBool(v)
	case pgvalue.OIDInt2, pgvalue.OIDInt4, pgvalue.OIDInt8, pgvalue.OIDOid, pgvalue.OIDRegclass, pgvalue.OIDRegtype, pgvalue.OIDRegproc:
		if f, ok := v.(float64); ok && f == math.Trunc(f) && math.Abs(f) < 1<<63 {
			return int64(f)
		}
		if b, ok := v.(bool); ok {
			return boolInt(b)
		}
	case pgvalue.OIDFloat4, pgvalue.OIDFloat8:
		if i, ok := v.(int64); ok {
			return float64(i)
		}
	case pgvalue.OIDDate, pgvalue.OIDTimestamp, pgvalue.OIDTimestamptz:
		return toTime(v, oid, loc)
	case pgvalue.OIDTimetz:
		if t, ok := parseTimetzStorage(v); ok {
			return t
		}
	case pgvalue.OIDBytea:
		if s, ok := v.(string); ok {
			return []byte(s)
		}
	case pgvalue.OIDText, pgvalue.OIDVarchar, pgvalue.OIDBPChar, pgvalue.OIDName, pgvalue.OIDJSON, pgvalue.OIDJSONB, pgvalue.OIDUUID, pgvalue.OIDUnknown, pgvalue.OIDChar:
		return toText(v)
	}
	return v
}

func toBool(v any) any {
	switch x := v.(type) {
	case bool:
		return x
	case int64:
		return x != 0
	case float64:
		return x != 0
	case string:
		if b, ok := pgvalue.ParseBool(x); ok {
			return b
		}
	}
	return v
}

func toText(v any) any {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return pgvalue.FormatFloat8(x) // what PostgreSQL prints for a float8, the likeliest type here
	case bool:
		if x {
			return "true"
		}
		return "false"
	case time.Time:
		return formatTimestamp(x)
	}
	return v
}

var timeLayouts = []string{
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02T15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04",
	"2006-01-02",
}

// ParseStorageTime parses the text forms timestamps and dates are stored in.
func ParseStorageTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func toTime(v any, oid uint32, loc *time.Location) any {
	if inf, ok := storedInfinity(v); ok {
		return inf // functions_infinity.go
	}
	var t time.Time
	switch x := v.(type) {
	case time.Time:
		t = x
	case string:
		var ok bool
		if t, ok = ParseStorageTime(x); !ok {
			return x // not a timestamp after all: show it as stored
		}
	default:
		return v
	}
	switch oid {
	case pgvalue.OIDTimestamptz:
		if loc == nil {
			loc = time.UTC
		}
		return t.In(loc)
	case pgvalue.OIDDate:
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	}
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
}

// CheckInput fails as PostgreSQL's input function of type oid fails on s,
// for the types whose text ToStorage keeps as it is (uuid, json, jsonb):
// COPY FROM checks each value so, as PostgreSQL does.
func CheckInput(s string, oid uint32) error {
	var typ string
	switch oid {
	case pgvalue.OIDUUID:
		typ = "uuid"
	case pgvalue.OIDJSON:
		typ = "json"
	case pgvalue.OIDJSONB:
		typ = "jsonb"
	default:
		return nil
	}
	if _, err := pgCast(s, "text", typ, -1); err != nil {
		if code, text, ok := splitFuncError(err.Error()); ok {
			return &pgerror.Error{Code: code, Message: text}
		}
		return err
	}
	return nil
}

// normalizeNumber widens Go's smaller number types to int64 and float64.
func normalizeNumber(v any) any {
	switch x := v.(type) {
	case int:
		return int64(x)
	case int32:
		return int64(x)
	case float32:
		return float64(x)
	}
	return v
}
