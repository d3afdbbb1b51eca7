package pgwire

import (
	"reflect"
	"strings"
	"testing"

	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// records splits input fed in chunks of chunk bytes into records.
func records(t *testing.T, l *lineSplitter, input string, chunk int) ([]string, error) {
	t.Helper()
	var out []string
	for i := 0; ; i += chunk {
		end := min(i+chunk, len(input))
		if i < len(input) {
			l.feed([]byte(input[i:end]))
		}
		atEOF := end >= len(input)
		for {
			rec, ok, err := l.next(atEOF)
			if err != nil {
				return out, err
			}
			if !ok {
				break
			}
			out = append(out, string(rec))
		}
		if atEOF {
			return out, nil
		}
	}
}

func TestLineSplitter(t *testing.T) {
	tests := []struct {
		name, in string
		csv      bool
		want     []string
		code     string
	}{
		{name: "lines", in: "a\tb\nc\td\n", want: []string{"a\tb", "c\td"}},
		{name: "no final newline", in: "a\nb", want: []string{"a", "b"}},
		{name: "crlf", in: "a\r\nb\r\n", want: []string{"a", "b"}},
		{name: "cr", in: "a\rb\r", want: []string{"a", "b"}},
		{name: "end marker", in: "a\n\\.\nignored\n", want: []string{"a"}},
		{name: "end marker crlf", in: "a\r\n\\.\r\n", want: []string{"a"}},
		{name: "escaped newline", in: "a\\\nb\nc\n", want: []string{"a\\\nb", "c"}},
		{name: "empty line", in: "\n\n", want: []string{"", ""}},
		{name: "mixed eol", in: "a\nb\r\n", code: "22P04"},
		{name: "csv quoted newline", in: "1,\"a\nb\"\n2,c\n", csv: true, want: []string{"1,\"a\nb\"", "2,c"}},
		{name: "csv doubled quote", in: "\"a\"\"\n\"\n", csv: true, want: []string{"\"a\"\"\n\""}},
		{name: "csv end marker", in: "a\n\\.\n", csv: true, want: []string{"a"}},
		{name: "csv quoted end marker", in: "\"\\.\"\n", csv: true, want: []string{"\"\\.\""}},
		{name: "csv unterminated", in: "\"abc\n", csv: true, code: "22P04"},
	}
	for _, tc := range tests {
		for _, chunk := range []int{1, 2, 3, 1000} {
			l := &lineSplitter{csv: tc.csv, quote: '"', escape: '"'}
			got, err := records(t, l, tc.in, chunk)
			if tc.code != "" {
				if pgerror.Code(err) != tc.code {
					t.Errorf("%s/%d: err %v, want %s", tc.name, chunk, err, tc.code)
				}
				continue
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("%s/%d: got %q, %v; want %q", tc.name, chunk, got, err, tc.want)
			}
		}
	}
}

// fieldStrings renders fields: NULL as "<nil>".
func fieldStrings(fs []copyField) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		if f.null {
			out[i] = "<nil>"
		} else {
			out[i] = string(f.value)
		}
	}
	return out
}

