package pgwire

import (
	"bytes"
	"encoding/hex"
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
	case string:
		if oid == pgtype.ByteaOID {
			return appendByteaHex(b, []byte(x))
		}
		return append(b, x...)
	case []byte:
		if oid == pgtype.ByteaOID {
			return appendByteaHex(b, x)
		}
		return append(b, x...)
	case time.Time:
		return appendTimeText(b, oid, x)
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
	switch {
	case math.IsNaN(f):
		return append(b, "NaN"...)
	case math.IsInf(f, 1):
		return append(b, "Infinity"...)
	case math.IsInf(f, -1):
		return append(b, "-Infinity"...)
	}
	switch oid {
	case pgtype.Float4OID:
		// PostgreSQL's shortest float4 output switches to exponent form
		// outside 1e-4 <= |f| < 1e6, which is exactly Go's shortest 'g'.
		return strconv.AppendFloat(b, f, 'g', -1, 32)
	case pgtype.NumericOID:
		return strconv.AppendFloat(b, f, 'f', -1, 64)
	case pgtype.Int2OID, pgtype.Int4OID, pgtype.Int8OID, pgtype.OIDOID:
		if f == math.Trunc(f) && math.Abs(f) < 1<<63 {
			return strconv.AppendInt(b, int64(f), 10)
		}
	}
	return appendFloat8Text(b, f)
}

// appendFloat8Text follows PostgreSQL's float8out with extra_float_digits >
// 0 (src/common/d2s.c): the shortest digits that round-trip, in fixed
// notation when the decimal exponent is in [-4, 15), else as d.ddde±XX.
// (Go's shortest 'g' switches at 1e6 already: 1000000 must stay 1000000.)
func appendFloat8Text(b []byte, f float64) []byte {
	n := len(b)
	sci := strconv.AppendFloat(b, f, 'e', -1, 64)
	e := bytes.LastIndexByte(sci[n:], 'e')
	exp, err := strconv.Atoi(string(sci[n+e+1:]))
	if err == nil && exp >= -4 && exp < 15 {
		return strconv.AppendFloat(sci[:n], f, 'f', -1, 64)
	}
	return sci
}

func appendByteaHex(b, data []byte) []byte {
	b = append(b, '\\', 'x')
	return hex.AppendEncode(b, data)
}

// appendTimeText prints t as PostgreSQL does with DateStyle ISO. Times are
// rounded to microseconds, PostgreSQL's precision. Years outside 1..9999
// print as Go prints them (no "BC").
func appendTimeText(b []byte, oid uint32, t time.Time) []byte {
	t = t.Round(time.Microsecond)
	switch oid {
	case pgtype.DateOID:
		return t.AppendFormat(b, "2006-01-02")
	case pgtype.TimestampOID:
		return t.AppendFormat(b, "2006-01-02 15:04:05.999999")
	case pgtype.TimeOID:
		return t.AppendFormat(b, "15:04:05.999999")
	}
	b = t.AppendFormat(b, "2006-01-02 15:04:05.999999")
	_, off := t.Zone()
	return appendUTCOffset(b, off)
}

// appendUTCOffset prints an offset the way PostgreSQL's EncodeTimezone does:
// "+00", "-07", "+05:30", and seconds only when non-zero.
func appendUTCOffset(b []byte, off int) []byte {
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

// appendBinary appends v in the binary format of type oid via pgtype,
// converting first where pgtype has no plan for the Go type.
func appendBinary(m *pgtype.Map, b []byte, oid uint32, v any) ([]byte, error) {
	switch oid {
	case pgtype.TextOID, pgtype.VarcharOID, pgtype.BPCharOID, pgtype.NameOID, pgtype.UnknownOID,
		pgtype.JSONOID, pgvalue.OIDChar:
		return appendRawText(b, oid, v), nil // binary = text for these
	case pgtype.JSONBOID:
		return appendRawText(append(b, 1), oid, v), nil // jsonb's version byte
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
