package replica

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"
)

// values.go carries scalar values through a frame exactly. The codec's own
// decoding of an interface value would widen or lose some of them (a
// time.Time comes back in UTC, without its zone offset) and grows a large
// []byte in small steps, copying it each time; so Values and Rows encode
// themselves, as a MessagePack array in a bin, with the subset of
// MessagePack below, and decode in one pass that allocates only in
// proportion to the bytes it read.

// Values is a list of scalar values that a frame carries exactly: each
// decodes to the Go type and value it was encoded from. The types are nil,
// bool, int64, float64 (every bit, NaN included), string (any bytes, not
// only UTF-8), []byte (an empty one stays empty, never nil) and time.Time
// (its instant and zone offset, as time.MarshalBinary keeps them; the zone's
// name is not kept). A value of any other type fails to encode.
type Values []any

// Rows is a list of rows of Values, carried as exactly.
type Rows [][]any

// MarshalBinary encodes v for a frame; the codec calls it.
func (v Values) MarshalBinary() ([]byte, error) {
	return appendValues(make([]byte, 0, encodedSize(v)), v)
}

// UnmarshalBinary decodes what MarshalBinary encoded; the codec calls it.
func (v *Values) UnmarshalBinary(b []byte) error {
	vals, rest, err := parseValues(b)
	if err == nil && len(rest) != 0 {
		err = fmt.Errorf("%d bytes after the values", len(rest))
	}
	if err != nil {
		return fmt.Errorf("decode values: %w", err)
	}
	*v = vals
	return nil
}

// MarshalBinary encodes r for a frame; the codec calls it.
func (r Rows) MarshalBinary() ([]byte, error) {
	size := 5
	for _, row := range r {
		size += encodedSize(row)
	}
	b, err := appendArrayHeader(make([]byte, 0, size), len(r))
	for i := 0; err == nil && i < len(r); i++ {
		b, err = appendValues(b, r[i])
	}
	return b, err
}

// UnmarshalBinary decodes what MarshalBinary encoded; the codec calls it.
func (r *Rows) UnmarshalBinary(b []byte) error {
	n, b, err := parseArrayHeader(b)
	if err != nil {
		return fmt.Errorf("decode rows: %w", err)
	}
	rows := make([][]any, n)
	for i := range rows {
		if rows[i], b, err = parseValues(b); err != nil {
			return fmt.Errorf("decode row %d: %w", i, err)
		}
	}
	if len(b) != 0 {
		return fmt.Errorf("decode rows: %d bytes after the rows", len(b))
	}
	*r = rows
	return nil
}

// The MessagePack formats Values uses (msgpack spec, "formats").
const (
	mpNil      = 0xc0
	mpFalse    = 0xc2
	mpTrue     = 0xc3
	mpBin8     = 0xc4
	mpBin16    = 0xc5
	mpBin32    = 0xc6
	mpExt8     = 0xc7
	mpFloat64  = 0xcb
	mpUint8    = 0xcc
	mpUint16   = 0xcd
	mpUint32   = 0xce
	mpUint64   = 0xcf
	mpInt8     = 0xd0
	mpInt16    = 0xd1
	mpInt32    = 0xd2
	mpInt64    = 0xd3
	mpStr8     = 0xd9
	mpStr16    = 0xda
	mpStr32    = 0xdb
	mpArray16  = 0xdc
	mpArray32  = 0xdd
	mpFixStr   = 0xa0 // 0xa0-0xbf: string of up to 31 bytes
	mpFixArray = 0x90 // 0x90-0x9f: array of up to 15 elements

	// extTime is the application extension type of a time.Time: its
	// time.MarshalBinary form (instant and zone offset). MessagePack's own
	// timestamp (type -1) keeps only the instant.
	extTime = 1
)

var errTruncated = errors.New("truncated value")

