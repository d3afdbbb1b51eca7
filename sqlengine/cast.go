package sqlengine

import (
	"encoding/hex"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// pgCast implements the SQL function pg_cast(x, srctyp, dsttyp, typmod) that
// translation emits for x::T and CAST(x AS T). It converts x to the storage
// form (types.go) of dsttyp with PostgreSQL's input rules and errors.
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
	switch dsttyp {
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
// The storage form is an INTEGER or a REAL (types.go), so a value that
// neither fits int64 nor survives the round trip through a REAL is refused
// with 0A000 rather than silently rounded.
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
		digits := maxNumericDigits
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
		r, ok = parseDecimal(s)
		if !ok {
			return nil, funcError(pgerror.InvalidTextRepresentation,
				fmt.Sprintf("invalid input syntax for type numeric: %q", asString(v)))
		}
	default:
		return x, nil
	}
	if typmod >= 4 {
		var err error
		if r, err = applyNumericTypmod(r, typmod); err != nil {
			return nil, err
		}
	}
	return numericStorage(r)
}

// maxNumericDigits is how many significant decimal digits a REAL keeps
// exactly through a decimal round trip (DBL_DIG).
const maxNumericDigits = 15

// numericStorage returns r's storage form: an int64 when r is one, else a
// float64 that prints back as exactly r; 0A000 when there is none.
func numericStorage(r *big.Rat) (any, error) {
	if r.IsInt() && r.Num().IsInt64() {
		return r.Num().Int64(), nil
	}
	f, exact := ratAsReal(r)
	if !exact {
		return nil, funcError(pgerror.FeatureNotSupported,
			"numeric values with more than 15 significant digits are not supported by pgraft")
	}
	return f, nil
}

// ratAsReal converts a terminating decimal r to float64 and reports whether
// the float, printed with 15 significant digits, is r again: true exactly
// when r has at most 15 significant digits and lies within the range of a
// normal float64.
//
// It also accepts r when it is exactly the shortest decimal of a float64
// (what drivers print for a double, e.g. 0.30000000000000004 or 5e-324):
// stored as that REAL, it reads back as the same digits.
func ratAsReal(r *big.Rat) (float64, bool) {
	f, _ := r.Float64()
	if math.IsInf(f, 0) {
		return f, false
	}
	if f == 0 || math.Abs(f) >= 0x1p-1022 {
		back, ok := new(big.Rat).SetString(strconv.FormatFloat(f, 'g', maxNumericDigits, 64))
		if ok && back.Cmp(r) == 0 {
			return f, true
		}
	}
	back, ok := new(big.Rat).SetString(strconv.FormatFloat(f, 'g', -1, 64))
	return f, ok && back.Cmp(r) == 0
}

// numericFits reports whether the numeric input text s (a bound parameter
// sent for a numeric column or cast) can be stored exactly: it is an int64,
// or a decimal with at most 15 significant digits within the range of a
// REAL. Stored as text under NUMERIC affinity, anything else is rounded
// silently, so the caller (ToStorage for OIDNumeric) should fail with 0A000
// when this returns false. No typmod is applied: a value that would fit
// only after rounding to a column's scale still reports false. Text that is
// not a numeric literal at all ("NaN", "abc") reports true: rejecting or
// storing it is the caller's parse's business, not a precision question.
func numericFits(s string) bool {
	r, ok := parseDecimal(strings.TrimSpace(s))
	if !ok {
		return true
	}
	_, err := numericStorage(r)
	return err == nil
}

// parseDecimal parses a numeric literal exactly (no hex, no fractions).
func parseDecimal(s string) (*big.Rat, bool) {
	if s == "" || strings.ContainsAny(s, "/xXpP_") || strings.EqualFold(strings.TrimLeft(s, "+-"), "inf") ||
		strings.EqualFold(strings.TrimLeft(s, "+-"), "infinity") {
		return nil, false
	}
	r, ok := new(big.Rat).SetString(s)
	return r, ok
}

// applyNumericTypmod rounds to the scale of numeric(p,s), half away from
// zero, and checks the precision like PostgreSQL's apply_typmod.
func applyNumericTypmod(r *big.Rat, typmod int64) (*big.Rat, error) {
	tm := typmod - 4
	prec, scale := int(tm>>16)&0xffff, int(tm&0xffff)
	rounded := roundRat(r, scale)
	limit := new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(prec-scale)), nil))
	if new(big.Rat).Abs(rounded).Cmp(limit) >= 0 {
		// PostgreSQL's DETAIL ("A field with precision p, scale s must round
		// to …") has no place in funcError; the message is the same.
		return nil, funcError(pgerror.NumericValueOutOfRange, "numeric field overflow")
	}
	return rounded, nil
}

