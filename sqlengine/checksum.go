package sqlengine

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"math"
	"sort"
	"strings"

	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// pgraft_checksum(): a digest of everything the log replicates, so that
// operators can compare nodes at the same applied index. It covers the user
// schema, every user table's rows with their rowids, and sqlite_sequence;
// it leaves out _pgraft_meta (the applied index and clock are node-local
// bookkeeping; the index is compared separately) and sqlite_stat* (ANALYZE
// output). The digest reads only SQLite's storage, not the page layout, so
// two files built by the same statements agree however their pages lie.

// checksumVersion starts the digested stream; change it when the encoding
// changes, so that nodes of different versions never compare equal.
const checksumVersion = "pgraft-checksum-v1\x00"

// Record tags in the digested stream. Every variable-length item carries its
// length, so no two different databases produce the same stream.
const (
	ckSchema   = 'S' // one sqlite_schema row
	ckTable    = 'T' // start of a table's rows
	ckRow      = 'R' // one row: the rowid (none for WITHOUT ROWID), then each column
	ckSequence = 'Q' // one sqlite_sequence row
	ckNull     = 'n'
	ckInt      = 'i'
	ckReal     = 'r' // exact IEEE 754 bits
	ckText     = 't'
	ckBlob     = 'b'
)

// checksumFuncs is the SQL function pgraft_checksum() as SQLite sees it. An
// application function cannot read the database, so the statement
// SELECT pgraft_checksum() is routed to checksumDB before it reaches SQLite;
// this stand-in answers any other use (inside an expression, a WHERE, a
// subquery) with a clear error instead of "no such function".
func checksumFuncs() []sqlFunc {
	return []sqlFunc{{"pgraft_checksum", 0, 0, false, func([]any) (any, error) {
		return nil, funcError(pgerror.FeatureNotSupported,
			"pgraft_checksum() is supported only as a statement of its own: SELECT pgraft_checksum()")
	}}, {"pgraft_commit_index", 0, 0, false, func([]any) (any, error) {
		// Answered by the server (Stmt.CommitIndex); same stand-in reason.
		return nil, funcError(pgerror.FeatureNotSupported,
			"pgraft_commit_index() is supported only as a statement of its own: SELECT pgraft_commit_index()")
	}}, {"pg_export_snapshot", 0, 0, false, func([]any) (any, error) {
		// Answered by the server (Stmt.ExportSnapshot); same stand-in reason.
		return nil, funcError(pgerror.FeatureNotSupported,
			"pg_export_snapshot() is supported only as a statement of its own: SELECT pg_export_snapshot()")
	}}}
}

