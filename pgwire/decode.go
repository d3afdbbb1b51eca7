package pgwire

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/pgraft/pgraft/pgvalue"
	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// textIfUnknown reports a parameter type nobody inferred as text, as
// PostgreSQL does in ParameterDescription.
func textIfUnknown(oid uint32) uint32 {
	if oid == 0 {
		return pgtype.TextOID
	}
	return oid
}

// decodeParams turns Bind's parameter values into the Go types listed on
// Portal. formats has Bind's rules: none (all text), one (for all), or one per
// parameter.
func decodeParams(m *pgtype.Map, oids []uint32, formats []int16, values [][]byte) ([]any, error) {
	if len(formats) > 1 && len(formats) != len(values) {
		return nil, pgerror.New(pgerror.ProtocolViolation,
			"bind message has %d parameter formats but %d parameters", len(formats), len(values))
	}
	args := make([]any, len(values))
	for i, src := range values {
		var format int16
		switch len(formats) {
		case 0:
		case 1:
			format = formats[0]
		default:
			format = formats[i]
		}
		if err := checkFormat(format); err != nil {
			return nil, err
		}
		if src == nil {
			continue // NULL
		}
		oid := textIfUnknown(oids[i])
		var err error
		if format == pgtype.BinaryFormatCode {
			args[i], err = decodeBinary(m, oid, src, i+1)
		} else {
			args[i], err = decodeText(oid, string(src))
		}
		if err != nil {
			return nil, err
		}
	}
	return args, nil
}

// decodeText parses a text-format parameter as PostgreSQL's input function
// for oid would, with the same SQLSTATEs and messages.
func decodeText(oid uint32, s string) (any, error) {
	switch oid {
	case pgtype.Int2OID, pgtype.Int4OID, pgtype.Int8OID, pgtype.OIDOID:
		return parseInt(oid, s)
	case pgtype.Float4OID, pgtype.Float8OID:
		return parseFloat(oid, s)
	case pgtype.BoolOID:
		return parseBool(s)
	case pgtype.ByteaOID:
		return pgvalue.ParseBytea(s)
	case pgtype.DateOID, pgtype.TimestampOID, pgtype.TimestamptzOID:
		if inf, ok := pgvalue.ParseInfinity(s); ok {
			return inf, nil
		}
		return parseTime(oid, s)
	}
	if err := checkText(s); err != nil {
		return nil, err
	}
	return s, nil
}

// checkText rejects what PostgreSQL's UTF8 server encoding cannot hold.
func checkText(s string) error {
	if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
		return pgerror.New(pgerror.CharacterNotInRepertoire, "invalid byte sequence for encoding \"UTF8\"")
	}
	return nil
}

func typeName(oid uint32) string {
	switch oid {
	case pgtype.Int2OID:
		return "smallint"
	case pgtype.Int4OID:
		return "integer"
	case pgtype.Int8OID:
		return "bigint"
	case pgtype.OIDOID:
		return "oid"
	case pgtype.Float4OID:
		return "real"
	case pgtype.Float8OID:
		return "double precision"
	case pgtype.BoolOID:
		return "boolean"
	case pgtype.DateOID:
		return "date"
	case pgtype.TimestampOID:
		return "timestamp"
	case pgtype.TimestamptzOID:
		return "timestamp with time zone"
	}
	return fmt.Sprintf("OID %d", oid)
}

func invalidSyntax(oid uint32, s string) error {
	return pgvalue.InvalidInput(typeName(oid), s)
}

func parseInt(oid uint32, s string) (any, error) {
	v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if ne, ok := err.(*strconv.NumError); ok && ne.Err != strconv.ErrRange {
		return nil, invalidSyntax(oid, s)
	}
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	switch oid {
	case pgtype.Int2OID:
		lo, hi = math.MinInt16, math.MaxInt16
	case pgtype.Int4OID:
		lo, hi = math.MinInt32, math.MaxInt32
	case pgtype.OIDOID:
		lo, hi = math.MinInt32, math.MaxUint32 // oidin takes negatives as their unsigned twin
	}
	if err != nil || v < lo || v > hi {
		return nil, pgerror.New(pgerror.NumericValueOutOfRange, "value \"%s\" is out of range for type %s", s, typeName(oid))
	}
	if oid == pgtype.OIDOID && v < 0 {
		v += 1 << 32
	}
	return v, nil
}

