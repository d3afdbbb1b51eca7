package pgvalue

// ParseBool is PostgreSQL's boolin (parse_bool_with_len in
// src/backend/utils/adt/bool.c): after ASCII white space is trimmed from
// both ends, any prefix of "true", "false", "yes" or "no", "on", "off" or
// its prefix "of", "1" or "0", in any case. ok is false for anything else,
// the empty string and a lone "o" included. Other white space (a no-break
// space, say) is not trimmed: boolin rejects it too.
func ParseBool(s string) (v, ok bool) {
	s = trimASCIISpace(s)
	if s == "" {
		return false, false
	}
	switch lower(s[0]) {
	case 't':
		return true, prefixFold(s, "true", 1)
	case 'f':
		return false, prefixFold(s, "false", 1)
	case 'y':
		return true, prefixFold(s, "yes", 1)
	case 'n':
		return false, prefixFold(s, "no", 1)
	case 'o': // "o" alone is ambiguous: at least two letters
		if prefixFold(s, "on", 2) {
			return true, true
		}
		return false, prefixFold(s, "off", 2)
	case '1':
		return true, s == "1"
	case '0':
		return false, s == "0"
	}
	return false, false
}

// prefixFold reports whether s, at least min bytes long, is a prefix of
// word (lower-case ASCII) when ASCII letters are folded, as
// pg_strncasecmp(s, word, len(s)) == 0 is in boolin.
func prefixFold(s, word string, min int) bool {
	if len(s) < min || len(s) > len(word) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if lower(s[i]) != word[i] {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// isASCIISpace is C's isspace in the C locale, which PostgreSQL's input
// functions trim with.
func isASCIISpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func trimASCIISpace(s string) string {
	for len(s) > 0 && isASCIISpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isASCIISpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}
