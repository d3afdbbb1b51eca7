package pgwire

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"unicode/utf8"

	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// copyformat.go holds COPY's data formats as PostgreSQL 15 reads and
// writes them (copyfromparse.c, copyto.c): splitting text and csv input
// into records and fields, the binary format's framing, and escaping
// values on output. It knows nothing of the protocol (copy.go) or of SQL.

// CopyFormat is the data format of a COPY.
type CopyFormat uint8

const (
	CopyText   CopyFormat = iota // tab-separated, backslash escapes, \N for NULL
	CopyCSV                      // comma-separated values with quoting
	CopyBinary                   // PostgreSQL's binary COPY format
)

// CopySpec describes one COPY for the protocol layer: the format and its
// options, and the columns whose values travel.
type CopySpec struct {
	// Relation names the table in the CONTEXT of errors ("COPY t, line 2").
	Relation string
	// Columns are the columns in data order: Name for HEADER and CONTEXT,
	// TypeOID for the values' input and output.
	Columns []Column
	Format  CopyFormat

	Delimiter   byte   // text: '\t', csv: ','
	Null        string // text: `\N`, csv: ""
	Header      bool   // the first line holds column names
	HeaderMatch bool   // COPY FROM: the header's names must match Columns
	Quote       byte   // csv: '"'
	Escape      byte   // csv: Quote unless given

	// Per column (nil: none). ForceQuote is COPY TO's, ForceNotNull and
	// ForceNull are COPY FROM's (csv only).
	ForceQuote, ForceNotNull, ForceNull []bool

	// Convert, for COPY FROM, turns each non-NULL value of column col, as
	// decoded by its TypeOID, into what the caller stores. An error is
	// reported with the line and column, as PostgreSQL does.
	Convert func(col int, v any) (any, error)
}

func (s *CopySpec) forced(flags []bool, col int) bool {
	return flags != nil && col < len(flags) && flags[col]
}

// copyError is 22P04 (bad_copy_file_format).
func copyError(format string, args ...any) *pgerror.Error {
	return pgerror.New("22P04", format, args...)
}

// maxCopyDisplay is how much of a line or value PostgreSQL shows in a
// COPY error's CONTEXT before it cuts it with "...".
const maxCopyDisplay = 100

