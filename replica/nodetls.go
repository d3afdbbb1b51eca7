package replica

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
)

// NodeTLS is mutual TLS between the nodes of a cluster (issue 14): every
// connection to a node's Raft port (Raft RPCs, joins and membership,
// forwarded statements, read index) is a TLS connection on which both
// sides present a certificate the cluster's CA signed, and check the other
// side's against that CA alone. Membership is by CA: a peer without such a
// certificate cannot connect, so it cannot join, vote, append or forward.
// Host names are not checked: nodes are dialed by the addresses they
// advertise, and a certificate from the cluster CA is the node's identity.
type NodeTLS struct {
	// Certificate returns this node's certificate and key (the caller may
	// reload it: each new connection asks again).
	Certificate func() (*tls.Certificate, error)
	// CAs is the cluster CA's certificate pool.
	CAs *x509.CertPool
}

// verify checks a peer's certificate chain against the cluster CA.
func (t *NodeTLS) verify(rawCerts [][]byte) error {
	if len(rawCerts) == 0 {
		return errors.New("peer presented no certificate")
	}
	certs := make([]*x509.Certificate, len(rawCerts))
	for i, raw := range rawCerts {
		c, err := x509.ParseCertificate(raw)
		if err != nil {
			return fmt.Errorf("peer certificate: %w", err)
		}
		certs[i] = c
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	_, err := certs[0].Verify(x509.VerifyOptions{Roots: t.CAs, Intermediates: inter,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err != nil {
		return fmt.Errorf("peer certificate is not from the cluster CA: %w", err)
	}
	return nil
}

// serverConfig is the Raft port's side.
func (t *NodeTLS) serverConfig() *tls.Config {
	if t == nil {
		return nil
	}
	return &tls.Config{
		MinVersion: tls.VersionTLS13,
		ClientAuth: tls.RequireAnyClientCert, // verified below, against the CA only
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return t.Certificate()
		},
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error { return t.verify(raw) },
	}
}

// clientConfig is the dialing side.
func (t *NodeTLS) clientConfig() *tls.Config {
	if t == nil {
		return nil
	}
	return &tls.Config{
		MinVersion:         tls.VersionTLS13,
		InsecureSkipVerify: true, // no host name check; the chain is verified below
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return t.Certificate()
		},
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error { return t.verify(raw) },
	}
}
