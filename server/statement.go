package server

import (
	"cmp"
	"context"
	"time"

	"github.com/pgraft/pgraft/pgvalue"
	"github.com/pgraft/pgraft/pgwire"
	"github.com/pgraft/pgraft/pgwire/pgerror"
	"github.com/pgraft/pgraft/sqlengine"
	"github.com/pgraft/pgraft/sqlengine/translate"
)

// statement is a translated statement (pgwire.Statement).
type statement struct {
	s    *session
	st   *translate.Stmt
	cols []pgwire.Column // computed once by columns
	done bool            // cols computed
	// private: translated against the session's transaction's own schema,
	// so its description is not for the shared cache.
	private bool
	// deferred is the text of a statement of a simple query that follows a
	// schema change in the same string: st is nil, and Bind translates it
	// then, against the schema the statements before it left.
	deferred string
	// oneMessage: one of several statements of a simple query, which
	// share one statement_timestamp() (clock.go).
	oneMessage bool
}

var _ pgwire.Statement = (*statement)(nil)

// ParamOIDs implements pgwire.Statement.
func (p *statement) ParamOIDs() []uint32 {
	if p.deferred != "" {
		return nil // only a simple query defers, and it has no parameters
	}
	return p.st.ParamOIDs
}

// Columns implements pgwire.Statement (Describe of a statement).
func (p *statement) Columns(ctx context.Context) ([]pgwire.Column, error) {
	if p.done {
		return p.cols, nil
	}
	ctx, stop := p.s.statementContext(ctx)
	defer stop()
	cols, err := p.columns(ctx, false)
	return cols, contextError(ctx, err)
}

// columns is Columns for callers that say whether they hold session.mu,
// which describing on the leader needs.
func (p *statement) columns(ctx context.Context, locked bool) ([]pgwire.Column, error) {
	if p.done {
		return p.cols, nil
	}
	cols, err := p.s.describe(ctx, p.st, describeOpts{locked: locked, private: p.private})
	if err != nil {
		return nil, err
	}
	p.cols, p.done = cols, true
	return cols, nil
}

// Bind implements pgwire.Statement.
func (p *statement) Bind(ctx context.Context, args []any) (pgwire.Portal, error) {
	if p.deferred != "" {
		sts, err := p.s.Parse(ctx, p.deferred, nil)
		if err != nil {
			// Earlier statements of the string ran: their (implicit)
			// block fails with this one, as with any statement's error.
			return nil, p.s.statementFailed(err)
		}
		if len(sts) != 1 {
			return nil, pgerror.New(pgerror.InternalError, "a deferred statement translated to %d", len(sts))
		}
		return sts[0].Bind(ctx, args)
	}
	if len(args) != len(p.st.ParamOIDs) {
		return nil, pgerror.New(pgerror.ProtocolViolation,
			"bind message supplies %d parameters, but prepared statement requires %d", len(args), len(p.st.ParamOIDs))
	}
	stored := p.st.Bound // the query's own constants (translate.Shape)
	if len(stored) == 0 {
		stored = make([]any, len(args))
		for i, a := range args {
			v, err := sqlengine.ToStorage(a, p.st.ParamOIDs[i])
			if err != nil {
				return nil, err
			}
			stored[i] = v
		}
	}
	pt := &portal{stmt: p, args: stored, cols: p.cols, described: true}
	if !p.done {
		// Described here, where a context bounds the wait (for a read
		// connection, say), rather than in Columns, which has none. A
		// statement that cannot be described fails when it runs, as before.
		ctx, stop := p.s.statementContext(ctx)
		defer stop()
		pt.cols, _ = p.columns(ctx, false)
	}
	return pt, nil
}

// Close implements pgwire.Statement.
func (p *statement) Close() {}

// describeOpts says how describe is called: whether the caller holds s.mu
// (describing on the leader needs it), and whether the statement was
// translated against a transaction's private schema (not cached).
type describeOpts struct {
	locked, private bool
}

