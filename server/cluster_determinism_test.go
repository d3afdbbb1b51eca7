package server_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/pgraft/pgraft/server/servertest"
)

// TestClusterDeterminism runs a workload full of values a node could pick
// for itself (clock, randomness, generated keys) through the leader from
// several sessions at once, then compares every node's checksum at the same
// applied index (I3).
func TestClusterDeterminism(t *testing.T) {
	skipShortCluster(t)
	c := servertest.NewCluster(t, 3)
	leaderExec(t, c, `CREATE TABLE ev (
		id serial PRIMARY KEY,
		at timestamptz DEFAULT CURRENT_TIMESTAMP,
		r double precision DEFAULT random(),
		u uuid DEFAULT gen_random_uuid(),
		b bytea,
		frac text,
		tag text)`)
	leaderExec(t, c, `CREATE TABLE kv (k text PRIMARY KEY, v int NOT NULL, seen timestamptz, salt double precision)`)
	l := c.Leader()
	const sessions, rounds = 3, 15
	var wg sync.WaitGroup
	errs := make(chan error, sessions)
	for s := 0; s < sessions; s++ {
		wg.Add(1)
		go func(s int) {
			defer wg.Done()
			errs <- mixedWorkload(l.DSN(), s, rounds)
		}(s)
	}
	wg.Wait()
	close(errs)
	interrupted := false
	for err := range errs {
		switch {
		case errors.Is(err, errElection):
			// A loaded machine can miss heartbeats and elect again: the
			// session stops there; what matters, convergence, is checked.
			t.Log(err)
			interrupted = true
		case err != nil:
			t.Fatal(err)
		}
	}
	sum := c.RequireConverged()
	if interrupted {
		return // too few rounds, maybe, for the checks of variety below
	}
	// The workload must have produced the values it is about: different
	// random values and distinct times, not constants that agree trivially.
	conn := connect(t, l)
	if got := count(t, conn, `SELECT count(DISTINCT r) FROM ev`); got < 10 {
		t.Errorf("only %d distinct random() values", got)
	}
	if got := count(t, conn, `SELECT count(DISTINCT u) FROM ev`); got != count(t, conn, `SELECT count(*) FROM ev`) {
		t.Errorf("gen_random_uuid() repeated values: %d distinct", got)
	}
	if got := count(t, conn, `SELECT count(DISTINCT at) FROM ev`); got < 10 {
		t.Errorf("only %d distinct timestamps", got)
	}
	if got := count(t, conn, `SELECT count(*) FROM ev WHERE tag = 'rolled back'`); got != 0 {
		t.Errorf("%d rows of aborted transactions present", got)
	}
	t.Logf("%d rows in ev, %d in kv, checksum %s", count(t, conn, `SELECT count(*) FROM ev`),
		count(t, conn, `SELECT count(*) FROM kv`), sum)
}

// errElection marks a workload stopped by a leadership change (40001,
// 40003, a node going away), which a loaded machine can cause.
var errElection = errors.New("stopped by a leadership change")

// mixedWorkload is one session's share of TestClusterDeterminism.
func mixedWorkload(dsn string, s, rounds int) error {
	ctx, cancel := context.WithTimeout(context.Background(), clusterWait)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	exec := func(sql string, args ...any) error {
		if _, err := conn.Exec(ctx, sql, args...); err != nil {
			if retryable(err) {
				return fmt.Errorf("session %d: %s: %v: %w", s, sql, err, errElection)
			}
			return fmt.Errorf("session %d: %s: %w", s, sql, err)
		}
		return nil
	}
	for r := 0; r < rounds; r++ {
		key := fmt.Sprintf("k%d", r%4)
		steps := []struct {
			sql  string
			args []any
		}{
			{`INSERT INTO ev (tag) VALUES ('default')`, nil},
			{`INSERT INTO ev (at, r, b, frac, tag) VALUES (now(), random(), randomblob(16), strftime('%f','now'), 'explicit')`, nil},
			{`INSERT INTO ev (b, tag) VALUES ($1, $2)`, []any{[]byte{byte(s), byte(r)}, "bound"}},
			{`INSERT INTO kv VALUES ($1, 1, now(), random()) ON CONFLICT (k) DO UPDATE SET v = kv.v + 1, seen = now(), salt = random()`, []any{key}},
			{`UPDATE ev SET r = random(), frac = strftime('%f','now') WHERE id % 7 = $1`, []any{r % 7}},
			{`DELETE FROM ev WHERE id IN (SELECT id FROM ev WHERE tag = 'default' ORDER BY id LIMIT 1)`, nil},
		}
		for _, st := range steps {
			if err := exec(st.sql, st.args...); err != nil {
				return err
			}
		}
		if err := mixedTransactions(ctx, conn, s, r); err != nil {
			return err
		}
	}
	return nil
}

// mixedTransactions runs a committed transaction with a failed statement
// in the middle (rolled back to a savepoint), and an aborted one whose
// COMMIT must report ROLLBACK.
func mixedTransactions(ctx context.Context, conn *pgx.Conn, s, r int) error {
	// Negative: an explicit id above the AUTOINCREMENT sequence would move
	// it (unlike a PostgreSQL sequence) and collide with a later default.
	id := -(1 + s*1000 + r)
	script := []struct {
		sql     string
		wantErr bool
	}{
		{`BEGIN`, false},
		{fmt.Sprintf(`INSERT INTO ev (id, tag) VALUES (%d, 'tx')`, id), false},
		{`SAVEPOINT sp`, false},
		{fmt.Sprintf(`INSERT INTO ev (id, tag) VALUES (%d, 'duplicate')`, id), true},
		{`ROLLBACK TO SAVEPOINT sp`, false},
		{`INSERT INTO ev (r, tag) VALUES (random(), 'after savepoint')`, false},
		{`UPDATE kv SET salt = random(), seen = CURRENT_TIMESTAMP`, false},
		{`COMMIT`, false},
		{`BEGIN`, false},
		{`INSERT INTO ev (tag) VALUES ('rolled back')`, false},
		{`INSERT INTO kv (k, v) VALUES (NULL, 1)`, true},
		{`INSERT INTO ev (tag) VALUES ('rolled back')`, true}, // 25P02
	}
	for _, st := range script {
		_, err := conn.Exec(ctx, st.sql)
		if err != nil && retryable(err) {
			return fmt.Errorf("session %d round %d: %s: %v: %w", s, r, st.sql, err, errElection)
		}
		if (err != nil) != st.wantErr {
			return fmt.Errorf("session %d round %d: %s: err = %v, want error %v", s, r, st.sql, err, st.wantErr)
		}
	}
	tag, err := conn.Exec(ctx, `COMMIT`)
	if err != nil && retryable(err) {
		return fmt.Errorf("session %d round %d: COMMIT: %v: %w", s, r, err, errElection)
	}
	if err != nil || tag.String() != "ROLLBACK" {
		return fmt.Errorf("session %d round %d: COMMIT of a failed transaction: tag %q, err %v; want ROLLBACK", s, r, tag, err)
	}
	return nil
}
