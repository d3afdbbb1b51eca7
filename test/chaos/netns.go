package chaos

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// netLab is the network of a process cluster: one Linux bridge in the root
// namespace (which gets the .254 address, so the test process reaches
// every node), and per node a network namespace joined to the bridge by a
// veth pair, in a private 10.213.N.0/24.
//
// A cut between two nodes is a permanent neighbour (ARP) entry on each
// side pointing the other's address at a MAC address nobody has: frames go
// into the bridge and are dropped silently, as on a real partition.
// (A blackhole route does not do: a local connect() to a blackholed
// address fails at once with EINVAL; and this kernel has neither netem
// nor the gact drop action for a tc filter.) Clients in the root
// namespace keep reaching every node.
//
// Every name starts with prefix ("pgc" and N), and the lab writes a state
// file under labStateDir naming the owning process; a later lab removes
// the leftovers of one whose owner is gone.
type netLab struct {
	prefix string // e.g. pgc042: namespaces pgc042n1…, bridge pgc042br
	subnet string // e.g. 10.213.42
	nodes  int
	macs   []string // each node's interface MAC
	cuts   [][2]int // current cuts, for heal
	mounts []string // tmpfs mounts made for this lab's nodes (for leftover cleanup)
	run    func(args ...string) error
}

// labStateDir holds one file per live lab: its owner's pid and mounts.
const labStateDir = "/tmp/pgraft-chaos-net"

// deadMAC is where a cut sends a node's frames: a locally administered
// unicast address no interface has.
const deadMAC = "02:00:5e:00:de:ad"

type labState struct {
	PID    int      `json:"pid"`
	Mounts []string `json:"mounts"`
}

// newNetLab creates the bridge and one namespace per node. It returns an
// error (and removes what it made) when namespaces cannot be created.
func newNetLab(nodes int) (*netLab, error) {
	cleanLeftoverLabs()
	l := &netLab{nodes: nodes, run: runCmd}
	n, err := reserveSubnet()
	if err != nil {
		return nil, err
	}
	l.prefix, l.subnet = fmt.Sprintf("pgc%03d", n), fmt.Sprintf("10.213.%d", n)
	if err := l.saveState(); err != nil {
		l.teardown()
		return nil, err
	}
	if err := l.build(); err != nil {
		l.teardown()
		return nil, err
	}
	return l, nil
}

func (l *netLab) ns(i int) string     { return fmt.Sprintf("%sn%d", l.prefix, i+1) }
func (l *netLab) ip(i int) string     { return fmt.Sprintf("%s.%d", l.subnet, i+1) }
func (l *netLab) inside(i int) string { return fmt.Sprintf("%sp%d", l.prefix, i+1) }
func (l *netLab) bridge() string      { return l.prefix + "br" }

func (l *netLab) build() error {
	br := l.bridge()
	steps := [][]string{
		{"link", "add", br, "type", "bridge"},
		{"addr", "add", l.subnet + ".254/24", "dev", br},
		{"link", "set", br, "up"},
	}
	for i := 0; i < l.nodes; i++ {
		ns, in, out := l.ns(i), l.inside(i), fmt.Sprintf("%sv%d", l.prefix, i+1)
		steps = append(steps,
			[]string{"netns", "add", ns},
			[]string{"link", "add", out, "type", "veth", "peer", "name", in},
			[]string{"link", "set", in, "netns", ns},
			[]string{"link", "set", out, "master", br, "up"},
			[]string{"-n", ns, "link", "set", "lo", "up"},
			[]string{"-n", ns, "addr", "add", l.ip(i) + "/24", "dev", in},
			[]string{"-n", ns, "link", "set", in, "up"},
		)
	}
	for _, s := range steps {
		if err := l.run(append([]string{"ip"}, s...)...); err != nil {
			return err
		}
	}
	for i := 0; i < l.nodes; i++ {
		mac, err := l.mac(i)
		if err != nil {
			return err
		}
		l.macs = append(l.macs, mac)
	}
	return nil
}

func (l *netLab) mac(i int) (string, error) {
	out, err := exec.Command("ip", "-j", "-n", l.ns(i), "link", "show", "dev", l.inside(i)).Output()
	if err != nil {
		return "", fmt.Errorf("ip link show in %s: %w", l.ns(i), err)
	}
	var links []struct {
		Address string `json:"address"`
	}
	if err := json.Unmarshal(out, &links); err != nil || len(links) != 1 {
		return "", fmt.Errorf("ip -j link show in %s: %q: %v", l.ns(i), out, err)
	}
	return links[0].Address, nil
}

// cut stops traffic between nodes a and b, both ways.
func (l *netLab) cut(a, b int) error {
	for _, p := range [][2]int{{a, b}, {b, a}} {
		if err := l.run("ip", "-n", l.ns(p[0]), "neigh", "replace", l.ip(p[1]), "lladdr", deadMAC,
			"nud", "permanent", "dev", l.inside(p[0])); err != nil {
			return err
		}
	}
	l.cuts = append(l.cuts, [2]int{a, b})
	return nil
}

