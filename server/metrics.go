package server

import (
	"context"
	"io/fs"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/pgraft/pgraft/pgwire/pgerror"
	"github.com/pgraft/pgraft/sqlengine/translate"
)

// metrics.go is the node's Prometheus metrics (GET /metrics on the HTTP
// address, open like /healthz): one registry per Server, never the global
// one. Counters and histograms are updated where the work happens; the
// Raft and disk figures are read when scraped (raftCollector).

type metrics struct {
	reg *prometheus.Registry

	connections *prometheus.CounterVec   // accepted and refused client connections, by outcome
	statements  *prometheus.CounterVec   // by kind and outcome (ok, or SQLSTATE class)
	duration    *prometheus.HistogramVec // statement latency, by kind
	parse       prometheus.Histogram     // parsing and translating a query string
	gateWait    prometheus.Histogram     // waiting for the write gate
	commit      prometheus.Histogram     // propose → this node's apply result
	apply       prometheus.Histogram     // one apply batch
	applied     prometheus.Counter       // entries applied
	forwarded   *prometheus.CounterVec   // requests a follower sent its leader, by kind
	readIndex   prometheus.Histogram     // read-index round trips of consistent reads

	// reads and writes count finished statements that read (select) and
	// that write (insert, update, delete, ddl, role), for the status
	// page's rates (statuspage.go).
	reads, writes atomic.Uint64
}

// latencyBuckets span 50 µs to about 13 s.
var latencyBuckets = prometheus.ExponentialBuckets(0.00005, 2.5, 14)

