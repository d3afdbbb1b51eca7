// Package server is the one package that knows pgwire, replica and
// sqlengine together, and holds the policy between them: sessions
// (session.go) implement pgwire.Session and translate statements through
// the node's translate.Cache (Server.translations), which also keeps each
// statement's row description (statement.go); route.go decides where each
// statement runs; txn.go is the transaction state machine; gate.go admits
// writes on the leader (DESIGN.md §4); errors.go turns replica outcomes into
// SQLSTATEs; http.go serves /healthz, /readyz and /status.
//
// Goroutines: the PostgreSQL and HTTP accept loops, owned by Server and
// stopped by Shutdown; one timer per session transaction that holds the write
// gate (pgraft.idle_write_timeout), stopped when the transaction ends.
//
// Invariants:
//   - A write is acknowledged only with the leader's own Apply result, after
//     its entry committed (I4); an unknown outcome is 40003.
//   - At most one interactive write transaction holds the gate, and so the
//     write connection, at a time (I5).
//   - Session state is touched by the connection's goroutine, and by the
//     idle timer only under session.mu.
//   - Every wait and every SQLite step of a statement runs under its
//     statement context (session.statementContext): statement_timeout,
//     CancelRequest and a client gone (pgwire's check) end it with 57014,
//     interrupting SQLite; streaming rows follow whichever Execute or FETCH
//     reads them (portal.link).
//   - At most Config.MaxConnections client sessions (53300 beyond), and a
//     read connection for each of them plus readReserve: one session's long
//     read never starves another's. /healthz runs a real SELECT 1.
package server
