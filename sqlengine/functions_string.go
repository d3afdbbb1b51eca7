package sqlengine

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// toInt reads an integer argument: integers, integral reals, numeric text.
func toInt(x any) (int64, error) {
	switch v := x.(type) {
	case int64:
		return v, nil
	case float64:
		return int64(v), nil
	}
	s := strings.TrimSpace(asString(x))
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, funcError(pgerror.InvalidTextRepresentation, fmt.Sprintf("invalid input syntax for type integer: %q", s))
	}
	return n, nil
}

// textOf is a value's text as PostgreSQL's concat() would print it.
func textOf(x any) string {
	if b, ok := x.([]byte); ok {
		return `\x` + hex.EncodeToString(b)
	}
	return asString(x)
}

func stringFuncs() []sqlFunc {
	return []sqlFunc{
		{"pg_concat", 0, -1, true, func(a []any) (any, error) {
			var size int64
			for _, x := range a {
				size += textLen(x)
			}
			if err := checkSize(size); err != nil {
				return nil, err
			}
			var b strings.Builder
			b.Grow(int(size))
			for _, x := range a {
				if x != nil {
					b.WriteString(textOf(x))
				}
			}
			return b.String(), nil
		}},
		{"pg_concat_ws", 1, -1, true, func(a []any) (any, error) {
			if a[0] == nil {
				return nil, nil
			}
			var parts []string
			var size int64
			for _, x := range a[1:] {
				if x != nil {
					parts = append(parts, textOf(x))
					size += int64(len(parts[len(parts)-1]))
				}
			}
			sep := asString(a[0])
			if err := checkSize(size + mulSize(int64(len(parts)), int64(len(sep)))); err != nil {
				return nil, err
			}
			return strings.Join(parts, sep), nil
		}},
		{"pg_left", 2, 2, true, strict(func(a []any) (any, error) { return leftRight(a, true) })},
		{"pg_right", 2, 2, true, strict(func(a []any) (any, error) { return leftRight(a, false) })},
		{"pg_repeat", 2, 2, true, strict(pgRepeat)},
		{"pg_lpad", 2, 3, true, strict(func(a []any) (any, error) { return pad(a, true) })},
		{"pg_rpad", 2, 3, true, strict(func(a []any) (any, error) { return pad(a, false) })},
		{"pg_split_part", 3, 3, true, strict(splitPart)},
		{"pg_initcap", 1, 1, true, strict(func(a []any) (any, error) { return initcap(asString(a[0])), nil })},
		{"pg_md5", 1, 1, true, strict(func(a []any) (any, error) {
			sum := md5.Sum([]byte(asString(a[0])))
			return hex.EncodeToString(sum[:]), nil
		})},
		{"pg_reverse", 1, 1, true, strict(func(a []any) (any, error) {
			r := []rune(asString(a[0]))
			for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
				r[i], r[j] = r[j], r[i]
			}
			return string(r), nil
		})},
		{"pg_starts_with", 2, 2, true, strict(func(a []any) (any, error) {
			return boolInt(strings.HasPrefix(asString(a[0]), asString(a[1]))), nil
		})},
		{"pg_to_hex", 1, 1, true, strict(toHex)},
		{"pg_chr", 1, 1, true, strict(chr)},
		{"pg_ascii", 1, 1, true, strict(func(a []any) (any, error) {
			r, _ := utf8.DecodeRuneInString(asString(a[0]))
			if r == utf8.RuneError {
				return int64(0), nil
			}
			return int64(r), nil
		})},
		{"pg_greatest", 1, -1, true, func(a []any) (any, error) { return extreme(a, 1), nil }},
		{"pg_least", 1, -1, true, func(a []any) (any, error) { return extreme(a, -1), nil }},
		{"quote_ident", 1, 1, true, strict(func(a []any) (any, error) { return pgQuoteIdent(asString(a[0])), nil })},
		{"quote_literal", 1, 1, true, strict(func(a []any) (any, error) { return quoteLiteral(textOf(a[0])), nil })},
	}
}

func leftRight(a []any, left bool) (any, error) {
	r := []rune(asString(a[0]))
	n, err := toInt(a[1])
	if err != nil {
		return nil, err
	}
	k := int(n)
	if n < 0 {
		k = len(r) + int(n) // all but the last (left) or first (right) |n|
	}
	k = max(0, min(k, len(r)))
	if left {
		return string(r[:k]), nil
	}
	return string(r[len(r)-k:]), nil
}

func pgRepeat(a []any) (any, error) {
	s := asString(a[0])
	n, err := toInt(a[1])
	if err != nil {
		return nil, err
	}
	if n <= 0 || s == "" {
		return "", nil
	}
	if err := checkSize(mulSize(n, int64(len(s)))); err != nil {
		return nil, err // n*len(s) would overflow: repeat('ab', 1<<62) is 2^63
	}
	return strings.Repeat(s, int(n)), nil
}

