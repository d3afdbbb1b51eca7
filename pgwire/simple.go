package pgwire

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// runSimpleQuery answers a Query message: every statement of the string in
// order, each with its RowDescription, rows and CommandComplete, stopping at
// the first error; then one ReadyForQuery. False ends the connection.
func (c *conn) runSimpleQuery(sql string) bool {
	// A simple Query runs in the unnamed portal and replaces the unnamed
	// statement, as in PostgreSQL.
	if pt := c.portals[""]; pt != nil {
		c.closePortal(pt)
	}
	if ps := c.stmts[""]; ps != nil {
		c.dropStatement(ps)
	}
	stmts, err := c.sess.Parse(c.reqCtx(), sql, nil)
	if err != nil {
		if c.sendError(err) {
			return false
		}
		return c.readyForQuery()
	}
	if len(stmts) == 0 {
		c.send(&pgproto3.EmptyQueryResponse{})
	}
	for i, st := range stmts {
		err := c.runSimpleStatement(withMoreBeforeSync(c.reqCtx(), i < len(stmts)-1), st)
		if err == nil {
			continue
		}
		for _, rest := range stmts[i+1:] {
			rest.Close()
		}
		if c.sendError(err) {
			c.flush() // a FATAL error still reaches the client
			return false
		}
		break
	}
	if c.werr != nil {
		return false
	}
	return c.sync()
}

// runSimpleStatement binds st without arguments and runs it to completion,
// all columns in text format.
func (c *conn) runSimpleStatement(ctx context.Context, st Statement) error {
	defer st.Close()
	if n := len(st.ParamOIDs()); n > 0 {
		// PostgreSQL's own wording when a simple query mentions $n.
		return pgerror.New(pgerror.UndefinedParameter, "there is no parameter $%d", n)
	}
	p, err := st.Bind(ctx, nil)
	if err != nil {
		return err
	}
	defer p.Close()
	cols := p.Columns()
	if cols != nil {
		c.sendRowDescription(cols, nil)
	}
	w := &rowWriter{c: c, cols: cols}
	tag, done, err := p.Execute(ctx, 0, w)
	if err != nil {
		return err
	}
	w.finishCopy()
	if !done {
		return pgerror.New(pgerror.InternalError, "portal suspended without a row limit")
	}
	c.sendCompletion(tag)
	return nil
}

// sendCompletion ends one statement's output: CommandComplete, or
// EmptyQueryResponse for the empty tag of an empty query.
func (c *conn) sendCompletion(tag string) {
	if tag == "" {
		c.send(&pgproto3.EmptyQueryResponse{})
		return
	}
	c.send(&pgproto3.CommandComplete{CommandTag: []byte(tag)})
}

// sendRowDescription describes cols, each in its result format (nil: text).
func (c *conn) sendRowDescription(cols []Column, formats []int16) {
	fields := make([]pgproto3.FieldDescription, len(cols))
	for i, col := range cols {
		var f int16
		if formats != nil {
			f = formats[i]
		}
		fields[i] = pgproto3.FieldDescription{
			Name:                 []byte(col.Name),
			TableOID:             col.TableOID,
			TableAttributeNumber: uint16(col.AttNum),
			DataTypeOID:          col.TypeOID,
			DataTypeSize:         col.TypeSize,
			TypeModifier:         col.TypeMod,
			Format:               f,
		}
	}
	c.send(&pgproto3.RowDescription{Fields: fields})
}

// rowWriter encodes a portal's rows into DataRow messages and flushes
// whenever the output passes flushThreshold.
type rowWriter struct {
	c       *conn
	cols    []Column
	formats []int16 // per column; nil means all text

	copy    copyMode    // a COPY TO is sending (copy.go)
	copyOut *copyWriter // its writer
}

// WriteRow implements RowWriter.
func (w *rowWriter) WriteRow(values []any) error {
	c := w.c
	if len(values) != len(w.cols) {
		// The schema changed between the statement's description and its
		// run (a table another session altered, applied in between): as
		// PostgreSQL answers for a prepared statement whose result changed.
		return pgerror.New(pgerror.FeatureNotSupported, "cached plan must not change result type").
			WithDetail(fmt.Sprintf("The statement was described with %d columns; its rows now have %d.", len(w.cols), len(values)))
	}
	c.scratch = c.scratch[:0]
	c.values = c.values[:0]
	for i, v := range values {
		var format int16
		if w.formats != nil {
			format = w.formats[i]
		}
		start := len(c.scratch)
		buf, isNull, err := appendValue(c.types, c.scratch, w.cols[i].TypeOID, format, numericScale(w.cols[i], v))
		if err != nil {
			return err
		}
		c.scratch = buf
		if isNull {
			c.values = append(c.values, nil)
		} else {
			// Full slice expression: a later append cannot write into it.
			c.values = append(c.values, c.scratch[start:len(c.scratch):len(c.scratch)])
		}
	}
	c.send(&pgproto3.DataRow{Values: c.values})
	if len(c.wbuf) >= flushThreshold {
		return c.flush()
	}
	return c.werr
}
