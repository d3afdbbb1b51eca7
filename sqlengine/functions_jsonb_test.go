package sqlengine

import "testing"

// Each case is a PostgreSQL expression and PostgreSQL 15's output of it
// (booleans as 1/0, NULL as <nil>).
func TestJSONOperatorsAndFunctions(t *testing.T) {
	db, state := openCatalogDB(t, nil)
	tests := []struct{ name, expr, want string }{
		{"jsonb_build_object sorts keys", `jsonb_build_object('b', 1, 'a', ARRAY[1,2], 'c', true, 'd', NULL)`, `{"a": [1, 2], "b": 1, "c": true, "d": null}`},
		{"json_build_object keeps order", `json_build_object('b', 1, 'a', ARRAY[1,2], 'c', true)`, `{"b" : 1, "a" : [1,2], "c" : true}`},
		{"json_build_array", `json_build_array(1, 'a', false, '{"x": 1}'::jsonb)`, `[1, "a", false, {"x": 1}]`},
		{"jsonb_build_array", `jsonb_build_array(1, 'a', false, '{"x":1}'::jsonb)`, `[1, "a", false, {"x": 1}]`},
		{"-> key", `'{"b":1,"a":[1,2]}'::jsonb -> 'a'`, `[1, 2]`},
		{"->> key", `'{"b":1,"a":[1,2]}'::jsonb ->> 'b'`, `1`},
		{"-> negative index", `'[1,2,3]'::jsonb -> -1`, `3`},
		{"-> missing", `'{"a":1}'::jsonb -> 'z'`, `<nil>`},
		{"->> json null is NULL", `'{"a":null}'::jsonb ->> 'a'`, `<nil>`},
		{"#> path", `'{"a":{"b":[1,{"c":"x"}]}}'::jsonb #> '{a,b,1}'`, `{"c": "x"}`},
		{"#>> path", `'{"a":{"b":[1,{"c":"x"}]}}'::jsonb #>> '{a,b,1,c}'`, `x`},
		{"json -> keeps its text", `'{"a": [1,  2]}'::json -> 'a'`, `[1,  2]`},
		{"@> nested", `'{"a":1, "b":{"c":2}}'::jsonb @> '{"b":{"c":2}}'`, `1`},
		{"@> array of arrays", `'[1,2,[3]]'::jsonb @> '[[3]]'`, `1`},
		{"@> primitive in array", `'[1,2]'::jsonb @> '1'`, `1`},
		{"@> numbers by value", `'{"a":1.0}'::jsonb @> '{"a":1}'`, `1`},
		{"<@", `'{"a":1}'::jsonb <@ '{"a":1,"b":2}'`, `1`},
		{"@> false", `'{"a":1}'::jsonb @> '{"a":2}'`, `0`},
		{"? key", `'{"a":1}'::jsonb ? 'a'`, `1`},
		{"? array element", `'["a","b"]'::jsonb ? 'b'`, `1`},
		{"?|", `'{"a":1}'::jsonb ?| ARRAY['x','a']`, `1`},
		{"?&", `'{"a":1}'::jsonb ?& ARRAY['x','a']`, `0`},
		{"|| objects", `'{"a":1}'::jsonb || '{"b":2}'`, `{"a": 1, "b": 2}`},
		{"|| arrays", `'[1]'::jsonb || '[2,3]'`, `[1, 2, 3]`},
		{"|| scalar", `'{"a":1}'::jsonb || '2'`, `[{"a": 1}, 2]`},
		{"- key", `'{"a":1,"b":2}'::jsonb - 'a'`, `{"b": 2}`},
		{"- index", `'[1,2,3]'::jsonb - 1`, `[1, 3]`},
		{"- keys", `'{"a":1,"b":2,"c":3}'::jsonb - ARRAY['a','c']`, `{"b": 2}`},
		{"- array string", `'["a","b"]'::jsonb - 'a'`, `["b"]`},
		{"#-", `'{"a":{"b":1,"c":2}}'::jsonb #- '{a,b}'`, `{"a": {"c": 2}}`},
		{"jsonb_set array element", `jsonb_set('{"a":[1,2]}', '{a,0}', '"x"')`, `{"a": ["x", 2]}`},
		{"jsonb_set creates", `jsonb_set('{"a":1}', '{b}', '2')`, `{"a": 1, "b": 2}`},
		{"jsonb_set without create", `jsonb_set('{"a":1}', '{b}', '2', false)`, `{"a": 1}`},
		{"jsonb_array_length", `jsonb_array_length('[1,2]')`, `2`},
		{"jsonb_strip_nulls", `jsonb_strip_nulls('{"a":null,"b":{"c":null,"d":1}}')`, `{"b": {"d": 1}}`},
		{"jsonb_pretty", `jsonb_pretty('{"a":1,"b":[1,2],"c":{}}')`, "{\n    \"a\": 1,\n    \"b\": [\n        1,\n        2\n    ],\n    \"c\": {\n    }\n}"},
		{"to_jsonb bool", `to_jsonb(true)`, `true`},
		{"to_json array", `to_json(ARRAY[1,2])`, `[1,2]`},
		{"to_jsonb text array", `to_jsonb(ARRAY['a','b'])`, `["a", "b"]`},
		{"to_json text", `to_json('x'::text)`, `"x"`},
		{"jsonb_extract_path", `jsonb_extract_path('{"a":{"b":2}}', 'a', 'b')`, `2`},
		{"jsonb_extract_path_text", `jsonb_extract_path_text('{"a":{"b":"x"}}', 'a', 'b')`, `x`},
		{"a huge exponent stays as written", `'{"a":1e9999999}'::jsonb @> '{"a":1e9999999}'`, `1`},
		{"json_typeof", `jsonb_typeof('{"a":1}'::jsonb -> 'a')`, `number`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := runPG(t, db, state, "SELECT "+tc.expr)
			if len(got) != 1 || got[0] != tc.want {
				t.Fatalf("%s = %q, want %q", tc.expr, got, tc.want)
			}
		})
	}
	aggs := []struct{ name, pg, want string }{
		{"jsonb_agg ordered", `SELECT jsonb_agg(x ORDER BY x DESC) FROM (VALUES (1),(2)) v(x)`, `[2, 1]`},
		{"json_agg", `SELECT json_agg(x) FROM (VALUES (1),(2)) v(x)`, `[1, 2]`},
		{"json_agg of no rows", `SELECT json_agg(x) FROM (VALUES (1)) v(x) WHERE x > 1`, `<nil>`},
		{"jsonb_object_agg", `SELECT jsonb_object_agg(k, v) FROM (VALUES ('b',1),('a',2)) t(k,v)`, `{"a": 2, "b": 1}`},
		{"json_object_agg", `SELECT json_object_agg(k, v) FROM (VALUES ('b',1),('a',2)) t(k,v)`, `{ "b" : 1, "a" : 2 }`},
		{"jsonb_agg of booleans", `SELECT jsonb_agg(b) FROM (VALUES (true),(false)) t(b)`, `[true, false]`},
	}
	for _, tc := range aggs {
		t.Run(tc.name, func(t *testing.T) {
			got := runPG(t, db, state, tc.pg)
			if len(got) != 1 || got[0] != tc.want {
				t.Fatalf("%s = %q, want %q", tc.pg, got, tc.want)
			}
		})
	}
}

func TestJSONOperatorErrors(t *testing.T) {
	db, state := openCatalogDB(t, nil)
	for _, tc := range []struct{ expr, code, msg string }{
		{`'{"a":1}'::jsonb - 1`, "22023", "cannot delete from object using integer index"},
		{`'1'::jsonb - 'a'`, "22023", "cannot delete from scalar"},
		{`jsonb_array_length('{}')`, "22023", "cannot get array length of a non-array"},
		{`jsonb_set('1', '{a}', '2')`, "22023", "cannot set path in scalar"},
		{`jsonb_build_object('a')`, "22023", "argument list must have even number of elements"},
	} {
		sts, err := translateFor(state, "SELECT "+tc.expr)
		if err != nil {
			t.Fatalf("%s: %v", tc.expr, err)
		}
		_, err = db.Exec(sts)
		code, msg, ok := splitFuncError(errString(err))
		if !ok || code != tc.code || msg != tc.msg {
			t.Errorf("%s: %v, want %s %q", tc.expr, err, tc.code, tc.msg)
		}
	}
}
