package chaostest

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// replayHint is how to run one run again.
func replayHint(cfg Config) string {
	env := "PGRAFT_CHAOS_SEED=" + strconv.FormatUint(cfg.Seed, 10) + " PGRAFT_CHAOS_DURATION=" + cfg.Duration.String()
	if cfg.ReadConsistency != "" {
		env += " PGRAFT_CHAOS_CONSISTENCY=" + cfg.ReadConsistency
	}
	return "replay: " + env + " go test ./server/chaostest -run '^TestChaos$' -v -count=1"
}

// runSeed runs one seed as a subtest and reports its violations with the
// way to replay it.
func runSeed(t *testing.T, cfg Config) Result {
	seed := cfg.Seed
	var r Result
	t.Run("seed="+strconv.FormatUint(seed, 10), func(t *testing.T) {
		r = Run(t, cfg)
		t.Logf("seed %d: %d ops, %d faults, linearizable %s, errors: %s\n  %s",
			seed, r.Ops(), faultCount(r), r.Linearized, errorLine(r.Errors), strings.Join(r.Faults, "\n  "))
		if len(r.Violations) == 0 {
			return
		}
		t.Errorf("seed %d: %d violations:\n  %s\n%s", seed, len(r.Violations),
			strings.Join(r.Violations, "\n  "), replayHint(cfg))
	})
	return r
}

// TestChaosShort is the deterministic subset `make test` runs: a few fixed
// seeds, 12 s of faults each.
func TestChaosShort(t *testing.T) {
	if testing.Short() {
		t.Skip("chaos runs a cluster under faults: skipped with -short")
	}
	var results []Result
	for _, seed := range []uint64{1, 2, 3} {
		results = append(results, runSeed(t, Config{Seed: seed, Duration: 12 * time.Second}))
	}
	t.Logf("summary:\n%s", summary(results))
}

// TestChaos runs many seeds, for `make chaos`: PGRAFT_CHAOS_RUNS=N runs N
// seeds starting at PGRAFT_CHAOS_BASE (default: from the clock, printed);
// PGRAFT_CHAOS_SEED=S replays one seed. PGRAFT_CHAOS_DURATION sets each
// run's fault time (default 30s); PGRAFT_CHAOS_CONSISTENCY the clients'
// read consistency (default linearizable). Without either variable it skips.
func TestChaos(t *testing.T) {
	d := 30 * time.Second
	if v := os.Getenv("PGRAFT_CHAOS_DURATION"); v != "" {
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			t.Fatalf("PGRAFT_CHAOS_DURATION: %v", err)
		}
	}
	level := os.Getenv("PGRAFT_CHAOS_CONSISTENCY") // e.g. local, to see the checker catch stale reads
	seeds := chaosSeeds(t)
	if len(seeds) == 0 {
		t.Skip("set PGRAFT_CHAOS_RUNS=N (or PGRAFT_CHAOS_SEED=S to replay one seed); `make chaos` does")
	}
	var results []Result
	for _, seed := range seeds {
		results = append(results, runSeed(t, Config{Seed: seed, Duration: d, ReadConsistency: level}))
	}
	t.Logf("summary (%d s of faults per run):\n%s", int(d.Seconds()), summary(results))
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
