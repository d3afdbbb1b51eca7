// Package pgtest runs protocol conformance scripts: conversations of
// frontend messages and the backend messages a PostgreSQL server answers
// with, in the style of CockroachDB's pgtest. The same script runs against
// pgraft and, to prove its expectations, against real PostgreSQL 15.
//
// It knows only the wire protocol (pgproto3) and nothing of pgraft, so any
// server that speaks PostgreSQL can be its target.
//
// # Script format
//
// A script is a sequence of blocks separated by blank lines; lines starting
// with '#' outside a block's output are comments. Each block is a directive
// line, its arguments, a "----" line and the expected output, which runs to
// the next blank line or the end of the file:
//
//	send
//	Parse {"Name": "s1", "Query": "SELECT $1::int4"}
//	Bind {"PreparedStatement": "s1", "Parameters": [{"text": "7"}]}
//	Execute
//	Sync
//	----
//
//	until keep_messages
//	ReadyForQuery
//	----
//	{"Type":"ParseComplete"}
//	...
//
// send: each argument line is one frontend message, "Type" or "Type {json}",
// with the JSON fields of the pgproto3 struct of that name: Query, Parse,
// Bind, Describe, Execute, Sync, Flush, Close, Terminate, CopyData, CopyDone
// and CopyFail. "Raw {"Hex": "..."}" writes bytes as they are, for malformed
// input. All messages of a block go out in one write, so a block with
// several Sync messages is a pipeline. A send block has no output.
//
// until: each argument line names a backend message type; the runner reads
// messages until it has seen each named type in turn (so "ReadyForQuery"
// twice waits for two of them) and prints every message it read, one JSON
// object per line. Options on the directive line:
//
//   - keep_messages: print Message of ErrorResponse and NoticeResponse too
//     (by default only Code is printed, since wording differs between servers);
//   - keep_attnums: print TableAttributeNumber of RowDescription fields
//     (the column's position in its table, 0 for an expression);
//   - ignore=T1,T2: read but do not print messages of these types;
//   - keep=T1,T2: print types ignored by default (ParameterStatus,
//     BackendKeyData, which are session noise).
//
// Output is normalized so that it does not depend on the server instance:
// RowDescription omits TableOID (PostgreSQL assigns table OIDs by history)
// and, unless asked, TableAttributeNumber; DataRow values print as {"text": ...},
// {"binary": hex} (when a value has control bytes or is not UTF-8) or null.
// Expected lines are compared as JSON values, so spacing and key order in a
// hand-written expectation do not matter.
//
// Goroutines: none. A Conn is used by one goroutine at a time; every read
// has a deadline (Config.Timeout) so a missing message fails a script
// instead of hanging it.
package pgtest
