package sqlengine

import (
	"encoding/json"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// functions_jsonb_ops.go: what the jsonb operators do to decoded values
// (equality, @>, ?, ||, -, #-, jsonb_set, strip_nulls, jsonb_pretty, key
// order); functions_jsonb.go decodes, prints and registers them.

// jsonEqual compares two decoded values, numbers by value.
func jsonEqual(a, b any) bool {
	switch x := a.(type) {
	case json.Number:
		y, ok := b.(json.Number)
		if !ok {
			return false
		}
		// Numbers are few digits long here (a JSON document is bounded), so
		// exact rationals are cheap; 1.0 equals 1 as numeric says.
		if jsonExponent(string(x)) > 1000 || jsonExponent(string(y)) > 1000 {
			return numericText(string(x)) == numericText(string(y))
		}
		rx, okx := new(big.Rat).SetString(string(x))
		ry, oky := new(big.Rat).SetString(string(y))
		return okx && oky && rx.Cmp(ry) == 0
	case []any, map[string]any:
		return jsonbText(a) == jsonbText(b)
	}
	return a == b
}

// jsonExponent is the magnitude of a JSON number's exponent.
func jsonExponent(s string) int {
	i := strings.IndexAny(s, "eE")
	if i < 0 {
		return 0
	}
	e := strings.TrimLeft(s[i+1:], "+-0")
	if len(e) > 7 {
		return math.MaxInt32
	}
	n, _ := strconv.Atoi(e)
	return n
}

// jsonContains is jsonb's @>: a contains b (jsonb_contains).
func jsonContains(a, b any, top bool) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok {
			return false
		}
		for k, bv := range y {
			av, ok := x[k]
			if !ok || !jsonContains(av, bv, false) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok {
			if !top {
				return false
			}
			y = []any{b} // an array contains a primitive at the top level
			if _, isObj := b.(map[string]any); isObj {
				return false
			}
		}
		for _, bv := range y {
			found := false
			for _, av := range x {
				if jsonContains(av, bv, false) {
					found = true
					break
				}
			}
			if !found {
				return false
			}
		}
		return true
	}
	return jsonEqual(a, b)
}

// jsonHasKey is jsonb's ?: a top-level key, or a string element of an
// array, or the string itself.
func jsonHasKey(v any, key string) bool {
	switch t := v.(type) {
	case map[string]any:
		_, ok := t[key]
		return ok
	case []any:
		for _, e := range t {
			if s, ok := e.(string); ok && s == key {
				return true
			}
		}
	case string:
		return t == key
	}
	return false
}

// jsonConcat is jsonb's ||.
func jsonConcat(a, b any) any {
	ao, aok := a.(map[string]any)
	bo, bok := b.(map[string]any)
	if aok && bok {
		out := make(map[string]any, len(ao)+len(bo))
		for k, v := range ao {
			out[k] = v
		}
		for k, v := range bo {
			out[k] = v
		}
		return out
	}
	var out []any
	if arr, ok := a.([]any); ok {
		out = append(out, arr...)
	} else {
		out = append(out, a)
	}
	if arr, ok := b.([]any); ok {
		out = append(out, arr...)
	} else {
		out = append(out, b)
	}
	return out
}

func jsonArgErr(msg string) error { return funcError(pgerror.InvalidParameterValue, msg) }

