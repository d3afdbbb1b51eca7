package server

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"sync/atomic"

	"github.com/pgraft/pgraft/replica"
)

// tls.go is TLS for clients (issue 14): the node's certificate, read from
// files at start and again on ReloadTLS (SIGHUP), so that a renewed
// certificate takes effect without a restart; connections already open
// keep the one they began with.

// certReloader serves the latest certificate read from its files.
type certReloader struct {
	certFile, keyFile string
	cert              atomic.Pointer[tls.Certificate]
}

func newCertReloader(certFile, keyFile string) (*certReloader, error) {
	r := &certReloader{certFile: certFile, keyFile: keyFile}
	if err := r.reload(); err != nil {
		return nil, err
	}
	return r, nil
}

// reload reads the files again; on error the certificate in use stays.
func (r *certReloader) reload() error {
	c, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return fmt.Errorf("load TLS certificate %s and key %s: %w", r.certFile, r.keyFile, err)
	}
	r.cert.Store(&c)
	return nil
}

func (r *certReloader) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return r.cert.Load(), nil
}

// clientTLSConfig returns the TLS configuration of the PostgreSQL port,
// nil when the node has no certificate.
func clientTLSConfig(cfg Config) (*tls.Config, *certReloader, error) {
	if cfg.TLSCertFile == "" && cfg.TLSKeyFile == "" {
		if cfg.TLSRequired {
			return nil, nil, errors.New("TLS required but no certificate given (--tls-cert, --tls-key)")
		}
		return nil, nil, nil
	}
	if cfg.TLSCertFile == "" || cfg.TLSKeyFile == "" {
		return nil, nil, errors.New("TLS needs both a certificate and its key (--tls-cert, --tls-key)")
	}
	r, err := newCertReloader(cfg.TLSCertFile, cfg.TLSKeyFile)
	if err != nil {
		return nil, nil, err
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: r.getCertificate}, r, nil
}

// ReloadTLS reads the node's TLS certificates and keys again, the client
// port's and the node-to-node one (pgraft serve does on SIGHUP); on error
// the certificates in use stay. Without TLS it does nothing.
func (s *Server) ReloadTLS() error {
	var errs []error
	for _, r := range []*certReloader{s.certs, s.nodeCerts} {
		if r != nil {
			errs = append(errs, r.reload())
		}
	}
	return errors.Join(errs...)
}

// nodeTLSConfig builds node-to-node mutual TLS from the config's files; nil
// without them, which only a node on loopback or with InsecureNodeTraffic
// may run.
func nodeTLSConfig(cfg Config) (*replica.NodeTLS, *certReloader, error) {
	if cfg.NodeTLSCert == "" && cfg.NodeTLSKey == "" && cfg.NodeTLSCA == "" {
		if !cfg.InsecureNodeTraffic && cfg.RaftListener == nil && !isLoopback(cfg.RaftAddr) {
			return nil, nil, fmt.Errorf("the Raft address %s is reachable from other hosts, and anyone who reaches it could act as a member: "+
				"give --node-tls-cert, --node-tls-key and --node-tls-ca, or say --insecure-node-traffic", cfg.RaftAddr)
		}
		return nil, nil, nil
	}
	if cfg.NodeTLSCert == "" || cfg.NodeTLSKey == "" || cfg.NodeTLSCA == "" {
		return nil, nil, errors.New("node TLS needs a certificate, its key and the cluster CA (--node-tls-cert, --node-tls-key, --node-tls-ca)")
	}
	r, err := newCertReloader(cfg.NodeTLSCert, cfg.NodeTLSKey)
	if err != nil {
		return nil, nil, fmt.Errorf("node TLS: %w", err)
	}
	pem, err := os.ReadFile(cfg.NodeTLSCA)
	if err != nil {
		return nil, nil, fmt.Errorf("node TLS: cluster CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, nil, fmt.Errorf("node TLS: no certificate in %s", cfg.NodeTLSCA)
	}
	return &replica.NodeTLS{Certificate: func() (*tls.Certificate, error) { return r.cert.Load(), nil }, CAs: pool}, r, nil
}
