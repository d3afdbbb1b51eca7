package sqlengine

import (
	"context"
	"testing"
	"time"

	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// pipeTest drives a leader engine and a follower engine: the leader runs
// members speculatively, the test plays raft, handing entries to both.
type pipeTest struct {
	t        *testing.T
	leader   *Engine
	follower *Engine
	next     uint64
}

func newPipeTest(t *testing.T) *pipeTest {
	p := &pipeTest{t: t, leader: newTestEngine(t), follower: newTestEngine(t), next: 1}
	p.both(entry(t, 1, 1, `CREATE TABLE acct (id int PRIMARY KEY, bal int NOT NULL)`,
		`INSERT INTO acct VALUES (1, 100), (2, 100), (3, 100)`))
	return p
}

// both applies data as the next entry on both engines and returns the
// leader's response.
func (p *pipeTest) both(data []byte) any {
	p.t.Helper()
	c := []Command{{Index: p.next, Term: 1, Data: data}}
	p.next++
	p.follower.ApplyBatch(c)
	return p.leader.ApplyBatch(c)[0]
}

// member runs stmts as one member on the leader and seals it.
func (p *pipeTest) member(autocommit bool, stmts ...string) (*WriteTx, *Member) {
	p.t.Helper()
	ctx := context.Background()
	wt, err := p.leader.BeginWrite(ctx, ExecContext{TimeMicros: int64(p.next), Seed: p.next, TimeZone: "UTC"}, autocommit)
	if err != nil {
		p.t.Fatalf("BeginWrite: %v", err)
	}
	for _, q := range stmts {
		if _, err := wt.Exec(ctx, q, nil, false); err != nil {
			p.t.Fatalf("%s: %v", q, err)
		}
	}
	s, err := wt.Seal(16 << 20)
	if err != nil || s == nil || s.Member == nil {
		p.t.Fatalf("Seal = %+v, %v; want a member", s, err)
	}
	return wt, s.Member
}

func (p *pipeTest) balances(e *Engine) []any {
	p.t.Helper()
	rows, err := e.Query(context.Background(), `SELECT bal FROM acct ORDER BY id`, nil)
	if err != nil {
		p.t.Fatal(err)
	}
	defer rows.Close()
	var out []any
	for rows.Next() {
		v, err := rows.Values()
		if err != nil {
			p.t.Fatal(err)
		}
		out = append(out, v[0])
	}
	return out
}

func (p *pipeTest) converged() {
	p.t.Helper()
	ctx := context.Background()
	a, ai, err := p.leader.Checksum(ctx)
	if err != nil {
		p.t.Fatal(err)
	}
	b, bi, err := p.follower.Checksum(ctx)
	if err != nil {
		p.t.Fatal(err)
	}
	if a != b || ai != bi {
		p.t.Fatalf("leader %s at %d, follower %s at %d", a, ai, b, bi)
	}
	if p.leader.chain != p.follower.chain {
		p.t.Fatalf("chains differ: leader %+v, follower %+v", p.leader.chain, p.follower.chain)
	}
}

func await(t *testing.T, e *Engine, m *Member, resp any) *ApplyResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ar, err := e.Await(ctx, m, resp, nil)
	if err != nil {
		t.Fatalf("Await: %v", err)
	}
	return ar
}

// TestPipelineMembersCommitTogether: two transactions run one on top of
// the other before either is committed; the leader matches their entries
// instead of running them again, commits the epoch once both are back, and
// ends with the state, applied index and chain a follower reaches by
// running the entries.
func TestPipelineMembersCommitTogether(t *testing.T) {
	p := newPipeTest(t)
	_, m1 := p.member(false, `UPDATE acct SET bal = bal - 10 WHERE id = 1`, `UPDATE acct SET bal = bal + 10 WHERE id = 2`)
	_, m2 := p.member(true, `UPDATE acct SET bal = bal * 2 WHERE id = 2`) // reads member 1's write
	if got := p.balances(p.leader); got[1] != int64(100) {
		t.Fatalf("a reader saw uncommitted state: %v", got)
	}
	r1 := p.both(m1.Data())
	if _, ok := r1.(specMatched); !ok {
		t.Fatalf("member 1's response %T, want specMatched", r1)
	}
	if p.leader.AppliedIndex() != 1 {
		t.Fatalf("applied %d before the epoch committed, want 1", p.leader.AppliedIndex())
	}
	r2 := p.both(m2.Data())
	await(t, p.leader, m1, r1)
	ar := await(t, p.leader, m2, r2)
	if len(ar.Results) != 1 || ar.Results[0].RowsAffected != 1 {
		t.Fatalf("autocommit member's answer %+v", ar)
	}
	if got := p.balances(p.leader); got[0] != int64(90) || got[1] != int64(220) {
		t.Fatalf("balances %v, want [90 220 100]", got)
	}
	if p.leader.AppliedIndex() != 3 || p.leader.chain.seq != 2 {
		t.Fatalf("applied %d chain %+v, want 3 and member 2", p.leader.AppliedIndex(), p.leader.chain)
	}
	p.converged()
}

