package pgwire

import (
	"fmt"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// This file is the only place that builds an ErrorResponse.

// sendError queues an ErrorResponse for err and reports whether it was FATAL,
// after which the connection must close. A *pgerror.Error goes out as is; any
// other error goes out as XX000 "internal error" and is logged, since its text
// was never meant for a client.
func (c *conn) sendError(err error) (fatal bool) {
	pe := c.clientError(err)
	c.send(errorResponse(pe))
	return pe.Severity == pgerror.SeverityFatal || pe.Severity == "PANIC"
}

// sendFatal sends err as a FATAL ErrorResponse and flushes: the caller closes
// the connection next.
func (c *conn) sendFatal(err error) {
	pe := *c.clientError(err) // a copy: the caller's error keeps its severity
	pe.Severity = pgerror.SeverityFatal
	c.send(errorResponse(&pe))
	c.flush()
}

// clientError returns what the client may see of err.
func (c *conn) clientError(err error) *pgerror.Error {
	pe := pgerror.As(err)
	if pe == nil {
		c.log.Error("internal error", logKeyErr, err)
		return &pgerror.Error{Code: pgerror.InternalError, Message: "internal error"}
	}
	c.log.Debug("error response", logKeySQLState, pe.Code, logKeyErr, pe.Message)
	return pe
}

// errorResponse lays out pe's fields as an ErrorResponse.
func errorResponse(pe *pgerror.Error) *pgproto3.ErrorResponse {
	sev := pe.Severity
	if sev == "" {
		sev = pgerror.SeverityError
	}
	code := pe.Code
	if code == "" {
		code = pgerror.InternalError
	}
	return &pgproto3.ErrorResponse{
		Severity:            sev,
		SeverityUnlocalized: sev,
		Code:                code,
		Message:             pe.Message,
		Detail:              pe.Detail,
		Hint:                pe.Hint,
		Position:            pe.Position,
		Where:               pe.Where,
		TableName:           pe.Table,
		ColumnName:          pe.Column,
		ConstraintName:      pe.Constraint,
	}
}

// protocolViolation is the FATAL 08P01 for bytes that break the protocol.
func protocolViolation(format string, args ...any) *pgerror.Error {
	return &pgerror.Error{Severity: pgerror.SeverityFatal, Code: pgerror.ProtocolViolation,
		Message: fmt.Sprintf(format, args...)}
}

// adminShutdown is what PostgreSQL sends to sessions it terminates on
// shutdown.
func adminShutdown() *pgerror.Error {
	return &pgerror.Error{Severity: pgerror.SeverityFatal, Code: pgerror.AdminShutdown,
		Message: "terminating connection due to administrator command"}
}
