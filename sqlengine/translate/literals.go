package translate

import (
	"strconv"
	"strings"

	"github.com/pgraft/pgraft/pgvalue"
)

// literals.go finds the constants of a query string with a lexer that
// follows PostgreSQL's lexical rules far enough to know where numbers and
// plain string literals are, so that queries differing only in their
// constants (every -M simple client: pgbench, ORMs that inline values) can
// share one translation (shape.go). Anything the lexer is not sure about
// (parameters, dollar quoting, E'', U&'', B'', X'', a literal glued to an
// identifier, string continuation) makes it give up; the query is then
// translated on its own, as before.

// litClass is how PostgreSQL's parser types a constant, which decides how
// the translation treats it.
type litClass uint8

const (
	litOther   litClass = iota // never shared: must match the shape's text exactly
	litInt4                    // an integer that fits int4 (the parser's Ival)
	litInt8                    // an integer that fits int8 but not int4 (Fval, parsed as int64)
	litNumeric                 // a decimal with a point or exponent, ≤ 15 significant digits: its canonical text
	litString                  // a plain '…' string
)

// Literal is one constant of a query string.
type Literal struct {
	Off   int    // byte offset of the token in the query
	Text  string // the token as written
	class litClass
	value any // int64, float64 or string: what a bound parameter carries
}

// maxLiterals bounds the constants one shape may have (SQLite allows
// 32766 parameters; long IN lists are better translated on their own).
const maxLiterals = 256

