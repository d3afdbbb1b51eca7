package translate

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/pgraft/pgraft/pgvalue"
	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// Storage parameters (CREATE TABLE … WITH (fillfactor=100), CREATE INDEX …
// WITH (…), PRIMARY KEY … WITH (…)). They tune PostgreSQL's heap, vacuum
// and btree pages, which SQLite does not have: pgraft checks them as
// PostgreSQL 15 does (reloptions.c: known names, value types and bounds,
// 22023 otherwise) and then ignores them.

// relOption is one known parameter: its kind ('i' integer, 'r' real, 'b'
// boolean, 'e' one of enum) and bounds.
type relOption struct {
	kind   byte
	lo, hi float64
	enum   []string
}

func intOpt(lo, hi float64) relOption  { return relOption{kind: 'i', lo: lo, hi: hi} }
func realOpt(lo, hi float64) relOption { return relOption{kind: 'r', lo: lo, hi: hi} }

var boolOpt = relOption{kind: 'b'}

// vacuumParams are the autovacuum parameters a table and its TOAST table
// (the toast. namespace) both take.
var vacuumParams = map[string]relOption{
	"autovacuum_enabled": boolOpt, "vacuum_truncate": boolOpt,
	"vacuum_index_cleanup":                  {kind: 'e', enum: []string{"auto", "on", "off", "true", "false", "yes", "no", "1", "0"}},
	"autovacuum_vacuum_threshold":           intOpt(0, math.MaxInt32),
	"autovacuum_vacuum_insert_threshold":    intOpt(-1, math.MaxInt32),
	"autovacuum_analyze_threshold":          intOpt(0, math.MaxInt32),
	"autovacuum_vacuum_cost_limit":          intOpt(1, 10000),
	"autovacuum_freeze_min_age":             intOpt(0, 1000000000),
	"autovacuum_freeze_max_age":             intOpt(100000, 2000000000),
	"autovacuum_freeze_table_age":           intOpt(0, 2000000000),
	"autovacuum_multixact_freeze_min_age":   intOpt(0, 1000000000),
	"autovacuum_multixact_freeze_max_age":   intOpt(10000, 2000000000),
	"autovacuum_multixact_freeze_table_age": intOpt(0, 2000000000),
	"log_autovacuum_min_duration":           intOpt(-1, math.MaxInt32),
	"autovacuum_vacuum_cost_delay":          realOpt(0, 100),
	"autovacuum_vacuum_scale_factor":        realOpt(0, 100),
	"autovacuum_vacuum_insert_scale_factor": realOpt(0, 100),
	"autovacuum_analyze_scale_factor":       realOpt(0, 100),
}

// tableParams are the heap's own parameters, besides vacuumParams.
var tableParams = map[string]relOption{
	"fillfactor": intOpt(10, 100), "toast_tuple_target": intOpt(128, 8160),
	"parallel_workers": intOpt(0, 1024), "user_catalog_table": boolOpt,
}

// btreeParams are a btree index's.
var btreeParams = map[string]relOption{"fillfactor": intOpt(10, 100), "deduplicate_items": boolOpt}

// tableStorageParams checks CREATE TABLE's WITH list (and ALTER TABLE's
// SET (…); reset: RESET (…), names only).
func (t *translator) tableStorageParams(opts []*pg.Node, reset ...bool) {
	r := len(reset) > 0 && reset[0]
	for _, n := range opts {
		d := n.GetDefElem()
		if d == nil {
			continue
		}
		name := strings.ToLower(d.Defname)
		switch strings.ToLower(d.Defnamespace) {
		case "":
			if name == "oids" && !r {
				if v, _ := defText(d); pgvalueBool(v) {
					t.unsupported("tables declared WITH OIDS")
				}
				continue
			}
			if o, ok := vacuumParams[name]; ok {
				t.checkRelOption(name, o, d, r)
				continue
			}
			t.checkRelOption(name, tableParams[name], d, r)
		case "toast":
			t.checkRelOption(name, vacuumParams[name], d, r)
		default:
			t.fail(pgerror.New(pgerror.InvalidParameterValue, "unrecognized parameter namespace \"%s\"", d.Defnamespace))
		}
	}
}

