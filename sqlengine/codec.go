package sqlengine

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// ExecContext is everything a write may depend on besides the database
// itself. The leader chooses it once per entry; every node applies the entry
// with the same context, so time and randomness replay identically (I3).
type ExecContext struct {
	TimeMicros int64  // "now" for the whole entry, µs since the Unix epoch, UTC
	Seed       uint64 // seeds random(), randomblob(), gen_random_uuid()
	User       string // session user (current_user)
	TimeZone   string // session TimeZone (localtimestamp, timestamptz text)
}

// Op is one logged operation of an entry.
type Op struct {
	Kind OpKind
	SQL  string // the SQLite statement (OpExec), or the savepoint name
	Args []any  // storage values: nil, int64, float64, string, []byte
	Rows bool   // OpExec returns rows (RETURNING): run it as a query
}

// OpKind says what an Op does.
type OpKind uint8

const (
	OpExec       OpKind = 1 // run SQL with Args
	OpSavepoint  OpKind = 2 // SAVEPOINT name (inside a transaction entry)
	OpRelease    OpKind = 3 // RELEASE name
	OpRollbackTo OpKind = 4 // ROLLBACK TO name
	OpRole       OpKind = 5 // a RoleChange, JSON in SQL (roles.go)
)

// isStatement reports whether an operation is a client statement, with a
// result of its own, rather than a savepoint operation.
func (k OpKind) isStatement() bool { return k == OpExec || k == OpRole }

// Payload is the content of a Statements log entry: one autocommit
// statement, or a whole interactive transaction.
type Payload struct {
	Ctx ExecContext
	Ops []Op
	// Tx marks an interactive transaction: its statements already ran
	// speculatively on the leader against data index DataIndex, with the
	// outcome digest Digest. Apply fails it with 40001 if data changed after
	// DataIndex, and halts the node if its own outcome differs (I3).
	Tx        bool
	DataIndex uint64
	Digest    uint64
	// StepBudget is the work budget of each statement, in SQLite
	// virtual-machine steps (budget.go), fixed by the leader when it
	// admitted the entry: every node stops a statement at the same step.
	// 0 (version 1 entries): no budget.
	StepBudget uint64
	// Stage, TxID and N carry a transaction larger than one entry (payload
	// version 6, stage.go): StagePart entries store the N-th part of
	// transaction TxID; a StageFinal entry (a Tx payload) runs the
	// transaction's N parts, then its own Ops; a StageDiscard entry drops
	// what is staged. 0 (StageNone): an entry complete in itself.
	Stage StageKind
	TxID  uint64
	N     uint64
	// SpecEpoch and SpecSeq chain a pipelined entry to the speculative
	// state it ran on (payload version 7, pipeline.go): it is member SpecSeq
	// of the leader's epoch SpecEpoch, and ran on top of members 1 to
	// SpecSeq-1 of that epoch, the first of them on data index DataIndex.
	// Apply checks the chain before it runs the entry: a transaction whose
	// chain is broken fails with 40001 on every node. 0: not pipelined.
	SpecEpoch uint64
	SpecSeq   uint64
}

// StageKind says whether an entry is a part of a larger transaction
// (stage.go).
type StageKind uint8

const (
	StageNone    StageKind = 0
	StagePart    StageKind = 1 // stores its Ops as part N of TxID
	StageFinal   StageKind = 2 // runs N staged parts of TxID, then its Ops
	StageDiscard StageKind = 3 // drops every staged part
)

// payloadVersion 2 added StepBudget, 3 OpRole, 4 ALTER TABLE specs in an
// OpExec's text (translate.AlterMarker: a build before 4 would run that text
// as SQL and fail where this one succeeds, so it must not decode them), 5
// GRANT and REVOKE as OpRole changes and owners recorded by DDL (acl.go);
// 6 Stage, TxID and N (transactions larger than one entry, stage.go),
// and exact numeric's pg_numeric functions and collation in an OpExec's
// text (a build before 6 has neither); 7 SpecEpoch and SpecSeq (commit
// pipelining, pipeline.go), pg_statement_timestamp and pg_clock_timestamp
// (statement_timestamp(), clock_timestamp(); before them both were pg_now),
// pg_cast_datetime, pg_isfinite and pg_timetz in an OpExec's text, and
// infinite dates and timestamps and timetz among its values
// (functions_infinity.go, functions_timetz.go: a build before 7 would refuse
// or misread them); older versions still decode.
const payloadVersion = 7

// PayloadVersion is the log payload format this build writes; every voter
// of a cluster must share it (DESIGN.md §3, one build per cluster).
const PayloadVersion = payloadVersion

// Value tags of the codec.
const (
	tagNull   = 0
	tagInt    = 1
	tagFloat  = 2
	tagText   = 3
	tagBlob   = 4
	flagTx    = 1
	maxFields = 1 << 20
)

