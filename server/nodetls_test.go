package server_test

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/pgraft/pgraft/server"
	"github.com/pgraft/pgraft/server/servertest"
)

// nodeTLSCluster starts three nodes with node-to-node TLS from a cluster
// CA, and makes another CA for intruders; dir holds the files.
func nodeTLSCluster(t *testing.T) (c *servertest.Cluster, dir string, ca, other *testCA) {
	t.Helper()
	dir = t.TempDir()
	ca = newTestCA(t, dir, "cluster-ca")
	other = newTestCA(t, dir, "other-ca")
	certFile, keyFile := ca.issue(t, dir, "node")
	c = servertest.NewCluster(t, 3, func(cfg *server.Config) {
		cfg.NodeTLSCert, cfg.NodeTLSKey, cfg.NodeTLSCA = certFile, keyFile, ca.pemFile
	})
	return c, dir, ca, other
}

// TestNodeTLS: with node-to-node mutual TLS a cluster forms, replicates
// and forwards; a peer whose certificate another CA signed, and a peer
// with none, cannot get a single byte through to the Raft port (their
// handshake fails before the first byte routes the connection); the
// cluster is unharmed.
func TestNodeTLS(t *testing.T) {
	skipShortCluster(t)
	c, dir, ca, other := nodeTLSCluster(t)
	leaderExec(t, c, `CREATE TABLE t (a int)`)
	follower := c.Followers()[0]
	fc := connect(t, follower)
	mustExec(t, fc, `INSERT INTO t VALUES (1)`) // forwarded to the leader over node TLS
	sum := c.RequireConverged()

	leaderRaft := c.RaftAddr(c.LeaderIndex())
	// probe connects with cert (none when nil) and sends Raft's first
	// byte; alive reports whether the connection then stayed open, waiting
	// for Raft's command, rather than being closed by the node.
	probe := func(cert *tls.Certificate) (alive bool) {
		t.Helper()
		cfg := &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS13}
		if cert != nil {
			cfg.Certificates = []tls.Certificate{*cert}
		}
		conn, err := net.DialTimeout("tcp", leaderRaft, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		tc := tls.Client(conn, cfg)
		tc.SetDeadline(time.Now().Add(5 * time.Second))
		if err := tc.Handshake(); err != nil {
			return false
		}
		// TLS 1.3: the server's verdict on the client certificate arrives
		// with the first read.
		if _, err := tc.Write([]byte{'R'}); err != nil {
			return false
		}
		tc.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		var b [1]byte
		_, err = tc.Read(b[:])
		ne, ok := err.(net.Error)
		return ok && ne.Timeout()
	}
	if !probe(loadPair(t, ca, dir, "member")) {
		t.Fatal("a peer with a certificate from the cluster CA was refused: the probe cannot tell refusal apart")
	}
	if probe(nil) {
		t.Fatal("a peer without a certificate got through to the Raft port")
	}
	if probe(loadPair(t, other, dir, "intruder")) {
		t.Fatal("a peer with a certificate from another CA got through to the Raft port")
	}
	// Plain TCP: the bytes of an AppendEntries never reach Raft.
	conn, err := net.DialTimeout("tcp", leaderRaft, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	conn.Write([]byte("R\x00forged append entries"))
	var b [64]byte
	if n, err := conn.Read(b[:]); err == nil && n > 0 && b[0] != 0x15 { // 0x15: a TLS alert
		t.Fatalf("a plain TCP peer got an answer from the Raft port: %q", b[:n])
	}
	conn.Close()

	mustExec(t, fc, `INSERT INTO t VALUES (2)`)
	if after := c.RequireConverged(); after == sum {
		t.Fatal("checksum did not move after a write")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var n int64
	if err := fc.QueryRow(ctx, `SELECT count(*) FROM t`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("rows after the attacks: %d, %v", n, err)
	}
}

func loadPair(t *testing.T, ca *testCA, dir, name string) *tls.Certificate {
	t.Helper()
	certFile, keyFile := ca.issue(t, dir, name)
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	return &pair
}

// TestNodeRefusesPlainTrafficOffLoopback: a node whose Raft address other
// hosts can reach does not start without node TLS unless told to.
func TestNodeRefusesPlainTrafficOffLoopback(t *testing.T) {
	_, err := server.Open(server.Config{DataDir: t.TempDir(), PGAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0",
		RaftAddr: "10.213.99.1:7433"})
	if err == nil || !strings.Contains(err.Error(), "--insecure-node-traffic") {
		t.Fatalf("Open on a non-loopback Raft address without node TLS: %v, want a refusal naming --insecure-node-traffic", err)
	}
}

// attackerLayer is a raft.StreamLayer that speaks pgraft's Raft port as a
// peer would — TCP, then Raft's first byte — but has no certificate.
type attackerLayer struct{ ln net.Listener }

func (l attackerLayer) Accept() (net.Conn, error) { return l.ln.Accept() }
func (l attackerLayer) Close() error              { return l.ln.Close() }
func (l attackerLayer) Addr() net.Addr            { return l.ln.Addr() }
func (l attackerLayer) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	c, err := net.DialTimeout("tcp", string(addr), timeout)
	if err != nil {
		return nil, err
	}
	if _, err := c.Write([]byte{'R'}); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// TestNodeTLSRefusesRaftAttacks: with node TLS, hashicorp/raft's own
// transport speaking the Raft port without a certificate can neither
// append a forged entry nor depose the leader with a higher term, and a
// node whose certificate another CA signed cannot join; the cluster keeps
// its leader, term and data.
func TestNodeTLSRefusesRaftAttacks(t *testing.T) {
	skipShortCluster(t)
	c, dir, _, other := nodeTLSCluster(t)
	leaderExec(t, c, `CREATE TABLE t (a int)`)
	leaderExec(t, c, `INSERT INTO t VALUES (1)`)
	sum := c.RequireConverged()
	leader := c.LeaderIndex()
	before := c.Nodes[leader].Status(context.Background(), false)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	trans := raft.NewNetworkTransport(attackerLayer{ln}, 1, 2*time.Second, io.Discard)
	defer trans.Close()
	target := raft.ServerAddress(c.RaftAddr(leader))
	id := raft.ServerID(c.ID(leader))
	var aresp raft.AppendEntriesResponse
	err = trans.AppendEntries(id, target, &raft.AppendEntriesRequest{
		RPCHeader: raft.RPCHeader{ProtocolVersion: raft.ProtocolVersionMax, ID: []byte("intruder"), Addr: []byte(ln.Addr().String())},
		Term:      before.Term, PrevLogEntry: before.LastIndex, PrevLogTerm: before.Term,
		Entries: []*raft.Log{{Index: before.LastIndex + 1, Term: before.Term, Type: raft.LogCommand,
			Data: []byte("forged")}},
		LeaderCommitIndex: before.LastIndex + 1,
	}, &aresp)
	if err == nil {
		t.Fatalf("a forged AppendEntries without a certificate was answered: %+v", aresp)
	}
	var vresp raft.RequestVoteResponse
	err = trans.RequestVote(id, target, &raft.RequestVoteRequest{
		RPCHeader: raft.RPCHeader{ProtocolVersion: raft.ProtocolVersionMax, ID: []byte("intruder"), Addr: []byte(ln.Addr().String())},
		Term:      before.Term + 100, LastLogIndex: before.LastIndex + 100, LastLogTerm: before.Term + 100,
	}, &vresp)
	if err == nil {
		t.Fatalf("a RequestVote without a certificate was answered: %+v", vresp)
	}

	// A node with a certificate from another CA cannot join.
	otherCert, otherKey := other.issue(t, dir, "intruder-node")
	raftLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pgLn, _ := net.Listen("tcp", "127.0.0.1:0")
	httpLn, _ := net.Listen("tcp", "127.0.0.1:0")
	intruder, err := server.Open(server.Config{
		NodeID: "intruder", DataDir: filepath.Join(dir, "intruder"), RaftAddr: raftLn.Addr().String(),
		RaftListener: raftLn, PGListener: pgLn, HTTPListener: httpLn, Join: []string{string(target)},
		JoinTimeout: 3 * time.Second, NodeTLSCert: otherCert, NodeTLSKey: otherKey, NodeTLSCA: other.pemFile,
	})
	if err == nil {
		intruder.Shutdown(context.Background())
		t.Fatal("a node with another CA's certificate joined the cluster")
	}

	after := c.Nodes[leader].Status(context.Background(), true)
	if c.LeaderIndex() != leader || after.Term != before.Term {
		t.Fatalf("leader %d term %d after the attacks, was %d term %d", c.LeaderIndex(), after.Term, leader, before.Term)
	}
	if len(after.Members) != 3 {
		t.Fatalf("members after the attacks: %+v", after.Members)
	}
	if got := c.RequireConverged(); got != sum {
		t.Fatalf("checksum moved with no write: the attacks changed data")
	}
}
