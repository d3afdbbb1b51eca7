package replica

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

// frameMsg has the shapes node-to-node messages use: scalars, pointers to
// structs, slices, maps, and Values and Rows.
type frameMsg struct {
	Op     string
	Seq    uint64
	Args   Values
	Rows   Rows
	Names  []string
	OIDs   []uint32
	Meta   map[string]string
	Err    *frameErr
	Cols   []frameCol
	Status *MemberStatus
}

type frameErr struct {
	Code, Message string
	Position      int32
}

type frameCol struct {
	Name    string
	TypeOID uint32
	AttNum  int16
	TypeMod int32
}

// frameRoundTrip writes v as a frame and reads it back into out.
func frameRoundTrip(t *testing.T, v, out any) {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteFrame(&buf, v, 1<<30); err != nil {
		t.Fatalf("WriteFrame: %v", err)
	}
	if err := ReadFrame(&buf, out, 1<<30); err != nil {
		t.Fatalf("ReadFrame: %v", err)
	}
	if buf.Len() != 0 {
		t.Fatalf("%d bytes left after the frame", buf.Len())
	}
}

func TestFrameRoundTrip(t *testing.T) {
	at := time.Date(2024, 5, 6, 7, 8, 9, 10, time.UTC)
	tests := []struct {
		name    string
		in, out any
	}{
		{"membership request", &rpcRequest{Op: opJoin, Join: &JoinRequest{NodeID: "n2", RaftAddr: "127.0.0.1:7001", Voter: true,
			Meta: map[string]string{"sqlite_version": "3.46.1"}, FreshData: true}}, &rpcRequest{}},
		{"membership answer", &rpcResponse{Code: codeOK, Status: &MemberStatus{NodeID: "n1", State: "Leader", Term: 3,
			AppliedIndex: 7, Meta: map[string]string{"a": "1", "b": "2"}}}, &rpcResponse{}},
		{"read index answer", &readIndexResponse{Code: codeNotLeader, LeaderAddr: "10.0.0.1:7433"}, &readIndexResponse{}},
		{"every shape", &frameMsg{Op: "exec", Seq: math.MaxUint64, Args: Values{int64(7), "x", []byte{0, 1}, 1.5, nil, true, at},
			Rows: Rows{{int64(1), nil, at}, {"é", []byte("b"), 2.25}, {}}, Names: []string{"a", ""}, OIDs: []uint32{20, math.MaxUint32},
			Meta: map[string]string{"timezone": "Europe/Paris"}, Err: &frameErr{Code: "23505", Message: "duplicate key", Position: -1},
			Cols: []frameCol{{Name: "id", TypeOID: 20, AttNum: -7, TypeMod: -1}}}, &frameMsg{}},
		{"empty", &frameMsg{}, &frameMsg{}},
		{"empty lists stay empty", &frameMsg{Args: Values{}, Rows: Rows{}}, &frameMsg{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			frameRoundTrip(t, tc.in, tc.out)
			if !reflect.DeepEqual(tc.in, tc.out) {
				t.Fatalf("round trip:\n got %#v\nwant %#v", tc.out, tc.in)
			}
		})
	}
}

// TestValuesExact: every value comes back with its Go type and exact value.
func TestValuesExact(t *testing.T) {
	paris := time.FixedZone("CEST", 2*3600)
	odd := time.FixedZone("", 5*3600+30*60+7) // seconds in the offset need MarshalBinary's second form
	in := Values{
		nil, true, false,
		int64(0), int64(127), int64(128), int64(-32), int64(-33), int64(math.MinInt64), int64(math.MaxInt64),
		1.5, math.Copysign(0, -1), math.NaN(), math.Inf(1), math.Inf(-1), math.SmallestNonzeroFloat64,
		"", "é", "\xff\xfe not UTF-8", strings.Repeat("s", 31), strings.Repeat("s", 32), strings.Repeat("s", 256),
		strings.Repeat("s", 1<<16),
		[]byte{}, []byte{0, 1}, bytes.Repeat([]byte{9}, 300), bytes.Repeat([]byte{9}, 1<<16),
		time.Time{}, time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC), time.Date(2024, 5, 6, 7, 8, 9, 0, paris),
		time.Date(1, 1, 1, 0, 0, 0, 0, odd), time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.Local),
	}
	var out struct{ V Values }
	frameRoundTrip(t, &struct{ V Values }{in}, &out)
	if len(out.V) != len(in) {
		t.Fatalf("%d values came back, want %d", len(out.V), len(in))
	}
	for i, want := range in {
		got := out.V[i]
		if reflect.TypeOf(got) != reflect.TypeOf(want) {
			t.Errorf("value %d: type %T, want %T", i, got, want)
			continue
		}
		switch w := want.(type) {
		case float64:
			if math.Float64bits(got.(float64)) != math.Float64bits(w) {
				t.Errorf("value %d: %v, want %v (bits differ)", i, got, w)
			}
		case time.Time:
			g := got.(time.Time)
			_, goff := g.Zone()
			_, woff := w.Zone()
			if !g.Equal(w) || goff != woff {
				t.Errorf("value %d: %v, want %v", i, g, w)
			}
		case []byte:
			if g := got.([]byte); g == nil || !bytes.Equal(g, w) {
				t.Errorf("value %d: %q, want %q", i, g, w)
			}
		default:
			if got != want {
				t.Errorf("value %d: %#v, want %#v", i, got, want)
			}
		}
	}
}