// limitPrintout cuts s as PostgreSQL's limit_printout_length does.
func limitPrintout(s string) string {
	if len(s) <= maxCopyDisplay {
		return s
	}
	n := maxCopyDisplay
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

// eolKind is the line ending the first line of text or csv input used;
// PostgreSQL holds the rest of the input to it.
type eolKind uint8

const (
	eolUnknown eolKind = iota
	eolNL
	eolCR
	eolCRNL
)

// lineSplitter cuts text or csv input into records. Input arrives in
// arbitrary chunks (CopyData messages); next returns a record only once its
// end is in the buffer, or at the end of the input.
type lineSplitter struct {
	csv            bool
	quote, escape  byte
	buf            []byte // unconsumed input
	eol            eolKind
	scan           int  // how far buf was scanned for a record end
	inQuote        bool // csv: the scan stopped inside quotes
	sawEndOfCopy   bool // the \. line was read: the rest is ignored
	recordsStarted bool
}

func (l *lineSplitter) feed(b []byte) {
	if l.sawEndOfCopy {
		return
	}
	if l.scan == 0 && len(l.buf) == 0 {
		l.buf = append(l.buf[:0], b...)
		return
	}
	l.buf = append(l.buf, b...)
}

// next returns the next record without its line ending. ok is false when
// more input is needed (atEOF false) or the input is over (atEOF true). The
// record is valid until the next call.
func (l *lineSplitter) next(atEOF bool) (rec []byte, ok bool, err error) {
	if l.sawEndOfCopy {
		return nil, false, nil
	}
	buf := l.buf
	i := l.scan
	for ; i < len(buf); i++ {
		c := buf[i]
		if l.csv {
			if l.inQuote {
				if c == l.escape && l.escape != l.quote && i+1 < len(buf) && (buf[i+1] == l.quote || buf[i+1] == l.escape) {
					i++
					continue
				}
				if c == l.escape && l.escape != l.quote && i+1 >= len(buf) && !atEOF {
					break // the escaped character has not arrived
				}
				if c == l.quote {
					l.inQuote = false
				}
				continue
			}
			if c == l.quote {
				l.inQuote = true
				continue
			}
		} else if c == '\\' {
			if i+1 >= len(buf) {
				if !atEOF {
					break // the escaped character has not arrived
				}
				continue
			}
			i++ // a backslash quotes the next character, a newline too
			continue
		}
		if c != '\n' && c != '\r' {
			continue
		}
		// A line ending.
		end := i
		next := i + 1
		kind := eolNL
		if c == '\r' {
			if i+1 >= len(buf) && !atEOF {
				l.scan = i
				return nil, false, nil // CR or CRLF: not known yet
			}
			kind = eolCR
			if i+1 < len(buf) && buf[i+1] == '\n' {
				kind, next = eolCRNL, i+2
			}
		}
		if err := l.checkEOL(kind); err != nil {
			return nil, false, err
		}
		rec = buf[:end]
		l.buf = buf[next:]
		l.scan = 0
		return l.record(rec)
	}
	l.scan = i
	if !atEOF || len(buf) == 0 {
		return nil, false, nil
	}
	if l.csv && l.inQuote {
		return nil, false, copyError("unterminated CSV quoted field")
	}
	rec = buf
	l.buf = buf[len(buf):]
	l.scan = 0
	return l.record(rec)
}

// record handles the end-of-data marker, a line of just `\.`.
func (l *lineSplitter) record(rec []byte) ([]byte, bool, error) {
	if len(rec) == 2 && rec[0] == '\\' && rec[1] == '.' {
		l.sawEndOfCopy = true
		l.buf = nil
		return nil, false, nil
	}
	l.recordsStarted = true
	return rec, true, nil
}

// checkEOL holds the input to the line ending of its first line, as
// PostgreSQL does ("literal carriage return found in data").
func (l *lineSplitter) checkEOL(kind eolKind) error {
	if l.eol == eolUnknown {
		l.eol = kind
		return nil
	}
	if l.eol == kind {
		return nil
	}
	what, hint := "carriage return", `Use "\r" to represent carriage return.`
	if kind == eolNL {
		what, hint = "newline", `Use "\n" to represent newline.`
	}
	prefix := "literal"
	if l.csv {
		prefix = "unquoted"
		hint = "Use quoted CSV field to represent " + what + "."
	}
	return copyError("%s %s found in data", prefix, what).WithHint(hint)
}

// textField is one field of a record: its raw bytes and whether it is NULL.
type copyField struct {
	raw    []byte // the field as it appeared (text: before de-escaping)
	value  []byte // the value (NULL: nil with null set)
	null   bool
	quoted bool // csv: the field had quotes
}

// splitText splits a text-format record into fields and de-escapes them.
func splitText(rec []byte, delim byte, null string, fields []copyField) ([]copyField, error) {
	fields = fields[:0]
	start := 0
	for {
		end := start
		for end < len(rec) && rec[end] != delim {
			if rec[end] == '\\' && end+1 < len(rec) {
				end++
			}
			end++
		}
		raw := rec[start:end]
		f := copyField{raw: raw}
		if string(raw) == null {
			f.null = true
		} else {
			v, err := unescapeText(raw)
			if err != nil {
				return nil, err
			}
			f.value = v
		}
		fields = append(fields, f)
		if end >= len(rec) {
			return fields, nil
		}
		start = end + 1
	}
}

// unescapeText resolves text format's backslash escapes.
func unescapeText(raw []byte) ([]byte, error) {
	if bytes.IndexByte(raw, '\\') < 0 {
		return raw, nil
	}
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '\\' || i+1 >= len(raw) {
			out = append(out, c)
			continue
		}
		i++
		c = raw[i]
		switch c {
		case '0', '1', '2', '3', '4', '5', '6', '7':
			v := int(c - '0')
			for n := 1; n < 3 && i+1 < len(raw) && raw[i+1] >= '0' && raw[i+1] <= '7'; n++ {
				i++
				v = v*8 + int(raw[i]-'0')
			}
			out = append(out, byte(v&0xff))
		case 'x':
			if i+1 < len(raw) && isHex(raw[i+1]) {
				i++
				v := hexVal(raw[i])
				if i+1 < len(raw) && isHex(raw[i+1]) {
					i++
					v = v*16 + hexVal(raw[i])
				}
				out = append(out, byte(v))
			} else {
				out = append(out, 'x')
			}
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'v':
			out = append(out, '\v')
		default:
			out = append(out, c)
		}
	}
	return out, nil
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	}
	return int(c-'A') + 10
}