// describe returns the columns a statement's rows have, nil if it returns
// none.
func (s *session) describe(ctx context.Context, st *translate.Stmt, o describeOpts) (cols []pgwire.Column, err error) {
	switch {
	case st.Kind == translate.KindShow:
		if st.Show == "all" {
			return []pgwire.Column{textColumn("name"), textColumn("setting"), textColumn("description")}, nil
		}
		return []pgwire.Column{textColumn(showColumnName(st.Show))}, nil
	case st.SessionSeq != nil:
		return []pgwire.Column{{Name: st.SessionSeq.Column, TypeOID: pgvalue.OIDInt8, TypeSize: 8, TypeMod: -1}}, nil
	case st.Advisory != "":
		c := st.Columns[0]
		return []pgwire.Column{{Name: c.Name, TypeOID: c.OID, TypeSize: translate.TypeByOID(c.OID).Len, TypeMod: -1}}, nil
	case st.Kind == translate.KindFetch:
		return s.cursorColumns(ctx, st, o.locked) // not cached: it depends on the cursor
	case st.Kind == translate.KindSet && st.Set != nil && st.Set.Result:
		return []pgwire.Column{textColumn("set_config")}, nil
	case st.Kind == translate.KindSelect || st.Kind.IsWrite() && st.Kind != translate.KindDDL && st.Kind != translate.KindRole:
	default:
		return nil, nil
	}
	if cols, ok := s.srv.translations.Description(st); ok {
		return cols, nil
	}
	if o.private && !st.Catalog {
		// The transaction changed the schema: where it runs has it. (The
		// catalog relations' columns are the same everywhere.)
		if cols, ok, err := s.describeInBlock(ctx, st, o.locked); ok {
			return cols, err
		}
	}
	info, err := s.srv.eng.Describe(ctx, st.SQL)
	if err != nil {
		// A table the transaction created itself exists only where the
		// block runs; what is described there is not cached.
		if cols, ok, berr := s.describeInBlock(ctx, st, o.locked); ok {
			return cols, berr
		}
		return nil, err
	}
	cols = columnsOf(st, info)
	if !o.private {
		s.srv.translations.SetDescription(st, cols)
	}
	return cols, nil
}

// describeInBlock describes a statement where the session's writing block
// runs (txwriter.go); ok is false outside such a block. locked says whether
// the caller holds s.mu.
func (s *session) describeInBlock(ctx context.Context, st *translate.Stmt, locked bool) (cols []pgwire.Column, ok bool, err error) {
	if !locked {
		s.mu.Lock()
		defer s.mu.Unlock()
	}
	if s.tx.w == nil {
		return nil, false, nil
	}
	return s.tx.w.describe(ctx, st)
}

// columnsOf is the RowDescription of a statement SQLite described as info:
// nil for a statement that returns no rows (prepared only to check it, as
// PostgreSQL's Parse does).
func columnsOf(st *translate.Stmt, info sqlengine.StmtInfo) []pgwire.Column {
	if !st.Returning && st.Kind != translate.KindSelect {
		return nil
	}
	cols := make([]pgwire.Column, len(info.Names))
	for i, name := range info.Names {
		var oid, table uint32
		var att int16
		mod := int32(-1)
		if i < len(st.Columns) {
			rc := st.Columns[i]
			oid, mod, table, att = rc.OID, rc.TypeMod, rc.TableOID, rc.AttNum
		}
		if oid == 0 {
			if t := translate.TypeByDecl(info.DeclTypes[i]); t != nil {
				oid, mod = t.OID, sqlengine.DeclTypmod(info.DeclTypes[i])
			} else {
				oid = pgvalue.OIDText
			}
		}
		size := int16(-1)
		if t := translate.TypeByOID(oid); t != nil {
			size = t.Len
		}
		cols[i] = pgwire.Column{Name: name, TableOID: table, AttNum: att, TypeOID: oid, TypeSize: size, TypeMod: mod}
	}
	return cols
}

func textColumn(name string) pgwire.Column {
	return pgwire.Column{Name: name, TypeOID: pgvalue.OIDText, TypeSize: -1, TypeMod: -1}
}

// portal is a bound statement (pgwire.Portal). Rows come either streaming
// from a read connection or materialized from a write's result.
type portal struct {
	t0      time.Time // the first Execute began (metrics)
	stmt    *statement
	args    []any
	cols    []pgwire.Column
	started bool
	done    bool
	tag     string
	count   int64

	rows *sqlengine.Rows      // streaming
	seqs []sqlengine.SeqValue // a write's sequence values, for a forwarded write's answer
	mat  [][]any              // materialized
	pos  int
	// rowsCtx is the context the streaming rows run in: it outlives the
	// Execute (or FETCH) that started them, and each Execute or FETCH that
	// reads them links its own statement context to it (link), so that
	// statement_timeout, CancelRequest and a client gone interrupt SQLite
	// while rows are fetched too.
	rowsCtx    context.Context
	rowsCancel context.CancelCauseFunc
	unlinkRows func() bool // stops the link of the Execute running now
	described  bool        // cols set by Bind
	loc        *time.Location
	outBuf     []any
}

var _ pgwire.Portal = (*portal)(nil)

// Columns implements pgwire.Portal. A portal made by Bind has its columns
// already; a cursor's portal is described when first asked (Describe of a
// cursor's name before its first FETCH).
func (p *portal) Columns() []pgwire.Column {
	if p.cols == nil && !p.described {
		cols, err := p.stmt.Columns(context.Background())
		if err == nil {
			p.cols = cols
		}
	}
	return p.cols
}

