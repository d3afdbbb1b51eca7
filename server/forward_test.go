package server

import (
	"bytes"
	"net"
	"reflect"
	"testing"
	"time"

	"github.com/pgraft/pgraft/pgwire"
	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// TestForwardFrameRoundTrip checks that requests and responses keep every
// storage value's type (an int64 must not come back as a float64, nor
// []byte as string, nor a time lose its zone offset) and the error's
// fields.
func TestForwardFrameRoundTrip(t *testing.T) {
	at := time.Date(2024, 5, 6, 7, 8, 9, 10, time.UTC)
	atParis := time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.FixedZone("", 2*3600))
	tests := []struct {
		name string
		in   any
		out  any
	}{
		{"request", &fwdRequest{Op: fwdExec, SQL: "INSERT INTO t VALUES ($1, $2, $3, $4, $5)",
			ParamOIDs: []uint32{20, 25, 17, 701, 0}, Args: []any{int64(7), "x", []byte{0, 1}, 1.5, nil},
			Settings: fwdSettings{Values: map[string]string{"timezone": "Europe/Paris"}}}, &fwdRequest{}},
		{"rows", &fwdResponse{Tag: "INSERT 0 2", Rows: [][]any{{int64(1), nil, at, true}, {"é", []byte("b"), 2.25, atParis}},
			CommitIndex: 42}, &fwdResponse{}},
		{"describe", &fwdResponse{Cols: []pgwire.Column{{Name: "id", TableOID: 16384, AttNum: 1, TypeOID: 20, TypeSize: 8, TypeMod: -1}},
			ParamOIDs: []uint32{20}}, &fwdResponse{}},
		{"cancel", &fwdRequest{Op: fwdCancel, Seq: 9, Cause: &pgerror.Error{Code: pgerror.QueryCanceled,
			Message: "canceling statement due to statement timeout"}}, &fwdRequest{}},
		{"error", &fwdResponse{Err: &pgerror.Error{Code: pgerror.UniqueViolation, Message: "duplicate key",
			Detail: "Key (id)=(1) already exists.", Constraint: "t_pkey", Table: "t"}}, &fwdResponse{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := writeForwardFrame(&buf, tc.in); err != nil {
				t.Fatal(err)
			}
			a, b := net.Pipe()
			defer a.Close()
			defer b.Close()
			go func() { a.Write(buf.Bytes()) }() //nolint:errcheck // the read below fails if it does
			if err := readForwardFrame(b, tc.out, func() error { return nil }); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(tc.in, tc.out) {
				t.Fatalf("round trip:\n got %#v\nwant %#v", tc.out, tc.in)
			}
		})
	}
}

// TestForwardFrameLimit checks that a frame announcing more than the limit
// is refused before its body is read.
func TestForwardFrameLimit(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	go func() { a.Write([]byte{0xff, 0xff, 0xff, 0xff}) }() //nolint:errcheck // the read below fails if it does
	var resp fwdResponse
	if err := readForwardFrame(b, &resp, nil); err == nil {
		t.Fatal("a 4 GiB frame was accepted")
	}
}

func TestTagCount(t *testing.T) {
	for tag, want := range map[string]int64{"INSERT 0 3": 3, "UPDATE 12": 12, "DELETE 0": 0,
		"CREATE TABLE": 0, "TRUNCATE TABLE": 0, "": 0} {
		if got := tagCount(tag); got != want {
			t.Errorf("tagCount(%q) = %d, want %d", tag, got, want)
		}
	}
}
