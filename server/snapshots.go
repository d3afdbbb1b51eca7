package server

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"regexp"
	"strings"
	"sync"

	"github.com/pgraft/pgraft/pgwire/pgerror"
	"github.com/pgraft/pgraft/sqlengine"
)

// snapshots.go: exported snapshots (docs/design.md §6). SELECT
// pg_export_snapshot() in a transaction names the transaction's snapshot;
// SET TRANSACTION SNAPSHOT 'id' in another session's REPEATABLE READ or
// SERIALIZABLE transaction on the same node makes it read that snapshot
// (pg_dump -j's workers). Sharing is sqlengine.ReadTx's: the importers read
// the exporter's own SQLite read transaction, one statement at a time. An
// id is valid while its exporting transaction is open; importers keep the
// snapshot until their own transactions end.

const (
	// maxExportedSnapshots bounds the ids a node holds at once, and
	// maxExportsPerTx those of one transaction (PostgreSQL bounds neither;
	// each id is a few bytes, the snapshot behind it one read connection
	// per exporting transaction).
	maxExportedSnapshots = 1024
	maxExportsPerTx      = 64
)

// exportedSnapshot is one id's snapshot and what the importer is checked
// against.
type exportedSnapshot struct {
	rt        *sqlengine.ReadTx // the registry's own handle, closed when the id ends
	isolation string
	readOnly  bool
}

// snapshotRegistry holds a node's exported snapshots by id.
type snapshotRegistry struct {
	prefix string // "NNNNNNNN-BBBBBBBB": this node and this process
	mu     sync.Mutex
	txs    uint32 // exporting transactions so far (the id's third hex part)
	ids    map[string]*exportedSnapshot
}

// reSnapshotID is the shape of the ids this build makes:
// node-process+transaction-export, in PostgreSQL's alphabet (0-9, A-F, -).
var reSnapshotID = regexp.MustCompile(`^([0-9A-F]{8})-[0-9A-F]{16}-[1-9][0-9]*$`)

// newSnapshotRegistry makes the registry of the node with this id. The
// node's part of every id is a hash of its id, so that an id taken to
// another node is recognized as such; the process's part is random, so
// that an id does not name another snapshot after a restart.
func newSnapshotRegistry(nodeID string) *snapshotRegistry {
	h := fnv.New32a()
	h.Write([]byte(nodeID))
	var b [4]byte
	rand.Read(b[:]) //nolint:errcheck // crypto/rand.Read does not fail
	return &snapshotRegistry{prefix: fmt.Sprintf("%08X-%08X", h.Sum32(), binary.BigEndian.Uint32(b[:])),
		ids: make(map[string]*exportedSnapshot)}
}

// nextTx numbers an exporting transaction.
func (r *snapshotRegistry) nextTx() uint32 {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.txs++
	return r.txs
}

// id is the identifier of export n of exporting transaction tx.
func (r *snapshotRegistry) id(tx uint32, n int) string {
	return fmt.Sprintf("%s%08X-%d", r.prefix, tx, n)
}

// add registers id for snap, which the registry then owns.
func (r *snapshotRegistry) add(id string, snap *exportedSnapshot) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.ids) >= maxExportedSnapshots {
		return pgerror.New(pgerror.ConfigurationLimitExceeded, "too many exported snapshots on this node (%d)", maxExportedSnapshots)
	}
	r.ids[id] = snap
	return nil
}

// remove ends ids: they can no longer be imported, and the snapshot ends
// with its last importer.
func (r *snapshotRegistry) remove(ids []string) {
	r.mu.Lock()
	var ended []*exportedSnapshot
	for _, id := range ids {
		if snap, ok := r.ids[id]; ok {
			ended = append(ended, snap)
			delete(r.ids, id)
		}
	}
	r.mu.Unlock()
	for _, snap := range ended {
		snap.rt.Close()
	}
}

// lookup returns a new handle on id's snapshot, and what it was exported
// with. An id that is not open here is 22023, with a DETAIL when another
// node made it.
func (r *snapshotRegistry) lookup(id string) (*sqlengine.ReadTx, exportedSnapshot, error) {
	invalid := pgerror.New(pgerror.InvalidParameterValue, "invalid snapshot identifier: \"%s\"", id)
	r.mu.Lock()
	defer r.mu.Unlock()
	snap, ok := r.ids[id]
	if !ok {
		if m := reSnapshotID.FindStringSubmatch(id); m != nil && !strings.HasPrefix(r.prefix, m[1]+"-") {
			invalid.Detail = "The snapshot was exported on another node: a snapshot can be imported only on the node that exported it."
			invalid.Hint = "Connect the exporting and the importing sessions to the same node."
		}
		return nil, exportedSnapshot{}, invalid
	}
	return snap.rt.Share(), *snap, nil
}

