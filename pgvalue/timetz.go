package pgvalue

import (
	"encoding/binary"
	"errors"
	"strconv"
)

// Timetz is a time with time zone as PostgreSQL keeps it: a time of day
// (0 to 24:00:00, in microseconds) and the UTC offset it was given with.
type Timetz struct {
	Micros int64 // time of day, 0..86400e6
	Offset int32 // seconds east of UTC, within ±15:59:59
}

// Bounds of a Timetz, PostgreSQL's (timetz_in refuses the rest).
const (
	MaxTimeMicros   = 86400 * 1000000
	MaxTimetzOffset = 15*3600 + 59*60 + 59
)

// Valid reports whether t is within PostgreSQL's bounds.
func (t Timetz) Valid() bool {
	return t.Micros >= 0 && t.Micros <= MaxTimeMicros && t.Offset >= -MaxTimetzOffset && t.Offset <= MaxTimetzOffset
}

// AppendTimetz appends t as timetz_out prints it: the time, the fraction
// without trailing zeros, and the offset as EncodeTimezone writes it
// (13:04:05.12+05:30).
func AppendTimetz(b []byte, t Timetz) []byte {
	b = AppendTimeMicros(b, t.Micros)
	return AppendUTCOffset(b, int(t.Offset))
}

// AppendTimeMicros appends a time of day given in microseconds (24:00:00
// included) as time_out prints it.
func AppendTimeMicros(b []byte, us int64) []byte {
	secs, frac := us/1000000, us%1000000
	h, m, s := secs/3600, secs/60%60, secs%60
	b = append(b, byte('0'+h/10), byte('0'+h%10), ':', byte('0'+m/10), byte('0'+m%10), ':', byte('0'+s/10), byte('0'+s%10))
	if frac != 0 {
		f := strconv.FormatInt(frac+1000000, 10)[1:] // six digits
		for len(f) > 0 && f[len(f)-1] == '0' {
			f = f[:len(f)-1]
		}
		b = append(append(b, '.'), f...)
	}
	return b
}

// AppendTimetzBinary appends timetz_send's form: the microseconds as int64,
// then the zone as int32 seconds west of UTC.
func AppendTimetzBinary(b []byte, t Timetz) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(t.Micros))
	return binary.BigEndian.AppendUint32(b, uint32(-t.Offset))
}

// ParseTimetzBinary reads timetz_recv's form, with its bounds.
func ParseTimetzBinary(src []byte) (Timetz, error) {
	if len(src) != 12 {
		return Timetz{}, errors.New("timetz: 12 bytes expected")
	}
	t := Timetz{Micros: int64(binary.BigEndian.Uint64(src)), Offset: -int32(binary.BigEndian.Uint32(src[8:]))}
	if !t.Valid() {
		return Timetz{}, errors.New("timetz out of range")
	}
	return t, nil
}
