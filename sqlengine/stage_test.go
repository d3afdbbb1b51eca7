package sqlengine

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// bigTx runs a transaction larger than PartSize speculatively on e and
// returns its entries as the leader proposes them (parts, then the final
// entry), all of term term from index next on.
func bigTx(t *testing.T, e *Engine, next, term uint64, rows int) []Command {
	t.Helper()
	ctx := context.Background()
	wt, err := e.BeginWrite(ctx, ExecContext{TimeMicros: 1, Seed: 1, TimeZone: "UTC"}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer wt.Rollback()
	pad := strings.Repeat("x", 256<<10)
	for i := 0; i < rows; i++ {
		if _, err := wt.Exec(ctx, "INSERT INTO big (a, b) VALUES (?1, ?2)", []any{int64(i), pad}, false); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := wt.Exec(ctx, "UPDATE big SET a = a + 1000", nil, false); err != nil {
		t.Fatal(err)
	}
	p, err := wt.Finish()
	if err != nil {
		t.Fatal(err)
	}
	parts := wt.Parts()
	if parts == nil || p.Stage != StageFinal || p.N != uint64(parts.Len()) || p.N < 2 {
		t.Fatalf("parts %v, final entry stage %d with %d parts", parts != nil, p.Stage, p.N)
	}
	var cmds []Command
	for {
		data, err := parts.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(data) > 16<<20 {
			t.Fatalf("a part of %d bytes", len(data))
		}
		cmds = append(cmds, Command{Index: next, Term: term, Data: data})
		next++
	}
	data, err := EncodePayload(p)
	if err != nil {
		t.Fatal(err)
	}
	return append(cmds, Command{Index: next, Term: term, Data: data})
}

func stagedParts(t *testing.T, e *Engine) int64 {
	t.Helper()
	n, err := e.StagedParts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func applyOK(t *testing.T, e *Engine, cmds ...Command) []any {
	t.Helper()
	out := e.ApplyBatch(cmds)
	for i, r := range out {
		ar, ok := r.(*ApplyResult)
		if !ok || ar == nil {
			t.Fatalf("entry %d: no result (fault %v)", cmds[i].Index, e.Fault())
		}
		if ar.Err != nil {
			t.Fatalf("entry %d: %v", cmds[i].Index, ar.Err)
		}
	}
	return out
}

func TestStagedTransaction(t *testing.T) {
	leader, follower := newTestEngine(t), newTestEngine(t)
	schema := Command{Index: 1, Term: 1, Data: entry(t, 1, 1, "CREATE TABLE big (a INTEGER PRIMARY KEY, b TEXT)")}
	applyOK(t, leader, schema)
	applyOK(t, follower, schema)
	cmds := bigTx(t, leader, 2, 1, 40) // 10 MiB: 40 parts, one per statement
	// One entry at a time on the leader, in one batch on the follower.
	for _, c := range cmds[:len(cmds)-1] {
		applyOK(t, leader, c)
	}
	if n := stagedParts(t, leader); n != int64(len(cmds)-1) {
		t.Fatalf("%d parts staged, want %d", n, len(cmds)-1)
	}
	applyOK(t, leader, cmds[len(cmds)-1])
	applyOK(t, follower, cmds...)
	for _, e := range []*Engine{leader, follower} {
		if n := stagedParts(t, e); n != 0 {
			t.Errorf("%d parts left after the final entry", n)
		}
		if got := dump(t, e); strings.Count(got, "\n") != 41 || !strings.Contains(got, "[]interface {}{1039, 1039, ") {
			t.Errorf("rows after the final entry: %d lines", strings.Count(got, "\n"))
		}
	}
	if dump(t, leader) != dump(t, follower) {
		t.Error("leader and follower differ")
	}
}

// TestStagedOrphans: parts whose final entry never comes (their leader
// died) are dropped by the first entry of a later term; a final entry that
// finds its parts gone fails with 40001 and changes nothing.
func TestStagedOrphans(t *testing.T) {
	e := newTestEngine(t)
	applyOK(t, e, Command{Index: 1, Term: 1, Data: entry(t, 1, 1, "CREATE TABLE big (a INTEGER PRIMARY KEY, b TEXT)")})
	cmds := bigTx(t, e, 2, 1, 40)
	applyOK(t, e, cmds[:len(cmds)-1]...)
	if stagedParts(t, e) == 0 {
		t.Fatal("nothing staged")
	}
	final := cmds[len(cmds)-1]
	final.Term = 2 // as if a later leader's entry came first
	out := e.ApplyBatch([]Command{final})
	ar := out[0].(*ApplyResult)
	if pgerror.Code(ar.Err) != pgerror.SerializationFailure {
		t.Fatalf("final entry without its parts: %v", ar.Err)
	}
	if n := stagedParts(t, e); n != 0 {
		t.Errorf("%d parts left", n)
	}
	if got := dump(t, e); strings.Contains(got, "xxx") {
		t.Error("rows of a transaction that did not commit")
	}

	// A later term's ordinary entry drops a dead leader's parts.
	cmds = bigTx(t, e, final.Index+1, 2, 40)
	applyOK(t, e, cmds[:len(cmds)-1]...)
	next := cmds[len(cmds)-1].Index
	applyOK(t, e, Command{Index: next, Term: 3, Data: entry(t, 2, 2, "INSERT INTO big (a, b) VALUES (-1, 'after')")})
	if n := stagedParts(t, e); n != 0 {
		t.Errorf("%d parts left after a new term's entry", n)
	}
	// A discard entry drops them too.
	cmds = bigTx(t, e, next+1, 3, 40)
	applyOK(t, e, cmds[:len(cmds)-1]...)
	disc, err := EncodePayload(DiscardPayload(ExecContext{}))
	if err != nil {
		t.Fatal(err)
	}
	applyOK(t, e, Command{Index: cmds[len(cmds)-1].Index, Term: 3, Data: disc})
	if n := stagedParts(t, e); n != 0 {
		t.Errorf("%d parts left after a discard entry", n)
	}
}

// TestStagedAcrossSnapshot: a node restored from a snapshot taken between a
// transaction's parts and its final entry applies the final entry as the
// others do.
func TestStagedAcrossSnapshot(t *testing.T) {
	leader, other := newTestEngine(t), newTestEngine(t)
	schema := Command{Index: 1, Term: 1, Data: entry(t, 1, 1, "CREATE TABLE big (a INTEGER PRIMARY KEY, b TEXT)")}
	applyOK(t, leader, schema)
	cmds := bigTx(t, leader, 2, 1, 40)
	applyOK(t, leader, cmds[:len(cmds)-1]...)
	snap, err := leader.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	err = snap.Persist(&buf)
	snap.Release()
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Restore(&buf); err != nil {
		t.Fatal(err)
	}
	if n := stagedParts(t, other); n != int64(len(cmds)-1) {
		t.Fatalf("%d parts in the restored node, want %d", n, len(cmds)-1)
	}
	final := cmds[len(cmds)-1]
	applyOK(t, leader, final)
	applyOK(t, other, final)
	if dump(t, leader) != dump(t, other) || stagedParts(t, other) != 0 {
		t.Error("the restored node differs after the final entry")
	}
}

func TestPayloadStageRoundTrip(t *testing.T) {
	for _, p := range []*Payload{
		{Stage: StagePart, TxID: 42, N: 3, Ops: []Op{{Kind: OpExec, SQL: "INSERT INTO t VALUES (?1)", Args: []any{int64(1)}}}},
		{Tx: true, Stage: StageFinal, TxID: 42, N: 4, Digest: 9, DataIndex: 7},
		{Stage: StageDiscard},
	} {
		b, err := EncodePayload(p)
		if err != nil {
			t.Fatal(err)
		}
		q, err := DecodePayload(b)
		if err != nil {
			t.Fatal(err)
		}
		if q.Stage != p.Stage || q.TxID != p.TxID || q.N != p.N || q.Tx != p.Tx {
			t.Errorf("round trip: %+v, want %+v", q, p)
		}
	}
	// A final entry must be a transaction.
	b, _ := EncodePayload(&Payload{Stage: StageFinal, N: 1})
	if _, err := DecodePayload(b); err == nil {
		t.Error("a final entry that is not a transaction decoded")
	}
}

// TestSeedDropsStagedParts: a backup taken between a transaction's parts
// and its final entry seeds a new cluster without those parts.
func TestSeedDropsStagedParts(t *testing.T) {
	e := newTestEngine(t)
	applyOK(t, e, Command{Index: 1, Term: 1, Data: entry(t, 1, 1, "CREATE TABLE big (a INTEGER PRIMARY KEY, b TEXT)")})
	cmds := bigTx(t, e, 2, 1, 40)
	applyOK(t, e, cmds[:len(cmds)-1]...)
	snap, err := e.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "db.sqlite")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	err = snap.Persist(f)
	snap.Release()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if err := SeedDatabase(path); err != nil {
		t.Fatal(err)
	}
	seeded, err := Open(Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer seeded.Close()
	if n := stagedParts(t, seeded); n != 0 {
		t.Errorf("%d parts in a seeded database", n)
	}
}
