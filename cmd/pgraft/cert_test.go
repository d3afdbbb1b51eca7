package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCertCommand: pgraft cert makes a CA once and node certificates it
// signs, usable for both ends of node TLS; a second node reuses the CA.
func TestCertCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	for _, node := range []string{"n1", "n2"} {
		var out bytes.Buffer
		if err := newApp(&out, &out).Run([]string{"pgraft", "cert", "--dir", dir, "--node", node}); err != nil {
			t.Fatalf("pgraft cert --node %s: %v: %s", node, err, out.String())
		}
		if !strings.Contains(out.String(), "--node-tls-cert") {
			t.Errorf("pgraft cert printed %q", out.String())
		}
	}
	caPEM, err := os.ReadFile(filepath.Join(dir, "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatal("ca.crt holds no certificate")
	}
	for _, node := range []string{"n1", "n2"} {
		pair, err := tls.LoadX509KeyPair(filepath.Join(dir, node+".crt"), filepath.Join(dir, node+".key"))
		if err != nil {
			t.Fatal(err)
		}
		leaf, err := x509.ParseCertificate(pair.Certificate[0])
		if err != nil {
			t.Fatal(err)
		}
		for _, usage := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
			if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
				t.Errorf("%s's certificate for %v: %v", node, usage, err)
			}
		}
	}
	if info, err := os.Stat(filepath.Join(dir, "ca.key")); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("ca.key: %v, mode %v; want 0600", err, info.Mode().Perm())
	}
}
