package sqlengine

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

// TestDatetimeInputGolden casts every input of testdata/datetime_input.golden
// to its type and compares with PostgreSQL 15's answer recorded there
// (psql, TimeZone UTC, DateStyle ISO, MDY, IntervalStyle postgres): the
// value as PostgreSQL prints it, or "ERROR <SQLSTATE>".
func TestDatetimeInputGolden(t *testing.T) {
	f, err := os.Open("testdata/datetime_input.golden")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		typ, rest, _ := strings.Cut(sc.Text(), "|")
		in, want, ok := strings.Cut(rest, "|")
		if !ok {
			t.Fatalf("malformed golden line %q", sc.Text())
		}
		n++
		got, err := pgCast(in, "text", typ, -1)
		if err != nil {
			code, msg, _ := strings.Cut(strings.TrimPrefix(err.Error(), funcErrorPrefix), ":")
			if want != "ERROR "+code {
				t.Errorf("%s %q: error %s %s, want %s", typ, in, code, msg, want)
			}
			continue
		}
		if s := displayDatetime(typ, got); s != want {
			t.Errorf("%s %q = %q, want %q", typ, in, s, want)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 50 {
		t.Fatalf("only %d golden lines", n)
	}
}

// displayDatetime is what psql shows for a stored value in UTC.
func displayDatetime(typ string, v any) string {
	s, _ := v.(string)
	if inf, ok := storedInfinity(s); ok {
		return inf.String()
	}
	if typ == "timestamptz" && !strings.HasSuffix(s, "+00") {
		return s + "+00"
	}
	return s
}
