package sqlengine

/*
#include <stdlib.h>
typedef struct sqlite3 sqlite3;
typedef struct sqlite3_stmt sqlite3_stmt;
int sqlite3_prepare_v2(sqlite3*, const char*, int, sqlite3_stmt**, const char**);
int sqlite3_finalize(sqlite3_stmt*);
int sqlite3_step(sqlite3_stmt*);
int sqlite3_column_count(sqlite3_stmt*);
int sqlite3_column_type(sqlite3_stmt*, int);
long long sqlite3_column_int64(sqlite3_stmt*, int);
const unsigned char *sqlite3_column_text(sqlite3_stmt*, int);
int sqlite3_bind_int64(sqlite3_stmt*, int, long long);
int sqlite3_bind_null(sqlite3_stmt*, int);
int sqlite3_bind_text(sqlite3_stmt*, int, const char*, int, void(*)(void*));
int sqlite3_reset(sqlite3_stmt*);
int sqlite3_clear_bindings(sqlite3_stmt*);

// pgraft_bind_text binds a copy of s (SQLITE_TRANSIENT): the Go string's
// C copy is freed as soon as the call returns.
static int pgraft_bind_text(sqlite3_stmt *st, int i, const char *s, int n) {
	return sqlite3_bind_text(st, i, s, n, (void(*)(void*))-1);
}
*/
import "C"

import (
	"fmt"
	"unsafe"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// queryRaw prepares q on c, binds args (nil, int64 or string) to ?1, ?2, …,
// and returns every row, each value an int64, a string or nil. Like
// stepRaw it bypasses go-sqlite3's statement cache, and it may run while
// another statement of c is stepping (inside an SQL function's callback:
// SQLite allows a function to run statements on its own connection). The
// caller holds the connection.
func queryRaw(c *sqlite3.SQLiteConn, q string, args ...any) ([][]any, error) {
	db := dbHandle(c)
	cq := C.CString(q)
	defer C.free(unsafe.Pointer(cq))
	var st *C.sqlite3_stmt
	if rc := C.sqlite3_prepare_v2(db, cq, -1, &st, nil); rc != 0 {
		return nil, lastPrepareError(db, rc)
	}
	defer C.sqlite3_finalize(st)
	return stepAll(db, st, args)
}

// rawStmts keeps the few statements of pgraft's own that run on the write
// connection for every statement naming a sequence, prepared once: a
// prepare costs more than the query. They are pgraft's, never a client's
// (go-sqlite3's cache is not involved); SQLite prepares one again when the
// schema changed or the authorizer was reinstalled, under the access of
// the moment, which is internal (Engine.seqQuery). finalize runs before
// the connection closes.
type rawStmts struct {
	m map[string]*C.sqlite3_stmt
}

// query runs q, prepared on c the first time, like queryRaw.
func (r *rawStmts) query(c *sqlite3.SQLiteConn, q string, args ...any) ([][]any, error) {
	db := dbHandle(c)
	st := r.m[q]
	if st == nil {
		cq := C.CString(q)
		defer C.free(unsafe.Pointer(cq))
		if rc := C.sqlite3_prepare_v2(db, cq, -1, &st, nil); rc != 0 {
			return nil, lastPrepareError(db, rc)
		}
		if r.m == nil {
			r.m = map[string]*C.sqlite3_stmt{}
		}
		r.m[q] = st
	}
	defer func() {
		C.sqlite3_reset(st) // ends its read of the table; the error was stepAll's
		C.sqlite3_clear_bindings(st)
	}()
	return stepAll(db, st, args)
}

// finalize releases every statement.
func (r *rawStmts) finalize() {
	for _, st := range r.m {
		C.sqlite3_finalize(st)
	}
	r.m = nil
}

// stepAll binds args to st and steps it to the end.
func stepAll(db *C.sqlite3, st *C.sqlite3_stmt, args []any) ([][]any, error) {
	for i, a := range args {
		var rc C.int
		switch v := a.(type) {
		case nil:
			rc = C.sqlite3_bind_null(st, C.int(i+1))
		case int64:
			rc = C.sqlite3_bind_int64(st, C.int(i+1), C.longlong(v))
		case string:
			cs := C.CString(v)
			rc = C.pgraft_bind_text(st, C.int(i+1), cs, C.int(len(v)))
			C.free(unsafe.Pointer(cs))
		default:
			return nil, fmt.Errorf("queryRaw: cannot bind %T", a)
		}
		if rc != 0 {
			return nil, lastPrepareError(db, rc)
		}
	}
	n := int(C.sqlite3_column_count(st))
	var out [][]any
	for {
		switch rc := C.sqlite3_step(st); rc {
		case sqliteRow:
			row := make([]any, n)
			for i := range row {
				switch C.sqlite3_column_type(st, C.int(i)) {
				case 5: // SQLITE_NULL
				case 1: // SQLITE_INTEGER
					row[i] = int64(C.sqlite3_column_int64(st, C.int(i)))
				default:
					row[i] = C.GoString((*C.char)(unsafe.Pointer(C.sqlite3_column_text(st, C.int(i)))))
				}
			}
			out = append(out, row)
		case sqliteDone:
			return out, nil
		default:
			return nil, lastPrepareError(db, rc)
		}
	}
}