// TestLargeValues: values of the largest size a statement may build (64
// MiB) round-trip, in one frame.
func TestLargeValues(t *testing.T) {
	if testing.Short() {
		t.Skip("moves a few hundred MiB")
	}
	blob := bytes.Repeat([]byte{0xab}, 64<<20)
	text := strings.Repeat("t", 64<<20)
	var out frameMsg
	start := time.Now()
	frameRoundTrip(t, &frameMsg{Args: Values{blob}, Rows: Rows{{text, int64(1)}}}, &out)
	t.Logf("128 MiB of values round-tripped in %v", time.Since(start))
	if len(out.Args) != 1 || !bytes.Equal(out.Args[0].([]byte), blob) {
		t.Fatal("the 64 MiB []byte did not come back")
	}
	if len(out.Rows) != 1 || out.Rows[0][0] != text || out.Rows[0][1] != int64(1) {
		t.Fatal("the 64 MiB string did not come back")
	}
}

func TestValuesRefuseOtherTypes(t *testing.T) {
	for _, v := range []any{1, int32(1), uint64(1), float32(1), struct{}{}, []any{}, map[string]any{}} {
		err := WriteFrame(io.Discard, &frameMsg{Args: Values{v}}, 1<<20)
		if err == nil || !strings.Contains(err.Error(), "cannot be carried") {
			t.Errorf("WriteFrame of a %T = %v, want a refusal", v, err)
		}
	}
}

func TestWriteFrameLimit(t *testing.T) {
	var buf bytes.Buffer
	err := WriteFrame(&buf, &frameMsg{Op: strings.Repeat("x", 100)}, 64)
	if !errors.Is(err, ErrFrameTooLarge) || buf.Len() != 0 {
		t.Fatalf("WriteFrame over the limit = %v, %d bytes written; want ErrFrameTooLarge and nothing", err, buf.Len())
	}
}

// frameBytes builds a frame around body, with a length that says so.
func frameBytes(format byte, body ...byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(1+len(body)))
	return append(append(b, format), body...)
}