// encodedSize is at least how many bytes appendValues takes for vals, so
// that a large value is copied once.
func encodedSize(vals []any) int {
	size := 5
	for _, v := range vals {
		switch x := v.(type) {
		case string:
			size += 5 + len(x)
		case []byte:
			size += 5 + len(x)
		default:
			size += 18 // the longest scalar: a time
		}
	}
	return size
}

func appendValues(b []byte, vals []any) ([]byte, error) {
	b, err := appendArrayHeader(b, len(vals))
	for i := 0; err == nil && i < len(vals); i++ {
		b, err = appendValue(b, vals[i])
	}
	return b, err
}

func appendArrayHeader(b []byte, n int) ([]byte, error) {
	switch {
	case n < 16:
		return append(b, mpFixArray|byte(n)), nil
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, mpArray16), uint16(n)), nil
	case uint64(n) <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(b, mpArray32), uint32(n)), nil
	}
	return nil, fmt.Errorf("%d values: too many for one array", n)
}

func appendValue(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, mpNil), nil
	case bool:
		if x {
			return append(b, mpTrue), nil
		}
		return append(b, mpFalse), nil
	case int64:
		if x >= -32 && x <= 127 {
			return append(b, byte(x)), nil // positive or negative fixint
		}
		return binary.BigEndian.AppendUint64(append(b, mpInt64), uint64(x)), nil
	case float64:
		return binary.BigEndian.AppendUint64(append(b, mpFloat64), math.Float64bits(x)), nil
	case string:
		return appendBytes(b, x, mpFixStr, mpStr8, mpStr16, mpStr32)
	case []byte:
		return appendBytes(b, x, 0, mpBin8, mpBin16, mpBin32)
	case time.Time:
		data, err := x.MarshalBinary()
		if err != nil {
			return nil, fmt.Errorf("encode time: %w", err)
		}
		b = append(b, mpExt8, byte(len(data)), extTime) // MarshalBinary's form is 15 or 16 bytes
		return append(b, data...), nil
	}
	return nil, fmt.Errorf("a value of type %T cannot be carried (nil, bool, int64, float64, string, []byte or time.Time)", v)
}

// appendBytes appends data with the shortest of its formats' headers; fix
// is 0 for a type that has no fixed-length form (bin).
func appendBytes[T string | []byte](b []byte, data T, fix, f8, f16, f32 byte) ([]byte, error) {
	n := len(data)
	switch {
	case fix != 0 && n < 32:
		b = append(b, fix|byte(n))
	case n <= math.MaxUint8:
		b = append(b, f8, byte(n))
	case n <= math.MaxUint16:
		b = binary.BigEndian.AppendUint16(append(b, f16), uint16(n))
	case uint64(n) <= math.MaxUint32:
		b = binary.BigEndian.AppendUint32(append(b, f32), uint32(n))
	default:
		return nil, fmt.Errorf("a value of %d bytes is too long to carry", n)
	}
	return append(b, data...), nil
}

// parseValues decodes one array of values at the start of b and returns
// the bytes after it.
func parseValues(b []byte) ([]any, []byte, error) {
	n, b, err := parseArrayHeader(b)
	if err != nil {
		return nil, nil, err
	}
	vals := make([]any, n)
	for i := range vals {
		if vals[i], b, err = parseValue(b); err != nil {
			return nil, nil, fmt.Errorf("value %d: %w", i, err)
		}
	}
	return vals, b, nil
}

// parseArrayHeader decodes an array's length. Every element takes at least
// one byte, so a length beyond the bytes left is refused before the caller
// allocates for it.
func parseArrayHeader(b []byte) (int, []byte, error) {
	if len(b) == 0 {
		return 0, nil, errTruncated
	}
	var n uint64
	switch c := b[0]; {
	case c&0xf0 == mpFixArray:
		n, b = uint64(c&0x0f), b[1:]
	case c == mpArray16 && len(b) >= 3:
		n, b = uint64(binary.BigEndian.Uint16(b[1:])), b[3:]
	case c == mpArray32 && len(b) >= 5:
		n, b = uint64(binary.BigEndian.Uint32(b[1:])), b[5:]
	case c == mpArray16 || c == mpArray32:
		return 0, nil, errTruncated
	default:
		return 0, nil, fmt.Errorf("format 0x%02x where an array was expected", c)
	}
	if n > uint64(len(b)) {
		return 0, nil, fmt.Errorf("array of %d values in %d bytes", n, len(b))
	}
	return int(n), b, nil
}

