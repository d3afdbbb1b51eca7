package pgtest

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgproto3"
)

// Options of an until block.
const (
	optKeepMessages = "keep_messages"
	optKeepAttnums  = "keep_attnums"
	optIgnore       = "ignore"
	optKeep         = "keep"
)

// ignoredByDefault are backend messages that are session noise rather than
// answers: servers differ in which parameters they report, and key data is
// random.
var ignoredByDefault = []string{"ParameterStatus", "BackendKeyData"}

// newFrontend returns an empty frontend message for a script type name.
func newFrontend(typ string) (pgproto3.FrontendMessage, bool) {
	switch typ {
	case "Query":
		return &pgproto3.Query{}, true
	case "Parse":
		return &pgproto3.Parse{}, true
	case "Bind":
		return &pgproto3.Bind{}, true
	case "Describe":
		return &pgproto3.Describe{}, true
	case "Execute":
		return &pgproto3.Execute{}, true
	case "Sync":
		return &pgproto3.Sync{}, true
	case "Flush":
		return &pgproto3.Flush{}, true
	case "Close":
		return &pgproto3.Close{}, true
	case "Terminate":
		return &pgproto3.Terminate{}, true
	case "CopyData":
		return &pgproto3.CopyData{}, true
	case "CopyDone":
		return &pgproto3.CopyDone{}, true
	case "CopyFail":
		return &pgproto3.CopyFail{}, true
	}
	return nil, false
}

// decodeFrontend turns one send line, "Type" or "Type {json}", into the
// bytes to write.
func decodeFrontend(line string) ([]byte, error) {
	typ, body, _ := strings.Cut(line, " ")
	body = strings.TrimSpace(body)
	if typ == "Raw" {
		var raw struct{ Hex string }
		if err := strictUnmarshal(body, &raw); err != nil {
			return nil, fmt.Errorf("send Raw: %w", err)
		}
		b, err := hex.DecodeString(raw.Hex)
		if err != nil {
			return nil, fmt.Errorf("send Raw: %w", err)
		}
		return b, nil
	}
	msg, ok := newFrontend(typ)
	if !ok {
		return nil, fmt.Errorf("send: unknown message type %q", typ)
	}
	if body != "" {
		if err := strictUnmarshal(body, msg); err != nil {
			return nil, fmt.Errorf("send %s: %w", typ, err)
		}
	}
	b, err := msg.Encode(nil)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", typ, err)
	}
	return b, nil
}

// strictUnmarshal rejects unknown fields, so a misspelt field fails the
// script instead of silently sending a zero value. (pgproto3's own
// UnmarshalJSON methods, e.g. Bind's, do not pass this on.)
func strictUnmarshal(body string, v any) error {
	d := json.NewDecoder(strings.NewReader(body))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return fmt.Errorf("trailing data after JSON object")
	}
	return nil
}

// typeName is the script name of a backend message: its Go type name.
func typeName(m pgproto3.BackendMessage) string {
	return strings.TrimPrefix(fmt.Sprintf("%T", m), "*pgproto3.")
}

// field is one key of a printed message; a slice of them keeps the order
// stable and readable (Type first), which a map would not.
type field struct {
	key   string
	value any
}

// printedField is a RowDescription field without TableOID, which real
// PostgreSQL assigns by history and so cannot appear in a golden file, and
// with TableAttributeNumber only on request: few clients read it, and a
// server that leaves it 0 should fail one script that asks, not every one.
type printedField struct {
	Name                 string
	TableAttributeNumber *uint16 `json:",omitempty"`
	DataTypeOID          uint32
	DataTypeSize         int16
	TypeModifier         int32
	Format               int16
}

// formatBackend renders m as one line of output.
func formatBackend(m pgproto3.BackendMessage, opts UntilOptions) (string, error) {
	fs := []field{{"Type", typeName(m)}}
	switch m := m.(type) {
	case *pgproto3.CommandComplete:
		fs = append(fs, field{"CommandTag", string(m.CommandTag)})
	case *pgproto3.ReadyForQuery:
		fs = append(fs, field{"TxStatus", string(m.TxStatus)})
	case *pgproto3.ErrorResponse:
		fs = append(fs, errorFields(m.Code, m.Message, opts.KeepMessages)...)
	case *pgproto3.NoticeResponse:
		fs = append(fs, errorFields(m.Code, m.Message, opts.KeepMessages)...)
	case *pgproto3.RowDescription:
		out := make([]printedField, 0, len(m.Fields))
		for _, f := range m.Fields {
			pf := printedField{Name: string(f.Name), DataTypeOID: f.DataTypeOID,
				DataTypeSize: f.DataTypeSize, TypeModifier: f.TypeModifier, Format: f.Format}
			if opts.KeepAttnums {
				pf.TableAttributeNumber = &f.TableAttributeNumber
			}
			out = append(out, pf)
		}
		fs = append(fs, field{"Fields", out})
	case *pgproto3.DataRow:
		out := make([]json.RawMessage, 0, len(m.Values))
		for _, v := range m.Values {
			out = append(out, formatValue(v))
		}
		fs = append(fs, field{"Values", out})
	case *pgproto3.ParameterDescription:
		fs = append(fs, field{"ParameterOIDs", append([]uint32{}, m.ParameterOIDs...)})
	case *pgproto3.ParameterStatus:
		fs = append(fs, field{"Name", m.Name}, field{"Value", m.Value})
	case *pgproto3.ParseComplete, *pgproto3.BindComplete, *pgproto3.CloseComplete,
		*pgproto3.NoData, *pgproto3.EmptyQueryResponse, *pgproto3.PortalSuspended:
	default:
		b, err := json.Marshal(m) // pgproto3's own form, e.g. CopyInResponse
		return string(b), err
	}
	return marshalFields(fs)
}

// errorFields prints an ErrorResponse or NoticeResponse: the SQLSTATE
// always, the wording only when the script asks, since it differs between
// servers far more often than it matters to a client.
func errorFields(code, message string, keepMessages bool) []field {
	fs := []field{{"Code", code}}
	if keepMessages {
		fs = append(fs, field{"Message", message})
	}
	return fs
}

// marshalFields writes fs as one JSON object, keys in order.
func marshalFields(fs []field) (string, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i, f := range fs {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(f.key) // a string cannot fail
		v, err := json.Marshal(f.value)
		if err != nil {
			return "", fmt.Errorf("marshal %s: %w", f.key, err)
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.String(), nil
}

// formatValue prints a column value the way pgproto3's DataRow JSON does, as
// text when it is printable and hex otherwise; NULL is null.
func formatValue(v []byte) json.RawMessage {
	if v == nil {
		return json.RawMessage("null")
	}
	key, s := "text", string(v)
	if !utf8.Valid(v) || bytes.ContainsFunc(v, func(r rune) bool { return r < 32 }) {
		key, s = "binary", hex.EncodeToString(v)
	}
	b, _ := json.Marshal(map[string]string{key: s}) // a string map cannot fail
	return b
}

// canonicalJSON re-encodes one JSON line so that spacing and key order do
// not matter when comparing an expectation with what was received.
func canonicalJSON(line string) (string, error) {
	var v any
	d := json.NewDecoder(strings.NewReader(line))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return "", err
	}
	b, err := json.Marshal(v) // map keys come out sorted
	return string(b), err
}