// runExportSnapshotLocked answers SELECT pg_export_snapshot(): it names the
// transaction's snapshot (under READ COMMITTED, one taken at the first
// export of the transaction) for SET TRANSACTION SNAPSHOT.
func (s *session) runExportSnapshotLocked(ctx context.Context, p *portal) error {
	reg := s.srv.snapshots
	if s.tx.state == txIdle {
		// The statement's own transaction ends with it, and its id with it:
		// a well-formed id that no import finds, as in PostgreSQL.
		p.mat = [][]any{{reg.id(reg.nextTx(), 1)}}
		return nil
	}
	if len(s.tx.savepoints) > 0 {
		return pgerror.New(pgerror.FeatureNotSupported, "cannot export a snapshot from a subtransaction")
	}
	if s.tx.w != nil {
		// Its reads run in the speculative write transaction, which no
		// other session can read.
		return pgerror.Unsupported("pg_export_snapshot() in a transaction block that has written")
	}
	if len(s.tx.exports) >= maxExportsPerTx {
		return pgerror.New(pgerror.ConfigurationLimitExceeded, "too many exported snapshots in one transaction (%d)", maxExportsPerTx)
	}
	var rt *sqlengine.ReadTx
	if s.tx.snapshot() {
		var err error
		if rt, err = s.ensureReadLocked(ctx); err != nil {
			return err
		}
	} else {
		if s.tx.exportRT == nil {
			if err := s.waitConsistent(ctx); err != nil {
				return err
			}
			held, err := s.srv.eng.BeginRead(ctx)
			if err != nil {
				return err
			}
			s.tx.exportRT = held
		}
		rt = s.tx.exportRT
	}
	if err := rt.Start(ctx); err != nil {
		return err
	}
	if s.tx.exportTx == 0 {
		s.tx.exportTx = reg.nextTx()
	}
	id := reg.id(s.tx.exportTx, len(s.tx.exports)+1)
	snap := &exportedSnapshot{rt: rt.Share(), isolation: s.tx.isolation, readOnly: s.readOnly()}
	if err := reg.add(id, snap); err != nil {
		snap.rt.Close()
		return err
	}
	s.tx.exports = append(s.tx.exports, id)
	p.mat = [][]any{{id}}
	return nil
}

// endExportsLocked ends the transaction's exported ids and its READ
// COMMITTED export snapshot (at the end of the transaction).
func (s *session) endExportsLocked() {
	if len(s.tx.exports) > 0 {
		s.srv.snapshots.remove(s.tx.exports)
	}
	if s.tx.exportRT != nil {
		s.tx.exportRT.Close()
	}
}

// importSnapshotLocked runs SET TRANSACTION SNAPSHOT 'id', with
// PostgreSQL's checks in PostgreSQL's order.
func (s *session) importSnapshotLocked(id string) error {
	if s.tx.state != txIdle && (s.tx.queried || s.tx.rt != nil || s.tx.w != nil || len(s.tx.savepoints) > 0) {
		return pgerror.New(pgerror.ActiveSQLTransaction, "SET TRANSACTION SNAPSHOT must be called before any query")
	}
	isolation := s.isolation()
	if isolation != "repeatable read" && isolation != "serializable" {
		return pgerror.New(pgerror.FeatureNotSupported, "a snapshot-importing transaction must have isolation level SERIALIZABLE or REPEATABLE READ")
	}
	rt, src, err := s.srv.snapshots.lookup(id)
	if err != nil {
		return err
	}
	if isolation == "serializable" {
		switch {
		case src.isolation != "serializable":
			err = pgerror.New(pgerror.FeatureNotSupported, "a serializable transaction cannot import a snapshot from a non-serializable transaction")
		case src.readOnly && !s.readOnly():
			err = pgerror.New(pgerror.FeatureNotSupported, "a non-read-only serializable transaction cannot import a snapshot from a read-only transaction")
		}
	}
	if err != nil || s.tx.state == txIdle {
		// Outside a block the import ends with the statement's own
		// transaction (PostgreSQL warns that SET TRANSACTION needs a block).
		rt.Close()
		return err
	}
	s.tx.rt = rt
	return nil
}
