package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"
)

// certCommand makes the certificates of node-to-node mutual TLS: a cluster
// CA (once) and a certificate per node signed by it.
func certCommand(stdout io.Writer) *cli.Command {
	return &cli.Command{
		Name:  "cert",
		Usage: "make a cluster CA (once, in --dir) and a node certificate signed by it, for --node-tls-*",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "dir", Value: "./pgraft-tls", Usage: "where ca.crt/ca.key are kept and NODE.crt/NODE.key are written"},
			&cli.StringFlag{Name: "node", Required: true, Usage: "the node's name (its certificate's common name and file names)"},
			&cli.StringSliceFlag{Name: "host", Usage: "an IP address or DNS name clients reach the node by (repeat): also makes the certificate usable for --tls-cert with sslmode=verify-full"},
		},
		Action: func(c *cli.Context) error {
			dir, name := c.String("dir"), c.String("node")
			ca, err := loadOrCreateCA(dir)
			if err != nil {
				return err
			}
			certFile, keyFile, err := ca.issueNode(dir, name, c.StringSlice("host")...)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "pgraft serve --node-tls-cert %s --node-tls-key %s --node-tls-ca %s …\n"+
				"(keep %s off the nodes)\n", certFile, keyFile, ca.certFile, filepath.Join(dir, "ca.key"))
			return nil
		},
	}
}

// clusterCA is a CA that signs node certificates.
type clusterCA struct {
	cert     *x509.Certificate
	key      *ecdsa.PrivateKey
	certFile string
}

// loadOrCreateCA reads dir/ca.crt and dir/ca.key, making them first if
// dir has none.
func loadOrCreateCA(dir string) (*clusterCA, error) {
	certFile, keyFile := filepath.Join(dir, "ca.crt"), filepath.Join(dir, "ca.key")
	if _, err := os.Stat(certFile); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create %s: %w", dir, err)
		}
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		tmpl := &x509.Certificate{
			SerialNumber: serial(), Subject: pkix.Name{CommonName: "pgraft cluster CA"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(10, 0, 0),
			IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			return nil, fmt.Errorf("create CA: %w", err)
		}
		if err := writeKeyPair(certFile, keyFile, der, key); err != nil {
			return nil, err
		}
	}
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return nil, fmt.Errorf("read CA: %w", err)
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("read CA key: %w", err)
	}
	cb, _ := pem.Decode(certPEM)
	kb, _ := pem.Decode(keyPEM)
	if cb == nil || kb == nil {
		return nil, fmt.Errorf("%s or %s holds no PEM block", certFile, keyFile)
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse CA: %w", err)
	}
	key, err := x509.ParseECPrivateKey(kb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse CA key: %w", err)
	}
	return &clusterCA{cert: cert, key: key, certFile: certFile}, nil
}

// issueNode writes dir/name.crt and dir/name.key: a certificate for both
// ends of node-to-node TLS, valid 825 days; hosts (IP addresses or DNS
// names) go in its subject alternative names, for a certificate clients
// verify (sslmode=verify-full).
func (ca *clusterCA) issueNode(dir, name string, hosts ...string) (certFile, keyFile string, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(0, 0, 825),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return "", "", fmt.Errorf("create node certificate: %w", err)
	}
	certFile, keyFile = filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	return certFile, keyFile, writeKeyPair(certFile, keyFile, der, key)
}

func writeKeyPair(certFile, keyFile string, der []byte, key *ecdsa.PrivateKey) error {
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", keyFile, err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", certFile, err)
	}
	return nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err)) // never fails since Go 1.24
	}
	return n
}

// devCerts are pgraft dev's throwaway node TLS files in dir/tls, made on
// its first start and kept with its data.
func devCerts(dir string) (caFile, certFile, keyFile string, err error) {
	tlsDir := filepath.Join(dir, "tls")
	ca, err := loadOrCreateCA(tlsDir)
	if err != nil {
		return "", "", "", err
	}
	certFile, keyFile = filepath.Join(tlsDir, "node.crt"), filepath.Join(tlsDir, "node.key")
	if _, err := os.Stat(certFile); errors.Is(err, fs.ErrNotExist) {
		if certFile, keyFile, err = ca.issueNode(tlsDir, "node"); err != nil {
			return "", "", "", err
		}
	}
	return ca.certFile, certFile, keyFile, nil
}
