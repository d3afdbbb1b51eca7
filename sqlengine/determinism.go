package sqlengine

import (
	"crypto/rand"
	"database/sql/driver"
	"encoding/binary"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"strings"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/pgraft/pgraft/pgwire/pgerror"
	"github.com/pgraft/pgraft/sqlengine/translate"
)

// Determinism (DESIGN.md §3, invariant I3). Everything that could differ
// between nodes when a write runs is read from the entry's ExecContext:
//
//   - time: pg_now()/pg_now_local()/pg_current_date()/pg_current_time()
//     (what translation emits for now(), CURRENT_TIMESTAMP, …) and
//     pg_statement_timestamp()/pg_clock_timestamp() (statement_timestamp(),
//     clock_timestamp(): in a write, the entry's time too), SQLite's own
//     current_timestamp/current_date/current_time (a zero-argument
//     application function overrides the keyword, DEFAULT included), and
//     date/time/datetime/julianday/unixepoch/strftime, registered for every
//     arity so that 'now' (also as a bound value) is replaced by the entry's
//     time before SQLite's real date arithmetic runs on a helper connection;
//   - randomness: random(), randomblob(), gen_random_uuid(), pg_random()
//     draw from a generator seeded by (entry seed, statement ordinal);
//   - the node's time zone: the 'localtime' and 'utc' modifiers of those
//     date functions fail;
//   - connection state: last_insert_rowid(), changes(), total_changes() and
//     sqlite_version() fail on the write connection (and the authorizer
//     refuses them everywhere, authorizer.go).
//
// The write connection's functions read detState, which only the holder of
// the write connection touches (Engine.wmu).

// detState is the execution context of the statement running on the write
// connection.
type detState struct {
	ctx     ExecContext
	ordinal uint64
	rng     *mrand.Rand
	now     time.Time // UTC
	loc     *time.Location
	helper  *sqlite3.SQLiteConn // a plain in-memory connection: SQLite's own date functions
}

// begin installs an entry's context; statement ordinals restart at zero.
func (d *detState) begin(ctx ExecContext) {
	d.ctx = ctx
	d.ordinal = 0
	d.now = time.UnixMicro(ctx.TimeMicros).UTC()
	d.loc = loadLocation(ctx.TimeZone)
	d.setOrdinal(1)
}

// setOrdinal gives the n-th logged statement of the entry its own random
// stream, so that a statement's values depend neither on how many values
// earlier statements drew nor on statements that failed and were not logged.
func (d *detState) setOrdinal(n uint64) {
	d.ordinal = n
	d.rng = mrand.New(mrand.NewPCG(d.ctx.Seed, n))
}

func loadLocation(name string) *time.Location {
	if name == "" {
		return time.UTC
	}
	if loc, err := time.LoadLocation(name); err == nil {
		return loc
	}
	return time.UTC
}

// formatTimestamp is the storage form of timestamp and timestamptz (UTC).
func formatTimestamp(t time.Time) string { return t.Format("2006-01-02 15:04:05.999999") }

// registerWriteFunctions installs the deterministic overrides on the write
// connection.
func registerWriteFunctions(c *sqlite3.SQLiteConn, d *detState) error {
	for name, fn := range writeFuncs(d) {
		if err := registerGuarded(c, name, fn, false); err != nil {
			return err
		}
	}
	for _, name := range translate.SQLiteDateFuncs() { // replaced for every arity
		name := name
		fn := func(args ...any) (any, error) { return d.dateFunc(name, args) }
		if err := registerGuarded(c, name, fn, false); err != nil {
			return err
		}
	}
	for _, name := range detStateFuncs {
		name := name
		fn := func() (int64, error) {
			return 0, funcError(pgerror.FeatureNotSupported, name+"() is not allowed in writes: its value differs between nodes")
		}
		if err := registerGuarded(c, name, fn, false); err != nil {
			return err
		}
	}
	return nil
}

// detStateFuncs read the connection's state: the write connection replaces
// them with stand-ins that fail. The authorizer refuses them everywhere
// (authorizer.go), so these only back it up.
var detStateFuncs = []string{"last_insert_rowid", "changes", "total_changes", "sqlite_version"}

