package server_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/pgraft/pgraft/server/servertest"
)

// TestPipelinedWrites: concurrent transactions and autocommit writes on the
// leader of three nodes run one on top of the other while their entries are
// in flight (commit pipelining). Every committed transfer is there exactly
// once, money is conserved, each autocommit INSERT … RETURNING got the id
// of its own row, every node converges, and the leader's epochs held more
// than one write.
func TestPipelinedWrites(t *testing.T) {
	skipShortCluster(t)
	c := servertest.NewCluster(t, 3)
	leaderExec(t, c, `CREATE TABLE acct (id int PRIMARY KEY, bal bigint NOT NULL)`)
	leaderExec(t, c, `CREATE TABLE hist (id serial PRIMARY KEY, src int, dst int, amount int, tag text)`)
	leaderExec(t, c, `INSERT INTO acct SELECT g, 1000 FROM generate_series(1, 20) g`)
	leader := c.Leader()
	before := scrape(t, leader)

	const clients, rounds = 8, 25
	ctx, cancel := context.WithTimeout(context.Background(), clusterWait)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	var mu sync.Mutex
	committed, unknown := 0, 0
	for k := 0; k < clients; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := pgx.Connect(ctx, leader.DSN())
			if err != nil {
				errs <- err
				return
			}
			defer conn.Close(context.Background())
			for i := 0; i < rounds; i++ {
				src, dst := (k+i)%20+1, (k*7+i*3)%20+1
				tag := fmt.Sprintf("c%d-%d", k, i)
				err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
					if _, err := tx.Exec(ctx, `UPDATE acct SET bal = bal - 5 WHERE id = $1`, src); err != nil {
						return err
					}
					if _, err := tx.Exec(ctx, `UPDATE acct SET bal = bal + 5 WHERE id = $1`, dst); err != nil {
						return err
					}
					_, err := tx.Exec(ctx, `INSERT INTO hist (src, dst, amount, tag) VALUES ($1, $2, 5, $3)`, src, dst, tag)
					return err
				})
				switch sqlstate(err) {
				case "":
					if err != nil {
						errs <- err
						return
					}
					mu.Lock()
					committed++
					mu.Unlock()
				case "40001": // a leadership change on a loaded machine: nothing committed
				case "40003": // one that left the outcome unknown
					mu.Lock()
					unknown++
					mu.Unlock()
				default:
					errs <- fmt.Errorf("transfer %s: %w", tag, err)
					return
				}
				var id int64
				atag := tag + "-auto"
				if err := conn.QueryRow(ctx, `INSERT INTO hist (amount, tag) VALUES (0, $1) RETURNING id`, atag).Scan(&id); err != nil {
					if c := sqlstate(err); c == "40001" || c == "40003" {
						continue
					}
					errs <- fmt.Errorf("autocommit %s: %w", atag, err)
					return
				}
				var got string
				if err := conn.QueryRow(ctx, `SELECT tag FROM hist WHERE id = $1`, id).Scan(&got); err != nil || got != atag {
					errs <- fmt.Errorf("RETURNING id %d of %s reads back %q, %v", id, atag, got, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	c.RequireConverged()
	conn := connect(t, leader)
	if got := count(t, conn, `SELECT sum(bal) FROM acct`); got != 20000 {
		t.Fatalf("total %d, want 20000", got)
	}
	if got := count(t, conn, `SELECT count(*) FROM hist WHERE amount = 5`); got < int64(committed) || got > int64(committed+unknown) {
		t.Fatalf("%d transfers in the history, %d committed and %d unknown", got, committed, unknown)
	}
	if got := count(t, conn, `SELECT count(*) FROM (SELECT tag FROM hist GROUP BY tag HAVING count(*) > 1) d`); got != 0 {
		t.Fatalf("%d writes are there twice", got)
	}
	after := scrape(t, leader)
	delta := func(event string) float64 {
		l := map[string]string{"event": event}
		return metricValue(after, "pgraft_pipeline_total", l) - metricValue(before, "pgraft_pipeline_total", l)
	}
	epochs, members := delta("epochs"), delta("members")
	t.Logf("%d transfers committed, %d unknown; %.0f writes in %.0f epochs, %.0f breaks, %.0f rebases",
		committed, unknown, members, epochs, delta("breaks"), delta("rebases"))
	if epochs <= 0 || members <= epochs {
		t.Fatalf("%.0f writes in %.0f epochs: the writes did not pipeline", members, epochs)
	}
}
