package server

import (
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/pgraft/pgraft/pgwire/pgerror"
	"github.com/pgraft/pgraft/sqlengine"
)

// bigtxn.go commits a transaction larger than one log entry
// (docs/design.md, "Transactions larger than one entry"): the leader's
// speculative run spilled its operations to parts (sqlengine/stage.go);
// COMMIT proposes each part as a StagePart entry, then the final entry,
// which every node applies with all the parts as one transaction.

// defaultMaxTransactionSize is pgraft.max_transaction_size's default.
const defaultMaxTransactionSize = "4GB"

// proposeStaged proposes parts, then the final entry p, holding the write
// gate throughout, and returns the final entry's apply result. A part that
// is not logged means that the final entry is never proposed: the
// transaction did not commit (40001, or 57014 when the statement's context
// ended), and a discard entry drops what was staged.
func (s *session) proposeStaged(ctx context.Context, p *sqlengine.Payload, parts *sqlengine.Parts) (*sqlengine.ApplyResult, error) {
	t0 := time.Now()
	for {
		data, err := parts.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err == nil && len(data) > maxEntrySize { // one statement larger than an entry
			s.discardStaged(p.Ctx)
			return nil, pgerror.New(pgerror.ProgramLimitExceeded,
				"statement too large for one log entry (%d bytes, limit %d)", len(data), maxEntrySize)
		}
		if err == nil {
			_, err = s.proposeData(ctx, data)
		}
		if err != nil {
			s.discardStaged(p.Ctx)
			return nil, partError(ctx, err)
		}
	}
	t1 := time.Now()
	ar, err := s.propose(ctx, p)
	if err != nil {
		s.discardStaged(p.Ctx) // harmless after a final entry that applied
		return nil, err
	}
	s.log.Info("large transaction committed", "parts", parts.Len(), "bytes", parts.Bytes(),
		"parts_took", t1.Sub(t0).Round(time.Millisecond), "final_took", time.Since(t1).Round(time.Millisecond))
	return ar, nil
}

// discardStaged logs that the staged parts are dropped, best effort: if it
// fails too, the next final entry or the next leader's term drops them
// (sqlengine/stage.go).
func (s *session) discardStaged(ec sqlengine.ExecContext) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := s.propose(ctx, sqlengine.DiscardPayload(ec)); err != nil {
		s.log.Warn("discard the parts of a transaction that did not commit", "err", err)
	}
}

// partError is the error of a COMMIT whose part was not logged. Its final
// entry was never proposed, so the outcome is known: not committed (an
// ambiguous 40003 of a part becomes 40001).
func partError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return contextError(ctx, err)
	}
	pe := pgerror.As(proposeError(ctx, err))
	if pe != nil && pe.Code != pgerror.StatementCompletionUnknown {
		return pe
	}
	return pgerror.New(pgerror.SerializationFailure,
		"could not serialize access: leadership changed while the transaction was logged; it did not commit")
}

// checkTxSize fails a transaction whose recorded operations passed
// pgraft.max_transaction_size (54000).
func (s *session) checkTxSize(size int64) error {
	limit := s.set.bytes("pgraft.max_transaction_size")
	if limit <= 0 || size <= limit {
		return nil
	}
	return txTooLarge(size, limit)
}

func txTooLarge(size, limit int64) error {
	return pgerror.New(pgerror.ProgramLimitExceeded,
		"transaction too large (more than %d bytes, pgraft.max_transaction_size is %d)", size, limit).
		WithHint(txLimitHint)
}

const txLimitHint = "Raise pgraft.max_transaction_size, or split the data into several transactions."

func checkBytes(v string) (string, error) {
	if _, err := parseBytes(v); err != nil {
		return "", err
	}
	return strings.TrimSpace(v), nil
}

// parseBytes reads a size as PostgreSQL's memory parameters are written
// (units B, kB, MB, GB, TB, powers of 1024; a bare number is bytes).
func parseBytes(v string) (int64, error) {
	s := strings.TrimSpace(v)
	num := strings.TrimRight(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ ")
	unit := strings.TrimSpace(s[len(num):])
	n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
	if err != nil || n < 0 {
		return 0, pgerror.New(pgerror.InvalidParameterValue, "invalid value for a size parameter: %q", v)
	}
	mult, ok := map[string]int64{"": 1, "B": 1, "kB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30, "TB": 1 << 40}[unit]
	if !ok {
		return 0, pgerror.New(pgerror.InvalidParameterValue, "invalid unit for a size parameter: %q", v).
			WithHint(`Valid units for this parameter are "B", "kB", "MB", "GB", and "TB".`)
	}
	if n > (1<<62)/mult {
		return 0, pgerror.New(pgerror.InvalidParameterValue, "size out of range: %q", v)
	}
	return n * mult, nil
}

// bytes returns a size parameter's value.
func (s *settings) bytes(name string) int64 {
	v, _ := s.get(name)
	n, _ := parseBytes(v)
	return n
}
