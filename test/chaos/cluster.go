package chaos

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// cluster is the seam between a run and what it runs on. The workloads
// and checkers reach nodes only through their PostgreSQL addresses (dsn,
// stable across restarts); the nemesis and the convergence check use the
// fault and state methods. Two implementations: inproc (servertest.Cluster
// in this process) and proc (pgraft processes in network namespaces).
//
// Methods are for the test goroutine only. A fault method a cluster cannot
// inject (not listed by kinds) fails the test: the nemesis never calls one.
type cluster interface {
	backend() string // "inproc" or "proc", for summaries and replay hints
	size() int
	dsn(i int) string
	kinds() []faultKind // the faults this cluster can inject
	notes() []string    // what could not be set up (printed in the summary)

	running(i int) bool // up: not crashed (a paused node is running)
	leader() int        // the leader as found without waiting, -1 if none

	crash(i int)   // kill -9 (or in-process crash)
	restart(i int) // start a crashed node on its data dir; waits until it is ready
	pause(i int)   // SIGSTOP
	resume(i int)  // SIGCONT
	// cut stops node-to-node traffic between nodes in different groups;
	// clients still reach every node. Nodes in no group keep their links.
	cut(groups ...[]int)
	heal()                                // undo every cut
	fillDisk(i int) error                 // fill node i's data volume
	freeDisk(i int)                       // undo fillDisk
	setClock(i int, offset time.Duration) // node i's clock for new entries

	// state returns node i's applied index and pgraft_checksum(), read so
	// that no entry was applied in between.
	state(ctx context.Context, i int) (index uint64, sum string, err error)
	// settle waits until every running node has applied everything the
	// leader has (best effort; the comparison after it decides).
	settle(ctx context.Context) error
}

// faultKind is one kind of fault the nemesis injects.
type faultKind int

const (
	crashLeader   faultKind = iota // kill -9 the leader, restart it after the hold
	crashAny                       // kill -9 a random node
	pauseLeader                    // SIGSTOP the leader, SIGCONT after the hold
	pauseAny                       // SIGSTOP a random node
	isolateLeader                  // cut the leader off from every other node
	isolateAny                     // cut a random node off
	splitMajority                  // two groups, 3+2 of 5 (the leader on a random side)
	bridge                         // A–B–C: B sees both, A and C do not see each other
	diskFull                       // fill a node's data volume
	clockJump                      // move a node's clock by minutes
	numFaultKinds
)

var faultNames = [...]string{"crash leader", "crash", "pause leader", "pause", "isolate leader",
	"isolate", "majority/minority", "bridge", "disk full", "clock jump"}

func (k faultKind) String() string {
	if k < 0 || k >= numFaultKinds {
		return fmt.Sprintf("fault(%d)", int(k))
	}
	return faultNames[k]
}

// onLeader reports whether the fault targets the current leader.
func (k faultKind) onLeader() bool {
	return k == crashLeader || k == pauseLeader || k == isolateLeader
}

// parseKinds parses a comma-separated list of fault names (as String
// prints them), for PGRAFT_CHAOS_FAULTS.
func parseKinds(s string) ([]faultKind, error) {
	var out []faultKind
	for _, name := range splitComma(s) {
		found := false
		for k := faultKind(0); k < numFaultKinds; k++ {
			if k.String() == name {
				out, found = append(out, k), true
			}
		}
		if !found {
			return nil, fmt.Errorf("unknown fault kind %q (known: %v)", name, faultNames)
		}
	}
	return out, nil
}

// diffTables are the workloads' tables with the order their rows are
// compared in.
var diffTables = []string{
	`SELECT k::text || '=' || v::text FROM chaos_reg ORDER BY k`,
	`SELECT seq::text || ':' || id::text || '@' || ts::text FROM chaos_set ORDER BY seq`,
	`SELECT id::text || '=' || balance::text FROM chaos_bank ORDER BY id`,
}

// diffRows describes where two nodes' tables differ, for the report of a
// convergence violation: the first differing rows of each table (local
// reads, which is what the checksums were taken of).
func diffRows(ctx context.Context, c cluster, a, b int) string {
	read := func(i int, q string) ([]string, error) {
		conn, err := pgx.Connect(ctx, c.dsn(i))
		if err != nil {
			return nil, err
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(ctx, `SET pgraft.read_consistency = local`); err != nil {
			return nil, err
		}
		rows, err := conn.Query(ctx, q)
		if err != nil {
			return nil, err
		}
		return pgx.CollectRows(rows, pgx.RowTo[string])
	}
	var out strings.Builder
	for _, q := range diffTables {
		ra, errA := read(a, q)
		rb, errB := read(b, q)
		if errA != nil || errB != nil {
			fmt.Fprintf(&out, "\n    %s: %v / %v", q, errA, errB) // e.g. the table is not in this run
			continue
		}
		shown := 0
		for j := 0; j < max(len(ra), len(rb)) && shown < 5; j++ {
			var x, y string
			if j < len(ra) {
				x = ra[j]
			}
			if j < len(rb) {
				y = rb[j]
			}
			if x != y {
				fmt.Fprintf(&out, "\n    row %d: node %d %q, node %d %q", j, a, x, b, y)
				shown++
			}
		}
		if len(ra) != len(rb) {
			fmt.Fprintf(&out, "\n    %d rows on node %d, %d on node %d", len(ra), a, len(rb), b)
		}
	}
	return out.String()
}

// compareNodes returns "" when every node reports the same applied index
// and checksum, else a description of the first difference or error.
func compareNodes(ctx context.Context, c cluster) string {
	var sum0 string
	var index0 uint64
	for i := 0; i < c.size(); i++ {
		index, sum, err := c.state(ctx, i)
		if err != nil {
			return fmt.Sprintf("node %d: %v", i, err)
		}
		if i == 0 {
			sum0, index0 = sum, index
			continue
		}
		if sum != sum0 || index != index0 {
			return fmt.Sprintf("node %d differs from node 0: applied index %d vs %d, checksum %s vs %s%s",
				i, index, index0, sum, sum0, diffRows(ctx, c, 0, i))
		}
	}
	return ""
}
