package translate

import (
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/pgraft/pgraft/pgvalue"
)

// json and jsonb operators and functions. They become the engine's pg_json_*
// functions (sqlengine/functions_jsonb.go), which print jsonb as jsonb_out
// does; a value that is not json travels with its kind (jsonKind), since
// SQLite's storage forms cannot tell a boolean from 1.

// isJSON reports whether x is json or jsonb.
func isJSON(x xtype) bool {
	return x.oid() == pgvalue.OIDJSON || x.oid() == pgvalue.OIDJSONB
}

// jsonKind is how a value of type x becomes JSON: 'b' boolean, 'n'
// number, 'j' json, 't' text, upper case for an array of that kind, '?'
// unknown (by the value's SQLite type).
func jsonKind(x xtype) byte {
	if x.t == nil || x.unknown {
		return '?'
	}
	if x.t.Category == 'A' {
		k := jsonKind(elemOf(x))
		if k == '?' || k == 'j' {
			k = 't'
		}
		return k - 'a' + 'A'
	}
	switch {
	case x.t.Category == 'B':
		return 'b'
	case x.t.Category == 'N' && x.t.OID != pgvalue.OIDOid && x.t.OID != pgvalue.OIDRegclass && x.t.OID != pgvalue.OIDRegtype && x.t.OID != pgvalue.OIDRegproc:
		return 'n'
	case isJSON(x):
		return 'j'
	}
	return 't'
}

func jsonKinds(xs []xtype) string {
	b := make([]byte, len(xs))
	for i, x := range xs {
		b[i] = jsonKind(x)
	}
	return string(b)
}

// jsonOperator emits a json/jsonb operator; ok is false when op over these
// operand types is not one.
func (t *translator) jsonOperator(op string, ln, rn *pg.Node, l, r string, lx, rx xtype) (string, xtype, bool) {
	jsonb := typed(pgvalue.OIDJSONB)
	text := TypeByOID(pgvalue.OIDText)
	switch op {
	case "->", "->>", "#>", "#>>":
		if !isJSON(lx) {
			return "", noType, false
		}
		res := xtype{t: lx.t, mod: -1}
		if strings.HasSuffix(op, ">>") {
			res = typed(pgvalue.OIDText)
		}
		if strings.HasPrefix(op, "#") {
			t.hintParam(rn, TypeByOID(pgvalue.OIDTextArray))
		} else {
			t.hintParam(rn, text)
		}
		mode := "" // json keeps its text: the engine reads it as written
		if lx.oid() == pgvalue.OIDJSON {
			mode = "j"
		}
		return "pg_json_get('" + mode + op + "', " + l + ", " + r + ")", res, true
	case "@>", "<@", "||":
		if !isJSON(lx) && !isJSON(rx) || op == "||" && lx.oid() != pgvalue.OIDJSONB && rx.oid() != pgvalue.OIDJSONB {
			return "", noType, false
		}
		t.hintParam(ln, jsonb.t)
		t.hintParam(rn, jsonb.t)
		res := typed(pgvalue.OIDBool)
		if op == "||" {
			res = jsonb
		}
		return "pg_json_op('" + op + "', " + l + ", " + r + ")", res, true
	case "?", "?|", "?&":
		if !isJSON(lx) {
			return "", noType, false
		}
		if op == "?" {
			t.hintParam(rn, text)
		} else {
			t.hintParam(rn, TypeByOID(pgvalue.OIDTextArray))
		}
		return "pg_json_op('" + op + "', " + l + ", " + r + ")", typed(pgvalue.OIDBool), true
	case "-", "#-":
		if lx.oid() != pgvalue.OIDJSONB {
			return "", noType, false
		}
		code := op
		switch {
		case op == "#-":
			t.hintParam(rn, TypeByOID(pgvalue.OIDTextArray))
		case rx.t != nil && rx.t.Category == 'N' && !rx.unknown:
			code = "-i"
		case rx.t != nil && rx.t.Category == 'A':
			code = "-a"
		default:
			t.hintParam(rn, text)
		}
		return "pg_json_op('" + code + "', " + l + ", " + r + ")", jsonb, true
	}
	return "", noType, false
}

