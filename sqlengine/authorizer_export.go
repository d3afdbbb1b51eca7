package sqlengine

/*
#include "authorizer.h"
*/
import "C"

import "unsafe"

// SQLite's authorizer results (sqlite3.h).
const (
	sqliteOK   = 0
	sqliteDeny = 1
)

// pgraftAuthorize is the authorizer SQLite calls on every connection of the
// engine while it prepares a statement (authorizer_conn.go installs it). It
// decides with authConn.authorize and keeps the state it needs in st: the
// statement's DDL state, whether internal access was used, and the refusal
// that the statement's error will name.
//
//export pgraftAuthorize
func pgraftAuthorize(st *C.pgraft_auth, action C.int, arg1, arg2, db, inner *C.char) C.int {
	_ = db // "main" or "temp": pgraft attaches nothing else, and refuses ATTACH
	c := authConn{
		internal: st.internal != 0,
		allowDDL: st.allow_ddl != 0,
		ddl:      ddlState(st.ddl),
		trusted:  cView(&st.trusted[0]),
		catalog:  cView(&st.catalog[0]),
	}
	ok, ref := c.authorize(authRequest{action: int(action), arg1: cView(arg1), arg2: cView(arg2), inner: cView(inner)})
	st.ddl = C.int(c.ddl)
	switch {
	case ok && ref.kind != refusedNone:
		st.privileged = 1
	case !ok:
		st.denied_kind = C.int(ref.kind)
		st.denied_action = action
		copyCString(st.denied_name[:], ref.name)
	}
	if ok {
		return sqliteOK
	}
	return sqliteDeny
}

// cView returns the C string p as a Go string without copying it: valid only
// while p is, so never kept.
func cView(p *C.char) string {
	if p == nil {
		return ""
	}
	n := 0
	for *(*byte)(unsafe.Add(unsafe.Pointer(p), n)) != 0 {
		n++
	}
	return unsafe.String((*byte)(unsafe.Pointer(p)), n)
}

// copyCString copies s into dst as a NUL-terminated C string, truncated.
func copyCString(dst []C.char, s string) {
	n := min(len(s), len(dst)-1)
	for i := 0; i < n; i++ {
		dst[i] = C.char(s[i])
	}
	dst[n] = 0
}
