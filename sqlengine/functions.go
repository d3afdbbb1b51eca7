package sqlengine

import (
	"container/list"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"

	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/pgraft/pgraft/pgwire/pgerror"
	"github.com/pgraft/pgraft/sqlengine/translate"
)

// SQL functions that translation emits (pg_cast, pg_regex, pg_left, …) and
// the catalog functions psql and drivers call (format_type, pg_get_expr, …).
// registerFunctions installs them on every connection, write and read. They
// are registered with a variable argument count and check their arity
// themselves, and they normalise SQLite's NULL (which go-sqlite3 hands over
// as a nil []byte) to nil before any work.

// sqlFunc is one scalar SQL function.
type sqlFunc struct {
	name     string
	min, max int  // accepted argument counts; max -1 means unbounded
	pure     bool // deterministic: same arguments, same result, on every node
	fn       func(args []any) (any, error)
}

// catalogState is what an engine's connections share: the latest schema
// snapshot for the catalog functions, and the compiled regular expressions.
// The engine calls Set after every schema change it applies. The zero
// value is ready to use.
type catalogState struct {
	roles     *atomic.Pointer[map[string]Role] // the engine's role store (pg_get_userbyid)
	privs     *atomic.Pointer[Privileges]      // the engine's privilege catalog (has_table_privilege)
	schema    atomic.Pointer[SchemaSnapshot]
	regexOnce sync.Once
	regex     *regexCache // built on first use, shared by the engine's connections

	// forWrites marks the write connection's state: it holds a snapshot
	// only while a transaction's catalog query runs (the transaction's own
	// schema); otherwise the functions that read one fail, as a write that
	// every node replays must not depend on when a node reloaded its schema.
	forWrites bool
	shared    *catalogState // the state whose regular expressions it shares
}

// newCatalogState returns a state with no schema yet.
func newCatalogState() *catalogState { return &catalogState{} }

// regexes returns the shared pattern cache.
func (s *catalogState) regexes() *regexCache {
	if s.shared != nil {
		return s.shared.regexes()
	}
	s.regexOnce.Do(func() { s.regex = newRegexCache(128) })
	return s.regex
}

// Set publishes a new schema snapshot to every connection's functions.
func (s *catalogState) Set(snap *SchemaSnapshot) { s.schema.Store(snap) }

// Get returns the latest snapshot, or nil before the first Set (or on a nil
// state, as in tests).
func (s *catalogState) Get() *SchemaSnapshot {
	if s == nil {
		return nil
	}
	return s.schema.Load()
}

// snapshot returns the snapshot the catalog function fn reads: the latest,
// or, on the write connection, the transaction's during its catalog query;
// elsewhere on the write connection fn fails (0A000).
func (s *catalogState) snapshot(fn string) (*SchemaSnapshot, error) {
	snap := s.Get()
	if snap == nil && s != nil && s.forWrites {
		return nil, funcError(pgerror.FeatureNotSupported, fn+"() is not allowed in writes: it reads the catalog")
	}
	return snap, nil
}

// registerFunctions registers every pure pgraft SQL function on one
// connection (all connections get them: write, read). state gives catalog
// functions the current schema (may be nil in tests); meter, the
// connection's statement guard, is charged with each call's work (nil:
// not charged).
func registerFunctions(conn *sqlite3.SQLiteConn, state *catalogState, meter *workBudget) error {
	regex := newRegexCache(32) // a connection of its own when there is no shared state
	if state != nil {
		regex = state.regexes()
	}
	var fns []sqlFunc
	fns = append(fns, castFuncs(regex)...)
	fns = append(fns, stringFuncs()...)
	fns = append(fns, mathFuncs()...)
	fns = append(fns, arrayFuncs()...)
	fns = append(fns, srfFuncs(regex)...)
	fns = append(fns, jsonbFuncs()...)
	fns = append(fns, arrayOpFuncs(regex)...)
	fns = append(fns, catalogFuncs(state)...)
	fns = append(fns, checksumFuncs()...)
	fns = append(fns, numericFuncs()...)
	for _, f := range fns {
		if err := conn.RegisterFunc(f.name, f.wrap(meter), f.pure); err != nil {
			return fmt.Errorf("register function %s: %w", f.name, err)
		}
	}
	if err := registerDateArith(conn); err != nil {
		return err
	}
	if err := registerNumericAggs(conn, meter); err != nil {
		return err
	}
	newArrayAgg := func() *arrayAgg { return &arrayAgg{meter: meter} }
	if err := conn.RegisterAggregator("pg_array_agg", newArrayAgg, true); err != nil { // recovers in Step and Done
		return fmt.Errorf("register aggregate pg_array_agg: %w", err)
	}
	newStringAgg := func() *stringAgg { return &stringAgg{meter: meter} }
	if err := conn.RegisterAggregator("pg_string_agg", newStringAgg, true); err != nil { // recovers in Step and Done
		return fmt.Errorf("register aggregate pg_string_agg: %w", err)
	}
	newOrderedSet := func() *orderedSet { return &orderedSet{meter: meter} }
	if err := conn.RegisterAggregator("pg_ordered_set", newOrderedSet, true); err != nil { // recovers in Step and Done
		return fmt.Errorf("register aggregate pg_ordered_set: %w", err)
	}
	newJSONAgg := func() *jsonAgg { return &jsonAgg{meter: meter} }
	if err := conn.RegisterAggregator("pg_json_agg", newJSONAgg, true); err != nil { // recovers in Step and Done
		return fmt.Errorf("register aggregate pg_json_agg: %w", err)
	}
	return nil
}

