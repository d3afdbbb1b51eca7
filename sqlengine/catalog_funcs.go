package sqlengine

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/pgraft/pgraft/pgvalue"
	"github.com/pgraft/pgraft/sqlengine/translate"
)

// Catalog functions: the pg_catalog functions psql, drivers and ORMs call
// (format_type, pg_get_indexdef, …) and the pgraft_* helpers the catalog
// views (catalog.go) use to turn SQLite's schema into PostgreSQL's.
//
// pg_get_indexdef, pg_get_constraintdef and pg_get_viewdef receive only an
// OID, so they read the engine's latest SchemaSnapshot (catalogState); the
// view helpers receive the schema itself (sqlite_schema as JSON) and so
// always see exactly what the querying connection sees.

// modelCache keeps the model of the last sqlite_schema JSON a connection's
// views passed in: one catalog query calls the helpers once per row with
// the same JSON.
type modelCache struct {
	mu    sync.Mutex
	key   string
	model *schemaModel
}

func (c *modelCache) get(schemaJSON string) *schemaModel {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.model != nil && c.key == schemaJSON {
		return c.model
	}
	var raw [][]any
	if err := json.Unmarshal([]byte(schemaJSON), &raw); err != nil {
		return buildSchemaModel(nil)
	}
	rows := make([]schemaRow, 0, len(raw))
	for _, r := range raw {
		if len(r) < 5 {
			continue
		}
		rowid, _ := r[3].(float64)
		rows = append(rows, schemaRow{typ: jsonStr(r[0]), name: jsonStr(r[1]), tblName: jsonStr(r[2]), rowid: int64(rowid), sql: jsonStr(r[4])})
	}
	c.key, c.model = schemaJSON, buildSchemaModel(rows)
	return c.model
}

func jsonStr(v any) string {
	s, _ := v.(string)
	return s
}

// reReferences finds the table a FOREIGN KEY's definition references.
var reReferences = regexp.MustCompile(`(REFERENCES )((?:[^ ."(]+|"[^"]*")\()`)

// reUnqualifiedRegclass finds the unqualified sequence names of
// nextval('s'::regclass) in a default expression.
var reUnqualifiedRegclass = regexp.MustCompile(`(nextval\(')((?:[^'."]|"[^"]*")+'::regclass\))`)

