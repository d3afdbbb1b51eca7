package sqlengine

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// stage.go carries a transaction larger than one log entry (docs/design.md,
// "Transactions larger than one entry"). The leader runs the transaction
// speculatively as any other; its recorded operations spill, part by part,
// to a spool file of its own (not replicated). At COMMIT, after the
// speculative run is rolled back, it proposes each part as a StagePart
// entry, which every node stores in _pgraft_staged, and then the StageFinal
// entry, which runs every part and its own operations in one entry, as if
// they were one Tx payload, and empties the table. Staged rows of an
// earlier term are dropped by the first entry of a later term: their
// leader is gone and no final entry of theirs can follow.

// stagedTableSQL holds the parts of the transaction in flight. Snapshots
// and checksums carry it like any table, so a node restored from a
// snapshot taken between the parts and the final entry applies the final
// entry as every other node does.
const stagedTableSQL = `CREATE TABLE IF NOT EXISTS _pgraft_staged (
	txid INTEGER NOT NULL, seq INTEGER NOT NULL, term INTEGER NOT NULL, payload BLOB NOT NULL,
	PRIMARY KEY (txid, seq)) WITHOUT ROWID`

// PartSize is how many bytes of operations (SQL and arguments, as
// estimated by opSize) a WriteTx records before it spills them as one
// part: far below the 16 MiB entry limit, so that a follower stores a
// part's entry quickly (its heartbeats wait behind it: replica keeps raft's
// heartbeat fast path off, and the leader lease is 150 ms), while a part's
// fixed cost (one entry) stays small beside its bytes.
const PartSize = 256 << 10

// errPartsLost fails a final entry whose parts are not all staged: its
// leader lost leadership between them (the new term dropped them).
var errPartsLost = pgerror.New(pgerror.SerializationFailure,
	"could not serialize access: the transaction's parts were lost in a change of leader")

// stagePart stores a StagePart entry: data is the whole payload, kept as it
// came so that the final entry decodes it with its own version.
func (e *Engine) stagePart(ctx context.Context, c Command, p *Payload) error {
	return e.withInternal(func() error {
		_, err := e.wconn.ExecContext(ctx, `INSERT OR REPLACE INTO _pgraft_staged (txid, seq, term, payload)
			VALUES (?1, ?2, ?3, ?4)`, int64(p.TxID), int64(p.N), int64(c.Term), c.Data)
		return err
	})
}

// dropStaged empties _pgraft_staged: after a final or discard entry (at
// most one staged transaction is ever in flight: the leader's write gate
// is held exclusively from its first part to its final entry, and parts of
// a transaction abandoned before its final entry are dropped here too).
func (e *Engine) dropStaged(ctx context.Context) error {
	return e.withInternal(func() error {
		_, err := e.wconn.ExecContext(ctx, `DELETE FROM _pgraft_staged`)
		return err
	})
}

// dropStagedBefore drops the parts staged in terms before term: the log
// holds no entry of an earlier term after one of a later, so their final
// entry will never come. Deterministic: it depends on the entry's term and
// the database only.
func (e *Engine) dropStagedBefore(ctx context.Context, term uint64) error {
	return e.withInternal(func() error {
		_, err := e.wconn.ExecContext(ctx, `DELETE FROM _pgraft_staged WHERE term < ?1`, int64(term))
		return err
	})
}

// stagedComplete reports whether parts 0..n-1 of txid are all staged.
func (e *Engine) stagedComplete(ctx context.Context, txid, n uint64) (bool, error) {
	var count, top sql.NullInt64
	err := e.withInternal(func() error {
		return e.wconn.QueryRowContext(ctx, `SELECT count(*), max(seq) FROM _pgraft_staged WHERE txid = ?1`,
			int64(txid)).Scan(&count, &top)
	})
	if err != nil {
		return false, err
	}
	if n == 0 {
		return count.Int64 == 0, nil
	}
	return uint64(count.Int64) == n && top.Valid && uint64(top.Int64) == n-1, nil
}