// ScanLiterals returns the query with every constant replaced by a NUL
// byte (the shape key: PostgreSQL refuses NUL in query text, so it cannot
// collide) and the constants in order. ok is false when the lexer cannot
// be sure of every token, or there are no constants.
func ScanLiterals(sql string) (shape string, lits []Literal, ok bool) {
	var b strings.Builder
	b.Grow(len(sql))
	i, last := 0, 0
	prevIdent := false // the previous token was an identifier, quoted identifier or ')'
	for i < len(sql) {
		c := sql[i]
		switch {
		case c == '\'':
			if prevIdent && i > 0 && isIdentByte(sql[i-1]) {
				return "", nil, false // E'…', B'…', X'…', N'…', U&'…'
			}
			end, val, ok := scanString(sql, i)
			if !ok || len(lits) == maxLiterals || stringContinues(sql, end) {
				return "", nil, false
			}
			b.WriteString(sql[last:i])
			b.WriteByte(0)
			lits = append(lits, Literal{Off: i, Text: sql[i:end], class: litString, value: val})
			i, last, prevIdent = end, end, false
		case isDigit(c) || c == '.' && i+1 < len(sql) && isDigit(sql[i+1]):
			if prevIdent && i > 0 && (isIdentByte(sql[i-1]) || sql[i-1] == '"') {
				return "", nil, false
			}
			end := scanNumber(sql, i)
			if end < len(sql) && (isIdentByte(sql[end]) || sql[end] == '.') {
				return "", nil, false // 0x1F, 1_000, 1e, 1..2: not a plain number
			}
			if len(lits) == maxLiterals {
				return "", nil, false
			}
			b.WriteString(sql[last:i])
			b.WriteByte(0)
			lits = append(lits, numberLiteral(i, sql[i:end]))
			i, last, prevIdent = end, end, false
		case c == '"':
			end := quotedIdentEnd(sql, i)
			if end < 0 {
				return "", nil, false
			}
			i, prevIdent = end, true
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-':
			nl := strings.IndexByte(sql[i:], '\n')
			if nl < 0 {
				nl = len(sql) - i
			}
			i += nl
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			end, ok := skipBlockComment(sql, i)
			if !ok {
				return "", nil, false
			}
			i = end
		case c == '$' || c == 0:
			return "", nil, false // parameters, dollar quoting
		case c == '&' && i > 0 && (sql[i-1] == 'u' || sql[i-1] == 'U') && i+1 < len(sql) && (sql[i+1] == '\'' || sql[i+1] == '"'):
			return "", nil, false // U&'…' and U&"…"
		case isIdentStart(c):
			for i < len(sql) && isIdentByte(sql[i]) {
				i++
			}
			prevIdent = true
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			i++
		default:
			i++
			prevIdent = c == ')'
		}
	}
	if len(lits) == 0 {
		return "", nil, false
	}
	b.WriteString(sql[last:])
	return b.String(), lits, true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isIdentStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

// scanString reads a '…' literal starting at i (” is a quote); end is the
// offset after it.
func scanString(sql string, i int) (end int, val string, ok bool) {
	var b strings.Builder
	seg := i + 1
	for j := i + 1; j < len(sql); j++ {
		if sql[j] != '\'' {
			continue
		}
		if j+1 < len(sql) && sql[j+1] == '\'' {
			b.WriteString(sql[seg : j+1])
			seg = j + 2
			j++
			continue
		}
		b.WriteString(sql[seg:j])
		return j + 1, b.String(), true
	}
	return 0, "", false
}

// quotedIdentEnd returns the offset after the "…" identifier starting at
// i ("" inside is a quote), -1 if it does not end.
func quotedIdentEnd(sql string, i int) int {
	for j := i + 1; j < len(sql); j++ {
		if sql[j] != '"' {
			continue
		}
		if j+1 < len(sql) && sql[j+1] == '"' {
			j++
			continue
		}
		return j + 1
	}
	return -1
}

// stringContinues reports whether another string or a comment follows a
// string literal across whitespace only: PostgreSQL joins 'a'\n'b' into one
// constant, which the lexer leaves to the parser.
func stringContinues(sql string, end int) bool {
	j := end
	for j < len(sql) && (sql[j] == ' ' || sql[j] == '\t' || sql[j] == '\n' || sql[j] == '\r' || sql[j] == '\f') {
		j++
	}
	if j == len(sql) {
		return false
	}
	return sql[j] == '\'' || strings.HasPrefix(sql[j:], "--") || strings.HasPrefix(sql[j:], "/*")
}

// skipBlockComment skips a (nested) /* */ comment starting at i.
func skipBlockComment(sql string, i int) (int, bool) {
	depth := 0
	for i < len(sql)-1 {
		switch {
		case sql[i] == '/' && sql[i+1] == '*':
			depth++
			i += 2
		case sql[i] == '*' && sql[i+1] == '/':
			depth--
			i += 2
			if depth == 0 {
				return i, true
			}
		default:
			i++
		}
	}
	return 0, false
}

// scanNumber returns the end of the number starting at i: digits, an
// optional fraction, an optional exponent.
func scanNumber(sql string, i int) int {
	for i < len(sql) && isDigit(sql[i]) {
		i++
	}
	if i < len(sql) && sql[i] == '.' && !(i+1 < len(sql) && sql[i+1] == '.') {
		i++
		for i < len(sql) && isDigit(sql[i]) {
			i++
		}
	}
	if i < len(sql) && (sql[i] == 'e' || sql[i] == 'E') {
		j := i + 1
		if j < len(sql) && (sql[j] == '+' || sql[j] == '-') {
			j++
		}
		if j < len(sql) && isDigit(sql[j]) {
			for j < len(sql) && isDigit(sql[j]) {
				j++
			}
			return j
		}
	}
	return i
}

// numberLiteral classifies a number token as PostgreSQL's parser does.
func numberLiteral(off int, text string) Literal {
	l := Literal{Off: off, Text: text}
	if !strings.ContainsAny(text, ".eE") {
		n, err := strconv.ParseInt(text, 10, 64)
		switch {
		case err != nil:
		case n >= -1<<31 && n < 1<<31:
			l.class, l.value = litInt4, n
		default:
			l.class, l.value = litInt8, n
		}
		return l
	}
	if significantDigits(text) > 15 {
		return l
	}
	d, err := pgvalue.ParseDecimal(text)
	if err != nil || len(text) > 40 {
		return l
	}
	l.class, l.value = litNumeric, pgvalue.FormatDecimal(d) // the exact text literal() emits
	return l
}

// significantDigits counts the digits of a decimal's mantissa without
// leading and trailing zeros.
func significantDigits(text string) int {
	if i := strings.IndexAny(text, "eE"); i >= 0 {
		text = text[:i]
	}
	digits := strings.TrimLeft(strings.ReplaceAll(text, ".", ""), "0")
	return len(strings.TrimRight(digits, "0"))
}

// isIdentByte reports whether c may continue an identifier in PostgreSQL's
// lexer (ident_cont: letters, digits, _, $ and every byte of a multi-byte
// character).
func isIdentByte(c byte) bool {
	return c == '_' || c == '$' || c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}
