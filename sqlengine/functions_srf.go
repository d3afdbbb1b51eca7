package sqlengine

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// Set-returning functions in FROM. Translation emits
//
//	json_each(pg_srf('unnest', 'it', a, b)) AS u
//
// and reads column i of a row as u.value ->> i: pg_srf computes every row
// of the function at once, as a JSON array of rows, each row an array of
// the columns' values in SQLite's storage forms (a json or jsonb value as
// its text). SQLite's json_each then makes them rows, and since a
// table-valued function may read the columns of the FROM items before it,
// LATERAL references work. The rows' size is bounded like any value
// (maxValueSize), and the call is charged its result (workBudget), so it
// is deterministic and bounded on every node.

// srfFuncs are the set-returning functions' row builders.
func srfFuncs(regex *regexCache) []sqlFunc {
	return []sqlFunc{
		{"pg_srf", 2, -1, true, func(a []any) (any, error) {
			name, types := asString(orEmpty(a[0])), asString(orEmpty(a[1]))
			rows, err := srfRows(regex, name, types, a[2:])
			if err != nil {
				return nil, err
			}
			return encodeRows(rows)
		}},
		{"pg_srf_zip", 1, -1, true, func(a []any) (any, error) {
			return zipRows(a)
		}},
	}
}

// srfRows computes the rows of one set-returning function. types gives the
// element kind of each array argument of unnest and generate_subscripts
// ('t' text, 'b' boolean, 'f' floating, anything else: integers where the
// element is one).
func srfRows(regex *regexCache, name, types string, args []any) ([][]any, error) {
	switch name {
	case "unnest":
		return unnestRows(types, args), nil
	case "generate_subscripts":
		return subscriptRows(args)
	case "json_each", "jsonb_each", "json_each_text", "jsonb_each_text":
		return jsonEachRows(name, args[0])
	case "json_array_elements", "jsonb_array_elements", "json_array_elements_text", "jsonb_array_elements_text":
		return jsonElementRows(name, args[0])
	case "json_object_keys", "jsonb_object_keys":
		return jsonKeyRows(name, args[0])
	case "regexp_split_to_table":
		return regexpSplitRows(regex, args)
	case "string_to_table":
		return stringToTableRows(args)
	case "generate_series":
		return seriesRows(args)
	case "regexp_matches":
		return regexpMatchesRows(regex, args)
	case "pg_partition_ancestors":
		return partitionAncestorRows(args[0])
	case "pg_options_to_table":
		var rows [][]any
		for _, r := range unnestRows("t", args[:1]) {
			item := asString(orEmpty(r[0]))
			name, value, _ := strings.Cut(item, "=")
			rows = append(rows, []any{name, value})
		}
		return rows, nil
	}
	return nil, funcError(pgerror.UndefinedFunction, fmt.Sprintf("function %s does not exist", name))
}

// encodeRows is the JSON array json_each reads.
func encodeRows(rows [][]any) (any, error) {
	var b strings.Builder
	b.WriteByte('[')
	for i, r := range rows {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('[')
		for j, v := range r {
			if j > 0 {
				b.WriteByte(',')
			}
			switch x := v.(type) {
			case nil:
				b.WriteString("null")
			case int64:
				b.WriteString(strconv.FormatInt(x, 10))
			case float64:
				f, _ := json.Marshal(x)
				b.Write(f)
			default:
				b.WriteString(pgJSONString(asString(x)))
			}
		}
		b.WriteByte(']')
		if int64(b.Len()) > maxValueSize {
			return nil, errTooLong()
		}
	}
	b.WriteByte(']')
	return b.String(), nil
}

// zipRows runs the one-column row sets of a select list's set-returning
// calls in lockstep: as many rows as the longest, NULL past the end of a
// shorter one.
func zipRows(sets []any) (any, error) {
	cols := make([][]any, len(sets))
	n := 0
	for i, s := range sets {
		var rows [][]any
		if s != nil {
			dec := json.NewDecoder(strings.NewReader(asString(s)))
			dec.UseNumber()
			if err := dec.Decode(&rows); err != nil {
				return nil, funcError(pgerror.InvalidParameterValue, "pg_srf_zip: malformed rows")
			}
		}
		for _, r := range rows {
			if len(r) > 0 {
				cols[i] = append(cols[i], jsonScalar(r[0]))
			} else {
				cols[i] = append(cols[i], nil)
			}
		}
		n = max(n, len(rows))
	}
	out := make([][]any, n)
	for r := range out {
		row := make([]any, len(cols))
		for i, c := range cols {
			if r < len(c) {
				row[i] = c[r]
			}
		}
		out[r] = row
	}
	return encodeRows(out)
}