// roundRat rounds r to scale decimal places, half away from zero.
func roundRat(r *big.Rat, scale int) *big.Rat {
	m := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)
	x := new(big.Rat).Mul(r, new(big.Rat).SetInt(m))
	num, den := new(big.Int).Abs(x.Num()), x.Denom()
	q, rem := new(big.Int).QuoRem(num, den, new(big.Int))
	if rem.Mul(rem, big.NewInt(2)).Cmp(den) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	if x.Sign() < 0 {
		q.Neg(q)
	}
	return new(big.Rat).SetFrac(q, m)
}

// castBool is boolin: a prefix of true/false/yes/no, on/off, 1/0.
func castBool(x any) (any, error) {
	switch v := x.(type) {
	case int64:
		return boolInt(v != 0), nil
	case float64:
		return boolInt(v != 0), nil
	}
	s := asString(x)
	t := strings.ToLower(strings.TrimSpace(s))
	if b, ok := parseBoolText(t); ok {
		return boolInt(b), nil
	}
	return nil, funcError(pgerror.InvalidTextRepresentation,
		fmt.Sprintf("invalid input syntax for type boolean: %q", s))
}

func parseBoolText(t string) (bool, bool) {
	if t == "" {
		return false, false
	}
	switch {
	case strings.HasPrefix("true", t), strings.HasPrefix("yes", t):
		return true, true
	case strings.HasPrefix("false", t), strings.HasPrefix("no", t):
		return false, true
	case t == "on", t == "1":
		return true, true
	case t == "of" || t == "off", t == "0":
		return false, true
	}
	return false, false
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
		return formatFloat8(v)
	}
	return fmt.Sprint(x)
}

// formatFloat8 is float8out with the default extra_float_digits (shortest
// round-trip), exponent form below 1e-4 and from 1e15 on, as PostgreSQL.
func formatFloat8(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		if math.Signbit(f) {
			return "-0"
		}
		return "0"
	}
	exp := int(math.Floor(math.Log10(math.Abs(f))))
	s := strconv.FormatFloat(f, 'e', -1, 64)
	// Log10 can be off by one near powers of ten: trust the formatted exponent.
	if i := strings.IndexByte(s, 'e'); i >= 0 {
		exp, _ = strconv.Atoi(s[i+1:])
	}
	if exp < -4 || exp >= 15 {
		mant, e, _ := strings.Cut(s, "e")
		sign := "+"
		if strings.HasPrefix(e, "-") {
			sign = "-"
		}
		digits := strings.TrimLeft(e, "+-")
		if len(digits) < 2 {
			digits = "0" + digits
		}
		return mant + "e" + sign + digits
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
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
		s = formatFloat8(v)
	case []byte:
		if srctyp == "bytea" || !utf8.Valid(v) {
			s = `\x` + hex.EncodeToString(v)
		} else {
			s = string(v)
		}
	case string:
		s = v
		if srctyp == "timestamptz" {
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

// castBytea is byteain: "\x" followed by hex pairs, or the escape format
// (\\ and \ooo octal), else the bytes as they are.
func castBytea(x any) (any, error) {
	switch v := x.(type) {
	case []byte:
		return v, nil
	case int64, float64:
		return []byte(asString(v)), nil
	}
	s := asString(x)
	if strings.HasPrefix(s, `\x`) {
		return decodeHexBytea(s[2:])
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			out = append(out, s[i])
			continue
		}
		switch {
		case i+1 < len(s) && s[i+1] == '\\':
			out = append(out, '\\')
			i++
		case i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) && s[i+1] <= '3':
			out = append(out, (s[i+1]-'0')<<6|(s[i+2]-'0')<<3|(s[i+3]-'0'))
			i += 3
		default:
			return nil, funcError(pgerror.InvalidTextRepresentation, "invalid input syntax for type bytea")
		}
	}
	return out, nil
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

func decodeHexBytea(h string) (any, error) {
	out := make([]byte, 0, len(h)/2)
	for i := 0; i < len(h); {
		c := h[i]
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			i++
			continue
		}
		hi, ok := unhex(c)
		if !ok {
			return nil, funcError(pgerror.InvalidTextRepresentation, fmt.Sprintf("invalid hexadecimal digit: %q", string(c)))
		}
		if i+1 >= len(h) {
			return nil, funcError(pgerror.InvalidTextRepresentation, "invalid hexadecimal data: odd number of digits")
		}
		lo, ok := unhex(h[i+1])
		if !ok {
			return nil, funcError(pgerror.InvalidTextRepresentation, fmt.Sprintf("invalid hexadecimal digit: %q", string(h[i+1])))
		}
		out = append(out, hi<<4|lo)
		i += 2
	}
	return out, nil
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
