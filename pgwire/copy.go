package pgwire

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// copy.go is COPY's sub-protocol (PostgreSQL docs, "COPY Operations"). A
// portal that runs COPY finds a Copier in the RowWriter its Execute gets:
// CopyIn sends CopyInResponse and hands back a reader of decoded rows, fed
// by the client's CopyData until CopyDone (CopyFail is 57014); CopyOut
// sends CopyOutResponse and hands back a RowWriter whose rows go out as
// CopyData, followed by CopyDone when Execute succeeds.
//
// As in PostgreSQL, Flush and Sync are ignored during copy-in; any other
// message ends it with 08P01. After an error the client's remaining
// CopyData, CopyDone and CopyFail are dropped (conn.dispatch), and in the
// extended protocol everything up to Sync.

// Copier is implemented by the RowWriter pgwire passes to Portal.Execute.
type Copier interface {
	// CopyIn starts COPY FROM STDIN: CopyInResponse goes out at once.
	// When ctx ends, a wait for the client's data ends with ctx's cause (a
	// *pgerror.Error), or 57014.
	CopyIn(ctx context.Context, spec *CopySpec) (CopyReader, error)
	// CopyOut starts COPY TO STDOUT: CopyOutResponse (and a binary header
	// or a HEADER line) goes out; the returned writer's rows follow.
	CopyOut(spec *CopySpec) (RowWriter, error)
}

// CopyReader reads the rows of a COPY FROM STDIN.
type CopyReader interface {
	// ReadRow returns the next row, one value per CopySpec column (Portal's
	// Go types after CopySpec.Convert; nil for NULL), or io.EOF after the
	// last. The slice is reused by the next call.
	ReadRow() ([]any, error)
	// Line is the input line of the row ReadRow last returned, for errors
	// found later (a constraint): "COPY t, line N".
	Line() int64
}

// CopyContext is PostgreSQL's CONTEXT for an error at a line of a COPY.
func CopyContext(relation string, line int64) string {
	return fmt.Sprintf("COPY %s, line %d", relation, line)
}

// copyMode is the state of a copy on the connection.
type copyMode uint8

const (
	copyNone copyMode = iota
	copyOutRunning
)

func (w *rowWriter) formatCode(spec *CopySpec) (overall int16, cols []uint16) {
	if spec.Format == CopyBinary {
		overall = 1
	}
	cols = make([]uint16, len(spec.Columns))
	for i := range cols {
		cols[i] = uint16(overall)
	}
	return overall, cols
}

// CopyIn implements Copier.
func (w *rowWriter) CopyIn(ctx context.Context, spec *CopySpec) (CopyReader, error) {
	c := w.c
	overall, cols := w.formatCode(spec)
	c.send(&pgproto3.CopyInResponse{OverallFormat: byte(overall), ColumnFormatCodes: cols})
	if err := c.flush(); err != nil {
		return nil, err
	}
	r := &copyReader{c: c, ctx: ctx, spec: spec, row: make([]any, len(spec.Columns))}
	r.lines.csv = spec.Format == CopyCSV
	r.lines.quote, r.lines.escape = spec.Quote, spec.Escape
	return r, nil
}

// CopyOut implements Copier.
func (w *rowWriter) CopyOut(spec *CopySpec) (RowWriter, error) {
	c := w.c
	overall, cols := w.formatCode(spec)
	c.send(&pgproto3.CopyOutResponse{OverallFormat: byte(overall), ColumnFormatCodes: cols})
	w.copy = copyOutRunning
	out := &copyWriter{c: c, spec: spec}
	w.copyOut = out
	switch {
	case spec.Format == CopyBinary:
		out.pending = appendBinaryHeader(nil) // goes out with the first tuple, as PostgreSQL sends it
	case spec.Header:
		var b []byte
		for i, col := range spec.Columns {
			if i > 0 {
				b = append(b, spec.Delimiter)
			}
			if spec.Format == CopyCSV {
				b = appendCSVField(b, []byte(col.Name), spec, false, len(spec.Columns) == 1)
			} else {
				b = appendTextField(b, []byte(col.Name), spec.Delimiter)
			}
		}
		out.send(append(b, '\n'))
	}
	return out, c.werr
}

// finishCopy ends a successful COPY TO with the binary trailer and CopyDone.
func (w *rowWriter) finishCopy() {
	if w.copy != copyOutRunning {
		return
	}
	w.copy = copyNone
	if w.copyOut != nil && w.copyOut.spec.Format == CopyBinary {
		w.copyOut.send([]byte{0xff, 0xff})
	}
	w.c.send(&pgproto3.CopyDone{})
}