// indexStorageParams checks a btree index's WITH list (and ALTER INDEX's
// SET (…); reset: RESET (…), names only).
func (t *translator) indexStorageParams(opts []*pg.Node, reset ...bool) {
	r := len(reset) > 0 && reset[0]
	for _, n := range opts {
		d := n.GetDefElem()
		if d == nil {
			continue
		}
		if d.Defnamespace != "" {
			t.fail(pgerror.New(pgerror.InvalidParameterValue, "unrecognized parameter namespace \"%s\"", d.Defnamespace))
		}
		name := strings.ToLower(d.Defname)
		t.checkRelOption(name, btreeParams[name], d, r)
	}
}

func pgvalueBool(s string) bool {
	b, ok := pgvalue.ParseBool(s)
	return ok && b
}

// checkRelOption checks one parameter's value (only its name when
// nameOnly: RESET); o.kind 0 is an unknown name.
func (t *translator) checkRelOption(name string, o relOption, d *pg.DefElem, nameOnly bool) {
	if o.kind == 0 {
		t.fail(pgerror.New(pgerror.InvalidParameterValue, "unrecognized parameter \"%s\"", name))
	}
	if nameOnly {
		return
	}
	v, given := defText(d)
	if !given {
		v = "true" // WITH (fillfactor) means fillfactor=true, as in PostgreSQL
	}
	bad := func(kind string) {
		t.fail(pgerror.New(pgerror.InvalidParameterValue, "invalid value for %s option \"%s\": %s", kind, name, v))
	}
	switch o.kind {
	case 0:
		t.fail(pgerror.New(pgerror.InvalidParameterValue, "unrecognized parameter \"%s\"", name))
	case 'b':
		if _, ok := pgvalue.ParseBool(v); !ok {
			bad("boolean")
		}
	case 'e':
		for _, e := range o.enum {
			if strings.EqualFold(strings.TrimSpace(v), e) {
				return
			}
		}
		bad("enum")
	case 'i':
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 32)
		if err != nil {
			bad("integer")
		}
		if float64(n) < o.lo || float64(n) > o.hi {
			t.fail(pgerror.New(pgerror.InvalidParameterValue, "value %s out of bounds for option \"%s\"", v, name).
				WithDetail(fmt.Sprintf("Valid values are between \"%d\" and \"%d\".", int64(o.lo), int64(o.hi))))
		}
	case 'r':
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || math.IsNaN(f) {
			bad("floating point")
		}
		if f < o.lo || f > o.hi {
			t.fail(pgerror.New(pgerror.InvalidParameterValue, "value %s out of bounds for option \"%s\"", v, name).
				WithDetail(fmt.Sprintf("Valid values are between \"%f\" and \"%f\".", o.lo, o.hi)))
		}
	}
}

// defText is a DefElem's value as text, and whether it has one.
func defText(d *pg.DefElem) (string, bool) {
	if d.Arg == nil {
		return "", false
	}
	switch v := d.Arg.GetNode().(type) {
	case *pg.Node_Integer:
		return strconv.Itoa(int(v.Integer.Ival)), true
	case *pg.Node_Float:
		return v.Float.Fval, true
	case *pg.Node_String_:
		return v.String_.Sval, true
	case *pg.Node_Boolean:
		return strconv.FormatBool(v.Boolean.Boolval), true
	case *pg.Node_TypeName:
		return lastName(v.TypeName.Names), true
	case *pg.Node_AConst:
		if s, ok := constString(d.Arg); ok {
			return s, true
		}
		if i, ok := constInt(d.Arg); ok {
			return strconv.FormatInt(i, 10), true
		}
	}
	return "", true
}