// jsonFunc emits the json and jsonb functions; ok is false for any other
// name.
func (t *translator) jsonFunc(name string, f *pg.FuncCall) (string, xtype, bool) {
	jsonb := strings.HasPrefix(name, "jsonb") || name == "to_jsonb"
	resType := typed(pgvalue.OIDJSON)
	mode := "json"
	if jsonb {
		resType, mode = typed(pgvalue.OIDJSONB), "jsonb"
	}
	switch name {
	case "json_build_object", "jsonb_build_object", "json_build_array", "jsonb_build_array":
		t.plainCall(name, f)
		args, xs := t.funcArgs(f)
		fn := "pg_json_build_object"
		if strings.HasSuffix(name, "array") {
			fn = "pg_json_build_array"
		}
		if args != "" {
			args = ", " + args
		}
		return fn + "('" + mode + "', '" + jsonKinds(xs) + "'" + args + ")", resType, true
	case "to_json", "to_jsonb":
		t.plainCall(name, f)
		args, xs := t.funcArgs(f)
		if len(xs) != 1 {
			t.fail(undefinedFunction(name, xs))
		}
		return "pg_json_to('" + mode[len(mode)-1:] + string(jsonKind(xs[0])) + "', " + args + ")", resType, true
	case "json_agg", "jsonb_agg", "json_object_agg", "jsonb_object_agg":
		if f.AggDistinct || f.Over != nil {
			t.unsupported("%s with DISTINCT or OVER", name)
		}
		args, xs := t.funcArgs(f)
		want, agg := 1, "a"
		if strings.Contains(name, "object") {
			want, agg = 2, "o"
		}
		if len(xs) != want {
			t.fail(undefinedFunction(name, xs))
		}
		if jsonb {
			agg += "b"
		}
		return "pg_json_agg('" + agg + "', '" + string(jsonKind(xs[want-1])) + "', " + args + ")" + t.funcDecorations(f), resType, true
	case "jsonb_set", "jsonb_set_lax":
		if name == "jsonb_set_lax" {
			t.unsupported("jsonb_set_lax()")
		}
		t.plainCall(name, f)
		args, xs := t.funcArgs(f)
		if len(xs) < 3 || len(xs) > 4 {
			t.fail(undefinedFunction(name, xs))
		}
		t.hintParam(f.Args[1], TypeByOID(pgvalue.OIDTextArray))
		return "pg_jsonb_set(" + args + ")", resType, true
	case "jsonb_strip_nulls", "json_strip_nulls", "jsonb_pretty":
		t.plainCall(name, f)
		args, xs := t.funcArgs(f)
		if len(xs) != 1 {
			t.fail(undefinedFunction(name, xs))
		}
		if name == "jsonb_pretty" {
			return "pg_jsonb_pretty(" + args + ")", typed(pgvalue.OIDText), true
		}
		return "pg_jsonb_strip_nulls(" + args + ")", resType, true
	case "json_array_length", "jsonb_array_length":
		t.plainCall(name, f)
		args, xs := t.funcArgs(f)
		if len(xs) != 1 {
			t.fail(undefinedFunction(name, xs))
		}
		return "pg_json_array_length('" + mode + "', " + args + ")", typed(pgvalue.OIDInt4), true
	case "json_extract_path", "jsonb_extract_path", "json_extract_path_text", "jsonb_extract_path_text":
		t.plainCall(name, f)
		if len(f.Args) < 1 {
			t.fail(undefinedFunction(name, nil))
		}
		doc, _ := t.expr(f.Args[0])
		parts := make([]string, len(f.Args)-1)
		for i, a := range f.Args[1:] {
			parts[i], _ = t.expr(a)
			t.hintParam(a, TypeByOID(pgvalue.OIDText))
		}
		op := "#>"
		if strings.HasSuffix(name, "_text") {
			op, resType = "#>>", typed(pgvalue.OIDText)
		}
		return "pg_json_get('" + op + "', " + doc + ", pg_array(" + strings.Join(parts, ", ") + "))", resType, true
	}
	return "", noType, false
}

// plainCall refuses aggregate and window decorations on a plain function.
func (t *translator) plainCall(name string, f *pg.FuncCall) {
	if f.AggDistinct || len(f.AggOrder) > 0 || f.AggFilter != nil || f.Over != nil || f.AggStar || f.FuncVariadic {
		t.unsupported("this call of %s()", name)
	}
}
