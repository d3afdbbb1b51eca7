package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/pgraft/pgraft/server"
)

func newApp(stdout, stderr io.Writer) *cli.App {
	return &cli.App{
		Name:      "pgraft",
		Usage:     "a PostgreSQL-compatible SQL database on SQLite, replicated with Raft",
		Writer:    stdout,
		ErrWriter: stderr,
		Commands: []*cli.Command{
			serveCommand(stderr),
			devCommand(stdout, stderr),
			statusCommand(stdout),
			removeCommand(stdout),
			certCommand(stdout),
			backupCommand(stdout, stderr),
			restoreCommand(stdout, stderr),
		},
	}
}

func serveCommand(stderr io.Writer) *cli.Command {
	def := server.DefaultConfig()
	return &cli.Command{
		Name:  "serve",
		Usage: "run a node (bootstraps a one-node cluster on an empty data dir without --join)",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "data-dir", Value: def.DataDir, EnvVars: []string{"PGRAFT_DATA_DIR"}, Usage: "directory for the database, Raft log and snapshots"},
			&cli.StringFlag{Name: "pg-addr", Value: def.PGAddr, EnvVars: []string{"PGRAFT_PG_ADDR"}, Usage: "PostgreSQL protocol listen address"},
			&cli.StringFlag{Name: "raft-addr", Value: def.RaftAddr, EnvVars: []string{"PGRAFT_RAFT_ADDR"}, Usage: "Raft and node-to-node address"},
			&cli.StringFlag{Name: "http-addr", Value: def.HTTPAddr, EnvVars: []string{"PGRAFT_HTTP_ADDR"}, Usage: "HTTP address for /healthz, /readyz, /status"},
			&cli.StringFlag{Name: "node-id", EnvVars: []string{"PGRAFT_NODE_ID"}, Usage: "node id (default: generated once and kept in the data dir)"},
			&cli.StringFlag{Name: "join", EnvVars: []string{"PGRAFT_JOIN"}, Usage: "comma-separated --raft-addr addresses of existing members"},
			&cli.BoolFlag{Name: "nonvoter", EnvVars: []string{"PGRAFT_NONVOTER"}, Usage: "join as a non-voting read replica"},
			&cli.IntFlag{Name: "max-connections", Value: def.MaxConnections, EnvVars: []string{"PGRAFT_MAX_CONNECTIONS"}, Usage: "client sessions at most, as PostgreSQL's max_connections: one more is refused with 53300"},
			&cli.StringFlag{Name: "follower-writes", Value: server.FollowerWritesForward, EnvVars: []string{"PGRAFT_FOLLOWER_WRITES"}, Usage: "what a write on a follower does: forward (to the leader) or reject (25006)"},
			&cli.DurationFlag{Name: "heartbeat-timeout", EnvVars: []string{"PGRAFT_HEARTBEAT_TIMEOUT"}, Usage: "Raft heartbeat timeout (default 200ms, tuned for a LAN)"},
			&cli.DurationFlag{Name: "election-timeout", EnvVars: []string{"PGRAFT_ELECTION_TIMEOUT"}, Usage: "Raft election timeout (default 200ms)"},
			&cli.Uint64Flag{Name: "snapshot-threshold", EnvVars: []string{"PGRAFT_SNAPSHOT_THRESHOLD"}, Usage: "log entries between snapshots (a snapshot is two fsyncs, not a copy; default: half the trailing log, at least 256)"},
			&cli.Uint64Flag{Name: "trailing-logs", EnvVars: []string{"PGRAFT_TRAILING_LOGS"}, Usage: "log entries kept after a snapshot for followers that fall behind; one further behind is sent a copy of the database (default: about a quarter of the database's size, 512 to 262144 entries)"},
			&cli.StringFlag{Name: "raft-log-store", Value: "wal", EnvVars: []string{"PGRAFT_RAFT_LOG_STORE"}, Usage: "log store of a new data dir: wal (raft-wal: one fsync per append) or bolt (raft-boltdb: two); an existing data dir keeps its own"},
			&cli.Uint64Flag{Name: "min-free-disk", Value: 64, EnvVars: []string{"PGRAFT_MIN_FREE_DISK"}, Usage: "MiB the data dir's file system must keep free for writes to be admitted (below: 53100 disk_full)"},
			&cli.StringFlag{Name: "tls-cert", EnvVars: []string{"PGRAFT_TLS_CERT"}, Usage: "PEM certificate of the PostgreSQL port: clients may connect with sslmode=require or verify-full (reloaded on SIGHUP)"},
			&cli.StringFlag{Name: "tls-key", EnvVars: []string{"PGRAFT_TLS_KEY"}, Usage: "PEM private key of --tls-cert"},
			&cli.BoolFlag{Name: "tls-required", EnvVars: []string{"PGRAFT_TLS_REQUIRED"}, Usage: "refuse clients that do not use TLS (FATAL 28000)"},
			&cli.StringFlag{Name: "auth", Value: server.AuthTrust, EnvVars: []string{"PGRAFT_AUTH"}, Usage: "how clients log in: trust (anyone, as any user; loopback only unless --insecure) or scram (SCRAM-SHA-256 against the cluster's roles)"},
			&cli.BoolFlag{Name: "insecure", EnvVars: []string{"PGRAFT_INSECURE"}, Usage: "allow --auth trust on an address other hosts can reach"},
			&cli.StringFlag{Name: "superuser", Value: "postgres", EnvVars: []string{"PGRAFT_SUPERUSER"}, Usage: "bootstrap superuser, created on a new cluster when a password is given (PGRAFT_PASSWORD or --password-file)"},
			&cli.StringFlag{Name: "password-file", EnvVars: []string{"PGRAFT_PASSWORD_FILE"}, Usage: "file holding the bootstrap superuser's password (or set PGRAFT_PASSWORD)"},
			adminTokenFlag(),
			&cli.StringFlag{Name: "node-tls-cert", EnvVars: []string{"PGRAFT_NODE_TLS_CERT"}, Usage: "this node's certificate for node-to-node mutual TLS (PEM, signed by --node-tls-ca; reloaded on SIGHUP)"},
			&cli.StringFlag{Name: "node-tls-key", EnvVars: []string{"PGRAFT_NODE_TLS_KEY"}, Usage: "the private key of --node-tls-cert"},
			&cli.StringFlag{Name: "node-tls-ca", EnvVars: []string{"PGRAFT_NODE_TLS_CA"}, Usage: "the cluster CA: only peers with a certificate it signed may connect to the Raft port"},
			&cli.BoolFlag{Name: "insecure-node-traffic", EnvVars: []string{"PGRAFT_INSECURE_NODE_TRAFFIC"}, Usage: "allow plain TCP between nodes on a Raft address other hosts can reach"},
			&cli.BoolFlag{Name: "pprof", EnvVars: []string{"PGRAFT_PPROF"}, Usage: "serve Go profiles at /debug/pprof on the HTTP address (as administration)"},
			&cli.StringFlag{Name: "log-level", Value: "info", EnvVars: []string{"PGRAFT_LOG_LEVEL"}, Usage: "debug, info, warn or error"},
			logFormatFlag(),
			&cli.DurationFlag{Name: "log-min-duration", Value: -1, EnvVars: []string{"PGRAFT_LOG_MIN_DURATION"}, Usage: "log every statement that runs at least this long, with its text (PostgreSQL's log_min_duration_statement; 0 logs all, negative none)"},
			&cli.BoolFlag{Name: "log-connections", Value: true, EnvVars: []string{"PGRAFT_LOG_CONNECTIONS"}, Usage: "log each client session's start and end at info (PostgreSQL's log_connections and log_disconnections)"},
			faultClockFlag(),
		},
		Action: func(c *cli.Context) error {
			logger, err := newLogger(stderr, c.String("log-level"), c.String("log-format"))
			if err != nil {
				return err
			}
			cfg := server.Config{
				NodeID:              c.String("node-id"),
				DataDir:             c.String("data-dir"),
				PGAddr:              c.String("pg-addr"),
				RaftAddr:            c.String("raft-addr"),
				HTTPAddr:            c.String("http-addr"),
				Join:                splitList(c.String("join")),
				Nonvoter:            c.Bool("nonvoter"),
				FollowerWrites:      c.String("follower-writes"),
				MaxConnections:      c.Int("max-connections"),
				HeartbeatTimeout:    c.Duration("heartbeat-timeout"),
				ElectionTimeout:     c.Duration("election-timeout"),
				SnapshotThreshold:   c.Uint64("snapshot-threshold"),
				TrailingLogs:        c.Uint64("trailing-logs"),
				RaftLogStore:        c.String("raft-log-store"),
				MinFreeDisk:         c.Uint64("min-free-disk") << 20,
				TLSCertFile:         c.String("tls-cert"),
				TLSKeyFile:          c.String("tls-key"),
				TLSRequired:         c.Bool("tls-required"),
				Auth:                c.String("auth"),
				Insecure:            c.Bool("insecure"),
				Superuser:           c.String("superuser"),
				AdminTokenFile:      c.String("admin-token-file"),
				NodeTLSCert:         c.String("node-tls-cert"),
				NodeTLSKey:          c.String("node-tls-key"),
				NodeTLSCA:           c.String("node-tls-ca"),
				InsecureNodeTraffic: c.Bool("insecure-node-traffic"),
				Pprof:               c.Bool("pprof"),
				Now:                 faultClockNow(c.String(faultClockFlagName)),
				Logger:              logger,
				LogMinDuration:      logMinDuration(c.Duration("log-min-duration")),
				LogConnections:      c.Bool("log-connections"),
			}
			password, err := superuserPassword(c.String("password-file"))
			if err != nil {
				return err
			}
			cfg.SuperuserPassword = password
			if cfg.Auth == server.AuthSCRAM && password == "" {
				cfg.Logger.Warn("--auth scram without a superuser password: only roles that already exist can log in")
			}
			return serve(c.Context, cfg)
		},
	}
}

