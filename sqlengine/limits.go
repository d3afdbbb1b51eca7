package sqlengine

import (
	"fmt"

	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// limits.go holds the bounds on what one statement may build, and the
// checks that keep a size computed from input from overflowing. A value too
// large fails its statement with 54000, as PostgreSQL's 1 GB field limit
// does; it never panics, and never takes a node's memory with it.

// maxValueSize bounds every text or bytea value a statement can build, in
// bytes: the result of a pgraft function, and through SQLITE_LIMIT_LENGTH
// (engine.go) the results of SQLite's own operators and functions (||,
// replace, group_concat, zeroblob, printf) and the size of a stored row.
// PostgreSQL's limit is 1 GB; 64 MiB, the largest message pgwire accepts,
// keeps a node alive with several such statements running at once.
//
// It is part of determinism: a write that builds a longer value fails with
// 54000 on every node only if every node has the same bound, so it is a
// constant of the build (DESIGN.md §3: one build per cluster).
const maxValueSize = 64 << 20

// errTooLong is PostgreSQL's error for repeat, lpad, rpad and every other
// function asked for a result larger than the field limit.
func errTooLong() error {
	return funcError(pgerror.ProgramLimitExceeded, "requested length too large")
}

// checkSize fails with errTooLong when n bytes exceed maxValueSize.
func checkSize(n int64) error {
	if n < 0 || n > maxValueSize {
		return errTooLong()
	}
	return nil
}

// mulSize is n*m for non-negative sizes, saturating at maxValueSize+1 so
// that the product can be checked without overflowing.
func mulSize(n, m int64) int64 {
	if n <= 0 || m <= 0 {
		return 0
	}
	if n > (maxValueSize+1)/m {
		return maxValueSize + 1
	}
	return n * m
}

// valueLen is the length in bytes of a text or bytea value's storage, and
// the most a number's text can take otherwise.
func valueLen(x any) int {
	switch v := x.(type) {
	case string:
		return len(v)
	case []byte:
		return len(v)
	}
	return 32
}

// textLen is the length of textOf(x): bytea prints as \x and two hex digits
// a byte.
func textLen(x any) int64 {
	if b, ok := x.([]byte); ok {
		return 2 + 2*int64(len(b))
	}
	return int64(valueLen(x))
}

// sqliteLimits are the run-time limits every connection gets, write, read
// and helper alike. They decide whether a statement fails, so they are part
// of determinism: the same on every node, set here rather than left to how
// SQLite was compiled. A statement over one fails with SQLITE_TOOBIG or
// SQLITE_ERROR, which MapError turns into 54000 or 54001.
var sqliteLimits = []struct {
	id, value int
}{
	{sqlite3.SQLITE_LIMIT_LENGTH, maxValueSize}, // a string, blob or row
	{sqlite3.SQLITE_LIMIT_SQL_LENGTH, 2 * maxValueSize},
	{sqlite3.SQLITE_LIMIT_EXPR_DEPTH, 1000},
	{sqlite3.SQLITE_LIMIT_COMPOUND_SELECT, 500},
	{sqlite3.SQLITE_LIMIT_FUNCTION_ARG, 1000},
	{sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 32766}, // the most SQLite allows; PostgreSQL 65535
	{sqlite3.SQLITE_LIMIT_COLUMN, 2000},
	{sqlite3.SQLITE_LIMIT_LIKE_PATTERN_LENGTH, 50000},
	{sqlite3.SQLITE_LIMIT_TRIGGER_DEPTH, 1000},
}

// setLimits applies sqliteLimits to one connection and checks that SQLite
// took each (a limit is silently capped at its compile-time maximum).
func setLimits(c *sqlite3.SQLiteConn) error {
	for _, l := range sqliteLimits {
		c.SetLimit(l.id, l.value)
		if got := c.GetLimit(l.id); got != l.value {
			return fmt.Errorf("sqlite limit %d: want %d, SQLite allows %d", l.id, l.value, got)
		}
	}
	return nil
}
