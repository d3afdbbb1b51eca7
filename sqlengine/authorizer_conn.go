package sqlengine

/*
#include <stdlib.h>
#include <string.h>
#include "authorizer.h"

int sqlite3_set_authorizer(sqlite3*, int (*)(void*, int, const char*, const char*, const char*, const char*), void*);
int sqlite3_set_clientdata(sqlite3*, const char*, void*, void (*)(void*));
void *sqlite3_get_clientdata(sqlite3*, const char*);
void *sqlite3_malloc(int);
void sqlite3_free(void*);

// Exported by authorizer_export.go.
int pgraftAuthorize(pgraft_auth*, int, char*, char*, char*, char*);

static const char pgraft_auth_key[] = "pgraft.auth";

static int pgraft_xauth(void *p, int action, const char *a1, const char *a2, const char *db, const char *inner) {
	return pgraftAuthorize((pgraft_auth*)p, action, (char*)a1, (char*)a2, (char*)db, (char*)inner);
}

// pgraft_auth_install gives db its authorizer state, owned by db, and
// installs the authorizer.
static int pgraft_auth_install(sqlite3 *db, int allow_ddl, const char *catalog, int trusted) {
	pgraft_auth *a = sqlite3_malloc(sizeof *a);
	if (a == NULL) {
		return 7; // SQLITE_NOMEM
	}
	memset(a, 0, sizeof *a);
	a->allow_ddl = allow_ddl;
	strncpy(a->catalog, catalog, sizeof a->catalog - 1);
	if (trusted) {
		strncpy(a->trusted, catalog, sizeof a->trusted - 1);
	}
	int rc = sqlite3_set_clientdata(db, pgraft_auth_key, a, sqlite3_free); // frees a if it fails
	if (rc != 0) {
		return rc;
	}
	return sqlite3_set_authorizer(db, pgraft_xauth, a);
}

static pgraft_auth *pgraft_auth_of(sqlite3 *db) {
	return sqlite3_get_clientdata(db, pgraft_auth_key);
}

// pgraft_auth_expire installs the same authorizer again: SQLite then expires
// every prepared statement of db, which prepares again (and is authorized
// again) on its next step.
static void pgraft_auth_expire(sqlite3 *db) {
	sqlite3_set_authorizer(db, pgraft_xauth, pgraft_auth_of(db));
}
*/
import "C"

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"unsafe"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// authState is one connection's authorizer state (authorizer.h). Only the
// holder of the connection uses it: Engine.wmu for the write connection, a
// *sql.Conn or database/sql's own use for a read connection.
type authState struct {
	c  *sqlite3.SQLiteConn
	st *C.pgraft_auth
}

// installAuthorizer installs the sandbox on c. allowDDL is true on the write
// connection; catalog is the name prefix of c's catalog views ("" if none).
// A read connection's catalog views may always be read; the write
// connection's only inside WriteTx.CatalogQuery (enterCatalog): a write,
// which every node replays, must not read them. Call it last in a connect
// hook: from then on c runs client statements.
func installAuthorizer(c *sqlite3.SQLiteConn, allowDDL bool, catalog string) error {
	ct := C.CString(catalog)
	defer C.free(unsafe.Pointer(ct))
	ddl, trusted := C.int(0), C.int(1)
	if allowDDL {
		ddl, trusted = 1, 0
	}
	if rc := C.pgraft_auth_install(dbHandle(c), ddl, ct, trusted); rc != 0 {
		return fmt.Errorf("install authorizer: SQLite error %d", int(rc))
	}
	return nil
}

// authOf returns c's authorizer state.
func authOf(c *sqlite3.SQLiteConn) (authState, error) {
	st := C.pgraft_auth_of(dbHandle(c))
	if st == nil {
		return authState{}, errors.New("sqlengine: connection has no authorizer")
	}
	return authState{c: c, st: st}, nil
}

// newTrustedPrefix returns a catalog view name prefix no client can guess.
func newTrustedPrefix() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("sqlengine: crypto/rand: %v", err)) // the OS has no randomness: nothing can be safe
	}
	return "_pgraft_" + hex.EncodeToString(b[:]) + "_"
}

// beginClient readies the state for client statement q.
func (a authState) beginClient(q string) { a.st.ddl = C.int(ddlBefore(q)) }

