// Package pgwire speaks the PostgreSQL frontend/backend protocol (version
// 3.0) on top of pgproto3 and knows nothing of SQL: every statement goes to a
// Session that the server package implements (see handler.go).
//
// # Layers
//
//   - Server (server.go): a net/http-shaped listener loop. Serve accepts
//     connections, Shutdown drains them, Close drops them. It owns the cancel
//     key registry (cancel.go).
//   - Pre-serve (startup.go): SSLRequest and GSSENCRequest ('N', or TLS when
//     Server.TLSConfig is set), CancelRequest (cancel.go), the StartupMessage
//     with NegotiateProtocolVersion, then the authenticator step (trust today;
//     cleartext and SCRAM-SHA-256 plug in behind the same seam) and
//     Handler.NewSession.
//   - Conn (conn.go): one loop per connection that reads a message and hands
//     it to the simple (simple.go) or extended (extended.go) query flow; it
//     owns the output buffer and the prepared statements and portals.
//   - Values: encode.go turns row values into PostgreSQL 15 text output
//     (float, numeric, bytea and date/time rules from pgvalue) or binary
//     (via pgtype); decode.go turns Bind parameters into the Go types listed
//     on Portal (boolean and bytea input from pgvalue).
//   - COPY (copy.go): the copy sub-protocol, through the Copier a COPY
//     portal finds in its RowWriter; copyformat.go: PostgreSQL 15's text,
//     csv and binary COPY formats (records, escapes, quoting, framing).
//   - Errors (errors.go): the only place that builds an ErrorResponse.
//
// # Goroutines
//
// Serve runs on its caller's goroutine. Each accepted connection gets exactly
// one goroutine, started by Serve and owned by the Server: Shutdown and Close
// wait for all of them. A connection's goroutine is the only one that reads
// its socket, writes its socket, and calls its Session's methods, except
// Session.Cancel, which the goroutine of a CancelRequest connection calls.
// While a connection is busy (from the message after a ReadyForQuery to the
// next ReadyForQuery), a timer checks every ClientCheckInterval whether its
// client hung up (peer.go: poll, never read) and if so cancels the
// connection's context, which ends the running statement and then the
// connection. The connection stops the timer when it ends.
//
// # Invariants
//
//   - Bad input hurts only its sender: a framing error, an unknown message or
//     an oversized one sends a FATAL 08P01 (54000 for size) and closes that
//     connection; a panic in a connection, including one raised by a Session
//     method, is recovered, logged with its stack, and closes only that
//     connection.
//   - Output is written once per sync point (ReadyForQuery, Flush) and also
//     whenever the buffer passes flushThreshold, so a long result never sits
//     whole in memory.
//   - After an error in the extended protocol every message up to the next
//     Sync is ignored (ignoreUntilSync), as PostgreSQL does.
//   - During copy-in, Flush and Sync are ignored and any message but
//     CopyData, CopyDone and CopyFail is FATAL 08P01; outside it, CopyData,
//     CopyDone and CopyFail are ignored (the rest of a failed COPY).
//   - Before every ReadyForQuery, each ParameterStatus whose value changed
//     since it was last sent is sent again.
//   - Session.Close is called exactly once for every session that
//     Handler.NewSession returned, whatever ends the connection.
package pgwire
