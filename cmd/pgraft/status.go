package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/pgraft/pgraft/server"
)

// statusCommand prints a node's view of the cluster as a table a person
// reads at a glance, or with --json the node's /status answer.
func statusCommand(stdout io.Writer) *cli.Command {
	return &cli.Command{
		Name:  "status",
		Usage: "print the cluster as a node sees it: members with role, health, applied index and lag; leader and term",
		Flags: []cli.Flag{httpAddrFlag(), &cli.BoolFlag{Name: "json", Usage: "print the node's /status JSON instead of a table"}},
		Action: func(c *cli.Context) error {
			u := "http://" + c.String("http-addr") + "/status"
			if c.Bool("json") {
				return callHTTP(c.Context, stdout, http.MethodGet, u, "")
			}
			st, err := fetchStatus(c.Context, u)
			if err != nil {
				return err
			}
			return printStatus(stdout, st)
		},
	}
}

func fetchStatus(ctx context.Context, u string) (*server.Status, error) {
	ctx, cancel := context.WithTimeout(ctx, 40*time.Second)
	defer cancel()
	resp, err := nodeRequest(ctx, http.MethodGet, u, "")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	var st server.Status
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&st); err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, err)
	}
	return &st, nil
}

// printStatus writes st as a summary line and a table of members.
func printStatus(w io.Writer, st *server.Status) error {
	leader := st.Leader
	if leader == "" {
		leader = "none known"
	} else if st.LeaderAddr != "" {
		leader += " (" + st.LeaderAddr + ")"
	}
	fmt.Fprintf(w, "node %s: %s, term %d, leader %s\n", st.NodeID, strings.ToLower(st.Role), st.Term, leader)
	fmt.Fprintf(w, "applied %d of %d committed; sessions %d of %d; clients at %s\n\n",
		st.AppliedIndex, st.CommittedDataIndex, st.Sessions, st.MaxConnections, st.PGAddr)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MEMBER\tRAFT ADDRESS\tVOTER\tROLE\tAPPLIED\tLAG\tHEALTH")
	for _, m := range st.Members {
		role, applied, lag := "?", "?", "?"
		health := "ok"
		if m.Probed {
			role, applied, lag = strings.ToLower(m.State), fmt.Sprint(m.AppliedIndex), fmt.Sprint(m.Lag)
		} else {
			health = "no answer"
			if m.ProbeError != "" {
				health += ": " + shorten(m.ProbeError, 60)
			}
		}
		if m.Unreachable {
			health = "heartbeats failing"
			if !m.LastContact.IsZero() {
				health += " since " + m.LastContact.Format(time.RFC3339)
			}
		}
		voter := "yes"
		if !m.Voter {
			voter = "no"
		}
		id := m.ID
		if m.ID == st.NodeID {
			id += " *"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", id, m.Addr, voter, role, applied, lag, health)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w, "\n* the node that answered")
	return err
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
