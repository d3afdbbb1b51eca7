package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBenchScript runs make bench's script (bench/bench.sh) at its smallest:
// one pgraft node, the insert workload for one second and a COPY of 1,000
// rows in three statements. It proves the script starts, measures, reports
// and stops what it started; the comparison with PostgreSQL is make bench.
func TestBenchScript(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped with -short")
	}
	for _, tool := range []string{"bash", "pgbench", "psql", "curl", "flock", "timeout"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	base := benchBasePort(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "results.csv")
	cmd := exec.Command("bash", "../../bench/bench.sh", "--pgraft", pgraft.Path(t),
		"--targets", "pgraft-1", "--workloads", "insert", "--clients", "1", "--runs", "1", "--duration", "1",
		"--copy-rows", "1000", "--copy-chunk", "400", "--port", fmt.Sprint(base),
		"--dir", filepath.Join(dir, "scratch"), "--out", out)
	cmd.Env = append(os.Environ(), "BENCH_LOCK=none")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("bench.sh: %v\nstdout:\n%s\nstderr:\n%s", err, stdout, stderr.String())
	}
	for _, want := range []string{"| insert | 1 |", "| pgraft 1 node |", "3 COPY statements of 400 rows"} {
		if !strings.Contains(string(stdout), want) {
			t.Errorf("the report has no %q:\n%s", want, stdout)
		}
	}
	csv, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(csv), ",ok,"); n != 2 {
		t.Errorf("%d successful runs in the CSV, want 2 (insert and COPY):\n%s", n, csv)
	}
	if _, err := os.Stat(filepath.Join(dir, "scratch")); !os.IsNotExist(err) {
		t.Errorf("the scratch directory is still there (%v)", err)
	}
	if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", base+31), time.Second); err == nil {
		c.Close()
		t.Errorf("the pgraft node still listens on %d after bench.sh ended", base+31)
	}
}

// benchBasePort finds a --port for bench.sh whose pgraft-1 ports (base+31
// to base+33) are free now.
func benchBasePort(t *testing.T) int {
	t.Helper()
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if p-31 < 1024 || p+2 > 65535 {
			continue
		}
		free := true
		for _, q := range []int{p + 1, p + 2} {
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", q))
			if err != nil {
				free = false
				break
			}
			l.Close()
		}
		if free {
			return p - 31
		}
	}
	t.Fatal("no three free consecutive ports")
	return 0
}
