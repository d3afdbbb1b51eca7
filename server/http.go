package server

import (
	"encoding/json"
	"net/http"
)

// Status is what /status reports.
type Status struct {
	NodeID       string `json:"node_id"`
	Role         string `json:"role"`
	Leader       string `json:"leader"`
	LeaderAddr   string `json:"leader_addr"`
	Term         uint64 `json:"term"`
	AppliedIndex uint64 `json:"applied_index"`
	CommitIndex  uint64 `json:"commit_index"`
	LastIndex    uint64 `json:"last_index"`
	PGAddr       string `json:"pg_addr"`
}

// Status returns the node's current status.
func (s *Server) Status() Status {
	st := s.node.Status()
	return Status{
		NodeID: s.cfg.NodeID, Role: st.State, Leader: st.LeaderID, LeaderAddr: st.LeaderAddr,
		Term: st.Term, AppliedIndex: s.eng.AppliedIndex(), CommitIndex: st.CommitIndex,
		LastIndex: st.LastIndex, PGAddr: s.PGAddr(),
	}
}

func (s *Server) httpHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		st := s.node.Status()
		if st.LeaderID == "" || s.closing.Load() {
			http.Error(w, "not ready: no leader known", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ready\n"))
	})
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(s.Status())
	})
	return mux
}
