package server

import (
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pgraft/pgraft/pgwire"
	"github.com/pgraft/pgraft/pgwire/pgerror"
	"github.com/pgraft/pgraft/sqlengine"
	"github.com/pgraft/pgraft/sqlengine/translate"
)

// copy.go runs COPY … FROM STDIN and COPY … TO STDOUT (docs/design.md,
// "COPY"). pgwire parses and prints the data formats; the session turns
// them into what it already knows how to run:
//   - COPY FROM reads the client's rows and writes them as parameterized
//     multi-row INSERTs (copyBatchRows rows each) through the session's
//     ordinary write path, inside one transaction: its own block when the
//     client is in none (committed as one log entry at the end, or rolled
//     back whole on any error), else the client's block. Leaders,
//     followers (forwarding), privileges, defaults, sequences and
//     constraints all come from there.
//   - COPY TO runs its query as a read (on a follower: locally) and
//     streams the rows.

// copyBatchRows is how many rows one INSERT of a COPY FROM carries, at
// most; copyBatchParams bounds its parameters (SQLite allows 32766).
const (
	copyBatchRows   = 500
	copyBatchParams = 30000
)

// runCopy is Execute for a COPY portal.
func (s *session) runCopy(ctx context.Context, p *portal, w pgwire.RowWriter) (string, bool, error) {
	if p.started {
		return p.tag, true, nil
	}
	p.started = true
	st := p.stmt.st
	copier, ok := w.(pgwire.Copier)
	if !ok {
		return "", true, pgerror.Unsupported("COPY here")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.admitLocked(st); err != nil {
		return "", true, err
	}
	s.touchLocked()
	s.statementStartedLocked(ctx, p.stmt.oneMessage) // clock.go
	defer s.armIdleTimerLocked()
	if err := s.checkAccess(st); err != nil {
		return "", true, s.failLocked(err)
	}
	var n int64
	var err error
	if st.Copy.From {
		n, err = s.copyFromLocked(ctx, st.Copy, copier)
	} else {
		n, err = s.copyToLocked(ctx, st.Copy, copier)
	}
	p.done = true
	if err != nil {
		return "", true, s.failLocked(contextError(ctx, err))
	}
	p.tag = pgwire.CopyTag(n)
	return p.tag, true, nil
}

// copySpec is the protocol's view of a COPY's options over cols.
func copySpec(c *translate.CopyStmt, cols []pgwire.Column) (*pgwire.CopySpec, error) {
	o := c.Options
	spec := &pgwire.CopySpec{Relation: c.Relation, Columns: cols, Null: o.Null,
		Header: o.Header, HeaderMatch: o.HeaderMatch}
	switch o.Format {
	case "csv":
		spec.Format = pgwire.CopyCSV
		spec.Quote, spec.Escape = o.Quote[0], o.Escape[0]
	case "binary":
		spec.Format = pgwire.CopyBinary
	}
	if o.Delimiter != "" {
		spec.Delimiter = o.Delimiter[0]
	}
	index := func(list []string, opt string) ([]bool, error) {
		if len(list) == 0 {
			return nil, nil
		}
		flags := make([]bool, len(cols))
		for _, name := range list {
			found := false
			for i, col := range cols {
				if col.Name == name {
					flags[i], found = true, true
				}
			}
			if !found {
				return nil, pgerror.New(pgerror.InvalidColumnReference, "%s column \"%s\" not referenced by COPY", opt, name)
			}
		}
		return flags, nil
	}
	var err error
	if spec.ForceQuote, err = index(o.ForceQuote, "FORCE_QUOTE"); err != nil {
		return nil, err
	}
	if o.ForceQuoteAll {
		spec.ForceQuote = make([]bool, len(cols))
		for i := range spec.ForceQuote {
			spec.ForceQuote[i] = true
		}
	}
	if spec.ForceNotNull, err = index(o.ForceNotNull, "FORCE_NOT_NULL"); err != nil {
		return nil, err
	}
	if spec.ForceNull, err = index(o.ForceNull, "FORCE_NULL"); err != nil {
		return nil, err
	}
	return spec, nil
}

// copyToLocked runs COPY … TO STDOUT: the query as a read, its rows
// streamed as CopyData.
func (s *session) copyToLocked(ctx context.Context, c *translate.CopyStmt, copier pgwire.Copier) (int64, error) {
	q := c.Query
	if err := s.checkAccess(q); err != nil {
		return 0, err
	}
	cols, err := s.describe(ctx, q, describeOpts{locked: true})
	if err != nil {
		return 0, err
	}
	spec, err := copySpec(c, cols)
	if err != nil {
		return 0, err
	}
	qp := &portal{stmt: &statement{s: s, st: q, cols: cols, done: true}, cols: cols, loc: s.set.location()}
	defer qp.finish()
	if err := s.runSelectLocked(ctx, qp); err != nil {
		return 0, err
	}
	out, err := copier.CopyOut(spec)
	if err != nil {
		return 0, err
	}
	var n int64
	for {
		vals, ok, err := qp.next()
		if err != nil {
			return n, contextError(ctx, err)
		}
		if !ok {
			return n, nil
		}
		if err := out.WriteRow(qp.convert(vals)); err != nil {
			return n, err
		}
		n++
	}
}

// copyFromLocked runs COPY … FROM STDIN.
func (s *session) copyFromLocked(ctx context.Context, c *translate.CopyStmt, copier pgwire.Copier) (int64, error) {
	if s.readOnly() {
		return 0, pgerror.New(pgerror.ReadOnlySQLTransaction, "cannot execute COPY FROM in a read-only transaction")
	}
	cols := make([]pgwire.Column, len(c.Columns))
	for i, col := range c.Columns {
		size := int16(-1)
		if t := translate.TypeByOID(col.OID); t != nil {
			size = t.Len
		}
		cols[i] = pgwire.Column{Name: col.Name, TypeOID: col.OID, TypeMod: col.TypeMod, TypeSize: size}
	}
	spec, err := copySpec(c, cols)
	if err != nil {
		return 0, err
	}
	spec.Convert = func(i int, v any) (any, error) {
		if s, ok := v.(string); ok {
			if err := sqlengine.CheckInput(s, cols[i].TypeOID); err != nil {
				return nil, err
			}
		}
		return sqlengine.ToStorage(v, cols[i].TypeOID)
	}
	own := s.tx.state == txIdle
	if own && pgwire.MoreBeforeSync(ctx) {
		// More statements follow before the sync point: the COPY opens
		// their implicit transaction, as any write does there.
		s.beginImplicitLocked()
		own = false
	}
	if own {
		s.beginLocked(nil)
	}
	n, err := s.copyRowsLocked(ctx, c, spec, copier)
	if err == nil && own {
		_, err = s.commitLocked(ctx)
		err = entryLimitHint(err)
	}
	if err != nil {
		if own {
			s.rollbackLocked()
		}
		return 0, err
	}
	return n, nil
}

// copyRowsLocked reads the rows and writes them batch by batch.
func (s *session) copyRowsLocked(ctx context.Context, c *translate.CopyStmt, spec *pgwire.CopySpec, copier pgwire.Copier) (int64, error) {
	ncols := len(c.Columns)
	perBatch := copyBatchRows
	if ncols > 0 && perBatch*ncols > copyBatchParams {
		perBatch = max(1, copyBatchParams/ncols)
	}
	// A client that stops sending while the COPY holds the write gate holds
	// every writer of the cluster: past pgraft.idle_write_timeout without a
	// row, the COPY ends (25P03), as an idle block holding the gate does.
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var holding atomic.Bool
	idle := s.set.duration("pgraft.idle_write_timeout")
	var timer *time.Timer
	if idle > 0 {
		timer = time.AfterFunc(idle, func() {
			if holding.Load() {
				cancel(pgerror.New(pgerror.IdleInTransactionTimeout,
					"canceling COPY: the client sent no data for %s while it held the write gate", idle).
					WithHint("Send COPY data without pauses, or raise pgraft.idle_write_timeout."))
			}
		})
		defer timer.Stop()
	}
	r, err := copier.CopyIn(ctx, spec)
	if err != nil {
		return 0, err
	}
	var n, size int64
	limit := s.set.bytes("pgraft.max_transaction_size")
	args := make([]any, 0, perBatch*ncols)
	rows := 0
	lines := make([]int64, 0, perBatch) // the input line of each row of the batch
	flush := func() error {
		if rows == 0 {
			return nil
		}
		st, err := s.copyInsert(ctx, c, rows)
		if err != nil {
			return err
		}
		size += int64(len(st.SQL)) + argsSize(args)
		if limit > 0 && size > limit {
			return copyTooLarge(size, limit)
		}
		if err := s.checkAccess(st); err != nil {
			return err
		}
		if err := s.ensureWriteLocked(ctx, st); err != nil {
			return err
		}
		holding.Store(s.tx.w.holdsGate())
		res, err := s.tx.w.exec(ctx, st, args)
		if err != nil {
			return s.copyLocateError(ctx, c, err, args, lines)
		}
		s.seqs.note(res.Seqs) // sequences.go
		// A fresh slice: the writer keeps the batch's arguments for the entry.
		args, rows, lines = make([]any, 0, perBatch*ncols), 0, lines[:0]
		return nil
	}
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		if timer != nil {
			timer.Reset(idle) // runs only while the client is awaited
		}
		row, err := r.ReadRow()
		if timer != nil {
			timer.Stop()
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return n, err
		}
		if ncols == 0 {
			n++ // PostgreSQL inserts an empty row; pgraft's tables always have columns
			continue
		}
		args = append(args, row...)
		lines = append(lines, r.Line())
		rows++
		n++
		if rows == perBatch {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	return n, flush()
}

// copyLocateError adds "COPY t, line N" to the error of a batch, as
// PostgreSQL names the row that failed. In a batch of several rows on the
// leader, a constraint error's row is found by running the rows one by one
// (the batch failed whole; the transaction fails with the COPY anyway, so
// nothing of the search survives). A forwarded batch's row is not known:
// its error keeps no line (its DETAIL names the key).
func (s *session) copyLocateError(ctx context.Context, c *translate.CopyStmt, err error, args []any, lines []int64) error {
	err = sqlengine.MapError(err)
	pe := pgerror.As(err)
	if pe == nil || pe.Where != "" {
		return err
	}
	at := func(e *pgerror.Error, line int64) error {
		out := *e
		out.Where = pgwire.CopyContext(c.Relation, line)
		return &out
	}
	if len(lines) == 1 {
		return at(pe, lines[0])
	}
	if _, local := s.tx.w.(*localWriter); !local || !strings.HasPrefix(pe.Code, "23") {
		return err
	}
	one, terr := s.copyInsert(ctx, c, 1)
	if terr != nil {
		return err
	}
	ncols := len(c.Columns)
	for i, line := range lines {
		row := args[i*ncols : (i+1)*ncols : (i+1)*ncols]
		if _, rerr := s.tx.w.exec(ctx, one, row); rerr != nil {
			if rpe := pgerror.As(sqlengine.MapError(rerr)); rpe != nil && rpe.Code == pe.Code {
				return at(rpe, line)
			}
			return err
		}
	}
	return err
}

// copyInsert is the translated INSERT of rows rows.
func (s *session) copyInsert(ctx context.Context, c *translate.CopyStmt, rows int) (*translate.Stmt, error) {
	ncols := len(c.Columns)
	var b strings.Builder
	b.Grow(len(c.Insert) + rows*ncols*8)
	b.WriteString(c.Insert)
	b.WriteString(" VALUES ")
	p := 1
	for r := 0; r < rows; r++ {
		if r > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for i := 0; i < ncols; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(p))
			p++
		}
		b.WriteByte(')')
	}
	oids := make([]uint32, rows*ncols)
	for i := range oids {
		oids[i] = c.Columns[i%ncols].OID
	}
	schema, private, err := s.parseSchema(ctx)
	if err != nil {
		return nil, err
	}
	stmts, err := s.translate(ctx, b.String(), oids, schema, private)
	if err != nil {
		return nil, err
	}
	if len(stmts) != 1 || stmts[0].Kind != translate.KindInsert {
		return nil, pgerror.New(pgerror.InternalError, "COPY made %d statements", len(stmts))
	}
	return stmts[0], nil
}

// argsSize estimates what args add to the transaction's log entry.
func argsSize(args []any) int64 {
	var n int64
	for _, a := range args {
		switch v := a.(type) {
		case string:
			n += int64(len(v)) + 2
		case []byte:
			n += int64(len(v)) + 2
		default:
			n += 9
		}
	}
	return n
}

const copyLimitHint = "One statement of a transaction, and so a batch of a COPY, must fit one log entry of at most 16 MiB."

// copyTooLarge is the 54000 of a COPY whose transaction outgrows
// pgraft.max_transaction_size: it fails before anything is proposed, so
// nothing changes.
func copyTooLarge(size, limit int64) error {
	return pgerror.New(pgerror.ProgramLimitExceeded,
		"COPY data too large (more than %d bytes, pgraft.max_transaction_size is %d)", size, limit).
		WithHint(txLimitHint)
}

// entryLimitHint adds the hint to the commit's own 54000.
func entryLimitHint(err error) error {
	pe := pgerror.As(err)
	if pe == nil || pe.Code != pgerror.ProgramLimitExceeded || pe.Hint != "" {
		return err
	}
	out := *pe
	out.Hint = copyLimitHint
	return &out
}
