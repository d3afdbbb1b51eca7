package sqlengine

/*
#include <stdint.h>
#include <stdlib.h>

typedef struct sqlite3_context sqlite3_context;
typedef struct sqlite3_value sqlite3_value;
void *sqlite3_aggregate_context(sqlite3_context*, int);
void *sqlite3_user_data(sqlite3_context*);
int sqlite3_value_type(sqlite3_value*);
long long sqlite3_value_int64(sqlite3_value*);
double sqlite3_value_double(sqlite3_value*);
const unsigned char *sqlite3_value_text(sqlite3_value*);
int sqlite3_value_bytes(sqlite3_value*);
void sqlite3_result_null(sqlite3_context*);
void sqlite3_result_error(sqlite3_context*, const char*, int);
void sqlite3_result_error_nomem(sqlite3_context*);
void sqlite3_result_text(sqlite3_context*, const char*, int, void(*)(void*));

// pgraft_result_text sets a copy of the text as the result
// (SQLITE_TRANSIENT).
static void pgraft_result_text(sqlite3_context *c, const char *s, int n) {
	sqlite3_result_text(c, s, n, (void(*)(void*))-1);
}
*/
import "C"

import (
	"runtime/cgo"
	"unsafe"
)

// SQLite's fundamental datatypes (sqlite3_value_type).
const (
	sqliteInteger = 1
	sqliteFloat   = 2
	sqliteNull    = 5
)

// numericAggState returns the state of the aggregate SQLite is calling
// for, made on first use when create is set (nil otherwise).
func numericAggState(ctx *C.sqlite3_context, create bool) (*C.uintptr_t, *numericAgg) {
	size := C.int(0)
	if create {
		size = C.int(unsafe.Sizeof(C.uintptr_t(0)))
	}
	slot := (*C.uintptr_t)(C.sqlite3_aggregate_context(ctx, size))
	if slot == nil {
		return nil, nil
	}
	if *slot == 0 {
		if !create {
			return slot, nil
		}
		g := &numericAgg{}
		*slot = C.uintptr_t(cgo.NewHandle(g))
		return slot, g
	}
	return slot, cgo.Handle(*slot).Value().(*numericAgg)
}

func numericAggDefOf(ctx *C.sqlite3_context) *numericAggDef {
	return cgo.Handle(uintptr(C.sqlite3_user_data(ctx))).Value().(*numericAggDef)
}

func setResultError(ctx *C.sqlite3_context, err error) {
	msg := C.CString(err.Error())
	C.sqlite3_result_error(ctx, msg, -1)
	C.free(unsafe.Pointer(msg))
}

// pgraftNumericAggStep adds (or, for inverse, removes) one value.
//
//export pgraftNumericAggStep
func pgraftNumericAggStep(ctx *C.sqlite3_context, v *C.sqlite3_value, inverse C.int) {
	var err error
	defer func() {
		if r := recover(); r != nil {
			err = panicError("sum/avg(numeric)", r)
		}
		if err != nil {
			setResultError(ctx, err)
		}
	}()
	var x any
	switch C.sqlite3_value_type(v) {
	case sqliteNull:
		return
	case sqliteInteger:
		x = int64(C.sqlite3_value_int64(v))
	case sqliteFloat:
		x = float64(C.sqlite3_value_double(v))
	default:
		p := C.sqlite3_value_text(v)
		n := C.sqlite3_value_bytes(v)
		x = C.GoStringN((*C.char)(unsafe.Pointer(p)), n)
	}
	def := numericAggDefOf(ctx)
	slot, g := numericAggState(ctx, true)
	if slot == nil {
		C.sqlite3_result_error_nomem(ctx)
		return
	}
	d, err := decimalArg(x)
	if err != nil {
		return
	}
	def.meter.charge(valueLen(x) + int(g.sum.NumDigits()))
	err = g.step(d, inverse != 0)
}

// pgraftNumericAggValue sets the current (xValue) or final (xFinal)
// result; the final one releases the state.
//
//export pgraftNumericAggValue
func pgraftNumericAggValue(ctx *C.sqlite3_context, final C.int) {
	var err error
	defer func() {
		if r := recover(); r != nil {
			err = panicError("sum/avg(numeric)", r)
		}
		if err != nil {
			setResultError(ctx, err)
		}
	}()
	slot, g := numericAggState(ctx, false)
	if g == nil {
		C.sqlite3_result_null(ctx)
		return
	}
	if final != 0 {
		defer func() {
			cgo.Handle(*slot).Delete()
			*slot = 0
		}()
	}
	res, err := g.result(numericAggDefOf(ctx).avg)
	if err != nil {
		return
	}
	s, ok := res.(string)
	if !ok {
		C.sqlite3_result_null(ctx)
		return
	}
	cs := C.CString(s)
	C.pgraft_result_text(ctx, cs, C.int(len(s)))
	C.free(unsafe.Pointer(cs))
}

// pgraftNumericAggDestroy releases an aggregate's user data when SQLite
// drops the function (the connection closes).
//
//export pgraftNumericAggDestroy
func pgraftNumericAggDestroy(p unsafe.Pointer) {
	cgo.Handle(uintptr(p)).Delete()
}
