package translate

import (
	"slices"
	"strconv"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/pgraft/pgraft/pgvalue"
	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// Function calls: the PostgreSQL name decides the SQLite function (a
// built-in, or a pg_* function registered by sqlengine/functions*.go) and the result
// type.

// funcSpec maps one PostgreSQL function.
type funcSpec struct {
	to  string              // SQLite function name
	ret uint32              // result type OID; 0 with retFn nil: unknown
	fn  func([]xtype) xtype // result type from the argument types
}

func fixedFunc(to string, ret uint32) funcSpec { return funcSpec{to: to, ret: ret} }
func argTyped(to string, i int) funcSpec {
	return funcSpec{to: to, fn: func(xs []xtype) xtype {
		if i < len(xs) {
			return xtype{t: xs[i].t, mod: -1}
		}
		return noType
	}}
}

// funcSpecs lists the functions translated by name alone.
var funcSpecs = map[string]funcSpec{
	"count": fixedFunc("count", pgvalue.OIDInt8), "total": fixedFunc("total", pgvalue.OIDFloat8),
	"sum": {to: "sum", fn: func(xs []xtype) xtype { return sumType(firstX(xs)) }},
	"avg": {to: "avg", fn: func(xs []xtype) xtype { return avgType(firstX(xs)) }},
	"min": argTyped("min", 0), "max": argTyped("max", 0),
	"bool_and": fixedFunc("min", pgvalue.OIDBool), "every": fixedFunc("min", pgvalue.OIDBool), "bool_or": fixedFunc("max", pgvalue.OIDBool),
	"string_agg": fixedFunc("group_concat", pgvalue.OIDText), "array_agg": {to: "pg_array_agg", fn: func(xs []xtype) xtype { return arrayOf(firstX(xs)) }},
	"abs": argTyped("abs", 0), "round": argTyped("round", 0), "length": fixedFunc("length", pgvalue.OIDInt4),
	"char_length": fixedFunc("length", pgvalue.OIDInt4), "character_length": fixedFunc("length", pgvalue.OIDInt4),
	"lower": fixedFunc("lower", pgvalue.OIDText), "upper": fixedFunc("upper", pgvalue.OIDText), "btrim": fixedFunc("trim", pgvalue.OIDText),
	"trim": fixedFunc("trim", pgvalue.OIDText), "ltrim": fixedFunc("ltrim", pgvalue.OIDText), "rtrim": fixedFunc("rtrim", pgvalue.OIDText),
	"replace": fixedFunc("replace", pgvalue.OIDText), "substr": fixedFunc("substr", pgvalue.OIDText), "instr": fixedFunc("instr", pgvalue.OIDInt4),
	"hex": fixedFunc("hex", pgvalue.OIDText), "quote": fixedFunc("quote", pgvalue.OIDText), "typeof": fixedFunc("typeof", pgvalue.OIDText),
	"printf": fixedFunc("printf", pgvalue.OIDText), "randomblob": fixedFunc("randomblob", pgvalue.OIDBytea),
	"strpos": fixedFunc("instr", pgvalue.OIDInt4), "concat": fixedFunc("pg_concat", pgvalue.OIDText), "concat_ws": fixedFunc("pg_concat_ws", pgvalue.OIDText),
	"left": fixedFunc("pg_left", pgvalue.OIDText), "right": fixedFunc("pg_right", pgvalue.OIDText), "repeat": fixedFunc("pg_repeat", pgvalue.OIDText),
	"lpad": fixedFunc("pg_lpad", pgvalue.OIDText), "rpad": fixedFunc("pg_rpad", pgvalue.OIDText), "split_part": fixedFunc("pg_split_part", pgvalue.OIDText),
	"initcap": fixedFunc("pg_initcap", pgvalue.OIDText), "md5": fixedFunc("pg_md5", pgvalue.OIDText), "reverse": fixedFunc("pg_reverse", pgvalue.OIDText),
	"starts_with": fixedFunc("pg_starts_with", pgvalue.OIDBool), "to_hex": fixedFunc("pg_to_hex", pgvalue.OIDText), "chr": fixedFunc("pg_chr", pgvalue.OIDText),
	"ascii": fixedFunc("pg_ascii", pgvalue.OIDInt4), "ceil": argTyped("pg_ceil", 0), "ceiling": argTyped("pg_ceil", 0),
	"floor": argTyped("pg_floor", 0), "power": fixedFunc("pg_power", pgvalue.OIDFloat8), "pow": fixedFunc("pg_power", pgvalue.OIDFloat8),
	"sqrt": fixedFunc("pg_sqrt", pgvalue.OIDFloat8), "exp": fixedFunc("pg_exp", pgvalue.OIDFloat8), "ln": fixedFunc("pg_ln", pgvalue.OIDFloat8),
	"log": fixedFunc("pg_log", pgvalue.OIDFloat8), "mod": argTyped("pg_mod", 0), "sign": argTyped("pg_sign", 0),
	"trunc": argTyped("pg_trunc", 0), "pi": fixedFunc("pg_pi", pgvalue.OIDFloat8), "div": fixedFunc("pg_div", pgvalue.OIDNumeric),
	"date_part": fixedFunc("pg_extract", pgvalue.OIDFloat8), "date_trunc": argTyped("pg_date_trunc", 1),
	"age": fixedFunc("pg_age", pgvalue.OIDInterval), "to_char": fixedFunc("pg_to_char", pgvalue.OIDText), "to_date": fixedFunc("pg_to_date", pgvalue.OIDDate),
	"to_timestamp": fixedFunc("pg_to_timestamp", pgvalue.OIDTimestamptz), "isfinite": fixedFunc("pg_isfinite", pgvalue.OIDBool), "make_date": fixedFunc("pg_make_date", pgvalue.OIDDate),
	"version":             fixedFunc("pg_version", pgvalue.OIDText),
	"pgraft_checksum":     fixedFunc("pgraft_checksum", pgvalue.OIDText),
	"pgraft_commit_index": fixedFunc("pgraft_commit_index", pgvalue.OIDInt8),
	"pg_export_snapshot":  fixedFunc("pg_export_snapshot", pgvalue.OIDText),
	"now":                 fixedFunc("pg_now", pgvalue.OIDTimestamptz), "transaction_timestamp": fixedFunc("pg_now", pgvalue.OIDTimestamptz),
	"statement_timestamp": fixedFunc("pg_statement_timestamp", pgvalue.OIDTimestamptz), "clock_timestamp": fixedFunc("pg_clock_timestamp", pgvalue.OIDTimestamptz),
	"random": fixedFunc("pg_random", pgvalue.OIDFloat8), "gen_random_uuid": fixedFunc("gen_random_uuid", pgvalue.OIDUUID),
	"uuid_generate_v4": fixedFunc("gen_random_uuid", pgvalue.OIDUUID),
	"date":             fixedFunc("date", pgvalue.OIDDate), "strftime": fixedFunc("strftime", pgvalue.OIDText), "datetime": fixedFunc("datetime", pgvalue.OIDText),
	"julianday": fixedFunc("julianday", pgvalue.OIDFloat8), "unixepoch": fixedFunc("unixepoch", pgvalue.OIDInt8),
	// window functions (SQLite built-ins)
	"row_number": fixedFunc("row_number", pgvalue.OIDInt8), "rank": fixedFunc("rank", pgvalue.OIDInt8), "dense_rank": fixedFunc("dense_rank", pgvalue.OIDInt8),
	"percent_rank": fixedFunc("percent_rank", pgvalue.OIDFloat8), "cume_dist": fixedFunc("cume_dist", pgvalue.OIDFloat8),
	"ntile": fixedFunc("ntile", pgvalue.OIDInt4), "lag": argTyped("lag", 0), "lead": argTyped("lead", 0),
	"first_value": argTyped("first_value", 0), "last_value": argTyped("last_value", 0), "nth_value": argTyped("nth_value", 0),
	// catalog helpers (sqlengine/catalog_funcs.go)
	"pg_table_is_visible": fixedFunc("pg_table_is_visible", pgvalue.OIDBool), "pg_get_userbyid": fixedFunc("pg_get_userbyid", pgvalue.OIDName),
	"acldefault":  fixedFunc("acldefault", pgvalue.OIDText),
	"format_type": fixedFunc("format_type", pgvalue.OIDText), "pg_get_expr": fixedFunc("pg_get_expr", pgvalue.OIDText),
	"pg_get_indexdef": fixedFunc("pg_get_indexdef", pgvalue.OIDText), "pg_get_constraintdef": fixedFunc("pg_get_constraintdef", pgvalue.OIDText),
	"pg_encoding_to_char": fixedFunc("pg_encoding_to_char", pgvalue.OIDName), "array_to_string": fixedFunc("array_to_string", pgvalue.OIDText),
	"array_upper": fixedFunc("array_upper", pgvalue.OIDInt4), "array_length": fixedFunc("array_length", pgvalue.OIDInt4),
	"pg_get_statisticsobjdef_columns": fixedFunc("pg_get_statisticsobjdef_columns", pgvalue.OIDText),
	"pg_relation_is_publishable":      fixedFunc("pg_relation_is_publishable", pgvalue.OIDBool),
	"obj_description":                 fixedFunc("obj_description", pgvalue.OIDText), "col_description": fixedFunc("col_description", pgvalue.OIDText),
	"shobj_description": fixedFunc("shobj_description", pgvalue.OIDText), "pg_get_serial_sequence": fixedFunc("pg_get_serial_sequence", pgvalue.OIDText),
	"has_table_privilege": fixedFunc("has_table_privilege", pgvalue.OIDBool), "has_schema_privilege": fixedFunc("has_schema_privilege", pgvalue.OIDBool),
	"has_database_privilege": fixedFunc("has_database_privilege", pgvalue.OIDBool), "pg_size_pretty": fixedFunc("pg_size_pretty", pgvalue.OIDText),
	"pg_total_relation_size": fixedFunc("pg_total_relation_size", pgvalue.OIDInt8), "pg_relation_size": fixedFunc("pg_relation_size", pgvalue.OIDInt8),
	"quote_ident": fixedFunc("quote_ident", pgvalue.OIDText), "quote_literal": fixedFunc("quote_literal", pgvalue.OIDText),
	"pg_get_viewdef": fixedFunc("pg_get_viewdef", pgvalue.OIDText), "pg_get_triggerdef": fixedFunc("pg_get_triggerdef", pgvalue.OIDText),
	"pg_get_functiondef": fixedFunc("pg_get_functiondef", pgvalue.OIDText), "pg_function_is_visible": fixedFunc("pg_function_is_visible", pgvalue.OIDBool),
	"pg_type_is_visible":     fixedFunc("pg_type_is_visible", pgvalue.OIDBool),
	"pg_get_function_result": fixedFunc("pg_get_function_result", pgvalue.OIDText), "pg_get_function_arguments": fixedFunc("pg_get_function_arguments", pgvalue.OIDText),
	"pg_get_function_identity_arguments": fixedFunc("pg_get_function_identity_arguments", pgvalue.OIDText),
	"pg_get_ruledef":                     fixedFunc("pg_get_ruledef", pgvalue.OIDText),
	// arrays and regular expressions (sqlengine/functions_arrayops.go)
	"string_to_array": fixedFunc("pg_string_to_array", pgvalue.OIDTextArray), "array_position": fixedFunc("pg_array_position", pgvalue.OIDInt4),
	"cardinality": fixedFunc("pg_cardinality", pgvalue.OIDInt4), "array_append": argTyped("pg_array_append", 0),
	"array_prepend": argTyped("pg_array_prepend", 1), "array_cat": argTyped("pg_array_cat", 0), "array_remove": argTyped("pg_array_remove", 0),
	"regexp_replace": fixedFunc("pg_regexp_replace", pgvalue.OIDText), "regexp_match": fixedFunc("pg_regexp_match", pgvalue.OIDTextArray),
	"pg_advisory_lock": fixedFunc("pg_advisory_lock", 0), "pg_advisory_unlock": fixedFunc("pg_advisory_unlock", pgvalue.OIDBool),
	"pg_try_advisory_lock": fixedFunc("pg_try_advisory_lock", pgvalue.OIDBool), "pg_advisory_unlock_all": fixedFunc("pg_advisory_unlock_all", 0),
	"pg_advisory_xact_lock": fixedFunc("pg_advisory_xact_lock", 0), "pg_try_advisory_xact_lock": fixedFunc("pg_try_advisory_xact_lock", pgvalue.OIDBool),
}

// EmittedFunctions returns, sorted, the SQL functions that functions
// translated by name alone become (funcSpecs' targets): SQLite's own and
// pgraft's, which the engine's authorizer must allow, and the advisory-lock
// functions the server answers.
func EmittedFunctions() []string {
	var names []string
	for _, spec := range funcSpecs {
		if !slices.Contains(names, spec.to) {
			names = append(names, spec.to)
		}
	}
	slices.Sort(names)
	return names
}

// sqliteStateFuncs read connection state: refused in writes (DESIGN §3).
var sqliteStateFuncs = map[string]bool{"last_insert_rowid": true, "changes": true, "total_changes": true, "sqlite_version": true}

// knownUnsupported are PostgreSQL functions pgraft does not provide.
var knownUnsupported = map[string]bool{
	"txid_current":    true,
	"generate_series": true, "set_config": true, "jsonb_insert": true, "jsonb_path_query": true,
}

func firstX(xs []xtype) xtype {
	if len(xs) == 0 {
		return noType
	}
	return xs[0]
}

// funcCall emits a function call with its aggregate/window decorations.
func (t *translator) funcCall(f *pg.FuncCall) (string, xtype) {
	name := t.funcName(f.Funcname)
	if c, ok := t.tlistSRF[f]; ok {
		return c.expr, c.typ
	}
	if isSetReturning(name) {
		t.unsupported("set-returning function %s() here", name)
	}
	if s, x, ok := t.specialFunc(name, f); ok {
		return s, x
	}
	if f.AggWithinGroup {
		return t.orderedSetAgg(name, f)
	}
	if name == "string_agg" && f.AggDistinct {
		return t.distinctStringAgg(f)
	}
	if f.FuncVariadic {
		t.unsupported("VARIADIC")
	}
	args, xs := t.funcArgs(f)
	spec, ok := funcSpecs[name]
	switch {
	case ok:
	case sqliteStateFuncs[name] && !t.write:
		spec = fixedFunc(name, 0)
	case sqliteStateFuncs[name] || knownUnsupported[name]:
		t.unsupported("function %s()", name)
	default:
		t.fail(undefinedFunction(name, xs))
	}
	if (name == "min" || name == "max") && len(xs) != 1 {
		t.fail(undefinedFunction(name, xs))
	}
	res := typed(spec.ret)
	if spec.fn != nil {
		res = spec.fn(xs)
	}
	if agg := numericAgg(name, xs); agg != "" {
		return collateNumeric(agg + "(" + args + ")" + t.funcDecorations(f)), typed(pgvalue.OIDNumeric)
	}
	if fn, ok := numericFuncs[name]; ok && len(xs) > 0 && (isNumeric(xs[0]) || numericAnyArg[name] && slices.ContainsFunc(xs, isNumeric)) {
		return numericCall(fn, args) + t.funcDecorations(f), typed(pgvalue.OIDNumeric)
	}
	return spec.to + "(" + args + ")" + t.funcDecorations(f), res
}

// distinctStringAgg emits string_agg(DISTINCT x, sep [ORDER BY …]):
// SQLite allows DISTINCT over one argument only, so value and separator
// travel as one JSON array to the engine's pg_string_agg.
func (t *translator) distinctStringAgg(f *pg.FuncCall) (string, xtype) {
	if len(f.Args) != 2 || f.Over != nil {
		t.fail(undefinedFunction("string_agg", nil))
	}
	x, _ := t.expr(f.Args[0])
	sep, _ := t.expr(f.Args[1])
	s := "pg_string_agg(DISTINCT json_array(" + sep + ", " + x + ")"
	if len(f.AggOrder) > 0 {
		s += " ORDER BY " + t.sortList(f.AggOrder)
	}
	return s + ")" + t.funcDecorations(f), typed(pgvalue.OIDText)
}

// orderedSetAgg emits percentile_cont, percentile_disc and mode() WITHIN
// GROUP (ORDER BY x) through the engine's pg_ordered_set.
func (t *translator) orderedSetAgg(name string, f *pg.FuncCall) (string, xtype) {
	kinds := map[string]string{"percentile_cont": "cont", "percentile_disc": "disc", "mode": "mode"}
	kind, ok := kinds[name]
	if !ok {
		t.unsupported("WITHIN GROUP with %s", name)
	}
	if len(f.AggOrder) != 1 || f.Over != nil || f.AggDistinct {
		t.unsupported("this use of %s", name)
	}
	sb := f.AggOrder[0].GetSortBy()
	if sb == nil || sb.UseOp != nil {
		t.unsupported("this use of %s", name)
	}
	desc := "0"
	if sb.SortbyDir == pg.SortByDir_SORTBY_DESC {
		desc = "1"
	}
	x, xt := t.expr(sb.Node)
	frac := "NULL"
	switch {
	case kind == "mode" && len(f.Args) != 0, kind != "mode" && len(f.Args) != 1:
		t.fail(undefinedFunction(name, nil))
	case kind != "mode":
		var fx xtype
		frac, fx = t.expr(f.Args[0])
		if fx.t != nil && fx.t.Category == 'A' || f.Args[0].GetAArrayExpr() != nil {
			t.unsupported("%s with an array of fractions", name)
		}
		t.hintParam(f.Args[0], TypeByOID(pgvalue.OIDFloat8))
	}
	res := xtype{t: xt.t, mod: -1}
	if kind == "cont" {
		res = typed(pgvalue.OIDFloat8)
	}
	return "pg_ordered_set('" + kind + "', " + desc + ", " + frac + ", " + x + ")" + t.funcDecorations(f), res
}

// funcName strips pg_catalog and refuses other qualifiers.
func (t *translator) funcName(names []*pg.Node) string {
	if len(names) > 2 || len(names) == 2 && strVal(names[0]) != "pg_catalog" && strVal(names[0]) != "public" {
		t.fail(pgerror.New(pgerror.UndefinedFunction, "function %s does not exist", strings.Join(nameList(names), ".")))
	}
	return lastName(names)
}

// undefinedFunction is PostgreSQL's 42883 for a name and argument types.
func undefinedFunction(name string, xs []xtype) *pgerror.Error {
	types := make([]string, len(xs))
	for i, x := range xs {
		types[i] = "unknown"
		if x.t != nil && !x.unknown {
			types[i] = x.t.SQLName
		}
	}
	return pgerror.New(pgerror.UndefinedFunction, "function %s(%s) does not exist", name, strings.Join(types, ", ")).
		WithHint("No function matches the given name and argument types. You might need to add explicit type casts.")
}

// funcArgs emits the argument list, DISTINCT and ORDER BY included.
func (t *translator) funcArgs(f *pg.FuncCall) (string, []xtype) {
	if f.AggStar {
		return "*", nil
	}
	parts := make([]string, len(f.Args))
	xs := make([]xtype, len(f.Args))
	dateFunc := slices.Contains(sqliteDateFuncs, t.funcName(f.Funcname))
	floatArgs := numericFloatFuncs[t.funcName(f.Funcname)]
	for i, a := range f.Args {
		parts[i], xs[i] = t.expr(a)
		if floatArgs {
			parts[i] = numericAsFloat(parts[i], xs[i]) // emit_numeric.go
		}
		if t.write && dateFunc && xs[i].unknown && len(parts[i]) > 2 {
			// Refused here, before the log; dateFunc refuses a bound value.
			if m := NodeZoneModifier(parts[i][1 : len(parts[i])-1]); m != "" && parts[i][0] == '\'' {
				t.unsupported("the '%s' modifier in a write", m)
			}
		}
	}
	s := strings.Join(parts, ", ")
	if f.AggDistinct {
		s = "DISTINCT " + s
	}
	if len(f.AggOrder) > 0 {
		s += " ORDER BY " + t.sortList(f.AggOrder)
	}
	return s, xs
}

// funcDecorations emits FILTER and OVER.
func (t *translator) funcDecorations(f *pg.FuncCall) string {
	s := ""
	if f.AggFilter != nil {
		w, _ := t.expr(f.AggFilter)
		s += " FILTER (WHERE " + w + ")"
	}
	if f.Over != nil {
		if f.Over.Name != "" {
			s += " OVER " + QuoteIdent(f.Over.Name)
		} else {
			s += " OVER (" + t.windowSpec(f.Over) + ")"
		}
	}
	return s
}

// specialFunc handles functions whose translation depends on their
// arguments or on the session.
func (t *translator) specialFunc(name string, f *pg.FuncCall) (string, xtype, bool) {
	switch name {
	case "extract":
		field, x := t.fieldArg(f)
		return "pg_extract(" + field + ", " + x + ")", typed(pgvalue.OIDNumeric), true
	case "date_part":
		field, x := t.fieldArg(f)
		return "pg_extract(" + field + ", " + x + ")", typed(pgvalue.OIDFloat8), true
	case "position":
		args, _ := t.funcArgs(f)
		return "instr(" + args + ")", typed(pgvalue.OIDInt4), true
	case "substring":
		return t.substringFunc(f)
	case "octet_length":
		args, _ := t.funcArgs(f)
		return "length(CAST(" + args + " AS BLOB))", typed(pgvalue.OIDInt4), true
	case "json_build_object", "jsonb_build_object", "json_build_array", "jsonb_build_array", "to_json", "to_jsonb",
		"json_agg", "jsonb_agg", "json_object_agg", "jsonb_object_agg", "jsonb_set", "jsonb_set_lax", "jsonb_strip_nulls",
		"json_strip_nulls", "jsonb_pretty", "json_array_length", "jsonb_array_length", "json_extract_path",
		"jsonb_extract_path", "json_extract_path_text", "jsonb_extract_path_text":
		return t.jsonFunc(name, f) // emit_json.go
	case "pg_typeof":
		_, xs := t.funcArgs(f)
		if len(xs) != 1 {
			t.fail(undefinedFunction(name, xs))
		}
		typ := "unknown"
		if xs[0].t != nil && !xs[0].unknown {
			typ = xs[0].t.SQLName
		}
		return t.quoteString(typ), typed(pgvalue.OIDRegtype), true
	case "jsonb_typeof", "json_typeof":
		args, _ := t.funcArgs(f)
		return "CASE json_type(" + args + ") WHEN 'integer' THEN 'number' WHEN 'real' THEN 'number' " +
			"WHEN 'true' THEN 'boolean' WHEN 'false' THEN 'boolean' ELSE json_type(" + args + ") END", typed(pgvalue.OIDText), true
	case "pg_get_expr", "pg_get_viewdef", "pg_get_constraintdef":
		// Names are qualified with public. when public is not on
		// search_path, as PostgreSQL prints them (pg_dump sets search_path
		// to '': its dump must restore anywhere). The function gets its
		// optional pretty argument (false by default) and the flag.
		args, xs := t.funcArgs(f)
		need := map[string]int{"pg_get_expr": 2, "pg_get_viewdef": 1, "pg_get_constraintdef": 1}[name]
		if len(xs) < need || len(xs) > need+1 {
			t.fail(undefinedFunction(name, xs))
		}
		qualify := "0"
		if t.opts.Setting != nil && !slices.Contains(t.searchPath(), "public") {
			qualify = "1"
		}
		if len(xs) == need {
			args += ", 0"
		}
		return name + "(" + args + ", " + qualify + ")", typed(pgvalue.OIDText), true
	case "has_table_privilege", "has_sequence_privilege", "has_schema_privilege", "has_any_column_privilege",
		"has_column_privilege":
		// The forms without a user ask about the session's (acl.go).
		args, xs := t.funcArgs(f)
		withUser := 3
		if name == "has_column_privilege" {
			withUser = 4
		}
		if len(xs) == withUser-1 {
			args = t.quoteString(t.setting("session_authorization")) + ", " + args
		} else if len(xs) != withUser {
			t.fail(undefinedFunction(name, xs))
		}
		return name + "(" + args + ")", typed(pgvalue.OIDBool), true
	}
	if s, x, ok := t.sequenceFunc(name, f); ok { // sequence.go
		return s, x, true
	}
	return t.sessionFunc(name, f)
}

// fieldArg emits extract/date_part's field name (lower-cased) and value.
func (t *translator) fieldArg(f *pg.FuncCall) (string, string) {
	if len(f.Args) != 2 {
		t.fail(undefinedFunction("extract", nil))
	}
	field, ok := constString(f.Args[0])
	fs := ""
	if ok {
		fs = t.quoteString(strings.ToLower(field))
	} else {
		fs, _ = t.expr(f.Args[0])
	}
	x, _ := t.expr(f.Args[1])
	return fs, x
}

// substringFunc emits substring(x FROM a FOR b) as substr; the two-argument
// form with a text pattern is a regular expression match in PostgreSQL.
func (t *translator) substringFunc(f *pg.FuncCall) (string, xtype, bool) {
	args, xs := t.funcArgs(f)
	if len(xs) >= 2 && xs[1].t != nil && xs[1].t.Category == 'S' {
		t.unsupported("substring with a regular expression")
	}
	if len(f.Args) >= 2 {
		t.hintParam(f.Args[1], TypeByOID(pgvalue.OIDInt4))
	}
	if len(f.Args) == 3 {
		t.hintParam(f.Args[2], TypeByOID(pgvalue.OIDInt4))
	}
	return "substr(" + args + ")", typed(pgvalue.OIDText), true
}

// sessionFunc emits functions answered from the session's settings as
// literals.
func (t *translator) sessionFunc(name string, f *pg.FuncCall) (string, xtype, bool) {
	switch name {
	case "current_database":
		return t.quoteString(t.setting("database")), typed(pgvalue.OIDName), true
	case "current_schema":
		return t.currentSchema(), typed(pgvalue.OIDName), true
	case "current_user", "user", "current_role":
		return t.quoteString(t.setting("session_authorization")), typed(pgvalue.OIDName), true
	case "session_user":
		u := t.setting("session_user")
		if u == "" {
			u = t.setting("session_authorization")
		}
		return t.quoteString(u), typed(pgvalue.OIDName), true
	case "pg_backend_pid":
		pid, err := strconv.Atoi(t.setting("pid"))
		if err != nil {
			pid = 0
		}
		return strconv.Itoa(pid), typed(pgvalue.OIDInt4), true
	case "pg_is_in_recovery":
		if t.setting("in_hot_standby") == "on" {
			return "1", typed(pgvalue.OIDBool), true
		}
		return "0", typed(pgvalue.OIDBool), true
	case "current_schemas":
		return t.currentSchemas(f), typed(pgvalue.OIDNameArray), true
	case "current_setting":
		return t.currentSetting(f), typed(pgvalue.OIDText), true
	}
	return "", noType, false
}

// currentSchemas is current_schemas(bool) as an array literal.
func (t *translator) currentSchemas(f *pg.FuncCall) string {
	implicit := false
	if len(f.Args) != 1 {
		t.fail(undefinedFunction("current_schemas", nil))
	}
	switch c := f.Args[0].GetAConst(); {
	case c != nil && c.GetBoolval() != nil:
		implicit = c.GetBoolval().Boolval
	default:
		t.unsupported("current_schemas() with a non-constant argument")
	}
	path := t.searchPath()
	if implicit && (len(path) == 0 || path[0] != "pg_catalog") {
		path = append([]string{"pg_catalog"}, path...)
	}
	return t.quoteString("{" + strings.Join(path, ",") + "}")
}

// currentSetting is current_setting(name [, missing_ok]) as a literal.
func (t *translator) currentSetting(f *pg.FuncCall) string {
	if len(f.Args) < 1 || len(f.Args) > 2 {
		t.fail(undefinedFunction("current_setting", nil))
	}
	name, ok := constString(f.Args[0])
	if !ok {
		t.unsupported("current_setting() with a non-constant name")
	}
	missingOK := false
	if len(f.Args) == 2 {
		c := f.Args[1].GetAConst()
		if c == nil || c.GetBoolval() == nil {
			t.unsupported("current_setting() with a non-constant missing_ok")
		}
		missingOK = c.GetBoolval().Boolval
	}
	name = strings.ToLower(name)
	if t.opts.Setting != nil {
		if v, ok := t.opts.Setting(name); ok {
			return t.quoteString(v)
		}
	}
	if missingOK {
		return "NULL"
	}
	t.fail(pgerror.New(pgerror.UndefinedObject, "unrecognized configuration parameter \"%s\"", name))
	return ""
}

// sqliteDateFuncs are SQLite's date functions. Their 'localtime' and 'utc'
// modifiers convert with the node's own time zone: funcArgs refuses them in
// writes, before the log, and the engine's write connection replaces the
// functions to refuse a bound one too (sqlengine/determinism.go).
var sqliteDateFuncs = []string{"date", "time", "datetime", "julianday", "unixepoch", "strftime"}

// SQLiteDateFuncs returns the names of SQLite's date functions, which
// read the node's time zone through their 'localtime' and 'utc' modifiers.
func SQLiteDateFuncs() []string { return slices.Clone(sqliteDateFuncs) }

// NodeZoneModifier returns "localtime" or "utc" when a date function's
// argument is the modifier of that name, which converts with the node's own
// time zone, and "" otherwise.
func NodeZoneModifier(arg string) string {
	a := strings.ToLower(strings.TrimSpace(arg))
	switch {
	case strings.Contains(a, "localtime"):
		return "localtime"
	case a == "utc":
		return "utc"
	}
	return ""
}