// jsonDelete is jsonb's - with a text key, an integer index or a text[]
// of keys (kind 't', 'i', 'a').
func jsonDelete(v any, key any, kind byte) (any, error) {
	switch t := v.(type) {
	case map[string]any:
		if kind == 'i' {
			return nil, jsonArgErr("cannot delete from object using integer index")
		}
		keys := []string{asString(key)}
		if kind == 'a' {
			keys = nil
			for _, e := range parseArray(asString(key)) {
				if e.text != nil {
					keys = append(keys, *e.text)
				}
			}
		}
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = e
		}
		for _, k := range keys {
			delete(out, k)
		}
		return out, nil
	case []any:
		if kind == 'i' {
			i, err := toInt(key)
			if err != nil {
				return nil, err
			}
			if i < 0 {
				i += int64(len(t))
			}
			if i < 0 || i >= int64(len(t)) {
				return t, nil
			}
			return append(append([]any{}, t[:i]...), t[i+1:]...), nil
		}
		drop := map[string]bool{}
		if kind == 'a' {
			for _, e := range parseArray(asString(key)) {
				if e.text != nil {
					drop[*e.text] = true
				}
			}
		} else {
			drop[asString(key)] = true
		}
		out := []any{}
		for _, e := range t {
			if s, ok := e.(string); ok && drop[s] {
				continue
			}
			out = append(out, e)
		}
		return out, nil
	}
	return nil, jsonArgErr("cannot delete from scalar")
}

// jsonSetPath replaces (or with create, adds) the value at path;
// remove deletes it instead (#-). A path that leads nowhere leaves v as it is.
func jsonSetPath(v any, path []arrayElem, nv any, create, remove bool) (any, error) {
	if len(path) == 0 {
		if remove {
			return v, nil
		}
		return nv, nil
	}
	p := path[0]
	if p.text == nil {
		return nil, funcError("22004", "path element at position 1 is null")
	}
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t)+1)
		for k, e := range t {
			out[k] = e
		}
		cur, ok := t[*p.text]
		switch {
		case len(path) == 1 && remove:
			delete(out, *p.text)
		case ok:
			n, err := jsonSetPath(cur, path[1:], nv, create, remove)
			if err != nil {
				return nil, err
			}
			out[*p.text] = n
		case len(path) == 1 && create:
			out[*p.text] = nv
		}
		return out, nil
	case []any:
		i, err := strconv.Atoi(strings.TrimSpace(*p.text))
		if err != nil {
			return nil, funcError(pgerror.InvalidTextRepresentation,
				"path element at position 1 is not an integer: \""+*p.text+"\"")
		}
		if i < 0 {
			i += len(t)
		}
		out := append([]any{}, t...)
		switch {
		case i >= 0 && i < len(t) && len(path) == 1 && remove:
			return append(out[:i], out[i+1:]...), nil
		case i >= 0 && i < len(t):
			n, err := jsonSetPath(t[i], path[1:], nv, create, remove)
			if err != nil {
				return nil, err
			}
			out[i] = n
		case len(path) == 1 && create && !remove && i >= len(t):
			out = append(out, nv)
		case len(path) == 1 && create && !remove:
			out = append([]any{nv}, out...)
		}
		return out, nil
	}
	if remove {
		return nil, jsonArgErr("cannot delete path in scalar")
	}
	return nil, jsonArgErr("cannot set path in scalar")
}

// stripNulls drops object fields whose value is null, at every depth.
func stripNulls(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			if e != nil {
				out[k] = stripNulls(e)
			}
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = stripNulls(e)
		}
		return out
	}
	return v
}

// prettyJSONB is jsonb_pretty: four spaces a level.
func prettyJSONB(b *strings.Builder, v any, indent string) {
	switch t := v.(type) {
	case map[string]any:
		if len(t) == 0 {
			b.WriteString("{\n" + indent + "}")
			return
		}
		keys := jsonbKeys(t)
		b.WriteString("{\n")
		for i, k := range keys {
			b.WriteString(indent + "    " + pgJSONString(k) + ": ")
			prettyJSONB(b, t[k], indent+"    ")
			if i < len(keys)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		b.WriteString(indent + "}")
	case []any:
		if len(t) == 0 {
			b.WriteString("[\n" + indent + "]")
			return
		}
		b.WriteString("[\n")
		for i, e := range t {
			b.WriteString(indent + "    ")
			prettyJSONB(b, e, indent+"    ")
			if i < len(t)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		b.WriteString(indent + "]")
	default:
		writeJSONB(b, v)
	}
}

// jsonbKeys orders an object's keys as jsonb does.
func jsonbKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sortJSONBKeys(keys)
	return keys
}