func catalogFuncs(state *catalogState) []sqlFunc {
	models := &modelCache{}
	one := func(v any) func([]any) (any, error) { return func([]any) (any, error) { return v, nil } }
	fns := []sqlFunc{
		{"pg_table_is_visible", 1, 1, true, strict(one(int64(1)))},
		{"pg_type_is_visible", 1, 1, true, strict(one(int64(1)))},
		{"pg_function_is_visible", 1, 1, true, strict(one(int64(1)))},
		{"acldefault", 2, 2, true, strict(func(a []any) (any, error) {
			v, err := state.aclDefault(asString(a[0]), a[1]) // acl.go
			return v, asFuncError(err)
		})},
		{"pg_get_userbyid", 1, 1, true, strict(func(a []any) (any, error) {
			n, _ := toInt(a[0])
			if name, ok := state.roleName(n); ok { // acl_catalog.go
				return name, nil
			}
			return fmt.Sprintf("unknown (OID=%s)", asString(a[0])), nil
		})},
		{"format_type", 1, 2, true, func(a []any) (any, error) {
			if a[0] == nil {
				return nil, nil
			}
			oid, _ := toInt(a[0])
			var mod *int64
			if len(a) > 1 && a[1] != nil {
				m, _ := toInt(a[1])
				mod = &m
			}
			return formatType(uint32(oid), mod), nil
		}},
		{"pg_get_expr", 2, 4, true, func(a []any) (any, error) {
			if len(a) == 4 && truthy(a[3]) && a[0] != nil { // public is not on search_path
				return reUnqualifiedRegclass.ReplaceAllString(asString(a[0]), "${1}public.$2"), nil
			}
			return a[0], nil
		}},
		{"pg_get_indexdef", 1, 3, false, strict(func(a []any) (any, error) {
			oid, _ := toInt(a[0])
			snap, err := state.snapshot("pg_get_indexdef")
			if err != nil {
				return nil, err
			}
			d := snap.indexDef(uint32(oid))
			if d == nil {
				return nil, nil
			}
			col := int64(0)
			if len(a) > 1 {
				col, _ = toInt(a[1])
			}
			return d.def(len(a) > 2 && truthy(a[2]), int(col)), nil
		})},
		{"pg_get_constraintdef", 1, 3, false, strict(func(a []any) (any, error) {
			oid, _ := toInt(a[0])
			snap, err := state.snapshot("pg_get_constraintdef")
			if err != nil {
				return nil, err
			}
			c := snap.constraintDef(uint32(oid))
			if c == nil {
				return nil, nil
			}
			def := c.def(len(a) > 1 && truthy(a[1]))
			if len(a) > 2 && truthy(a[2]) { // public is not on search_path
				def = reReferences.ReplaceAllString(def, "${1}public.$2")
			}
			return def, nil
		})},
		{"pg_get_viewdef", 1, 3, false, strict(func(a []any) (any, error) {
			oid, _ := toInt(a[0])
			snap, err := state.snapshot("pg_get_viewdef")
			if err != nil {
				return nil, err
			}
			def := snap.viewDef(uint32(oid))
			if s, ok := def.(string); ok && len(a) > 2 && truthy(a[2]) { // public is not on search_path
				def, _ = translate.QualifyRelations(s)
			}
			return def, nil
		})},
		{"pg_encoding_to_char", 1, 1, true, strict(func(a []any) (any, error) {
			switch n, _ := toInt(a[0]); n {
			case 6:
				return "UTF8", nil
			case 0:
				return "SQL_ASCII", nil
			}
			return "", nil
		})},
		{"pg_size_pretty", 1, 1, true, strict(func(a []any) (any, error) {
			n, err := toInt(a[0])
			return sizePretty(n), err
		})},
		{"pg_total_relation_size", 1, 1, true, strict(one(int64(0)))},
		{"pg_relation_size", 1, 2, true, strict(one(int64(0)))},
		{"pg_table_size", 1, 1, true, strict(one(int64(0)))},
		{"pg_indexes_size", 1, 1, true, strict(one(int64(0)))},
		{"pg_relation_is_publishable", 1, 1, true, strict(one(int64(0)))},
	}
	fns = append(fns, sqlFunc{"obj_description", 1, 2, true, func(a []any) (any, error) {
		// pg_description's one row (catalog.go): public's comment.
		if n, err := toInt(a[0]); err == nil && n == 2200 && (len(a) == 1 || asString(a[1]) == "pg_namespace") {
			return "standard public schema", nil
		}
		return nil, nil
	}})
	for _, name := range []string{"pg_get_statisticsobjdef_columns", "col_description",
		"shobj_description", "pg_get_triggerdef", "pg_get_functiondef",
		"pg_get_function_arguments", "pg_get_function_result", "pg_get_function_identity_arguments", "pg_get_ruledef"} {
		fns = append(fns, sqlFunc{name, 0, -1, true, one(nil)})
	}
	for _, name := range []string{"has_database_privilege", "has_function_privilege"} {
		fns = append(fns, sqlFunc{name, 0, -1, true, one(int64(1))}) // everyone may connect; there are no user functions
	}
	for _, name := range []string{"has_table_privilege", "has_schema_privilege", "has_column_privilege",
		"has_any_column_privilege", "has_sequence_privilege"} {
		fns = append(fns, sqlFunc{name, 3, 4, true, strict(func(a []any) (any, error) {
			v, err := state.hasPrivilege(name, a) // acl.go
			return v, asFuncError(err)
		})})
	}
	fns = append(fns, sqlFunc{"pg_get_serial_sequence", 2, 2, true, strict(func(a []any) (any, error) {
		return serialSequence(state.Get(), a[0], asString(a[1])), nil
	})})
	return append(fns, viewHelperFuncs(models)...)
}

// serialSequence is pg_get_serial_sequence(table, column): the sequence the
// column owns, schema-qualified and quoted as PostgreSQL prints it, or NULL.
// table is a name (possibly qualified or quoted) or a table OID.
func serialSequence(snap *SchemaSnapshot, table any, column string) any {
	var name string
	if n, err := toInt(table); err == nil && snap != nil {
		if t := snap.byOID[uint32(n)]; t != nil {
			name = t.Name
		}
	} else {
		var ok bool
		if name, ok = translate.RegclassName(asString(table)); !ok {
			return nil
		}
	}
	seq := snap.OwnedSequence(name, column)
	if seq == "" {
		return nil
	}
	return "public." + pgQuoteIdent(seq)
}

func truthy(x any) bool {
	n, err := toInt(x)
	if err != nil {
		b, ok := pgvalue.ParseBool(asString(x))
		return ok && b
	}
	return n != 0
}

