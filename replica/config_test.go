package replica

import (
	"net"
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	base := func() Config {
		c := DefaultConfig()
		c.NodeID, c.DataDir, c.RaftAddr = "n1", "/tmp/x", "127.0.0.1:7000"
		return c
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	tests := []struct {
		name    string
		mod     func(*Config)
		wantErr string // substring; "" means valid
	}{
		{"defaults are valid", func(*Config) {}, ""},
		{"zero timings take defaults", func(c *Config) { c.HeartbeatTimeout, c.ElectionTimeout = 0, 0 }, ""},
		{"listener instead of address", func(c *Config) { c.RaftAddr, c.Listener = "", ln }, ""},
		{"port zero is allowed", func(c *Config) { c.RaftAddr = "127.0.0.1:0" }, ""},
		{"missing node id", func(c *Config) { c.NodeID = "" }, "NodeID"},
		{"missing data dir", func(c *Config) { c.DataDir = "" }, "DataDir"},
		{"missing address", func(c *Config) { c.RaftAddr = "" }, "RaftAddr"},
		{"unspecified host cannot be advertised", func(c *Config) { c.RaftAddr = "0.0.0.0:7000" }, "unspecified"},
		{"empty host cannot be advertised", func(c *Config) { c.RaftAddr = ":7000" }, "no host"},
		{"lease above heartbeat", func(c *Config) { c.LeaderLeaseTimeout = time.Second }, "LeaderLeaseTimeout"},
		{"election below heartbeat", func(c *Config) { c.ElectionTimeout = 100 * time.Millisecond }, "ElectionTimeout"},
		{"batch too large for raft", func(c *Config) { c.MaxAppendEntries = 5000 }, "MaxAppendEntries"},
		{"negative apply timeout", func(c *Config) { c.ApplyTimeout = -time.Second }, "ApplyTimeout"},
		{"must-match key with a value", func(c *Config) {
			c.Meta, c.MustMatch = map[string]string{"sqlite_version": "3.46.1"}, []string{"sqlite_version"}
		}, ""},
		{"must-match key without a value", func(c *Config) { c.MustMatch = []string{"entry_format"} }, `"entry_format" has no value`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := base()
			tc.mod(&c)
			err := c.Validate()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("Validate() = %v, want nil", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("Validate() = %v, want an error mentioning %q", err, tc.wantErr)
			}
		})
	}
}