// pad is lpad/rpad: truncate to n characters, or fill (default a space).
func pad(a []any, left bool) (any, error) {
	r := []rune(asString(a[0]))
	n, err := toInt(a[1])
	if err != nil {
		return nil, err
	}
	fill := []rune(" ")
	if len(a) > 2 {
		fill = []rune(asString(a[2]))
	}
	if n <= 0 {
		return "", nil
	}
	if n > maxValueSize {
		return nil, errTooLong()
	}
	if int(n) <= len(r) || len(fill) == 0 {
		return string(r[:min(int(n), len(r))]), nil
	}
	// n counts characters: the result's bytes depend on the fill's.
	p := int(n) - len(r)
	fillBytes := int64(len(string(fill)))
	size := int64(len(asString(a[0]))) + mulSize(int64(p/len(fill)), fillBytes) + int64(len(string(fill[:p%len(fill)])))
	if err := checkSize(size); err != nil {
		return nil, err
	}
	var b strings.Builder
	b.Grow(int(size))
	if !left {
		b.WriteString(string(r))
	}
	for i := 0; i < p; i++ {
		b.WriteRune(fill[i%len(fill)])
	}
	if left {
		b.WriteString(string(r))
	}
	return b.String(), nil
}

func splitPart(a []any) (any, error) {
	s, delim := asString(a[0]), asString(a[1])
	n, err := toInt(a[2])
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, funcError(pgerror.InvalidParameterValue, "field position must not be zero")
	}
	var parts []string
	if delim == "" {
		parts = []string{s}
	} else {
		parts = strings.Split(s, delim)
	}
	if n < 0 {
		n = int64(len(parts)) + n + 1
	}
	if n < 1 || n > int64(len(parts)) {
		return "", nil
	}
	return parts[n-1], nil
}

// initcap upper-cases the first letter of each run of letters and digits
// and lower-cases the rest.
func initcap(s string) string {
	var b strings.Builder
	inWord := false
	for _, r := range s {
		alnum := unicode.IsLetter(r) || unicode.IsDigit(r)
		switch {
		case alnum && !inWord:
			b.WriteRune(unicode.ToUpper(r))
		case alnum:
			b.WriteRune(unicode.ToLower(r))
		default:
			b.WriteRune(r)
		}
		inWord = alnum
	}
	return b.String()
}

// toHex prints two's complement like to_hex(int4) for values in int4 range
// and like to_hex(int8) otherwise.
func toHex(a []any) (any, error) {
	n, err := toInt(a[0])
	if err != nil {
		return nil, err
	}
	if n < 0 && n >= -1<<31 {
		return strconv.FormatUint(uint64(uint32(n)), 16), nil
	}
	return strconv.FormatUint(uint64(n), 16), nil
}

func chr(a []any) (any, error) {
	n, err := toInt(a[0])
	if err != nil {
		return nil, err
	}
	switch {
	case n == 0:
		return nil, funcError(pgerror.ProgramLimitExceeded, "null character not permitted")
	case n < 0 || n > unicode.MaxRune || (n >= 0xD800 && n <= 0xDFFF):
		return nil, funcError(pgerror.ProgramLimitExceeded, fmt.Sprintf("requested character too large for encoding: %d", n))
	}
	return string(rune(n)), nil
}

// quoteIdent quotes an identifier unless it is a lower-case identifier that
// needs no quotes (keywords are not checked).
func pgQuoteIdent(s string) string {
	ok := s != "" && !(s[0] >= '0' && s[0] <= '9')
	for i := 0; i < len(s) && ok; i++ {
		c := s[i]
		ok = c == '_' || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
	}
	if ok && !reservedWords[s] {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// reservedWords are the PostgreSQL keywords quote_ident always quotes that
// are likely as column names.
var reservedWords = map[string]bool{
	"all": true, "and": true, "any": true, "array": true, "as": true, "asc": true, "case": true,
	"check": true, "collate": true, "column": true, "constraint": true, "create": true,
	"default": true, "desc": true, "distinct": true, "do": true, "else": true, "end": true,
	"false": true, "for": true, "foreign": true, "from": true, "grant": true, "group": true,
	"having": true, "in": true, "into": true, "limit": true, "not": true, "null": true,
	"offset": true, "on": true, "or": true, "order": true, "primary": true, "references": true,
	"select": true, "table": true, "then": true, "to": true, "true": true, "union": true,
	"unique": true, "user": true, "using": true, "when": true, "where": true, "with": true,
}

// quoteLiteral is quote_literal: E” form when the text has a backslash.
func quoteLiteral(s string) string {
	q := "'" + strings.ReplaceAll(s, "'", "''") + "'"
	if strings.Contains(s, `\`) {
		return "E" + strings.ReplaceAll(q, `\`, `\\`)
	}
	return q
}

// extreme is GREATEST (want 1) or LEAST (want -1): NULLs are ignored, and
// the result is NULL only when every argument is.
func extreme(a []any, want int) any {
	var best any
	for _, x := range a {
		if x != nil && (best == nil || compareValues(x, best) == want) {
			best = x
		}
	}
	return best
}

// compareValues orders two non-NULL values like SQLite: numbers
// numerically, before text, text before blobs, text and blobs bytewise.
func compareValues(x, y any) int {
	rank := func(v any) int {
		switch v.(type) {
		case int64, float64:
			return 0
		case string:
			return 1
		}
		return 2
	}
	if rx, ry := rank(x), rank(y); rx != ry {
		return cmpInt(rx, ry)
	}
	if rank(x) == 0 {
		fx, _ := toFloat(x)
		fy, _ := toFloat(y)
		switch {
		case fx < fy:
			return -1
		case fx > fy:
			return 1
		}
		return 0
	}
	return strings.Compare(asString(x), asString(y))
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