// EncodePayload encodes p. The format is versioned; decoding of every older
// version must keep working (testdata/entries).
func EncodePayload(p *Payload) ([]byte, error) {
	b := make([]byte, 0, 128)
	b = append(b, payloadVersion)
	var flags byte
	if p.Tx {
		flags |= flagTx
	}
	b = append(b, flags)
	b = binary.AppendVarint(b, p.Ctx.TimeMicros)
	b = binary.AppendUvarint(b, p.Ctx.Seed)
	b = appendString(b, p.Ctx.User)
	b = appendString(b, p.Ctx.TimeZone)
	b = binary.AppendUvarint(b, p.DataIndex)
	b = binary.AppendUvarint(b, p.Digest)
	b = binary.AppendUvarint(b, p.StepBudget)
	b = append(b, byte(p.Stage))
	b = binary.AppendUvarint(b, p.TxID)
	b = binary.AppendUvarint(b, p.N)
	b = binary.AppendUvarint(b, p.SpecEpoch)
	b = binary.AppendUvarint(b, p.SpecSeq)
	b = binary.AppendUvarint(b, uint64(len(p.Ops)))
	for _, op := range p.Ops {
		b = append(b, byte(op.Kind))
		if op.Rows {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
		b = appendString(b, op.SQL)
		b = binary.AppendUvarint(b, uint64(len(op.Args)))
		for _, a := range op.Args {
			var err error
			if b, err = appendValue(b, a); err != nil {
				return nil, err
			}
		}
	}
	return b, nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendValue(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, tagNull), nil
	case int64:
		return binary.AppendVarint(append(b, tagInt), x), nil
	case float64:
		return binary.BigEndian.AppendUint64(append(b, tagFloat), math.Float64bits(x)), nil
	case string:
		return appendString(append(b, tagText), x), nil
	case []byte:
		b = append(b, tagBlob)
		b = binary.AppendUvarint(b, uint64(len(x)))
		return append(b, x...), nil
	}
	return nil, fmt.Errorf("encode payload: unsupported value type %T", v)
}

// errCorrupt is wrapped by every decoding error.
var errCorrupt = errors.New("corrupt payload")

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = errCorrupt
	}
}

func (d *decoder) byte() byte {
	if d.err != nil || len(d.b) < 1 {
		d.fail()
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if d.err != nil || n > uint64(len(d.b)) {
		d.fail()
		return nil
	}
	out := make([]byte, n)
	copy(out, d.b[:n])
	d.b = d.b[n:]
	return out
}

func (d *decoder) count() int {
	n := d.uvarint()
	if n > maxFields || n > uint64(len(d.b))+1 {
		d.fail()
		return 0
	}
	return int(n)
}

func (d *decoder) value() any {
	switch d.byte() {
	case tagNull:
		return nil
	case tagInt:
		return d.varint()
	case tagFloat:
		if len(d.b) < 8 {
			d.fail()
			return nil
		}
		f := math.Float64frombits(binary.BigEndian.Uint64(d.b))
		d.b = d.b[8:]
		return f
	case tagText:
		return string(d.bytes())
	case tagBlob:
		return d.bytes()
	}
	d.fail()
	return nil
}

// DecodePayload decodes what EncodePayload produced.
func DecodePayload(data []byte) (*Payload, error) {
	d := &decoder{b: data}
	v := d.byte()
	if d.err == nil && (v < 1 || v > payloadVersion) {
		return nil, fmt.Errorf("decode payload: unknown version %d: %w", v, errCorrupt)
	}
	p := &Payload{}
	p.Tx = d.byte()&flagTx != 0
	p.Ctx.TimeMicros = d.varint()
	p.Ctx.Seed = d.uvarint()
	p.Ctx.User = string(d.bytes())
	p.Ctx.TimeZone = string(d.bytes())
	p.DataIndex = d.uvarint()
	p.Digest = d.uvarint()
	if v >= 2 {
		p.StepBudget = d.uvarint()
	}
	if v >= 6 {
		p.Stage = StageKind(d.byte())
		p.TxID = d.uvarint()
		p.N = d.uvarint()
		if p.Stage > StageDiscard || p.Stage == StageFinal && !p.Tx {
			d.fail()
		}
	}
	if v >= 7 {
		p.SpecEpoch = d.uvarint()
		p.SpecSeq = d.uvarint()
		if (p.SpecEpoch == 0) != (p.SpecSeq == 0) {
			d.fail()
		}
	}
	n := d.count()
	p.Ops = make([]Op, 0, n)
	for i := 0; i < n && d.err == nil; i++ {
		op := Op{Kind: OpKind(d.byte())}
		op.Rows = d.byte() == 1
		op.SQL = string(d.bytes())
		if op.Kind < OpExec || op.Kind > OpRole || op.Kind == OpRole && v < 3 {
			d.fail()
		}
		na := d.count()
		for j := 0; j < na && d.err == nil; j++ {
			op.Args = append(op.Args, d.value())
		}
		p.Ops = append(p.Ops, op)
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail()
	}
	if d.err != nil {
		return nil, fmt.Errorf("decode payload: %w", d.err)
	}
	return p, nil
}