// splitCSV splits a csv record into fields, as CopyReadAttributesCSV.
func splitCSV(rec []byte, s *CopySpec, fields []copyField) ([]copyField, error) {
	fields = fields[:0]
	i := 0
	for {
		var value []byte
		start := i
		quoted := false
		inQuote := false
		for i < len(rec) {
			c := rec[i]
			if inQuote {
				if c == s.Escape && i+1 < len(rec) && (rec[i+1] == s.Quote || rec[i+1] == s.Escape) {
					value = append(value, rec[i+1])
					i += 2
					continue
				}
				if c == s.Quote {
					inQuote = false
					i++
					continue
				}
				value = append(value, c)
				i++
				continue
			}
			if c == s.Delimiter {
				break
			}
			if c == s.Quote {
				inQuote, quoted = true, true
				i++
				continue
			}
			value = append(value, c)
			i++
		}
		if inQuote {
			return nil, copyError("unterminated CSV quoted field")
		}
		if value == nil {
			value = []byte{}
		}
		f := copyField{raw: rec[start:i], value: value, quoted: quoted}
		if !quoted && string(value) == s.Null {
			f.null = true
		}
		fields = append(fields, f)
		if i >= len(rec) {
			return fields, nil
		}
		i++ // the delimiter
	}
}

// appendTextField appends a value in text format's escaping
// (CopyAttributeOutText).
func appendTextField(b, v []byte, delim byte) []byte {
	for _, c := range v {
		if c < 0x20 {
			switch c {
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\v':
				b = append(b, '\\', 'v')
			default:
				if c == delim {
					b = append(b, '\\')
				}
				b = append(b, c)
			}
			continue
		}
		if c == '\\' || c == delim {
			b = append(b, '\\')
		}
		b = append(b, c)
	}
	return b
}

// appendCSVField appends a value in csv quoting (CopyAttributeOutCSV):
// quoted when forced, when it could read back as NULL or as the end
// marker, or when it holds the delimiter, the quote or a line break.
func appendCSVField(b, v []byte, s *CopySpec, force, singleColumn bool) []byte {
	quote := force
	if !quote {
		switch {
		case string(v) == s.Null:
			quote = true
		case singleColumn && string(v) == `\.`:
			quote = true
		default:
			for _, c := range v {
				if c == s.Delimiter || c == s.Quote || c == '\n' || c == '\r' {
					quote = true
					break
				}
			}
		}
	}
	if !quote {
		return append(b, v...)
	}
	b = append(b, s.Quote)
	for _, c := range v {
		if c == s.Quote || c == s.Escape {
			b = append(b, s.Escape)
		}
		b = append(b, c)
	}
	return append(b, s.Quote)
}

// binarySignature starts every binary COPY stream.
var binarySignature = []byte("PGCOPY\n\xff\r\n\x00")

