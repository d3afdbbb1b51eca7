package sqlengine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// extremeValues are the arguments every registered function is called with:
// the storage types go-sqlite3 hands over (nil, int64, float64, string,
// []byte) at their edges, inputs of the wrong kind, huge counts and sizes,
// and the type names, units and operators that select a function's branch.
func extremeValues() []any {
	long := strings.Repeat("x", 1<<16)
	vals := []any{
		nil, int64(0), int64(1), int64(-1), int64(2), int64(5), int64(math.MaxInt64), int64(math.MinInt64),
		int64(4611686018427387904), int64(1 << 31), int64(-1 << 31), int64(1<<31 - 1),
		int64(maxValueSize + 1), int64(1 << 40),
		math.NaN(), math.Inf(1), math.Inf(-1), 1e308, -1e308, 0.5, -0.5, 1e-320, 4.611686018427388e18, 9.3e18, -9.3e18,
		"", "a", "ab", "é", "\x00", long, strings.Repeat("é", 1<<12), strings.Repeat("{", 1<<10),
		"{1,2,NULL}", "{", "{\"a", `{"a":1}`, "[1", `[[[[1]]]]`, strings.Repeat("[", 10000), "[1:2]={1,2}",
		"NaN", "Infinity", "-Infinity", "-1", "9223372036854775808", "-9223372036854775809", "1e400", "1e-400",
		"99999999999999999999999999999999999999999999999999.5", "1e1000000000", ".", "-",
		"2020-01-01", "2020-01-01 10:11:12.5", "infinity", "-infinity", "294277-01-01", "4714-11-24 BC",
		"5874897-12-31", "10000-01-01 00:00:00", "0001-01-01", "24:00:00", "99:99:99",
		"1 year", "-178000000 years", "178000000 years", "2147483647 days", "9223372036854775807 hours",
		"P999999999999Y", "999999999999999 hours", "1e308 seconds", "ago", "12:00", "-2562047788:00:54.775807",
		`\x`, `\xzz`, `\x0`, `\777`, `\\`, []byte{0xff, 0xfe}, []byte{},
		"int2", "int4", "int8", "float4", "float8", "numeric", "text", "varchar", "bpchar", "char", "bool",
		"bytea", "date", "timestamp", "timestamptz", "time", "uuid", "json", "jsonb", "oid", "interval",
		"year", "epoch", "dow", "millennium", "century", "microseconds", "week", "isoyear", "julian",
		"i", "(", "a{1000}{1000}", "(a*)*", `\`, "[[:<:]]", "+", "*", "/", ",", "pg_class",
	}
	return vals
}

// TestFunctionsNeverPanic calls every registered scalar function, the
// aggregate and pg_dt_arith with every combination of one or two extreme
// arguments and a random sample of longer ones. None may panic (a panic
// would unwind through SQLite's C frames, wrap's recover aside), and every
// error must carry a PostgreSQL SQLSTATE other than XX000.
func TestFunctionsNeverPanic(t *testing.T) {
	vals := extremeValues()
	rng := rand.New(rand.NewPCG(1, 2))
	var fns []sqlFunc
	fns = append(fns, castFuncs(newRegexCache(8))...)
	fns = append(fns, stringFuncs()...)
	fns = append(fns, mathFuncs()...)
	fns = append(fns, arrayFuncs()...)
	fns = append(fns, catalogFuncs(newCatalogState())...)
	fns = append(fns, checksumFuncs()...)
	fns = append(fns, srfFuncs(newRegexCache(8))...)
	fns = append(fns, jsonbFuncs()...)
	fns = append(fns, arrayOpFuncs(newRegexCache(8))...)
	// The set-returning functions and json operators by name, which a
	// random first argument would not hit.
	regex := newRegexCache(8)
	for _, name := range []string{"unnest", "generate_subscripts", "json_each", "jsonb_each_text", "json_array_elements",
		"jsonb_array_elements_text", "jsonb_object_keys", "regexp_split_to_table", "string_to_table", "generate_series",
		"regexp_matches"} {
		fns = append(fns, sqlFunc{"pg_srf " + name, 1, 3, true, func(a []any) (any, error) {
			rows, err := srfRows(regex, name, "tbf", a)
			if err != nil {
				return nil, err
			}
			return encodeRows(rows)
		}})
	}
	for _, op := range []string{"@>", "<@", "?", "?|", "?&", "||", "-", "-i", "-a", "#-"} {
		fns = append(fns, sqlFunc{"pg_json_op " + op, 2, 2, true, func(a []any) (any, error) {
			if a[0] == nil || a[1] == nil {
				return nil, nil
			}
			return jsonOp(op, a[0], a[1])
		}})
	}
	for _, op := range []string{"->", "->>", "#>", "#>>", "j->", "j#>>"} {
		fns = append(fns, sqlFunc{"pg_json_get " + op, 2, 2, true, func(a []any) (any, error) {
			raw, isJSON := strings.CutPrefix(op, "j")
			if isJSON {
				return jsonGetRaw(a[0], a[1], strings.HasSuffix(raw, ">>"), strings.HasPrefix(raw, "#"))
			}
			return jsonGet(a[0], a[1], strings.HasSuffix(op, ">>"), strings.HasPrefix(op, "#"))
		}})
	}
	fns = append(fns, sqlFunc{"pg_dt_arith", 5, 5, true, func(a []any) (any, error) {
		return dtArith(asString(orEmpty(a[0])), a[1], asString(orEmpty(a[2])), a[3], asString(orEmpty(a[4])))
	}})
	for _, f := range fns {
		t.Run(f.name, func(t *testing.T) {
			hi := f.max
			if hi < 0 || hi > f.min+2 {
				hi = f.min + 2
			}
			for n := f.min; n <= hi; n++ {
				for _, args := range argCombinations(vals, n, rng) {
					if (f.name == "pg_regex" || strings.Contains(f.name, "regexp")) && argsSize(args) > 1<<16 {
						continue // RE2 is linear, but in pattern × text: seconds
					}
					callChecked(t, f, args)
				}
			}
		})
	}
	t.Run("ordered and json aggregates", func(t *testing.T) {
		for _, mode := range []string{"a", "ab", "o", "ob"} {
			for _, kind := range []string{"?", "b", "n", "j", "T"} {
				g := &jsonAgg{}
				for _, v := range vals {
					checkNoPanic(t, "pg_json_agg", []any{mode, kind, v}, func() (any, error) {
						if err := g.Step(mode, kind, v, v); err != nil {
							return nil, err
						}
						return g.Done()
					})
				}
			}
		}
		for _, kind := range []string{"cont", "disc", "mode"} {
			for _, frac := range vals {
				g := &orderedSet{}
				for _, v := range vals {
					checkNoPanic(t, "pg_ordered_set", []any{kind, frac, v}, func() (any, error) {
						if err := g.Step(kind, int64(0), frac, v); err != nil {
							return nil, err
						}
						return g.Done()
					})
				}
			}
		}
		s := &stringAgg{}
		for _, v := range vals {
			checkNoPanic(t, "pg_string_agg", []any{v}, func() (any, error) {
				if err := s.Step(v); err != nil && !strings.Contains(err.Error(), "malformed argument") {
					return nil, err
				}
				return s.Done()
			})
		}
	})
	t.Run("pg_array_agg", func(t *testing.T) {
		g := &arrayAgg{}
		for _, v := range vals {
			checkNoPanic(t, "pg_array_agg", []any{v}, func() (any, error) {
				if err := g.Step(v); err != nil {
					return nil, err
				}
				return g.Done()
			})
		}
	})
}

// argCombinations returns every n-tuple of vals when there are few, else a
// fixed-seed sample, always including the tuples that repeat one value.
func argCombinations(vals []any, n int, rng *rand.Rand) [][]any {
	const maxTuples = 1500
	total := 1
	for i := 0; i < n && total <= maxTuples; i++ {
		total *= len(vals)
	}
	var out [][]any
	if total <= maxTuples {
		idx := make([]int, n)
		for {
			args := make([]any, n)
			for i, j := range idx {
				args[i] = vals[j]
			}
			out = append(out, args)
			i := n - 1
			for ; i >= 0; i-- {
				idx[i]++
				if idx[i] < len(vals) {
					break
				}
				idx[i] = 0
			}
			if i < 0 {
				return out
			}
		}
	}
	for _, v := range vals {
		args := make([]any, n)
		for i := range args {
			args[i] = v
		}
		out = append(out, args)
	}
	for k := 0; k < maxTuples; k++ {
		args := make([]any, n)
		for i := range args {
			args[i] = vals[rng.IntN(len(vals))]
		}
		out = append(out, args)
	}
	return out
}

// callChecked calls f as SQLite would, through wrap (whose recover turns a
// panic into XX000, which fails the test), on a copy of args.
func callChecked(t *testing.T, f sqlFunc, args []any) {
	t.Helper()
	call := f.wrap(nil)
	checkNoPanic(t, f.name, args, func() (any, error) {
		return call(append([]any(nil), args...)...)
	})
}

func checkNoPanic(t *testing.T, name string, args []any, call func() (any, error)) {
	t.Helper()
	var res any
	var err error
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("%s(%s) panics: %v", name, describeArgs(args), r)
			}
		}()
		res, err = call()
	}()
	if err != nil {
		code, _, ok := splitFuncError(err.Error())
		if !ok || code == "XX000" {
			t.Fatalf("%s(%s): %v (a panic, or an error without a SQLSTATE)", name, describeArgs(args), err)
		}
		return
	}
	if size := valueSize(res); size > maxValueSize {
		t.Fatalf("%s(%s) returns %d bytes, more than maxValueSize", name, describeArgs(args), size)
	}
}

func argsSize(args []any) int {
	n := 0
	for _, a := range args {
		n += valueSize(a)
	}
	return n
}

func valueSize(x any) int {
	switch v := x.(type) {
	case string:
		return len(v)
	case []byte:
		return len(v)
	}
	return 0
}

func describeArgs(args []any) string {
	parts := make([]string, len(args))
	for i, a := range args {
		s := fmt.Sprintf("%#v", a)
		if len(s) > 40 {
			s = s[:40] + fmt.Sprintf("…(%d)", len(s))
		}
		parts[i] = s
	}
	return strings.Join(parts, ", ")
}
