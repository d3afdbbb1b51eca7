package replica

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"slices"
	"strconv"
	"time"

	"github.com/hashicorp/raft"
)

// Log keys, spelled the same in every package.
const (
	logKeyComponent = "component"
	logKeyNode      = "node"
	logKeyIndex     = "index"
	logKeyTerm      = "term"
	logKeyErr       = "err"
	logKeyRemote    = "remote"
)

// MetaEnvelopeKey is the Meta key under which every node advertises this
// package's entry envelope version; it always must match (DESIGN §3), in
// addition to Config.MustMatch.
const MetaEnvelopeKey = "replica_envelope"

// Config configures a Node. Start from DefaultConfig; zero durations and
// sizes take DefaultConfig's values.
type Config struct {
	NodeID   string       // Raft server ID; stable across restarts
	DataDir  string       // Raft log and stable store in DataDir/raft, snapshots in DataDir/snapshots
	RaftAddr string       // host:port to listen on and advertise to peers
	Listener net.Listener // optional: used instead of listening on RaftAddr; its Addr is advertised; Open takes ownership

	// Bootstrap makes this node a one-node cluster when it has no Raft state
	// yet. A node that joins an existing cluster never sets it.
	Bootstrap bool

	// Failover takes HeartbeatTimeout..2x to notice the leader is gone plus
	// an election. 200ms measures ~0.4-0.5s median from kill -9 of the
	// leader to the next accepted write on loopback (TestFailoverTimeTrials;
	// 300ms measured 0.56-0.79s). Shorter timeouts fail over faster but
	// elect spuriously when a starved leader misses its heartbeats (every
	// HeartbeatTimeout/10); a follower alone cannot: pre-vote and leader
	// stickiness keep a healthy leader. The lease (the leader steps down
	// when it has not heard from a quorum for it) is as long as raft
	// allows, the heartbeat timeout: followers answer heartbeats even while
	// they store a large entry (heartbeat.go), so only a starved leader or
	// a partition ends it.
	HeartbeatTimeout   time.Duration // default 200ms
	ElectionTimeout    time.Duration // default 200ms; >= HeartbeatTimeout
	LeaderLeaseTimeout time.Duration // default 200ms; <= HeartbeatTimeout
	CommitTimeout      time.Duration // default 5ms

	// A snapshot is a reference to the durable database (snapshot.go): two
	// fsyncs, no copy. So raft takes one often, and the log on disk holds
	// about TrailingLogs + SnapshotThreshold + a second or two of writes.
	// A follower that falls more than TrailingLogs entries behind is sent
	// a full copy of the database instead of entries. TrailingLogs 0 (the
	// default) sizes the log to the state machine (logtune.go): about a
	// quarter of its size, so a small database keeps a short log and a
	// large one, for which a copy is costly, a long one; SnapshotThreshold
	// 0 then follows it.
	SnapshotThreshold uint64        // entries since the last snapshot before taking one; 0: half the trailing log (at least 256), or 1024 when TrailingLogs is fixed
	SnapshotInterval  time.Duration // how often to check SnapshotThreshold; default 500ms
	TrailingLogs      uint64        // entries kept after a snapshot, for slow followers; 0: sized to the state machine
	MaxAppendEntries  int           // entries per AppendEntries RPC and per FSM batch; default 256, max 1024

	// LogStore chooses the log store of a new data dir: LogStoreBolt ("" too)
	// or LogStoreWAL (logstore.go). A data dir keeps the kind it was
	// created with.
	LogStore string
	// WALSegmentSize is the size of one raft-wal segment file, allocated
	// when the segment is created; 0 = 4 MiB. The log is truncated after a
	// snapshot by whole segments (entries still in the open segment stay
	// readable, and a lagging follower may get them instead of a snapshot).
	WALSegmentSize int

	ApplyTimeout time.Duration // how long Propose waits for raft to accept an entry; default 10s
	MaxEntrySize int           // largest payload Propose accepts; default 16 MiB
	// MaxInflightBytes bounds the payload bytes of the proposals handed to
	// raft and not yet applied; a proposal waits for room (inflight.go).
	// Default 64 MiB.
	MaxInflightBytes int64

	// Meta is what this node advertises to the cluster (in a JoinRequest
	// and in member status), e.g. "sqlite_version" and "entry_format".
	Meta map[string]string
	// MustMatch lists the Meta keys whose values a joining node must share
	// with this one; the leader refuses a join on a mismatch (DESIGN §3).
	// MetaEnvelopeKey is always added to both.
	MustMatch []string

	// TLS, when set, makes every node-to-node connection mutual TLS
	// with the cluster CA (nodetls.go); nil is plain TCP.
	TLS *NodeTLS

	Logger *slog.Logger // nil discards

	// wrapLogStore, for this package's tests, wraps the opened log store
	// (a slow disk, say).
	wrapLogStore func(logStore) logStore
}

// defaultSnapshotThreshold is the snapshot threshold when neither it nor
// the trailing log is sized to the state machine.
const defaultSnapshotThreshold = 1024