// appendBinaryHeader appends the signature, the flags and an empty header
// extension.
func appendBinaryHeader(b []byte) []byte {
	b = append(b, binarySignature...)
	b = binary.BigEndian.AppendUint32(b, 0)
	return binary.BigEndian.AppendUint32(b, 0)
}

// binaryReader reads the binary format from chunks of input.
type binaryReader struct {
	buf        []byte
	pos        int
	headerDone bool
	trailer    bool // the -1 field count was read
}

func (r *binaryReader) feed(b []byte) {
	if r.pos > 0 && r.pos == len(r.buf) {
		r.buf, r.pos = r.buf[:0], 0
	} else if r.pos > 64<<10 {
		r.buf = append(r.buf[:0], r.buf[r.pos:]...)
		r.pos = 0
	}
	r.buf = append(r.buf, b...)
}

func (r *binaryReader) avail() []byte { return r.buf[r.pos:] }

// header consumes the file header; ok is false when more input is needed.
func (r *binaryReader) header(atEOF bool) (ok bool, err error) {
	b := r.avail()
	if len(b) < len(binarySignature) {
		if atEOF {
			return false, copyError("COPY file signature not recognized")
		}
		return false, nil
	}
	if !bytes.Equal(b[:len(binarySignature)], binarySignature) {
		return false, copyError("COPY file signature not recognized")
	}
	if len(b) < len(binarySignature)+8 {
		if atEOF {
			return false, copyError("invalid COPY file header (missing flags)")
		}
		return false, nil
	}
	flags := binary.BigEndian.Uint32(b[len(binarySignature):])
	if flags&(1<<16) != 0 {
		return false, copyError("invalid COPY file header (WITH OIDS)")
	}
	if flags&^uint32(0xffff) != 0 {
		return false, copyError("unrecognized critical flags in COPY file header")
	}
	extLen := int(binary.BigEndian.Uint32(b[len(binarySignature)+4:]))
	if extLen < 0 {
		return false, copyError("invalid COPY file header (missing length)")
	}
	need := len(binarySignature) + 8 + extLen
	if len(b) < need {
		if atEOF {
			return false, copyError("invalid COPY file header (wrong length)")
		}
		return false, nil
	}
	r.pos += need
	r.headerDone = true
	return true, nil
}

// tuple reads one tuple's fields (nil for NULL) into fields; ok is false
// when more input is needed or, with r.trailer, the data ended.
func (r *binaryReader) tuple(ncols int, fields [][]byte, atEOF bool) ([][]byte, bool, error) {
	b := r.avail()
	if len(b) < 2 {
		if atEOF {
			if len(b) == 0 {
				return nil, false, copyError("unexpected EOF in COPY data")
			}
			return nil, false, copyError("unexpected EOF in COPY data")
		}
		return nil, false, nil
	}
	n := int(int16(binary.BigEndian.Uint16(b)))
	if n == -1 {
		r.pos += 2
		r.trailer = true
		return nil, false, nil
	}
	if n != ncols {
		return nil, false, copyError("row field count is %d, expected %d", n, ncols)
	}
	p := 2
	fields = fields[:0]
	for i := 0; i < n; i++ {
		if len(b) < p+4 {
			return r.short(atEOF)
		}
		l := int32(binary.BigEndian.Uint32(b[p:]))
		p += 4
		if l == -1 {
			fields = append(fields, nil)
			continue
		}
		if l < -1 {
			return nil, false, copyError("invalid field size")
		}
		if len(b) < p+int(l) {
			return r.short(atEOF)
		}
		fields = append(fields, b[p:p+int(l):p+int(l)])
		p += int(l)
	}
	r.pos += p
	return fields, true, nil
}

func (r *binaryReader) short(atEOF bool) ([][]byte, bool, error) {
	if atEOF {
		return nil, false, copyError("unexpected EOF in COPY data")
	}
	return nil, false, nil
}

// describeField is "column a" for a CONTEXT line.
func describeField(name string) string { return fmt.Sprintf("column %s", name) }
