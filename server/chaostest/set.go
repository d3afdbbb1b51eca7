package chaostest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
)

// setLog records the set workload's inserts by outcome.
type setLog struct {
	next atomic.Int64 // next id to insert

	mu      sync.Mutex
	outcome map[int64]outcome
}

func newSetLog() *setLog { return &setLog{outcome: make(map[int64]outcome)} }

func (s *setLog) record(id int64, o outcome) {
	s.mu.Lock()
	s.outcome[id] = o
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

// setClient inserts unique ids through one node until ctx ends.
func setClient(ctx context.Context, log *setLog, errs *errorCounts, dsn string) {
	c := &client{dsn: dsn}
	defer c.close()
	for ctx.Err() == nil {
		conn := c.get(ctx)
		if conn == nil {
			continue
		}
		id := log.next.Add(1)
		opCtx, cancel := context.WithTimeout(context.Background(), opTimeout)
		_, err := conn.Exec(opCtx, `INSERT INTO chaos_set (id) VALUES ($1)`, id)
		cancel()
		o := classify(err)
		log.record(id, o)
		if err != nil {
			errs.add(err)
			c.failed(ctx, err)
		}
	}
}

// checkSet reads the set on every node (after convergence) and returns one
// violation per node and kind: an acknowledged id missing (I4, lost
// write), or an id present whose insert failed or was never attempted (I4,
// phantom write).
func checkSet(ctx context.Context, log *setLog, dsns []string) ([]string, error) {
	log.mu.Lock()
	defer log.mu.Unlock()
	var violations []string
	for n, dsn := range dsns {
		ids, err := readSet(ctx, dsn)
		if err != nil {
			return violations, fmt.Errorf("node %d: %w", n, err)
		}
		lost, phantom := compareSet(log.outcome, ids)
		if len(lost) > 0 {
			violations = append(violations, fmt.Sprintf("set: node %d lost %d acknowledged inserts: %v", n, len(lost), head(lost)))
		}
		if len(phantom) > 0 {
			violations = append(violations, fmt.Sprintf("set: node %d has %d ids that failed or were never inserted: %v", n, len(phantom), head(phantom)))
		}
	}
	return violations, nil
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

func readSet(ctx context.Context, dsn string) ([]int64, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(ctx, `SELECT id FROM chaos_set ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("read set: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("read set: %w", err)
	}
	return ids, nil
}
