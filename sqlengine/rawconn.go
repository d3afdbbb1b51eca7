package sqlengine

/*
// Prototypes of the SQLite C API, resolved at link time against the
// amalgamation that github.com/mattn/go-sqlite3 compiles into the binary.
typedef struct sqlite3 sqlite3;
typedef struct sqlite3_stmt sqlite3_stmt;
int sqlite3_prepare_v2(sqlite3*, const char*, int, sqlite3_stmt**, const char**);
int sqlite3_finalize(sqlite3_stmt*);
int sqlite3_column_count(sqlite3_stmt*);
const char *sqlite3_column_name(sqlite3_stmt*, int);
const char *sqlite3_column_decltype(sqlite3_stmt*, int);
int sqlite3_bind_parameter_count(sqlite3_stmt*);
int sqlite3_stmt_readonly(sqlite3_stmt*);
const char *sqlite3_errmsg(sqlite3*);
int sqlite3_extended_errcode(sqlite3*);
int sqlite3_db_status(sqlite3*, int, int*, int*, int);
int sqlite3_step(sqlite3_stmt*);
int sqlite3_bind_int64(sqlite3_stmt*, int, long long);
const unsigned char *sqlite3_column_text(sqlite3_stmt*, int);
long long sqlite3_column_int64(sqlite3_stmt*, int);
int sqlite3_db_config(sqlite3*, int op, ...);
#include <stdlib.h>

// pgraft_db_flag sets one of SQLite's on/off connection flags (an
// SQLITE_DBCONFIG_* op) and returns its new state, or -1 on error.
static int pgraft_db_flag(sqlite3 *db, int op, int on) {
	int now = 0;
	if (sqlite3_db_config(db, op, on, &now) != 0) return -1;
	return now;
}
*/
import "C"

