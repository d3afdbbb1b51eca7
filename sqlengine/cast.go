package sqlengine

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pgraft/pgraft/pgvalue"
	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// pgCast implements the SQL function pg_cast(x, srctyp, dsttyp, typmod) that
// translation emits for x::T and CAST(x AS T). It converts x to the storage
// form (translate/types.go) of dsttyp with PostgreSQL's input rules and errors.
//
// srctyp is the operand's typname when translation knows it ("" otherwise):
// it decides what PostgreSQL would do where the SQLite value alone cannot
// tell, e.g. a bool stored as 1 cast to text is "true", a float8 cast to an
// integer rounds half to even (rint) while a numeric rounds half away from
// zero. Time-dependent inputs ('now', 'today') are refused: the function is
// registered as deterministic and runs in replicated writes.
func pgCast(x any, srctyp, dsttyp string, typmod int64) (any, error) {
	if x == nil {
		return nil, nil
	}
	if srctyp == "timetz" && (dsttyp == "time" || dsttyp == "text" || dsttyp == "varchar") {
		return castFromTimetz(x, dsttyp) // functions_timetz.go
	}
	switch dsttyp {
	case "timetz":
		return castTimetzFixed(x)
	case "int2", "int4", "int8":
		return castInt(x, srctyp, dsttyp)
	case "float4", "float8":
		return castFloat(x, dsttyp)
	case "numeric":
		return castNumeric(x, srctyp, typmod)
	case "bool":
		return castBool(x)
	case "text", "varchar", "bpchar", "name", "char":
		return castText(x, srctyp, dsttyp, typmod)
	case "bytea":
		return castBytea(x)
	case "date", "timestamp", "timestamptz", "time":
		return castDatetime(x, srctyp, dsttyp, typmod)
	case "uuid":
		return castUUID(x)
	case "json":
		return castJSON(x)
	case "jsonb":
		return castJSONB(x)
	case "oid", "regproc", "regclass", "regtype":
		return castInt(x, srctyp, "oid")
	case "interval":
		return castInterval(x)
	}
	return x, nil
}

// intTypeName is the SQL name PostgreSQL uses in integer input errors.
var intTypeName = map[string]string{"int2": "smallint", "int4": "integer", "int8": "bigint", "oid": "oid"}

// intRange returns the bounds of an integer type.
func intRange(typ string) (int64, int64) {
	switch typ {
	case "int2":
		return math.MinInt16, math.MaxInt16
	case "int4":
		return math.MinInt32, math.MaxInt32
	case "oid":
		return 0, math.MaxUint32
	}
	return math.MinInt64, math.MaxInt64
}

func intOutOfRange(typ string) error {
	if typ == "oid" {
		return funcError(pgerror.NumericValueOutOfRange, "OID out of range")
	}
	return funcError(pgerror.NumericValueOutOfRange, intTypeName[typ]+" out of range")
}

func castInt(x any, srctyp, typ string) (any, error) {
	lo, hi := intRange(typ)
	switch v := x.(type) {
	case int64:
		if v < lo || v > hi {
			return nil, intOutOfRange(typ)
		}
		return v, nil
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, intOutOfRange(typ)
		}
		var r float64
		if srctyp == "float4" || srctyp == "float8" {
			r = math.RoundToEven(v) // float8 -> int uses rint()
		} else {
			r = math.Round(v) // numeric rounds half away from zero
		}
		if r < float64(lo) || r >= float64(hi)+1 || r >= 9.223372036854775807e18 {
			return nil, intOutOfRange(typ)
		}
		return int64(r), nil
	case []byte:
		return parseIntText(string(v), typ)
	case string:
		return parseIntText(v, typ)
	}
	return x, nil
}