// stagedOps reads and decodes part seq of txid.
func (e *Engine) stagedOps(ctx context.Context, txid, seq uint64) ([]Op, error) {
	var data []byte
	err := e.withInternal(func() error {
		return e.wconn.QueryRowContext(ctx, `SELECT payload FROM _pgraft_staged WHERE txid = ?1 AND seq = ?2`,
			int64(txid), int64(seq)).Scan(&data)
	})
	if err != nil {
		return nil, fmt.Errorf("read staged part %d of transaction %d: %w", seq, txid, err)
	}
	p, err := DecodePayload(data)
	if err != nil {
		return nil, fmt.Errorf("staged part %d of transaction %d: %w", seq, txid, err)
	}
	return p.Ops, nil
}

// opSize estimates what op adds to an encoded entry.
func opSize(op Op) int64 {
	n := int64(len(op.SQL)) + 8
	for _, a := range op.Args {
		switch v := a.(type) {
		case string:
			n += int64(len(v)) + 4
		case []byte:
			n += int64(len(v)) + 4
		default:
			n += 10
		}
	}
	return n
}

// Parts are the spilled parts of a finished WriteTx, in order: each is
// the encoded payload of one StagePart entry. The spool is a file in the
// database's directory, removed as soon as it is created, so that nothing
// of it survives the process; memory holds one part at a time.
type Parts struct {
	f     *os.File
	w     *bufio.Writer
	r     *bufio.Reader
	n     int    // parts written
	txid  uint64 // the transaction's id in the entries
	bytes int64  // bytes spooled
}

// newParts opens an anonymous spool next to the database file.
func newParts(dbPath string) (*Parts, error) {
	f, err := os.CreateTemp(filepath.Dir(dbPath), ".pgraft-spool-*")
	if err != nil {
		return nil, fmt.Errorf("open a transaction spool: %w", err)
	}
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return nil, fmt.Errorf("open a transaction spool: %w", err)
	}
	return &Parts{f: f, w: bufio.NewWriterSize(f, 256<<10), txid: rand.Uint64() >> 1}, nil
}

// add spools one encoded part.
func (p *Parts) add(data []byte) error {
	var hdr [binary.MaxVarintLen64]byte
	n := binary.PutUvarint(hdr[:], uint64(len(data)))
	if _, err := p.w.Write(hdr[:n]); err != nil {
		return MapError(fmt.Errorf("spool a transaction part: %w", err))
	}
	if _, err := p.w.Write(data); err != nil {
		return MapError(fmt.Errorf("spool a transaction part: %w", err))
	}
	p.n++
	p.bytes += int64(n + len(data))
	return nil
}

// Len is the number of parts.
func (p *Parts) Len() int { return p.n }

// Bytes is the spool's size.
func (p *Parts) Bytes() int64 { return p.bytes }

// Next returns the next part's payload, or io.EOF after the last.
func (p *Parts) Next() ([]byte, error) {
	if p.r == nil {
		if err := p.w.Flush(); err != nil {
			return nil, MapError(fmt.Errorf("spool a transaction part: %w", err))
		}
		if _, err := p.f.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
		p.r = bufio.NewReaderSize(p.f, 256<<10)
	}
	n, err := binary.ReadUvarint(p.r)
	if errors.Is(err, io.EOF) {
		return nil, io.EOF
	}
	if err != nil {
		return nil, fmt.Errorf("read the transaction spool: %w", err)
	}
	data := make([]byte, n)
	if _, err := io.ReadFull(p.r, data); err != nil {
		return nil, fmt.Errorf("read the transaction spool: %w", err)
	}
	return data, nil
}

// Close removes the spool. It is safe to call on nil and more than once.
func (p *Parts) Close() {
	if p == nil || p.f == nil {
		return
	}
	p.f.Close()
	p.f = nil
}

// DiscardPayload is the entry that drops what a transaction staged when
// it cannot send its final entry (its COMMIT failed between parts).
func DiscardPayload(ec ExecContext) *Payload {
	return &Payload{Ctx: ec, Stage: StageDiscard}
}

// StagedParts counts the parts this node holds of transactions whose final
// entry has not applied yet (a metric; 0 when no large transaction is in
// flight).
func (e *Engine) StagedParts(ctx context.Context) (int64, error) {
	if err := e.rlockSwap(ctx); err != nil {
		return 0, err
	}
	defer e.swap.RUnlock()
	var n int64
	err := e.withInternalRead(ctx, func(c *sql.Conn) error {
		return c.QueryRowContext(ctx, `SELECT count(*) FROM _pgraft_staged`).Scan(&n)
	})
	return n, err
}
