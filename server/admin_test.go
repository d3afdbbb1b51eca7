package server_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pgraft/pgraft/server"
	"github.com/pgraft/pgraft/server/servertest"
)

// TestAdminEndpointsNeedCredential: /remove needs the bearer token when
// one is configured, refuses any request that comes from a web page
// (Origin, Referer), and /debug/pprof is off unless asked for; the health
// endpoints stay open.
func TestAdminEndpointsNeedCredential(t *testing.T) {
	const token = "admin-token-5f2e9c1d"
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	n := servertest.Start(t, func(cfg *server.Config) { cfg.AdminTokenFile = file })
	base := "http://" + n.HTTPAddr()
	do := func(method, path string, hdr map[string]string) int {
		t.Helper()
		req, err := http.NewRequest(method, base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, tc := range []struct {
		method, path string
		hdr          map[string]string
		want         int
	}{
		{"POST", "/remove?node_id=nosuch", nil, http.StatusUnauthorized},
		{"POST", "/remove?node_id=nosuch", map[string]string{"Authorization": "Bearer wrong-token-xxxxxxxx"}, http.StatusUnauthorized},
		{"POST", "/remove?node_id=nosuch", map[string]string{"Authorization": "Bearer " + token, "Origin": "http://evil.example"}, http.StatusForbidden},
		{"POST", "/remove?node_id=nosuch", map[string]string{"Authorization": "Bearer " + token, "Referer": "http://evil.example/x"}, http.StatusForbidden},
		{"GET", "/remove?node_id=nosuch", map[string]string{"Authorization": "Bearer " + token}, http.StatusMethodNotAllowed},
		{"POST", "/remove?node_id=nosuch", map[string]string{"Authorization": "Bearer " + token}, http.StatusOK}, // allowed (removing a non-member does nothing)
		{"GET", "/debug/pprof/", map[string]string{"Authorization": "Bearer " + token}, http.StatusNotFound},
		{"GET", "/healthz", nil, http.StatusOK},
		{"GET", "/readyz", nil, http.StatusOK},
		{"GET", "/status", nil, http.StatusOK},
	} {
		if got := do(tc.method, tc.path, tc.hdr); got != tc.want {
			t.Errorf("%s %s %v: %d, want %d", tc.method, tc.path, tc.hdr, got, tc.want)
		}
	}
	if !strings.HasPrefix(n.HTTPAddr(), "127.") {
		t.Fatalf("test node's HTTP address %s is not loopback", n.HTTPAddr())
	}
}
