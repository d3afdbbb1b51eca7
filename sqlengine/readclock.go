package sqlengine

/*
typedef struct sqlite3 sqlite3;
int sqlite3_set_clientdata(sqlite3*, const char*, void*, void (*)(void*));
void *sqlite3_get_clientdata(sqlite3*, const char*);
void *sqlite3_malloc(int);
void sqlite3_free(void*);

// pgraft_clock is one read connection's clock (readclock.go): the times its
// statement's now() and statement_timestamp() return, in µs since the Unix
// epoch, and the session's zone offset at the transaction's start. set is 0
// when the statement has none (an internal read): the node's clock then.
typedef struct {
	long long xact;
	long long xact_offset;
	long long stmt;
	int set;
} pgraft_clock;

static const char *pgraft_clock_key = "pgraft_clock";

// pgraft_clock_install gives db its clock, owned by db (freed when it
// closes), and returns it (NULL when out of memory).
static pgraft_clock *pgraft_clock_install(sqlite3 *db) {
	pgraft_clock *c = sqlite3_malloc(sizeof *c);
	if (!c) {
		return 0;
	}
	*c = (pgraft_clock){0};
	if (sqlite3_set_clientdata(db, pgraft_clock_key, c, sqlite3_free) != 0) { // frees c if it fails
		return 0;
	}
	return c;
}

static pgraft_clock *pgraft_clock_of(sqlite3 *db) {
	return sqlite3_get_clientdata(db, pgraft_clock_key);
}
*/
import "C"

import (
	"context"
	"database/sql"
	"errors"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// readclock.go is time in reads (docs/design.md §6, "Time in reads"). As in
// PostgreSQL, a read's now(), CURRENT_TIMESTAMP, transaction_timestamp(),
// CURRENT_DATE, CURRENT_TIME and LOCALTIMESTAMP are the start of the
// session's transaction, statement_timestamp() the start of its statement,
// and clock_timestamp() the node's clock at the call. The session says which
// times those are (WithClock); Query and ReadTx.Query copy them into the
// read connection's pgraft_clock before the statement runs, and the read
// connection's functions (readFuncs) read them from there, for as long as
// its rows stream. Writes never read this: their time is the entry's
// (determinism.go).

// Clock is a read's transaction and statement start and the session's time
// zone.
type Clock struct {
	Xact time.Time      // now(), CURRENT_TIMESTAMP, transaction_timestamp(), CURRENT_DATE/TIME, LOCALTIMESTAMP
	Stmt time.Time      // statement_timestamp()
	Loc  *time.Location // the session's TimeZone; nil is UTC
}

type clockKey struct{}

// WithClock makes reads under ctx use clk.
func WithClock(ctx context.Context, clk Clock) context.Context {
	return context.WithValue(ctx, clockKey{}, clk)
}

func clockFrom(ctx context.Context) (Clock, bool) {
	clk, ok := ctx.Value(clockKey{}).(Clock)
	return clk, ok && !clk.Xact.IsZero()
}

// readClock is a read connection's pgraft_clock (owned by SQLite).
type readClock struct{ c *C.pgraft_clock }

// installReadClock gives a read connection its clock, unset.
func installReadClock(conn *sqlite3.SQLiteConn) (readClock, error) {
	c := C.pgraft_clock_install(dbHandle(conn))
	if c == nil {
		return readClock{}, errors.New("install read clock: out of memory")
	}
	return readClock{c: c}, nil
}

// setReadClock arms c's clock for its next statement with ctx's Clock, or
// unsets it when ctx has none, so nothing of an earlier session's statement
// remains. The caller holds the connection.
func setReadClock(ctx context.Context, c *sql.Conn) error {
	clk, ok := clockFrom(ctx)
	return c.Raw(func(dc any) error {
		rc := C.pgraft_clock_of(dbHandle(dc.(*sqlite3.SQLiteConn)))
		if rc == nil {
			return errors.New("sqlengine: read connection has no clock")
		}
		if !ok {
			rc.set = 0
			return nil
		}
		stmt := clk.Stmt
		if stmt.IsZero() {
			stmt = clk.Xact
		}
		loc := clk.Loc
		if loc == nil {
			loc = time.UTC
		}
		_, off := clk.Xact.In(loc).Zone()
		rc.xact = C.longlong(clk.Xact.UnixMicro())
		rc.xact_offset = C.longlong(int64(off) * 1_000_000)
		rc.stmt = C.longlong(stmt.UnixMicro())
		rc.set = 1
		return nil
	})
}

// xact is the transaction's start (UTC) and the same instant as the
// session's wall-clock time, shown as UTC (LOCALTIMESTAMP's storage form).
func (r readClock) xact() (utc, local time.Time) {
	if r.c == nil || r.c.set == 0 {
		now := time.Now().UTC()
		return now, now
	}
	utc = time.UnixMicro(int64(r.c.xact)).UTC()
	return utc, utc.Add(time.Duration(int64(r.c.xact_offset)) * time.Microsecond)
}

// stmt is the statement's start (UTC).
func (r readClock) stmt() time.Time {
	if r.c == nil || r.c.set == 0 {
		return time.Now().UTC()
	}
	return time.UnixMicro(int64(r.c.stmt)).UTC()
}
