package chaos

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgraft.Remove()
	os.Exit(code)
}

// replayHint is how to run one run again.
func replayHint(cfg Config) string {
	env := fmt.Sprintf("PGRAFT_CHAOS_SEED=%d PGRAFT_CHAOS_DURATION=%s PGRAFT_CHAOS_BACKEND=%s",
		cfg.Seed, cfg.Duration, cfg.Backend)
	if cfg.Nodes != 0 && cfg.Nodes != 3 {
		env += " PGRAFT_CHAOS_NODES=" + strconv.Itoa(cfg.Nodes)
	}
	if len(cfg.Faults) > 0 {
		names := make([]string, len(cfg.Faults))
		for i, k := range cfg.Faults {
			names[i] = k.String()
		}
		env += " PGRAFT_CHAOS_FAULTS='" + strings.Join(names, ",") + "'"
	}
	if cfg.ReadConsistency != "" {
		env += " PGRAFT_CHAOS_CONSISTENCY=" + cfg.ReadConsistency
	}
	return "replay: " + env + " go test ./test/chaos -run '^TestChaos$' -v -count=1"
}

// runSeed runs one seed as a subtest and reports its violations with the
// way to replay it.
func runSeed(t *testing.T, cfg Config) Result {
	cfg.defaults()
	var r Result
	t.Run(fmt.Sprintf("%s/seed=%d", cfg.Backend, cfg.Seed), func(t *testing.T) {
		r = Run(t, cfg)
		t.Logf("%s seed %d: %d ops, faults %s, linearizable %s, errors: %s\n  %s\n  notes: %s",
			cfg.Backend, cfg.Seed, r.Ops(), countLine(r.FaultKinds), r.Linearized, errorLine(r.Errors),
			strings.Join(r.Faults, "\n  "), strings.Join(r.Notes, "; "))
		if len(r.Violations) == 0 {
			return
		}
		t.Errorf("%s seed %d: %d violations:\n  %s\n%s", cfg.Backend, cfg.Seed, len(r.Violations),
			strings.Join(r.Violations, "\n  "), replayHint(cfg))
	})
	if r.Backend == "" { // the subtest failed before Run returned
		r = Result{Backend: cfg.Backend, Seed: cfg.Seed, Violations: []string{"node: run did not finish (see the log)"}}
	}
	return r
}

// TestChaosShort is the deterministic subset `make test` runs: two seeds
// of 12 s on the in-process cluster and one of 20 s on processes.
func TestChaosShort(t *testing.T) {
	if testing.Short() {
		t.Skip("chaos runs a cluster under faults: skipped with -short")
	}
	var results []Result
	for _, seed := range []uint64{1, 2} {
		results = append(results, runSeed(t, Config{Backend: Inproc, Seed: seed, Duration: 12 * time.Second}))
	}
	results = append(results, runSeed(t, Config{Backend: Proc, Seed: 1, Duration: 20 * time.Second}))
	t.Logf("summary:\n%s", summary(results))
}

// TestChaos runs many seeds, for `make chaos`:
//
//   - PGRAFT_CHAOS_RUNS=N runs N seeds from PGRAFT_CHAOS_BASE (default:
//     from the clock, printed); PGRAFT_CHAOS_SEED=S replays one seed.
//     Without either it skips.
//   - PGRAFT_CHAOS_BACKEND: inproc, proc or both (default both: every seed
//     on each backend).
//   - PGRAFT_CHAOS_DURATION: each run's fault time (default 30s).
//   - PGRAFT_CHAOS_NODES: cluster size (default 3; 5 adds
//     majority/minority partitions on proc).
//   - PGRAFT_CHAOS_FAULTS: comma-separated fault kinds to draw from
//     (default all the backend supports), e.g. 'disk full,clock jump'.
//   - PGRAFT_CHAOS_CONSISTENCY: the register clients' read consistency
//     (default linearizable; e.g. local, to see the checker catch stale reads).
func TestChaos(t *testing.T) {
	base := Config{Duration: 30 * time.Second, ReadConsistency: os.Getenv("PGRAFT_CHAOS_CONSISTENCY")}
	var err error
	if v := os.Getenv("PGRAFT_CHAOS_DURATION"); v != "" {
		if base.Duration, err = time.ParseDuration(v); err != nil {
			t.Fatalf("PGRAFT_CHAOS_DURATION: %v", err)
		}
	}
	if v := os.Getenv("PGRAFT_CHAOS_NODES"); v != "" {
		if base.Nodes, err = strconv.Atoi(v); err != nil || base.Nodes < 3 {
			t.Fatalf("PGRAFT_CHAOS_NODES=%q: want a number >= 3", v)
		}
	}
	if base.Faults, err = parseKinds(os.Getenv("PGRAFT_CHAOS_FAULTS")); err != nil {
		t.Fatalf("PGRAFT_CHAOS_FAULTS: %v", err)
	}
	backends := []string{Inproc, Proc}
	switch v := os.Getenv("PGRAFT_CHAOS_BACKEND"); v {
	case "", "both":
	case Inproc, Proc:
		backends = []string{v}
	default:
		t.Fatalf("PGRAFT_CHAOS_BACKEND=%q: want inproc, proc or both", v)
	}
	seeds := chaosSeeds(t)
	if len(seeds) == 0 {
		t.Skip("set PGRAFT_CHAOS_RUNS=N (or PGRAFT_CHAOS_SEED=S to replay one seed); `make chaos` does")
	}
	var results []Result
	for _, seed := range seeds {
		for _, b := range backends {
			cfg := base
			cfg.Seed, cfg.Backend = seed, b
			results = append(results, runSeed(t, cfg))
		}
	}
	t.Logf("summary (%s of faults per run):\n%s", base.Duration, summary(results))
}

// chaosSeeds returns the seeds the environment asks for.
func chaosSeeds(t *testing.T) []uint64 {
	if v := os.Getenv("PGRAFT_CHAOS_SEED"); v != "" {
		s, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("PGRAFT_CHAOS_SEED: %v", err)
		}
		return []uint64{s}
	}
	v := os.Getenv("PGRAFT_CHAOS_RUNS")
	if v == "" {
		return nil
	}
	runs, err := strconv.Atoi(v)
	if err != nil || runs < 1 {
		t.Fatalf("PGRAFT_CHAOS_RUNS=%q: want a positive number", v)
	}
	base := uint64(time.Now().UnixNano()) % 1_000_000_000
	if b := os.Getenv("PGRAFT_CHAOS_BASE"); b != "" {
		if base, err = strconv.ParseUint(b, 10, 64); err != nil {
			t.Fatalf("PGRAFT_CHAOS_BASE: %v", err)
		}
	}
	t.Logf("seeds %d..%d (PGRAFT_CHAOS_BASE=%d)", base, base+uint64(runs)-1, base)
	seeds := make([]uint64, runs)
	for i := range seeds {
		seeds[i] = base + uint64(i)
	}
	return seeds
}
