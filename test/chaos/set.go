package chaos

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// setLog records the set workload's inserts by outcome.
type setLog struct {
	next atomic.Int64 // next id to insert

	mu      sync.Mutex
	outcome map[int64]outcome
	times   map[int64][2]int64 // acknowledged ids: call and return (history clock)
}

func newSetLog() *setLog {
	return &setLog{outcome: make(map[int64]outcome), times: make(map[int64][2]int64)}
}

func (s *setLog) record(id int64, o outcome, call, ret int64) {
	s.mu.Lock()
	s.outcome[id] = o
	if o == done {
		s.times[id] = [2]int64{call, ret}
	}
	s.mu.Unlock()
}

// setCounts are the set workload's figures.
type setCounts struct {
	Acked, Failed, Unknown int
}

func (s *setLog) counts() setCounts {
	s.mu.Lock()
	defer s.mu.Unlock()
	var c setCounts
	for _, o := range s.outcome {
		switch o {
		case done:
			c.Acked++
		case failed:
			c.Failed++
		default:
			c.Unknown++
		}
	}
	return c
}

// setSetup returns the statements that create the set table: seq is the
// log order (AUTOINCREMENT), ts the entry's time.
func setSetup() []string {
	return []string{`CREATE TABLE chaos_set (seq serial PRIMARY KEY, id bigint NOT NULL UNIQUE, ts timestamptz NOT NULL DEFAULT now())`}
}

// setClient inserts unique ids through one node until ctx ends; now is the
// history's clock.
func setClient(ctx context.Context, log *setLog, errs *errorCounts, dsn string, now func() int64) {
	c := &client{dsn: dsn}
	defer c.close()
	for ctx.Err() == nil {
		conn := c.get(ctx)
		if conn == nil {
			continue
		}
		id := log.next.Add(1)
		opCtx, cancel := context.WithTimeout(context.Background(), opTimeout)
		call := now()
		_, err := conn.Exec(opCtx, `INSERT INTO chaos_set (id) VALUES ($1)`, id)
		ret := now()
		cancel()
		o := classify(err)
		log.record(id, o, call, ret)
		if err != nil {
			errs.add(err)
			c.failed(ctx, err)
		}
	}
}

// checkSet reads the set on every node (after convergence) and returns one
// violation per node and kind: an acknowledged id missing (I4, lost
// write), or an id present whose insert failed or was never attempted (I4,
// phantom write). On node 0 it also checks the stored now() values
// (checkTimeOrder) and describes their log order in info.
func checkSet(ctx context.Context, log *setLog, dsns []string) (violations []string, info string, err error) {
	log.mu.Lock()
	defer log.mu.Unlock()
	for n, dsn := range dsns {
		rows, err := readSet(ctx, dsn)
		if err != nil {
			return violations, info, fmt.Errorf("node %d: %w", n, err)
		}
		ids := make([]int64, len(rows))
		for k, r := range rows {
			ids[k] = r.id
		}
		if n == 0 {
			violations = append(violations, checkTimeOrder(log.stamped(rows))...)
			info = logOrderInfo(rows)
		}
		lost, phantom := compareSet(log.outcome, ids)
		if len(lost) > 0 {
			violations = append(violations, fmt.Sprintf("set: node %d lost %d acknowledged inserts: %v", n, len(lost), head(lost)))
		}
		if len(phantom) > 0 {
			violations = append(violations, fmt.Sprintf("set: node %d has %d ids that failed or were never inserted: %v", n, len(phantom), head(phantom)))
		}
	}
	return violations, info, nil
}

// stamped joins the acknowledged inserts' times with the rows read.
func (s *setLog) stamped(rows []setRow) []stamped {
	var out []stamped
	for _, r := range rows {
		if t, ok := s.times[r.id]; ok {
			out = append(out, stamped{ID: r.id, Call: t[0], Ret: t[1], TS: r.ts})
		}
	}
	return out
}

// logOrderInfo describes how often now() steps back in log (seq) order.
// Not a violation: concurrent autocommit writes are stamped before they
// are queued, so their order in the log need not follow their times.
func logOrderInfo(rows []setRow) string {
	steps, worst := 0, time.Duration(0)
	for k := 1; k < len(rows); k++ {
		if d := rows[k-1].ts.Sub(rows[k].ts); d > 0 {
			steps, worst = steps+1, max(worst, d)
		}
	}
	return fmt.Sprintf("now() in log order: %d rows, %d steps back (largest %v)", len(rows), steps, worst)
}

// compareSet returns the acknowledged ids missing from ids (sorted) and
// the ids present that failed or were never attempted.
func compareSet(outcomes map[int64]outcome, ids []int64) (lost, phantom []int64) {
	present := make(map[int64]bool, len(ids))
	for _, id := range ids {
		present[id] = true
		if o, ok := outcomes[id]; !ok || o == failed {
			phantom = append(phantom, id)
		}
	}
	for id, o := range outcomes {
		if o == done && !present[id] {
			lost = append(lost, id)
		}
	}
	slices.Sort(lost)
	return lost, phantom
}

// head returns at most the first 10 ids, for messages.
func head(ids []int64) []int64 { return ids[:min(len(ids), 10)] }

// setRow is one row of chaos_set, in log order.
type setRow struct {
	id int64
	ts time.Time
}

func readSet(ctx context.Context, dsn string) ([]setRow, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(ctx, `SELECT id, ts FROM chaos_set ORDER BY seq`)
	if err != nil {
		return nil, fmt.Errorf("read set: %w", err)
	}
	var out []setRow
	var r setRow
	if _, err := pgx.ForEachRow(rows, []any{&r.id, &r.ts}, func() error {
		out = append(out, r)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read set: %w", err)
	}
	return out, nil
}
