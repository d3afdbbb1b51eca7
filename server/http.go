package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/pgraft/pgraft/replica"
)

// clusterNode is what the operator's endpoints and the fault watcher
// (fault.go) need from replication.
type clusterNode interface {
	Status() replica.Status                           // this node's view, local state only
	ClusterStatus(ctx context.Context) replica.Status // Status, and every member's own answer
	CommittedDataIndex() uint64                       // the commit index, lowered past raft's own entries
	RemoveMember(ctx context.Context, id string) error
	// TransferLeadership hands leadership to the most up-to-date voter, if
	// this node leads and there is one.
	TransferLeadership(ctx context.Context) error
}

// Status is what /status reports: this node, and every member as the
// cluster sees it (lag is the highest commit index any member reports minus
// the member's applied index).
type Status struct {
	NodeID       string `json:"node_id"`
	Role         string `json:"role"`
	Leader       string `json:"leader"`
	LeaderAddr   string `json:"leader_addr"`
	Term         uint64 `json:"term"`
	AppliedIndex uint64 `json:"applied_index"`
	CommitIndex  uint64 `json:"commit_index"`
	// CommittedDataIndex is the last committed entry the state machine
	// sees (a command or a membership change): the commit index less the
	// no-op and barrier entries of leader changes at the log's end, which
	// never move applied_index. A node has applied everything committed
	// once applied_index reaches it.
	CommittedDataIndex uint64           `json:"committed_data_index"`
	LastIndex          uint64           `json:"last_index"`
	LastSnapshotIndex  uint64           `json:"last_snapshot_index"`
	PGAddr             string           `json:"pg_addr"`
	Members            []replica.Member `json:"members,omitempty"`
	// ForwardedSessions counts the leader-side sessions serving followers'
	// sessions on this node (write forwarding, DESIGN.md §7).
	ForwardedSessions int64 `json:"forwarded_sessions"`
	// Sessions counts the client sessions, at most MaxConnections.
	Sessions       int64 `json:"sessions"`
	MaxConnections int   `json:"max_connections"`
	// ReadConnsOpen and ReadConnsInUse describe the read pool: connections
	// open, and those serving a read (a long one holds its connection).
	ReadConnsOpen  int `json:"read_conns_open"`
	ReadConnsInUse int `json:"read_conns_in_use"`
}

// Status returns this node's status; with members, it also asks every
// member for its own (bounded by ctx).
func (s *Server) Status(ctx context.Context, members bool) Status {
	st := s.cluster.Status()
	if members {
		st = s.cluster.ClusterStatus(ctx)
	}
	open, inUse := s.eng.ReadStats()
	// A member that applied everything this node knows committed lags 0:
	// raft's own entries (a new leader's no-op) never move applied_index.
	data := s.cluster.CommittedDataIndex()
	for i := range st.Members {
		if m := &st.Members[i]; m.Probed {
			m.Lag = 0
			if data > m.AppliedIndex {
				m.Lag = data - m.AppliedIndex
			}
		}
	}
	return Status{
		NodeID: s.cfg.NodeID, Role: st.State, Leader: st.LeaderID, LeaderAddr: st.LeaderAddr,
		Term: st.Term, AppliedIndex: st.AppliedIndex, CommitIndex: st.CommitIndex,
		CommittedDataIndex: s.cluster.CommittedDataIndex(),
		LastIndex:          st.LastIndex, LastSnapshotIndex: st.LastSnapshotIndex, PGAddr: s.PGAddr(),
		Members: st.Members, ForwardedSessions: s.forwardSessions.Load(),
		Sessions: s.sessions.Load(), MaxConnections: s.cfg.MaxConnections,
		ReadConnsOpen: open, ReadConnsInUse: inUse,
	}
}

func (s *Server) httpHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if err := s.checkRead(r.Context()); err != nil {
			http.Error(w, "unhealthy: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if why := s.readiness(); why != "" {
			http.Error(w, "not ready: "+why, http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ready\n"))
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}))
	s.statusPageRoutes(mux) // GET /, /status/history, /static/ (statuspage.go)
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		writeJSON(w, http.StatusOK, s.Status(ctx, true))
	})
	// Profiles for operators (go tool pprof http://HOST/debug/pprof/profile),
	// only with Config.Pprof, and as administration (admin.go).
	if s.cfg.Pprof {
		mux.HandleFunc("GET /debug/pprof/", s.admin(pprof.Index))
		mux.HandleFunc("GET /debug/pprof/profile", s.admin(pprof.Profile))
		mux.HandleFunc("GET /debug/pprof/trace", s.admin(pprof.Trace))
	}
	mux.HandleFunc("POST /backup", s.admin(s.handleBackup)) // backup.go
	mux.HandleFunc("POST /remove", s.admin(func(w http.ResponseWriter, r *http.Request) {
		id := r.URL.Query().Get("node_id")
		if id == "" {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "node_id is required"})
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
		defer cancel()
		if err := s.cluster.RemoveMember(ctx, id); err != nil {
			writeJSON(w, http.StatusConflict, map[string]string{"error": err.Error()})
			return
		}
		s.log.Info("member removed", "removed", id)
		writeJSON(w, http.StatusOK, map[string]string{"removed": id})
	}))
	return mux
}

// healthTimeout bounds the SELECT 1 of /healthz.
const healthTimeout = 2 * time.Second

// checkRead is /healthz: a real SELECT 1 on the read path sessions use (a
// read connection from the pool, SQLite), within healthTimeout. A node whose
// reads cannot be served (every read connection held, SQLite stuck) is not
// healthy even though its process answers HTTP.
func (s *Server) checkRead(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	rows, err := s.eng.Query(ctx, "SELECT 1", nil)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("SELECT 1 got no answer within %v (no read connection came free)", healthTimeout)
		}
		return fmt.Errorf("SELECT 1: %w", err)
	}
	defer rows.Close()
	if !rows.Next() {
		return fmt.Errorf("SELECT 1 returned no row: %v", rows.Err())
	}
	if v, err := rows.Values(); err != nil || len(v) != 1 || v[0] != int64(1) {
		return fmt.Errorf("SELECT 1 returned %v, %v", v, err)
	}
	return nil
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}
