package sqlengine

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/pgraft/pgraft/pgvalue"
	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// PostgreSQL's infinite dates and timestamps (DESIGN.md §9, "Infinite
// dates and timestamps").
//
// Storage. Every finite date, timestamp and timestamptz is stored as ISO
// text that begins with a four-digit year from 0001 to 9999, and SQLite
// orders them with its BINARY collation. The infinities are stored as two
// texts that no finite value has and that sort outside them:
//
//   - -infinity is "0000-01-01" (year 0 is below every finite year);
//   - infinity is "9999-12-31 23:59:59.9999999" (seven digits of fraction:
//     finite values have at most six, so it sorts after the last
//     microsecond of 9999).
//
// So ORDER BY, comparisons, min/max, indexes and UNIQUE order them as
// PostgreSQL does, values stored by older builds keep their place, and a
// date, timestamp or timestamptz infinity is the same text, so they compare
// equal across the three types as in PostgreSQL. The words themselves
// ("infinity") would sort right too, but go-sqlite3 reads a column declared
// DATE or TIMESTAMP as time.Time and gives the zero time (0001-01-01) for
// text it cannot parse: both sentinels parse, to times no finite value has
// (year 0; a fraction finer than a microsecond), so FromStorage tells them
// apart. Old builds refused infinity, so no other text was ever stored.
const (
	storedNegInfinity = "0000-01-01"
	storedPosInfinity = "9999-12-31 23:59:59.9999999"
)

// posInfinityTime is storedPosInfinity as go-sqlite3 parses it.
var posInfinityTime = time.Date(9999, 12, 31, 23, 59, 59, 999999900, time.UTC)

// infinityStorage is the stored text of an infinity.
func infinityStorage(inf pgvalue.InfiniteTime) string {
	if inf < 0 {
		return storedNegInfinity
	}
	return storedPosInfinity
}

// storedInfinity reports whether v, a stored date or timestamp (or the
// time.Time go-sqlite3 made of one), is an infinity, and which.
func storedInfinity(v any) (pgvalue.InfiniteTime, bool) {
	switch x := v.(type) {
	case string:
		return infinityText(x)
	case []byte:
		return infinityText(string(x))
	case time.Time:
		switch {
		case x.Year() == 0:
			return pgvalue.NegInfinity, true
		case x.Equal(posInfinityTime):
			return pgvalue.PosInfinity, true
		}
	}
	return 0, false
}

// infinityText reads the two stored texts, and the words PostgreSQL prints
// (a value that reached storage without its cast, which translation avoids).
func infinityText(s string) (pgvalue.InfiniteTime, bool) {
	switch s {
	case storedNegInfinity, "-infinity":
		return pgvalue.NegInfinity, true
	case storedPosInfinity, "infinity":
		return pgvalue.PosInfinity, true
	}
	return 0, false
}

// isDatetimeType reports the types whose values can be infinite.
func isDatetimeType(typ string) bool { return typ == "date" || isTS(typ) }

// pgCastLegacy is the SQL function pg_cast, which entries written before
// infinite dates call for every cast (translation now emits
// translate.DatetimeCastFunc for the date/time targets): it refuses what
// those builds refused, so that an old entry applies as it first did on
// every node, whichever build replays it. Those builds read "infinity",
// "-infinity" and "+infinity" as unsupported special inputs, and a stored
// date or timestamp as the date it spells ("0000-01-01", year 0, out of
// range).
func pgCastLegacy(x any, srctyp, dsttyp string, typmod int64) (any, error) {
	switch dsttyp {
	case "date", "timestamp", "timestamptz", "time":
		s := asString(x)
		switch t := strings.ToLower(strings.TrimSpace(s)); t {
		case "infinity", "-infinity", "+infinity":
			return nil, funcError(pgerror.FeatureNotSupported,
				fmt.Sprintf("the special %s input %q is not supported by pgraft", datetimeTypeName[dsttyp], strings.TrimSpace(s)))
		}
		if x != nil {
			return castFinite(x, s, srctyp, dsttyp, typmod)
		}
	}
	return pgCast(x, srctyp, dsttyp, typmod)
}

// castInfinity is the cast of an infinite value (or of the input text
// "infinity"/"-infinity") to date, timestamp, timestamptz or time. The
// three keep it (typmods do not round it); time has no infinity: its input
// refuses the word, and timestamp_time and timestamptz_time give NULL.
func castInfinity(inf pgvalue.InfiniteTime, s, srctyp, typ string) (any, error) {
	if typ != "time" {
		return infinityStorage(inf), nil
	}
	if isTS(srctyp) {
		return nil, nil
	}
	return nil, funcError(pgerror.InvalidDatetimeFormat,
		fmt.Sprintf("invalid input syntax for type %s: %q", datetimeTypeName[typ], s))
}

// extractInfinity is extract/date_part of an infinite date or timestamp,
// as PostgreSQL 15's NonFiniteTimestampTzPart answers: the fields that grow
// with time are ±Infinity, every other field is NULL.
func extractInfinity(unit string, inf pgvalue.InfiniteTime) (any, error) {
	switch unit {
	case "year", "decade", "century", "millennium", "julian", "isoyear", "epoch":
		return math.Inf(int(inf)), nil
	}
	return nil, nil
}

// pgIsFinite is isfinite(x) for a date, timestamp, timestamptz or
// interval (an interval is always finite in PostgreSQL 15).
func pgIsFinite(a []any) (any, error) {
	if a[0] == nil {
		return nil, nil
	}
	_, inf := storedInfinity(a[0])
	return boolInt(!inf), nil
}

// infiniteArith is date/time arithmetic with an infinite operand, or false
// when neither operand is infinite. Adding or subtracting days or an
// interval leaves an infinity as it is; the difference of two dates or
// timestamps fails when either is infinite (date_mi, timestamp_mi).
func infiniteArith(op string, l any, lt string, r any, rt string) (any, bool, error) {
	_, lInf := storedInfinity(l)
	_, rInf := storedInfinity(r)
	if !lInf && !rInf {
		return nil, false, nil
	}
	dated := isDatetimeType
	switch {
	case lt == "date" && rt == "date" && op == "-":
		return nil, true, funcError(pgerror.DatetimeFieldOverflow, "cannot subtract infinite dates")
	case isTS(lt) && isTS(rt) && op == "-":
		return nil, true, funcError(pgerror.DatetimeFieldOverflow, "cannot subtract infinite timestamps")
	case lInf && dated(lt) && (op == "+" || op == "-") && (rt == "interval" || lt == "date" && isInt(r)):
		return l, true, nil
	case rInf && dated(rt) && op == "+" && (lt == "interval" || rt == "date" && isInt(l)):
		return r, true, nil
	}
	return nil, false, nil
}
