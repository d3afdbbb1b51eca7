package sqlengine

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/pgraft/pgraft/pgwire/pgerror"
	"github.com/pgraft/pgraft/sqlengine/translate"
)

// Node-local statistics views: pg_stat_activity (this node's sessions),
// pg_stat_replication (on the leader, one row per follower) and
// pg_stat_wal_receiver (on a follower, its link to the leader). Their rows live
// in the server, not in the database, and differ between nodes, so:
//
//   - translation turns a reference to either view into a query over
//     json_each(pgraft_stat_activity('viewer')) (translate.NodeStatsQuery),
//     the viewer being the session's user, whom the rows are masked for;
//   - on read connections those functions ask Config.NodeStats;
//   - on the write connection they fail with 0A000, so that no write, and
//     no read inside a write transaction, can depend on them (I3): the
//     failure is the same on every node.

// NodeStats provides the rows of the node-local statistics views. Its
// methods are called from SQLite on read connections, while a statement
// runs: they must not block for long nor touch the database.
type NodeStats interface {
	// Activity lists this node's client sessions as viewer may see them
	// (PostgreSQL hides other users' query text and details from a
	// non-superuser).
	Activity(viewer string) []Activity
	// Replication lists the followers this node streams to: empty unless
	// it leads.
	Replication(viewer string) []Replication
	// WalReceiver is the follower's link to its leader: empty on the
	// leader, or while no leader is known.
	WalReceiver(viewer string) []WalReceiver
}

// Activity is one row of pg_stat_activity. Zero times and "" strings are
// NULL.
type Activity struct {
	PID             uint32
	Database        string
	User            string
	ApplicationName string
	ClientAddr      string
	ClientPort      int // -1 for a Unix socket, 0 unknown (NULL)
	BackendStart    time.Time
	XactStart       time.Time
	QueryStart      time.Time
	StateChange     time.Time
	State           string // active, idle, idle in transaction, idle in transaction (aborted)
	Query           string
	BackendType     string // client backend
	// Masked: another user's session the viewer may not see (PID and User
	// shown, Query says so, the rest NULL).
	Masked bool
}

// Replication is one row of pg_stat_replication. LSNs are log indexes
// (shown as PostgreSQL LSN text, translate.FormatLSN); zero values are NULL.
type Replication struct {
	User                          string
	ApplicationName               string
	ClientAddr                    string
	ClientPort                    int
	State                         string // streaming, catchup
	SentLSN, WriteLSN             uint64
	FlushLSN, ReplayLSN           uint64
	WriteLag, FlushLag, ReplayLag time.Duration
	SyncPriority                  int
	SyncState                     string // quorum
}

// jsonNull returns nil for the zero value, else v.
// WalReceiver is the row of pg_stat_wal_receiver. LSNs are log indexes;
// zero values are NULL.
type WalReceiver struct {
	Status       string // streaming
	WrittenLSN   uint64 // the follower's last log index
	FlushedLSN   uint64 // the same: Raft syncs the log before it acknowledges
	LatestEndLSN uint64 // the commit index the follower knows
	SenderHost   string
	SenderPort   int
}

func jsonNull[T comparable](v T) any {
	var zero T
	if v == zero {
		return nil
	}
	return v
}

func jsonTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return formatTimestamp(t.UTC())
}

func jsonLSN(index uint64) any {
	if index == 0 {
		return nil
	}
	return translate.FormatLSN(index)
}

func jsonLag(d time.Duration) any {
	if d <= 0 {
		return nil
	}
	return formatDuration(d)
}

// formatDuration is an interval's storage form (PostgreSQL's output) for a
// duration under a day: HH:MM:SS[.ffffff].
func formatDuration(d time.Duration) string {
	us := d.Microseconds()
	h, m, s, f := us/3_600_000_000, us/60_000_000%60, us/1_000_000%60, us%1_000_000
	out := fmt.Sprintf("%02d:%02d:%02d", h, m, s)
	if f != 0 {
		frac := strconv.FormatInt(f+1_000_000, 10)[1:]
		for frac[len(frac)-1] == '0' {
			frac = frac[:len(frac)-1]
		}
		out += "." + frac
	}
	return out
}

