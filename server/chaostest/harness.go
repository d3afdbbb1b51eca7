package chaostest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/jackc/pgx/v5"

	"github.com/pgraft/pgraft/server/servertest"
)

// Config describes one run.
type Config struct {
	Seed     uint64        // fixes the fault schedule and the clients' choices
	Duration time.Duration // how long clients run under faults
	Nodes    int           // cluster size (default 3)
	Keys     int           // register keys (default 3)
	// RegisterClients and SetClients are per node (defaults 2 and 1).
	RegisterClients, SetClients int
	// ReadConsistency is the clients' pgraft.read_consistency (default
	// linearizable; a weaker level is for showing that the checker
	// catches stale reads).
	ReadConsistency string
	// CheckTimeout bounds porcupine (default 60 s); past it the result is
	// Unknown, reported but not a violation.
	CheckTimeout time.Duration
}

func (c *Config) defaults() {
	if c.Nodes == 0 {
		c.Nodes = 3
	}
	if c.Keys == 0 {
		c.Keys = 3
	}
	if c.RegisterClients == 0 {
		c.RegisterClients = 2
	}
	if c.SetClients == 0 {
		c.SetClients = 1
	}
	if c.ReadConsistency == "" {
		c.ReadConsistency = "linearizable"
	}
	if c.CheckTimeout == 0 {
		c.CheckTimeout = time.Minute
	}
}

// Result is what one run saw.
type Result struct {
	Seed       uint64
	Elapsed    time.Duration
	Register   regCounts
	Set        setCounts
	MaxGap     time.Duration  // longest time without an acknowledged register operation
	Faults     []string       // the schedule as it ran, with offsets
	Errors     map[string]int // client errors by SQLSTATE or class
	Linearized porcupine.CheckResult
	Viz        string   // porcupine visualization of a non-linearizable history
	Violations []string // empty when every check passed
}

// Ops is the number of operations the clients completed or gave up on.
func (r Result) Ops() int {
	return r.Register.Done + r.Register.Failed + r.Register.Unknown +
		r.Set.Acked + r.Set.Failed + r.Set.Unknown
}

// Run runs one chaos run on a fresh cluster and returns its result. Setup
// failures (the cluster does not start, tables cannot be created) fail t;
// broken guarantees are returned as Result.Violations.
func Run(t testing.TB, cfg Config) Result {
	t.Helper()
	cfg.defaults()
	began := time.Now()
	c := servertest.NewCluster(t, cfg.Nodes)
	dsns := make([]string, cfg.Nodes)
	for i := range dsns {
		dsns[i] = c.Nodes[i].DSN() // stable across restarts
	}
	setup(t, c, cfg.Keys)

	h := &history{start: time.Now()}
	sets := newSetLog()
	var errs errorCounts
	stop := startClients(cfg, dsns, h, sets, &errs)
	defer stop() // if t fails the run half way
	nem := &nemesis{c: c, rng: rand.New(rand.NewPCG(cfg.Seed, 0xfa17)), start: h.start}
	nem.run(cfg.Duration)
	end := h.now()
	stop()
	nem.healAll()

	r := Result{Seed: cfg.Seed, Faults: nem.log, MaxGap: h.maxGap(end)}
	r.Violations = append(r.Violations, converge(c, h)...)
	h.closeUnknown(h.now()) // if convergence failed before closing them
	r.Violations = append(r.Violations, check(t, cfg, h, sets, dsns, &r)...)
	r.Register, r.Set, r.Errors = h.counts, sets.counts(), errs.snapshot()
	r.Elapsed = time.Since(began)
	return r
}

