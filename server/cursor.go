package server

import (
	"context"
	"strconv"

	"github.com/pgraft/pgraft/pgwire"
	"github.com/pgraft/pgraft/pgwire/pgerror"
	"github.com/pgraft/pgraft/sqlengine/translate"
)

// cursor is an SQL-level cursor (DECLARE … CURSOR): a portal of the session
// that FETCH reads in steps. Cursors without HOLD end with their transaction.
type cursor struct {
	p    *portal
	hold bool
}

// declareLocked opens a cursor. Its query starts at the first FETCH; its
// columns are known now, for a Describe of the cursor's portal (ctx bounds
// the wait for a read connection to describe on).
func (s *session) declareLocked(ctx context.Context, p *portal) error {
	c := p.stmt.st.Cursor
	if !c.Hold && s.tx.state == txIdle {
		return pgerror.New(pgerror.NoActiveSQLTransaction, "DECLARE CURSOR can only be used in transaction blocks")
	}
	if _, ok := s.cursors[c.Name]; ok {
		return pgerror.New(pgerror.DuplicateCursor, "cursor %q already exists", c.Name)
	}
	if s.cursors == nil {
		s.cursors = map[string]*cursor{}
	}
	inner := &portal{stmt: &statement{s: s, st: c.Query}, args: p.args}
	if cols, err := inner.stmt.columns(ctx, true); err == nil {
		inner.cols, inner.described = cols, true // else the first FETCH fails
	}
	s.cursors[c.Name] = &cursor{p: inner, hold: c.Hold}
	return nil
}

// fetchLocked runs FETCH or MOVE: up to Count rows (0 = all) of the cursor
// become the FETCH statement's own rows.
func (s *session) fetchLocked(ctx context.Context, p *portal) error {
	c := p.stmt.st.Cursor
	cur, ok := s.cursors[c.Name]
	if !ok {
		return pgerror.New(pgerror.InvalidCursorName, "cursor %q does not exist", c.Name)
	}
	cp := cur.p
	if !cp.started {
		if err := s.startCursorLocked(ctx, cp); err != nil {
			return err
		}
	} else {
		cp.link(ctx)
	}
	defer cp.unlink() // before FETCH's statement context ends
	var n int64
	for c.Count == 0 || n < c.Count {
		if cp.done {
			break
		}
		vals, ok, err := cp.next()
		if err != nil {
			cp.finish()
			return err
		}
		if !ok {
			cp.finish()
			break
		}
		n++
		if !c.Move {
			p.mat = append(p.mat, append([]any(nil), cp.convert(vals)...))
		}
	}
	p.tag = p.stmt.st.Tag + " " + strconv.FormatInt(n, 10)
	p.done = c.Move
	return nil
}

// startCursorLocked starts a cursor's query under ctx, the first FETCH's
// statement context. Its rows outlive that FETCH (portal.rowsContext).
func (s *session) startCursorLocked(ctx context.Context, cp *portal) error {
	cp.started = true
	cp.loc = s.set.location()
	cols, err := cp.stmt.columns(ctx, true)
	if err != nil {
		return err
	}
	cp.cols = cols
	return s.dispatchLocked(ctx, cp)
}

// closeCursorLocked runs CLOSE name | ALL.
func (s *session) closeCursorLocked(c *translate.CursorStmt) error {
	if c.All {
		s.closeCursors(true)
		return nil
	}
	cur, ok := s.cursors[c.Name]
	if !ok {
		return pgerror.New(pgerror.InvalidCursorName, "cursor %q does not exist", c.Name)
	}
	cur.p.finish()
	delete(s.cursors, c.Name)
	return nil
}

// closeCursors closes the cursors a transaction end ends (all with
// withHold).
func (s *session) closeCursors(withHold bool) {
	for name, cur := range s.cursors {
		if withHold || !cur.hold {
			cur.p.finish()
			delete(s.cursors, name)
		}
	}
}

// cursorColumns is the RowDescription of FETCH: its cursor's columns.
func (s *session) cursorColumns(ctx context.Context, st *translate.Stmt, locked bool) ([]pgwire.Column, error) {
	if st.Cursor.Move {
		return nil, nil
	}
	cur, ok := s.cursors[st.Cursor.Name]
	if !ok {
		return nil, pgerror.New(pgerror.InvalidCursorName, "cursor %q does not exist", st.Cursor.Name)
	}
	return cur.p.stmt.columns(ctx, locked)
}

var _ pgwire.CursorFinder = (*session)(nil)

// FindCursor implements pgwire.CursorFinder.
func (s *session) FindCursor(name string) (pgwire.Portal, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.cursors[name]
	if !ok {
		return nil, false
	}
	return cur.p, true
}
