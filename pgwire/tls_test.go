package pgwire_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"math/big"
	"testing"
	"time"

	"github.com/pgraft/pgraft/pgwire"
)

// selfSignedTLS returns a server config with a throwaway certificate.
func selfSignedTLS(t *testing.T) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"localhost"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}

func TestTLSWhenConfigured(t *testing.T) {
	cfg := selfSignedTLS(t)
	ts := startServer(t, func(s *pgwire.Server) { s.TLSConfig = cfg })
	conn := ts.pgxConnect(t, "require") // require: TLS without verifying the certificate
	if _, ok := conn.PgConn().Conn().(*tls.Conn); !ok {
		t.Fatalf("connection is %T; want *tls.Conn", conn.PgConn().Conn())
	}
	var n int64
	if err := conn.QueryRow(testCtx(t), "rows 1").Scan(&n); err != nil || n != 1 {
		t.Fatalf("query over TLS: %d, %v", n, err)
	}
}
