package chaostest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"

	"github.com/jackc/pgx/v5"
)

const (
	bankAccounts = 8
	bankInitial  = 100 // per account
	bankTotal    = bankAccounts * bankInitial
)

// transfer moves amount from one account to another.
type transfer struct {
	From, To int
	Amount   int64
}

// bankLog records the bank workload: transfers by outcome, and every
// total a reader saw that was not bankTotal.
type bankLog struct {
	mu       sync.Mutex
	acked    []transfer
	unknown  []transfer
	failed   int
	reads    int
	badReads []string
}

// bankCounts are the bank workload's figures.
type bankCounts struct {
	Acked, Failed, Unknown, Reads, BadReads int
}

func (b *bankLog) counts() bankCounts {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bankCounts{len(b.acked), b.failed, len(b.unknown), b.reads, len(b.badReads)}
}

func (b *bankLog) record(tr transfer, o outcome) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch o {
	case done:
		b.acked = append(b.acked, tr)
	case unknown:
		b.unknown = append(b.unknown, tr)
	default:
		b.failed++
	}
}

func (b *bankLog) read(node int, level string, total int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.reads++
	if total != bankTotal {
		b.badReads = append(b.badReads, fmt.Sprintf("node %d at %s read total %d, want %d", node, level, total, bankTotal))
	}
}

// bankSetup returns the statements that create the accounts.
func bankSetup() []string {
	stmts := []string{`CREATE TABLE chaos_bank (id int PRIMARY KEY, balance bigint NOT NULL)`}
	for a := 0; a < bankAccounts; a++ {
		stmts = append(stmts, fmt.Sprintf(`INSERT INTO chaos_bank VALUES (%d, %d)`, a, bankInitial))
	}
	return stmts
}

// bankClient runs interactive transfers through one node until ctx ends,
// half at READ COMMITTED and half at REPEATABLE READ. Nothing is retried:
// an error before COMMIT means nothing was proposed (DESIGN.md §4), an
// error at COMMIT is classified like any write.
func bankClient(ctx context.Context, log *bankLog, errs *errorCounts, dsn string, rng *rand.Rand) {
	c := &client{dsn: dsn}
	defer c.close()
	for ctx.Err() == nil {
		conn := c.get(ctx)
		if conn == nil {
			continue
		}
		from := rng.IntN(bankAccounts)
		tr := transfer{From: from, To: (from + 1 + rng.IntN(bankAccounts-1)) % bankAccounts, Amount: 1 + rng.Int64N(10)}
		level := "READ COMMITTED"
		if rng.IntN(2) == 0 {
			level = "REPEATABLE READ"
		}
		o, err := doTransfer(conn, tr, level)
		if o != skipped {
			log.record(tr, o)
		}
		if err != nil {
			errs.add(err)
			c.failed(ctx, err)
		}
	}
}

// skipped: the source account had too little; the transaction rolled back.
const skipped outcome = -1

// doTransfer runs one transfer. Only the COMMIT's error can leave the
// outcome unknown; an error before it rolls the transaction back.
func doTransfer(conn *pgx.Conn, tr transfer, level string) (outcome, error) {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	fail := func(err error) (outcome, error) {
		rctx, rcancel := context.WithTimeout(context.Background(), connectTimeout)
		defer rcancel()
		if _, rerr := conn.Exec(rctx, "ROLLBACK"); rerr != nil {
			conn.Close(rctx) // the next get opens a fresh session
		}
		return failed, err
	}
	if _, err := conn.Exec(ctx, "BEGIN ISOLATION LEVEL "+level); err != nil {
		return fail(err)
	}
	var balance int64
	if err := conn.QueryRow(ctx, `SELECT balance FROM chaos_bank WHERE id = $1`, tr.From).Scan(&balance); err != nil {
		return fail(err)
	}
	if balance < tr.Amount {
		_, err := conn.Exec(ctx, "ROLLBACK")
		return skipped, err
	}
	for _, u := range []struct {
		id    int
		delta int64
	}{{tr.From, -tr.Amount}, {tr.To, tr.Amount}} {
		tag, err := conn.Exec(ctx, `UPDATE chaos_bank SET balance = balance + $2 WHERE id = $1`, u.id, u.delta)
		if err == nil && tag.RowsAffected() != 1 {
			err = fmt.Errorf("update account %d: %d rows", u.id, tag.RowsAffected())
		}
		if err != nil {
			return fail(err)
		}
	}
	tag, err := conn.Exec(ctx, "COMMIT")
	switch {
	case err != nil:
		return classify(err), err
	case tag.String() != "COMMIT":
		return failed, fmt.Errorf("COMMIT answered %q", tag.String())
	}
	return done, nil
}

// bankReader reads the total through one node until ctx ends, alternating
// linearizable and session consistency (one connection each).
func bankReader(ctx context.Context, log *bankLog, errs *errorCounts, dsn string, node int) {
	clients := []*client{{dsn: dsn, consistency: "linearizable"}, {dsn: dsn, consistency: "session"}}
	defer func() {
		for _, c := range clients {
			c.close()
		}
	}()
	for k := 0; ctx.Err() == nil; k++ {
		c := clients[k%2]
		conn := c.get(ctx)
		if conn == nil {
			continue
		}
		var total int64
		rctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		err := conn.QueryRow(rctx, `SELECT sum(balance) FROM chaos_bank`).Scan(&total)
		cancel()
		if err != nil {
			errs.add(err)
			c.failed(ctx, err)
			continue
		}
		log.read(node, c.consistency, total)
	}
}

// checkBank reads every node's balances after convergence and returns
// violations: a total read during the run that was not bankTotal, a
// node's final total that is not, or final balances that no subset of the
// unknown transfers explains (a lost or phantom transfer).
func checkBank(ctx context.Context, log *bankLog, dsns []string) []string {
	log.mu.Lock()
	defer log.mu.Unlock()
	var violations []string
	for k, bad := range log.badReads {
		if k == 5 {
			violations = append(violations, fmt.Sprintf("bank: … %d bad totals in all", len(log.badReads)))
			break
		}
		violations = append(violations, "bank: "+bad)
	}
	for n, dsn := range dsns {
		balances, err := readBalances(ctx, dsn)
		if err != nil {
			violations = append(violations, fmt.Sprintf("bank: after healing, node %d: %v", n, err))
			continue
		}
		var total int64
		for _, b := range balances {
			total += b
		}
		if total != bankTotal {
			violations = append(violations, fmt.Sprintf("bank: node %d ends with total %d, want %d", n, total, bankTotal))
		}
		if n == 0 { // the others have the same checksum, or convergence says not
			if msg := explainBalances(balances, log.acked, log.unknown); msg != "" {
				violations = append(violations, "bank: node 0: "+msg)
			}
		}
	}
	return violations
}

func readBalances(ctx context.Context, dsn string) ([]int64, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(ctx, `SELECT id, balance FROM chaos_bank ORDER BY id`)
	if err != nil {
		return nil, err
	}
	out := make([]int64, bankAccounts)
	seen := 0
	var id int
	var b int64
	_, err = pgx.ForEachRow(rows, []any{&id, &b}, func() error {
		if id < 0 || id >= bankAccounts {
			return fmt.Errorf("unexpected account %d", id)
		}
		out[id] = b
		seen++
		return nil
	})
	if err == nil && seen != bankAccounts {
		err = fmt.Errorf("%d accounts, want %d", seen, bankAccounts)
	}
	return out, err
}
