package chaostest

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/pgraft/pgraft/server/servertest"
)

// faultKind is one kind of fault the nemesis injects.
type faultKind int

const (
	crashLeader   faultKind = iota // crash the leader, restart it later
	crashAny                       // crash a random node, restart it later
	isolateLeader                  // cut the leader off from the others, heal later
	isolateAny                     // cut a random node off, heal later
	numFaultKinds
)

func (k faultKind) String() string {
	return [...]string{"crash leader", "crash", "isolate leader", "isolate"}[k]
}

// nemesis injects one fault at a time on the test goroutine, on a schedule
// drawn from rng: a quiet gap, then a fault held for longer than the
// election timeout (500 ms in servertest), then its repair. One node at a
// time keeps a quorum up, so the cluster must stay available between
// elections.
type nemesis struct {
	c     *servertest.Cluster
	rng   *rand.Rand
	start time.Time
	log   []string
	down  []int // crashed nodes not yet restarted
}

// between returns a duration drawn uniformly from [lo, hi).
func (n *nemesis) between(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(n.rng.Int64N(int64(hi-lo)))
}

func (n *nemesis) note(format string, args ...any) {
	at := time.Since(n.start).Round(10 * time.Millisecond)
	n.log = append(n.log, fmt.Sprintf("%6s ", at)+fmt.Sprintf(format, args...))
}

// run injects faults until d has passed since start; the last fault is
// repaired before it returns.
func (n *nemesis) run(d time.Duration) {
	for {
		time.Sleep(n.between(500*time.Millisecond, 2*time.Second))
		if time.Since(n.start) >= d {
			return
		}
		kind := faultKind(n.rng.IntN(int(numFaultKinds)))
		hold := n.between(time.Second, 3*time.Second)
		target := n.target(kind == crashLeader || kind == isolateLeader)
		switch kind {
		case crashLeader, crashAny:
			n.note("%s: node %d crashes", kind, target)
			n.c.Crash(target)
			n.down = append(n.down, target)
			time.Sleep(hold)
			n.restartAll()
		default:
			n.note("%s: node %d isolated", kind, target)
			n.c.Isolate(target)
			time.Sleep(hold)
			n.note("heal")
			n.c.Heal()
		}
	}
}

// target picks the fault's node: the current leader when asked and there
// is one (found without waiting), else a random running node. The random
// draw happens either way, so the schedule's later draws do not depend on
// whether a leader was found.
func (n *nemesis) target(leader bool) int {
	var running []int
	for i := range n.c.Nodes {
		if n.c.Running(i) {
			running = append(running, i)
		}
	}
	pick := running[n.rng.IntN(len(running))]
	if leader {
		for _, i := range running {
			if n.c.Nodes[i].Node().IsLeader() {
				return i
			}
		}
	}
	return pick
}

func (n *nemesis) restartAll() {
	for _, i := range n.down {
		n.note("node %d restarts", i)
		n.c.Restart(i)
	}
	n.down = nil
}

// healAll ends every fault (the run's last is already repaired; this is
// for safety).
func (n *nemesis) healAll() {
	n.c.Heal()
	n.restartAll()
}
