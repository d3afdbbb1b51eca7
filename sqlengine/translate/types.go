package translate

import (
	"slices"
	"strings"

	"github.com/pgraft/pgraft/pgvalue"
)

// PGType is a PostgreSQL type pgraft maps onto SQLite.
type PGType struct {
	Name     string // pg_type.typname, e.g. "int8", "timestamptz"
	SQLName  string // format_type() spelling, e.g. "bigint", "timestamp with time zone"
	OID      uint32
	Len      int16  // pg_type.typlen
	Decl     string // declared type written into SQLite's schema; its affinity is the storage rule
	ArrayOID uint32 // pg_type.typarray, 0 if none
	Category byte   // pg_type.typcategory: 'N' numeric, 'S' string, 'B' bool, 'D' datetime, 'U' user, 'A' array
}

// Storage conventions in SQLite, relied on by translation, execution and the
// catalog alike:
//   - bool: INTEGER 0/1;
//   - date: TEXT 'YYYY-MM-DD';
//   - timestamp: TEXT 'YYYY-MM-DD HH:MM:SS[.ffffff]' (trailing zeros of the
//     fraction trimmed), which SQLite's date functions read;
//   - timestamptz: the same text, in UTC, without an offset;
//   - timetz: its UTC time and offset as fixed-width digits, '|', and its
//     text ('093600000000050400|10:00:00+02'), so that the BINARY order
//     is PostgreSQL's (sqlengine/functions_timetz.go);
//   - infinity and -infinity of date, timestamp and timestamptz: '9999-12-31 23:59:59.9999999'
//     and '0000-01-01', which sort after and before every finite value
//     (sqlengine/functions_infinity.go);
//   - uuid: TEXT, lower-case canonical form;
//   - bytea: BLOB; json/jsonb: TEXT;
//   - numeric: canonical decimal TEXT ('190.10', numeric_out's text),
//     declared NUMERIC_TEXT COLLATE pg_numeric (emit_numeric.go); a column
//     declared NUMERIC by an older pgraft holds INTEGER or REAL values;
//   - an integer PRIMARY KEY column is declared "INTEGER" so that it is the
//     rowid alias, with its PostgreSQL type kept in a comment (see RowidMarker).
var pgTypes = []PGType{
	{"bool", "boolean", pgvalue.OIDBool, 1, "BOOLEAN", 1000, 'B'},
	{"bytea", "bytea", pgvalue.OIDBytea, -1, "BYTEA_BLOB", 1001, 'U'},
	{"char", "\"char\"", pgvalue.OIDChar, 1, "CHAR1_TEXT", 1002, 'S'},
	{"name", "name", pgvalue.OIDName, 64, "NAME_TEXT", pgvalue.OIDNameArray, 'S'},
	{"int8", "bigint", pgvalue.OIDInt8, 8, "INT8", pgvalue.OIDInt8Array, 'N'},
	{"int2", "smallint", pgvalue.OIDInt2, 2, "INT2", pgvalue.OIDInt2Array, 'N'},
	{"int4", "integer", pgvalue.OIDInt4, 4, "INT4", pgvalue.OIDInt4Array, 'N'},
	{"regproc", "regproc", pgvalue.OIDRegproc, 4, "REGPROC_INT", 1008, 'N'},
	{"text", "text", pgvalue.OIDText, -1, "TEXT", pgvalue.OIDTextArray, 'S'},
	{"oid", "oid", pgvalue.OIDOid, 4, "OID_INT", pgvalue.OIDOidArray, 'N'},
	{"json", "json", pgvalue.OIDJSON, -1, "JSON_TEXT", 199, 'U'},
	{"float4", "real", pgvalue.OIDFloat4, 4, "FLOAT4", 1021, 'N'},
	{"float8", "double precision", pgvalue.OIDFloat8, 8, "FLOAT8", 1022, 'N'},
	{"unknown", "unknown", pgvalue.OIDUnknown, -2, "UNKNOWN_TEXT", 0, 'X'},
	{"bpchar", "character", pgvalue.OIDBPChar, -1, "BPCHAR", 1014, 'S'},
	{"varchar", "character varying", pgvalue.OIDVarchar, -1, "VARCHAR", 1015, 'S'},
	{"date", "date", pgvalue.OIDDate, 4, "DATE", 1182, 'D'},
	{"time", "time without time zone", pgvalue.OIDTime, 8, "TIME", 1183, 'D'},
	{"timestamp", "timestamp without time zone", pgvalue.OIDTimestamp, 8, "TIMESTAMP", 1115, 'D'},
	{"timestamptz", "timestamp with time zone", pgvalue.OIDTimestamptz, 8, "TIMESTAMPTZ", 1185, 'D'},
	{"interval", "interval", pgvalue.OIDInterval, 16, "INTERVAL", 1187, 'T'},
	{"timetz", "time with time zone", pgvalue.OIDTimetz, 12, "TIMETZ", 1270, 'D'},
	{"numeric", "numeric", pgvalue.OIDNumeric, -1, numericDecl, 1231, 'N'},
	{"regclass", "regclass", pgvalue.OIDRegclass, 4, "REGCLASS_INT", 2210, 'N'},
	{"regtype", "regtype", pgvalue.OIDRegtype, 4, "REGTYPE_INT", 2211, 'N'},
	{"uuid", "uuid", pgvalue.OIDUUID, 16, "UUID", 2951, 'U'},
	{"jsonb", "jsonb", pgvalue.OIDJSONB, -1, "JSONB_TEXT", 3807, 'U'},
	{"_int2", "smallint[]", pgvalue.OIDInt2Array, -1, "", 0, 'A'},
	{"_int4", "integer[]", pgvalue.OIDInt4Array, -1, "", 0, 'A'},
	{"_int8", "bigint[]", pgvalue.OIDInt8Array, -1, "", 0, 'A'},
	{"_text", "text[]", pgvalue.OIDTextArray, -1, "", 0, 'A'},
	{"_oid", "oid[]", pgvalue.OIDOidArray, -1, "", 0, 'A'},
	{"_name", "name[]", pgvalue.OIDNameArray, -1, "", 0, 'A'},
}