// enterInternal lets the connection's next statements touch anything.
func (a authState) enterInternal() {
	a.st.internal = 1
	a.st.ddl = C.int(ddlNone)
}

// isInternal reports whether the connection has internal access.
func (a authState) isInternal() bool { return a.st.internal != 0 }

// leaveInternal returns the connection to client statements. If internal
// access allowed something a client may not do, every statement prepared
// meanwhile is expired, so that none is reused by a client.
func (a authState) leaveInternal() {
	a.st.internal = 0
	if a.st.privileged != 0 {
		a.st.privileged = 0
		C.pgraft_auth_expire(dbHandle(a.c))
	}
}

// enterInternalUncached gives internal access to statements that are
// finalized before it ends (stepRaw): what they were allowed ends with them,
// so leaving expires nothing. It returns the function that leaves.
func (a authState) enterInternalUncached() (leave func()) {
	privileged, internal := a.st.privileged, a.st.internal
	a.st.internal = 1
	return func() {
		a.st.internal = internal // internal access around it (an ALTER's) goes on
		a.st.privileged = privileged
	}
}

// enterCatalog lets the connection's next statements read its catalog
// views (the write connection, for a transaction's catalog query). It
// returns the function that ends it, which expires every statement prepared
// meanwhile: none may be reused where the views may not be read.
func (a authState) enterCatalog() (leave func()) {
	copy(a.st.trusted[:], a.st.catalog[:])
	return func() {
		a.st.trusted[0] = 0
		C.pgraft_auth_expire(dbHandle(a.c))
	}
}

// lastRefusal returns the connection's last refusal.
func (a authState) lastRefusal() refusal {
	return refusal{
		kind:   refusalKind(a.st.denied_kind),
		action: int(a.st.denied_action),
		name:   C.GoString(&a.st.denied_name[0]),
	}
}

// mapConnError maps err, returned by a statement on c, to a SQLSTATE,
// naming what the authorizer refused if it did.
func mapConnError(c *sqlite3.SQLiteConn, err error) error {
	// SQLite reports a refused function as SQLITE_ERROR, not SQLITE_AUTH;
	// the refusal recorded says more (a function inside a catalog view the
	// statement may not read is the view's refusal).
	if se, ok := asSQLiteError(err); ok && (se.code == sqlite3.ErrAuth || reAuthFunction.MatchString(se.msg)) {
		if a, aerr := authOf(c); aerr == nil {
			if r := a.lastRefusal(); r.kind != refusedNone {
				return authError(r)
			}
		}
	}
	return MapError(err)
}

// withInternal runs fn with internal access on the write connection. The
// caller holds e.wmu, or is Open, before anyone else has the engine.
func (e *Engine) withInternal(fn func() error) error {
	e.wauth.enterInternal()
	defer e.wauth.leaveInternal()
	return fn()
}

// withInternalNested is withInternal for code that runs both inside and
// outside internal access (acl.go): inside, it leaves the access as it is.
func (e *Engine) withInternalNested(fn func() error) error {
	if e.wauth.isInternal() {
		return fn()
	}
	return e.withInternal(fn)
}

// withInternalRead runs fn on one read connection with internal access.
func (e *Engine) withInternalRead(ctx context.Context, fn func(c *sql.Conn) error) error {
	c, err := e.read.Conn(ctx)
	if err != nil {
		return err
	}
	defer closeConn(c) // one still inside a transaction is discarded
	return withInternalConn(c, func() error { return fn(c) })
}

// withInternalConn runs fn with internal access on c, a connection the
// caller holds and closes only after this returns (Raw fails only on a
// closed Conn, so leaving internal access cannot fail).
func withInternalConn(c *sql.Conn, fn func() error) error {
	a, err := enterInternalConn(c)
	if err != nil {
		return err
	}
	err = fn()
	return errors.Join(err, leaveInternalConn(c, a))
}

// enterInternalConn gives c, a connection the caller holds, internal access.
func enterInternalConn(c *sql.Conn) (authState, error) {
	var a authState
	err := c.Raw(func(dc any) (err error) {
		a, err = authOf(dc.(*sqlite3.SQLiteConn))
		if err == nil {
			a.enterInternal()
		}
		return err
	})
	return a, err
}

// leaveInternalConn returns c to client statements, before the caller
// closes it.
func leaveInternalConn(c *sql.Conn, a authState) error {
	return c.Raw(func(any) error { a.leaveInternal(); return nil })
}
