package pgvalue

import (
	"testing"

	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// TestParseBytea: each want is PostgreSQL 15's answer to SELECT 'in'::bytea.
func TestParseBytea(t *testing.T) {
	tests := []struct {
		in, want, code, msg string
	}{
		{in: `\x`, want: ``},
		{in: `\xDEAD`, want: "\xde\xad"},
		{in: "\\x de\tad\n", want: "\xde\xad"},
		{in: `abc`, want: `abc`},
		{in: `a\\b`, want: `a\b`},
		{in: `a\101b`, want: `aAb`},
		{in: `\\\\`, want: `\\`},
		{in: `\xz`, code: "22023", msg: `invalid hexadecimal digit: "z"`}, // the digit before the count
		{in: `\x1`, code: "22023", msg: `invalid hexadecimal data: odd number of digits`},
		{in: `\x1z`, code: "22023", msg: `invalid hexadecimal digit: "z"`},
		{in: `\xé0`, code: "22023", msg: `invalid hexadecimal digit: "é"`}, // the whole character
		{in: `\x0é`, code: "22023", msg: `invalid hexadecimal digit: "é"`},
		{in: `a\400`, code: "22P02", msg: `invalid input syntax for type bytea`},
		{in: `a\`, code: "22P02", msg: `invalid input syntax for type bytea`},
		{in: `a\9`, code: "22P02", msg: `invalid input syntax for type bytea`},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseBytea(tc.in)
			if tc.code == "" {
				if err != nil || string(got) != tc.want {
					t.Fatalf("ParseBytea(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
				}
				return
			}
			e := pgerror.As(err)
			if e == nil || e.Code != tc.code || e.Message != tc.msg {
				t.Fatalf("ParseBytea(%q) = %q, %v; want %s %s", tc.in, got, err, tc.code, tc.msg)
			}
		})
	}
}

func TestAppendByteaHex(t *testing.T) {
	if got := string(AppendByteaHex(nil, []byte{0xde, 0xad, 0x00, 0x0f})); got != `\xdead000f` {
		t.Errorf("got %q", got)
	}
}
