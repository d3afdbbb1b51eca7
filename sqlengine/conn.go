package sqlengine

import (
	"context"
	"database/sql/driver"
	"errors"
	"strings"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// connector opens SQLite connections with a hook that prepares each one
// (functions, pragmas, catalog views). It lets every Engine have its own
// set of hooks without sql.Register, which is process-global.
type connector struct {
	dsn    string
	driver *sqlite3.SQLiteDriver
}

func newConnector(dsn string, hook func(*sqlite3.SQLiteConn) error) *connector {
	return &connector{dsn: dsn, driver: &sqlite3.SQLiteDriver{ConnectHook: hook}}
}

func (c *connector) Connect(context.Context) (driver.Conn, error) { return c.driver.Open(c.dsn) }
func (c *connector) Driver() driver.Driver                        { return c.driver }

// readConnector opens the read pool's connections as readConns.
type readConnector struct{ *connector }

func (c *readConnector) Connect(ctx context.Context) (driver.Conn, error) {
	dc, err := c.connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &readConn{dc.(*sqlite3.SQLiteConn)}, nil
}

// readConn is a pooled read connection. database/sql asks IsValid whenever
// the connection goes back to the pool: one still inside a transaction (a
// snapshot whose ROLLBACK failed, say) is closed instead of being handed,
// mid-transaction, to the next read.
type readConn struct{ *sqlite3.SQLiteConn }

var _ driver.Validator = (*readConn)(nil)

// IsValid implements driver.Validator.
func (c *readConn) IsValid() bool { return c.AutoCommit() }

// rawConn returns the SQLite connection behind a database/sql driver
// connection (what sql.Conn.Raw hands over).
func rawConn(dc any) *sqlite3.SQLiteConn {
	if rc, ok := dc.(*readConn); ok {
		return rc.SQLiteConn
	}
	return dc.(*sqlite3.SQLiteConn)
}

// funcErrorPrefix starts the message of an error raised by one of our SQL
// functions, so that the SQLSTATE survives SQLite's error path:
// "pgraft:22P02:invalid input syntax for type integer: \"x\"".
const funcErrorPrefix = "pgraft:"

// funcError is the error an application-defined SQL function returns to fail
// its statement with a PostgreSQL SQLSTATE. errors.go turns it back into a
// *pgerror.Error.
func funcError(code, msg string) error {
	return errors.New(funcErrorPrefix + code + ":" + msg)
}

// splitFuncError undoes funcError on an SQLite error message.
func splitFuncError(msg string) (code, text string, ok bool) {
	i := strings.Index(msg, funcErrorPrefix)
	if i < 0 {
		return "", "", false
	}
	rest := msg[i+len(funcErrorPrefix):]
	if len(rest) < 6 || rest[5] != ':' {
		return "", "", false
	}
	return rest[:5], rest[6:], true
}
