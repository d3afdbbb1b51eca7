package sqlengine

import (
	"strconv"
	"strings"
)

// Arrays are stored and passed as PostgreSQL array text literals
// ({a,b,"c d",NULL}); only one-dimensional arrays are understood.

// arrayElem is one element of a parsed array; nil text means NULL.
type arrayElem struct {
	text   *string
	quoted bool
}

// parseArray parses a one-dimensional array literal. A value that is not an
// array literal is a one-element array of itself.
func parseArray(s string) []arrayElem {
	t := strings.TrimSpace(s)
	if i := strings.Index(t, "={"); strings.HasPrefix(t, "[") && i > 0 {
		t = t[i+1:] // drop explicit bounds "[1:2]="
	}
	if !strings.HasPrefix(t, "{") || !strings.HasSuffix(t, "}") {
		return []arrayElem{{text: &s}}
	}
	body := t[1 : len(t)-1]
	var out []arrayElem
	for i := 0; i < len(body); {
		for i < len(body) && body[i] == ' ' {
			i++
		}
		var b strings.Builder
		quoted := i < len(body) && body[i] == '"'
		if quoted {
			for i++; i < len(body) && body[i] != '"'; i++ {
				if body[i] == '\\' && i+1 < len(body) {
					i++
				}
				b.WriteByte(body[i])
			}
			i++
			for i < len(body) && body[i] != ',' {
				i++
			}
		} else {
			depth := 0
			for ; i < len(body) && (body[i] != ',' || depth > 0); i++ {
				switch body[i] {
				case '{':
					depth++
				case '}':
					depth--
				}
				b.WriteByte(body[i])
			}
		}
		i++ // the comma
		v := b.String()
		if !quoted {
			v = strings.TrimSpace(v)
			if v == "" && len(out) == 0 && strings.TrimSpace(body) == "" {
				break
			}
			if strings.EqualFold(v, "NULL") {
				out = append(out, arrayElem{})
				continue
			}
		}
		out = append(out, arrayElem{text: &v, quoted: quoted})
	}
	return out
}

// formatArray prints values as an array literal, quoting like array_out.
func formatArray(vals []any) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, v := range vals {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(arrayElemText(v))
	}
	b.WriteByte('}')
	return b.String()
}

// arrayTextBound is the most formatArray(vals) can take, in bytes: an
// element's text is at most twice its value (escapes, or bytea's hex) plus
// quotes, \x and a comma.
func arrayTextBound(vals []any) int64 {
	size := int64(2)
	for _, v := range vals {
		size += 2*int64(valueLen(v)) + 5
	}
	return size
}

func arrayElemText(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case int64, float64:
		return asString(x)
	}
	s := textOf(v)
	if s == "" || strings.EqualFold(s, "NULL") || strings.ContainsAny(s, "{},\"\\ \t\n\r\v\f") {
		return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
	}
	return s
}

// value returns an element as SQLite should see it: NULL, an INTEGER when
// the unquoted element is an integer (catalog arrays such as indkey are
// compared with attnum), else TEXT.
func (e arrayElem) value() any {
	if e.text == nil {
		return nil
	}
	if !e.quoted {
		if n, err := strconv.ParseInt(*e.text, 10, 64); err == nil {
			return n
		}
	}
	return *e.text
}

func arrayFuncs() []sqlFunc {
	return []sqlFunc{
		{"pg_array", 0, -1, true, func(a []any) (any, error) {
			if err := checkSize(arrayTextBound(a)); err != nil {
				return nil, err
			}
			return formatArray(a), nil
		}},
		{"pg_array_contains", 2, 2, true, strict(func(a []any) (any, error) {
			want, sawNull := textOf(a[1]), false
			for _, e := range parseArray(asString(a[0])) {
				if e.text == nil {
					sawNull = true
				} else if *e.text == want || numEqual(*e.text, a[1]) {
					return int64(1), nil
				}
			}
			if sawNull {
				return nil, nil // x = ANY('{NULL}') is NULL, not false
			}
			return int64(0), nil
		})},
		{"pg_array_get", 2, 2, true, strict(func(a []any) (any, error) {
			i, err := toInt(a[1])
			if err != nil {
				return nil, err
			}
			el := parseArray(asString(a[0]))
			if i < 1 || i > int64(len(el)) {
				return nil, nil
			}
			return el[i-1].value(), nil
		})},
		{"array_to_string", 2, 3, true, func(a []any) (any, error) {
			if a[0] == nil || a[1] == nil {
				return nil, nil
			}
			var parts []string
			var size int64
			for _, e := range parseArray(asString(a[0])) {
				switch {
				case e.text != nil:
					parts = append(parts, *e.text)
				case len(a) > 2 && a[2] != nil:
					parts = append(parts, asString(a[2])) // the same string each time: no copy
				default:
					continue
				}
				if size += int64(len(parts[len(parts)-1])); size > maxValueSize {
					return nil, errTooLong() // '{NULL,NULL,…}' with a long NULL text
				}
			}
			sep := asString(a[1])
			if err := checkSize(size + mulSize(int64(len(parts)), int64(len(sep)))); err != nil {
				return nil, err
			}
			return strings.Join(parts, sep), nil
		}},
		{"array_upper", 2, 2, true, strict(arrayDimLength)},
		{"array_length", 2, 2, true, strict(arrayDimLength)},
		{"array_lower", 2, 2, true, strict(func(a []any) (any, error) {
			n, err := arrayDimLength(a)
			if n == nil || err != nil {
				return nil, err
			}
			return int64(1), nil
		})},
	}
}

// numEqual compares an element with a numeric argument numerically, so
// that '{1.0}' contains 1.
func numEqual(elem string, x any) bool {
	switch x.(type) {
	case int64, float64:
		f, err := strconv.ParseFloat(elem, 64)
		g, _ := toFloat(x)
		return err == nil && f == g
	}
	return false
}

// arrayDimLength is array_upper/array_length for dimension 1 (lower bounds
// are always 1): NULL for an empty array or another dimension.
func arrayDimLength(a []any) (any, error) {
	dim, err := toInt(a[1])
	if err != nil {
		return nil, err
	}
	n := len(parseArray(asString(a[0])))
	if dim != 1 || n == 0 {
		return nil, nil
	}
	return int64(n), nil
}

// arrayAgg is the pg_array_agg aggregate (array_agg): NULL over no rows.
type arrayAgg struct {
	vals  []any
	any   bool
	size  int64       // the array literal's length so far, bounded by maxValueSize
	meter *workBudget // the connection's guard, charged with the work (nil: none)
}

// Step adds one row's value.
func (g *arrayAgg) Step(v any) (err error) {
	defer recoverCallback("array_agg", &err)
	if b, ok := v.([]byte); ok && b == nil {
		v = nil
	}
	g.meter.charge(valueLen(v))
	g.size += arrayTextBound([]any{v})
	if err := checkSize(g.size); err != nil {
		return err
	}
	g.vals = append(g.vals, v)
	g.any = true
	return nil
}

// Done returns the array literal, or NULL when there were no rows.
func (g *arrayAgg) Done() (_ any, err error) {
	defer recoverCallback("array_agg", &err)
	if !g.any {
		return nil, nil
	}
	out := formatArray(g.vals)
	g.meter.charge(len(out))
	return out, nil
}
