package chaos

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pgraft/pgraft/server"
	"github.com/pgraft/pgraft/server/servertest"
)

// inproc is the in-process backend: a servertest.Cluster. It can crash
// and restart nodes, isolate one node, and move a node's clock; it cannot
// pause a node, cut arbitrary links or fill a disk.
type inproc struct {
	t      testing.TB
	c      *servertest.Cluster
	dsns   []string
	clocks []*atomic.Int64 // per-node clock offset in nanoseconds
}

func newInproc(t testing.TB, nodes int) *inproc {
	p := &inproc{t: t}
	ids := map[string]int{}
	for i := 0; i < nodes; i++ {
		p.clocks = append(p.clocks, new(atomic.Int64))
		ids[fmt.Sprintf("node-%02d", i)] = i // servertest's node IDs
	}
	p.c = servertest.NewCluster(t, nodes, func(cfg *server.Config) {
		if i, ok := ids[cfg.NodeID]; ok {
			off := p.clocks[i]
			cfg.Now = func() time.Time { return time.Now().Add(time.Duration(off.Load())) }
		}
	})
	t.Cleanup(p.keepOnFailure)
	for i := range p.c.Nodes {
		if p.c.ID(i) != fmt.Sprintf("node-%02d", i) {
			t.Fatalf("chaos: servertest node %d has ID %q: clock faults would miss it", i, p.c.ID(i))
		}
		p.dsns = append(p.dsns, p.c.Nodes[i].DSN()) // stable across restarts
	}
	return p
}

// keepOnFailure copies a failed run's data dirs (database and Raft log)
// out of the test's temporary directory, which is removed after the test,
// once every node has stopped: a divergence is diagnosed from them.
func (p *inproc) keepOnFailure() {
	if !p.t.Failed() {
		return
	}
	for i := range p.c.Nodes {
		p.c.Crash(i)
	}
	dir, err := os.MkdirTemp("", "pgraft-chaos-inproc-")
	if err != nil {
		return
	}
	for i, n := range p.c.Nodes {
		_ = exec.Command("cp", "-a", n.DataDir, filepath.Join(dir, p.c.ID(i))).Run()
	}
	p.t.Logf("chaos: node data dirs kept in %s", dir)
}

func (p *inproc) backend() string  { return "inproc" }
func (p *inproc) size() int        { return len(p.dsns) }
func (p *inproc) dsn(i int) string { return p.dsns[i] }
func (p *inproc) notes() []string  { return nil }

func (p *inproc) kinds() []faultKind {
	return []faultKind{crashLeader, crashAny, isolateLeader, isolateAny, clockJump}
}

func (p *inproc) running(i int) bool { return p.c.Running(i) }

func (p *inproc) leader() int {
	for i := range p.c.Nodes {
		if p.c.Running(i) && p.c.Nodes[i].Node().IsLeader() {
			return i
		}
	}
	return -1
}

func (p *inproc) crash(i int) { p.c.Crash(i) }

func (p *inproc) restart(i int) {
	p.c.Restart(i)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := p.c.Nodes[i].WaitLeader(ctx); err != nil {
		p.t.Fatalf("chaos: node %d knows no leader after restart: %v", i, err)
	}
}

func (p *inproc) pause(i int)  { p.t.Fatalf("chaos: inproc cannot pause a node") }
func (p *inproc) resume(i int) {}

// cut supports one shape only: a single node against the rest (Isolate).
func (p *inproc) cut(groups ...[]int) {
	if len(groups) < 1 || len(groups[0]) != 1 {
		p.t.Fatalf("chaos: inproc can only isolate one node, not cut %v", groups)
	}
	p.c.Isolate(groups[0][0])
}

func (p *inproc) heal() { p.c.Heal() }

func (p *inproc) fillDisk(i int) error { return fmt.Errorf("inproc cannot fill a disk") }
func (p *inproc) freeDisk(i int)       {}

func (p *inproc) setClock(i int, offset time.Duration) { p.clocks[i].Store(int64(offset)) }

func (p *inproc) state(ctx context.Context, i int) (uint64, string, error) {
	if !p.c.Running(i) {
		return 0, "", fmt.Errorf("not running")
	}
	before := p.c.Nodes[i].Status(ctx, false).AppliedIndex
	sum, err := p.c.Checksum(ctx, i)
	if err != nil {
		return 0, "", err
	}
	if after := p.c.Nodes[i].Status(ctx, false).AppliedIndex; after != before {
		return 0, "", fmt.Errorf("still applying (%d, then %d)", before, after)
	}
	return before, sum, nil
}

func (p *inproc) settle(ctx context.Context) error {
	_, err := p.c.WaitConverged(ctx)
	return err
}