// parseValue decodes one value at the start of b and returns the bytes
// after it. It accepts what appendValue writes and MessagePack's other
// integer forms; anything else is an error.
func parseValue(b []byte) (any, []byte, error) {
	if len(b) == 0 {
		return nil, nil, errTruncated
	}
	c, rest := b[0], b[1:]
	switch {
	case c <= 0x7f || c >= 0xe0: // positive and negative fixint
		return int64(int8(c)), rest, nil
	case c&0xe0 == mpFixStr:
		return parseBytes(rest, int(c&0x1f), true)
	}
	switch c {
	case mpNil:
		return nil, rest, nil
	case mpFalse, mpTrue:
		return c == mpTrue, rest, nil
	case mpFloat64:
		u, rest, err := parseUint(rest, 8)
		return math.Float64frombits(u), rest, err
	case mpInt8, mpInt16, mpInt32, mpInt64:
		size := 1 << (c - mpInt8)
		u, rest, err := parseUint(rest, size)
		shift := 64 - 8*size // sign-extend from size bytes
		return int64(u<<shift) >> shift, rest, err
	case mpUint8, mpUint16, mpUint32, mpUint64:
		u, rest, err := parseUint(rest, 1<<(c-mpUint8))
		if err == nil && u > math.MaxInt64 {
			err = fmt.Errorf("integer %d overflows int64", u)
		}
		return int64(u), rest, err
	case mpStr8, mpStr16, mpStr32:
		n, rest, err := parseUint(rest, 1<<(c-mpStr8))
		if err != nil {
			return nil, nil, err
		}
		return parseBytes(rest, n, true)
	case mpBin8, mpBin16, mpBin32:
		n, rest, err := parseUint(rest, 1<<(c-mpBin8))
		if err != nil {
			return nil, nil, err
		}
		return parseBytes(rest, n, false)
	case mpExt8:
		return parseTime(rest)
	}
	return nil, nil, fmt.Errorf("format 0x%02x cannot be a value", c)
}

// parseUint decodes a big-endian unsigned integer of size bytes (1, 2, 4
// or 8).
func parseUint[N int | uint64](b []byte, size N) (uint64, []byte, error) {
	if uint64(len(b)) < uint64(size) {
		return 0, nil, errTruncated
	}
	var u uint64
	for _, c := range b[:size] {
		u = u<<8 | uint64(c)
	}
	return u, b[size:], nil
}

// parseBytes takes n bytes as a string or a new []byte.
func parseBytes[N int | uint64](b []byte, n N, str bool) (any, []byte, error) {
	if uint64(n) > uint64(len(b)) {
		return nil, nil, errTruncated
	}
	if str {
		return string(b[:n]), b[n:], nil
	}
	return append([]byte{}, b[:n]...), b[n:], nil
}

// parseTime decodes an extTime extension, after its ext8 format byte.
func parseTime(b []byte) (any, []byte, error) {
	if len(b) < 2 {
		return nil, nil, errTruncated
	}
	n, typ, b := int(b[0]), b[1], b[2:]
	if typ != extTime {
		return nil, nil, fmt.Errorf("extension type %d cannot be a value", int8(typ))
	}
	if n > len(b) {
		return nil, nil, errTruncated
	}
	var t time.Time
	if err := t.UnmarshalBinary(b[:n]); err != nil {
		return nil, nil, fmt.Errorf("decode time: %w", err)
	}
	return t, b[n:], nil
}
