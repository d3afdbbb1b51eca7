package translate

import (
	"fmt"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/pgraft/pgraft/pgvalue"
)

// Node-local statistics views (sqlengine/nodestats.go): pg_stat_activity,
// pg_stat_replication and pg_stat_wal_receiver have rows the server keeps,
// not the database. A
// reference to one translates to a query over the JSON a function of the
// read connection returns for the session's user, who the rows are masked
// for: (SELECT … FROM json_each(pgraft_stat_activity('alice'))).

// The SQLite functions behind the views (registered by sqlengine).
const (
	StatActivityFunc    = "pgraft_stat_activity"
	StatReplicationFunc = "pgraft_stat_replication"
	StatWalReceiverFunc = "pgraft_stat_wal_receiver"
)

// statCol is one column of a node-local view: its name and the SQL that
// computes it from a json_each row ("" = the JSON field of that name).
type statCol struct{ name, expr string }

var nodeStatsViews = map[string]struct {
	fn   string
	cols []statCol
}{
	"pg_stat_activity": {StatActivityFunc, []statCol{
		{"datid", "CASE WHEN json_extract(value, '$.datname') IS NOT NULL THEN 5 END"}, {"datname", ""}, {"pid", ""}, {"leader_pid", "NULL"},
		{"usesysid", "(SELECT a.oid FROM pg_authid a WHERE a.rolname = json_extract(value, '$.usename'))"},
		{"usename", ""}, {"application_name", ""}, {"client_addr", ""}, {"client_hostname", "NULL"},
		{"client_port", ""}, {"backend_start", ""}, {"xact_start", ""}, {"query_start", ""},
		{"state_change", ""}, {"wait_event_type", "NULL"}, {"wait_event", "NULL"}, {"state", ""},
		{"backend_xid", "NULL"}, {"backend_xmin", "NULL"}, {"query_id", "NULL"}, {"query", ""},
		{"backend_type", ""},
	}},
	"pg_stat_replication": {StatReplicationFunc, []statCol{
		{"pid", "0"},
		{"usesysid", "(SELECT a.oid FROM pg_authid a WHERE a.rolname = json_extract(value, '$.usename'))"},
		{"usename", ""}, {"application_name", ""}, {"client_addr", ""}, {"client_hostname", "NULL"},
		{"client_port", ""}, {"backend_start", "NULL"}, {"backend_xmin", "NULL"}, {"state", ""},
		{"sent_lsn", ""}, {"write_lsn", ""}, {"flush_lsn", ""}, {"replay_lsn", ""},
		{"write_lag", ""}, {"flush_lag", ""}, {"replay_lag", ""}, {"sync_priority", ""},
		{"sync_state", ""}, {"reply_time", "NULL"},
	}},
	"pg_stat_wal_receiver": {StatWalReceiverFunc, []statCol{
		{"pid", "0"}, {"status", ""}, {"receive_start_lsn", "NULL"}, {"receive_start_tli", "NULL"},
		{"written_lsn", ""}, {"flushed_lsn", ""}, {"received_tli", "1"}, {"last_msg_send_time", "NULL"},
		{"last_msg_receipt_time", "NULL"}, {"latest_end_lsn", ""}, {"latest_end_time", "NULL"},
		{"slot_name", "NULL"}, {"sender_host", ""}, {"sender_port", ""}, {"conninfo", "NULL"},
	}},
}

// NodeStatsQuery is the SELECT standing for a node-local view, its rows
// as viewer may see them; ok is false for any other relation.
func NodeStatsQuery(view, viewer string) (q string, ok bool) {
	v, ok := nodeStatsViews[view]
	if !ok {
		return "", false
	}
	var b strings.Builder
	b.WriteString("SELECT ")
	for i, c := range v.cols {
		if i > 0 {
			b.WriteString(", ")
		}
		expr := c.expr
		if expr == "" {
			expr = "json_extract(value, '$." + c.name + "')"
		}
		b.WriteString(expr + " AS " + QuoteIdent(c.name))
	}
	b.WriteString(" FROM json_each(" + v.fn + "('" + strings.ReplaceAll(viewer, "'", "''") + "'))")
	return b.String(), true
}

// nodeStatsRef returns the FROM item for a reference to a node-local view
// (a parenthesized query the caller gives an alias), if rv is one.
func (t *translator) nodeStatsRef(rv *pg.RangeVar, view string) (string, bool) {
	if !t.catalogRef(rv) {
		return "", false
	}
	viewer := t.setting("session_authorization")
	t.quoteString(viewer) // refuses a NUL
	q, ok := NodeStatsQuery(view, viewer)
	if !ok {
		return "", false
	}
	return "(" + q + ")", true
}

// nodeStatsEntry is the scope entry of a node-local view: all its columns
// are known, so that a * over it keeps their types.
func nodeStatsEntry(alias, view string) *relEntry {
	e := &relEntry{name: alias, known: true}
	for _, c := range nodeStatsViews[view].cols {
		oid, ok := catalogTypedColumns[view][c.name]
		switch {
		case c.name == "datid" || c.name == "usesysid":
			oid = pgvalue.OIDOid
		case !ok:
			oid = pgvalue.OIDText
		}
		e.cols = append(e.cols, colInfo{name: c.name, typ: typed(oid)})
	}
	return e
}

// FormatLSN shows a log index as a PostgreSQL LSN (pg_lsn's text form,
// high and low 32 bits in hex): index 26 is 0/1A, so that
// pg_wal_lsn_diff-style arithmetic counts entries.
func FormatLSN(index uint64) string {
	return fmt.Sprintf("%X/%X", index>>32, index&0xFFFFFFFF)
}