// TestPipelineBreak: an entry that is not the epoch's next member (here: a
// foreign write overtook member 2) breaks the epoch. Member 1, already
// matched, is applied again the ordinary way; member 2, a transaction that
// ran on a state that no longer comes, fails with 40001 on every node; an
// autocommit member after it applies the ordinary way.
func TestPipelineBreak(t *testing.T) {
	p := newPipeTest(t)
	_, m1 := p.member(false, `UPDATE acct SET bal = bal - 10 WHERE id = 1`)
	_, m2 := p.member(false, `UPDATE acct SET bal = bal - 10 WHERE id = 3`)
	_, m3 := p.member(true, `UPDATE acct SET bal = bal + 1 WHERE id = 3`)
	r1 := p.both(m1.Data())
	p.both(entry(t, 9, 9, `UPDATE acct SET bal = 0 WHERE id = 2`)) // not member 2
	if ar := await(t, p.leader, m1, r1); ar.Err != nil {
		t.Fatalf("member 1 after the break: %v", ar.Err)
	}
	r2, ok := p.both(m2.Data()).(*ApplyResult)
	if !ok || pgerror.Code(r2.Err) != pgerror.SerializationFailure {
		t.Fatalf("member 2 after the break: %+v, want 40001", r2)
	}
	ar, err := p.leader.Await(context.Background(), m2, r2, nil)
	if err != nil || ar != r2 {
		t.Fatalf("Await of an ordinary result: %+v %v", ar, err)
	}
	r3, ok := p.both(m3.Data()).(*ApplyResult)
	if !ok || r3.Err != nil || len(r3.Results) != 1 || r3.Results[0].Err != nil {
		t.Fatalf("autocommit member after the break: %+v", r3)
	}
	if got := p.balances(p.leader); got[0] != int64(90) || got[1] != int64(0) || got[2] != int64(101) {
		t.Fatalf("balances %v, want [90 0 101]", got)
	}
	p.converged()
}

// TestPipelineFailedProposal: a member whose proposal failed breaks the
// epoch; a member matched before it is applied from redo, and the next
// writer starts a new epoch.
func TestPipelineFailedProposal(t *testing.T) {
	p := newPipeTest(t)
	_, m1 := p.member(false, `UPDATE acct SET bal = 1 WHERE id = 1`)
	_, m2 := p.member(false, `UPDATE acct SET bal = 2 WHERE id = 1`)
	r1 := p.both(m1.Data())
	if _, err := p.leader.Await(context.Background(), m2, nil, context.DeadlineExceeded); err == nil {
		t.Fatal("Await of a failed proposal succeeded")
	}
	if ar := await(t, p.leader, m1, r1); ar.Err != nil {
		t.Fatalf("member 1: %v", ar.Err)
	}
	if got := p.balances(p.leader); got[0] != int64(1) {
		t.Fatalf("balance %v, want 1 (member 1 applied, member 2 not)", got[0])
	}
	_, m3 := p.member(true, `UPDATE acct SET bal = bal + 5 WHERE id = 1`)
	await(t, p.leader, m3, p.both(m3.Data()))
	if got := p.balances(p.leader); got[0] != int64(6) {
		t.Fatalf("balance %v, want 6", got[0])
	}
	p.converged()
}

// TestPipelineRebase: a member whose client thinks between statements
// does not hold back the members before it: once they are matched, the
// epoch commits around it and its work is replayed on the committed state;
// it then commits in the next epoch.
func TestPipelineRebase(t *testing.T) {
	p := newPipeTest(t)
	ctx := context.Background()
	_, m1 := p.member(true, `UPDATE acct SET bal = bal + 1 WHERE id = 1`)
	wt, err := p.leader.BeginWrite(ctx, ExecContext{TimeMicros: 50, Seed: 5, TimeZone: "UTC"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wt.Exec(ctx, `UPDATE acct SET bal = bal + 100 WHERE id = 1`, nil, false); err != nil {
		t.Fatal(err)
	}
	r1 := p.both(m1.Data())
	await(t, p.leader, m1, r1) // commits by rebasing the running member
	if got := p.balances(p.leader); got[0] != int64(101) {
		t.Fatalf("committed balance %v, want 101 (member 1 only)", got[0])
	}
	r, err := wt.Query(ctx, `SELECT bal FROM acct WHERE id = 1`, nil)
	if err != nil || r.Rows[0][0] != int64(201) {
		t.Fatalf("the running member after the rebase sees %v, %v; want 201", r, err)
	}
	if _, err := wt.Exec(ctx, `UPDATE acct SET bal = bal + 1000 WHERE id = 2`, nil, false); err != nil {
		t.Fatal(err)
	}
	s, err := wt.Seal(16 << 20)
	if err != nil || s.Member == nil {
		t.Fatalf("Seal after the rebase: %+v %v", s, err)
	}
	await(t, p.leader, s.Member, p.both(s.Member.Data()))
	if got := p.balances(p.leader); got[0] != int64(201) || got[1] != int64(1100) {
		t.Fatalf("balances %v, want [201 1100 100]", got)
	}
	p.converged()
}

// TestPipelineDrainAndRestart: a write that does not pipeline waits for the
// epoch; the chain survives a restart.
func TestPipelineDrainAndRestart(t *testing.T) {
	p := newPipeTest(t)
	_, m1 := p.member(true, `UPDATE acct SET bal = 7 WHERE id = 3`)
	done := make(chan error, 1)
	go func() {
		_, err := p.leader.Drain(context.Background())
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("Drain returned before the epoch committed: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	r1 := p.both(m1.Data())
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	await(t, p.leader, m1, r1)
	want := p.leader.chain
	path := p.leader.cfg.Path
	p.leader.Close()
	e, err := Open(Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if e.chain != want || e.chain.seq != 1 {
		t.Fatalf("chain after restart %+v, want %+v", e.chain, want)
	}
}