// wrap adapts f to go-sqlite3's calling convention. Each call charges
// meter with the sizes of its arguments and result (workBudget.charge).
func (f sqlFunc) wrap(meter *workBudget) func(args ...any) (any, error) {
	return func(args ...any) (_ any, err error) {
		defer recoverCallback(f.name, &err)
		if len(args) < f.min || (f.max >= 0 && len(args) > f.max) {
			return nil, funcError(pgerror.UndefinedFunction,
				fmt.Sprintf("function %s with %d arguments does not exist", f.name, len(args)))
		}
		work := 0
		for i, a := range args {
			if b, ok := a.([]byte); ok && b == nil {
				args[i] = nil
			}
			work += valueLen(args[i])
		}
		res, err := f.fn(args)
		meter.charge(work + valueLen(res))
		if err == nil && int64(valueLen(res)) > maxValueSize {
			// A result at most a few times its argument, built before any
			// check (quote_literal, a bytea's hex text): SQLite would refuse
			// it too (SQLITE_LIMIT_LENGTH), with a message of its own.
			return nil, errTooLong()
		}
		return sqlResult(res), err
	}
}

// recoverCallback is the last line of defence of every Go function SQLite
// calls (deferred in wrap, registerGuarded and the aggregate's methods). A
// panic must not unwind through SQLite's C frames: it would leave the
// connection's mutex locked by a thread that has moved on and its statement
// half run, and the database/sql connection, the Rows and the engine's swap
// lock never released. After a few, a node ran out of read connections and
// hung, Close included (issue 13). Here the panic fails its statement alone
// with XX000; the real fix is the checks in the functions, which
// TestFunctionsNeverPanic holds them to.
func recoverCallback(name string, err *error) {
	if r := recover(); r != nil {
		*err = panicError(name, r)
	}
}

// panicError is the XX000 a recovered panic in function name becomes.
func panicError(name string, r any) error {
	return funcError(pgerror.InternalError, fmt.Sprintf("internal error in function %s: %v", name, r))
}

// registerGuarded registers fn, a function of any signature go-sqlite3
// accepts, behind recoverCallback: the registered function has fn's
// arguments and results plus an error, which a panic sets.
func registerGuarded(c *sqlite3.SQLiteConn, name string, fn any, pure bool) error {
	if err := c.RegisterFunc(name, guardFunc(name, fn), pure); err != nil {
		return fmt.Errorf("register %s: %w", name, err)
	}
	return nil
}

var errorType = reflect.TypeFor[error]()

// guardFunc returns fn with a recover around it (see registerGuarded).
func guardFunc(name string, fn any) any {
	v := reflect.ValueOf(fn)
	ft := v.Type()
	in := make([]reflect.Type, ft.NumIn())
	for i := range in {
		in[i] = ft.In(i)
	}
	out := make([]reflect.Type, ft.NumOut())
	for i := range out {
		out[i] = ft.Out(i)
	}
	hasErr := len(out) == 2
	if !hasErr {
		out = append(out, errorType)
	}
	gt := reflect.FuncOf(in, out, ft.IsVariadic())
	return reflect.MakeFunc(gt, func(args []reflect.Value) (res []reflect.Value) {
		defer func() {
			if r := recover(); r != nil { // here: recover works only in the deferred function itself
				err := panicError(name, r)
				res = []reflect.Value{reflect.Zero(out[0]), reflect.ValueOf(&err).Elem()}
			}
		}()
		if ft.IsVariadic() {
			res = v.CallSlice(args)
		} else {
			res = v.Call(args)
		}
		if !hasErr {
			res = append(res, reflect.Zero(errorType))
		}
		return res
	}).Interface()
}

// sqlResult protects a zero-length []byte result: go-sqlite3 returns it as
// NULL (callbackRetBlob), and an application function has no way to return
// an empty BLOB. It becomes empty text instead, which is right as it is
// where the result is text, and which translation's byteaResultSQL turns back
// into an empty BLOB where the result is bytea. A nil []byte stays NULL.
func sqlResult(x any) any {
	if b, ok := x.([]byte); ok && b != nil && len(b) == 0 {
		return ""
	}
	return x
}