// copyWriter turns rows into CopyData messages, one per row as PostgreSQL
// sends them.
type copyWriter struct {
	c       *conn
	spec    *CopySpec
	row     []byte
	pending []byte // the binary header, sent with the first message
}

func (w *copyWriter) send(b []byte) {
	if w.pending != nil {
		b = append(w.pending, b...)
		w.pending = nil
	}
	w.c.send(&pgproto3.CopyData{Data: b})
}

// WriteRow implements RowWriter.
func (w *copyWriter) WriteRow(values []any) error {
	c, s := w.c, w.spec
	if len(values) != len(s.Columns) {
		return pgerror.New(pgerror.InternalError, "COPY row has %d values for %d columns", len(values), len(s.Columns))
	}
	b := w.row[:0]
	if s.Format == CopyBinary {
		b = binary.BigEndian.AppendUint16(b, uint16(len(values)))
	}
	for i, v := range values {
		col := s.Columns[i]
		if s.Format == CopyBinary {
			at := len(b)
			b = append(b, 0, 0, 0, 0)
			out, isNull, err := appendValue(c.types, b, col.TypeOID, pgtype.BinaryFormatCode, numericScale(col, v))
			if err != nil {
				return err
			}
			if isNull {
				binary.BigEndian.PutUint32(b[at:], 0xffffffff)
				continue
			}
			b = out
			binary.BigEndian.PutUint32(b[at:], uint32(len(b)-at-4))
			continue
		}
		if i > 0 {
			b = append(b, s.Delimiter)
		}
		c.scratch = c.scratch[:0]
		text, isNull, err := appendValue(c.types, c.scratch, col.TypeOID, pgtype.TextFormatCode, numericScale(col, v))
		if err != nil {
			return err
		}
		c.scratch = text
		switch {
		case isNull:
			b = append(b, s.Null...) // as given, unescaped, as PostgreSQL sends it
		case s.Format == CopyCSV:
			b = appendCSVField(b, text, s, s.forced(s.ForceQuote, i), len(s.Columns) == 1)
		default:
			b = appendTextField(b, text, s.Delimiter)
		}
	}
	if s.Format != CopyBinary {
		b = append(b, '\n')
	}
	w.row = b
	w.send(b)
	if len(c.wbuf) >= flushThreshold {
		return c.flush()
	}
	return c.werr
}

// copyReader reads a COPY FROM STDIN's rows from the client's CopyData.
type copyReader struct {
	c      *conn
	ctx    context.Context
	spec   *CopySpec
	lines  lineSplitter
	bin    binaryReader
	eof    bool // CopyDone received
	line   int64
	header bool // the header line was dealt with
	fields []copyField
	binf   [][]byte
	row    []any
}

// Line implements CopyReader.
func (r *copyReader) Line() int64 { return r.line }

// receive reads the next copy message: its data, or io.EOF at CopyDone.
func (r *copyReader) receive() ([]byte, error) {
	for {
		msg, err := r.receiveOrStop()
		if err != nil {
			if r.ctx.Err() != nil {
				return nil, copyCancelled(r.ctx)
			}
			r.c.readFailed(err)
			return nil, &pgerror.Error{Severity: pgerror.SeverityFatal, Code: pgerror.ConnectionFailure,
				Message: "unexpected EOF on client connection with an open transaction"}
		}
		switch m := msg.(type) {
		case *pgproto3.CopyData:
			return m.Data, nil
		case *pgproto3.CopyDone:
			return nil, io.EOF
		case *pgproto3.CopyFail:
			return nil, pgerror.New(pgerror.QueryCanceled, "COPY from stdin failed: %s", m.Message)
		case *pgproto3.Flush, *pgproto3.Sync:
			continue // ignored during copy-in, as PostgreSQL does
		case *pgproto3.Terminate:
			return nil, &pgerror.Error{Severity: pgerror.SeverityFatal, Code: pgerror.ConnectionFailure,
				Message: "unexpected EOF on client connection with an open transaction"}
		default:
			// FATAL, as in PostgreSQL: the client's stream is out of step.
			return nil, &pgerror.Error{Severity: pgerror.SeverityFatal, Code: pgerror.ProtocolViolation,
				Message: fmt.Sprintf("unexpected message type 0x%02X during COPY from stdin", messageType(msg))}
		}
	}
}

