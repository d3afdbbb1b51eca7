package sqlengine

import (
	"testing"

	"github.com/pgraft/pgraft/pgvalue"
	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// A REAL under a text-typed column (json_extract of a JSON number, say)
// reads as PostgreSQL prints a float8, not in Go's 'g' form:
// '{"a":1234567.5}'::jsonb->>'a' is 1234567.5 in PostgreSQL 15.
func TestFromStorageFloatAsText(t *testing.T) {
	for v, want := range map[float64]string{1234567.5: "1234567.5", 1e6: "1000000", 1e15: "1e+15", 0.1: "0.1"} {
		if got := FromStorage(v, pgvalue.OIDText, nil); got != want {
			t.Errorf("FromStorage(%v, text) = %#v, want %q", v, got, want)
		}
	}
}

func TestToStorageBool(t *testing.T) {
	for s, want := range map[string]any{"yes": int64(1), " off ": int64(0), "T": int64(1)} {
		if got, err := ToStorage(s, pgvalue.OIDBool); err != nil || got != want {
			t.Errorf("ToStorage(%q, bool) = %v, %v; want %v", s, got, err, want)
		}
	}
	_, err := ToStorage(`x"y`, pgvalue.OIDBool)
	if e := pgerror.As(err); e == nil || e.Code != pgerror.InvalidTextRepresentation ||
		e.Message != `invalid input syntax for type boolean: "x"y"` {
		t.Errorf("ToStorage(x\"y, bool): %v", err)
	}
}