// writeFuncs are the write connection's clock and randomness functions,
// reading d.
func writeFuncs(d *detState) map[string]any {
	return map[string]any{
		"pg_now": func() string { return formatTimestamp(d.now) },
		// A write has one time, the entry's: statement_timestamp() and
		// clock_timestamp() cannot move within it and stay deterministic.
		"pg_statement_timestamp": func() string { return formatTimestamp(d.now) },
		"pg_clock_timestamp":     func() string { return formatTimestamp(d.now) },
		"pg_now_local":           func() string { return formatTimestamp(d.now.In(d.loc)) },
		"pg_current_date":        func() string { return d.now.In(d.loc).Format("2006-01-02") },
		"pg_current_time":        func() string { return d.now.In(d.loc).Format("15:04:05.999999") },
		"current_timestamp":      func() string { return d.now.Format("2006-01-02 15:04:05") },
		"current_date":           func() string { return d.now.Format("2006-01-02") },
		"current_time":           func() string { return d.now.Format("15:04:05") },
		"random":                 func() int64 { return int64(d.rng.Uint64()) },
		"pg_random":              func() float64 { return d.rng.Float64() },
		"randomblob":             func(n int64) []byte { return randomBytes(d.rng, n) },
		"gen_random_uuid":        func() string { return uuidV4(d.rng) },
	}
}

// registerReadFunctions gives read connections the clock and randomness
// functions that translation emits. Reads are not replicated: their times
// are the session's transaction and statement start that the connection's
// clock holds (readclock.go), or this node's clock, and their randomness a
// cryptographic source.
func registerReadFunctions(c *sqlite3.SQLiteConn) error {
	clk, err := installReadClock(c)
	if err != nil {
		return err
	}
	for name, fn := range readFuncs(mrand.New(mrand.NewChaCha8(seed32())), clk) {
		if err := registerGuarded(c, name, fn, false); err != nil {
			return err
		}
	}
	return nil
}

// readFuncs are the read connections' clock and randomness functions,
// reading clk and drawing from rng.
func readFuncs(rng *mrand.Rand, clk readClock) map[string]any {
	return map[string]any{
		"pg_now":                 func() string { utc, _ := clk.xact(); return formatTimestamp(utc) },
		"pg_now_local":           func() string { _, local := clk.xact(); return formatTimestamp(local) },
		"pg_current_date":        func() string { _, local := clk.xact(); return local.Format("2006-01-02") },
		"pg_current_time":        func() string { _, local := clk.xact(); return local.Format("15:04:05.999999") },
		"pg_statement_timestamp": func() string { return formatTimestamp(clk.stmt()) },
		"pg_clock_timestamp":     func() string { return formatTimestamp(time.Now().UTC()) },
		"pg_random":              func() float64 { return rng.Float64() },
		"gen_random_uuid":        func() string { return uuidV4(rng) },
	}
}

func seed32() [32]byte {
	var s [32]byte
	if _, err := io.ReadFull(rand.Reader, s[:]); err != nil {
		panic(fmt.Sprintf("sqlengine: crypto/rand: %v", err)) // the OS has no randomness: nothing can be safe
	}
	return s
}

func randomBytes(r *mrand.Rand, n int64) []byte {
	if n < 1 {
		n = 1
	}
	if n > 1<<20 {
		n = 1 << 20
	}
	b := make([]byte, n)
	for i := 0; i < len(b); i += 8 {
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], r.Uint64())
		copy(b[i:], w[:])
	}
	return b
}

func uuidV4(r *mrand.Rand) string {
	var u [16]byte
	binary.BigEndian.PutUint64(u[:8], r.Uint64())
	binary.BigEndian.PutUint64(u[8:], r.Uint64())
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:])
}

// dateFunc runs SQLite's built-in date function name on the helper
// connection, with 'now' replaced by the entry's time. The zero-argument
// form means 'now' too (strftime has no such form).
func (d *detState) dateFunc(name string, args []any) (any, error) {
	nowText := d.now.Format("2006-01-02 15:04:05.000")
	if len(args) == 0 && name != "strftime" {
		args = []any{nowText}
	}
	vals := make([]driver.Value, len(args))
	for i, a := range args {
		if s, ok := a.(string); ok && strings.EqualFold(strings.TrimSpace(s), "now") {
			a = nowText
		}
		if s, ok := a.(string); ok && translate.NodeZoneModifier(s) != "" {
			return nil, funcError(pgerror.FeatureNotSupported,
				"the '"+translate.NodeZoneModifier(s)+"' modifier is not allowed in writes: it reads the node's time zone")
		}
		vals[i] = a
	}
	q := "SELECT " + name + "(" + strings.TrimSuffix(strings.Repeat("?,", len(vals)), ",") + ")"
	rows, err := d.helper.Query(q, vals)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	dest := make([]driver.Value, 1)
	if err := rows.Next(dest); err != nil {
		return nil, err
	}
	return dest[0], nil
}
