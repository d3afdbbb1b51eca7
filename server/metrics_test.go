package server_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/pgraft/pgraft/server/servertest"
)

// scrape reads a node's /metrics and parses it as Prometheus does.
func scrape(t *testing.T, n *servertest.Node) map[string]*dto.MetricFamily {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get("http://" + n.HTTPAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s", resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// metricValue is the value of the series of family name whose labels
// include want, or -1.
func metricValue(fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	f := fams[name]
	if f == nil {
		return -1
	}
	for _, m := range f.Metric {
		match := true
		for k, v := range want {
			found := false
			for _, l := range m.Label {
				if l.GetName() == k && l.GetValue() == v {
					found = true
				}
			}
			match = match && found
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	return -1
}

// TestMetrics: /metrics is open, parses as Prometheus text, and its
// counters move with the work done: statements by kind and outcome,
// latencies, the write gate, Raft commit and apply, Raft indexes, sessions
// and disk use.
func TestMetrics(t *testing.T) {
	n := servertest.Start(t)
	before := scrape(t, n)
	c := connect(t, n)
	mustExec(t, c, "CREATE TABLE m (id int PRIMARY KEY)")
	mustExec(t, c, "INSERT INTO m VALUES (1)")
	_, err := c.Exec(context.Background(), "INSERT INTO m VALUES (1)")
	wantCode(t, err, "23505")
	count(t, c, "SELECT count(*) FROM m")
	after := scrape(t, n)
	for _, x := range []struct {
		name   string
		labels map[string]string
		min    float64
	}{
		{"pgraft_statements_total", map[string]string{"kind": "insert", "outcome": "ok"}, 1},
		{"pgraft_statements_total", map[string]string{"kind": "insert", "outcome": "23"}, 1},
		{"pgraft_statements_total", map[string]string{"kind": "ddl", "outcome": "ok"}, 1},
		{"pgraft_statements_total", map[string]string{"kind": "select", "outcome": "ok"}, 1},
		{"pgraft_statement_duration_seconds", map[string]string{"kind": "insert"}, 2},
		{"pgraft_write_gate_wait_seconds", nil, 1},
		{"pgraft_parse_seconds", nil, 4},
		{"pgraft_raft_commit_seconds", nil, 2},
		{"pgraft_apply_batch_seconds", nil, 2},
		{"pgraft_applied_entries_total", nil, 2},
		{"pgraft_client_connections_total", map[string]string{"outcome": "accepted"}, 1},
	} {
		got, was := metricValue(after, x.name, x.labels), metricValue(before, x.name, x.labels)
		if was < 0 {
			was = 0
		}
		if got-was < x.min {
			t.Errorf("%s%v moved from %v to %v, want at least +%v", x.name, x.labels, was, got, x.min)
		}
	}
	for _, x := range []struct {
		name   string
		labels map[string]string
	}{
		{"pgraft_raft_state", map[string]string{"state": "leader"}},
		{"pgraft_client_sessions", map[string]string{"type": "client"}},
		{"pgraft_disk_bytes", map[string]string{"part": "database"}},
		{"pgraft_disk_bytes", map[string]string{"part": "raft_log"}},
		{"pgraft_raft_index", map[string]string{"index": "applied"}},
		{"pgraft_raft_term", nil},
	} {
		if got := metricValue(after, x.name, x.labels); got < 1 {
			t.Errorf("%s%v = %v, want ≥ 1", x.name, x.labels, got)
		}
	}
	if got := metricValue(after, "pgraft_raft_inflight_bytes", nil); got < 0 {
		t.Errorf("pgraft_raft_inflight_bytes = %v, want a value ≥ 0", got)
	}
}
