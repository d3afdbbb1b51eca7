package translate

import (
	"slices"
	"strconv"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/pgraft/pgraft/pgvalue"
	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// sequence_serial.go: the sequences of serial and identity columns — made
// with their table, named as PostgreSQL names them, and the rowid key whose
// value a serial sequence gives. The other sequence statements and
// functions are in sequence.go.

// serialColumn makes the sequence of a serial or identity column, as
// PostgreSQL does: named <table>_<column>_seq (with a number added if that
// is taken), of the column's type, owned by the column. The column gets
// DEFAULT nextval of it. nil for another column.
func (t *translator) serialColumn(cd *pg.ColumnDef, def *tableDef) *SequenceSpec {
	var ident *pg.Constraint
	hasDefault := false
	for _, n := range cd.Constraints {
		switch c := n.GetConstraint(); c.GetContype() {
		case pg.ConstrType_CONSTR_IDENTITY:
			ident = c
		case pg.ConstrType_CONSTR_DEFAULT:
			hasDefault = true
		}
	}
	serial := isSerial(cd.TypeName)
	if !serial && ident == nil {
		return nil
	}
	if hasDefault {
		t.fail(pgerror.New(pgerror.SyntaxError, "multiple default values specified for column \"%s\" of table \"%s\"", cd.Colname, def.name))
	}
	typ, _ := t.lookupType(cd.TypeName)
	if len(cd.TypeName.ArrayBounds) > 0 || typ.OID != pgvalue.OIDInt2 && typ.OID != pgvalue.OIDInt4 && typ.OID != pgvalue.OIDInt8 {
		t.fail(pgerror.New(pgerror.InvalidParameterValue, "identity column type must be smallint, integer, or bigint"))
	}
	spec := &SequenceSpec{Op: "create", Name: t.serialSequenceName(def, cd.Colname), TypeOID: typ.OID,
		OwnedBy: &[]string{def.name, cd.Colname}}
	if ident != nil {
		spec.Identity = "d"
		if ident.GeneratedWhen == "a" {
			spec.Identity = "a"
		}
		t.seqOptions(ident.Options, spec, false)
	}
	def.seqs = append(def.seqs, spec)
	return spec
}

// serialSequenceName is PostgreSQL's name for a column's sequence:
// table_column_seq, cut to 63 bytes, with a number appended while the name
// is taken.
func (t *translator) serialSequenceName(def *tableDef, col string) string {
	base := def.name + "_" + col
	for i := 0; ; i++ {
		suffix := "_seq"
		if i > 0 {
			suffix += strconv.Itoa(i)
		}
		name := base
		if len(name)+len(suffix) > 63 {
			name = name[:63-len(suffix)]
		}
		name += suffix
		taken := t.sequence(name) || t.table(name) != nil
		for _, s := range def.seqs {
			taken = taken || s.Name == name
		}
		if !taken {
			return name
		}
	}
}

// serialRowidValue gives an INSERT that leaves a serial INTEGER PRIMARY
// KEY out the column's nextval explicitly: SQLite assigns a rowid alias
// itself when it is omitted, whatever its DEFAULT says. The source's rows
// get the value as an extra column, in their order.
func (t *translator) serialRowidValue(ti *TableInfo, cols []string, body string, conflict bool) ([]string, string) {
	col, seq := serialRowid(ti)
	if col == "" || slices.Contains(cols, col) {
		return cols, body
	}
	next := NextvalFunc + "(" + t.quoteString(seq) + ")"
	if body == " DEFAULT VALUES" {
		return []string{col}, " VALUES (" + next + ")"
	}
	if len(cols) == 0 {
		t.unsupported("INSERT without a column list into a table whose serial key it leaves out")
	}
	body = " SELECT *, " + next + " FROM (" + strings.TrimPrefix(body, " ") + ")"
	if conflict {
		body += " WHERE true" // SQLite's parser needs it before ON CONFLICT
	}
	return append(cols, col), body
}

// serialRowid is a table's INTEGER PRIMARY KEY whose default is nextval of
// a sequence (a serial or identity key), and that sequence; "" if none.
// Tables of older builds keep AUTOINCREMENT (Serial) and need nothing.
func serialRowid(ti *TableInfo) (col, seq string) {
	if ti == nil {
		return "", ""
	}
	for _, c := range ti.Columns {
		if !c.Rowid || c.Serial {
			continue
		}
		d, ok := strings.CutPrefix(c.Default, "nextval('")
		if !ok {
			return "", ""
		}
		lit, ok := strings.CutSuffix(d, "'::regclass)")
		if !ok {
			return "", ""
		}
		if name, ok := RegclassName(strings.ReplaceAll(lit, "''", "'")); ok {
			return c.Name, name
		}
	}
	return "", ""
}