// TestReadFrameRefuses: malformed or oversized frames are errors, and never
// allocate what a length inside them claims.
func TestReadFrameRefuses(t *testing.T) {
	deep := frameBytes(frameFormat, append([]byte{0x81, 0xa1, 'X'}, bytes.Repeat([]byte{0x91}, 10000)...)...)
	tests := []struct {
		name    string
		raw     []byte
		wantErr string
	}{
		{"length above the limit", binary.BigEndian.AppendUint32(nil, 1<<20+1), "exceeds the limit"},
		{"4 GiB length", []byte{0xff, 0xff, 0xff, 0xff}, "exceeds the limit"},
		{"truncated length", []byte{0, 0}, "unexpected EOF"},
		{"truncated body", append(binary.BigEndian.AppendUint32(nil, 10), frameFormat, 0x80), "read frame"},
		{"empty frame", binary.BigEndian.AppendUint32(nil, 0), "empty frame"},
		{"format 1 (JSON)", append(binary.BigEndian.AppendUint32(nil, 2), '{', '}'), "format 123"},
		{"another format", frameBytes(frameFormat+1, 0x80), "this build speaks 2"},
		{"not MessagePack", frameBytes(frameFormat, 0xc1), "decode frame"},
		{"bytes after the value", frameBytes(frameFormat, 0x80, 0x80), "after the value"},
		{"wrong type for a field", frameBytes(frameFormat, 0x81, 0xa3, 'S', 'e', 'q', 0xa1, 'x'), "decode frame"},
		{"integer overflows its field", frameBytes(frameFormat, 0x81, 0xa4, 'O', 'I', 'D', 's', 0x91, 0xcf, 1, 0, 0, 0, 0, 0, 0, 0),
			"decode frame"},
		{"map claiming 4 billion entries", frameBytes(frameFormat, 0xdf, 0xff, 0xff, 0xff, 0xff), "decode frame"},
		{"nesting too deep", deep, "decode frame"},
		{"values claiming 4 billion", frameBytes(frameFormat, 0x81, 0xa4, 'A', 'r', 'g', 's', 0xc4, 5, 0xdd, 0xff, 0xff, 0xff, 0xff),
			"array of 4294967295 values in 0 bytes"},
		{"value of an unknown format", frameBytes(frameFormat, 0x81, 0xa4, 'A', 'r', 'g', 's', 0xc4, 2, 0x91, 0xc1),
			"format 0xc1 cannot be a value"},
		{"value cut short", frameBytes(frameFormat, 0x81, 0xa4, 'A', 'r', 'g', 's', 0xc4, 3, 0x91, 0xc5, 0xff),
			"truncated value"},
		{"unknown extension", frameBytes(frameFormat, 0x81, 0xa4, 'A', 'r', 'g', 's', 0xc4, 4, 0x91, 0xc7, 0, 7),
			"extension type 7"},
		{"bad time", frameBytes(frameFormat, 0x81, 0xa4, 'A', 'r', 'g', 's', 0xc4, 5, 0x91, 0xc7, 1, 1, 9),
			"decode time"},
		{"unsigned beyond int64", frameBytes(frameFormat, 0x81, 0xa4, 'A', 'r', 'g', 's', 0xc4, 10, 0x91, 0xcf, 0x80, 0, 0, 0, 0, 0, 0, 0),
			"overflows int64"},
		{"rows not an array", frameBytes(frameFormat, 0x81, 0xa4, 'R', 'o', 'w', 's', 0xc4, 1, 0xc0), "where an array was expected"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var v frameMsg
			err := ReadFrame(bytes.NewReader(tc.raw), &v, 1<<20)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("ReadFrame = %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}

// FuzzReadFrame: no input makes ReadFrame panic, hang or allocate beyond
// its limit, and whatever it accepts encodes again to a frame that decodes
// to the same encoding.
func FuzzReadFrame(f *testing.F) {
	at := time.Date(2024, 5, 6, 7, 8, 9, 10, time.FixedZone("", 3600))
	for _, v := range []any{
		&frameMsg{Op: "exec", Seq: 3, Args: Values{int64(-1), "x", []byte{1}, 2.5, nil, false, at}, Rows: Rows{{int64(1)}, {}},
			Names: []string{"sp"}, OIDs: []uint32{25}, Meta: map[string]string{"a": "b"}, Err: &frameErr{Code: "XX000"},
			Cols: []frameCol{{Name: "c", TypeOID: 23}}, Status: &MemberStatus{NodeID: "n1"}},
		&frameMsg{},
		&rpcRequest{Op: opStatus},
	} {
		var buf bytes.Buffer
		if err := WriteFrame(&buf, v, 1<<20); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
	}
	f.Add(frameBytes(frameFormat, 0x81, 0xa4, 'A', 'r', 'g', 's', 0xc4, 5, 0xdd, 0xff, 0xff, 0xff, 0xff))
	f.Fuzz(func(t *testing.T, in []byte) {
		var m frameMsg
		if err := ReadFrame(bytes.NewReader(in), &m, 1<<16); err != nil {
			return
		}
		var b1, b2 bytes.Buffer
		if err := WriteFrame(&b1, &m, 1<<20); err != nil {
			t.Fatalf("a decoded frame does not encode: %v", err)
		}
		var again frameMsg
		if err := ReadFrame(bytes.NewReader(b1.Bytes()), &again, 1<<20); err != nil {
			t.Fatalf("a re-encoded frame does not decode: %v", err)
		}
		if err := WriteFrame(&b2, &again, 1<<20); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b1.Bytes(), b2.Bytes()) {
			t.Fatalf("encoding is not stable:\n%x\n%x", b1.Bytes(), b2.Bytes())
		}
	})
}
