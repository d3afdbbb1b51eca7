package server_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgraft/pgraft/server"
	"github.com/pgraft/pgraft/server/servertest"
)

// testCA is a throwaway certificate authority.
type testCA struct {
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
	pemFile string
}

func newTestCA(t *testing.T, dir, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	ca := &testCA{cert: cert, key: key, pemFile: filepath.Join(dir, name+".pem")}
	writePEM(t, ca.pemFile, "CERTIFICATE", der)
	return ca
}

// issue writes a server certificate for 127.0.0.1 and localhost and its
// key, and returns their files.
func (ca *testCA) issue(t *testing.T, dir, name string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	writePEM(t, certFile, "CERTIFICATE", der)
	writePEM(t, keyFile, "EC PRIVATE KEY", kder)
	return certFile, keyFile
}

func writePEM(t *testing.T, file, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestClientTLS: with a certificate the PostgreSQL port answers SSLRequest
// with 'S'; sslmode=verify-full passes against the right CA and fails
// against another; with TLS required a plain connection gets FATAL 28000;
// ReloadTLS takes a renewed certificate for new connections.
func TestClientTLS(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t, dir, "ca")
	other := newTestCA(t, dir, "other-ca")
	certFile, keyFile := ca.issue(t, dir, "node")
	n := servertest.Start(t, func(cfg *server.Config) {
		cfg.TLSCertFile, cfg.TLSKeyFile, cfg.TLSRequired = certFile, keyFile, true
	})
	host, port, _ := net.SplitHostPort(n.PGAddr())
	dsn := func(mode, root string) string {
		return "host=" + host + " port=" + port + " user=postgres dbname=postgres sslmode=" + mode + " sslrootcert=" + root
	}
	ctx := context.Background()
	connectOK := func(d string) {
		t.Helper()
		c, err := pgx.Connect(ctx, d)
		if err != nil {
			t.Fatalf("connect %q: %v", d, err)
		}
		defer c.Close(ctx)
		var one int
		if err := c.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
			t.Fatalf("SELECT 1 over TLS: %v", err)
		}
		if tc, ok := c.PgConn().Conn().(*tls.Conn); !ok || !tc.ConnectionState().HandshakeComplete {
			t.Fatal("connection is not TLS")
		}
	}
	connectOK(dsn("verify-full", ca.pemFile))
	connectOK(dsn("require", ca.pemFile))
	if _, err := pgx.Connect(ctx, dsn("verify-full", other.pemFile)); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("verify-full against another CA: %v, want a certificate error", err)
	}
	_, err := pgx.Connect(ctx, dsn("disable", ca.pemFile))
	wantCode(t, err, "28000")

	// A renewed certificate from another CA, taken at reload.
	newCert, newKey := other.issue(t, dir, "node2")
	for _, f := range [][2]string{{newCert, certFile}, {newKey, keyFile}} {
		b, err := os.ReadFile(f[0])
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f[1], b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := n.ReloadTLS(); err != nil {
		t.Fatal(err)
	}
	connectOK(dsn("verify-full", other.pemFile))

	if psql, err := exec.LookPath("psql"); err == nil {
		out, err := exec.Command(psql, "-X", "-At", "-c", "SELECT 'tls ok'",
			"host="+host+" port="+port+" user=postgres dbname=postgres sslmode=verify-full sslrootcert="+other.pemFile).CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "tls ok" {
			t.Fatalf("psql sslmode=verify-full: %v: %s", err, out)
		}
	}
}