// viewHelperFuncs are the pgraft_* functions the catalog views call with
// sqlite_schema as JSON ([[type, name, tbl_name, rowid, sql], …]).
func viewHelperFuncs(models *modelCache) []sqlFunc {
	column := func(a []any) (*modelTable, string, string) {
		m := models.get(asString(orEmpty(a[0])))
		return m.tables[asString(orEmpty(a[1]))], asString(orEmpty(a[2])), asString(orEmpty(a[3]))
	}
	typeOf := func(a []any) (*translate.PGType, int32, bool) {
		t, col, decl := column(a)
		if t == nil {
			if rt := models.get(asString(orEmpty(a[0]))).viewRowidType(asString(orEmpty(a[1])), col, decl); rt != "" {
				return translate.TypeByName(rt), -1, false
			}
		}
		isRowid := t != nil && t.rowidPK != "" && strings.EqualFold(t.rowidPK, col)
		typ, mod := columnType(decl, rowidTypeOf(t), isRowid)
		return typ, mod, isRowid && t.ddl.autoincrement
	}
	return []sqlFunc{
		{"pgraft_atttypid", 4, 4, true, func(a []any) (any, error) {
			typ, _, _ := typeOf(a)
			return int64(typ.OID), nil
		}},
		{"pgraft_atttypmod", 4, 4, true, func(a []any) (any, error) {
			_, mod, _ := typeOf(a)
			return int64(mod), nil
		}},
		{"pgraft_attdef", 6, 6, true, func(a []any) (any, error) {
			typ, _, serial := typeOf(a)
			d := columnDefault(asString(orEmpty(a[1])), asString(orEmpty(a[2])), typ, asString(orEmpty(a[4])), a[4] != nil, serial)
			if d == "" {
				return nil, nil
			}
			return d, nil
		}},
		{"pgraft_isrowid", 3, 3, true, func(a []any) (any, error) {
			t, col, _ := column(append(a, nil))
			return boolInt(t != nil && t.rowidPK != "" && strings.EqualFold(t.rowidPK, col)), nil
		}},
		{"pgraft_acltext", 1, 1, true, func(a []any) (any, error) {
			if a[0] == nil {
				return nil, nil
			}
			return aclText(parseStoredACL(asString(a[0]))), nil // acl.go
		}},
		{"pgraft_constraints", 2, 2, true, func(a []any) (any, error) {
			t := models.get(asString(orEmpty(a[0]))).tables[asString(orEmpty(a[1]))]
			if t == nil {
				return "[]", nil
			}
			return constraintsJSON(t.constraints), nil
		}},
		{"pgraft_indexes", 2, 2, true, func(a []any) (any, error) {
			m := models.get(asString(orEmpty(a[0])))
			return indexesJSON(m, asString(orEmpty(a[1]))), nil
		}},
	}
}

// constraintsJSON lists constraints for json_each in the pg_constraint view.
// pgraft's own range checks (translate.RangeCheckPrefix) enforce a column's
// integer width, which PostgreSQL's types do themselves: no catalog shows
// them.
func constraintsJSON(cs []constraintDef) string {
	out := make([]map[string]any, 0, len(cs))
	for _, c := range cs {
		if c.kind == 'c' && strings.HasPrefix(c.name, translate.RangeCheckPrefix) {
			continue
		}
		out = append(out, map[string]any{
			"oid": c.oid, "name": c.name, "type": string(c.kind), "conkey": intArray(c.attnums),
			"confkey": nullableArray(c.refAttnums, c.kind == 'f'), "confrelid": c.refOID,
			"conindid": c.indexOID, "deferrable": boolInt(c.deferrable), "deferred": boolInt(c.deferred),
			"upd": fkCode(c, c.onUpdate), "del": fkCode(c, c.onDelete), "def": c.def(false),
			"defp": c.def(true), "bin": nullIfEmpty(c.expr), "reftable": nullIfEmpty(c.refTable),
			"cols": c.cols, "refcols": c.refCols, "usecols": usedColumns(c),
		})
	}
	b, _ := json.Marshal(out)
	return string(b)
}

// usedColumns are the columns information_schema.constraint_column_usage
// lists: the referenced ones for a foreign key, those mentioned by a CHECK.
func usedColumns(c constraintDef) []string {
	switch c.kind {
	case 'f':
		return c.refCols
	case 'c':
		return c.useCols
	}
	return c.cols
}

