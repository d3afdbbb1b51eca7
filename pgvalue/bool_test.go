package pgvalue

import "testing"

// TestParseBool: PostgreSQL 15 answers each of these with the same value or
// 22P02.
func TestParseBool(t *testing.T) {
	for _, s := range []string{"t", "tr", "TRUE", "True", "y", "YeS", "on", "ON", "1", " true ", "\ttrue\n", "\vyes\f", "on "} {
		if v, ok := ParseBool(s); !ok || !v {
			t.Errorf("ParseBool(%q) = %v, %v; want true", s, v, ok)
		}
	}
	for _, s := range []string{"f", "FALSE", "fals", "n", "no", "No", "of", "OFF", "Off", "0"} {
		if v, ok := ParseBool(s); !ok || v {
			t.Errorf("ParseBool(%q) = %v, %v; want false", s, v, ok)
		}
	}
	for _, s := range []string{"o", "tru3", "truee", "yess", "offf", "00", "01", "11", "", " ", "ye s",
		"\u00a0true", // boolin trims ASCII white space only
		"t rue", "ó", "ſ"} {
		if v, ok := ParseBool(s); ok {
			t.Errorf("ParseBool(%q) = %v, true; want not ok", s, v)
		}
	}
}

func TestInvalidInputQuotesAsPostgreSQL(t *testing.T) {
	e := InvalidInput("boolean", `x"y`)
	if e.Code != "22P02" || e.Message != `invalid input syntax for type boolean: "x"y"` {
		t.Errorf("got %s %q", e.Code, e.Message)
	}
}
