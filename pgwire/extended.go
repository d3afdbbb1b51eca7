package pgwire

import (
	"context"

	"slices"

	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// prepared is a statement made by a Parse message.
type prepared struct {
	name      string
	stmt      Statement // nil for an empty query
	paramOIDs []uint32  // as the statement reports them; 0 = unknown (text)
	portals   int       // open portals bound from it
	dropped   bool      // no longer named; closed once its last portal is
}

// portal is a statement bound by a Bind message.
type portal struct {
	name    string
	from    *prepared
	p       Portal // nil for an empty query
	cols    []Column
	formats []int16 // one per column
}

// runExtended handles Parse, Bind, Describe, Execute and Close. An error is
// answered with an ErrorResponse and the rest up to Sync is skipped.
func (c *conn) runExtended(msg pgproto3.FrontendMessage) bool {
	var err error
	switch m := msg.(type) {
	case *pgproto3.Parse:
		err = c.parse(m)
	case *pgproto3.Bind:
		err = c.bind(m)
	case *pgproto3.Describe:
		err = c.describe(m)
	case *pgproto3.Execute:
		err = c.execute(c.reqCtx(), m)
	case *pgproto3.Close:
		err = c.closeObject(m)
	}
	if err != nil {
		c.ignoreUntilSync = true
		if c.sendError(err) {
			c.flush()
			return false
		}
	}
	return c.werr == nil
}

func (c *conn) parse(m *pgproto3.Parse) error {
	if _, ok := c.stmts[m.Name]; ok && m.Name != "" {
		return pgerror.New(pgerror.DuplicatePreparedStatement, "prepared statement \"%s\" already exists", m.Name)
	}
	clientOIDs := slices.Clone(m.ParameterOIDs)
	stmts, err := c.sess.Parse(c.reqCtx(), m.Query, clientOIDs)
	if err != nil {
		return err
	}
	if len(stmts) > 1 {
		for _, st := range stmts {
			st.Close()
		}
		return pgerror.New(pgerror.SyntaxError, "cannot insert multiple commands into a prepared statement")
	}
	ps := &prepared{name: m.Name, paramOIDs: clientOIDs}
	if len(stmts) == 1 {
		ps.stmt = stmts[0]
		ps.paramOIDs = stmts[0].ParamOIDs()
	}
	if old := c.stmts[""]; old != nil && m.Name == "" {
		c.dropStatement(old) // the unnamed statement is replaced by every unnamed Parse
	}
	c.stmts[m.Name] = ps
	c.send(&pgproto3.ParseComplete{})
	return nil
}

func (c *conn) bind(m *pgproto3.Bind) error {
	ps := c.stmts[m.PreparedStatement]
	if ps == nil {
		return unknownStatement(m.PreparedStatement)
	}
	if _, ok := c.portals[m.DestinationPortal]; ok && m.DestinationPortal != "" {
		return pgerror.New(pgerror.DuplicateCursor, "portal \"%s\" already exists", m.DestinationPortal)
	}
	if len(m.Parameters) != len(ps.paramOIDs) {
		return pgerror.New(pgerror.ProtocolViolation,
			"bind message supplies %d parameters, but prepared statement \"%s\" requires %d",
			len(m.Parameters), m.PreparedStatement, len(ps.paramOIDs))
	}
	args, err := decodeParams(c.types, ps.paramOIDs, m.ParameterFormatCodes, m.Parameters)
	if err != nil {
		return err
	}
	if old := c.portals[""]; old != nil && m.DestinationPortal == "" {
		c.closePortal(old) // before Bind: the new portal may need what the old one holds
	}
	pt := &portal{name: m.DestinationPortal, from: ps}
	if ps.stmt != nil {
		if pt.p, err = ps.stmt.Bind(c.reqCtx(), args); err != nil {
			return err
		}
		pt.cols = pt.p.Columns()
	}
	if pt.formats, err = resultFormats(m.ResultFormatCodes, len(pt.cols)); err != nil {
		if pt.p != nil {
			pt.p.Close()
		}
		return err
	}
	ps.portals++
	c.portals[pt.name] = pt
	c.send(&pgproto3.BindComplete{})
	return nil
}

// resultFormats expands Bind's result format codes (none: all text; one: all
// columns; else one per column) to one per column.
func resultFormats(codes []int16, ncols int) ([]int16, error) {
	if len(codes) > 1 && len(codes) != ncols {
		return nil, pgerror.New(pgerror.ProtocolViolation,
			"bind message has %d result formats but query has %d columns", len(codes), ncols)
	}
	formats := make([]int16, ncols)
	for i := range formats {
		switch len(codes) {
		case 0:
		case 1:
			formats[i] = codes[0]
		default:
			formats[i] = codes[i]
		}
		if err := checkFormat(formats[i]); err != nil {
			return nil, err
		}
	}
	return formats, nil
}

func checkFormat(f int16) error {
	if f != pgtype.TextFormatCode && f != pgtype.BinaryFormatCode {
		return pgerror.New(pgerror.InvalidParameterValue, "unsupported format code: %d", f)
	}
	return nil
}

func (c *conn) describe(m *pgproto3.Describe) error {
	switch m.ObjectType {
	case 'S':
		ps := c.stmts[m.Name]
		if ps == nil {
			return unknownStatement(m.Name)
		}
		oids := make([]uint32, len(ps.paramOIDs))
		for i, oid := range ps.paramOIDs {
			oids[i] = textIfUnknown(oid)
		}
		c.send(&pgproto3.ParameterDescription{ParameterOIDs: oids})
		var cols []Column
		if ps.stmt != nil {
			var err error
			if cols, err = ps.stmt.Columns(c.reqCtx()); err != nil {
				return err
			}
		}
		c.sendColumnsOrNoData(cols, nil)
	case 'P':
		pt := c.portal(m.Name)
		if pt == nil {
			return unknownPortal(m.Name)
		}
		c.sendColumnsOrNoData(pt.cols, pt.formats)
	default:
		return protocolViolation("invalid DESCRIBE message subtype %d", m.ObjectType)
	}
	return nil
}

func (c *conn) sendColumnsOrNoData(cols []Column, formats []int16) {
	if cols == nil {
		c.send(&pgproto3.NoData{})
		return
	}
	c.sendRowDescription(cols, formats)
}

func (c *conn) execute(ctx context.Context, m *pgproto3.Execute) error {
	pt := c.portal(m.Portal)
	if pt == nil {
		return unknownPortal(m.Portal)
	}
	if pt.p == nil {
		c.send(&pgproto3.EmptyQueryResponse{})
		return nil
	}
	w := &rowWriter{c: c, cols: pt.cols, formats: pt.formats}
	tag, done, err := pt.p.Execute(ctx, int(m.MaxRows), w)
	if err != nil {
		return err
	}
	w.finishCopy()
	if !done {
		c.send(&pgproto3.PortalSuspended{})
		return nil
	}
	c.sendCompletion(tag)
	return nil
}

func (c *conn) closeObject(m *pgproto3.Close) error {
	switch m.ObjectType {
	case 'S':
		if ps := c.stmts[m.Name]; ps != nil {
			// Closing a statement closes the portals bound from it (PostgreSQL docs, Close).
			for _, pt := range c.portals {
				if pt.from == ps {
					c.closePortal(pt)
				}
			}
			c.dropStatement(ps)
		}
	case 'P':
		if pt := c.portals[m.Name]; pt != nil {
			c.closePortal(pt)
		}
	default:
		return protocolViolation("invalid CLOSE message subtype %d", m.ObjectType)
	}
	c.send(&pgproto3.CloseComplete{})
	return nil
}

// closePortal forgets pt and releases it, and its statement too when the
// statement is no longer named and this was its last portal.
func (c *conn) closePortal(pt *portal) {
	if c.portals[pt.name] == pt {
		delete(c.portals, pt.name)
	}
	if pt.p != nil {
		pt.p.Close()
	}
	pt.from.portals--
	if pt.from.dropped && pt.from.portals == 0 && pt.from.stmt != nil {
		pt.from.stmt.Close()
	}
}

// dropStatement forgets ps's name; the Statement is closed now, or with its
// last portal (a portal outlives the unnamed statement it came from).
func (c *conn) dropStatement(ps *prepared) {
	if c.stmts[ps.name] == ps {
		delete(c.stmts, ps.name)
	}
	if ps.dropped {
		return
	}
	ps.dropped = true
	if ps.portals == 0 && ps.stmt != nil {
		ps.stmt.Close()
	}
}

func unknownStatement(name string) error {
	if name == "" {
		return pgerror.New(pgerror.InvalidSQLStatementName, "unnamed prepared statement does not exist")
	}
	return pgerror.New(pgerror.InvalidSQLStatementName, "prepared statement \"%s\" does not exist", name)
}

func unknownPortal(name string) error {
	if name == "" {
		return pgerror.New(pgerror.InvalidCursorName, "portal \"\" does not exist")
	}
	return pgerror.New(pgerror.InvalidCursorName, "portal \"%s\" does not exist", name)
}

// portal returns the named portal: one bound with Bind, or an SQL-level
// cursor of the session (DECLARE), which PostgreSQL also exposes as a
// portal (psycopg 3 describes its named cursors that way). Cursor results
// are in text format.
func (c *conn) portal(name string) *portal {
	if pt := c.portals[name]; pt != nil {
		return pt
	}
	f, ok := c.sess.(CursorFinder)
	if !ok || name == "" {
		return nil
	}
	p, ok := f.FindCursor(name)
	if !ok {
		return nil
	}
	cols := p.Columns()
	return &portal{name: name, p: p, cols: cols, formats: make([]int16, len(cols))}
}
