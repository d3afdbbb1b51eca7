package chaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

const (
	bankAccounts = 8
	bankInitial  = 100 // per account
	bankTotal    = bankAccounts * bankInitial
)

// transfer moves amount from one account to another. ID is unique in the
// run: the transfer's transaction also inserts it into chaos_bank_xfer, so
// the final check can tell, transfer by transfer, what each node holds.
type transfer struct {
	From, To int
	Amount   int64
	ID       int64
}

// attempt is one transfer the workload committed or tried to: what the
// client was told, by which node, and when (since the run's start).
type attempt struct {
	tr        transfer
	outcome   outcome
	err       string
	node      int
	call, ret time.Duration
}

// bankLog records the bank workload: transfers by outcome, and every
// total a reader saw that was not bankTotal.
type bankLog struct {
	mu       sync.Mutex
	start    time.Time
	nextID   int64
	acked    []transfer
	unknown  []transfer
	failed   int
	attempts map[int64]attempt // every transfer that reached COMMIT or failed, by ID
	reads    int
	badReads []string
}

// newID returns a transfer ID unique in the run.
func (b *bankLog) newID() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.nextID++
	return b.nextID
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

func (b *bankLog) record(tr transfer, o outcome, err error, node int, call time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.attempts == nil {
		b.attempts = make(map[int64]attempt)
	}
	a := attempt{tr: tr, outcome: o, node: node, call: call.Sub(b.start), ret: time.Since(b.start)}
	if err != nil {
		a.err = err.Error()
	}
	b.attempts[tr.ID] = a
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
	stmts := []string{`CREATE TABLE chaos_bank (id int PRIMARY KEY, balance bigint NOT NULL)`,
		`CREATE TABLE chaos_bank_xfer (id bigint PRIMARY KEY, src int NOT NULL, dst int NOT NULL, amount bigint NOT NULL)`}
	for a := 0; a < bankAccounts; a++ {
		stmts = append(stmts, fmt.Sprintf(`INSERT INTO chaos_bank VALUES (%d, %d)`, a, bankInitial))
	}
	return stmts
}

// bankClient runs interactive transfers through one node until ctx ends,
// half at READ COMMITTED and half at REPEATABLE READ. Nothing is retried:
// an error before COMMIT means nothing was proposed (DESIGN.md §4), an
// error at COMMIT is classified like any write.
func bankClient(ctx context.Context, log *bankLog, errs *errorCounts, dsn string, node int, rng *rand.Rand) {
	c := &client{dsn: dsn}
	defer c.close()
	for ctx.Err() == nil {
		conn := c.get(ctx)
		if conn == nil {
			continue
		}
		from := rng.IntN(bankAccounts)
		tr := transfer{From: from, To: (from + 1 + rng.IntN(bankAccounts-1)) % bankAccounts, Amount: 1 + rng.Int64N(10), ID: log.newID()}
		level := "READ COMMITTED"
		if rng.IntN(2) == 0 {
			level = "REPEATABLE READ"
		}
		call := time.Now()
		o, err := doTransfer(conn, tr, level)
		if o != skipped {
			log.record(tr, o, err, node, call)
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
		return fail(fmt.Errorf("BEGIN: %w", err))
	}
	var balance int64
	if err := conn.QueryRow(ctx, `SELECT balance FROM chaos_bank WHERE id = $1`, tr.From).Scan(&balance); err != nil {
		return fail(fmt.Errorf("SELECT: %w", err))
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
			return fail(fmt.Errorf("UPDATE: %w", err))
		}
	}
	if _, err := conn.Exec(ctx, `INSERT INTO chaos_bank_xfer VALUES ($1, $2, $3, $4)`, tr.ID, tr.From, tr.To, tr.Amount); err != nil {
		return fail(fmt.Errorf("INSERT: %w", err))
	}
	tag, err := conn.Exec(ctx, "COMMIT")
	switch {
	case err != nil:
		return classify(err), fmt.Errorf("COMMIT: %w", err)
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
		xfers, err := readTransfers(ctx, dsn)
		if err != nil {
			violations = append(violations, fmt.Sprintf("bank: after healing, node %d: %v", n, err))
			continue
		}
		violations = append(violations, checkTransfers(n, balances, xfers, log.attempts)...)
	}
	return violations
}

// checkTransfers compares, transfer by transfer, what node n holds with
// what the clients were told: an acknowledged transfer missing is lost, a
// failed one present is a phantom (the client was told it did not commit),
// and the balances must be exactly those the node's transfers make.
func checkTransfers(n int, balances []int64, xfers map[int64]transfer, attempts map[int64]attempt) []string {
	var violations []string
	add := func(format string, args ...any) {
		if len(violations) < 10 {
			violations = append(violations, fmt.Sprintf("bank: node %d: ", n)+fmt.Sprintf(format, args...))
		}
	}
	want := make([]int64, len(balances))
	for a := range want {
		want[a] = bankInitial
	}
	for id, tr := range xfers {
		want[tr.From] -= tr.Amount
		want[tr.To] += tr.Amount
		a, ok := attempts[id]
		switch {
		case !ok:
			add("transfer %d (%+v) is stored but no client recorded it", id, tr)
		case a.tr != tr:
			add("transfer %d is stored as %+v but was sent as %+v", id, tr, a.tr)
		case a.outcome == failed:
			add("phantom transfer %d (%+v): committed, but the client (node %d, %v–%v) was told it failed: %s",
				id, tr, a.node, a.call, a.ret, a.err)
		}
	}
	for id, a := range attempts {
		if _, ok := xfers[id]; !ok && a.outcome == done {
			add("lost transfer %d (%+v): acknowledged by node %d at %v (sent %v) but not stored", id, a.tr, a.node, a.ret, a.call)
		}
	}
	if !slices.Equal(want, balances) {
		add("balances %v differ from %v, what its stored transfers make", balances, want)
	}
	return violations
}

func readTransfers(ctx context.Context, dsn string) (map[int64]transfer, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(ctx, `SELECT id, src, dst, amount FROM chaos_bank_xfer`)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]transfer)
	var tr transfer
	_, err = pgx.ForEachRow(rows, []any{&tr.ID, &tr.From, &tr.To, &tr.Amount}, func() error {
		out[tr.ID] = tr
		return nil
	})
	return out, err
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