// DefaultConfig returns LAN-tuned defaults. The caller sets NodeID, DataDir
// and RaftAddr (or Listener).
func DefaultConfig() Config {
	return Config{
		HeartbeatTimeout:   200 * time.Millisecond,
		ElectionTimeout:    200 * time.Millisecond,
		LeaderLeaseTimeout: 200 * time.Millisecond,
		CommitTimeout:      5 * time.Millisecond,
		SnapshotInterval:   500 * time.Millisecond,
		MaxAppendEntries:   256,
		ApplyTimeout:       10 * time.Second,
		MaxEntrySize:       16 << 20,
		MaxInflightBytes:   defaultMaxInflightBytes,
	}
}

// withDefaults fills zero fields from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	setDur := func(v *time.Duration, def time.Duration) {
		if *v == 0 {
			*v = def
		}
	}
	setDur(&c.HeartbeatTimeout, d.HeartbeatTimeout)
	setDur(&c.ElectionTimeout, d.ElectionTimeout)
	setDur(&c.LeaderLeaseTimeout, d.LeaderLeaseTimeout)
	setDur(&c.CommitTimeout, d.CommitTimeout)
	setDur(&c.SnapshotInterval, d.SnapshotInterval)
	setDur(&c.ApplyTimeout, d.ApplyTimeout)
	if c.MaxAppendEntries == 0 {
		c.MaxAppendEntries = d.MaxAppendEntries
	}
	if c.MaxEntrySize == 0 {
		c.MaxEntrySize = d.MaxEntrySize
	}
	if c.MaxInflightBytes == 0 {
		c.MaxInflightBytes = d.MaxInflightBytes
	}
	c.Meta = maps.Clone(c.Meta) // the Node's own copy: it is sent to peers
	if c.Meta == nil {
		c.Meta = make(map[string]string)
	}
	c.Meta[MetaEnvelopeKey] = strconv.Itoa(entryFormatVersion)
	c.MustMatch = slices.Clone(c.MustMatch)
	if !slices.Contains(c.MustMatch, MetaEnvelopeKey) {
		c.MustMatch = append(c.MustMatch, MetaEnvelopeKey)
	}
	return c
}

// Validate reports the first problem with c (after filling defaults),
// including raft's own rules (lease <= heartbeat <= election, batch sizes).
func (c *Config) Validate() error {
	v := c.withDefaults()
	switch {
	case v.NodeID == "":
		return errors.New("replica config: NodeID is required")
	case v.DataDir == "":
		return errors.New("replica config: DataDir is required")
	case v.Listener == nil && v.RaftAddr == "":
		return errors.New("replica config: RaftAddr or Listener is required")
	case v.ApplyTimeout < 0:
		return errors.New("replica config: ApplyTimeout must be positive")
	case v.MaxEntrySize < 0:
		return errors.New("replica config: MaxEntrySize must be positive")
	case v.MaxInflightBytes < 0:
		return errors.New("replica config: MaxInflightBytes must be positive")
	}
	for _, k := range v.MustMatch {
		if _, ok := v.Meta[k]; !ok {
			return fmt.Errorf("replica config: MustMatch key %q has no value in Meta", k)
		}
	}
	if v.Listener == nil {
		if err := checkAdvertisable(v.RaftAddr); err != nil {
			return fmt.Errorf("replica config: RaftAddr: %w", err)
		}
	}
	if err := raft.ValidateConfig(v.raftConfig(nil)); err != nil {
		return fmt.Errorf("replica config: %w", err)
	}
	return nil
}

// checkAdvertisable rejects addresses peers could not dial back, such as
// ":7000" or "0.0.0.0:7000". Port 0 is fine: the listener's port is used.
func checkAdvertisable(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if host == "" {
		return fmt.Errorf("%q has no host to advertise", addr)
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		return fmt.Errorf("%q cannot be advertised (unspecified address)", addr)
	}
	return nil
}

// raftConfig builds raft's configuration. Call it on a config with defaults
// filled.
func (c Config) raftConfig(logger *slog.Logger) *raft.Config {
	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(c.NodeID)
	rc.HeartbeatTimeout = c.HeartbeatTimeout
	rc.ElectionTimeout = c.ElectionTimeout
	rc.LeaderLeaseTimeout = c.LeaderLeaseTimeout
	rc.CommitTimeout = c.CommitTimeout
	rc.SnapshotThreshold = c.SnapshotThreshold
	if rc.SnapshotThreshold == 0 {
		rc.SnapshotThreshold = defaultSnapshotThreshold // or sized with the log (logtune.go)
	}
	rc.SnapshotInterval = c.SnapshotInterval
	rc.TrailingLogs = c.TrailingLogs
	if rc.TrailingLogs == 0 { // sized to the state machine once it is open (logtune.go)
		rc.TrailingLogs = minTrailingLogs
	}
	rc.MaxAppendEntries = c.MaxAppendEntries
	// The state machine keeps its applied index durably (I2); Open restores
	// a snapshot only when the state machine is behind it (DESIGN §9).
	rc.NoSnapshotRestoreOnStart = true
	// Emit each metric once, labelled, not also under the legacy per-peer names.
	rc.NoLegacyTelemetry = true
	if logger != nil {
		rc.Logger = newHCLogger(logger, "raft")
	}
	return rc
}