func newMetrics(s *Server) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.connections = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "pgraft_client_connections_total",
		Help: "Client connections by outcome: accepted, or the SQLSTATE that refused them (53300 too many, 57P03 starting up, 28P01 authentication).",
	}, []string{"outcome"})
	m.statements = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "pgraft_statements_total",
		Help: "Statements run by this node's sessions, by kind and outcome (ok, or the SQLSTATE class of the error).",
	}, []string{"kind", "outcome"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "pgraft_statement_duration_seconds",
		Help:    "Statement latency from the start of its first Execute to its last row, by kind.",
		Buckets: latencyBuckets,
	}, []string{"kind"})
	m.parse = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "pgraft_parse_seconds", Help: "Time to parse and translate a query string (Parse, or a simple Query).", Buckets: latencyBuckets,
	})
	m.gateWait = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "pgraft_write_gate_wait_seconds", Help: "Time writers waited for the write gate.", Buckets: latencyBuckets,
	})
	m.commit = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "pgraft_raft_commit_seconds", Help: "Time from proposing an entry to this node's apply result (quorum commit and apply).", Buckets: latencyBuckets,
	})
	m.apply = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "pgraft_apply_batch_seconds", Help: "Time to apply one batch of log entries to the database.", Buckets: latencyBuckets,
	})
	m.applied = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "pgraft_applied_entries_total", Help: "Log entries this node applied.",
	})
	m.forwarded = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "pgraft_forwarded_requests_total", Help: "Requests this follower's sessions forwarded to the leader, by kind.",
	}, []string{"kind"})
	m.readIndex = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "pgraft_read_index_seconds", Help: "Read-index round trips of consistent reads (waiting for the leader's commit index).", Buckets: latencyBuckets,
	})
	m.reg.MustRegister(m.connections, m.statements, m.duration, m.parse, m.gateWait, m.commit, m.apply, m.applied,
		m.forwarded, m.readIndex, &raftCollector{s: s},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// kindLabel names a statement kind for metrics.
func kindLabel(k translate.Kind) string {
	switch k {
	case translate.KindSelect:
		return "select"
	case translate.KindInsert:
		return "insert"
	case translate.KindUpdate:
		return "update"
	case translate.KindDelete:
		return "delete"
	case translate.KindDDL:
		return "ddl"
	case translate.KindRole:
		return "role"
	case translate.KindBegin, translate.KindCommit, translate.KindRollback, translate.KindSavepoint,
		translate.KindRelease, translate.KindRollbackTo:
		return "transaction"
	case translate.KindDeclare, translate.KindFetch, translate.KindClose:
		return "cursor"
	}
	return "utility"
}

// outcomeLabel is "ok" or the SQLSTATE class of err.
func outcomeLabel(err error) string {
	if err == nil {
		return "ok"
	}
	code := pgerror.Code(err)
	if len(code) < 2 {
		return "XX"
	}
	return code[:2]
}

// statementDone records one finished statement.
func (m *metrics) statementDone(k translate.Kind, start time.Time, err error) {
	if m == nil {
		return
	}
	kind := kindLabel(k)
	switch kind {
	case "select":
		m.reads.Add(1)
	case "insert", "update", "delete", "ddl", "role":
		m.writes.Add(1)
	}
	m.statements.WithLabelValues(kind, outcomeLabel(err)).Inc()
	m.duration.WithLabelValues(kind).Observe(time.Since(start).Seconds())
}

func (m *metrics) observe(h prometheus.Histogram, start time.Time) {
	if m != nil {
		h.Observe(time.Since(start).Seconds())
	}
}

// raftCollector reads the node's Raft state, sessions and disk use when
// scraped.
type raftCollector struct{ s *Server }

var (
	descTerm      = prometheus.NewDesc("pgraft_raft_term", "Current Raft term.", nil, nil)
	descIndex     = prometheus.NewDesc("pgraft_raft_index", "Raft log indexes of this node: commit, applied, last, snapshot.", []string{"index"}, nil)
	descState     = prometheus.NewDesc("pgraft_raft_state", "1 for this node's Raft state (Leader, Follower, Candidate, Shutdown).", []string{"state"}, nil)
	descMembers   = prometheus.NewDesc("pgraft_raft_members", "Members of the configuration, by suffrage.", []string{"suffrage"}, nil)
	descLag       = prometheus.NewDesc("pgraft_raft_follower_lag_entries", "On the leader: entries each member has yet to apply (the committed data index less its applied index).", []string{"node_id"}, nil)
	descLagTime   = prometheus.NewDesc("pgraft_raft_follower_lag_seconds", "On the leader: how long ago the leader applied the first entry each member has yet to apply (0: none).", []string{"node_id"}, nil)
	descContact   = prometheus.NewDesc("pgraft_raft_follower_unreachable", "On the leader: 1 while heartbeats to a member fail.", []string{"node_id"}, nil)
	descSessions  = prometheus.NewDesc("pgraft_client_sessions", "Open client sessions, and leader-side sessions serving followers' forwarded writes.", []string{"type"}, nil)
	descMaxConn   = prometheus.NewDesc("pgraft_max_connections", "max_connections of this node.", nil, nil)
	descReadConns = prometheus.NewDesc("pgraft_read_connections", "SQLite read connections: open, and in use by a read.", []string{"state"}, nil)
	descDisk      = prometheus.NewDesc("pgraft_disk_bytes", "Bytes the data directory holds: the database (with its WAL), the Raft log, snapshots.", []string{"part"}, nil)
	descSnapshots = prometheus.NewDesc("pgraft_snapshots", "Snapshots kept in the data directory.", nil, nil)
	descStaged    = prometheus.NewDesc("pgraft_staged_parts", "Parts of a transaction larger than one log entry that this node holds until its final entry applies.", nil, nil)
	descInflight  = prometheus.NewDesc("pgraft_raft_inflight_bytes", "Payload bytes this node has proposed to Raft and not yet applied; proposals wait while it is at its bound (64 MiB).", nil, nil)
	descPipeline  = prometheus.NewDesc("pgraft_pipeline_total", "Commit pipelining on this node as leader: epochs committed, writes committed in them, epochs broken, epochs committed around a running transaction.", []string{"event"}, nil)
)

func (c *raftCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descTerm, descIndex, descState, descMembers, descLag, descLagTime, descContact,
		descSessions, descMaxConn, descReadConns, descDisk, descSnapshots, descStaged, descPipeline, descInflight} {
		ch <- d
	}
}

