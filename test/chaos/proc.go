package chaos

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pgraft/pgraft/test/proccluster"
)

// procCluster is the process backend: `pgraft serve` processes run by
// proccluster, each in its own network namespace (netLab) with its data
// dir on its own small tmpfs, so the nemesis can kill, pause, partition,
// fill the disk and move the clock (--fault-clock-file). Without
// namespaces (not root) the nodes stay on 127.0.0.1 and no partitions are
// injected; without tmpfs, no disk faults; notes says which.
type procCluster struct {
	t          testing.TB
	pc         *proccluster.Cluster
	lab        *netLab  // nil: no namespaces
	mounted    []bool   // node i's data dir is a tmpfs volume
	clockFiles []string // node i's --fault-clock-file

	mu    sync.Mutex // guards note, exits and fill
	note  []string   // what could not run, and expected exits
	exits []string   // unexpected process exits (violations)
	fill  []string   // the file filling node i's volume, "" when not full
}

// tmpfsSize is each node's data volume: large enough for a run, small
// enough to fill in a moment.
const tmpfsSize = "64m"

// pgraft is the binary the process backend runs, built on first use;
// TestMain removes it.
var pgraft proccluster.Binary

func newProcCluster(t testing.TB, nodes int) *procCluster {
	t.Helper()
	bin := pgraft.Path(t)
	base := t.TempDir() // the first TempDir: removed after every cleanup below
	c := &procCluster{t: t, mounted: make([]bool, nodes), fill: make([]string, nodes)}
	// Registered before proccluster's cleanup, so it runs after that has
	// ended the processes and kept a failed run's files.
	t.Cleanup(c.close)
	var err error
	if c.lab, err = newNetLab(nodes); err != nil {
		c.lab = nil
		c.note = append(c.note, "partitions: not run (no network namespaces: "+firstLine(err)+")")
		t.Logf("chaos: no network namespaces, nodes on 127.0.0.1 and no partitions: %v", err)
	}
	c.pc = proccluster.New(t, proccluster.Config{
		Binary: bin, Nodes: nodes, KillOnCleanup: true, Exited: c.exited,
		// The volume is a small tmpfs (tmpfsSize): keep the admission
		// threshold below it, so that only the disk-full fault trips it.
		Flags: []string{"--min-free-disk", "4"},
	})
	for i, n := range c.pc.Nodes {
		c.clockFiles = append(c.clockFiles, filepath.Join(base, n.ID+".clock"))
		n.Flags = []string{"--fault-clock-file", c.clockFiles[i]}
		if c.lab != nil {
			c.placeInLab(i, n)
		}
	}
	if !c.mounted[0] {
		c.note = append(c.note, "disk full: not run (no tmpfs mount)")
	}
	c.pc.StartAll()
	return c
}

// placeInLab moves node i into its network namespace and puts its data
// dir on a tmpfs volume of its own.
func (c *procCluster) placeInLab(i int, n *proccluster.Node) {
	n.Exec = []string{"ip", "netns", "exec", c.lab.ns(i)} // ip execs the binary: the pid is pgraft's
	n.PGAddr = net.JoinHostPort(c.lab.ip(i), "5433")
	n.RaftAddr, n.HTTPAddr = net.JoinHostPort(c.lab.ip(i), "7433"), net.JoinHostPort(c.lab.ip(i), "8433")
	if err := runCmd("mount", "-t", "tmpfs", "-o", "size="+tmpfsSize, "tmpfs", n.Dir); err == nil {
		c.mounted[i] = true
		if err := c.lab.addMount(n.Dir); err != nil {
			c.t.Fatalf("chaos: %v", err)
		}
	} else if i == 0 {
		c.t.Logf("chaos: no tmpfs for data dirs, no disk-full faults: %v", err)
	}
}

// exited is proccluster's report of a process exit nobody asked for.
func (c *procCluster) exited(n *proccluster.Node, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fill[n.Index] != "" {
		// Expected (DESIGN.md §3: a node that cannot apply halts rather
		// than diverge); freeDisk starts it again.
		c.note = append(c.note, fmt.Sprintf("node %d exited while its disk was full: %v", n.Index, err))
		return
	}
	c.exits = append(c.exits, fmt.Sprintf("node %d exited by itself: %v (log %s)", n.Index, err, n.LogPath))
}

func (c *procCluster) backend() string { return "proc" }
func (c *procCluster) size() int       { return len(c.pc.Nodes) }
func (c *procCluster) notes() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.note...)
}

// running reports whether node i's process is up (a process that exited
// by itself is not: healAll starts it again).
func (c *procCluster) running(i int) bool { return c.pc.Running(i) }

