package pgwire

import (
	"context"
	"net"
)

// Column describes one result column: a RowDescription field. The format
// code is not here: pgwire takes it from the client's Bind.
type Column struct {
	Name     string
	TableOID uint32 // 0 when the column is not a plain table column
	AttNum   int16  // 0 when the column is not a plain table column
	TypeOID  uint32 // drives the text and binary encoding of the values
	TypeSize int16  // pg_type.typlen: 8 for int8, -1 for varlena
	TypeMod  int32  // -1 when none
}

// StartupInfo is what the client sent in its StartupMessage, once it is
// authenticated, plus the cancel key pgwire assigned to the connection.
type StartupInfo struct {
	User       string
	Database   string
	Params     map[string]string // every startup parameter, "options" and "application_name" included
	RemoteAddr net.Addr
	ProcessID  uint32 // BackendKeyData process id
	SecretKey  uint32 // BackendKeyData secret key
}

// Handler creates a Session for each authenticated connection.
//
// NewSession is called on the connection's goroutine. An error that is a
// *pgerror.Error is sent as a FATAL ErrorResponse (e.g. 57P03, 3D000) and the
// connection is closed; any other error goes out as XX000.
type Handler interface {
	NewSession(ctx context.Context, info StartupInfo) (Session, error)
}

// Session is one client connection's SQL state, as the protocol layer sees
// it. pgwire calls every method except Cancel from the connection's single
// goroutine, so implementations need no locking for those; Cancel may be
// called from any goroutine at any time.
//
// A panic in any method is recovered by pgwire: it is logged with its stack,
// and only that connection is closed.
//
// The ctx given to a method ends when the server closes, and when the client
// is found gone while the connection is busy (Server.ClientCheckInterval);
// context.Cause is then a FATAL 08006 *pgerror.Error, which a statement may
// return as its error: the connection ends after the call.
type Session interface {
	// ParameterStatus returns the current values of the parameters reported
	// to the client (server_version, TimeZone, in_hot_standby, …). pgwire
	// sends all of them after authentication, and before every ReadyForQuery
	// those whose value changed since it last sent them.
	ParameterStatus() map[string]string

	// TxStatus is the ReadyForQuery status: 'I' idle, 'T' in a transaction
	// block, 'E' in a failed transaction block.
	TxStatus() byte

	// Parse parses a query string into statements. The simple protocol
	// passes paramOIDs nil and runs every statement returned, in order,
	// stopping at the first error. The extended protocol (Parse message)
	// passes the client's parameter OIDs (0 = unspecified) and needs at most
	// one statement: pgwire answers 42601 "cannot insert multiple commands
	// into a prepared statement" otherwise. An empty or comment-only string
	// returns no statements (EmptyQueryResponse). Errors are *pgerror.Error.
	Parse(ctx context.Context, sql string, paramOIDs []uint32) ([]Statement, error)

	// Sync ends an implicit transaction (DESIGN.md §7, PostgreSQL's
	// "extended query" rules): pgwire calls it at every Sync message and at
	// the end of every simple Query, before ReadyForQuery. Statements run
	// between two sync points outside a transaction block form one implicit
	// transaction: the session commits it here, or rolls it back when one of
	// its statements failed. An error (the commit failed) is sent to the
	// client before ReadyForQuery.
	Sync(ctx context.Context) error

	// Cancel interrupts the statement running on this session, if any; the
	// interrupted statement fails with 57014. Called by pgwire when a
	// CancelRequest with this session's key arrives, from another goroutine.
	Cancel()

	// Close ends the session: the client terminated or the connection broke.
	// An open transaction is rolled back.
	Close()
}

// CursorFinder is implemented by sessions whose SQL-level cursors (DECLARE
// … CURSOR) are also protocol portals, as in PostgreSQL: Describe and Execute
// of a portal name that no Bind created look the name up here.
type CursorFinder interface {
	FindCursor(name string) (Portal, bool)
}

// Statement is a parsed (prepared) statement.
type Statement interface {
	// ParamOIDs returns one type OID per parameter ($1…$n), with the ones
	// the client left unspecified inferred. 0 means still unknown: pgwire
	// reports and decodes such a parameter as text (25).
	ParamOIDs() []uint32

	// Columns returns the columns the statement's rows will have, or nil
	// when it returns no rows (NoData). Used for Describe of a statement.
	Columns(ctx context.Context) ([]Column, error)

	// Bind makes a portal from decoded argument values (see Portal for the Go
	// types). args has exactly len(ParamOIDs()) elements.
	Bind(ctx context.Context, args []any) (Portal, error)

	// Close releases the statement (Close message, or its name reused).
	Close()
}

// Portal is a statement bound to its arguments, ready to run and possibly
// suspended after a row limit.
//
// Argument values handed to Bind, and row values written to a RowWriter, use
// these Go types: nil (NULL), bool, int64, float64, string, []byte,
// time.Time, pgvalue.InfiniteTime and pgvalue.Timetz. pgwire decodes parameters to them from text or binary by the
// parameter's OID (text-format parameters of unknown or textual OIDs arrive as
// string; int2/int4/int8/oid as int64; float4/float8 as float64; bool as bool;
// bytea as []byte; date/timestamp/timestamptz as time.Time, or
// pgvalue.InfiniteTime for infinity and -infinity; a binary timetz as
// pgvalue.Timetz; uuid, numeric,
// json and everything else as string), and encodes row values by the column's
// TypeOID in the format the client asked for.
type Portal interface {
	// Columns is the RowDescription of the rows Execute writes, nil if none.
	Columns() []Column

	// Execute runs the portal or continues a suspended one, writing at most
	// maxRows rows (0 = no limit) to w. When the limit stopped it with rows
	// left, it returns done=false (PortalSuspended) and tag is unused;
	// otherwise done=true and tag is the CommandComplete tag ("SELECT 3",
	// "INSERT 0 1", "BEGIN"), or "" for an empty query (EmptyQueryResponse).
	Execute(ctx context.Context, maxRows int, w RowWriter) (tag string, done bool, err error)

	// Close releases the portal (Close message, end of transaction, or
	// connection end). A suspended portal may still hold resources.
	Close()
}

type moreKey struct{}

type requestKey struct{}

// withRequestID marks ctx with the client request it serves.
func withRequestID(ctx context.Context, id uint64) context.Context {
	return context.WithValue(ctx, requestKey{}, id+1)
}

// RequestID identifies, for the ctx given to a Session's or Statement's
// methods, the client request the call serves: one simple Query message, or
// the extended-protocol messages up to a Sync or Flush. The client can see
// no answer within a request, so its calls are one operation for it: a
// session may share between them what only has to happen after the
// request began (a linearizable read's read index). 0 means unknown.
func RequestID(ctx context.Context) uint64 {
	id, _ := ctx.Value(requestKey{}).(uint64)
	return id
}

// withMoreBeforeSync marks ctx as belonging to a statement that is followed by
// more statements before the next sync point.
func withMoreBeforeSync(ctx context.Context, more bool) context.Context {
	return context.WithValue(ctx, moreKey{}, more)
}

// MoreBeforeSync reports, for the ctx given to Portal.Execute, whether the
// client sent further statements before the next sync point (several
// statements in one simple Query, or Execute messages in one Sync group).
// A session uses it to decide whether a write outside a transaction block
// can commit alone or opens the implicit transaction that Sync ends.
func MoreBeforeSync(ctx context.Context) bool {
	more, _ := ctx.Value(moreKey{}).(bool)
	return more
}

// RowWriter receives a portal's rows. The values slice is only valid during
// the call.
type RowWriter interface {
	WriteRow(values []any) error
}