// receiveOrStop is conn.receive, interrupted when r.ctx ends (a read
// deadline): pgproto3 keeps a partly read message, so the stream stays in
// step and the client's remaining copy messages are dropped as usual.
func (r *copyReader) receiveOrStop() (pgproto3.FrontendMessage, error) {
	c := r.c
	if c.pending != nil {
		return c.receive()
	}
	if err := r.ctx.Err(); err != nil {
		return nil, err
	}
	fired := make(chan struct{})
	stop := context.AfterFunc(r.ctx, func() {
		defer close(fired)
		c.mu.Lock()
		c.nc.SetReadDeadline(time.Now())
		c.mu.Unlock()
	})
	msg, err := c.receive()
	if !stop() {
		<-fired // then clear the deadline it set
		c.mu.Lock()
		c.nc.SetReadDeadline(time.Time{})
		c.mu.Unlock()
		var ne net.Error
		if err != nil && errors.As(err, &ne) && ne.Timeout() {
			return nil, r.ctx.Err()
		}
	}
	return msg, err
}

// copyCancelled is the error of a COPY whose context ended: its cause when
// that is a PostgreSQL error, else 57014.
func copyCancelled(ctx context.Context) error {
	if pe := pgerror.As(context.Cause(ctx)); pe != nil {
		return pe
	}
	return pgerror.New(pgerror.QueryCanceled, "canceling statement due to user request")
}

func messageType(m pgproto3.FrontendMessage) byte {
	b, err := m.Encode(nil)
	if err != nil || len(b) == 0 {
		return 0
	}
	return b[0]
}

// more feeds the next CopyData into the parser; at CopyDone it sets eof.
func (r *copyReader) more() error {
	data, err := r.receive()
	if err == io.EOF {
		r.eof = true
		return nil
	}
	if err != nil {
		return err
	}
	if r.spec.Format == CopyBinary {
		r.bin.feed(data)
	} else {
		r.lines.feed(data)
	}
	return nil
}

// drain reads up to CopyDone once the data ended early (`\.`, the binary
// trailer): PostgreSQL ignores what follows.
func (r *copyReader) drain() error {
	for !r.eof {
		if err := r.more(); err != nil {
			return err
		}
	}
	return nil
}

// ReadRow implements CopyReader.
func (r *copyReader) ReadRow() ([]any, error) {
	if r.spec.Format == CopyBinary {
		return r.readBinary()
	}
	for {
		rec, ok, err := r.lines.next(r.eof)
		if err != nil {
			r.line++
			return nil, r.withLine(err, "")
		}
		if !ok {
			if r.lines.sawEndOfCopy {
				if err := r.drain(); err != nil {
					return nil, err
				}
				return nil, io.EOF
			}
			if r.eof {
				return nil, io.EOF
			}
			if err := r.more(); err != nil {
				return nil, err
			}
			continue
		}
		r.line++
		if r.spec.Header && !r.header {
			r.header = true
			if err := r.checkHeader(rec); err != nil {
				return nil, r.withLine(err, string(rec))
			}
			continue
		}
		return r.parseRecord(rec)
	}
}

func (r *copyReader) split(rec []byte) ([]copyField, error) {
	var err error
	if r.spec.Format == CopyCSV {
		r.fields, err = splitCSV(rec, r.spec, r.fields)
	} else {
		r.fields, err = splitText(rec, r.spec.Delimiter, r.spec.Null, r.fields)
	}
	return r.fields, err
}

// checkHeader skips the header line, or with HEADER MATCH checks its names.
func (r *copyReader) checkHeader(rec []byte) error {
	if !r.spec.HeaderMatch {
		return nil
	}
	fields, err := r.split(rec)
	if err != nil {
		return err
	}
	if len(fields) != len(r.spec.Columns) {
		return copyError("wrong number of fields in header line: got %d, expected %d", len(fields), len(r.spec.Columns))
	}
	for i, f := range fields {
		if f.null {
			return copyError("column name mismatch in header line field %d: got null value (\"%s\"), expected \"%s\"",
				i+1, r.spec.Null, r.spec.Columns[i].Name)
		}
		if string(f.value) != r.spec.Columns[i].Name {
			return copyError("column name mismatch in header line field %d: got \"%s\", expected \"%s\"",
				i+1, f.value, r.spec.Columns[i].Name)
		}
	}
	return nil
}

// parseRecord turns one text or csv record into the row's values.
func (r *copyReader) parseRecord(rec []byte) ([]any, error) {
	s := r.spec
	fields, err := r.split(rec)
	if err != nil {
		return nil, r.withLine(err, string(rec))
	}
	if len(s.Columns) == 0 {
		if len(fields) > 1 || len(fields[0].raw) > 0 {
			return nil, r.withLine(copyError("extra data after last expected column"), string(rec))
		}
		return r.row, nil
	}
	if len(fields) > len(s.Columns) {
		return nil, r.withLine(copyError("extra data after last expected column"), string(rec))
	}
	if len(fields) < len(s.Columns) {
		return nil, r.withLine(copyError("missing data for column \"%s\"", s.Columns[len(fields)].Name), string(rec))
	}
	for i, f := range fields {
		null := f.null
		if s.Format == CopyCSV {
			if null && s.forced(s.ForceNotNull, i) {
				null = false
			}
			if !null && f.quoted && s.forced(s.ForceNull, i) && string(f.value) == s.Null {
				null = true
			}
		}
		if null {
			r.row[i] = nil
			continue
		}
		v, err := r.convert(i, f.value)
		if err != nil {
			return nil, r.withColumn(err, i, string(f.value), true)
		}
		r.row[i] = v
	}
	return r.row, nil
}