// parseIntText is PostgreSQL's int2in/int4in/int8in: surrounding whitespace
// allowed, an optional sign, decimal digits only.
func parseIntText(s, typ string) (any, error) {
	t := strings.TrimSpace(s)
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return nil, funcError(pgerror.NumericValueOutOfRange,
				fmt.Sprintf("value %q is out of range for type %s", s, intTypeName[typ]))
		}
		return nil, funcError(pgerror.InvalidTextRepresentation,
			fmt.Sprintf("invalid input syntax for type %s: %q", intTypeName[typ], s))
	}
	if lo, hi := intRange(typ); n < lo || n > hi {
		return nil, funcError(pgerror.NumericValueOutOfRange,
			fmt.Sprintf("value %q is out of range for type %s", s, intTypeName[typ]))
	}
	return n, nil
}

func castFloat(x any, typ string) (any, error) {
	name := "double precision"
	if typ == "float4" {
		name = "real"
	}
	var f float64
	switch v := x.(type) {
	case int64:
		f = float64(v)
	case float64:
		f = v
	case []byte, string:
		s := asString(v)
		p, ok := parseFloatText(s)
		if !ok {
			return nil, funcError(pgerror.InvalidTextRepresentation,
				fmt.Sprintf("invalid input syntax for type %s: %q", name, s))
		}
		if typ == "float4" && !math.IsInf(p, 0) && math.Abs(p) > math.MaxFloat32 {
			return nil, funcError(pgerror.NumericValueOutOfRange, fmt.Sprintf("%q is out of range for type real", s))
		}
		f = p
	default:
		return x, nil
	}
	if typ == "float4" {
		f = float64(float32(f))
	}
	if math.IsNaN(f) {
		return "NaN", nil // SQLite turns a NaN REAL into NULL
	}
	return f, nil
}

// parseFloatText accepts what float8in accepts: decimal and exponent forms,
// NaN and [+-]Infinity/inf in any case, surrounding whitespace.
func parseFloatText(s string) (float64, bool) {
	t := strings.ToLower(strings.TrimSpace(s))
	switch strings.TrimLeft(t, "+-") {
	case "nan":
		return math.NaN(), t == "nan"
	case "infinity", "inf":
		if strings.HasPrefix(t, "-") {
			return math.Inf(-1), true
		}
		return math.Inf(1), true
	}
	if t == "" || strings.ContainsAny(t, "_xpn") {
		return 0, false
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return f, true
		}
		return 0, false
	}
	return f, true
}

// castNumeric is numeric_in (or float8_numeric) followed by apply_typmod.
// The storage form is an INTEGER or a REAL (pgvalue.NumericValue), so a
// value that neither fits int64 nor survives the round trip through a REAL
// is refused with 0A000 rather than silently rounded.
func castNumeric(x any, srctyp string, typmod int64) (any, error) {
	var r *big.Rat
	switch v := x.(type) {
	case int64:
		r = new(big.Rat).SetInt64(v)
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return "NaN", nil
		}
		// float8_numeric and float4_numeric print DBL_DIG / FLT_DIG digits:
		// (0.1::float8 + 0.2)::numeric is 0.3, not 0.30000000000000004.
		digits := pgvalue.NumericDigits
		if srctyp == "float4" {
			digits = 6
		}
		r, _ = new(big.Rat).SetString(strconv.FormatFloat(v, 'g', digits, 64))
	case []byte, string:
		s := strings.TrimSpace(asString(v))
		if strings.EqualFold(s, "nan") {
			return "NaN", nil
		}
		var ok bool
		r, ok = pgvalue.ParseNumeric(s)
		if !ok {
			return nil, funcError(pgerror.InvalidTextRepresentation,
				fmt.Sprintf("invalid input syntax for type numeric: %q", asString(v)))
		}
	default:
		return x, nil
	}
	if typmod >= 4 {
		var err error
		if r, err = pgvalue.NumericTypmod(r, typmod); err != nil {
			return nil, asFuncError(err)
		}
	}
	v, err := pgvalue.NumericValue(r)
	return v, asFuncError(err)
}

