package replica

import (
	"bytes"
	"testing"
)

func TestEntryCodec(t *testing.T) {
	tests := []struct {
		name        string
		in          []byte
		wantErr     bool
		wantType    entryType
		wantPayload []byte
	}{
		{"statements entry decodes", []byte{1, 1, 'a', '=', '1'}, false, entryStatements, []byte("a=1")},
		{"empty payload is allowed", []byte{1, 1}, false, entryStatements, []byte{}},
		{"empty input fails", nil, true, 0, nil},
		{"one byte fails", []byte{1}, true, 0, nil},
		{"unknown type fails", []byte{9, 1, 'x'}, true, 0, nil},
		{"reserved users type is not applied yet", []byte{2, 1, 'x'}, true, 0, nil},
		{"type zero fails", []byte{0, 1}, true, 0, nil},
		{"newer format version fails", []byte{1, 2, 'x'}, true, 0, nil},
		{"format version zero fails", []byte{1, 0, 'x'}, true, 0, nil},
		{"skippable unknown type decodes", []byte{0x85, 1, 'x'}, false, 0x85, []byte("x")},
		{"skippable type with any version decodes", []byte{0x81, 7}, false, 0x81, []byte{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := decodeEntry(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("decodeEntry(%v) error = %v, want error %v", tc.in, err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if e.typ != tc.wantType || !bytes.Equal(e.payload, tc.wantPayload) {
				t.Fatalf("decodeEntry(%v) = type %d payload %q; want type %d payload %q",
					tc.in, e.typ, e.payload, tc.wantType, tc.wantPayload)
			}
		})
	}
}

func TestEncodeEntryRoundTrip(t *testing.T) {
	for _, payload := range [][]byte{nil, {}, []byte("k=v"), bytes.Repeat([]byte{0xff}, 1000)} {
		b := encodeEntry(entryStatements, payload)
		if b[0] != byte(entryStatements) || b[1] != entryFormatVersion {
			t.Fatalf("encodeEntry header = %v, want [%d %d]", b[:2], entryStatements, entryFormatVersion)
		}
		e, err := decodeEntry(b)
		if err != nil {
			t.Fatalf("decodeEntry(encodeEntry(%q)): %v", payload, err)
		}
		if e.typ != entryStatements || !bytes.Equal(e.payload, payload) {
			t.Fatalf("round trip of %q gave type %d payload %q", payload, e.typ, e.payload)
		}
	}
}

func TestSkippableBit(t *testing.T) {
	if entryStatements.skippable() || entryUsers.skippable() {
		t.Fatal("data-changing entry types must not be skippable")
	}
	if !(entryStatements | skippableBit).skippable() {
		t.Fatal("type with skippableBit must be skippable")
	}
}

// FuzzDecodeEntry: decoding arbitrary bytes never panics, and whatever
// decodes as a non-skippable entry re-encodes to the same bytes.
func FuzzDecodeEntry(f *testing.F) {
	f.Add([]byte{1, 1, 'a', '=', '1'})
	f.Add([]byte{0x81, 3})
	f.Add([]byte{2, 1})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, in []byte) {
		e, err := decodeEntry(in)
		if err != nil || e.typ.skippable() {
			return
		}
		if got := encodeEntry(e.typ, e.payload); !bytes.Equal(got, in) {
			t.Fatalf("re-encoding %v gave %v", in, got)
		}
	})
}