func fkCode(c constraintDef, action string) string {
	if c.kind != 'f' {
		return " "
	}
	return fkActionCode(action)
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func intArray(n []int) string {
	s := make([]string, len(n))
	for i, v := range n {
		s[i] = strconv.Itoa(v)
	}
	return "{" + strings.Join(s, ",") + "}"
}

func nullableArray(n []int, present bool) any {
	if !present {
		return nil
	}
	return intArray(n)
}

// indexesJSON lists a table's indexes for json_each in the catalog views.
func indexesJSON(m *schemaModel, table string) string {
	var out []map[string]any
	for _, d := range m.indexes {
		if d.table != table {
			continue
		}
		keys := make([]string, len(d.cols))
		opts := make([]string, len(d.cols))
		for i, c := range d.cols {
			keys[i], opts[i] = strconv.Itoa(c.attnum), "0"
			if c.desc {
				opts[i] = "3" // INDOPTION_DESC | INDOPTION_NULLS_FIRST
			}
		}
		out = append(out, map[string]any{
			"oid": d.oid, "name": d.name, "unique": boolInt(d.unique), "primary": boolInt(d.primary),
			"natts": len(d.cols), "indkey": strings.Join(keys, " "), "indoption": strings.Join(opts, " "),
			"def": d.def(false, 0), "defp": d.def(true, 0), "con": string(rune(max(d.constraint, ' '))),
			"pred": nullIfEmpty(d.where),
		})
	}
	if out == nil {
		return "[]"
	}
	b, _ := json.Marshal(out)
	return string(b)
}

// indexDef, constraintDef and viewDef look objects up by OID for the
// pg_get_* functions; all are nil-safe.
func (s *SchemaSnapshot) indexDef(oid uint32) *indexDef {
	if s == nil {
		return nil
	}
	return s.indexes[oid]
}

func (s *SchemaSnapshot) constraintDef(oid uint32) *constraintDef {
	if s == nil {
		return nil
	}
	return s.constraints[oid]
}

func (s *SchemaSnapshot) viewDef(oid uint32) any {
	if s == nil || s.viewSQL[oid] == "" {
		return nil
	}
	return s.viewSQL[oid]
}

// sizePretty is pg_size_pretty(bigint).
func sizePretty(n int64) string {
	units := []string{"bytes", "kB", "MB", "GB", "TB", "PB"}
	v, abs := n, n
	if abs < 0 {
		abs = -abs
	}
	i := 0
	for abs >= 10*1024 && i < len(units)-1 {
		// PostgreSQL rounds half up at each step after the first.
		v = (v + sign64(v)*512) / 1024
		abs = v
		if abs < 0 {
			abs = -abs
		}
		i++
	}
	return fmt.Sprintf("%d %s", v, units[i])
}

func sign64(n int64) int64 {
	if n < 0 {
		return -1
	}
	return 1
}

// formatType is format_type(oid, typmod): PostgreSQL's spelling with the
// modifier; typmod nil is SQL NULL (no modifier known).
func formatType(oid uint32, typmod *int64) string {
	if oid == 0 {
		return "-"
	}
	t := translate.TypeByOID(oid)
	if t == nil {
		return "???"
	}
	mod := int64(-1)
	if typmod != nil {
		mod = *typmod
	}
	switch oid {
	case pgvalue.OIDBPChar:
		if mod >= 4 {
			return fmt.Sprintf("character(%d)", mod-4)
		}
		if typmod != nil {
			return "bpchar" // an explicit -1: PostgreSQL prints the internal name
		}
		return "character"
	case pgvalue.OIDVarchar:
		if mod >= 4 {
			return fmt.Sprintf("character varying(%d)", mod-4)
		}
	case pgvalue.OIDNumeric:
		if mod >= 4 {
			return fmt.Sprintf("numeric(%d,%d)", (mod-4)>>16&0xffff, (mod-4)&0xffff)
		}
	case pgvalue.OIDTimestamp, pgvalue.OIDTimestamptz, pgvalue.OIDTime, pgvalue.OIDTimetz:
		if mod >= 0 {
			base, zone, _ := strings.Cut(t.SQLName, " with")
			if zone == "" {
				base, zone, _ = strings.Cut(t.SQLName, " without")
				return fmt.Sprintf("%s(%d) without%s", base, mod, zone)
			}
			return fmt.Sprintf("%s(%d) with%s", base, mod, zone)
		}
	case pgvalue.OIDInterval:
		if mod >= 0 && mod&0xffff != 0xffff {
			return fmt.Sprintf("interval(%d)", mod&0xffff)
		}
	}
	return t.SQLName
}