func (c *raftCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.s
	st := s.cluster.Status()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	gauge(descTerm, float64(st.Term))
	gauge(descIndex, float64(st.CommitIndex), "commit")
	gauge(descIndex, float64(st.AppliedIndex), "applied")
	gauge(descIndex, float64(st.LastIndex), "last")
	gauge(descIndex, float64(st.LastSnapshotIndex), "snapshot")
	gauge(descInflight, float64(st.InflightBytes))
	for _, state := range []string{"Leader", "Follower", "Candidate", "Shutdown"} {
		v := 0.0
		if st.State == state {
			v = 1
		}
		gauge(descState, v, strings.ToLower(state))
	}
	voters, nonvoters := 0, 0
	for _, m := range st.Members {
		if m.Voter {
			voters++
		} else {
			nonvoters++
		}
	}
	gauge(descMembers, float64(voters), "voter")
	gauge(descMembers, float64(nonvoters), "nonvoter")
	if st.State == "Leader" {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		cs := s.cluster.ClusterStatus(ctx)
		cancel()
		for _, m := range st.Members {
			unreachable := 0.0
			if m.Unreachable {
				unreachable = 1
			}
			gauge(descContact, unreachable, m.ID)
		}
		data := s.cluster.CommittedDataIndex() // what a member that is up to date has applied
		for _, m := range cs.Members {
			if m.Probed {
				lag := uint64(0)
				if data > m.AppliedIndex {
					lag = data - m.AppliedIndex
				}
				gauge(descLag, float64(lag), m.ID)
				gauge(descLagTime, s.applyClock.lag(m.AppliedIndex, time.Now()).Seconds(), m.ID)
			}
		}
	}
	gauge(descSessions, float64(s.sessions.Load()), "client")
	gauge(descSessions, float64(s.forwardSessions.Load()), "forwarded")
	gauge(descMaxConn, float64(s.cfg.MaxConnections))
	ps := s.eng.PipelineStats()
	for _, c := range []struct {
		event string
		n     uint64
	}{{"epochs", ps.Epochs}, {"members", ps.Members}, {"breaks", ps.Breaks}, {"rebases", ps.Rebases}} {
		ch <- prometheus.MustNewConstMetric(descPipeline, prometheus.CounterValue, float64(c.n), c.event)
	}
	open, inUse := s.eng.ReadStats()
	gauge(descReadConns, float64(open), "open")
	gauge(descReadConns, float64(inUse), "in_use")
	db, raftLog, snaps, n := diskUse(s.cfg.DataDir)
	gauge(descDisk, float64(db), "database")
	gauge(descDisk, float64(raftLog), "raft_log")
	gauge(descDisk, float64(snaps), "snapshots")
	gauge(descSnapshots, float64(n))
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	if staged, err := s.eng.StagedParts(ctx); err == nil {
		gauge(descStaged, float64(staged))
	}
	cancel()
}

// diskUse sums the data directory's files: the database (db.sqlite and its
// WAL), the Raft log (raft/), snapshots (snapshots/, and how many).
func diskUse(dir string) (db, raftLog, snaps int64, n int) {
	if dir == "" {
		return
	}
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		rel, _ := filepath.Rel(dir, path)
		top := strings.SplitN(filepath.ToSlash(rel), "/", 2)[0]
		if d.IsDir() {
			if top == "snapshots" && strings.Count(filepath.ToSlash(rel), "/") == 1 && !strings.HasSuffix(rel, ".tmp") {
				n++
			}
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		switch {
		case top == "raft":
			raftLog += info.Size()
		case top == "snapshots":
			snaps += info.Size()
		case strings.HasPrefix(top, "db.sqlite"):
			db += info.Size()
		}
		return nil
	})
	return
}
