package server

import (
	"crypto/tls"
	"errors"
	"fmt"
	"sync/atomic"
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

// ReloadTLS reads the node's client TLS certificate and key again (pgraft
// serve does on SIGHUP). Without TLS it does nothing.
func (s *Server) ReloadTLS() error {
	if s.certs == nil {
		return nil
	}
	return s.certs.reload()
}
