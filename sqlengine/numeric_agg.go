package sqlengine

/*
#include <stdint.h>
#include <stdlib.h>

typedef struct sqlite3 sqlite3;
typedef struct sqlite3_context sqlite3_context;
typedef struct sqlite3_value sqlite3_value;
int sqlite3_create_window_function(sqlite3*, const char*, int, int, void*,
	void (*)(sqlite3_context*, int, sqlite3_value**),
	void (*)(sqlite3_context*),
	void (*)(sqlite3_context*),
	void (*)(sqlite3_context*, int, sqlite3_value**),
	void (*)(void*));

// The Go side (numeric_agg_export.go).
extern void pgraftNumericAggStep(sqlite3_context*, sqlite3_value*, int);
extern void pgraftNumericAggValue(sqlite3_context*, int);
extern void pgraftNumericAggDestroy(void*);

static void pgraft_numagg_step(sqlite3_context *c, int n, sqlite3_value **v) { pgraftNumericAggStep(c, v[0], 0); }
static void pgraft_numagg_inverse(sqlite3_context *c, int n, sqlite3_value **v) { pgraftNumericAggStep(c, v[0], 1); }
static void pgraft_numagg_value(sqlite3_context *c) { pgraftNumericAggValue(c, 0); }
static void pgraft_numagg_final(sqlite3_context *c) { pgraftNumericAggValue(c, 1); }

// pgraft_numagg_register makes name an aggregate that is also a window
// function with an inverse (go-sqlite3's aggregates are not), its user
// data a cgo.Handle that the destructor releases.
static int pgraft_numagg_register(sqlite3 *db, const char *name, uintptr_t ud) {
	return sqlite3_create_window_function(db, name, 1, 1 | 0x800, // SQLITE_UTF8 | SQLITE_DETERMINISTIC
		(void*)ud, pgraft_numagg_step, pgraft_numagg_final, pgraft_numagg_value,
		pgraft_numagg_inverse, pgraftNumericAggDestroy);
}
*/
import "C"

import (
	"fmt"
	"runtime/cgo"
	"unsafe"

	"github.com/cockroachdb/apd/v3"
	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/pgraft/pgraft/pgvalue"
)

// The numeric aggregates sum and avg, exact, as aggregates and as window
// functions over any frame: SQLite needs an inverse for a moving frame,
// which go-sqlite3's RegisterAggregator cannot give, so these are
// registered through the C API (sqlite3_create_window_function) and call
// back into Go (numeric_agg_export.go).

// numericAggDef is one registered aggregate: which one, and the
// connection's work budget it charges.
type numericAggDef struct {
	name  string
	avg   bool
	meter *workBudget
}

// numericAgg is one group's (or window frame's) state: the exact sum of
// its finite values, their count, the special values, and how many values
// of each display scale it holds, so that the result has the largest
// scale of the values in the frame, as PostgreSQL's does (which recomputes
// a frame where its inverse cannot tell).
type numericAgg struct {
	sum          apd.Decimal
	count        int64
	nan          int64
	pinf, ninf   int64
	scales       map[int32]int64
	haveAnything bool
}

func (g *numericAgg) step(d *apd.Decimal, inverse bool) error {
	n := int64(1)
	if inverse {
		n = -1
	}
	switch {
	case isNaN(d):
		g.nan += n
		return nil
	case d.Form == apd.Infinite && d.Negative:
		g.ninf += n
		return nil
	case d.Form == apd.Infinite:
		g.pinf += n
		return nil
	}
	g.count += n
	if g.scales == nil {
		g.scales = map[int32]int64{}
	}
	s := pgvalue.Scale(d)
	g.scales[s] += n
	if g.scales[s] == 0 {
		delete(g.scales, s)
	}
	x := d
	if inverse {
		x = new(apd.Decimal).Neg(d)
	}
	if _, err := numericCtx.Add(&g.sum, &g.sum, x); err != nil {
		return funcError("22003", "value overflows numeric format")
	}
	return nil
}

// result is the sum (or average) of the values in the state; nil when it
// has none.
func (g *numericAgg) result(avg bool) (any, error) {
	total := g.count + g.nan + g.pinf + g.ninf
	if total == 0 {
		return nil, nil
	}
	switch {
	case g.nan > 0 || g.pinf > 0 && g.ninf > 0:
		return "NaN", nil
	case g.pinf > 0:
		return "Infinity", nil
	case g.ninf > 0:
		return "-Infinity", nil
	}
	scale := int32(0)
	for s := range g.scales {
		scale = max(scale, s)
	}
	sum, err := pgvalue.RoundDecimal(&g.sum, int64(scale)) // exact: no value has more places
	if err != nil {
		return nil, asFuncError(err)
	}
	if !avg {
		return decimalResult(sum)
	}
	d, err := numericDiv(sum, apd.New(g.count, 0))
	if err != nil {
		return nil, err
	}
	return decimalResult(d)
}

// registerNumericAggs registers pg_numeric_sum and pg_numeric_avg on conn.
func registerNumericAggs(conn *sqlite3.SQLiteConn, meter *workBudget) error {
	for _, def := range []*numericAggDef{
		{name: "pg_numeric_sum", meter: meter},
		{name: "pg_numeric_avg", avg: true, meter: meter},
	} {
		h := cgo.NewHandle(def)
		name := C.CString(def.name)
		rc := C.pgraft_numagg_register(dbHandle(conn), name, C.uintptr_t(h))
		C.free(unsafe.Pointer(name))
		if rc != 0 {
			// SQLite calls the destructor when registration fails.
			return fmt.Errorf("register aggregate %s: SQLite error %d", def.name, int(rc))
		}
	}
	return nil
}
