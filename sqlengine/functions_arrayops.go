package sqlengine

import (
	"strconv"
	"strings"

	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// Array and regular-expression functions applications call often:
// string_to_array, array_position, cardinality, array_append,
// array_prepend, array_cat, array_remove, regexp_replace and regexp_match
// (regexp_matches is a set-returning function, functions_srf.go).

// arrayValues parses an array literal into its elements' values (NULL
// as nil); a NULL array has none.
func arrayValues(x any) []any {
	if x == nil {
		return nil
	}
	var out []any
	for _, e := range parseArray(asString(x)) {
		out = append(out, e.value())
	}
	return out
}

// sameElement compares an element with a value as = does over the array's
// type: numbers by value, anything else by text.
func sameElement(e, v any) bool {
	if e == nil || v == nil {
		return false
	}
	if numEqual(textOf(e), v) {
		return true
	}
	return textOf(e) == textOf(v)
}

// arrayResult prints values as an array literal, bounded like any value.
func arrayResult(vals []any) (any, error) {
	if err := checkSize(arrayTextBound(vals)); err != nil {
		return nil, err
	}
	return formatArray(vals), nil
}

func arrayOpFuncs(regex *regexCache) []sqlFunc {
	return []sqlFunc{
		{"pg_string_to_array", 2, 3, true, func(a []any) (any, error) {
			if a[0] == nil {
				return nil, nil
			}
			rows, err := stringToTableRows(a)
			if err != nil {
				return nil, err
			}
			vals := make([]any, len(rows))
			for i, r := range rows {
				vals[i] = r[0]
			}
			return arrayResult(vals)
		}},
		{"pg_array_position", 2, 3, true, func(a []any) (any, error) {
			if a[0] == nil {
				return nil, nil
			}
			start := int64(1)
			if len(a) == 3 && a[2] != nil {
				var err error
				if start, err = toInt(a[2]); err != nil {
					return nil, err
				}
			}
			for i, e := range arrayValues(a[0]) {
				if int64(i+1) >= start && (sameElement(e, a[1]) || e == nil && a[1] == nil) {
					return int64(i + 1), nil
				}
			}
			return nil, nil
		}},
		{"pg_cardinality", 1, 1, true, strict(func(a []any) (any, error) {
			return int64(len(parseArray(asString(a[0])))), nil
		})},
		{"pg_array_append", 2, 2, true, func(a []any) (any, error) {
			return arrayResult(append(arrayValues(a[0]), a[1]))
		}},
		{"pg_array_prepend", 2, 2, true, func(a []any) (any, error) {
			return arrayResult(append([]any{a[0]}, arrayValues(a[1])...))
		}},
		{"pg_array_cat", 2, 2, true, func(a []any) (any, error) {
			if a[0] == nil && a[1] == nil {
				return nil, nil
			}
			return arrayResult(append(arrayValues(a[0]), arrayValues(a[1])...))
		}},
		{"pg_array_remove", 2, 2, true, func(a []any) (any, error) {
			if a[0] == nil {
				return nil, nil
			}
			var out []any
			for _, e := range arrayValues(a[0]) {
				if sameElement(e, a[1]) || e == nil && a[1] == nil {
					continue
				}
				out = append(out, e)
			}
			return arrayResult(out)
		}},
		{"pg_regexp_replace", 3, 4, true, strict(func(a []any) (any, error) {
			flags := ""
			if len(a) == 4 {
				flags = asString(a[3])
			}
			re, err := regex.get(asString(a[1]), flags)
			if err != nil {
				return nil, err
			}
			s, tmpl := asString(a[0]), replacementTemplate(asString(a[2]))
			if strings.Contains(flags, "g") {
				out := re.ReplaceAllString(s, tmpl)
				return out, checkSize(int64(len(out)))
			}
			m := re.FindStringSubmatchIndex(s)
			if m == nil {
				return s, nil
			}
			out := s[:m[0]] + string(re.ExpandString(nil, tmpl, s, m)) + s[m[1]:]
			return out, checkSize(int64(len(out)))
		})},
		{"pg_regexp_match", 2, 3, true, strict(func(a []any) (any, error) {
			flags := ""
			if len(a) == 3 {
				flags = asString(a[2])
			}
			if strings.Contains(flags, "g") {
				return nil, funcError(pgerror.InvalidParameterValue, "regexp_match() does not support the \"global\" option")
			}
			re, err := regex.get(asString(a[1]), flags)
			if err != nil {
				return nil, err
			}
			m := re.FindStringSubmatch(asString(a[0]))
			if m == nil {
				return nil, nil
			}
			return arrayResult(matchGroups(m))
		})},
	}
}

// matchGroups is what regexp_match returns for a match: its capture
// groups, or the whole match when the pattern has none.
func matchGroups(m []string) []any {
	if len(m) == 1 {
		return []any{m[0]}
	}
	out := make([]any, len(m)-1)
	for i, g := range m[1:] {
		out[i] = g
	}
	return out
}

// replacementTemplate turns regexp_replace's replacement (\1 … \9 for a
// group, \& for the whole match, \\ for a backslash) into a Go template.
func replacementTemplate(r string) string {
	var b strings.Builder
	for i := 0; i < len(r); i++ {
		c := r[i]
		switch {
		case c == '$':
			b.WriteString("$$")
		case c == '\\' && i+1 < len(r) && r[i+1] >= '1' && r[i+1] <= '9':
			b.WriteString("${" + strconv.Itoa(int(r[i+1]-'0')) + "}")
			i++
		case c == '\\' && i+1 < len(r) && r[i+1] == '&':
			b.WriteString("${0}")
			i++
		case c == '\\' && i+1 < len(r) && r[i+1] == '\\':
			b.WriteByte('\\')
			i++
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