import (
	"fmt"
	"reflect"
	"sync"
	"unsafe"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// go-sqlite3 does not expose statement metadata without running the
// statement, nor sqlite3_db_status. These few calls go to the C API
// directly, on the connection's own handle.

// dbHandle returns c's sqlite3 handle, the unexported field db. Its offset
// is looked up once (FieldByName costs about a microsecond, and reads ask
// for the handle on every query).
func dbHandle(c *sqlite3.SQLiteConn) *C.sqlite3 {
	p := unsafe.Add(unsafe.Pointer(c), dbFieldOffset())
	return *(**C.sqlite3)(p)
}

// dbFieldOffset is the offset of SQLiteConn.db, which must be a pointer.
var dbFieldOffset = sync.OnceValue(func() uintptr {
	f, ok := reflect.TypeFor[sqlite3.SQLiteConn]().FieldByName("db")
	if !ok || f.Type.Kind() != reflect.Pointer {
		panic("sqlengine: go-sqlite3's SQLiteConn has no pointer field db") // a go-sqlite3 upgrade changed it
	}
	return f.Offset
})

// prepareError is an SQLite error from prepareInfo; go-sqlite3's Error
// cannot be built outside its package with a message.
type prepareError struct {
	code sqlite3.ErrNo
	ext  sqlite3.ErrNoExtended
	msg  string
}

func (e *prepareError) Error() string { return e.msg }

// StmtInfo is what preparing a statement tells without running it.
type StmtInfo struct {
	Names     []string
	DeclTypes []string
	NumParams int
	ReadOnly  bool
}

// lastPrepareError is the error SQLite reports on db after rc.
func lastPrepareError(db *C.sqlite3, rc C.int) error {
	return &prepareError{
		code: sqlite3.ErrNo(rc & 0xff),
		ext:  sqlite3.ErrNoExtended(C.sqlite3_extended_errcode(db)),
		msg:  C.GoString(C.sqlite3_errmsg(db)),
	}
}

const (
	sqliteRow  = 100 // SQLITE_ROW
	sqliteDone = 101 // SQLITE_DONE
)

// stepRaw prepares q on c, binds args to ?1, ?2, …, steps it once and
// finalizes it, returning the first column of the first row (0 if there is
// none). The statement bypasses go-sqlite3's statement cache, so that what
// it was authorized to do ends with it (authorizer.go). The caller holds the
// connection exclusively.
func stepRaw(c *sqlite3.SQLiteConn, q string, args ...int64) (int64, error) {
	db := dbHandle(c)
	cq := C.CString(q)
	defer C.free(unsafe.Pointer(cq))
	var st *C.sqlite3_stmt
	if rc := C.sqlite3_prepare_v2(db, cq, -1, &st, nil); rc != 0 {
		return 0, lastPrepareError(db, rc)
	}
	defer C.sqlite3_finalize(st)
	for i, a := range args {
		if rc := C.sqlite3_bind_int64(st, C.int(i+1), C.longlong(a)); rc != 0 {
			return 0, lastPrepareError(db, rc)
		}
	}
	switch rc := C.sqlite3_step(st); rc {
	case sqliteRow:
		return int64(C.sqlite3_column_int64(st, 0)), nil
	case sqliteDone:
		return 0, nil
	default:
		return 0, lastPrepareError(db, rc)
	}
}

// stepStrings is stepRaw for a query of one text column: it returns every
// row's value.
func stepStrings(c *sqlite3.SQLiteConn, q string) ([]string, error) {
	db := dbHandle(c)
	cq := C.CString(q)
	defer C.free(unsafe.Pointer(cq))
	var st *C.sqlite3_stmt
	if rc := C.sqlite3_prepare_v2(db, cq, -1, &st, nil); rc != 0 {
		return nil, lastPrepareError(db, rc)
	}
	defer C.sqlite3_finalize(st)
	var out []string
	for {
		switch rc := C.sqlite3_step(st); rc {
		case sqliteRow:
			out = append(out, C.GoString((*C.char)(unsafe.Pointer(C.sqlite3_column_text(st, 0)))))
		case sqliteDone:
			return out, nil
		default:
			return nil, lastPrepareError(db, rc)
		}
	}
}

// SQLite's connection flags that setDBFlag sets (SQLITE_DBCONFIG_*).
const (
	dbConfigForeignKeys = 1002 // SQLITE_DBCONFIG_ENABLE_FKEY
	dbConfigLegacyAlter = 1012 // SQLITE_DBCONFIG_LEGACY_ALTER_TABLE
)

// setDBFlag turns one of SQLite's connection flags on or off. Unlike PRAGMA
// foreign_keys, which is a no-op inside a transaction, sqlite3_db_config
// changes the flag at once (alter.go needs that within an entry's
// transaction). It expires the connection's prepared statements.
func setDBFlag(c *sqlite3.SQLiteConn, op int, on bool) error {
	v := 0
	if on {
		v = 1
	}
	if got := C.pgraft_db_flag(dbHandle(c), C.int(op), C.int(v)); int(got) != v {
		return fmt.Errorf("sqlite3_db_config(%d, %d) = %d", op, v, int(got))
	}
	return nil
}

// dbFlag reads one of SQLite's on/off connection flags.
func dbFlag(c *sqlite3.SQLiteConn, op int) (bool, error) {
	got := C.pgraft_db_flag(dbHandle(c), C.int(op), -1)
	if got < 0 {
		return false, fmt.Errorf("sqlite3_db_config(%d, -1) = %d", op, int(got))
	}
	return got == 1, nil
}

// withDBFlag runs fn with a connection flag set to on, and sets it back
// to what it was whatever fn does.
func withDBFlag(c *sqlite3.SQLiteConn, op int, on bool, fn func() error) (err error) {
	was, err := dbFlag(c, op)
	if err != nil {
		return err
	}
	if err := setDBFlag(c, op, on); err != nil {
		return err
	}
	defer func() {
		if rerr := setDBFlag(c, op, was); rerr != nil && err == nil {
			err = rerr
		}
	}()
	return fn()
}

// prepareInfo prepares sql on c and returns its result columns. The caller
// holds the connection exclusively.
func prepareInfo(c *sqlite3.SQLiteConn, sql string) (StmtInfo, error) {
	db := dbHandle(c)
	csql := C.CString(sql)
	defer C.free(unsafe.Pointer(csql))
	var st *C.sqlite3_stmt
	if rc := C.sqlite3_prepare_v2(db, csql, -1, &st, nil); rc != 0 {
		return StmtInfo{}, lastPrepareError(db, rc)
	}
	if st == nil {
		return StmtInfo{}, nil // only whitespace or comments
	}
	defer C.sqlite3_finalize(st)
	n := int(C.sqlite3_column_count(st))
	info := StmtInfo{
		Names:     make([]string, n),
		DeclTypes: make([]string, n),
		NumParams: int(C.sqlite3_bind_parameter_count(st)),
		ReadOnly:  C.sqlite3_stmt_readonly(st) != 0,
	}
	for i := 0; i < n; i++ {
		info.Names[i] = C.GoString(C.sqlite3_column_name(st, C.int(i)))
		if d := C.sqlite3_column_decltype(st, C.int(i)); d != nil {
			info.DeclTypes[i] = C.GoString(d)
		}
	}
	return info, nil
}

const dbStatusDeferredFKs = 10 // SQLITE_DBSTATUS_DEFERRED_FKS

// deferredFKViolations reports whether the connection's open transaction
// has unresolved deferred foreign-key violations, which would fail COMMIT.
func deferredFKViolations(c *sqlite3.SQLiteConn) (bool, error) {
	var cur, hi C.int
	if rc := C.sqlite3_db_status(dbHandle(c), dbStatusDeferredFKs, &cur, &hi, 0); rc != 0 {
		return false, fmt.Errorf("sqlite3_db_status: code %d", int(rc))
	}
	return cur > 0, nil
}
