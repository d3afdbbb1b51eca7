package chaos

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
)

// Backends.
const (
	Inproc = "inproc" // servertest.Cluster in this process
	Proc   = "proc"   // pgraft processes in network namespaces
)

// Config describes one run.
type Config struct {
	Backend  string        // Inproc (default) or Proc
	Seed     uint64        // fixes the fault schedule and the clients' choices
	Duration time.Duration // how long clients run under faults
	Nodes    int           // cluster size (default 3)
	Keys     int           // register keys (default 3)
	// RegisterClients, SetClients and BankClients are per node (defaults
	// 2, 1 and 1); each node also gets one bank reader.
	RegisterClients, SetClients, BankClients int
	// ReadConsistency is the register clients' pgraft.read_consistency
	// (default linearizable; a weaker level is for showing that the
	// checker catches stale reads).
	ReadConsistency string
	// Faults limits the fault kinds (default: all the backend supports).
	Faults []faultKind
	// CheckTimeout bounds porcupine (default 60 s); past it the result is
	// Unknown, reported but not a violation.
	CheckTimeout time.Duration
}

func (c *Config) defaults() {
	if c.Backend == "" {
		c.Backend = Inproc
	}
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
	if c.BankClients == 0 {
		c.BankClients = 1
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
	Backend    string
	Seed       uint64
	Elapsed    time.Duration
	Register   regCounts
	Set        setCounts
	Bank       bankCounts
	MaxGap     time.Duration  // longest time without an acknowledged register operation
	Faults     []string       // the schedule as it ran, with offsets
	FaultKinds map[string]int // faults injected, by kind
	Errors     map[string]int // client errors by SQLSTATE or class
	Linearized porcupine.CheckResult
	Viz        string   // porcupine visualization of a non-linearizable history
	Notes      []string // what did not run, expected node exits, now() order
	Violations []string // empty when every check passed
}

// Ops is the number of operations the clients completed or gave up on.
func (r Result) Ops() int {
	return r.Register.Done + r.Register.Failed + r.Register.Unknown +
		r.Set.Acked + r.Set.Failed + r.Set.Unknown +
		r.Bank.Acked + r.Bank.Failed + r.Bank.Unknown + r.Bank.Reads
}

// workloads are the run's shared records.
type workloads struct {
	h    *history
	sets *setLog
	bank *bankLog
	errs errorCounts
}

// Run runs one chaos run on a fresh cluster and returns its result. Setup
// failures (the cluster does not start, tables cannot be created) fail t;
// broken guarantees are returned as Result.Violations.
func Run(t testing.TB, cfg Config) Result {
	t.Helper()
	cfg.defaults()
	began := time.Now()
	var c cluster
	switch cfg.Backend {
	case Inproc:
		c = newInproc(t, cfg.Nodes)
	case Proc:
		c = newProcCluster(t, cfg.Nodes)
	default:
		t.Fatalf("chaos: unknown backend %q", cfg.Backend)
	}
	setup(t, c, cfg.Keys)
	kinds := c.kinds()
	if len(cfg.Faults) > 0 {
		kinds = intersect(cfg.Faults, kinds)
	}

	start := time.Now()
	w := &workloads{h: &history{start: start}, sets: newSetLog(), bank: &bankLog{start: start}}
	stop := startClients(cfg, c, w)
	defer stop() // if t fails the run half way
	nem := newNemesis(c, kinds, cfg.Seed, w.h.start)
	nem.run(cfg.Duration)
	end := w.h.now()
	stop()
	nem.healAll()

	r := Result{Backend: cfg.Backend, Seed: cfg.Seed, Faults: nem.log, FaultKinds: nem.counts, MaxGap: w.h.maxGap(end)}
	r.Violations = append(r.Violations, converge(c, w.h)...)
	w.h.closeUnknown(w.h.now()) // if convergence failed before closing them
	r.Violations = append(r.Violations, check(t, cfg, c, w, &r)...)
	if p, ok := c.(interface{ problems() []string }); ok {
		r.Violations = append(r.Violations, p.problems()...)
	}
	r.Notes = append(r.Notes, c.notes()...)
	r.Register, r.Set, r.Bank, r.Errors = w.h.counts, w.sets.counts(), w.bank.counts(), w.errs.snapshot()
	r.Notes = append(r.Notes, w.errs.internalErrors()...)
	r.Elapsed = time.Since(began)
	return r
}

func intersect(want, have []faultKind) []faultKind {
	var out []faultKind
	for _, k := range want {
		for _, h := range have {
			if k == h {
				out = append(out, k)
			}
		}
	}
	return out
}

// startClients starts the workloads' clients on every node and returns a
// function that stops them and waits for them (safe to call twice).
func startClients(cfg Config, c cluster, w *workloads) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for n := 0; n < c.size(); n++ {
		dsn := c.dsn(n)
		for k := 0; k < cfg.RegisterClients; k++ {
			rng := rand.New(rand.NewPCG(cfg.Seed, uint64(n*100+k)))
			wg.Go(func() { registerClient(ctx, w.h, &w.errs, dsn, cfg.ReadConsistency, n, cfg.Keys, rng) })
		}
		for k := 0; k < cfg.SetClients; k++ {
			wg.Go(func() { setClient(ctx, w.sets, &w.errs, dsn, w.h.now) })
		}
		for k := 0; k < cfg.BankClients; k++ {
			rng := rand.New(rand.NewPCG(cfg.Seed, uint64(n*100+50+k)))
			wg.Go(func() { bankClient(ctx, w.bank, &w.errs, dsn, n, rng) })
		}
		wg.Go(func() { bankReader(ctx, w.bank, &w.errs, dsn, n) })
	}
	return func() {
		cancel()
		wg.Wait()
	}
}