// startClients starts the workloads' clients on every node and returns a
// function that stops them and waits for them (safe to call twice).
func startClients(cfg Config, dsns []string, h *history, sets *setLog, errs *errorCounts) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for n, dsn := range dsns {
		for k := 0; k < cfg.RegisterClients; k++ {
			rng := rand.New(rand.NewPCG(cfg.Seed, uint64(n*100+k)))
			wg.Go(func() { registerClient(ctx, h, errs, dsn, cfg.ReadConsistency, n, cfg.Keys, rng) })
		}
		for k := 0; k < cfg.SetClients; k++ {
			wg.Go(func() { setClient(ctx, sets, errs, dsn) })
		}
	}
	return func() {
		cancel()
		wg.Wait()
	}
}

// check runs the final reads and the register and set checks on the
// healed, converged cluster, sets r.Linearized and r.Viz, and returns
// violations.
func check(t testing.TB, cfg Config, h *history, sets *setLog, dsns []string, r *Result) []string {
	var violations []string
	if err := finalReads(h, dsns, cfg.Keys); err != nil {
		violations = append(violations, "after healing: "+err.Error())
	}
	viz := filepath.Join(os.TempDir(), fmt.Sprintf("pgraft-chaos-%d.html", cfg.Seed))
	res, err := checkRegister(h, cfg.CheckTimeout, viz)
	r.Linearized = res
	switch {
	case err != nil:
		t.Errorf("chaostest: %v", err)
	case res == porcupine.Illegal:
		r.Viz = viz
		violations = append(violations, "register: history is not linearizable (porcupine), see "+viz)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	v, err := checkSet(ctx, sets, dsns)
	violations = append(violations, v...)
	if err != nil {
		violations = append(violations, "set: after healing: "+err.Error())
	}
	return violations
}

// setup creates the workloads' tables through the leader, retrying while
// leadership settles.
func setup(t testing.TB, c *servertest.Cluster, keys int) {
	t.Helper()
	stmts := []string{
		`CREATE TABLE chaos_reg (k int PRIMARY KEY, v bigint NOT NULL)`,
		`CREATE TABLE chaos_set (id bigint PRIMARY KEY)`,
	}
	for k := 0; k < keys; k++ {
		stmts = append(stmts, fmt.Sprintf(`INSERT INTO chaos_reg VALUES (%d, 0)`, k))
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.Leader().DSN())
	if err != nil {
		t.Fatalf("chaostest: connect to leader: %v", err)
	}
	defer conn.Close(context.Background())
	for _, s := range stmts {
		if _, err := conn.Exec(ctx, s); err != nil {
			t.Fatalf("chaostest: %s: %v", s, err)
		}
	}
	if _, err := c.WaitConverged(ctx); err != nil {
		t.Fatalf("chaostest: after setup: %v", err)
	}
}

// converge waits until every node has applied everything, then compares
// their data applied index and checksum (I1, I3), and closes the history's
// unknown outcomes at that point. It returns violations.
func converge(c *servertest.Cluster, h *history) []string {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var last string
	// A leader elected while healing appends its own entries; retry a few
	// times before calling a difference a violation.
	for attempt := 0; attempt < 5; attempt++ {
		if _, err := c.WaitConverged(ctx); err != nil {
			return []string{"convergence: " + err.Error()}
		}
		h.closeUnknown(h.now())
		last = compareNodes(ctx, c)
		if last == "" {
			return nil
		}
		time.Sleep(500 * time.Millisecond)
	}
	return []string{"convergence: " + last}
}

// compareNodes returns "" when every node reports the same data applied
// index and checksum, else a description of the first difference.
func compareNodes(ctx context.Context, c *servertest.Cluster) string {
	var sum0 string
	var index0 uint64
	for i := range c.Nodes {
		sum, err := c.Checksum(ctx, i)
		if err != nil {
			return err.Error()
		}
		index := c.Nodes[i].Status(ctx, false).AppliedIndex
		if i == 0 {
			sum0, index0 = sum, index
			continue
		}
		if sum != sum0 || index != index0 {
			return fmt.Sprintf("node %d differs from node 0: applied index %d vs %d, checksum %s vs %s",
				i, index, index0, sum, sum0)
		}
	}
	return ""
}
