package sqlengine

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/pgraft/pgraft/pgvalue"
	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// The json and jsonb operators and functions (->, #>, @>, ?, ||, -, #-,
// jsonb_set, json_build_object, …). A jsonb result is printed as jsonb_out
// prints it (writeJSONB: keys sorted by length then bytes, ", " and ": ");
// a json result keeps the text it came from, as PostgreSQL's json does.
// Values that are not json come with a kind (jsonKind) saying how they
// become JSON: SQLite's storage forms cannot tell a boolean from 1.

// decodeJSON parses a json or jsonb value into Go values (json.Number for
// numbers); 22P02 when it is not JSON.
func decodeJSON(x any) (any, error) {
	dec := json.NewDecoder(strings.NewReader(asString(x)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		return nil, errJSONSyntax()
	}
	return v, nil
}

// jsonbText prints a decoded value as jsonb_out.
func jsonbText(v any) string {
	var b strings.Builder
	writeJSONB(&b, v)
	return b.String()
}

// jsonKind tells how a non-json SQL value becomes JSON: 'b' boolean, 'n'
// number, 't' text, 'j' json text to embed; upper case for an array of
// that kind (an array literal); 0 or '?': by its SQLite type.
func toJSONValue(x any, kind byte) (any, error) {
	if x == nil {
		return nil, nil
	}
	if kind >= 'A' && kind <= 'Z' {
		var out []any
		for _, e := range parseArray(asString(x)) {
			v, err := toJSONValue(elemValue(e, map[byte]byte{'B': 'b', 'N': 'f', 'T': 't'}[kind]), kind+'a'-'A')
			if err != nil {
				return nil, err
			}
			if e.text == nil {
				v = nil
			}
			out = append(out, v)
		}
		if out == nil {
			out = []any{}
		}
		return out, nil
	}
	switch kind {
	case 'j':
		return decodeJSON(x)
	case 'b':
		n, err := toInt(x)
		if err != nil {
			b, ok := pgvalue.ParseBool(asString(x))
			return ok && b, nil
		}
		return n != 0, nil
	}
	switch v := x.(type) {
	case int64:
		return json.Number(strconv.FormatInt(v, 10)), nil
	case float64:
		s := pgvalue.FormatFloat8(v)
		if s == "NaN" || strings.HasSuffix(s, "Infinity") {
			return s, nil
		}
		return json.Number(s), nil
	case []byte:
		if kind == 'n' {
			return json.Number(string(v)), nil
		}
	}
	if kind == 'n' {
		if _, err := strconv.ParseFloat(asString(x), 64); err == nil {
			return json.Number(asString(x)), nil
		}
	}
	return asString(x), nil
}

// jsonText prints a value in json's own (not jsonb's) spacing, as
// json_build_object and to_json do: "[1,2]" inside, {"a" : 1} for objects
// built by json_build_object.
func jsonText(v any) string {
	switch t := v.(type) {
	case []any:
		parts := make([]string, len(t))
		for i, e := range t {
			parts[i] = jsonText(e)
		}
		return "[" + strings.Join(parts, ",") + "]"
	case map[string]any:
		return jsonbText(t)
	case json.Number:
		return numericText(string(t))
	}
	return jsonbText(v)
}

// jsonPath navigates a decoded value along a text[] path: object keys, and
// array indexes (negative from the end). ok is false when the path leads
// nowhere.
func jsonPath(v any, path []arrayElem) (any, bool) {
	for _, p := range path {
		if p.text == nil {
			return nil, false
		}
		switch t := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = t[*p.text]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(strings.TrimSpace(*p.text))
			if err != nil {
				return nil, false
			}
			if i < 0 {
				i += len(t)
			}
			if i < 0 || i >= len(t) {
				return nil, false
			}
			v = t[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// jsonResult is an extracted value as the operator returns it: as text
// for ->> and #>> (a string unquoted, null as NULL), else as json(b).
func jsonResult(v any, asText bool) any {
	if asText {
		switch t := v.(type) {
		case nil:
			return nil
		case string:
			return t
		}
	}
	return jsonbText(v)
}

// jsonGet is -> and ->> (key is text for an object, an integer for an
// array) and #> and #>> (key is a text[] path).
func jsonGet(doc, key any, asText, path bool) (any, error) {
	if doc == nil || key == nil {
		return nil, nil
	}
	v, err := decodeJSON(doc)
	if err != nil {
		return nil, err
	}
	var steps []arrayElem
	if path {
		steps = parseArray(asString(key))
	} else {
		switch k := key.(type) {
		case int64:
			if _, isArray := v.([]any); !isArray {
				return nil, nil
			}
			s := strconv.FormatInt(k, 10)
			steps = []arrayElem{{text: &s}}
		default:
			if _, isObject := v.(map[string]any); !isObject {
				return nil, nil
			}
			s := asString(k)
			steps = []arrayElem{{text: &s}}
		}
	}
	got, ok := jsonPath(v, steps)
	if !ok {
		return nil, nil
	}
	return jsonResult(got, asText), nil
}

// jsonGetRaw is jsonGet over json (not jsonb): the value found keeps the
// text it has in the document.
func jsonGetRaw(doc, key any, asText, path bool) (any, error) {
	if doc == nil || key == nil {
		return nil, nil
	}
	var steps []arrayElem
	if path {
		steps = parseArray(asString(key))
	} else if k, ok := key.(int64); ok {
		s := strconv.FormatInt(k, 10)
		steps = []arrayElem{{text: &s, quoted: false}}
	} else {
		s := asString(key)
		steps = []arrayElem{{text: &s, quoted: true}}
	}
	raw := json.RawMessage(asString(doc))
	for _, p := range steps {
		if p.text == nil {
			return nil, nil
		}
		kind, members, err := jsonDocument(string(raw), false)
		if err != nil {
			return nil, err
		}
		found := false
		switch kind {
		case 'o':
			if !path && !p.quoted {
				return nil, nil // an integer key on an object
			}
			for _, m := range members {
				if m.key == *p.text {
					raw, found = m.raw, true
				}
			}
		case 'a':
			if !path && p.quoted {
				return nil, nil // a text key on an array
			}
			i, err := strconv.Atoi(strings.TrimSpace(*p.text))
			if err != nil {
				return nil, nil
			}
			if i < 0 {
				i += len(members)
			}
			if i >= 0 && i < len(members) {
				raw, found = members[i].raw, true
			}
		}
		if !found {
			return nil, nil
		}
	}
	return jsonValueText(raw, false, asText), nil
}

// buildObject is json(b)_build_object over (key, value) pairs with their
// kinds.
func buildObject(jsonb bool, kinds string, args []any) (any, error) {
	if len(args)%2 != 0 {
		return nil, funcError(pgerror.InvalidParameterValue, "argument list must have even number of elements")
	}
	obj := map[string]any{}
	var parts []string
	for i := 0; i < len(args); i += 2 {
		if args[i] == nil {
			return nil, funcError(pgerror.InvalidParameterValue, "argument "+strconv.Itoa(i+1)+": key must not be null")
		}
		k := asString(args[i])
		if b, ok := args[i].([]byte); ok {
			k = string(b)
		}
		v, err := toJSONValue(args[i+1], kindAt(kinds, i+1))
		if err != nil {
			return nil, err
		}
		obj[k] = v
		parts = append(parts, pgJSONString(k)+" : "+jsonText(v))
	}
	if jsonb {
		return jsonbText(obj), nil
	}
	return "{" + strings.Join(parts, ", ") + "}", nil
}

// buildArray is json(b)_build_array.
func buildArray(jsonb bool, kinds string, args []any) (any, error) {
	vals := make([]any, len(args))
	parts := make([]string, len(args))
	for i, a := range args {
		v, err := toJSONValue(a, kindAt(kinds, i))
		if err != nil {
			return nil, err
		}
		vals[i], parts[i] = v, jsonText(v)
	}
	if jsonb {
		return jsonbText(vals), nil
	}
	return "[" + strings.Join(parts, ", ") + "]", nil
}

func kindAt(kinds string, i int) byte {
	if i < len(kinds) {
		return kinds[i]
	}
	return 0
}

// jsonbFuncs are the json and jsonb operators' and functions' SQL
// functions. Operators take the operator's name first.
func jsonbFuncs() []sqlFunc {
	return []sqlFunc{
		{"pg_json_op", 3, 3, true, func(a []any) (any, error) {
			if a[1] == nil || a[2] == nil {
				return nil, nil
			}
			return jsonOp(asString(a[0]), a[1], a[2])
		}},
		{"pg_json_get", 3, 3, true, func(a []any) (any, error) {
			op := asString(a[0])
			if raw, ok := strings.CutPrefix(op, "j"); ok {
				return jsonGetRaw(a[1], a[2], strings.HasSuffix(raw, ">>"), strings.HasPrefix(raw, "#"))
			}
			return jsonGet(a[1], a[2], strings.HasSuffix(op, ">>"), strings.HasPrefix(op, "#"))
		}},
		{"pg_json_to", 2, 2, true, func(a []any) (any, error) { // to_json / to_jsonb: kind, value
			k := asString(orEmpty(a[0]))
			if a[1] == nil {
				return nil, nil
			}
			v, err := toJSONValue(a[1], kindAt(k, 1))
			if err != nil {
				return nil, err
			}
			if kindAt(k, 0) == 'b' {
				return jsonbText(v), nil
			}
			return jsonText(v), nil
		}},
		{"pg_json_build_object", 2, -1, true, func(a []any) (any, error) {
			return buildObject(asString(orEmpty(a[0])) == "jsonb", asString(orEmpty(a[1])), a[2:])
		}},
		{"pg_json_build_array", 2, -1, true, func(a []any) (any, error) {
			return buildArray(asString(orEmpty(a[0])) == "jsonb", asString(orEmpty(a[1])), a[2:])
		}},
		{"pg_jsonb_set", 3, 4, true, func(a []any) (any, error) {
			if a[0] == nil || a[1] == nil || a[2] == nil {
				return nil, nil
			}
			create := len(a) < 4 || a[3] == nil || truthy(a[3])
			return jsonbEdit(a[0], a[1], a[2], create, false)
		}},
		{"pg_jsonb_strip_nulls", 1, 1, true, strict(func(a []any) (any, error) {
			v, err := decodeJSON(a[0])
			if err != nil {
				return nil, err
			}
			return jsonbText(stripNulls(v)), nil
		})},
		{"pg_jsonb_pretty", 1, 1, true, strict(func(a []any) (any, error) {
			v, err := decodeJSON(a[0])
			if err != nil {
				return nil, err
			}
			var b strings.Builder
			prettyJSONB(&b, v, "")
			return b.String(), nil
		})},
		{"pg_json_array_length", 2, 2, true, func(a []any) (any, error) {
			if a[1] == nil {
				return nil, nil
			}
			v, err := decodeJSON(a[1])
			if err != nil {
				return nil, err
			}
			arr, ok := v.([]any)
			switch {
			case ok:
				return int64(len(arr)), nil
			case asString(a[0]) == "jsonb":
				if _, obj := v.(map[string]any); obj {
					return nil, jsonArgErr("cannot get array length of a non-array")
				}
				return nil, jsonArgErr("cannot get array length of a scalar")
			}
			if _, obj := v.(map[string]any); obj {
				return nil, jsonArgErr("cannot get array length of a non-array")
			}
			return nil, jsonArgErr("cannot get array length of a scalar")
		}},
	}
}

// jsonbEdit is jsonb_set (and #- with remove).
func jsonbEdit(doc, path, nv any, create, remove bool) (any, error) {
	v, err := decodeJSON(doc)
	if err != nil {
		return nil, err
	}
	var n any
	if !remove {
		if n, err = decodeJSON(nv); err != nil {
			return nil, err
		}
	}
	out, err := jsonSetPath(v, parseArray(asString(path)), n, create, remove)
	if err != nil {
		return nil, err
	}
	return jsonbText(out), nil
}

// jsonOp is one of jsonb's binary operators over two non-NULL values.
func jsonOp(op string, l, r any) (any, error) {
	switch op {
	case "#-":
		return jsonbEdit(l, r, nil, false, true)
	case "-", "-i", "-a":
		v, err := decodeJSON(l)
		if err != nil {
			return nil, err
		}
		kind := byte('t')
		if len(op) == 2 {
			kind = op[1]
		}
		out, err := jsonDelete(v, r, kind)
		if err != nil {
			return nil, err
		}
		return jsonbText(out), nil
	case "?", "?|", "?&":
		v, err := decodeJSON(l)
		if err != nil {
			return nil, err
		}
		if op == "?" {
			return boolInt(jsonHasKey(v, asString(r))), nil
		}
		any, all := false, true
		for _, e := range parseArray(asString(r)) {
			if e.text == nil {
				continue
			}
			has := jsonHasKey(v, *e.text)
			any, all = any || has, all && has
		}
		if op == "?|" {
			return boolInt(any), nil
		}
		return boolInt(all), nil
	}
	a, err := decodeJSON(l)
	if err != nil {
		return nil, err
	}
	b, err := decodeJSON(r)
	if err != nil {
		return nil, err
	}
	switch op {
	case "@>":
		return boolInt(jsonContains(a, b, true)), nil
	case "<@":
		return boolInt(jsonContains(b, a, true)), nil
	case "||":
		return jsonbText(jsonConcat(a, b)), nil
	}
	return nil, funcError(pgerror.UndefinedFunction, "operator does not exist: jsonb "+op+" jsonb")
}

// jsonAgg is json_agg, jsonb_agg, json_object_agg and jsonb_object_agg.
// Its first argument says which ("a" or "o", then "b" for jsonb) and the
// kinds of the values (jsonKind).
type jsonAgg struct {
	vals  []any
	keys  []string
	mode  string
	size  int64
	any   bool
	meter *workBudget
}

// Step adds one row: (mode, kinds, value) or (mode, kinds, key, value).
func (g *jsonAgg) Step(args ...any) (err error) {
	defer recoverCallback("json_agg", &err)
	if len(args) < 3 {
		return funcError(pgerror.UndefinedFunction, "function json_agg with these arguments does not exist")
	}
	for i, a := range args {
		if b, ok := a.([]byte); ok && b == nil {
			args[i] = nil
		}
	}
	if g.mode == "" {
		g.mode = asString(orEmpty(args[0]))
	}
	kinds := asString(orEmpty(args[1]))
	vi, key := 2, ""
	if strings.HasPrefix(g.mode, "o") {
		if len(args) < 4 {
			return funcError(pgerror.UndefinedFunction, "function json_object_agg with these arguments does not exist")
		}
		if args[2] == nil {
			return funcError(pgerror.InvalidParameterValue, "field name must not be null")
		}
		key, vi = asString(args[2]), 3
	}
	v, err := toJSONValue(args[vi], kindAt(kinds, 0))
	if err != nil {
		return err
	}
	if strings.HasPrefix(g.mode, "o") {
		g.keys = append(g.keys, key)
	}
	g.any = true
	n := valueLen(args[vi]) + 8
	g.meter.charge(n)
	if g.size += int64(n); g.size > maxValueSize {
		return errTooLong()
	}
	g.vals = append(g.vals, v)
	return nil
}

// Done prints the aggregate, NULL over no rows.
func (g *jsonAgg) Done() (_ any, err error) {
	defer recoverCallback("json_agg", &err)
	if !g.any {
		return nil, nil
	}
	jsonb := strings.HasSuffix(g.mode, "b")
	if strings.HasPrefix(g.mode, "o") {
		if jsonb {
			obj := make(map[string]any, len(g.keys))
			for i, k := range g.keys {
				obj[k] = g.vals[i]
			}
			return jsonbText(obj), nil
		}
		parts := make([]string, len(g.keys))
		for i, k := range g.keys {
			parts[i] = pgJSONString(k) + " : " + jsonText(g.vals[i])
		}
		return "{ " + strings.Join(parts, ", ") + " }", nil
	}
	if jsonb {
		return jsonbText(g.vals), nil
	}
	parts := make([]string, len(g.vals))
	for i, v := range g.vals {
		parts[i] = jsonText(v)
	}
	return "[" + strings.Join(parts, ", ") + "]", nil
}