// heal undoes every cut: the real neighbour entries come back.
func (l *netLab) heal() error {
	var first error
	for _, c := range l.cuts {
		for _, p := range [][2]int{{c[0], c[1]}, {c[1], c[0]}} {
			err := l.run("ip", "-n", l.ns(p[0]), "neigh", "replace", l.ip(p[1]), "lladdr", l.macs[p[1]],
				"nud", "reachable", "dev", l.inside(p[0]))
			if err != nil && first == nil {
				first = err
			}
		}
	}
	l.cuts = nil
	return first
}

// addMount records a tmpfs mount in the state file, so a later run can
// unmount it if this one dies first.
func (l *netLab) addMount(dir string) error {
	l.mounts = append(l.mounts, dir)
	return l.saveState()
}

func (l *netLab) saveState() error {
	b, _ := json.Marshal(labState{PID: os.Getpid(), Mounts: l.mounts})
	return os.WriteFile(filepath.Join(labStateDir, l.prefix), b, 0o644)
}

// teardown deletes the namespaces (their veth ends go with them), the
// bridge and the state file. Processes and mounts are the caller's.
func (l *netLab) teardown() {
	removeLab(l.prefix, l.nodes)
	os.Remove(filepath.Join(labStateDir, l.prefix))
}

// removeLab deletes everything named with prefix: processes still in its
// namespaces (killed by pid), the namespaces and the bridge.
func removeLab(prefix string, nodes int) {
	for i := 1; i <= nodes; i++ {
		ns := fmt.Sprintf("%sn%d", prefix, i)
		if out, err := exec.Command("ip", "netns", "pids", ns).Output(); err == nil {
			for _, f := range strings.Fields(string(out)) {
				if pid, err := strconv.Atoi(f); err == nil {
					syscall.Kill(pid, syscall.SIGKILL)
				}
			}
		}
		exec.Command("ip", "netns", "del", ns).Run()
		exec.Command("ip", "link", "del", fmt.Sprintf("%sv%d", prefix, i)).Run()
	}
	exec.Command("ip", "link", "del", prefix+"br").Run()
}

// cleanLeftoverLabs removes the labs (and their tmpfs mounts) of test
// processes that ended without cleaning up: a state file whose pid is
// gone, or pgcNNN namespaces with no state file at all.
func cleanLeftoverLabs() {
	prefixes := map[string]bool{}
	if out, err := exec.Command("ip", "netns", "list").Output(); err == nil {
		for _, line := range strings.Split(string(out), "\n") {
			if f := strings.Fields(line); len(f) > 0 && len(f[0]) > 6 && strings.HasPrefix(f[0], "pgc") {
				prefixes[f[0][:6]] = true
			}
		}
	}
	entries, _ := os.ReadDir(labStateDir)
	for _, e := range entries {
		prefixes[e.Name()] = true
	}
	for prefix := range prefixes {
		var st labState
		b, err := os.ReadFile(filepath.Join(labStateDir, prefix))
		if err == nil && json.Unmarshal(b, &st) == nil && st.PID > 0 && syscall.Kill(st.PID, 0) == nil {
			continue // its owner is alive
		}
		removeLab(prefix, 5)
		for _, m := range st.Mounts {
			exec.Command("umount", "-l", m).Run()
		}
		os.Remove(filepath.Join(labStateDir, prefix))
	}
}

// reserveSubnet picks N for 10.213.N.0/24 with no address using it and
// reserves it by creating its state file exclusively (two tests starting
// at once cannot pick the same N).
func reserveSubnet() (int, error) {
	if err := os.MkdirAll(labStateDir, 0o755); err != nil {
		return 0, fmt.Errorf("lab state dir: %w", err)
	}
	addrs, err := exec.Command("ip", "-4", "-o", "addr").Output()
	if err != nil {
		return 0, fmt.Errorf("ip addr: %w", err)
	}
	for try := 0; try < 100; try++ {
		n := 1 + rand.IntN(250)
		if bytes.Contains(addrs, []byte(fmt.Sprintf(" 10.213.%d.", n))) {
			continue
		}
		f, err := os.OpenFile(filepath.Join(labStateDir, fmt.Sprintf("pgc%03d", n)), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err != nil {
			continue
		}
		b, _ := json.Marshal(labState{PID: os.Getpid()}) // owned from the first byte on
		_, err = f.Write(b)
		f.Close()
		if err != nil {
			return 0, fmt.Errorf("lab state: %w", err)
		}
		return n, nil
	}
	return 0, fmt.Errorf("no free 10.213.N.0/24")
}

func runCmd(args ...string) error {
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %v: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}