// Execute implements pgwire.Portal.
// Every Execute is a statement of its own for statement_timeout and
// CancelRequest, a suspended portal's later ones included.
func (p *portal) Execute(ctx context.Context, maxRows int, w pgwire.RowWriter) (tag string, done bool, err error) {
	s := p.stmt.s
	ctx, stop := s.statementContext(ctx)
	defer stop()
	if p.stmt.st != nil && p.stmt.st.Kind == translate.KindCopy {
		return s.runCopy(ctx, p, w) // copy.go
	}
	defer p.unlink() // first: the end of ctx must not end the rows
	defer func() {
		if done || err != nil {
			s.srv.metrics.statementDone(p.stmt.st.Kind, p.t0, err)
			if min := s.srv.cfg.LogMinDuration; min > 0 {
				if d := time.Since(p.t0); d >= min {
					s.log.Info("statement", "duration", d, "user", s.user, "sqlstate", cmp.Or(pgerror.Code(err), "00000"),
						"statement", p.stmt.st.Source)
				}
			}
			s.activityDone()
		}
	}()
	if !p.started {
		p.t0 = time.Now()
		p.started = true
		s.activityStarted(p.stmt.st.Source)
		p.loc = s.set.location()
		if err := s.start(ctx, p); err != nil {
			p.finish()
			return "", true, err
		}
	} else {
		p.link(ctx)
	}
	if p.done {
		return p.tag, true, nil
	}
	before := p.count
	n := 0
	for maxRows <= 0 || n < maxRows {
		vals, ok, err := p.next()
		if err != nil {
			p.finish()
			return "", true, s.statementFailed(contextError(ctx, err))
		}
		if !ok {
			p.finish()
			p.tag = p.completionTag(before)
			return p.tag, true, nil
		}
		if err := w.WriteRow(p.convert(vals)); err != nil {
			p.finish()
			return "", true, err
		}
		p.count++
		n++
	}
	if p.hasMore() {
		return "", false, nil
	}
	p.finish()
	p.tag = p.completionTag(before)
	return p.tag, true, nil
}

// completionTag is the CommandComplete tag at the end of an Execute: a
// query counts the rows of this Execute only (after a PortalSuspended, the
// rest), as PostgreSQL does; a write with RETURNING counts all rows written.
func (p *portal) completionTag(before int64) string {
	switch p.stmt.st.Kind {
	case translate.KindSelect, translate.KindFetch, translate.KindShow:
		return commandTag(p.stmt.st, p.count-before)
	}
	return commandTag(p.stmt.st, p.count)
}

// next returns the next row's storage values.
func (p *portal) next() ([]any, bool, error) {
	if p.rows != nil {
		if !p.rows.Next() {
			return nil, false, p.rows.Err()
		}
		vals, err := p.rows.Values()
		return vals, err == nil, err
	}
	if p.pos < len(p.mat) {
		p.pos++
		return p.mat[p.pos-1], true, nil
	}
	return nil, false, nil
}

// hasMore reports, after a row limit, whether rows remain. A streaming
// portal cannot tell without reading ahead, so it says yes; the next Execute
// then ends with zero rows and its tag, as PostgreSQL's does when the row
// count was an exact multiple of the limit.
func (p *portal) hasMore() bool {
	if p.rows != nil {
		return true
	}
	return p.pos < len(p.mat)
}

func (p *portal) convert(vals []any) []any {
	if cap(p.outBuf) < len(vals) {
		p.outBuf = make([]any, len(vals))
	}
	out := p.outBuf[:len(vals)]
	for i, v := range vals {
		oid := pgvalue.OIDText
		if i < len(p.cols) {
			oid = p.cols[i].TypeOID
		}
		out[i] = sqlengine.FromStorage(v, oid, p.loc)
	}
	return out
}

// finish releases what the portal holds; its result stays readable.
func (p *portal) finish() {
	if p.rows != nil {
		p.rows.Close()
		p.rows = nil
	}
	p.unlink()
	if p.rowsCancel != nil {
		p.rowsCancel(nil)
		p.rowsCtx, p.rowsCancel = nil, nil
	}
	p.mat = nil
	p.done = true
}

// rowsContext returns the context for a streaming read's rows, linked to
// ctx, the statement context of the Execute or FETCH starting them.
func (p *portal) rowsContext(ctx context.Context) context.Context {
	p.rowsCtx, p.rowsCancel = context.WithCancelCause(context.WithoutCancel(ctx))
	p.link(ctx)
	return p.rowsCtx
}

// link makes the end of ctx, a statement context reading the portal's rows,
// end the rows' context with the same cause; unlink undoes it before ctx
// ends normally. Rows interrupted so are finished: a later Execute or FETCH
// of the portal finds it ended, as PostgreSQL's failed portal.
func (p *portal) link(ctx context.Context) {
	p.unlink()
	if p.rowsCancel == nil {
		return
	}
	cancel := p.rowsCancel
	p.unlinkRows = context.AfterFunc(ctx, func() { cancel(context.Cause(ctx)) })
}

func (p *portal) unlink() {
	if p.unlinkRows != nil {
		p.unlinkRows()
		p.unlinkRows = nil
	}
}

// Close implements pgwire.Portal.
func (p *portal) Close() { p.finish() }