// convert decodes one text value by its column's type and converts it.
func (r *copyReader) convert(i int, text []byte) (any, error) {
	col := r.spec.Columns[i]
	v, err := decodeText(textIfUnknown(col.TypeOID), string(text))
	if err != nil {
		return nil, err
	}
	if r.spec.Convert != nil {
		return r.spec.Convert(i, v)
	}
	return v, nil
}

// readBinary reads one tuple of the binary format.
func (r *copyReader) readBinary() ([]any, error) {
	for !r.bin.headerDone {
		ok, err := r.bin.header(r.eof)
		if err != nil {
			return nil, r.withLine(err, "")
		}
		if ok {
			break
		}
		if err := r.more(); err != nil {
			return nil, err
		}
	}
	for {
		if r.bin.trailer {
			if err := r.drain(); err != nil {
				return nil, err
			}
			return nil, io.EOF
		}
		if r.eof && len(r.bin.avail()) == 0 {
			// PostgreSQL takes the end of the data without a trailer.
			return nil, io.EOF
		}
		fields, ok, err := r.bin.tuple(len(r.spec.Columns), r.binf, r.eof)
		if err != nil {
			r.line++
			return nil, r.withLine(err, "")
		}
		if !ok {
			if r.bin.trailer {
				continue
			}
			if err := r.more(); err != nil {
				return nil, err
			}
			continue
		}
		r.binf = fields
		r.line++
		for i, f := range fields {
			if f == nil {
				r.row[i] = nil
				continue
			}
			col := r.spec.Columns[i]
			if err := binaryFieldShort(col, f); err != nil {
				return nil, r.withColumn(err, i, "", false)
			}
			v, err := scanBinary(r.c.types, textIfUnknown(col.TypeOID), f)
			if err != nil {
				return nil, r.withColumn(pgerror.New(pgerror.InvalidBinaryRepresentation,
					"incorrect binary data format"), i, "", false)
			}
			if s, ok := v.(string); ok {
				if err := checkText(s); err != nil {
					return nil, r.withColumn(err, i, "", false)
				}
			}
			if r.spec.Convert != nil {
				if v, err = r.spec.Convert(i, v); err != nil {
					return nil, r.withColumn(err, i, "", false)
				}
			}
			r.row[i] = v
		}
		return r.row, nil
	}
}

// binaryFieldShort is PostgreSQL's error for a binary COPY field shorter
// than its fixed-size type: the type's receive function runs out of data
// (08P01, "no data left" for a one-byte type), where a field longer than
// its type is 22P03.
func binaryFieldShort(col Column, f []byte) error {
	switch {
	case col.TypeSize <= 0 || len(f) >= int(col.TypeSize):
		return nil
	case col.TypeSize == 1:
		return pgerror.New(pgerror.ProtocolViolation, "no data left in message")
	}
	return pgerror.New(pgerror.ProtocolViolation, "insufficient data left in message")
}

// withLine adds "COPY t, line N: "…"" to err.
func (r *copyReader) withLine(err error, rec string) error {
	where := CopyContext(r.spec.Relation, r.line)
	if rec != "" {
		where += ": \"" + limitPrintout(rec) + "\""
	}
	return withWhere(err, where)
}

// withColumn adds "COPY t, line N, column c: "value"" to err.
func (r *copyReader) withColumn(err error, col int, value string, showValue bool) error {
	where := CopyContext(r.spec.Relation, r.line) + ", " + describeField(r.spec.Columns[col].Name)
	if showValue {
		where += ": \"" + limitPrintout(value) + "\""
	}
	return withWhere(err, where)
}

func withWhere(err error, where string) error {
	pe := pgerror.As(err)
	if pe == nil {
		return err
	}
	out := *pe
	if out.Where != "" {
		out.Where = out.Where + "\n" + where
	} else {
		out.Where = where
	}
	return &out
}

// CopyTag is the CommandComplete tag of a COPY of n rows.
func CopyTag(n int64) string { return "COPY " + strconv.FormatInt(n, 10) }
