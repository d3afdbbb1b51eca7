package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
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
			statusCommand(stdout),
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
			&cli.StringFlag{Name: "log-level", Value: "info", EnvVars: []string{"PGRAFT_LOG_LEVEL"}, Usage: "debug, info, warn or error"},
		},
		Action: func(c *cli.Context) error {
			var level slog.Level
			if err := level.UnmarshalText([]byte(c.String("log-level"))); err != nil {
				return fmt.Errorf("--log-level: %w", err)
			}
			cfg := server.Config{
				NodeID:   c.String("node-id"),
				DataDir:  c.String("data-dir"),
				PGAddr:   c.String("pg-addr"),
				RaftAddr: c.String("raft-addr"),
				HTTPAddr: c.String("http-addr"),
				Join:     splitList(c.String("join")),
				Logger:   slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})),
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
	<-ctx.Done()
	cfg.Logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
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

func statusCommand(stdout io.Writer) *cli.Command {
	return &cli.Command{
		Name:  "status",
		Usage: "print a node's status (role, leader, term, applied and commit index)",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "http-addr", Value: server.DefaultConfig().HTTPAddr, EnvVars: []string{"PGRAFT_HTTP_ADDR"}, Usage: "the node's HTTP address"},
		},
		Action: func(c *cli.Context) error {
			client := &http.Client{Timeout: 5 * time.Second}
			resp, err := client.Get("http://" + c.String("http-addr") + "/status")
			if err != nil {
				return fmt.Errorf("status: %w", err)
			}
			defer resp.Body.Close()
			var st server.Status
			if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
				return fmt.Errorf("status: %w", err)
			}
			out, _ := json.MarshalIndent(st, "", "  ")
			fmt.Fprintln(stdout, string(out))
			return nil
		},
	}
}