func parseFloat(oid uint32, s string) (any, error) {
	bits := 64
	if oid == pgtype.Float4OID {
		bits = 32
	}
	t := strings.TrimSpace(s)
	v, err := strconv.ParseFloat(t, bits)
	if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
		return nil, pgerror.New(pgerror.NumericValueOutOfRange, "\"%s\" is out of range for type %s", s, typeName(oid))
	}
	// Go also takes hex floats and underscores, PostgreSQL does not.
	if err != nil || strings.ContainsAny(t, "_xXpP") {
		return nil, invalidSyntax(oid, s)
	}
	return v, nil
}

// parseBool is boolin (pgvalue.ParseBool), with its 22P02.
func parseBool(s string) (any, error) {
	if v, ok := pgvalue.ParseBool(s); ok {
		return v, nil
	}
	return nil, invalidSyntax(pgtype.BoolOID, s)
}

// Layouts tried for date/time parameters, most common first. Go accepts a
// fractional second after "05" even when the layout has none.
var (
	zonedLayouts = []string{
		"2006-01-02 15:04:05Z07:00", "2006-01-02 15:04:05Z07", "2006-01-02 15:04:05Z0700",
		"2006-01-02 15:04:05Z07:00:00", "2006-01-02T15:04:05Z07:00", "2006-01-02T15:04:05Z07",
		"2006-01-02T15:04:05Z0700", "2006-01-02 15:04:05 Z07:00", "2006-01-02 15:04:05 MST",
	}
	plainLayouts = []string{
		"2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02",
	}
)

// parseTime reads the ISO forms drivers send. A timestamptz without an
// offset is UTC; a timestamp keeps its wall clock and drops any offset, as
// PostgreSQL does; a date drops any time of day.
func parseTime(oid uint32, s string) (any, error) {
	t := strings.TrimSpace(s)
	for _, layout := range plainLayouts {
		if v, err := time.Parse(layout, t); err == nil {
			return truncateTime(oid, v), nil
		}
	}
	for _, layout := range zonedLayouts {
		if v, err := time.Parse(layout, t); err == nil {
			if oid == pgtype.TimestamptzOID {
				return v.UTC(), nil
			}
			wall := time.Date(v.Year(), v.Month(), v.Day(), v.Hour(), v.Minute(), v.Second(), v.Nanosecond(), time.UTC)
			return truncateTime(oid, wall), nil
		}
	}
	return nil, pgerror.New(pgerror.InvalidDatetimeFormat, "invalid input syntax for type %s: \"%s\"", typeName(oid), s)
}

func truncateTime(oid uint32, t time.Time) time.Time {
	if oid == pgtype.DateOID {
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	}
	return t
}

// decodeBinary reads a binary-format parameter through pgtype.
func decodeBinary(m *pgtype.Map, oid uint32, src []byte, n int) (any, error) {
	v, err := scanBinary(m, oid, src)
	if err != nil {
		return nil, pgerror.New(pgerror.InvalidBinaryRepresentation,
			"incorrect binary data format in bind parameter %d", n)
	}
	if s, ok := v.(string); ok {
		if err := checkText(s); err != nil {
			return nil, err
		}
	}
	return v, nil
}