func activityJSON(rows []Activity) (string, error) {
	out := make([]map[string]any, len(rows))
	for i, r := range rows {
		port, app := any(nil), any(r.ApplicationName)
		if r.ClientPort != 0 {
			port = r.ClientPort
		}
		if r.Masked {
			app = nil
		}
		out[i] = map[string]any{
			"pid": r.PID, "datname": jsonNull(r.Database), "usename": jsonNull(r.User),
			"application_name": app, "client_addr": jsonNull(r.ClientAddr), "client_port": port,
			"backend_start": jsonTime(r.BackendStart), "xact_start": jsonTime(r.XactStart),
			"query_start": jsonTime(r.QueryStart), "state_change": jsonTime(r.StateChange),
			"state": jsonNull(r.State), "query": r.Query, "backend_type": jsonNull(r.BackendType),
		}
	}
	b, err := json.Marshal(out)
	return string(b), err
}

func replicationJSON(rows []Replication) (string, error) {
	out := make([]map[string]any, len(rows))
	for i, r := range rows {
		out[i] = map[string]any{
			"usename": jsonNull(r.User), "application_name": jsonNull(r.ApplicationName),
			"client_addr": jsonNull(r.ClientAddr), "client_port": jsonNull(r.ClientPort), "state": jsonNull(r.State),
			"sent_lsn": jsonLSN(r.SentLSN), "write_lsn": jsonLSN(r.WriteLSN),
			"flush_lsn": jsonLSN(r.FlushLSN), "replay_lsn": jsonLSN(r.ReplayLSN),
			"write_lag": jsonLag(r.WriteLag), "flush_lag": jsonLag(r.FlushLag), "replay_lag": jsonLag(r.ReplayLag),
			"sync_priority": jsonNull(r.SyncPriority), "sync_state": jsonNull(r.SyncState),
		}
	}
	b, err := json.Marshal(out)
	return string(b), err
}

func walReceiverJSON(rows []WalReceiver) (string, error) {
	out := make([]map[string]any, len(rows))
	for i, r := range rows {
		out[i] = map[string]any{
			"status": jsonNull(r.Status), "written_lsn": jsonLSN(r.WrittenLSN), "flushed_lsn": jsonLSN(r.FlushedLSN),
			"latest_end_lsn": jsonLSN(r.LatestEndLSN), "sender_host": jsonNull(r.SenderHost),
			"sender_port": jsonNull(r.SenderPort),
		}
	}
	b, err := json.Marshal(out)
	return string(b), err
}

// registerNodeStatsRead gives a read connection the functions behind the
// node-local views, answered by stats (nil: no rows).
func registerNodeStatsRead(c *sqlite3.SQLiteConn, stats NodeStats) error {
	fns := map[string]any{
		translate.StatActivityFunc: func(viewer string) (string, error) {
			if stats == nil {
				return "[]", nil
			}
			return activityJSON(stats.Activity(viewer))
		},
		translate.StatReplicationFunc: func(viewer string) (string, error) {
			if stats == nil {
				return "[]", nil
			}
			return replicationJSON(stats.Replication(viewer))
		},
		translate.StatWalReceiverFunc: func(viewer string) (string, error) {
			if stats == nil {
				return "[]", nil
			}
			return walReceiverJSON(stats.WalReceiver(viewer))
		},
	}
	for name, fn := range fns {
		if err := registerGuarded(c, name, fn, false); err != nil {
			return err
		}
	}
	return nil
}

// registerNodeStatsWrite gives the write connection stand-ins that fail:
// a write must not read what differs between nodes.
func registerNodeStatsWrite(c *sqlite3.SQLiteConn) error {
	for name, view := range map[string]string{translate.StatActivityFunc: "pg_stat_activity",
		translate.StatReplicationFunc: "pg_stat_replication", translate.StatWalReceiverFunc: "pg_stat_wal_receiver"} {
		msg := view + " cannot be read in a write or a transaction that writes: its rows differ between nodes"
		fn := func(string) (string, error) { return "", funcError(pgerror.FeatureNotSupported, msg) }
		if err := registerGuarded(c, name, fn, false); err != nil {
			return err
		}
	}
	return nil
}
