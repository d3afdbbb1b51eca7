package sqlengine

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"strings"

	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/pgraft/pgraft/pgvalue"
	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// connector opens SQLite connections with a hook that prepares each one
// (functions, pragmas, catalog views). It lets every Engine have its own
// set of hooks without sql.Register, which is process-global.
type connector struct {
	dsn    string
	driver *sqlite3.SQLiteDriver
}

func newConnector(dsn string, hook func(*sqlite3.SQLiteConn) error) *connector {
	return &connector{dsn: dsn, driver: &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		// Every connection, whatever it is for, knows the collation of
		// numeric columns: SQLite needs it to read their indexes.
		if err := c.RegisterCollation(NumericCollation, pgvalue.CompareNumericText); err != nil {
			return err
		}
		if hook == nil {
			return nil
		}
		return hook(c)
	}}}
}

func (c *connector) Connect(context.Context) (driver.Conn, error) { return c.driver.Open(c.dsn) }
func (c *connector) Driver() driver.Driver                        { return c.driver }

// closeConn returns c, a read connection, to its pool, or closes it for
// good when it is still inside a transaction (a ROLLBACK that failed, a
// path that forgot one): the next read must never run inside another's
// transaction. Returning driver.ErrBadConn from Raw makes database/sql
// discard the connection.
func closeConn(c *sql.Conn) {
	c.Raw(func(dc any) error { //nolint:errcheck // ErrBadConn is the point
		if !dc.(*sqlite3.SQLiteConn).AutoCommit() {
			return driver.ErrBadConn
		}
		return nil
	})
	c.Close()
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

// asFuncError is funcError for an error carrying a SQLSTATE (a
// *pgerror.Error from pgvalue's input rules, say); other errors and nil
// pass unchanged.
func asFuncError(err error) error {
	if e := pgerror.As(err); e != nil {
		if e.Detail != "" || e.Hint != "" {
			return funcErrorDetail(e.Code, e.Message, e.Detail, e.Hint)
		}
		return funcError(e.Code, e.Message)
	}
	return err
}

// detailSep separates a function error's message from its detail and
// hint (funcErrorDetail); no message of ours contains it.
const detailSep = "\x1f"

// funcErrorDetail is funcError with PostgreSQL's DETAIL and HINT.
func funcErrorDetail(code, msg, detail, hint string) error {
	return funcError(code, msg+detailSep+detail+detailSep+hint)
}

// splitDetail undoes funcErrorDetail on a function error's text.
func splitDetail(text string) (msg, detail, hint string) {
	parts := strings.SplitN(text, detailSep, 3)
	if len(parts) != 3 {
		return text, "", ""
	}
	return parts[0], parts[1], parts[2]
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
