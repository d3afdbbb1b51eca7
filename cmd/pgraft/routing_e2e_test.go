package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pgraft/pgraft/server/servertest"
)

// Routing checks with real client libraries (PG-SURFACE.md b-5): libpq 15
// (psql) target_session_attrs and pgjdbc targetServerType against an
// in-process three-node cluster, each with the wrong kind of node listed
// first.

// routingTimeout bounds one client run; it fires only on a hang.
const routingTimeout = 2 * time.Minute

// routingCluster starts three nodes and returns them with the leader's
// index. It skips in -short mode.
func routingCluster(t *testing.T) (*servertest.Cluster, int) {
	t.Helper()
	if testing.Short() {
		t.Skip("multi-node routing test: skipped with -short")
	}
	c := servertest.NewCluster(t, 3)
	c.RequireConverged()
	return c, c.LeaderIndex()
}

// ordered returns the node indexes with the leader first (leaderFirst) or a
// follower first, then the others.
func ordered(leader int, leaderFirst bool) []int {
	f1, f2 := (leader+1)%3, (leader+2)%3
	if leaderFirst {
		return []int{leader, f1, f2}
	}
	return []int{f1, leader, f2}
}

func hostPort(t *testing.T, n *servertest.Node) (string, string) {
	t.Helper()
	h, p, err := net.SplitHostPort(n.PGAddr())
	if err != nil {
		t.Fatal(err)
	}
	return h, p
}

// requireTools skips (or, under CI, fails) when a client is missing.
func requireTools(t *testing.T, missing []string) {
	t.Helper()
	if len(missing) == 0 {
		return
	}
	reason := "cannot run: " + strings.Join(missing, "; ") + " (run test/clients/install.sh)"
	if os.Getenv("CI") != "" {
		t.Fatal(reason)
	}
	t.Skip(reason)
}

// TestLibpqTargetSessionAttrs runs psql 15 with a multi-host conninfo for
// every target_session_attrs value. libpq uses the reported in_hot_standby
// and default_transaction_read_only, so this checks ParameterStatus.
func TestLibpqTargetSessionAttrs(t *testing.T) {
	requireTools(t, missingCommands("psql"))
	c, leader := routingCluster(t)
	leaderPort := func() string { _, p := hostPort(t, c.Nodes[leader]); return p }()
	tests := []struct {
		attrs       string
		leaderFirst bool
		wantLeader  bool
	}{
		{"any", false, false},
		{"any", true, true},
		{"read-write", false, true},
		{"primary", false, true},
		{"read-only", true, false},
		{"standby", true, false},
		{"prefer-standby", true, false},
	}
	for _, tc := range tests {
		var hosts, ports []string
		for _, i := range ordered(leader, tc.leaderFirst) {
			h, p := hostPort(t, c.Nodes[i])
			hosts, ports = append(hosts, h), append(ports, p)
		}
		conninfo := fmt.Sprintf("host=%s port=%s user=postgres dbname=postgres sslmode=disable connect_timeout=10 target_session_attrs=%s",
			strings.Join(hosts, ","), strings.Join(ports, ","), tc.attrs)
		ctx, cancel := context.WithTimeout(context.Background(), routingTimeout)
		out, err := exec.CommandContext(ctx, "psql", "-X", "-At", conninfo,
			"-c", "SHOW transaction_read_only", "-c", `\echo :PORT`).CombinedOutput()
		cancel()
		if err != nil {
			t.Fatalf("psql target_session_attrs=%s: %v\n%s", tc.attrs, err, out)
		}
		lines := strings.Fields(string(out))
		if len(lines) != 2 {
			t.Fatalf("psql target_session_attrs=%s: unexpected output %q", tc.attrs, out)
		}
		ro, port := lines[0], lines[1]
		if (port == leaderPort) != tc.wantLeader || (ro == "off") != tc.wantLeader {
			t.Errorf("target_session_attrs=%s (leader first: %v): port %s (leader %s), transaction_read_only=%s; want leader=%v",
				tc.attrs, tc.leaderFirst, port, leaderPort, ro, tc.wantLeader)
		}
	}
}

// routingJava connects once per (hosts, targetServerType) argument pair
// and prints "type port transaction_read_only" for each.
const routingJava = `import java.sql.*;

public class Routing {
    public static void main(String[] a) throws Exception {
        for (int i = 0; i + 1 < a.length; i += 2) {
            String url = "jdbc:postgresql://" + a[i] + "/postgres?user=postgres&sslmode=disable"
                + "&loginTimeout=30&targetServerType=" + a[i + 1];
            try (Connection c = DriverManager.getConnection(url);
                 Statement s = c.createStatement();
                 ResultSet r = s.executeQuery("SHOW transaction_read_only")) {
                r.next();
                int port = ((org.postgresql.core.BaseConnection) c).getQueryExecutor().getHostSpec().getPort();
                System.out.println(a[i + 1] + " " + port + " " + r.getString(1));
            }
        }
    }
}
`

// TestJDBCTargetServerType runs pgjdbc with targetServerType primary,
// secondary and preferSecondary, the wrong kind of node listed first.
// pgjdbc decides from in_hot_standby, then SHOW transaction_read_only.
func TestJDBCTargetServerType(t *testing.T) {
	missing := missingCommands("javac", "java")
	if _, err := os.Stat(pgjdbcJar); err != nil {
		missing = append(missing, pgjdbcJar+" not found")
	}
	requireTools(t, missing)
	c, leader := routingCluster(t)
	_, leaderPort := hostPort(t, c.Nodes[leader])
	hostList := func(leaderFirst bool) string {
		var hs []string
		for _, i := range ordered(leader, leaderFirst) {
			hs = append(hs, c.Nodes[i].PGAddr())
		}
		return strings.Join(hs, ",")
	}
	want := map[string]bool{"primary": true, "secondary": false, "preferSecondary": false} // leader?
	args := []string{hostList(false), "primary", hostList(true), "secondary", hostList(true), "preferSecondary"}

	dir := t.TempDir()
	src := filepath.Join(dir, "Routing.java")
	if err := os.WriteFile(src, []byte(routingJava), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), routingTimeout)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "javac", "-d", dir, "-cp", pgjdbcJar, src).CombinedOutput(); err != nil {
		t.Fatalf("javac Routing.java: %v\n%s", err, out)
	}
	cmd := exec.CommandContext(ctx, "java", append([]string{"-cp", dir + string(os.PathListSeparator) + pgjdbcJar, "Routing"}, args...)...)
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("java Routing: %v\n%s", err, out)
	}
	seen := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			t.Fatalf("unexpected output line %q in:\n%s", line, out)
		}
		wantLeader, ok := want[f[0]]
		if !ok {
			t.Fatalf("unexpected output line %q", line)
		}
		seen++
		if (f[1] == leaderPort) != wantLeader || (f[2] == "off") != wantLeader {
			t.Errorf("targetServerType=%s: port %s (leader %s), transaction_read_only=%s; want leader=%v",
				f[0], f[1], leaderPort, f[2], wantLeader)
		}
	}
	if seen != len(want) {
		t.Fatalf("got %d results, want %d:\n%s", seen, len(want), out)
	}
}
