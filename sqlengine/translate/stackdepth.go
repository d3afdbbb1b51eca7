package translate

import (
	"strings"

	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// stackdepth.go keeps PostgreSQL's parser (pg_query, C via cgo) from
// overflowing its thread's stack, which kills the process (a 40,000-term
// 1+1+…+1 is a SIGSEGV).
//
// Where the stack goes: pg_query's grammar is a bison LALR parser, whose own
// stack is on the heap (YYMAXDEPTH 10000: past it, "memory exhausted"), so
// parsing alone is safe. The crash is in pg_query_nodes_to_protobuf and
// protobuf-c's packing, which recurse over the finished tree: about 177
// bytes of C stack per protobuf message level, two levels (Node and the
// node) per tree level. pg_query's check_stack_depth never fires (it has no
// stack base), and Go's protobuf decoder refuses more than 10,000 levels
// only after the C side has run. A cgo call runs on its thread's system
// stack: 8 MiB for Go's threads under the usual ulimit -s 8192 (glibc sizes
// threads by RLIMIT_STACK), 2 MiB when the limit is unlimited. Measured on
// x86-64: 1+1+… crashes past ~23,800 terms with 8 MiB, ~5,900 with 2 MiB,
// ~2,950 with 1 MiB; nested structures (parentheses, CASE, subqueries)
// crash sooner per level but are also cut off by bison's stack.
//
// So the text is scanned first, with PostgreSQL's lexical rules for what is
// code (strings, quoted identifiers, dollar quotes and comments are not),
// and a query whose estimated depth is over maxParseDepth fails with 54001
// before pg_query sees it. The estimate bounds the protobuf depth of any
// tree the parser can build from the text (TestParseDepthBoundsTreeDepth
// checks depth ≤ 2·estimate + 64 over many shapes), so maxParseDepth 2000
// keeps the C recursion under ~4,100 levels, ~730 KiB: safe on a 1 MiB
// stack, with 10,000 for Go's decoder out of reach too. SQLite allows
// expressions 1000 deep, so no query SQLite would run is refused here.
//
// The estimate, per nesting frame ((…), […] or CASE … END) and summed over
// the open frames: the frame's weight, plus every token since the frame's
// last list separator, plus the set operations and joins seen in the frame.
// Tokens are words, operator characters and the like; literals and
// parameters are leaves and add nothing. Separators are what splits a frame
// into siblings: a comma, AND and OR (PostgreSQL flattens AND and OR chains
// into one node), WHEN, THEN and ELSE inside CASE, and ; between
// statements. UNION, INTERSECT, EXCEPT and JOIN nest their left side across
// separators, so they never reset; the AND of a BETWEEN is no separator.
// Only queries that parse need a sound estimate: a syntax error builds no
// tree to serialize.

// maxParseDepth bounds parseDepth; see above for how it was chosen.
const maxParseDepth = 2000

// frameWeight is what a bracket or CASE adds by itself: the nodes it opens
// (a sublink, a select, a result target) and the AND and OR levels its
// siblings may sit under.
const frameWeight = 4

// depthFrame is one open nesting level of the scan.
type depthFrame struct {
	kind    byte // '(' or '[' or 'c' (CASE); 0 for the statement level
	base    int  // the frames below, when this one opened
	acc     int  // set operations and joins: never reset in this frame
	cur     int  // tokens since the last separator
	between int  // BETWEENs whose AND is still to come
}

func (f *depthFrame) depth() int {
	w := 0
	if f.kind != 0 {
		w = frameWeight
	}
	return f.base + w + f.acc + f.cur
}

// checkParseDepth fails with 54001 (stack depth limit exceeded) when sql
// could nest deeper than maxParseDepth.
func checkParseDepth(sql string) error {
	if parseDepth(sql, maxParseDepth) > maxParseDepth {
		return StackDepthError()
	}
	return nil
}

// parseDepth estimates how deeply the parse tree of sql can nest; it stops
// counting once the estimate passes limit.
func parseDepth(sql string, limit int) int {
	if i := strings.IndexByte(sql, 0); i >= 0 {
		sql = sql[:i] // pg_query reads a C string
	}
	stack := []depthFrame{{}}
	top := &stack[0]
	maxDepth := 0
	note := func() {
		if d := top.depth(); d > maxDepth {
			maxDepth = d
		}
	}
	push := func(kind byte) {
		base := top.depth()
		stack = append(stack, depthFrame{kind: kind, base: base})
		top = &stack[len(stack)-1]
		note()
	}
	pop := func() {
		if len(stack) > 1 {
			stack = stack[:len(stack)-1]
			top = &stack[len(stack)-1]
		}
	}
	for i := 0; i < len(sql) && maxDepth <= limit; {
		c := sql[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-':
			i = lineCommentEnd(sql, i)
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			end, ok := skipBlockComment(sql, i)
			if !ok {
				return maxDepth // unterminated: a syntax error
			}
			i = end
		case c == '\'':
			i = quotedEnd(sql, i, strPlain)
		case c == '"':
			i = quotedEnd(sql, i, strIdent)
			top.cur++ // a name, perhaps a function's
			note()
		case c == '$':
			i = dollarEnd(sql, i)
		case isDigit(c) || c == '.' && i+1 < len(sql) && isDigit(sql[i+1]):
			for i < len(sql) && (isIdentByte(sql[i]) || sql[i] == '.') {
				i++ // a number, junk after it included (a syntax error)
			}
		case isIdentStart(c):
			j := i
			for j < len(sql) && (isIdentByte(sql[j]) || sql[j] == '$') {
				j++
			}
			if end, ok := prefixedString(sql, i, j); ok {
				i = end
				continue
			}
			kw := depthKeyword(sql[i:j])
			i = j
			switch {
			case kw == "and" && top.between > 0:
				top.between--
				top.cur++
			case kw == "and" || kw == "or":
				top.cur = 0
			case kw == "between":
				top.between++
				top.cur++
			case kw == "case":
				top.cur++
				push('c')
			case kw == "end" && top.kind == 'c':
				pop()
			case top.kind == 'c' && (kw == "when" || kw == "then" || kw == "else"):
				top.cur = 0
			case kw == "union" || kw == "intersect" || kw == "except" || kw == "join":
				top.acc++
			default:
				top.cur++
			}
			note()
		case c == '(' || c == '[':
			push(c)
			i++
		case c == ')' || c == ']':
			for len(stack) > 1 && top.kind == 'c' {
				pop() // a CASE left open: a syntax error
			}
			pop()
			i++
		case c == ',':
			top.cur = 0
			i++
		case c == ';':
			if len(stack) == 1 {
				*top = depthFrame{}
			} else {
				top.cur = 0
			}
			i++
		default: // operator characters and the rest: each may be a node
			top.cur++
			note()
			i++
		}
	}
	return maxDepth
}

// depthKeyword returns word in lower case when it is one of the keywords
// parseDepth treats apart, "" otherwise.
func depthKeyword(word string) string {
	if len(word) < 2 || len(word) > 9 {
		return ""
	}
	var buf [9]byte
	for k := 0; k < len(word); k++ {
		buf[k] = word[k] | 0x20 // ASCII letters only matter here
	}
	return depthKeywords[string(buf[:len(word)])] // no allocation: a map lookup
}

var depthKeywords = map[string]string{
	"and": "and", "or": "or", "between": "between", "case": "case", "end": "end", "when": "when",
	"then": "then", "else": "else", "union": "union", "intersect": "intersect", "except": "except", "join": "join",
}

// lineCommentEnd returns the offset of the newline ending the -- comment at i.
func lineCommentEnd(sql string, i int) int {
	for i < len(sql) && sql[i] != '\n' && sql[i] != '\r' {
		i++
	}
	return i
}

// String kinds, by how their body ends (PostgreSQL's scan.l states).
const (
	strPlain  = iota // '…', N'…', U&'…': '' is a quote (xq, xus)
	strEscape        // E'…': also \ escapes the next byte (xe)
	strBits          // B'…', X'…': ends at the first quote (xb, xh)
	strIdent         // "…", U&"…": "" is a quote (xd, xui)
)

// quotedEnd returns the offset after the quoted token whose opening quote
// is at i, following a string across PostgreSQL's continuation (a closing
// quote, whitespace with a newline, an opening quote); len(sql) when it
// does not end (a syntax error).
func quotedEnd(sql string, i, kind int) int {
	q := byte('\'')
	if kind == strIdent {
		q = '"'
	}
	for j := i + 1; j < len(sql); j++ {
		switch {
		case sql[j] == '\\' && kind == strEscape:
			j++
		case sql[j] != q:
		case kind != strBits && j+1 < len(sql) && sql[j+1] == q:
			j++ // a doubled quote
		default:
			if kind == strIdent {
				return j + 1
			}
			if k, ok := stringContinuation(sql, j+1); ok {
				j = k // the next segment, in the same state
				continue
			}
			return j + 1
		}
	}
	return len(sql)
}

// stringContinuation reports whether a string that closed just before i
// goes on ('a'\n'b' is 'ab'): horizontal space and -- comments, at least
// one newline, then a quote, whose offset it returns.
func stringContinuation(sql string, i int) (int, bool) {
	newline := false
	for i < len(sql) {
		switch c := sql[i]; {
		case c == '\n' || c == '\r':
			newline = true
			i++
		case c == ' ' || c == '\t' || c == '\f' || c == '\v':
			i++
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-':
			i = lineCommentEnd(sql, i)
		case c == '\'' && newline:
			return i, true
		default:
			return 0, false
		}
	}
	return 0, false
}

// prefixedString handles a one-letter word at [i, j) that opens a string
// (E'…', B'…', X'…', N'…', U&'…', U&"…"): it returns the offset after the
// string. PostgreSQL's lexer takes the longest match, so only a word of
// exactly that letter does.
func prefixedString(sql string, i, j int) (int, bool) {
	if j != i+1 || j >= len(sql) {
		return 0, false
	}
	switch c := sql[i] | 0x20; {
	case sql[j] == '\'' && c == 'e':
		return quotedEnd(sql, j, strEscape), true
	case sql[j] == '\'' && (c == 'b' || c == 'x'):
		return quotedEnd(sql, j, strBits), true
	case sql[j] == '\'' && c == 'n':
		return quotedEnd(sql, j, strPlain), true
	case c == 'u' && sql[j] == '&' && j+1 < len(sql) && sql[j+1] == '\'':
		return quotedEnd(sql, j+1, strPlain), true
	case c == 'u' && sql[j] == '&' && j+1 < len(sql) && sql[j+1] == '"':
		return quotedEnd(sql, j+1, strIdent), true
	}
	return 0, false
}

// dollarEnd returns the offset after the token at a '$': a parameter ($1),
// a dollar-quoted string ($tag$…$tag$), or a lone '$'.
func dollarEnd(sql string, i int) int {
	j := i + 1
	if j < len(sql) && isDigit(sql[j]) {
		for j < len(sql) && (isDigit(sql[j]) || sql[j] == '_') {
			j++
		}
		return j
	}
	for j < len(sql) && (isIdentStart(sql[j]) || j > i+1 && isDigit(sql[j])) {
		j++
	}
	if j >= len(sql) || sql[j] != '$' {
		return i + 1 // not a delimiter: PostgreSQL returns the '$' alone
	}
	delim := sql[i : j+1]
	end := strings.Index(sql[j+1:], delim)
	if end < 0 {
		return len(sql) // unterminated: a syntax error
	}
	return j + 1 + end + len(delim)
}

// StackDepthError is PostgreSQL's answer to an expression or statement nested
// too deeply for its stack, word for word: 54001 from the scan here, and from SQLite's
// own expression depth limit (sqlengine/errors.go).
func StackDepthError() *pgerror.Error {
	return pgerror.New(pgerror.StatementTooComplex, "stack depth limit exceeded").
		WithHint(`Increase the configuration parameter "max_stack_depth" (currently 2048kB), after ensuring the platform's stack depth limit is adequate.`)
}
