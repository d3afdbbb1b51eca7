package sqlengine

import "testing"

func TestIndexExprText(t *testing.T) {
	for in, want := range map[string]string{
		"((lower(title)))": "lower(title)", "(lower(title))": "lower(title)", "lower(x)": "lower(x)",
		"((a + 1))": "(a + 1)", "(a + 1)": "(a + 1)", "(lower(a) || lower(b))": "(lower(a) || lower(b))",
		"(coalesce(a, ')'))": "coalesce(a, ')')", "((a) + (b))": "((a) + (b))",
	} {
		if got := indexExprText(in); got != want {
			t.Errorf("indexExprText(%q) = %q, want %q", in, got, want)
		}
	}
}
