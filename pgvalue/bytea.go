package pgvalue

import (
	"encoding/hex"
	"unicode/utf8"

	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// ParseBytea is PostgreSQL 15's byteain: "\x" then pairs of hex digits,
// with spaces, tabs and newlines allowed between pairs (22023 for a bad
// digit or an odd count); otherwise the escape format, where "\\" is one
// backslash and "\ooo" (first digit 0-3) one byte in octal, and any other
// backslash is 22P02.
func ParseBytea(s string) ([]byte, error) {
	if len(s) >= 2 && s[0] == '\\' && s[1] == 'x' {
		return parseByteaHex(s[2:])
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		switch {
		case i+3 < len(s) && '0' <= s[i+1] && s[i+1] <= '3' && isOctal(s[i+2]) && isOctal(s[i+3]):
			out = append(out, (s[i+1]-'0')<<6|(s[i+2]-'0')<<3|(s[i+3]-'0'))
			i += 3
		case i+1 < len(s) && s[i+1] == '\\':
			out = append(out, '\\')
			i++
		default:
			return nil, pgerror.New(pgerror.InvalidTextRepresentation, "invalid input syntax for type bytea")
		}
	}
	return out, nil
}

func isOctal(c byte) bool { return '0' <= c && c <= '7' }

// parseByteaHex is hex_decode: each pair's first digit is checked before
// the count, as PostgreSQL does, so "\xz" is a bad digit, not an odd count.
func parseByteaHex(s string) ([]byte, error) {
	out := make([]byte, 0, len(s)/2)
	for i := 0; i < len(s); {
		if c := s[i]; c == ' ' || c == '\n' || c == '\t' || c == '\r' {
			i++
			continue
		}
		hi, ok := unhex(s[i])
		if !ok {
			return nil, badHexDigit(s[i:])
		}
		if i+1 >= len(s) {
			return nil, pgerror.New(pgerror.InvalidParameterValue, "invalid hexadecimal data: odd number of digits")
		}
		lo, ok := unhex(s[i+1])
		if !ok {
			return nil, badHexDigit(s[i+1:])
		}
		out = append(out, hi<<4|lo)
		i += 2
	}
	return out, nil
}

// badHexDigit names the character starting s, whole (pg_mblen), as
// get_hex does.
func badHexDigit(s string) *pgerror.Error {
	_, n := utf8.DecodeRuneInString(s)
	return pgerror.New(pgerror.InvalidParameterValue, "invalid hexadecimal digit: \"%s\"", s[:n])
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// AppendByteaHex appends data in bytea's hex output format: \x then two
// lower-case digits per byte.
func AppendByteaHex(b, data []byte) []byte {
	b = append(b, '\\', 'x')
	return hex.AppendEncode(b, data)
}
