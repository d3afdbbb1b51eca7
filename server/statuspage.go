package server

import (
	"context"
	"embed"
	"html/template"
	"net/http"
	"sync"
	"time"
)

// statuspage.go is the status page at GET / on the HTTP address (open like
// /status): the members, the leader and term, recent statement rates and
// lag as small charts, and the last elections this node saw. The page is
// rendered on the server (html/template) and refreshed by a little script
// polling /status and /status/history on the same origin; every asset is
// embedded, and the Content-Security-Policy forbids any other origin.
//
// The history is kept by sampleHistory, a goroutine of the Server's
// background work (bgCtx, bgWG): once a second it reads this node's Raft
// state and statement counters; it asks the other members for their
// applied index (for lag) only while someone has looked at the page or
// /status/history within the last minute.

//go:embed statuspage
var statusAssets embed.FS

var statusTemplate = template.Must(template.ParseFS(statusAssets, "statuspage/index.html"))

const (
	historySamples   = 120         // two minutes at historyInterval
	historyElections = 20          // leader or term changes kept
	historyInterval  = time.Second // between samples
	historyViewedFor = time.Minute // members are probed this long after a view
	historyProbeWait = 800 * time.Millisecond
)

// historySample is one second of the node's life as the page charts it.
type historySample struct {
	Time         time.Time `json:"time"`
	ReadsPerSec  float64   `json:"reads_per_sec"`  // finished SELECTs per second
	WritesPerSec float64   `json:"writes_per_sec"` // finished writes (DML, DDL, roles) per second
	// AppliedPerSec is log entries applied per second: the cluster's
	// write rate, alike on every node that keeps up.
	AppliedPerSec float64           `json:"applied_per_sec"`
	Lag           map[string]uint64 `json:"lag,omitempty"` // entries each member has yet to apply, when probed
}

// election is a leader or term change this node observed.
type election struct {
	Time   time.Time `json:"time"`
	Term   uint64    `json:"term"`
	Leader string    `json:"leader"` // "" while no leader is known
}

// History is what /status/history answers.
type History struct {
	NodeID    string          `json:"node_id"`
	Interval  float64         `json:"interval_seconds"`
	Samples   []historySample `json:"samples"`
	Elections []election      `json:"elections"` // oldest first
}

// statusHistory holds the bounded rings sampleHistory fills.
type statusHistory struct {
	mu        sync.Mutex
	samples   []historySample
	elections []election
	viewed    time.Time // the page or /status/history was last asked for

	// The previous sample's counters and Raft state (sampler goroutine only).
	lastTime              time.Time
	lastReads, lastWrites uint64
	lastApplied           uint64
	lastTerm              uint64
	lastLeader            string
	seen                  bool
}

// sampleHistory samples until ctx ends.
func (s *Server) sampleHistory(ctx context.Context) {
	t := time.NewTicker(historyInterval)
	defer t.Stop()
	s.takeSample(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.takeSample(ctx)
		}
	}
}

// takeSample appends one sample, and an election when the term or the
// leader changed since the last one.
func (s *Server) takeSample(ctx context.Context) {
	h := &s.history
	now := time.Now()
	st := s.cluster.Status()
	reads, writes := s.metrics.reads.Load(), s.metrics.writes.Load()
	h.mu.Lock()
	viewed := now.Sub(h.viewed) < historyViewedFor
	h.mu.Unlock()

	sample := historySample{Time: now.UTC().Truncate(time.Millisecond)}
	if dt := now.Sub(h.lastTime).Seconds(); !h.lastTime.IsZero() && dt > 0 {
		sample.ReadsPerSec = float64(reads-h.lastReads) / dt
		sample.WritesPerSec = float64(writes-h.lastWrites) / dt
		if st.AppliedIndex >= h.lastApplied { // a restored snapshot may move it back
			sample.AppliedPerSec = float64(st.AppliedIndex-h.lastApplied) / dt
		}
	}
	h.lastTime, h.lastReads, h.lastWrites, h.lastApplied = now, reads, writes, st.AppliedIndex
	if viewed {
		pctx, cancel := context.WithTimeout(ctx, historyProbeWait)
		full := s.Status(pctx, true)
		cancel()
		sample.Lag = make(map[string]uint64, len(full.Members))
		for _, m := range full.Members {
			if m.Probed {
				sample.Lag[m.ID] = m.Lag
			}
		}
	}

	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.seen || st.Term != h.lastTerm || st.LeaderID != h.lastLeader {
		h.seen, h.lastTerm, h.lastLeader = true, st.Term, st.LeaderID
		h.elections = appendBounded(h.elections, election{Time: sample.Time, Term: st.Term, Leader: st.LeaderID}, historyElections)
	}
	h.samples = appendBounded(h.samples, sample, historySamples)
}

// appendBounded appends v, dropping the oldest beyond limit.
func appendBounded[T any](ring []T, v T, limit int) []T {
	if len(ring) >= limit {
		ring = append(ring[:0], ring[len(ring)-limit+1:]...)
	}
	return append(ring, v)
}

// History returns copies of the rings, and marks them viewed.
func (s *Server) History() History {
	h := &s.history
	h.mu.Lock()
	defer h.mu.Unlock()
	h.viewed = time.Now()
	return History{NodeID: s.cfg.NodeID, Interval: historyInterval.Seconds(),
		Samples: append([]historySample{}, h.samples...), Elections: append([]election{}, h.elections...)}
}

// statusCSP allows this origin's script, style and fetches only.
const statusCSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// statusPageRoutes adds the page and its assets to mux.
func (s *Server) statusPageRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		data := struct {
			S Status
			H History
		}{s.Status(ctx, true), s.History()}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", statusCSP)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "no-store")
		if err := statusTemplate.Execute(w, data); err != nil {
			s.log.Warn("status page", logKeyErr, err)
		}
	})
	mux.HandleFunc("GET /status/history", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.History())
	})
	for name, typ := range map[string]string{"status.js": "text/javascript; charset=utf-8", "status.css": "text/css; charset=utf-8"} {
		body, err := statusAssets.ReadFile("statuspage/" + name)
		if err != nil {
			panic(err) // embedded: cannot happen
		}
		mux.HandleFunc("GET /static/"+name, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", typ)
			w.Header().Set("X-Content-Type-Options", "nosniff")
			w.Write(body)
		})
	}
}