func (c *procCluster) dsn(i int) string { return c.pc.Nodes[i].DSN() + "&connect_timeout=2" }

func (c *procCluster) kinds() []faultKind {
	k := []faultKind{crashLeader, crashAny, pauseLeader, pauseAny, clockJump}
	if c.lab != nil {
		k = append(k, isolateLeader, isolateAny, bridge)
		if c.size() >= 5 {
			k = append(k, splitMajority)
		}
	}
	if c.mounted[0] {
		k = append(k, diskFull)
	}
	return k
}

// problems returns the processes that exited without being killed; the
// harness reports them as violations (a crash of pgraft itself).
func (c *procCluster) problems() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.exits...)
}

func (c *procCluster) crash(i int)   { c.pc.Kill(i) }
func (c *procCluster) restart(i int) { c.pc.Start(i) }
func (c *procCluster) pause(i int)   { c.pc.Pause(i) }
func (c *procCluster) resume(i int)  { c.pc.Resume(i) }

func (c *procCluster) cut(groups ...[]int) {
	if c.lab == nil {
		c.t.Fatalf("chaos: no network namespaces: cannot cut %v", groups)
	}
	for g, a := range groups {
		for _, b := range groups[g+1:] {
			for _, x := range a {
				for _, y := range b {
					if err := c.lab.cut(x, y); err != nil {
						c.t.Fatalf("chaos: cut %d-%d: %v", x, y, err)
					}
				}
			}
		}
	}
}

func (c *procCluster) heal() {
	if c.lab != nil {
		if err := c.lab.heal(); err != nil {
			c.t.Fatalf("chaos: heal: %v", err)
		}
	}
}

// fillDisk fills node i's tmpfs: fallocate what is free, then write until
// ENOSPC for what fallocate's rounding left.
func (c *procCluster) fillDisk(i int) error {
	if !c.mounted[i] {
		return errors.New("no tmpfs volume")
	}
	dir := c.pc.Nodes[i].Dir
	path := filepath.Join(dir, "chaos-fill")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	c.mu.Lock()
	c.fill[i] = path
	c.mu.Unlock()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return err
	}
	free := int64(st.Bavail) * st.Bsize
	if err := syscall.Fallocate(int(f.Fd()), 0, 0, free); err != nil && !errors.Is(err, syscall.ENOSPC) {
		return fmt.Errorf("fallocate %d bytes: %w", free, err)
	}
	f.Seek(0, 2)
	buf := make([]byte, 4096)
	for k := 0; k < 1<<16; k++ {
		if _, err := f.Write(buf); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				return nil
			}
			return err
		}
	}
	return errors.New("volume did not fill")
}

// freeDisk removes the fill. A node that stopped because it could not
// write (DESIGN.md §3: halting beats diverging) is started again.
func (c *procCluster) freeDisk(i int) {
	c.mu.Lock()
	fill := c.fill[i]
	c.mu.Unlock()
	if fill == "" {
		return
	}
	os.Remove(fill)
	if !c.pc.Running(i) {
		c.pc.Start(i)
	}
	c.mu.Lock()
	c.fill[i] = ""
	c.mu.Unlock()
}

func (c *procCluster) setClock(i int, offset time.Duration) {
	tmp := c.clockFiles[i] + ".tmp"
	if err := os.WriteFile(tmp, []byte(offset.String()+"\n"), 0o644); err != nil {
		c.t.Fatalf("chaos: %v", err)
	}
	if err := os.Rename(tmp, c.clockFiles[i]); err != nil {
		c.t.Fatalf("chaos: %v", err)
	}
}

// leader is the node that says it leads, found without waiting; -1 if none.
func (c *procCluster) leader() int { return c.pc.Leader() }

func (c *procCluster) state(ctx context.Context, i int) (uint64, string, error) {
	return c.pc.State(ctx, i)
}

// settle waits until every node's applied index reaches the highest commit
// index any node reports.
func (c *procCluster) settle(ctx context.Context) error { return c.pc.Settle(ctx) }

// close unmounts the volumes and removes the network, once proccluster's
// cleanup has ended every process. It runs in t.Cleanup, also when the
// test failed half way.
func (c *procCluster) close() {
	if c.pc != nil {
		for i, n := range c.pc.Nodes {
			if c.mounted[i] {
				if err := runCmd("umount", n.Dir); err != nil {
					runCmd("umount", "-l", n.Dir)
				}
			}
		}
	}
	if c.lab != nil {
		c.lab.teardown()
	}
}

func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}