// jsonScalar turns a decoded row value back into what encodeRows writes.
func jsonScalar(v any) any {
	switch x := v.(type) {
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n
		}
		f, _ := x.Float64()
		return f
	case bool:
		return boolInt(x)
	}
	return v
}

// unnestRows zips the arrays: as many rows as the longest, NULL past the
// end of a shorter one. A NULL array has no elements.
func unnestRows(types string, arrays []any) [][]any {
	cols := make([][]arrayElem, len(arrays))
	n := 0
	for i, a := range arrays {
		if a != nil {
			cols[i] = parseArray(asString(a))
		}
		n = max(n, len(cols[i]))
	}
	rows := make([][]any, n)
	for r := range rows {
		row := make([]any, len(arrays))
		for i, col := range cols {
			if r < len(col) {
				kind := byte(0)
				if i < len(types) {
					kind = types[i]
				}
				row[i] = elemValue(col[r], kind)
			}
		}
		rows[r] = row
	}
	return rows
}

// elemValue is an array element in SQLite's storage form for its kind.
func elemValue(e arrayElem, kind byte) any {
	if e.text == nil {
		return nil
	}
	switch kind {
	case 't':
		return *e.text
	case 'b':
		switch strings.ToLower(*e.text) {
		case "t", "true":
			return int64(1)
		case "f", "false":
			return int64(0)
		}
	case 'f':
		if f, err := strconv.ParseFloat(*e.text, 64); err == nil && !strings.ContainsAny(*e.text, "nNiI") {
			return f
		}
		return *e.text
	}
	return e.value()
}

// subscriptRows is generate_subscripts(array, dim [, reverse]).
func subscriptRows(args []any) ([][]any, error) {
	if len(args) < 2 || len(args) > 3 {
		return nil, funcError(pgerror.UndefinedFunction, "function generate_subscripts does not exist")
	}
	if args[0] == nil || args[1] == nil {
		return nil, nil
	}
	dim, err := toInt(args[1])
	if err != nil {
		return nil, err
	}
	n := len(parseArray(asString(args[0])))
	if dim != 1 || n == 0 {
		return nil, nil
	}
	reverse := len(args) == 3 && args[2] != nil && truthy(args[2])
	rows := make([][]any, n)
	for i := range rows {
		v := int64(i + 1)
		if reverse {
			v = int64(n - i)
		}
		rows[i] = []any{v}
	}
	return rows, nil
}

// jsonMember is one member of a JSON object or array, its text as written.
type jsonMember struct {
	key string
	raw json.RawMessage
}

// jsonDocument parses a json or jsonb argument into its kind ('o' object,
// 'a' array, 's' scalar) and members, in document order. A jsonb value is
// first put in jsonb's form (sorted keys, last duplicate wins).
func jsonDocument(x any, jsonb bool) (byte, []jsonMember, error) {
	s := asString(x)
	if jsonb {
		n, err := normalizeJSONB(s)
		if err != nil {
			return 0, nil, errJSONSyntax()
		}
		s = n
	} else if !json.Valid([]byte(s)) {
		return 0, nil, errJSONSyntax()
	}
	dec := json.NewDecoder(strings.NewReader(s))
	tok, err := dec.Token()
	if err != nil {
		return 0, nil, errJSONSyntax()
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return 's', nil, nil
	}
	var out []jsonMember
	for dec.More() {
		var m jsonMember
		if d == '{' {
			k, err := dec.Token()
			if err != nil {
				return 0, nil, errJSONSyntax()
			}
			m.key, _ = k.(string)
		}
		if err := dec.Decode(&m.raw); err != nil {
			return 0, nil, errJSONSyntax()
		}
		out = append(out, m)
	}
	if d == '{' {
		return 'o', out, nil
	}
	return 'a', out, nil
}

// jsonValueText is a member's value as the function's column holds it:
// jsonb in jsonb's form, json as written, and for the _text variants a
// string unquoted and null as NULL.
func jsonValueText(raw json.RawMessage, jsonb, asText bool) any {
	s := string(raw)
	if asText {
		switch {
		case s == "null":
			return nil
		case strings.HasPrefix(s, `"`):
			var v string
			if json.Unmarshal(raw, &v) == nil {
				return v
			}
		}
	}
	if jsonb {
		if n, err := normalizeJSONB(s); err == nil {
			return n
		}
	}
	return s
}

