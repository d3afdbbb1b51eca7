package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pgraft/pgraft/server"
	"github.com/pgraft/pgraft/server/servertest"
)

const chromium = "/usr/bin/chromium"

// chromiumRun runs headless Chromium on url with extra flags, bounded.
func chromiumRun(t *testing.T, url string, extra ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--user-data-dir=" + t.TempDir(), "--window-size=1200,900",
		"--virtual-time-budget=5000"}
	args = append(append(args, extra...), url)
	cmd := exec.CommandContext(ctx, chromium, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium %v: %v\n%s", extra, err, stderr.String())
	}
	return out
}

var (
	reLeader  = regexp.MustCompile(`<b id="leader">([^<]*)</b>`)
	reMembers = regexp.MustCompile(`(?s)<table id="members">.*?</table>`)
)

// leaderProblem says what is wrong with the leader and roles a status
// page shows, "" if nothing: one member is marked leader, the one the page
// names, and the members table has a leader and followers.
func leaderProblem(dom string) string {
	members := reMembers.FindString(dom)
	if n := strings.Count(members, `class="badge">leader</span>`); n != 1 {
		return fmt.Sprintf("%d members marked leader, want 1:\n%s", n, members)
	}
	m := reLeader.FindStringSubmatch(dom)
	if m == nil || !strings.Contains(members, `<tr data-node="`+m[1]+`" class="leader">`) {
		return fmt.Sprintf("leader %v not marked:\n%s", m, members)
	}
	for _, role := range []string{">Leader<", ">Follower<"} {
		if !strings.Contains(members, role) {
			return fmt.Sprintf("no role %s:\n%s", role, members)
		}
	}
	return ""
}

// TestStatusPageBrowser loads the status page of each node of a three-node
// cluster in headless Chromium: after its script ran, the DOM lists the
// three members with their roles, marks the leader and has the charts; the
// screenshot is a non-blank PNG of the window's size.
func TestStatusPageBrowser(t *testing.T) {
	if _, err := os.Stat(chromium); err != nil {
		t.Skip("no " + chromium + ": install Debian's chromium (test/browser/install.sh) to run the status page's browser test")
	}
	c := servertest.NewCluster(t, 3)
	conn := connect(t, c.Leader())
	mustExec(t, conn, "CREATE TABLE t (id int PRIMARY KEY, v text)")
	for i := range 20 {
		mustExec(t, conn, "INSERT INTO t VALUES ($1, '<b>x</b>')", i)
	}
	c.RequireConverged()

	for i := range 3 {
		// One run both dumps the DOM after the script ran and takes the
		// screenshot. An election under load (the race detector) can catch
		// a page between two leaders: then it is loaded again.
		shot := filepath.Join(t.TempDir(), "shot.png")
		var dom, problem string
		for attempt := 0; attempt < 3; attempt++ {
			dom = string(chromiumRun(t, "http://"+c.Nodes[i].HTTPAddr()+"/", "--dump-dom", "--screenshot="+shot))
			if problem = leaderProblem(dom); problem == "" {
				break
			}
			t.Logf("node %d, attempt %d: %s", i, attempt, problem)
		}
		if problem != "" {
			t.Errorf("node %d: %s", i, problem)
		}
		if !strings.Contains(dom, `data-live="yes"`) {
			t.Fatalf("node %d: the page's script did not update the page:\n%s", i, dom)
		}
		for j := range 3 {
			if !strings.Contains(dom, `<tr data-node="`+c.ID(j)+`"`) {
				t.Errorf("node %d: member %s not listed", i, c.ID(j))
			}
		}
		for _, id := range []string{"chart-reads", "chart-writes", "chart-lag"} {
			if !strings.Contains(dom, `id="`+id+`"`) {
				t.Errorf("node %d: chart %s missing", i, id)
			}
		}
		if strings.Count(dom, "<polyline") < 2 {
			t.Errorf("node %d: charts have no lines:\n%s", i, dom)
		}

		f, err := os.Open(shot)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatalf("node %d: screenshot: %v", i, err)
		}
		if b := img.Bounds(); b.Dx() != 1200 || b.Dy() != 900 {
			t.Fatalf("node %d: screenshot is %v, want 1200x900", i, b)
		}
		bg := img.At(0, 0)
		ink := 0
		for y := 0; y < 900; y += 3 {
			for x := 0; x < 1200; x += 3 {
				if img.At(x, y) != bg {
					ink++
				}
			}
		}
		if ink < 500 {
			t.Errorf("node %d: screenshot nearly blank (%d sampled pixels differ from the background)", i, ink)
		}
	}
}

// TestStatusPageHTTP checks the page's headers, escaping and JSON without a
// browser: a Content-Security-Policy allowing this origin only, GET only,
// and /status/history with samples and the election that made the leader.
func TestStatusPageHTTP(t *testing.T) {
	n := servertest.Start(t, func(cfg *server.Config) { cfg.NodeID = `n<script>1` })
	base := "http://" + n.HTTPAddr()
	resp, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "connect-src 'self'") {
		t.Errorf("Content-Security-Policy %q", csp)
	}
	if strings.Contains(string(body), "n<script>1") || !strings.Contains(string(body), "n&lt;script&gt;1") {
		t.Errorf("node id not escaped:\n%s", body)
	}
	for _, bad := range []string{"http://", "https://", "//cdn"} {
		if i := strings.Index(string(body), bad); i >= 0 && !strings.Contains(string(body[i:min(i+40, len(body))]), "w3.org") {
			t.Errorf("page refers to another origin: %q", body[i:min(i+40, len(body))])
		}
	}
	for _, asset := range []string{"/static/status.js", "/static/status.css"} {
		resp, err := http.Get(base + asset)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("GET %s: %d", asset, resp.StatusCode)
		}
	}
	resp, err = http.Post(base+"/", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /: %d, want 405", resp.StatusCode)
	}
	resp, err = http.Get(base + "/nothing-here")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /nothing-here: %d, want 404", resp.StatusCode)
	}

	conn := connect(t, n)
	mustExec(t, conn, "CREATE TABLE h (id int)")
	mustExec(t, conn, "INSERT INTO h VALUES (1)")
	var hist server.History
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := http.Get(base + "/status/history")
		if err != nil {
			t.Fatal(err)
		}
		hist = server.History{}
		err = json.NewDecoder(resp.Body).Decode(&hist)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		moved := false
		for _, x := range hist.Samples {
			moved = moved || x.WritesPerSec > 0 && x.AppliedPerSec > 0
		}
		if len(hist.Samples) >= 3 && moved || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if len(hist.Samples) < 3 {
		t.Fatalf("%d samples after 5 s", len(hist.Samples))
	}
	var writes, applied float64
	for _, x := range hist.Samples {
		writes, applied = writes+x.WritesPerSec, applied+x.AppliedPerSec
	}
	if writes <= 0 || applied <= 0 {
		t.Errorf("after two writes: %.2f writes/s and %.2f entries applied/s in total over the samples %+v", writes, applied, hist.Samples)
	}
	if len(hist.Elections) == 0 || hist.Elections[len(hist.Elections)-1].Leader != `n<script>1` {
		t.Errorf("elections %+v, want the last to name this node", hist.Elections)
	}
}
