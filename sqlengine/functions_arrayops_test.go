package sqlengine

import (
	"strings"
	"testing"
)

// PostgreSQL 15's answers (booleans 1/0, NULL as <nil>).
func TestArrayAndRegexpFunctions(t *testing.T) {
	db, state := openCatalogDB(t, nil)
	tests := []struct{ expr, want string }{
		{`string_to_array('a,b,,c', ',')`, `{a,b,"",c}`},
		{`string_to_array('a,b,x', ',', 'x')`, `{a,b,NULL}`},
		{`string_to_array('ab', NULL)`, `{a,b}`},
		{`string_to_array('', ',')`, `{}`},
		{`array_position(ARRAY['a','b'], 'b')`, `2`},
		{`array_position(ARRAY[1,2,1], 1, 2)`, `3`},
		{`array_position(ARRAY[1], 5)`, `<nil>`},
		{`cardinality(ARRAY[1,2])`, `2`},
		{`cardinality('{}'::int[])`, `0`},
		{`array_append(ARRAY[1], 2)`, `{1,2}`},
		{`array_prepend(0, ARRAY[1])`, `{0,1}`},
		{`array_cat(ARRAY[1], ARRAY[2,3])`, `{1,2,3}`},
		{`array_remove(ARRAY[1,2,1], 1)`, `{2}`},
		{`array_append(ARRAY['a b'], 'c')`, `{"a b",c}`},
		{`regexp_replace('abcabc', 'b', 'x')`, `axcabc`},
		{`regexp_replace('abcabc', 'b', 'x', 'g')`, `axcaxc`},
		{`regexp_replace('John Smith', '(\w+) (\w+)', '\2, \1')`, `Smith, John`},
		{`regexp_replace('a.b', '\.', '$')`, `a$b`},
		{`regexp_replace('abc', 'B', '[\&]', 'i')`, `a[b]c`},
		{`regexp_match('foobarbequebaz', '(bar)(beque)')`, `{bar,beque}`},
		{`regexp_match('abc', 'b')`, `{b}`},
		{`regexp_match('abc', 'z')`, `<nil>`},
		{`pg_typeof(1)`, `integer`},
		{`pg_typeof(now())`, `timestamp with time zone`},
	}
	for _, tc := range tests {
		got := runPG(t, db, state, "SELECT "+tc.expr)
		if len(got) != 1 || got[0] != tc.want {
			t.Errorf("%s = %q, want %q", tc.expr, got, tc.want)
		}
	}
	got := runPG(t, db, state, `SELECT * FROM regexp_matches('foobarbequebazilbarfbonk', '(b[^b]+)(b[^b]+)', 'g')`)
	if strings.Join(got, " ") != "{bar,beque} {bazil,barf}" {
		t.Errorf("regexp_matches g = %q", got)
	}
	got = runPG(t, db, state, `SELECT regexp_matches('abab', 'a(b)', 'g')`)
	if strings.Join(got, " ") != "{b} {b}" {
		t.Errorf("regexp_matches in a select list = %q", got)
	}
}
