package server

import (
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/pgraft/pgraft/pgwire"
	"github.com/pgraft/pgraft/sqlengine"
	"github.com/pgraft/pgraft/sqlengine/translate"
)

// stmtCache keeps translations and result descriptions of recent query
// strings, so that a client repeating a statement (pgbench, an ORM, every
// unnamed extended-protocol query) pays for PostgreSQL's parser and SQLite's
// prepare once. Entries belong to one schema: a schema change empties the
// cache. Translations that read session settings are never cached.
type stmtCache struct {
	mu     sync.Mutex
	schema *sqlengine.SchemaSnapshot
	stmts  map[string][]*translate.Stmt
	cols   map[*translate.Stmt][]pgwire.Column
	// shapes holds, by translate.ScanLiterals key, the translations shared
	// by queries that differ only in constants; a nil entry remembers that
	// the shape cannot be shared, so it is not tried again.
	shapes map[string]*translate.Shape
}

const stmtCacheMax = 4096

func cacheKey(sql string, oids []uint32) string {
	if len(oids) == 0 {
		return sql
	}
	var b strings.Builder
	b.WriteString(sql)
	for _, o := range oids {
		b.WriteByte(0)
		b.WriteString(strconv.FormatUint(uint64(o), 10))
	}
	return b.String()
}

// syncLocked empties the cache if the schema changed.
func (c *stmtCache) syncLocked(schema *sqlengine.SchemaSnapshot) {
	if c.schema != schema || len(c.stmts) > stmtCacheMax || len(c.cols) > stmtCacheMax || len(c.shapes) > stmtCacheMax {
		c.schema = schema
		c.stmts = map[string][]*translate.Stmt{}
		c.cols = map[*translate.Stmt][]pgwire.Column{}
		c.shapes = map[string]*translate.Shape{}
	}
}

func (c *stmtCache) getStmts(schema *sqlengine.SchemaSnapshot, key string) ([]*translate.Stmt, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.syncLocked(schema)
	s, ok := c.stmts[key]
	return s, ok
}

func (c *stmtCache) putStmts(schema *sqlengine.SchemaSnapshot, key string, stmts []*translate.Stmt) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.syncLocked(schema)
	c.stmts[key] = slices.Clip(stmts)
}

// getShape returns the shape of key; known says whether key was seen.
func (c *stmtCache) getShape(schema *sqlengine.SchemaSnapshot, key string) (sh *translate.Shape, known bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.syncLocked(schema)
	sh, known = c.shapes[key]
	return sh, known
}

// putShape records key's shape; nil records that it has none.
func (c *stmtCache) putShape(schema *sqlengine.SchemaSnapshot, key string, sh *translate.Shape) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.syncLocked(schema)
	c.shapes[key] = sh
}

// colsKey is what a statement's description is cached under: a shape's
// statements share their template's.
func colsKey(st *translate.Stmt) *translate.Stmt {
	if st.Template != nil {
		return st.Template
	}
	return st
}

func (c *stmtCache) getCols(st *translate.Stmt) ([]pgwire.Column, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cols, ok := c.cols[colsKey(st)]
	return cols, ok
}

func (c *stmtCache) putCols(st *translate.Stmt, cols []pgwire.Column) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cols != nil {
		c.cols[colsKey(st)] = cols
	}
}
