package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/pgraft/pgraft/server"
)

// devCommand starts a three-node cluster in this process: PostgreSQL on
// 5433-5435, Raft on 7433-7435, HTTP on 8433-8435, data in DIR/node1..3.
func devCommand(stdout, stderr io.Writer) *cli.Command {
	return &cli.Command{
		Name:  "dev",
		Usage: "start a three-node cluster on this machine (Ctrl-C stops all three)",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "data-dir", Value: "./data-dev", EnvVars: []string{"PGRAFT_DATA_DIR"}, Usage: "parent directory of the three nodes' data dirs"},
			&cli.StringFlag{Name: "host", Value: "127.0.0.1", Usage: "address every node listens on"},
			&cli.IntFlag{Name: "pg-port", Value: 5433, Usage: "node 1's PostgreSQL port; nodes 2 and 3 take the next two"},
			&cli.IntFlag{Name: "raft-port", Value: 7433, Usage: "node 1's Raft port; nodes 2 and 3 take the next two"},
			&cli.IntFlag{Name: "http-port", Value: 8433, Usage: "node 1's HTTP port; nodes 2 and 3 take the next two"},
			&cli.StringFlag{Name: "log-level", Value: "warn", Usage: "debug, info, warn or error"},
			logFormatFlag(),
			&cli.BoolFlag{Name: "pprof", EnvVars: []string{"PGRAFT_PPROF"}, Usage: "serve Go profiles at /debug/pprof on every node's HTTP address (administration: only on a loopback --host; the three nodes share one process, so each profile covers all three)"},
		},
		Action: func(c *cli.Context) error {
			log, err := newLogger(stderr, c.String("log-level"), c.String("log-format"))
			if err != nil {
				return err
			}
			ports := devPorts{pg: c.Int("pg-port"), raft: c.Int("raft-port"), http: c.Int("http-port")}
			return runDev(c.Context, stdout, log, c.String("data-dir"), c.String("host"), ports, c.Bool("pprof"))
		},
	}
}

// devPorts are node 1's ports; nodes 2 and 3 take the next two of each.
type devPorts struct{ pg, raft, http int }

func runDev(ctx context.Context, stdout io.Writer, log *slog.Logger, dir, host string, ports devPorts, pprof bool) error {
	var nodes []*server.Server
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for _, n := range nodes {
			n.ExpectClusterStop() // the whole cluster stops: peers going away are expected
		}
		// The leader first, each time: it hands leadership to a node still
		// running, instead of failing to reach one that already stopped.
		for len(nodes) > 0 {
			i := 0
			for j, n := range nodes {
				if n.Node().IsLeader() {
					i = j
				}
			}
			if err := nodes[i].Shutdown(sctx); err != nil {
				log.Error("shutdown", "err", err)
			}
			nodes = append(nodes[:i], nodes[i+1:]...)
		}
	}()
	// The secure path is the one people run: node-to-node traffic is
	// mutual TLS with a throwaway CA kept in dir/tls.
	caFile, certFile, keyFile, err := devCerts(dir)
	if err != nil {
		return fmt.Errorf("node TLS certificates: %w", err)
	}
	first := host + ":" + strconv.Itoa(ports.raft)
	// On its first start node 1 bootstraps and must lead before the others
	// join it; restarted on its data, the three elect a leader together, so
	// all three start first.
	_, statErr := os.Stat(filepath.Join(dir, "node1"))
	fresh := errors.Is(statErr, fs.ErrNotExist)
	for i := 0; i < 3; i++ {
		cfg := server.Config{
			NodeID:      "node" + strconv.Itoa(i+1),
			DataDir:     filepath.Join(dir, "node"+strconv.Itoa(i+1)),
			PGAddr:      host + ":" + strconv.Itoa(ports.pg+i),
			RaftAddr:    host + ":" + strconv.Itoa(ports.raft+i),
			HTTPAddr:    host + ":" + strconv.Itoa(ports.http+i),
			NodeTLSCert: certFile, NodeTLSKey: keyFile, NodeTLSCA: caFile,
			Pprof:  pprof,
			Logger: log,
		}
		if i > 0 {
			cfg.Join = []string{first}
		}
		srv, err := server.Open(cfg)
		if err != nil {
			return fmt.Errorf("start node %d: %w", i+1, err)
		}
		nodes = append(nodes, srv)
		if i == 0 && fresh {
			wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			err := srv.WaitLeader(wctx)
			cancel()
			if err != nil {
				return fmt.Errorf("node 1 elected no leader: %w", err)
			}
		}
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	err = nodes[0].WaitReady(wctx)
	cancel()
	if err != nil {
		return fmt.Errorf("the cluster elected no leader: %w", err)
	}
	fmt.Fprintf(stdout, `pgraft dev: three nodes running (data in %s)
  psql -h %[2]s -p %[3]d -U postgres     # node1
  psql -h %[2]s -p %[4]d -U postgres     # node2
  psql -h %[2]s -p %[5]d -U postgres     # node3
  psql "postgresql://%[2]s:%[3]d,%[2]s:%[4]d,%[2]s:%[5]d/postgres?target_session_attrs=read-write"   # the leader
  pgraft status --http-addr %[2]s:%[6]d
  http://%[2]s:%[6]d/metrics
Ctrl-C stops all three.
`, dir, host, ports.pg, ports.pg+1, ports.pg+2, ports.http)
	<-ctx.Done()
	if errors.Is(context.Cause(ctx), context.Canceled) {
		fmt.Fprintln(stdout, "stopping")
	}
	return nil
}
