package pgwire

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/pgraft/pgraft/pgvalue"
	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// appendValue appends the wire form of row value v, for a column of type oid
// in the given format, to buf. isNull reports SQL NULL (nothing appended).
func appendValue(m *pgtype.Map, buf []byte, oid uint32, format int16, v any) (out []byte, isNull bool, err error) {
	v = normalize(v)
	if v == nil {
		return buf, true, nil
	}
	if format == pgtype.BinaryFormatCode {
		out, err = appendBinary(m, buf, oid, v)
		return out, false, err
	}
	return appendText(buf, oid, v), false, nil
}

// scaledNumeric is a numeric value of a column with a declared scale
// (numeric(p,s)): PostgreSQL prints exactly s digits after the point
// (12.50, 3.00), which the stored int64 or float64 has forgotten.
type scaledNumeric struct {
	f     float64
	scale int
}

// numericScale wraps v when col is a numeric with a declared scale.
func numericScale(col Column, v any) any {
	if col.TypeOID != pgtype.NumericOID || col.TypeMod < 4 {
		return v
	}
	scale := int((col.TypeMod - 4) & 0xffff)
	switch x := v.(type) {
	case int64:
		if scale > 0 {
			return scaledNumeric{float64(x), scale}
		}
	case float64:
		if !math.IsNaN(x) && !math.IsInf(x, 0) && math.Abs(x) < 1e15 {
			return scaledNumeric{x, scale}
		}
	}
	return v
}

// normalize maps the integer and float types a Session might hand us by
// mistake onto the documented ones (int64, float64).
func normalize(v any) any {
	switch x := v.(type) {
	case int:
		return int64(x)
	case int32:
		return int64(x)
	case int16:
		return int64(x)
	case int8:
		return int64(x)
	case uint32:
		return int64(x)
	case uint16:
		return int64(x)
	case uint8:
		return int64(x)
	case float32:
		return float64(x)
	}
	return v
}

// appendText appends v in PostgreSQL 15's text output for type oid.
func appendText(b []byte, oid uint32, v any) []byte {
	switch x := v.(type) {
	case bool:
		if oid == pgtype.BoolOID {
			return append(b, "ft"[boolIndex(x)])
		}
		return strconv.AppendBool(b, x)
	case int64:
		if oid == pgtype.BoolOID {
			return append(b, "ft"[boolIndex(x != 0)])
		}
		return strconv.AppendInt(b, x, 10)
	case float64:
		return appendFloatText(b, oid, x)
	case scaledNumeric:
		return strconv.AppendFloat(b, x.f, 'f', x.scale, 64)
	case string:
		if oid == pgtype.ByteaOID {
			return pgvalue.AppendByteaHex(b, []byte(x))
		}
		return append(b, x...)
	case []byte:
		if oid == pgtype.ByteaOID {
			return pgvalue.AppendByteaHex(b, x)
		}
		return append(b, x...)
	case time.Time:
		return appendTimeText(b, oid, x)
	case pgvalue.InfiniteTime:
		return append(b, x.String()...)
	case pgvalue.Timetz:
		return pgvalue.AppendTimetz(b, x)
	}
	return fmt.Append(b, v)
}

func boolIndex(v bool) int {
	if v {
		return 1
	}
	return 0
}

func appendFloatText(b []byte, oid uint32, f float64) []byte {
	switch oid {
	case pgtype.Float4OID:
		return pgvalue.AppendFloat4(b, float32(f))
	case pgtype.NumericOID:
		return pgvalue.AppendNumericFloat(b, f)
	case pgtype.Int2OID, pgtype.Int4OID, pgtype.Int8OID, pgtype.OIDOID:
		if f == math.Trunc(f) && math.Abs(f) < 1<<63 {
			return strconv.AppendInt(b, int64(f), 10)
		}
	}
	return pgvalue.AppendFloat8(b, f)
}

// appendTimeText prints t as PostgreSQL does with DateStyle ISO.
func appendTimeText(b []byte, oid uint32, t time.Time) []byte {
	switch oid {
	case pgtype.DateOID:
		return pgvalue.AppendDate(b, t)
	case pgtype.TimestampOID:
		return pgvalue.AppendTimestamp(b, t)
	case pgtype.TimeOID:
		return pgvalue.AppendTime(b, t)
	}
	return pgvalue.AppendTimestamptz(b, t)
}

