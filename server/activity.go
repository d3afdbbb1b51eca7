package server

import (
	"context"
	"net"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/pgraft/pgraft/sqlengine"
)

// activity.go keeps what pg_stat_activity, pg_stat_replication and
// pg_stat_wal_receiver show (sqlengine/nodestats.go): every client session
// of this node registers its activity, which the session's goroutine
// updates as statements start and end; nodeStats answers the views from the registry and from Raft. The
// rows are this node's own: writes cannot read them (the write connection
// refuses the views), so nothing node-local reaches the log.

// activity is one session's row of pg_stat_activity.
type activity struct {
	mu  sync.Mutex
	row sqlengine.Activity
}

// activities is the registry of this node's client sessions, by pid.
type activities struct {
	mu   sync.Mutex
	byID map[uint32]*activity
}

func (a *activities) add(pid uint32, act *activity) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.byID == nil {
		a.byID = make(map[uint32]*activity)
	}
	a.byID[pid] = act
}

func (a *activities) remove(pid uint32, act *activity) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.byID[pid] == act {
		delete(a.byID, pid)
	}
}

// snapshot copies every row, by pid.
func (a *activities) snapshot() []sqlengine.Activity {
	a.mu.Lock()
	acts := make([]*activity, 0, len(a.byID))
	for _, act := range a.byID {
		acts = append(acts, act)
	}
	a.mu.Unlock()
	rows := make([]sqlengine.Activity, len(acts))
	for i, act := range acts {
		act.mu.Lock()
		rows[i] = act.row
		act.mu.Unlock()
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].PID < rows[j].PID })
	return rows
}

// newActivity is a new session's row: idle, not in a transaction.
func newActivity(pid uint32, user, db, appName string, remote net.Addr) *activity {
	now := time.Now()
	row := sqlengine.Activity{PID: pid, User: user, Database: db, ApplicationName: appName,
		BackendStart: now, StateChange: now, State: "idle", BackendType: "client backend"}
	switch a := remote.(type) {
	case *net.TCPAddr:
		row.ClientAddr, row.ClientPort = a.IP.String(), a.Port
	case *net.UnixAddr:
		row.ClientPort = -1
	default:
		if remote != nil {
			if host, port, err := net.SplitHostPort(remote.String()); err == nil {
				row.ClientAddr = host
				row.ClientPort, _ = strconv.Atoi(port)
			}
		}
	}
	return &activity{row: row}
}

// statementStarted marks the session active running query; a statement
// outside a transaction block starts a transaction of its own.
func (a *activity) statementStarted(query, appName string, inBlock bool) {
	now := time.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	if !inBlock {
		a.row.XactStart = now
	}
	a.row.QueryStart, a.row.StateChange = now, now
	a.row.State, a.row.Query, a.row.ApplicationName = "active", query, appName
}

// statementDone sets the state the session is left in: txStatus is the
// ReadyForQuery status (I idle, T in a block, E in a failed block).
func (a *activity) statementDone(txStatus byte, appName string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.row.StateChange, a.row.ApplicationName = time.Now(), appName
	switch txStatus {
	case 'T':
		a.row.State = "idle in transaction"
	case 'E':
		a.row.State = "idle in transaction (aborted)"
	default:
		a.row.State = "idle"
		a.row.XactStart = time.Time{}
	}
}

// insufficientPrivilege is what PostgreSQL shows a user in place of another
// user's query.
const insufficientPrivilege = "<insufficient privilege>"

// nodeStats answers sqlengine's node-local views for this server.
type nodeStats struct{ s *Server }

var _ sqlengine.NodeStats = nodeStats{}

// Activity implements sqlengine.NodeStats: a superuser sees every session;
// any other user sees their own, and of others' only the pid and the user,
// as PostgreSQL 15 shows them without pg_read_all_stats.
func (n nodeStats) Activity(viewer string) []sqlengine.Activity {
	rows := n.s.activity.snapshot()
	if n.s.isSuperuser(viewer) {
		return rows
	}
	for i, r := range rows {
		if r.User != viewer {
			rows[i] = sqlengine.Activity{PID: r.PID, User: r.User, Query: insufficientPrivilege, Masked: true}
		}
	}
	return rows
}