// castBool is boolin (pgvalue.ParseBool) for text, and zero or not for
// numbers.
func castBool(x any) (any, error) {
	switch v := x.(type) {
	case int64:
		return boolInt(v != 0), nil
	case float64:
		return boolInt(v != 0), nil
	}
	s := asString(x)
	if b, ok := pgvalue.ParseBool(s); ok {
		return boolInt(b), nil
	}
	return nil, asFuncError(pgvalue.InvalidInput("boolean", s))
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func asString(x any) string {
	switch v := x.(type) {
	case string:
		return v
	case []byte:
		return string(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return pgvalue.FormatFloat8(v)
	}
	return fmt.Sprint(x)
}

func castText(x any, srctyp, dsttyp string, typmod int64) (any, error) {
	var s string
	switch v := x.(type) {
	case int64:
		if srctyp == "bool" {
			s = map[bool]string{true: "true", false: "false"}[v != 0]
		} else {
			s = strconv.FormatInt(v, 10)
		}
	case float64:
		switch srctyp {
		case "numeric":
			s = string(pgvalue.AppendNumericFloat(nil, v)) // numeric_out: never an exponent
		case "float4":
			s = string(pgvalue.AppendFloat4(nil, float32(v))) // float4out: its own shortest digits
		default:
			s = pgvalue.FormatFloat8(v)
		}
	case []byte:
		if srctyp == "bytea" || !utf8.Valid(v) {
			s = string(pgvalue.AppendByteaHex(nil, v))
		} else {
			s = string(v)
		}
	case string:
		s = v
		if inf, ok := storedInfinity(v); ok && isDatetimeType(srctyp) {
			s = inf.String()
		} else if srctyp == "timestamptz" {
			s += "+00" // storage is UTC; session time zones are not applied here
		}
	default:
		return x, nil
	}
	n := int(typmod - 4)
	switch {
	case dsttyp == "varchar" && typmod >= 5 && utf8.RuneCountInString(s) > n:
		s = string([]rune(s)[:n])
	case dsttyp == "bpchar" && typmod >= 5:
		if c := utf8.RuneCountInString(s); c > n {
			s = string([]rune(s)[:n])
		} else if err := checkSize(int64(len(s)) + int64(n-c)); err != nil {
			return nil, err // char(n) pads with n-c spaces
		} else {
			s += strings.Repeat(" ", n-c)
		}
	case dsttyp == "char" && s != "":
		s = s[:1]
	}
	return s, nil
}

// castBytea is byteain (pgvalue.ParseBytea) for text; a number's text
// becomes its bytes.
func castBytea(x any) (any, error) {
	switch v := x.(type) {
	case []byte:
		return v, nil
	case int64, float64:
		return []byte(asString(v)), nil
	}
	b, err := pgvalue.ParseBytea(asString(x))
	if err != nil {
		return nil, asFuncError(err)
	}
	return b, nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// castUUID is uuid_in: optional braces, hex digits with a dash allowed after
// any group of four; output lower-case canonical.
func castUUID(x any) (any, error) {
	s := asString(x)
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, "{") && strings.HasSuffix(t, "}") {
		t = t[1 : len(t)-1]
	}
	var digits []byte
	for i := 0; i < len(t); i++ {
		c := t[i]
		if c == '-' && len(digits) > 0 && len(digits)%4 == 0 && i+1 < len(t) && t[i+1] != '-' {
			continue
		}
		if _, ok := unhex(c); !ok {
			digits = nil
			break
		}
		digits = append(digits, c|0x20)
	}
	if len(digits) != 32 {
		return nil, funcError(pgerror.InvalidTextRepresentation, fmt.Sprintf("invalid input syntax for type uuid: %q", s))
	}
	d := string(digits)
	return d[0:8] + "-" + d[8:12] + "-" + d[12:16] + "-" + d[16:20] + "-" + d[20:], nil
}
