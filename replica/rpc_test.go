package replica

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

func TestMetaMismatch(t *testing.T) {
	keys := []string{"sqlite_version", "entry_format"}
	cluster := map[string]string{"sqlite_version": "3.46.1", "entry_format": "1", "hostname": "a"}
	tests := []struct {
		name   string
		joiner map[string]string
		want   string
	}{
		{"same build, other keys ignored", map[string]string{"sqlite_version": "3.46.1", "entry_format": "1", "hostname": "b"}, ""},
		{"sqlite differs", map[string]string{"sqlite_version": "3.45.0", "entry_format": "1"},
			`sqlite_version: joining node has "3.45.0", cluster has "3.46.1"`},
		{"key missing", map[string]string{"sqlite_version": "3.46.1"}, `entry_format: joining node has "", cluster has "1"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := metaMismatch(keys, cluster, tc.joiner); got != tc.want {
				t.Fatalf("metaMismatch = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestMembershipRPCBadInputClosesOnlyThatConnection: malformed frames close
// their connection; an unknown request is answered with a refusal; the
// node keeps serving status and Raft.
func TestMembershipRPCBadInputClosesOnlyThatConnection(t *testing.T) {
	n1 := startNode(t, "n1", t.TempDir(), newKV(), true)
	waitLeaderAmong(t, n1)
	ctx := testCtx(t)
	bad := [][]byte{
		binary.BigEndian.AppendUint32(nil, 1<<31),
		append(binary.BigEndian.AppendUint32(nil, 5), "hello"...),
	}
	for _, raw := range bad {
		c, err := dialPort(ctx, n1.addr, MembershipRPCByte, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Write(raw); err != nil {
			t.Fatal(err)
		}
		expectClosed(t, c)
	}

	c, err := dialPort(ctx, n1.addr, MembershipRPCByte, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(waitTimeout))
	var resp rpcResponse
	if err := writeFrame(c, rpcRequest{Op: "frobnicate"}); err != nil {
		t.Fatal(err)
	}
	if err := readFrame(c, &resp); err != nil || resp.Code != codeRefused {
		t.Fatalf("unknown op answered %+v, %v; want refused", resp, err)
	}
	// The same connection still serves the next request.
	if err := writeFrame(c, rpcRequest{Op: opStatus}); err != nil {
		t.Fatal(err)
	}
	if err := readFrame(c, &resp); err != nil || resp.Status == nil || resp.Status.NodeID != "n1" || resp.Status.State != "Leader" ||
		resp.Status.Meta[MetaEnvelopeKey] != "1" {
		t.Fatalf("status answered %+v, %v", resp, err)
	}
	if err := n1.HandleRPC(MembershipRPCByte, func(net.Conn) {}); err == nil {
		t.Fatal("HandleRPC let the membership byte be taken")
	}
	mustPropose(t, n1, "still=serving")
}

func expectClosed(t *testing.T, c net.Conn) {
	t.Helper()
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(waitTimeout))
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Fatalf("read = %v, want EOF (connection closed by the node)", err)
	}
}