func scanBinary(m *pgtype.Map, oid uint32, src []byte) (any, error) {
	switch oid {
	case pgtype.Int2OID, pgtype.Int4OID, pgtype.Int8OID:
		var v int64
		err := m.Scan(oid, pgtype.BinaryFormatCode, src, &v)
		return v, err
	case pgtype.OIDOID:
		var v uint32
		err := m.Scan(oid, pgtype.BinaryFormatCode, src, &v)
		return int64(v), err
	case pgtype.Float4OID, pgtype.Float8OID:
		var v float64
		err := m.Scan(oid, pgtype.BinaryFormatCode, src, &v)
		return v, err
	case pgtype.BoolOID:
		var v bool
		err := m.Scan(oid, pgtype.BinaryFormatCode, src, &v)
		return v, err
	case pgtype.ByteaOID:
		return bytes.Clone(src), nil // src lives only until the next message
	case pgtype.DateOID, pgtype.TimestampOID, pgtype.TimestamptzOID:
		return scanBinaryTime(m, oid, src)
	case pgtype.NumericOID, pgtype.UUIDOID:
		return scanViaText(m, oid, src)
	case pgvalue.OIDTimetz: // pgtype has no codec for it
		return pgvalue.ParseTimetzBinary(src)
	case pgtype.JSONBOID:
		if len(src) == 0 || src[0] != 1 {
			return nil, fmt.Errorf("unsupported jsonb version")
		}
		return string(src[1:]), nil
	}
	if t, ok := m.TypeForOID(oid); ok && !isTextual(oid) {
		// Another type pgtype knows: its text form is the documented string.
		return scanViaTextWith(m, t, oid, src)
	}
	return string(src), nil // text, varchar, json, unknown types: binary is the text
}

func isTextual(oid uint32) bool {
	switch oid {
	case pgtype.TextOID, pgtype.VarcharOID, pgtype.BPCharOID, pgtype.NameOID, pgtype.JSONOID, pgvalue.OIDChar, pgtype.UnknownOID:
		return true
	}
	return false
}

// scanBinaryTime reads a binary date, timestamp or timestamptz: a time.Time,
// or pgvalue's InfiniteTime for int32/int64 max and min, PostgreSQL's
// infinity and -infinity.
func scanBinaryTime(m *pgtype.Map, oid uint32, src []byte) (any, error) {
	var t time.Time
	var inf pgtype.InfinityModifier
	var err error
	switch oid {
	case pgtype.DateOID:
		var d pgtype.Date
		err = m.Scan(oid, pgtype.BinaryFormatCode, src, &d)
		t, inf = d.Time, d.InfinityModifier
	case pgtype.TimestampOID:
		var ts pgtype.Timestamp
		err = m.Scan(oid, pgtype.BinaryFormatCode, src, &ts)
		t, inf = ts.Time, ts.InfinityModifier
	default:
		var ts pgtype.Timestamptz
		err = m.Scan(oid, pgtype.BinaryFormatCode, src, &ts)
		t, inf = ts.Time.UTC(), ts.InfinityModifier
	}
	switch {
	case err != nil:
		return nil, err
	case inf == pgtype.Infinity:
		return pgvalue.PosInfinity, nil
	case inf == pgtype.NegativeInfinity:
		return pgvalue.NegInfinity, nil
	}
	return t, nil
}

// scanViaText decodes binary with the type's codec and re-encodes it as
// text: the canonical string for numeric (decimal) and uuid (lower case).
func scanViaText(m *pgtype.Map, oid uint32, src []byte) (any, error) {
	t, ok := m.TypeForOID(oid)
	if !ok {
		return nil, fmt.Errorf("unknown type OID %d", oid)
	}
	return scanViaTextWith(m, t, oid, src)
}

func scanViaTextWith(m *pgtype.Map, t *pgtype.Type, oid uint32, src []byte) (any, error) {
	v, err := t.Codec.DecodeValue(m, oid, pgtype.BinaryFormatCode, src)
	if err != nil {
		return nil, err
	}
	text, err := m.Encode(oid, pgtype.TextFormatCode, v, nil)
	if err != nil {
		return nil, err
	}
	if text == nil {
		return nil, fmt.Errorf("binary value of type OID %d decoded as NULL", oid)
	}
	return string(text), nil
}