// strict wraps fn so that any NULL argument gives NULL, like a STRICT
// PostgreSQL function.
func strict(fn func(args []any) (any, error)) func(args []any) (any, error) {
	return func(args []any) (any, error) {
		for _, a := range args {
			if a == nil {
				return nil, nil
			}
		}
		return fn(args)
	}
}

func castFuncs(regex *regexCache) []sqlFunc {
	return []sqlFunc{
		{"pg_cast", 2, 4, true, func(a []any) (any, error) {
			x, src, dst, mod := castArgs(a)
			return pgCastLegacy(x, src, dst, mod) // functions_infinity.go
		}},
		{translate.DatetimeCastFunc, 4, 4, true, func(a []any) (any, error) {
			return pgCast(castArgs(a))
		}},
		{"pg_regex", 2, 3, true, strict(func(a []any) (any, error) {
			flags := ""
			if len(a) > 2 {
				flags = asString(a[2])
			}
			re, err := regex.get(asString(a[1]), flags)
			if err != nil {
				return nil, err
			}
			return boolInt(re.MatchString(asString(a[0]))), nil
		})},
		{"pg_extract", 2, 2, true, func(a []any) (any, error) {
			if a[0] == nil {
				return nil, nil
			}
			return pgExtract(asString(a[0]), a[1])
		}},
		{"pg_date_trunc", 2, 2, true, func(a []any) (any, error) {
			if a[0] == nil {
				return nil, nil
			}
			return pgDateTrunc(asString(a[0]), a[1])
		}},
		{"pg_isfinite", 1, 1, true, pgIsFinite},
		{"pg_timetz", 5, 5, true, pgTimetz},
		{"pg_to_json", 1, 1, true, func(a []any) (any, error) { return pgToJSON(a[0]), nil }},
		{"pg_version", 0, 0, true, func([]any) (any, error) {
			return "PostgreSQL 15.18 (pgraft) on x86_64-pc-linux-gnu, compiled by Go", nil
		}},
	}
}

// castArgs reads pg_cast's arguments: (x, dst), or (x, src, dst[, typmod]).
func castArgs(a []any) (x any, src, dst string, mod int64) {
	mod = -1
	if len(a) > 1 {
		src = asString(orEmpty(a[1]))
	}
	if len(a) > 2 {
		dst = asString(orEmpty(a[2]))
	} else {
		src, dst = "", src
	}
	if len(a) > 3 && a[3] != nil {
		mod, _ = toInt(a[3])
	}
	return a[0], strings.ToLower(src), strings.ToLower(dst), mod
}

func orEmpty(x any) any {
	if x == nil {
		return ""
	}
	return x
}

// regexCache is a small LRU of compiled patterns, shared by the connections
// of one engine.
type regexCache struct {
	mu    sync.Mutex
	max   int
	order *list.List // of *regexEntry, most recent first
	byKey map[string]*list.Element
}

type regexEntry struct {
	key string
	re  *regexp.Regexp
}

func newRegexCache(max int) *regexCache {
	return &regexCache{max: max, order: list.New(), byKey: map[string]*list.Element{}}
}

// get compiles (or finds) pattern with PostgreSQL flags ("" or "i").
func (c *regexCache) get(pattern, flags string) (*regexp.Regexp, error) {
	key := flags + "\x00" + pattern
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byKey[key]; ok {
		c.order.MoveToFront(e)
		return e.Value.(*regexEntry).re, nil
	}
	re, err := compilePGRegex(pattern, flags)
	if err != nil {
		return nil, err
	}
	c.byKey[key] = c.order.PushFront(&regexEntry{key, re})
	if c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.byKey, last.Value.(*regexEntry).key)
	}
	return re, nil
}

// compilePGRegex translates the common subset of PostgreSQL's advanced
// regular expressions to Go's RE2: in an ARE "." and bracket expressions
// match a newline, \y \Y \m \M \A \Z are word/string anchors, and the
// [[:<:]] [[:>:]] word boundaries exist. Back-references and lookaround
// have no RE2 equivalent and fail with 2201B.
func compilePGRegex(pattern, flags string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("(?s")
	if strings.Contains(flags, "i") {
		b.WriteString("i")
	}
	b.WriteString(")")
	p := strings.NewReplacer("[[:<:]]", `\b`, "[[:>:]]", `\b`).Replace(pattern)
	for i := 0; i < len(p); i++ {
		if p[i] != '\\' || i+1 >= len(p) {
			b.WriteByte(p[i])
			continue
		}
		i++
		switch p[i] {
		case 'y', 'm', 'M':
			b.WriteString(`\b`)
		case 'Y':
			b.WriteString(`\B`)
		case 'Z':
			b.WriteString(`\z`)
		default:
			b.WriteByte('\\')
			b.WriteByte(p[i])
		}
	}
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil, funcError("2201B", "invalid regular expression: "+err.Error())
	}
	return re, nil
}
