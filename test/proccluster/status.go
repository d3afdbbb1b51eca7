package proccluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"
)

// convergeTimeout bounds WaitLeader and RequireConverged; it fires only on
// a hang.
const convergeTimeout = time.Minute

// Status is the part of a node's GET /status read here.
type Status struct {
	NodeID       string `json:"node_id"`
	Role         string `json:"role"` // Leader, Follower, Candidate
	Leader       string `json:"leader"`
	Term         uint64 `json:"term"`
	AppliedIndex uint64 `json:"applied_index"`
	CommitIndex  uint64 `json:"commit_index"`
	// CommittedDataIndex is the commit index less trailing no-op and
	// barrier entries (leader changes), which applied_index never counts.
	CommittedDataIndex uint64 `json:"committed_data_index"`
}

// Status asks node i for its /status.
func (c *Cluster) Status(ctx context.Context, i int) (Status, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+c.Nodes[i].HTTPAddr+"/status", nil)
	if err != nil {
		return Status{}, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return Status{}, err
	}
	defer resp.Body.Close()
	var st Status
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return Status{}, fmt.Errorf("decode /status of node %d: %w", i, err)
	}
	return st, nil
}

// Leader asks every started, unpaused node whether it is in recovery (a
// follower is), each on a new connection within 500 ms, and returns the
// first that is not; -1 when none says it leads. It does not wait for an
// election, and a partition does not slow it down (the question is
// answered locally).
func (c *Cluster) Leader() int {
	for i, n := range c.Nodes {
		if n.cmd == nil || n.paused {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		conn, err := pgx.Connect(ctx, n.DSN())
		if err == nil {
			var standby bool
			err = conn.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&standby)
			conn.Close(context.Background())
			if err == nil && !standby {
				cancel()
				return i
			}
		}
		cancel()
	}
	return -1
}

// WaitLeader waits until a node says it leads (Leader) and returns it;
// none within a minute fails the test.
func (c *Cluster) WaitLeader() int {
	c.t.Helper()
	deadline := time.Now().Add(convergeTimeout)
	for {
		if i := c.Leader(); i >= 0 {
			return i
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("proccluster: no leader among the running nodes within %v", convergeTimeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// State returns node i's applied index and pgraft_checksum(), the checksum
// read between two equal readings of the index, so that no entry was
// applied in between.
func (c *Cluster) State(ctx context.Context, i int) (index uint64, sum string, err error) {
	if c.Nodes[i].cmd == nil {
		return 0, "", errors.New("not running")
	}
	before, err := c.Status(ctx, i)
	if err != nil {
		return 0, "", err
	}
	if sum, err = checksum(ctx, c.Nodes[i].DSN()); err != nil {
		return 0, "", err
	}
	after, err := c.Status(ctx, i)
	if err != nil {
		return 0, "", err
	}
	if before.AppliedIndex != after.AppliedIndex {
		return 0, "", fmt.Errorf("still applying (%d, then %d)", before.AppliedIndex, after.AppliedIndex)
	}
	return after.AppliedIndex, sum, nil
}

// Settle waits until every node's applied index reaches the highest
// committed data index any node reports (the commit index less the no-op
// entries of leader changes at the log's end, which no node's applied
// index counts: after failovers with no write since, the plain commit
// index is never reached), or ctx ends. Every node must answer /status: a
// node that is down keeps it waiting.
func (c *Cluster) Settle(ctx context.Context) error {
	for {
		var commit uint64
		applied := make([]uint64, len(c.Nodes))
		var err error
		for i := range c.Nodes {
			var st Status
			if st, err = c.Status(ctx, i); err != nil {
				break
			}
			commit, applied[i] = max(commit, st.CommittedDataIndex), st.AppliedIndex
		}
		if err == nil && commit > 0 && minOf(applied) >= commit {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("settle: applied %v, commit %d: %w (last error %v)", applied, commit, ctx.Err(), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// RequireConverged waits until every started node (not killed or stopped)
// reports the same applied index and the same pgraft_checksum() (State),
// and returns the checksum; nodes that still differ after a minute fail
// the test.
func (c *Cluster) RequireConverged() string {
	c.t.Helper()
	deadline := time.Now().Add(convergeTimeout)
	for {
		sum, err := c.convergedOnce()
		if err == nil {
			return sum
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("proccluster: nodes did not converge: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (c *Cluster) convergedOnce() (string, error) {
	var sums []string
	var index []uint64
	for i, n := range c.Nodes {
		if n.cmd == nil {
			continue
		}
		// Two /status calls and a checksum; /status asks every member,
		// which takes up to 2 s for one that is down.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		applied, sum, err := c.State(ctx, i)
		cancel()
		if err != nil {
			return "", fmt.Errorf("node %d: %w", i, err)
		}
		sums, index = append(sums, sum), append(index, applied)
	}
	if len(sums) == 0 {
		return "", errors.New("no node is running")
	}
	for k := range sums {
		if sums[k] != sums[0] || index[k] != index[0] {
			return "", fmt.Errorf("applied indexes %v, checksums %v", index, sums)
		}
	}
	return sums[0], nil
}

func checksum(ctx context.Context, dsn string) (string, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return "", fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.Background())
	var sum string
	if err := conn.QueryRow(ctx, "SELECT pgraft_checksum()").Scan(&sum); err != nil {
		return "", fmt.Errorf("pgraft_checksum: %w", err)
	}
	return sum, nil
}

func minOf(s []uint64) uint64 {
	m := s[0]
	for _, v := range s[1:] {
		m = min(m, v)
	}
	return m
}