// Types returns every type pgraft knows, in the table's order: the catalog's
// pg_type and information_schema views list them.
func Types() []PGType { return slices.Clone(pgTypes) }

// Read-only indexes of pgTypes.
var typesByOID, typesByName, typesByDecl = indexTypes()

func indexTypes() (map[uint32]*PGType, map[string]*PGType, map[string]*PGType) {
	byOID, byName, byDecl := map[uint32]*PGType{}, map[string]*PGType{}, map[string]*PGType{}
	for i := range pgTypes {
		t := &pgTypes[i]
		byOID[t.OID] = t
		byName[t.Name] = t
		if t.Decl != "" {
			byDecl[t.Decl] = t
		}
	}
	return byOID, byName, byDecl
}

// typeAliases maps SQL spellings and pg_query's internal names to typnames.
var typeAliases = map[string]string{
	"boolean": "bool", "integer": "int4", "int": "int4", "bigint": "int8",
	"smallint": "int2", "real": "float4", "float": "float8", "double precision": "float8",
	"double": "float8", "decimal": "numeric", "character varying": "varchar",
	"character": "bpchar", "char": "bpchar", "timestamp without time zone": "timestamp",
	"timestamp with time zone": "timestamptz", "time without time zone": "time", "time with time zone": "timetz",
	"string": "text", "blob": "bytea",
}

// TypeByOID returns the type with that OID, or nil.
func TypeByOID(oid uint32) *PGType { return typesByOID[oid] }

// TypeByName returns the type for a PostgreSQL type name (typname or SQL
// spelling, any case, without modifiers), or nil. Serial types map to their
// integer type: the caller handles their default.
func TypeByName(name string) *PGType {
	n := strings.ToLower(strings.TrimSpace(name))
	n = strings.TrimPrefix(n, "pg_catalog.")
	switch n {
	case "serial", "serial4":
		n = "int4"
	case "bigserial", "serial8":
		n = "int8"
	case "smallserial", "serial2":
		n = "int2"
	}
	if a, ok := typeAliases[n]; ok {
		n = a
	}
	return typesByName[n]
}

// RowidMarker is the comment written after the "INTEGER" declared type of a
// rowid-alias primary key, carrying its PostgreSQL typname: SQLite makes a
// column the rowid alias only when its declared type is exactly INTEGER, so
// the PostgreSQL type cannot live in the declared type there.
// Example: "id" INTEGER /*pg:int4*/ PRIMARY KEY AUTOINCREMENT
const RowidMarker = "/*pg:"

// TypeByDecl returns the PostgreSQL type for a SQLite declared type as
// written by pgraft (case-insensitive, modifiers such as "(20)" ignored).
// "INTEGER" (a rowid alias whose marker is not at hand) is int8; an empty or
// unknown declared type returns nil.
func TypeByDecl(decl string) *PGType {
	d := strings.ToUpper(strings.TrimSpace(decl))
	if i := strings.IndexByte(d, '('); i >= 0 {
		d = strings.TrimSpace(d[:i])
	}
	switch d {
	case "":
		return nil
	case "INTEGER", "INT", "BIGINT":
		return typesByOID[pgvalue.OIDInt8]
	case "REAL", "DOUBLE", "DOUBLE PRECISION", "FLOAT":
		return typesByOID[pgvalue.OIDFloat8]
	case "BLOB":
		return typesByOID[pgvalue.OIDBytea]
	case "BOOL":
		return typesByOID[pgvalue.OIDBool]
	case "NUMERIC", "DECIMAL": // a numeric column of an older pgraft (LegacyNumericDecl)
		return typesByOID[pgvalue.OIDNumeric]
	}
	return typesByDecl[d]
}

// LegacyNumericDecl reports a numeric column declared by a pgraft older
// than exact numeric: NUMERIC affinity, INTEGER and REAL values.
func LegacyNumericDecl(decl string) bool {
	d := strings.ToUpper(strings.TrimSpace(decl))
	return strings.HasPrefix(d, "NUMERIC") && !strings.HasPrefix(d, numericDecl) || strings.HasPrefix(d, "DECIMAL")
}