func jsonArgError(msg string) error { return funcError(pgerror.InvalidParameterValue, msg) }

// jsonEachRows is json_each, jsonb_each and their _text variants: (key, value).
func jsonEachRows(name string, x any) ([][]any, error) {
	if x == nil {
		return nil, nil
	}
	jsonb, asText := strings.HasPrefix(name, "jsonb"), strings.HasSuffix(name, "_text")
	kind, members, err := jsonDocument(x, jsonb)
	if err != nil {
		return nil, err
	}
	switch {
	case kind != 'o' && jsonb:
		return nil, jsonArgError("cannot call " + name + " on a non-object")
	case kind == 'a':
		return nil, jsonArgError("cannot deconstruct an array as an object")
	case kind == 's':
		return nil, jsonArgError("cannot deconstruct a scalar")
	}
	rows := make([][]any, len(members))
	for i, m := range members {
		rows[i] = []any{m.key, jsonValueText(m.raw, jsonb, asText)}
	}
	return rows, nil
}

// jsonElementRows is json_array_elements, jsonb_array_elements and their
// _text variants: (value).
func jsonElementRows(name string, x any) ([][]any, error) {
	if x == nil {
		return nil, nil
	}
	jsonb, asText := strings.HasPrefix(name, "jsonb"), strings.HasSuffix(name, "_text")
	kind, members, err := jsonDocument(x, jsonb)
	if err != nil {
		return nil, err
	}
	switch {
	case kind == 's' && jsonb:
		return nil, jsonArgError("cannot extract elements from a scalar")
	case kind == 'o' && jsonb:
		return nil, jsonArgError("cannot extract elements from an object")
	case kind == 's':
		return nil, jsonArgError("cannot call " + name + " on a scalar")
	case kind == 'o':
		return nil, jsonArgError("cannot call " + name + " on a non-array")
	}
	rows := make([][]any, len(members))
	for i, m := range members {
		rows[i] = []any{jsonValueText(m.raw, jsonb, asText)}
	}
	return rows, nil
}

// jsonKeyRows is json_object_keys and jsonb_object_keys.
func jsonKeyRows(name string, x any) ([][]any, error) {
	if x == nil {
		return nil, nil
	}
	kind, members, err := jsonDocument(x, strings.HasPrefix(name, "jsonb"))
	if err != nil {
		return nil, err
	}
	switch kind {
	case 'a':
		return nil, jsonArgError("cannot call " + name + " on an array")
	case 's':
		return nil, jsonArgError("cannot call " + name + " on a scalar")
	}
	rows := make([][]any, len(members))
	for i, m := range members {
		rows[i] = []any{m.key}
	}
	return rows, nil
}

// regexpSplitRows is regexp_split_to_table(string, pattern [, flags]).
func regexpSplitRows(regex *regexCache, args []any) ([][]any, error) {
	if len(args) < 2 || len(args) > 3 {
		return nil, funcError(pgerror.UndefinedFunction, "function regexp_split_to_table does not exist")
	}
	for _, a := range args {
		if a == nil {
			return nil, nil
		}
	}
	flags := ""
	if len(args) == 3 {
		flags = asString(args[2])
	}
	if strings.Contains(flags, "g") {
		return nil, funcError(pgerror.InvalidParameterValue, "regexp_split_to_table() does not support the \"global\" option")
	}
	re, err := regex.get(asString(args[1]), flags)
	if err != nil {
		return nil, err
	}
	s := asString(args[0])
	var rows [][]any
	start := 0
	for _, m := range re.FindAllStringIndex(s, -1) {
		// PostgreSQL skips a zero-length match at the start or end of the
		// string and right after the previous match.
		if m[0] == m[1] && (m[0] == 0 || m[0] == len(s) || m[0] == start) {
			continue
		}
		rows = append(rows, []any{s[start:m[0]]})
		start = m[1]
	}
	return append(rows, []any{s[start:]}), nil
}