// serve runs a node until ctx ends (SIGINT/SIGTERM), then shuts it down.
func serve(ctx context.Context, cfg server.Config) error {
	srv, err := server.Open(cfg)
	if err != nil {
		return err
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for ctx.Err() == nil {
		select {
		case <-hup:
			if err := srv.ReloadTLS(); err != nil {
				cfg.Logger.Error("SIGHUP: certificate not reloaded; the previous one stays in use", "err", err)
			} else {
				cfg.Logger.Info("SIGHUP: certificates reloaded")
			}
		case <-ctx.Done():
		}
	}
	cfg.Logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

// superuserPassword reads the bootstrap superuser's password from file, or
// else from PGRAFT_PASSWORD (not a flag: flags show in ps).
func superuserPassword(file string) (string, error) {
	if file == "" {
		return os.Getenv("PGRAFT_PASSWORD"), nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("--password-file: %w", err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func removeCommand(stdout io.Writer) *cli.Command {
	return &cli.Command{
		Name:  "remove",
		Usage: "remove a member from the cluster (through any member's HTTP address)",
		Flags: []cli.Flag{
			httpAddrFlag(),
			&cli.StringFlag{Name: "node-id", Required: true, Usage: "id of the member to remove"},
			adminTokenFlag(),
		},
		Action: func(c *cli.Context) error {
			u := "http://" + c.String("http-addr") + "/remove?node_id=" + url.QueryEscape(c.String("node-id"))
			token, err := readToken(c.String("admin-token-file"))
			if err != nil {
				return err
			}
			return callHTTP(c.Context, stdout, http.MethodPost, u, token)
		},
	}
}

func adminTokenFlag() cli.Flag {
	return &cli.StringFlag{Name: "admin-token-file", EnvVars: []string{"PGRAFT_ADMIN_TOKEN_FILE"}, Usage: "file holding the HTTP administration token (at least 16 characters): the node requires it on /remove and /debug/pprof; without it those answer only on a loopback HTTP address"}
}

// readToken reads an administration token file ("" without one).
func readToken(file string) (string, error) {
	if file == "" {
		return "", nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("--admin-token-file: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

func httpAddrFlag() cli.Flag {
	return &cli.StringFlag{Name: "http-addr", Value: server.DefaultConfig().HTTPAddr, EnvVars: []string{"PGRAFT_HTTP_ADDR"}, Usage: "a member's HTTP address"}
}

// callHTTP makes one request to a node's HTTP API and prints the JSON answer.
func callHTTP(ctx context.Context, stdout io.Writer, method, u, token string) error {
	ctx, cancel := context.WithTimeout(ctx, 40*time.Second)
	defer cancel()
	resp, err := nodeRequest(ctx, method, u, token)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	stdout.Write(body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", u, resp.Status)
	}
	return nil
}

// nodeRequest makes one request to a node's HTTP API, with the
// administration token when there is one.
func nodeRequest(ctx context.Context, method, u, token string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, u, err)
	}
	return resp, nil
}

func logFormatFlag() cli.Flag {
	return &cli.StringFlag{Name: "log-format", Value: "text", EnvVars: []string{"PGRAFT_LOG_FORMAT"}, Usage: "text (key=value lines) or json (one JSON object per line)"}
}

// newLogger makes the node's logger: slog's text or JSON lines at level.
func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case "text", "":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format: %q is neither text nor json", format)
}

// logMinDuration maps --log-min-duration (PostgreSQL's meaning: 0 logs
// every statement, negative none) to server.Config's (0 is none).
func logMinDuration(d time.Duration) time.Duration {
	switch {
	case d < 0:
		return 0
	case d == 0:
		return time.Nanosecond
	}
	return d
}
