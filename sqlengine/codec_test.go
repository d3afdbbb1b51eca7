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
		Tx: true, DataIndex: 99, Digest: 12345,
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
