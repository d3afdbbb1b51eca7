package chaos

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// nemesis injects one fault at a time on the test goroutine, on a schedule
// drawn from rng: a quiet gap, then a fault held for longer than the
// election timeout, then its repair. Every fault leaves a quorum that can
// talk (one node down, paused, cut off or full at a time; a 3+2 split
// keeps the 3), so the cluster must stay available between elections.
type nemesis struct {
	c      cluster
	kinds  []faultKind
	rng    *rand.Rand
	start  time.Time
	log    []string
	counts map[string]int // faults injected, by kind
	down   []int          // crashed nodes not yet restarted
}

func newNemesis(c cluster, kinds []faultKind, seed uint64, start time.Time) *nemesis {
	return &nemesis{c: c, kinds: kinds, rng: rand.New(rand.NewPCG(seed, 0xfa17)), start: start,
		counts: map[string]int{}}
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
		if time.Since(n.start) >= d || len(n.kinds) == 0 {
			return
		}
		kind := n.kinds[n.rng.IntN(len(n.kinds))]
		hold := n.between(time.Second, 3*time.Second)
		n.counts[kind.String()]++
		repair := n.inject(kind)
		time.Sleep(hold)
		repair()
	}
}

// inject starts one fault of kind and returns its repair. Every random
// draw happens whatever the cluster's state, so a replay of the seed makes
// the same draws in the same order.
func (n *nemesis) inject(kind faultKind) (repair func()) {
	target := n.target(kind.onLeader())
	perm := n.rng.Perm(n.c.size())
	offset := time.Duration(n.rng.IntN(10)+1) * time.Minute
	if n.rng.IntN(2) == 0 {
		offset = -offset
	}
	switch kind {
	case crashLeader, crashAny:
		n.note("%s: node %d killed", kind, target)
		n.c.crash(target)
		n.down = append(n.down, target)
		return n.restartAll
	case pauseLeader, pauseAny:
		n.note("%s: node %d stopped (SIGSTOP)", kind, target)
		n.c.pause(target)
		return func() { n.note("node %d continues", target); n.c.resume(target) }
	case isolateLeader, isolateAny:
		n.note("%s: node %d cut off", kind, target)
		n.c.cut([]int{target}, n.others(target))
		return n.healNet
	case splitMajority:
		minority, majority := perm[:n.c.size()/2], perm[n.c.size()/2:]
		n.note("%s: %v | %v (leader %d)", kind, sorted(minority), sorted(majority), n.c.leader())
		n.c.cut(minority, majority)
		return n.healNet
	case bridge:
		a, b, c := perm[0], perm[1], perm[2]
		n.note("%s: node %d and node %d cut, node %d sees both", kind, a, c, b)
		n.c.cut([]int{a}, []int{c})
		return n.healNet
	case diskFull:
		if err := n.c.fillDisk(target); err != nil {
			n.note("%s: node %d: could not fill: %v", kind, target, err)
			return func() { n.c.freeDisk(target) }
		}
		n.note("%s: node %d's data volume full", kind, target)
		return func() { n.note("node %d's volume freed", target); n.c.freeDisk(target) }
	case clockJump:
		n.note("%s: node %d's clock %+v", kind, target, offset)
		n.c.setClock(target, offset)
		return func() { n.note("node %d's clock reset", target); n.c.setClock(target, 0) }
	}
	panic(fmt.Sprintf("chaos: no injector for %v", kind))
}

// target picks the fault's node: the current leader when asked and there
// is one (found without waiting), else a random running node.
func (n *nemesis) target(leader bool) int {
	var running []int
	for i := 0; i < n.c.size(); i++ {
		if n.c.running(i) {
			running = append(running, i)
		}
	}
	pick := running[n.rng.IntN(len(running))]
	if leader {
		if l := n.c.leader(); l >= 0 {
			return l
		}
	}
	return pick
}

func (n *nemesis) others(i int) []int {
	var out []int
	for j := 0; j < n.c.size(); j++ {
		if j != i {
			out = append(out, j)
		}
	}
	return out
}

func (n *nemesis) healNet() {
	n.note("heal")
	n.c.heal()
}

func (n *nemesis) restartAll() {
	for _, i := range n.down {
		n.note("node %d restarts", i)
		n.c.restart(i)
	}
	n.down = nil
}

// healAll ends every fault (the run's last is already repaired; this is
// for safety).
func (n *nemesis) healAll() {
	n.c.heal()
	for i := 0; i < n.c.size(); i++ {
		n.c.resume(i)
		n.c.freeDisk(i)
		n.c.setClock(i, 0)
	}
	n.restartAll()
	for i := 0; i < n.c.size(); i++ {
		if !n.c.running(i) { // a process that exited by itself
			n.note("node %d is down: restarts", i)
			n.c.restart(i)
		}
	}
}

func sorted(s []int) []int { return slices.Sorted(slices.Values(s)) }

func splitComma(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