// seriesRows is generate_series(start, stop [, step]) over integers, or
// over floating point when any bound is not an integer.
func seriesRows(args []any) ([][]any, error) {
	if len(args) < 2 || len(args) > 3 {
		return nil, funcError(pgerror.UndefinedFunction, "function generate_series does not exist")
	}
	for _, a := range args {
		if a == nil {
			return nil, nil
		}
	}
	ints := true
	for _, a := range args {
		if _, ok := a.(int64); !ok {
			if n, err := toInt(a); err != nil || asString(n) != strings.TrimSpace(asString(a)) {
				ints = false
			}
		}
	}
	var step any = int64(1)
	if len(args) == 3 {
		step = args[2]
	}
	if ints {
		a, _ := toInt(args[0])
		b, _ := toInt(args[1])
		s, _ := toInt(step)
		if s == 0 {
			return nil, funcError(pgerror.InvalidParameterValue, "step size cannot equal zero")
		}
		if (s > 0 && a > b) || (s < 0 && a < b) {
			return nil, nil
		}
		n := (uint64(b-a) / uint64(s)) + 1 // b-a and s have the same sign
		if s < 0 {
			n = (uint64(a-b) / uint64(-s)) + 1
		}
		if n > uint64(maxValueSize/4) {
			return nil, errTooLong() // its rows could not be held anyway
		}
		rows := make([][]any, 0, n)
		for i, v := uint64(0), a; i < n; i, v = i+1, v+s {
			rows = append(rows, []any{v})
		}
		return rows, nil
	}
	a, err := toFloat(args[0])
	if err != nil {
		return nil, err
	}
	b, err := toFloat(args[1])
	if err != nil {
		return nil, err
	}
	s, err := toFloat(step)
	if err != nil {
		return nil, err
	}
	if s == 0 {
		return nil, funcError(pgerror.InvalidParameterValue, "step size cannot equal zero")
	}
	if math.IsNaN(a) || math.IsNaN(b) || math.IsNaN(s) || math.IsInf(s, 0) {
		return nil, funcError(pgerror.InvalidParameterValue, "step size cannot be NaN or infinite")
	}
	n := math.Floor((b-a)/s) + 1
	if n > float64(maxValueSize/4) {
		return nil, errTooLong()
	}
	var rows [][]any
	for i := 0.0; i < n; i++ { // a + i*step, as PostgreSQL's numeric series adds: never stuck where v+step == v
		rows = append(rows, []any{a + i*s})
	}
	return rows, nil
}

// regexpMatchesRows is regexp_matches(string, pattern [, flags]): one row
// (a text[] of the groups) for the first match, or for every match with
// the g flag.
func regexpMatchesRows(regex *regexCache, args []any) ([][]any, error) {
	if len(args) < 2 || len(args) > 3 {
		return nil, funcError(pgerror.UndefinedFunction, "function regexp_matches does not exist")
	}
	for _, a := range args {
		if a == nil {
			return nil, nil
		}
	}
	flags := ""
	if len(args) == 3 {
		flags = asString(args[2])
	}
	re, err := regex.get(asString(args[1]), flags)
	if err != nil {
		return nil, err
	}
	n := 1
	if strings.Contains(flags, "g") {
		n = -1
	}
	var rows [][]any
	for _, m := range re.FindAllStringSubmatch(asString(args[0]), n) {
		arr, err := arrayResult(matchGroups(m))
		if err != nil {
			return nil, err
		}
		rows = append(rows, []any{arr})
	}
	return rows, nil
}

// stringToTableRows is string_to_table(string, delimiter [, null_string]).
func stringToTableRows(args []any) ([][]any, error) {
	if len(args) < 2 || len(args) > 3 {
		return nil, funcError(pgerror.UndefinedFunction, "function string_to_table does not exist")
	}
	if args[0] == nil {
		return nil, nil
	}
	s := asString(args[0])
	var parts []string
	switch {
	case args[1] == nil:
		for _, r := range s {
			parts = append(parts, string(r))
		}
	case s == "":
		return nil, nil
	case asString(args[1]) == "":
		parts = []string{s}
	default:
		parts = strings.Split(s, asString(args[1]))
	}
	rows := make([][]any, len(parts))
	for i, p := range parts {
		var v any = p
		if len(args) == 3 && args[2] != nil && p == asString(args[2]) {
			v = nil
		}
		rows[i] = []any{v}
	}
	return rows, nil
}

// partitionAncestorRows is pg_partition_ancestors(rel): without partitions,
// rel alone. rel is an OID (psql passes one as text); NULL gives no row.
func partitionAncestorRows(rel any) ([][]any, error) {
	switch v := rel.(type) {
	case nil:
		return nil, nil
	case int64:
		return [][]any{{v}}, nil
	}
	oid, err := strconv.ParseUint(strings.TrimSpace(asString(rel)), 10, 32)
	if err != nil {
		return nil, funcError(pgerror.FeatureNotSupported, "pg_partition_ancestors of a relation name is not supported by pgraft: pass its OID")
	}
	return [][]any{{int64(oid)}}, nil
}