// checksumDB returns the SHA-256 digest, in hex, of the user schema, every
// user table's rows and sqlite_sequence. Run it on one read transaction (a
// *sql.Tx, or a *sql.Conn inside BEGIN) so that all the reads see the same
// state; on a bare *sql.DB a concurrent apply can make it mix two states.
func checksumDB(ctx context.Context, q queryer) (string, error) {
	h := sha256.New()
	h.Write([]byte(checksumVersion))
	if err := digestSchema(ctx, q, h); err != nil {
		return "", err
	}
	tables, err := checksumTables(ctx, q)
	if err != nil {
		return "", err
	}
	for _, t := range tables {
		if err := digestTable(ctx, q, h, t); err != nil {
			return "", err
		}
	}
	if err := digestSequences(ctx, q, h); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// checksumExcluded reports whether a sqlite_schema object is left out of the
// digest: SQLite's own objects (sqlite_sequence, sqlite_stat*, automatic
// indexes) and _pgraft_meta with what belongs to it.
func checksumExcluded(name string) bool {
	return strings.HasPrefix(name, "sqlite_") || name == "_pgraft_meta"
}

// digestSchema digests the user objects of sqlite_schema by (type, name).
// rootpage is left out: it is a page number, not content.
func digestSchema(ctx context.Context, q queryer, h hash.Hash) error {
	rows, err := q.QueryContext(ctx, `SELECT type, name, tbl_name, sql FROM main.sqlite_schema ORDER BY type, name`)
	if err != nil {
		return fmt.Errorf("checksum: read schema: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var typ, name, tbl string
		var sqlText any
		if err := rows.Scan(&typ, &name, &tbl, &sqlText); err != nil {
			return fmt.Errorf("checksum: read schema: %w", err)
		}
		if checksumExcluded(name) || checksumExcluded(tbl) {
			continue
		}
		h.Write([]byte{ckSchema})
		for _, v := range []any{typ, name, tbl, sqlText} {
			digestValue(h, v)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("checksum: read schema: %w", err)
	}
	return nil
}

// checksumTable is one table whose rows are digested.
type checksumTable struct {
	name         string
	withoutRowid bool
}

// checksumTables lists the user tables with content of their own (ordinary
// and shadow tables, not views or virtual tables), sorted by name.
func checksumTables(ctx context.Context, q queryer) ([]checksumTable, error) {
	rows, err := q.QueryContext(ctx, `SELECT name, wr FROM pragma_table_list
		WHERE schema = 'main' AND type IN ('table', 'shadow')`)
	if err != nil {
		return nil, fmt.Errorf("checksum: list tables: %w", err)
	}
	defer rows.Close()
	var out []checksumTable
	for rows.Next() {
		var t checksumTable
		if err := rows.Scan(&t.name, &t.withoutRowid); err != nil {
			return nil, fmt.Errorf("checksum: list tables: %w", err)
		}
		if !checksumExcluded(t.name) {
			out = append(out, t)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("checksum: list tables: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out, nil
}

// digestTable digests a table's name and rows: in rowid order with the
// rowid first, or in primary-key order for a WITHOUT ROWID table.
func digestTable(ctx context.Context, q queryer, h hash.Hash, t checksumTable) error {
	query, err := tableScanSQL(ctx, q, t)
	if err != nil {
		return err
	}
	h.Write([]byte{ckTable})
	digestValue(h, t.name)
	rows, err := q.QueryContext(ctx, query)
	if err != nil {
		return fmt.Errorf("checksum: read %s: %w", t.name, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return fmt.Errorf("checksum: read %s: %w", t.name, err)
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("checksum: read %s: %w", t.name, err)
		}
		h.Write([]byte{ckRow})
		for _, v := range vals {
			digestValue(h, v)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("checksum: read %s: %w", t.name, err)
	}
	return nil
}

// tableScanSQL builds the SELECT that digestTable reads. Each column is
// selected as +"col": an expression has no declared type, so go-sqlite3
// hands over the stored value as it is (it would turn a TEXT in a DATE
// column into a time.Time, a 1 in a BOOLEAN column into true).
func tableScanSQL(ctx context.Context, q queryer, t checksumTable) (string, error) {
	cols, pk, err := checksumColumns(ctx, q, t.name)
	if err != nil {
		return "", err
	}
	var sel []string
	order := pk
	if !t.withoutRowid {
		alias := rowidAlias(cols)
		if alias == "" {
			// Every name for the rowid is a column name: there is no way to
			// read it, so order by all columns instead (still deterministic).
			order = quoteAll(cols, "")
		} else {
			sel = append(sel, "+"+alias)
			order = []string{alias}
		}
	}
	sel = append(sel, quoteAll(cols, "+")...)
	if len(order) == 0 {
		order = quoteAll(cols, "")
	}
	return "SELECT " + strings.Join(sel, ", ") + " FROM main." + ckQuote(t.name) +
		" ORDER BY " + strings.Join(order, ", "), nil
}

// checksumColumns returns a table's stored and generated columns in order,
// and its primary-key columns (quoted) in key order.
func checksumColumns(ctx context.Context, q queryer, table string) ([]string, []string, error) {
	rows, err := q.QueryContext(ctx, `SELECT name, pk FROM pragma_table_xinfo(?, 'main') WHERE hidden <> 1 ORDER BY cid`, table)
	if err != nil {
		return nil, nil, fmt.Errorf("checksum: columns of %s: %w", table, err)
	}
	defer rows.Close()
	var cols []string
	byKey := map[int]string{}
	for rows.Next() {
		var name string
		var pk int
		if err := rows.Scan(&name, &pk); err != nil {
			return nil, nil, fmt.Errorf("checksum: columns of %s: %w", table, err)
		}
		cols = append(cols, name)
		if pk > 0 {
			byKey[pk] = ckQuote(name)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("checksum: columns of %s: %w", table, err)
	}
	pk := make([]string, 0, len(byKey))
	for i := 1; i <= len(byKey); i++ {
		pk = append(pk, byKey[i])
	}
	return cols, pk, nil
}

// rowidAlias returns a name for the rowid that no column shadows, or "".
func rowidAlias(cols []string) string {
	for _, alias := range []string{"_rowid_", "rowid", "oid"} {
		shadowed := false
		for _, c := range cols {
			shadowed = shadowed || strings.EqualFold(c, alias)
		}
		if !shadowed {
			return alias
		}
	}
	return ""
}

// quoteAll quotes each name as an identifier, with prefix before it.
func quoteAll(names []string, prefix string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = prefix + ckQuote(n)
	}
	return out
}

// ckQuote always quotes a SQLite identifier.
func ckQuote(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// digestSequences digests sqlite_sequence (AUTOINCREMENT counters), which
// exists only once an AUTOINCREMENT table has been created.
func digestSequences(ctx context.Context, q queryer, h hash.Hash) error {
	var exists int
	rows, err := q.QueryContext(ctx, `SELECT count(*) FROM main.sqlite_schema WHERE type = 'table' AND name = 'sqlite_sequence'`)
	if err != nil {
		return fmt.Errorf("checksum: read sqlite_sequence: %w", err)
	}
	for rows.Next() {
		err = rows.Scan(&exists)
	}
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	if err != nil || exists == 0 {
		return err
	}
	rows, err = q.QueryContext(ctx, `SELECT +name, +seq FROM main.sqlite_sequence ORDER BY name, seq`)
	if err != nil {
		return fmt.Errorf("checksum: read sqlite_sequence: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name, seq any
		if err := rows.Scan(&name, &seq); err != nil {
			return fmt.Errorf("checksum: read sqlite_sequence: %w", err)
		}
		if s, ok := name.(string); ok && checksumExcluded(s) {
			continue
		}
		h.Write([]byte{ckSequence})
		digestValue(h, name)
		digestValue(h, seq)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("checksum: read sqlite_sequence: %w", err)
	}
	return nil
}

// digestValue writes one value: its storage class tag, then its content
// (8 bytes big-endian for INTEGER and REAL, length-prefixed bytes for TEXT
// and BLOB). An empty BLOB and NULL differ, as do 1 and 1.0 and '1'.
func digestValue(h hash.Hash, v any) {
	var buf [9]byte
	switch x := v.(type) {
	case nil:
		h.Write([]byte{ckNull})
	case int64:
		buf[0] = ckInt
		binary.BigEndian.PutUint64(buf[1:], uint64(x))
		h.Write(buf[:])
	case float64:
		buf[0] = ckReal
		binary.BigEndian.PutUint64(buf[1:], math.Float64bits(x))
		h.Write(buf[:])
	case string:
		digestBytes(h, ckText, []byte(x))
	case []byte:
		digestBytes(h, ckBlob, x)
	default:
		// The queries above select expressions, so go-sqlite3 returns none
		// of its converted types (time.Time, bool); should one appear, its
		// type and text still go into the digest.
		digestBytes(h, '?', []byte(fmt.Sprintf("%T:%v", v, v)))
	}
}

func digestBytes(h hash.Hash, tag byte, b []byte) {
	var buf [1 + binary.MaxVarintLen64]byte
	buf[0] = tag
	n := binary.PutUvarint(buf[1:], uint64(len(b)))
	h.Write(buf[:1+n])
	h.Write(b)
}