// appendBinary appends v in the binary format of type oid via pgtype,
// converting first where pgtype has no plan for the Go type.
func appendBinary(m *pgtype.Map, b []byte, oid uint32, v any) ([]byte, error) {
	switch oid {
	case pgtype.TextOID, pgtype.VarcharOID, pgtype.BPCharOID, pgtype.NameOID, pgtype.UnknownOID,
		pgtype.JSONOID, pgvalue.OIDChar:
		return appendRawText(b, oid, v), nil // binary = text for these
	case pgtype.JSONBOID:
		return appendRawText(append(b, 1), oid, v), nil // jsonb's version byte
	case pgvalue.OIDTimetz: // pgtype has no codec for it
		if t, ok := v.(pgvalue.Timetz); ok {
			return pgvalue.AppendTimetzBinary(b, t), nil
		}
	}
	if _, known := m.TypeForOID(oid); !known {
		// A type pgtype does not know (an enum, say): its text is the best
		// binary guess; a client asks binary only for types it knows.
		return appendRawText(b, oid, v), nil
	}
	v = binaryValue(oid, v)
	out, err := m.Encode(oid, pgtype.BinaryFormatCode, v, b)
	if err != nil {
		if s, ok := v.(string); ok {
			out, err = encodeFromText(m, b, oid, s)
		}
	}
	if err != nil {
		return b, pgerror.New(pgerror.InvalidBinaryRepresentation,
			"cannot send %T value as binary for type OID %d: %v", v, oid, err)
	}
	if out == nil { // pgtype says NULL for a value we thought was not
		return b, pgerror.New(pgerror.InternalError, "value %v of type OID %d encoded as NULL", v, oid)
	}
	return out, nil
}

// appendRawText appends strings and bytes as they are, anything else in its
// text form.
func appendRawText(b []byte, oid uint32, v any) []byte {
	switch x := v.(type) {
	case string:
		return append(b, x...)
	case []byte:
		return append(b, x...)
	}
	return appendText(b, oid, v)
}

// binaryValue converts v to a type pgtype can encode for oid.
func binaryValue(oid uint32, v any) any {
	if x, ok := v.(scaledNumeric); ok {
		return strconv.FormatFloat(x.f, 'f', x.scale, 64) // its text keeps the scale
	}
	if inf, ok := v.(pgvalue.InfiniteTime); ok {
		return infiniteValue(oid, inf)
	}
	switch oid {
	case pgtype.BoolOID:
		if i, ok := v.(int64); ok {
			return i != 0
		}
	case pgtype.ByteaOID:
		if s, ok := v.(string); ok {
			return []byte(s)
		}
	case pgtype.Int2OID, pgtype.Int4OID, pgtype.Int8OID, pgtype.OIDOID:
		if f, ok := v.(float64); ok && f == math.Trunc(f) && math.Abs(f) < 1<<63 {
			return int64(f)
		}
	case pgtype.Float4OID:
		switch x := v.(type) {
		case float64:
			return float32(x)
		case int64:
			return float32(x)
		}
	case pgtype.Float8OID:
		if i, ok := v.(int64); ok {
			return float64(i)
		}
	}
	return v
}

// infiniteValue is pgtype's value of an infinite date or timestamp, which
// it encodes as PostgreSQL does: int32 (date) or int64 (timestamp,
// timestamptz) max for infinity and min for -infinity.
func infiniteValue(oid uint32, inf pgvalue.InfiniteTime) any {
	mod := pgtype.Infinity
	if inf < 0 {
		mod = pgtype.NegativeInfinity
	}
	switch oid {
	case pgtype.DateOID:
		return pgtype.Date{InfinityModifier: mod, Valid: true}
	case pgtype.TimestampOID:
		return pgtype.Timestamp{InfinityModifier: mod, Valid: true}
	case pgtype.TimestamptzOID:
		return pgtype.Timestamptz{InfinityModifier: mod, Valid: true}
	}
	return inf.String()
}

// encodeFromText parses s with the type's own text decoder (numeric and uuid
// strings, say) and encodes the result in binary.
func encodeFromText(m *pgtype.Map, b []byte, oid uint32, s string) ([]byte, error) {
	t, _ := m.TypeForOID(oid)
	parsed, err := t.Codec.DecodeValue(m, oid, pgtype.TextFormatCode, []byte(s))
	if err != nil {
		return nil, err
	}
	return m.Encode(oid, pgtype.BinaryFormatCode, parsed, b)
}
