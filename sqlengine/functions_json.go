package sqlengine

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/pgraft/pgraft/pgvalue"
	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// json is stored as the text the client gave (PostgreSQL keeps it verbatim);
// jsonb is stored as PostgreSQL's jsonb output: object keys sorted by length
// then bytes, duplicate keys resolved last-wins, numbers in numeric's output
// form, ", " and ": " separators.

func errJSONSyntax() error {
	return funcError(pgerror.InvalidTextRepresentation, "invalid input syntax for type json")
}

func castJSON(x any) (any, error) {
	s := asString(x)
	if !json.Valid([]byte(s)) {
		return nil, errJSONSyntax()
	}
	return s, nil
}

func castJSONB(x any) (any, error) {
	s := asString(x)
	out, err := normalizeJSONB(s)
	if err != nil {
		return nil, errJSONSyntax()
	}
	return out, nil
}

// normalizeJSONB re-serializes a JSON text the way jsonb_out prints it.
func normalizeJSONB(s string) (string, error) {
	if !json.Valid([]byte(s)) {
		return "", fmt.Errorf("invalid json")
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", fmt.Errorf("decode json: %w", err)
	}
	var b strings.Builder
	writeJSONB(&b, v)
	return b.String(), nil
}

func writeJSONB(b *strings.Builder, v any) {
	switch t := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		fmt.Fprint(b, t)
	case json.Number:
		b.WriteString(numericText(string(t)))
	case string:
		b.WriteString(pgJSONString(t))
	case []any:
		b.WriteByte('[')
		for i, e := range t {
			if i > 0 {
				b.WriteString(", ")
			}
			writeJSONB(b, e)
		}
		b.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sortJSONBKeys(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(pgJSONString(k))
			b.WriteString(": ")
			writeJSONB(b, t[k])
		}
		b.WriteByte('}')
	}
}

// sortJSONBKeys orders object keys as jsonb stores them: shorter first,
// then by bytes.
func sortJSONBKeys(keys []string) {
	sort.Slice(keys, func(i, j int) bool {
		if len(keys[i]) != len(keys[j]) {
			return len(keys[i]) < len(keys[j])
		}
		return keys[i] < keys[j]
	})
}

// maxJSONExponent bounds the exponents numericText folds into digits.
const maxJSONExponent = 131072

// numericText is numeric_out of a JSON number: the exponent folded into the
// digits, the scale kept ("1.50" stays, "1e2" is "100", "-0" is "0").
func numericText(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	mant, expText, _ := strings.Cut(strings.ToLower(s), "e")
	exp := 0
	if expText != "" {
		fmt.Sscan(expText, &exp)
	}
	if exp > maxJSONExponent || exp < -maxJSONExponent {
		// Folding the exponent in would write that many digits; numeric
		// has at most 131072 before the point and 16383 after.
		if neg {
			return "-" + s
		}
		return s
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	digits := intPart + frac
	point := len(intPart) + exp // position of the decimal point in digits
	scale := len(frac) - exp
	if scale < 0 {
		scale = 0
	}
	for point > len(digits) {
		digits += "0"
	}
	for point < 0 {
		digits = "0" + digits
		point++
	}
	for len(digits)-point < scale {
		digits += "0"
	}
	whole := strings.TrimLeft(digits[:point], "0")
	if whole == "" {
		whole = "0"
	}
	out := whole
	if scale > 0 {
		out += "." + digits[point:point+scale]
	}
	if neg && strings.Trim(out, "0.") != "" {
		out = "-" + out
	}
	return out
}

// pgJSONString quotes s as PostgreSQL's escape_json does: only '"', '\\'
// and control characters are escaped; everything else is kept as is.
func pgJSONString(s string) string {
	var b bytes.Buffer
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if c < 0x20 {
				fmt.Fprintf(&b, `\u%04x`, c)
			} else {
				b.WriteByte(c)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// pgToJSON is to_json(x) for the values SQLite can hold: numbers as JSON
// numbers, text as a JSON string, a blob as its bytea text.
func pgToJSON(x any) any {
	switch v := x.(type) {
	case nil:
		return nil
	case int64:
		return asString(v)
	case float64:
		s := pgvalue.FormatFloat8(v)
		if s == "NaN" || strings.HasSuffix(s, "Infinity") {
			return pgJSONString(s)
		}
		return s
	case []byte:
		return pgJSONString(`\x` + hex.EncodeToString(v))
	}
	return pgJSONString(asString(x))
}
