package sqlengine

import (
	"reflect"
	"testing"
)

func TestPayloadRoundTrip(t *testing.T) {
	p := &Payload{
		Ctx: ExecContext{TimeMicros: 1700000000123456, Seed: 42, User: "alice", TimeZone: "Europe/Paris"},
		Ops: []Op{
			{Kind: OpExec, SQL: "INSERT INTO t VALUES (?1, ?2, ?3, ?4, ?5)", Args: []any{nil, int64(-7), 1.5, "x", []byte{0, 255}}, Rows: true},
			{Kind: OpSavepoint, SQL: "s1"},
			{Kind: OpRollbackTo, SQL: "s1"},
			{Kind: OpRelease, SQL: "s1"},
		},
		Tx: true, DataIndex: 99, Digest: 12345, StepBudget: MaxStatementSteps,
		SpecEpoch: 1<<63 + 5, SpecSeq: 3,
	}
	b, err := EncodePayload(p)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodePayload(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, p) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, p)
	}
	for i := range b { // every truncation fails cleanly
		if _, err := DecodePayload(b[:i]); err == nil {
			t.Fatalf("truncated payload (%d of %d bytes) decoded", i, len(b))
		}
	}
}

// TestPayloadVersion1Decodes: entries written before StepBudget existed
// still replay, with no budget, as they were first applied.
func TestPayloadVersion1Decodes(t *testing.T) {
	// Version 1 of {Ctx: {TimeMicros: 5, Seed: 7, User: "u"}, Ops: [INSERT … ?1 (3)]}.
	v1 := []byte{1, 0, 10, 7, 1, 'u', 0, 0, 0, 1, byte(OpExec), 0, 8, 'I', 'N', 'S', 'E', 'R', 'T', ' ', 'x', 1, tagInt, 6}
	p, err := DecodePayload(v1)
	if err != nil {
		t.Fatal(err)
	}
	want := &Payload{Ctx: ExecContext{TimeMicros: 5, Seed: 7, User: "u"},
		Ops: []Op{{Kind: OpExec, SQL: "INSERT x", Args: []any{int64(3)}}}}
	if !reflect.DeepEqual(p, want) {
		t.Fatalf("version 1 payload:\n got %+v\nwant %+v", p, want)
	}
	if _, err := DecodePayload(append([]byte{3}, v1[1:]...)); err == nil {
		t.Fatal("a payload of an unknown future version decoded")
	}
}

// FuzzDecodePayload: a corrupt entry payload is an error, never a panic or
// a huge allocation.
func FuzzDecodePayload(f *testing.F) {
	b, _ := EncodePayload(&Payload{Ops: []Op{{Kind: OpExec, SQL: "SELECT 1", Args: []any{int64(1), "a"}}}})
	f.Add(b)
	f.Add([]byte{1, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := DecodePayload(data)
		if err == nil {
			if _, err := EncodePayload(p); err != nil {
				t.Fatalf("decoded payload does not encode: %v", err)
			}
		}
	})
}