func TestSplitText(t *testing.T) {
	tests := []struct {
		in, null string
		want     []string
	}{
		{`a	b`, `\N`, []string{"a", "b"}},
		{`\N	\\N	`, `\N`, []string{"<nil>", `\N`, ""}},
		{`a\tb	c\nd`, `\N`, []string{"a\tb", "c\nd"}},
		{`\\	\x41\101\x4a\x4	\xz`, `\N`, []string{`\`, "AAJ\x04", "xz"}},
		{`\b\f\r\v\q`, `\N`, []string{"\b\f\r\vq"}},
		{"a\\\tb", `\N`, []string{"a\tb"}},
		{"	", "", []string{"<nil>", "<nil>"}},
		{"a\\.b", `\N`, []string{"a.b"}},
	}
	for _, tc := range tests {
		fs, err := splitText([]byte(tc.in), '\t', tc.null, nil)
		if err != nil || !reflect.DeepEqual(fieldStrings(fs), tc.want) {
			t.Errorf("splitText(%q) = %q, %v; want %q", tc.in, fieldStrings(fs), err, tc.want)
		}
	}
}

func TestSplitCSV(t *testing.T) {
	spec := &CopySpec{Delimiter: ',', Quote: '"', Escape: '"', Null: ""}
	bs := &CopySpec{Delimiter: ',', Quote: '"', Escape: '\\', Null: `\N`}
	tests := []struct {
		spec *CopySpec
		in   string
		want []string
		code string
	}{
		{spec: spec, in: `a,b`, want: []string{"a", "b"}},
		{spec: spec, in: `,"",x`, want: []string{"<nil>", "", "x"}},
		{spec: spec, in: `"a,b","c""d","e` + "\n" + `f"`, want: []string{"a,b", `c"d`, "e\nf"}},
		{spec: spec, in: `a"b"c`, want: []string{"abc"}},
		{spec: spec, in: `"abc`, code: "22P04"},
		{spec: bs, in: `"a\"b",\N,"\N"`, want: []string{`a"b`, "<nil>", `\N`}},
		{spec: bs, in: `"a\\b"`, want: []string{`a\b`}},
		{spec: spec, in: ``, want: []string{"<nil>"}},
	}
	for _, tc := range tests {
		fs, err := splitCSV([]byte(tc.in), tc.spec, nil)
		if tc.code != "" {
			if pgerror.Code(err) != tc.code {
				t.Errorf("splitCSV(%q): err %v, want %s", tc.in, err, tc.code)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(fieldStrings(fs), tc.want) {
			t.Errorf("splitCSV(%q) = %q, %v; want %q", tc.in, fieldStrings(fs), err, tc.want)
		}
	}
}

func TestAppendTextField(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"a\tb\nc\rd\\e", `a\tb\nc\rd\\e`},
		{"\b\f\v\x01", "\\b\\f\\v\x01"},
	}
	for _, tc := range tests {
		if got := string(appendTextField(nil, []byte(tc.in), '\t')); got != tc.want {
			t.Errorf("appendTextField(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := string(appendTextField(nil, []byte("a|b"), '|')); got != `a\|b` {
		t.Errorf("delimiter not escaped: %q", got)
	}
}

func TestAppendCSVField(t *testing.T) {
	spec := &CopySpec{Delimiter: ',', Quote: '"', Escape: '"', Null: ""}
	tests := []struct {
		in           string
		force, alone bool
		want         string
	}{
		{in: "plain", want: "plain"},
		{in: "", want: `""`},
		{in: "a,b", want: `"a,b"`},
		{in: `a"b`, want: `"a""b"`},
		{in: "a\nb", want: "\"a\nb\""},
		{in: "a\rb", want: "\"a\rb\""},
		{in: "x", force: true, want: `"x"`},
		{in: `\.`, alone: true, want: `"\."`},
		{in: `\.`, want: `\.`},
	}
	for _, tc := range tests {
		if got := string(appendCSVField(nil, []byte(tc.in), spec, tc.force, tc.alone)); got != tc.want {
			t.Errorf("appendCSVField(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	nulls := &CopySpec{Delimiter: ',', Quote: '\'', Escape: '\\', Null: "NULL"}
	if got := string(appendCSVField(nil, []byte(`NULL`), nulls, false, false)); got != `'NULL'` {
		t.Errorf("a value equal to NULL is not quoted: %q", got)
	}
	if got := string(appendCSVField(nil, []byte(`it's \ x`), nulls, true, false)); got != `'it\'s \\ x'` {
		t.Errorf("escape: %q", got)
	}
}

func TestBinaryReader(t *testing.T) {
	var in []byte
	in = appendBinaryHeader(in)
	in = append(in, 0, 2, 0, 0, 0, 1, 'a', 0xff, 0xff, 0xff, 0xff) // ('a', NULL)
	in = append(in, 0xff, 0xff)
	for _, chunk := range []int{1, 5, 1000} {
		r := &binaryReader{}
		var rows [][]string
		pos := 0
		feed := func() bool {
			if pos >= len(in) {
				return false
			}
			end := min(pos+chunk, len(in))
			r.feed(in[pos:end])
			pos = end
			return true
		}
		for !r.headerDone {
			ok, err := r.header(pos >= len(in))
			if err != nil {
				t.Fatal(err)
			}
			if !ok && !feed() {
				t.Fatal("header never complete")
			}
		}
		for !r.trailer {
			fields, ok, err := r.tuple(2, nil, pos >= len(in))
			if err != nil {
				t.Fatalf("chunk %d: %v", chunk, err)
			}
			if ok {
				var row []string
				for _, f := range fields {
					if f == nil {
						row = append(row, "<nil>")
					} else {
						row = append(row, string(f))
					}
				}
				rows = append(rows, row)
				continue
			}
			if !r.trailer && !feed() {
				t.Fatal("no trailer")
			}
		}
		if want := [][]string{{"a", "<nil>"}}; !reflect.DeepEqual(rows, want) {
			t.Errorf("chunk %d: rows %q, want %q", chunk, rows, want)
		}
	}
	r := &binaryReader{}
	r.feed([]byte("PGCOPY\nnope"))
	if _, err := r.header(true); pgerror.Code(err) != "22P04" || !strings.Contains(err.Error(), "signature") {
		t.Errorf("bad signature: %v", err)
	}
}

func TestLimitPrintout(t *testing.T) {
	long := strings.Repeat("é", 60) // 120 bytes
	got := limitPrintout(long)
	if !strings.HasSuffix(got, "...") || len(got) > maxCopyDisplay+3 || !strings.HasPrefix(long, strings.TrimSuffix(got, "...")) {
		t.Errorf("limitPrintout = %q", got)
	}
}