// check runs the final reads and the register, set, clock and bank
// checks on the healed, converged cluster, sets r.Linearized and r.Viz,
// and returns violations.
func check(t testing.TB, cfg Config, c cluster, w *workloads, r *Result) []string {
	var violations []string
	dsns := make([]string, c.size())
	for i := range dsns {
		dsns[i] = c.dsn(i)
	}
	if err := finalReads(w.h, dsns, cfg.Keys); err != nil {
		violations = append(violations, "register: after healing: "+err.Error())
	}
	viz := filepath.Join(os.TempDir(), fmt.Sprintf("pgraft-chaos-%s-%d.html", cfg.Backend, cfg.Seed))
	res, err := checkRegister(w.h, cfg.CheckTimeout, viz)
	r.Linearized = res
	switch {
	case err != nil:
		t.Errorf("chaos: %v", err)
	case res == porcupine.Illegal:
		r.Viz = viz
		violations = append(violations, "register: history is not linearizable (porcupine), see "+viz)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	v, info, err := checkSet(ctx, w.sets, dsns)
	violations = append(violations, v...)
	if err != nil {
		violations = append(violations, "set: after healing: "+err.Error())
	}
	if info != "" {
		r.Notes = append(r.Notes, info)
	}
	return append(violations, checkBank(ctx, w.bank, dsns)...)
}

// setup creates the workloads' tables through node 0 (a follower forwards
// to the leader), retrying while leadership settles, and waits until
// every node has them.
func setup(t testing.TB, c cluster, keys int) {
	t.Helper()
	stmts := []string{`CREATE TABLE chaos_reg (k int PRIMARY KEY, v bigint NOT NULL)`}
	stmts = append(stmts, setSetup()...)
	stmts = append(stmts, bankSetup()...)
	for k := 0; k < keys; k++ {
		stmts = append(stmts, fmt.Sprintf(`INSERT INTO chaos_reg VALUES (%d, 0)`, k))
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.dsn(0))
	if err != nil {
		t.Fatalf("chaos: connect to node 0: %v", err)
	}
	defer conn.Close(context.Background())
	for _, s := range stmts {
		unknown := false // an earlier try answered 40003: it may have committed
		for {
			_, err := conn.Exec(ctx, s)
			if err == nil {
				break
			}
			code := sqlstate(err)
			if unknown && (code == "23505" || code == "42P07") {
				break // the earlier try did commit
			}
			if code == "40003" {
				unknown = true // leadership moved while it was in flight (a loaded machine)
			}
			if code != "40001" && code != "40003" || ctx.Err() != nil {
				t.Fatalf("chaos: %s: %v", s, err)
			}
			time.Sleep(100 * time.Millisecond) // no leader yet
		}
	}
	if v := converge(c, nil); len(v) > 0 {
		t.Fatalf("chaos: after setup: %v", v)
	}
}

// converge waits until every node has applied everything, then compares
// their applied index and checksum (I1, I3), and closes the history's
// unknown outcomes (h may be nil) at that point. It returns violations.
func converge(c cluster, h *history) []string {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var last string
	// A leader elected while healing appends its own entries, and a node
	// may still be catching up: compare until equal or out of time.
	for ctx.Err() == nil {
		if err := c.settle(ctx); err != nil {
			last = err.Error()
			break
		}
		if h != nil {
			h.closeUnknown(h.now())
		}
		if last = compareNodes(ctx, c); last == "" {
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return []string{"convergence: " + last}
}
