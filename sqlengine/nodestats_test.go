package sqlengine

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pgraft/pgraft/pgwire/pgerror"
	"github.com/pgraft/pgraft/sqlengine/translate"
)

type fakeStats struct{ viewers []string }

func (f *fakeStats) Activity(viewer string) []Activity {
	f.viewers = append(f.viewers, viewer)
	t := time.Date(2026, 1, 2, 3, 4, 5, 600000000, time.UTC)
	return []Activity{{PID: 10001, User: "alice", Database: "postgres", ApplicationName: "psql", ClientAddr: "127.0.0.1",
		ClientPort: 5000, BackendStart: t, StateChange: t, State: "idle", Query: "it's", BackendType: "client backend"}}
}

func (f *fakeStats) Replication(viewer string) []Replication {
	return []Replication{{ApplicationName: "n2", State: "streaming", SentLSN: 1<<32 + 26, ReplayLSN: 26,
		ReplayLag: 1500 * time.Millisecond, SyncPriority: 1, SyncState: "quorum"}}
}

func (f *fakeStats) WalReceiver(viewer string) []WalReceiver {
	return []WalReceiver{{Status: "streaming", WrittenLSN: 30, FlushedLSN: 30, LatestEndLSN: 29, SenderHost: "10.0.0.1", SenderPort: 7433}}
}

// The node-local views read the provider on read connections, with the
// viewer translation names, and fail on the write connection, as every
// node fails them in a write.
func TestNodeStatsViews(t *testing.T) {
	stats := &fakeStats{}
	e, err := Open(Config{Path: filepath.Join(t.TempDir(), "db.sqlite"), NodeStats: stats})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })

	q, _ := translate.NodeStatsQuery("pg_stat_activity", "o'brien")
	rows, err := queryAll(e, "SELECT pid, usename, client_port, backend_start, xact_start, state, query, backend_type FROM ("+q+")")
	if err != nil {
		t.Fatal(err)
	}
	want := []any{int64(10001), "alice", int64(5000), "2026-01-02 03:04:05.6", nil, "idle", "it's", "client backend"}
	if len(rows) != 1 || len(rows[0]) != len(want) {
		t.Fatalf("rows %v", rows)
	}
	for i := range want {
		if rows[0][i] != want[i] {
			t.Errorf("column %d = %#v, want %#v", i, rows[0][i], want[i])
		}
	}
	if len(stats.viewers) != 1 || stats.viewers[0] != "o'brien" {
		t.Errorf("viewers %q", stats.viewers)
	}

	q, _ = translate.NodeStatsQuery("pg_stat_replication", "x")
	rows, err = queryAll(e, "SELECT application_name, sent_lsn, write_lsn, replay_lsn, replay_lag, write_lag, sync_state FROM ("+q+")")
	if err != nil {
		t.Fatal(err)
	}
	want = []any{"n2", "1/1A", nil, "0/1A", "00:00:01.5", nil, "quorum"}
	for i := range want {
		if rows[0][i] != want[i] {
			t.Errorf("replication column %d = %#v, want %#v", i, rows[0][i], want[i])
		}
	}

	q, _ = translate.NodeStatsQuery("pg_stat_wal_receiver", "x")
	rows, err = queryAll(e, "SELECT pid, status, written_lsn, latest_end_lsn, sender_host, sender_port, slot_name FROM ("+q+")")
	if err != nil {
		t.Fatal(err)
	}
	want = []any{int64(0), "streaming", "0/1E", "0/1D", "10.0.0.1", int64(7433), nil}
	for i := range want {
		if rows[0][i] != want[i] {
			t.Errorf("wal receiver column %d = %#v, want %#v", i, rows[0][i], want[i])
		}
	}

	if err := applyOne(t, e, "CREATE TABLE n (v TEXT)"); err != nil {
		t.Fatal(err)
	}
	for _, fn := range []string{translate.StatActivityFunc, translate.StatReplicationFunc, translate.StatWalReceiverFunc} {
		err := e.withInternal(func() error {
			_, err := e.wconn.ExecContext(t.Context(), "INSERT INTO n SELECT "+fn+"('x')")
			return MapError(err)
		})
		if pgerror.Code(err) != pgerror.FeatureNotSupported || !strings.Contains(err.Error(), "differ between nodes") {
			t.Errorf("%s on the write connection: %v, want 0A000", fn, err)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		time.Second: "00:00:01", 1500 * time.Microsecond: "00:00:00.0015", 26*time.Hour + 61*time.Second: "26:01:01",
	} {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
