package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/pgraft/pgraft/server/servertest"
)

// TestAppQueries runs statements applications send through pgx with bound
// parameters, and checks PostgreSQL's answers.
func TestAppQueries(t *testing.T) {
	n := servertest.Start(t)
	c := connect(t, n)
	ctx := context.Background()
	mustExec(t, c, `CREATE TABLE users (id bigserial PRIMARY KEY, email text UNIQUE NOT NULL,
		created_at timestamptz NOT NULL DEFAULT now(), score numeric(10,2) DEFAULT 0, active boolean DEFAULT true)`)
	var id int64
	var created time.Time
	if err := c.QueryRow(ctx, "INSERT INTO users (email) VALUES ($1) RETURNING id, created_at", "a@x").Scan(&id, &created); err != nil {
		t.Fatal(err)
	}
	if time.Since(created) > time.Minute || time.Since(created) < -time.Minute {
		t.Fatalf("created_at = %v", created)
	}
	mustExec(t, c, "INSERT INTO users (email, score) VALUES ($1, $2), ($3, $4)", "b@x", 1.5, "c@x", 2.25)
	var cnt int64
	if err := c.QueryRow(ctx, "SELECT count(*) FROM users WHERE id = ANY($1)", []int64{1, 3}).Scan(&cnt); err != nil || cnt != 2 {
		t.Fatalf("ANY($1) count = %d, %v", cnt, err)
	}
	if err := c.QueryRow(ctx, "SELECT count(*) FROM users WHERE created_at > now() - interval '1 hour' AND active").Scan(&cnt); err != nil || cnt != 3 {
		t.Fatalf("recent users = %d, %v", cnt, err)
	}
	if err := c.QueryRow(ctx, "SELECT count(*) FROM users WHERE email ILIKE $1", "B@%").Scan(&cnt); err != nil || cnt != 1 {
		t.Fatalf("ILIKE count = %d, %v", cnt, err)
	}
	var total float64
	if err := c.QueryRow(ctx, "SELECT coalesce(sum(score), 0)::float8 FROM users").Scan(&total); err != nil || total != 3.75 {
		t.Fatalf("sum = %v, %v", total, err)
	}
	tag := mustExec(t, c, "UPDATE users SET active = $1 WHERE email IN ($2, $3)", false, "a@x", "b@x")
	if tag.String() != "UPDATE 2" {
		t.Fatalf("tag = %s", tag)
	}
	_, err := c.Exec(ctx, "INSERT INTO users (email) VALUES ($1)", "a@x")
	wantCode(t, err, "23505")
	tag = mustExec(t, c, "INSERT INTO users (email) VALUES ($1) ON CONFLICT (email) DO NOTHING", "a@x")
	if tag.String() != "INSERT 0 0" {
		t.Fatalf("ON CONFLICT DO NOTHING tag = %s", tag)
	}
}

// TestSpecialDatetimeInputs: 'now', 'today', 'tomorrow' and 'yesterday'
// cast to a date/time type read the statement's time, in reads and in
// replicated writes, as PostgreSQL reads them when the literal is parsed.
func TestSpecialDatetimeInputs(t *testing.T) {
	n := servertest.Start(t)
	c := connect(t, n)
	ctx := context.Background()
	var ok bool
	if err := c.QueryRow(ctx, `SELECT 'today'::date = current_date AND 'tomorrow'::date = current_date + 1
		AND 'yesterday'::date = current_date - 1 AND 'today'::timestamp = date_trunc('day', localtimestamp)
		AND 'now'::timestamptz <= now() + interval '1 minute'`).Scan(&ok); err != nil || !ok {
		t.Fatalf("special inputs in a read: %v, %v", ok, err)
	}
	mustExec(t, c, `CREATE TABLE stamps (d date, ts timestamptz)`)
	mustExec(t, c, `INSERT INTO stamps VALUES ('today', 'now'), ('tomorrow'::date, 'yesterday'::timestamptz)`)
	if err := c.QueryRow(ctx, `SELECT count(*) = 2 AND min(d) = current_date AND max(d) = current_date + 1
		AND max(ts) > min(ts) FROM stamps`).Scan(&ok); err != nil || !ok {
		t.Fatalf("special inputs in a write: %v, %v", ok, err)
	}
}