// catchupLag is the lag, in entries, beyond which a follower is shown
// catching up rather than streaming.
const catchupLag = 100

// replicationWait bounds how long reading pg_stat_replication waits for the
// followers' answers.
const replicationWait = time.Second

// dataLSN lowers an index at the commit index to the last committed entry
// the state machine sees (raft's own no-op at the start of a term never
// moves the applied index), so that a follower that applied everything
// shows the same LSN sent, written, flushed and replayed.
func dataLSN(index, commit, data uint64) uint64 {
	if index == commit {
		return data
	}
	return index
}

// Replication implements sqlengine.NodeStats: on the leader, one row per
// member that answered, other than itself. LSNs are log indexes: sent is
// the leader's last index, write and flush the commit index the follower
// knows (entries it holds durably), replay its applied index.
func (n nodeStats) Replication(viewer string) []sqlengine.Replication {
	s := n.s
	if s.cluster == nil || !s.isLeader() {
		return nil
	}
	ctx, cancel := context.WithTimeout(s.bgCtx, replicationWait)
	defer cancel()
	st := s.Status(ctx, true)
	var rows []sqlengine.Replication
	for _, m := range st.Members {
		if m.ID == s.cfg.NodeID || !m.Probed || m.Unreachable {
			continue
		}
		written := dataLSN(m.CommitIndex, st.CommitIndex, st.CommittedDataIndex)
		r := sqlengine.Replication{ApplicationName: m.ID, State: "streaming",
			SentLSN:  dataLSN(st.LastIndex, st.CommitIndex, st.CommittedDataIndex),
			WriteLSN: written, FlushLSN: written, ReplayLSN: m.AppliedIndex, SyncPriority: 1, SyncState: "quorum"}
		// The lags are the time since this node applied the first entry the
		// member has not yet written or replayed (lagclock.go); 0 (NULL)
		// when it has everything, as PostgreSQL shows an idle standby.
		now := time.Now()
		r.WriteLag = s.applyClock.lag(m.CommitIndex, now)
		r.FlushLag = r.WriteLag
		r.ReplayLag = s.applyClock.lag(m.AppliedIndex, now)
		if m.Lag > catchupLag {
			r.State = "catchup"
		}
		if host, port, err := net.SplitHostPort(m.Addr); err == nil {
			r.ClientAddr = host
			r.ClientPort, _ = strconv.Atoi(port)
		}
		if !n.s.isSuperuser(viewer) { // PostgreSQL shows them to pg_read_all_stats only
			r = sqlengine.Replication{}
		}
		rows = append(rows, r)
	}
	return rows
}

// activityStarted and activityDone update the session's pg_stat_activity
// row around a statement (portal.Execute); they run on the session's
// goroutine, which alone reads its settings.
func (s *session) activityStarted(query string) {
	if s.act == nil {
		return
	}
	app, _ := s.set.get("application_name")
	s.act.statementStarted(query, app, s.TxStatus() != 'I')
}

func (s *session) activityDone() {
	if s.act == nil {
		return
	}
	app, _ := s.set.get("application_name")
	s.act.statementDone(s.TxStatus(), app)
}

// WalReceiver implements sqlengine.NodeStats: on a follower that knows its
// leader, one row; LSNs are log indexes as in Replication.
func (n nodeStats) WalReceiver(viewer string) []sqlengine.WalReceiver {
	s := n.s
	if s.cluster == nil || s.isLeader() {
		return nil
	}
	st := s.cluster.Status()
	if st.LeaderAddr == "" {
		return nil
	}
	if !s.isSuperuser(viewer) { // PostgreSQL shows pid alone without pg_read_all_stats
		return []sqlengine.WalReceiver{{}}
	}
	data := s.cluster.CommittedDataIndex()
	written := dataLSN(st.LastIndex, st.CommitIndex, data)
	r := sqlengine.WalReceiver{Status: "streaming", WrittenLSN: written, FlushedLSN: written, LatestEndLSN: data}
	if host, port, err := net.SplitHostPort(st.LeaderAddr); err == nil {
		r.SenderHost = host
		r.SenderPort, _ = strconv.Atoi(port)
	}
	return []sqlengine.WalReceiver{r}
}
