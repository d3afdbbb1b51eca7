package pgtest

import (
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgproto3"
)

const sample = `# a comment
send
Query {"String": "SELECT 1"}
Sync
----

# another comment
until keep_messages ignore=NoticeResponse
ReadyForQuery
----
{"Type":"ReadyForQuery","TxStatus":"I"}
`

func TestParse(t *testing.T) {
	s, err := Parse("sample", strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Blocks) != 2 {
		t.Fatalf("got %d blocks, want 2", len(s.Blocks))
	}
	send, until := s.Blocks[0], s.Blocks[1]
	if send.Directive != DirectiveSend || send.Line != 2 || len(send.Args) != 2 || len(send.Expected) != 0 {
		t.Errorf("send block = %+v", send)
	}
	if until.Directive != DirectiveUntil || until.Line != 8 || len(until.Args) != 1 || len(until.Expected) != 1 {
		t.Errorf("until block = %+v", until)
	}
	opts := until.untilOptions()
	if !opts.KeepMessages || !opts.Ignore["NoticeResponse"] || !opts.Ignore["ParameterStatus"] {
		t.Errorf("options = %+v", opts)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"unknown directive", "receive\nX\n----\n", `unknown directive "receive"`},
		{"missing separator", "send\nSync\n", `missing "----"`},
		{"no arguments", "send\n----\n", "no arguments"},
		{"blank line in arguments", "until\nReadyForQuery\n\n----\n", "blank line"},
		{"send with output", "send\nSync\n----\n{}\n", "send block has output"},
		{"unknown message type", "send\nQuerry {}\n----\n", `unknown message type "Querry"`},
		{"misspelt field", "send\nQuery {\"Strin\": \"x\"}\n----\n", "unknown field"},
		{"bad JSON", "send\nQuery {\"String\": \n----\n", "send Query"},
		{"bad hex", "send\nRaw {\"Hex\": \"zz\"}\n----\n", "send Raw"},
		{"until option", "until keep_msgs\nReadyForQuery\n----\n", `unknown option "keep_msgs"`},
		{"until argument is JSON", "until\nReadyForQuery {}\n----\n", "is not a message type"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("x", strings.NewReader(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse error = %v; want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestBytesReplacesOnlyOutputs(t *testing.T) {
	s, err := Parse("sample", strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	got := string(s.Bytes(map[int][]string{1: {`{"Type":"A"}`, `{"Type":"B"}`}}))
	want := strings.Replace(sample, `{"Type":"ReadyForQuery","TxStatus":"I"}`,
		"{\"Type\":\"A\"}\n{\"Type\":\"B\"}", 1)
	if got != want {
		t.Fatalf("Bytes =\n%s\nwant\n%s", got, want)
	}
	if got := string(s.Bytes(nil)); got != sample {
		t.Fatalf("Bytes(nil) =\n%s\nwant the script unchanged", got)
	}
}

func TestSendBytesConcatenatesSendBlocks(t *testing.T) {
	s, err := Parse("sample", strings.NewReader(sample+"\nsend\nRaw {\"Hex\": \"7a00000004\"}\n----\n"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.SendBytes()
	if err != nil {
		t.Fatal(err)
	}
	want := "Q\x00\x00\x00\x0dSELECT 1\x00" + "S\x00\x00\x00\x04" + "z\x00\x00\x00\x04"
	if string(got) != want {
		t.Fatalf("SendBytes = %q; want %q", got, want)
	}
}

func TestDecodeFrontend(t *testing.T) {
	tests := []struct {
		name string
		line string
		want pgproto3.FrontendMessage
	}{
		{"sync without body", "Sync", &pgproto3.Sync{}},
		{"execute with limit", `Execute {"Portal": "p", "MaxRows": 2}`, &pgproto3.Execute{Portal: "p", MaxRows: 2}},
		{"parse with OID 0", `Parse {"Name": "s", "Query": "SELECT $1", "ParameterOIDs": [0]}`,
			&pgproto3.Parse{Name: "s", Query: "SELECT $1", ParameterOIDs: []uint32{0}}},
		{"bind with null", `Bind {"Parameters": [null, {"text": "1"}, {"binary": "0001"}]}`,
			&pgproto3.Bind{Parameters: [][]byte{nil, []byte("1"), {0, 1}}}},
		{"describe portal", `Describe {"ObjectType": "P", "Name": "p"}`, &pgproto3.Describe{ObjectType: 'P', Name: "p"}},
		{"close statement", `Close {"ObjectType": "S"}`, &pgproto3.Close{ObjectType: 'S'}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeFrontend(tc.line)
			if err != nil {
				t.Fatal(err)
			}
			want, err := tc.want.Encode(nil)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Fatalf("decodeFrontend(%s) = %x; want %x", tc.line, got, want)
			}
		})
	}
	raw, err := decodeFrontend(`Raw {"Hex": "7a00000004"}`)
	if err != nil || string(raw) != "z\x00\x00\x00\x04" {
		t.Fatalf("Raw = %x, %v", raw, err)
	}
}

func TestFormatBackend(t *testing.T) {
	tests := []struct {
		name string
		msg  pgproto3.BackendMessage
		opts UntilOptions
		want string
	}{
		{"ready", &pgproto3.ReadyForQuery{TxStatus: 'E'}, UntilOptions{}, `{"Type":"ReadyForQuery","TxStatus":"E"}`},
		{"empty tag", &pgproto3.CommandComplete{}, UntilOptions{}, `{"Type":"CommandComplete","CommandTag":""}`},
		{"error code only", &pgproto3.ErrorResponse{Code: "42P01", Message: "relation"}, UntilOptions{},
			`{"Type":"ErrorResponse","Code":"42P01"}`},
		{"error with message", &pgproto3.ErrorResponse{Code: "42P01", Message: "relation"}, UntilOptions{KeepMessages: true},
			`{"Type":"ErrorResponse","Code":"42P01","Message":"relation"}`},
		{"notice", &pgproto3.NoticeResponse{Code: "00000"}, UntilOptions{}, `{"Type":"NoticeResponse","Code":"00000"}`},
		{"row description drops table OID", &pgproto3.RowDescription{Fields: []pgproto3.FieldDescription{
			{Name: []byte("a"), TableOID: 16384, TableAttributeNumber: 1, DataTypeOID: 23, DataTypeSize: 4, TypeModifier: -1}}}, UntilOptions{},
			`{"Type":"RowDescription","Fields":[{"Name":"a","DataTypeOID":23,"DataTypeSize":4,"TypeModifier":-1,"Format":0}]}`},
		{"attnums on request", &pgproto3.RowDescription{Fields: []pgproto3.FieldDescription{
			{Name: []byte("a"), TableOID: 16384, TableAttributeNumber: 0, DataTypeOID: 23, DataTypeSize: 4, TypeModifier: -1}}},
			UntilOptions{KeepAttnums: true},
			`{"Type":"RowDescription","Fields":[{"Name":"a","TableAttributeNumber":0,"DataTypeOID":23,"DataTypeSize":4,"TypeModifier":-1,"Format":0}]}`},
		{"no columns", &pgproto3.RowDescription{}, UntilOptions{}, `{"Type":"RowDescription","Fields":[]}`},
		{"values", &pgproto3.DataRow{Values: [][]byte{nil, []byte("x"), {0, 1}, {0xff}, []byte("")}}, UntilOptions{},
			`{"Type":"DataRow","Values":[null,{"text":"x"},{"binary":"0001"},{"binary":"ff"},{"text":""}]}`},
		{"no parameters", &pgproto3.ParameterDescription{}, UntilOptions{}, `{"Type":"ParameterDescription","ParameterOIDs":[]}`},
		{"parameters", &pgproto3.ParameterDescription{ParameterOIDs: []uint32{23, 25}}, UntilOptions{},
			`{"Type":"ParameterDescription","ParameterOIDs":[23,25]}`},
		{"parameter status", &pgproto3.ParameterStatus{Name: "a", Value: "b"}, UntilOptions{},
			`{"Type":"ParameterStatus","Name":"a","Value":"b"}`},
		{"suspended", &pgproto3.PortalSuspended{}, UntilOptions{}, `{"Type":"PortalSuspended"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := formatBackend(tc.msg, tc.opts)
			if err != nil || got != tc.want {
				t.Fatalf("formatBackend = %s, %v; want %s", got, err, tc.want)
			}
		})
	}
}

func TestSameLines(t *testing.T) {
	tests := []struct {
		name      string
		want, got []string
		same      bool
	}{
		{"spacing and key order", []string{`{ "TxStatus": "I", "Type": "ReadyForQuery" }`},
			[]string{`{"Type":"ReadyForQuery","TxStatus":"I"}`}, true},
		{"different value", []string{`{"Type":"ReadyForQuery","TxStatus":"T"}`},
			[]string{`{"Type":"ReadyForQuery","TxStatus":"I"}`}, false},
		{"missing line", []string{`{"Type":"A"}`, `{"Type":"B"}`}, []string{`{"Type":"A"}`}, false},
		{"extra field", []string{`{"Type":"ErrorResponse","Code":"1"}`},
			[]string{`{"Type":"ErrorResponse","Code":"1","Message":"m"}`}, false},
		{"invalid expectation", []string{`{"Type":`}, []string{`{"Type":"A"}`}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := sameLines(tc.want, tc.got); got != tc.same {
				t.Fatalf("sameLines = %v; want %v", got, tc.same)
			}
		})
	}
}

func TestMD5Password(t *testing.T) {
	// Computed independently: "md5" + md5(md5("secret" + "postgres") + salt).
	got := md5Password("postgres", "secret", [4]byte{1, 2, 3, 4})
	if want := "md5bb41a296aab6baccb36ff243a562abff"; got != want {
		t.Fatalf("md5Password = %s; want %s", got, want)
	}
}
