package translate

import (
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/hashicorp/golang-lru/simplelru"
)

// DefaultCacheSize is how many entries each of a Cache's tables keeps
// (translations, shapes, descriptions) when NewCache is not told.
const DefaultCacheSize = 4096

// Cache keeps the translations of recent query strings, so that a client
// repeating a statement (pgbench, an ORM, every unnamed extended-protocol
// query) pays for PostgreSQL's parser once, and, by the shape their
// constants leave (ScanLiterals), the Shape shared by query strings that
// differ only in constants. Beside each translated statement it keeps a
// description of the caller's type D (the server's row description), so
// that describing a statement, which costs SQLite a prepare, happens once
// too.
//
// Entries belong to one schema at a time: a call with another Schema than
// the last empties the cache, so Schema values must be comparable (a
// pointer, as sqlengine's SchemaSnapshot) and a new one must stand for
// every change. Each table is a bounded LRU: past its size, the entry used
// least recently goes, not the whole cache. Translations that read session
// settings (current_user, current_setting(…)) are never cached.
//
// A Cache is safe for concurrent use. The zero value is an empty cache of
// DefaultCacheSize.
type Cache[D any] struct {
	mu     sync.Mutex
	size   int
	schema Schema
	stmts  *simplelru.LRU // cacheKey → []*Stmt
	shapes *simplelru.LRU // ScanLiterals key → *Shape; a nil *Shape: not shareable, do not try again
	descs  *simplelru.LRU // *Stmt (a Shape's template for its statements) → D
}

// NewCache returns an empty cache whose tables keep size entries each
// (DefaultCacheSize if size ≤ 0).
func NewCache[D any](size int) *Cache[D] {
	return &Cache[D]{size: size}
}

// SQL is the package's SQL through the cache: the exact text (with its
// parameter types) first, then, for text without parameter types, the
// shape its constants leave, and only then PostgreSQL's parser. Its
// results are SQL's, shared: a Stmt must not be changed.
func (c *Cache[D]) SQL(sql string, schema Schema, opts Options) ([]*Stmt, error) {
	usedSettings := false
	if setting := opts.Setting; setting != nil {
		opts.Setting = func(name string) (string, bool) { usedSettings = true; return setting(name) }
	}
	key := cacheKey(sql, opts.ParamOIDs)
	if stmts, ok := c.getStmts(schema, key); ok {
		return stmts, nil
	}
	if len(opts.ParamOIDs) == 0 {
		if shapeKey, lits, ok := ScanLiterals(sql); ok {
			sh, known := c.getShape(schema, shapeKey)
			if sh != nil {
				if stmts, ok := sh.Instantiate(sql, lits); ok {
					return stmts, nil
				}
			}
			if !known {
				stmts, sh, err := WithShape(sql, lits, schema, opts)
				if err != nil {
					return nil, err
				}
				if !usedSettings {
					c.putShape(schema, shapeKey, sh)
				}
				if sh != nil {
					return stmts, nil // later texts of the shape use it
				}
				if !usedSettings && !hasRole(stmts) {
					c.putStmts(schema, key, stmts)
				}
				return stmts, nil
			}
		}
	}
	stmts, err := SQL(sql, schema, opts)
	if err != nil {
		return nil, err
	}
	if !usedSettings && !hasRole(stmts) {
		c.putStmts(schema, key, stmts)
	}
	return stmts, nil
}

// Description returns what SetDescription kept for st, or for the
// template of the Shape st was made from.
func (c *Cache[D]) Description(st *Stmt) (d D, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.descs == nil {
		return d, false
	}
	v, ok := c.descs.Get(descKey(st))
	if ok {
		d, _ = v.(D) // a nil interface stays D's zero value
	}
	return d, ok
}

// SetDescription keeps d for st (and every statement of its Shape) until
// the schema changes or d becomes the least recently used.
func (c *Cache[D]) SetDescription(st *Stmt, d D) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.descs != nil {
		c.descs.Add(descKey(st), d)
	}
}

// descKey is what a statement's description is kept under: a shape's
// statements share their template's.
func descKey(st *Stmt) *Stmt {
	if st.Template != nil {
		return st.Template
	}
	return st
}

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

// syncLocked empties the cache when schema is not the one its entries
// belong to (and makes its tables on first use).
func (c *Cache[D]) syncLocked(schema Schema) {
	if c.stmts != nil && c.schema == schema {
		return
	}
	c.schema = schema
	size := c.size
	if size <= 0 {
		size = DefaultCacheSize
	}
	c.stmts, c.shapes, c.descs = newLRU(size), newLRU(size), newLRU(size)
}

func newLRU(size int) *simplelru.LRU {
	l, _ := simplelru.NewLRU(size, nil) // its one error is for a size ≤ 0
	return l
}

func (c *Cache[D]) getStmts(schema Schema, key string) ([]*Stmt, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.syncLocked(schema)
	v, ok := c.stmts.Get(key)
	if !ok {
		return nil, false
	}
	return v.([]*Stmt), true
}

func (c *Cache[D]) putStmts(schema Schema, key string, stmts []*Stmt) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.syncLocked(schema)
	c.stmts.Add(key, slices.Clip(stmts))
}

// getShape returns the shape of key; known says whether key was seen.
func (c *Cache[D]) getShape(schema Schema, key string) (sh *Shape, known bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.syncLocked(schema)
	v, known := c.shapes.Get(key)
	if !known {
		return nil, false
	}
	return v.(*Shape), true
}

// putShape records key's shape; nil records that it has none.
func (c *Cache[D]) putShape(schema Schema, key string, sh *Shape) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.syncLocked(schema)
	c.shapes.Add(key, sh)
}

// hasRole reports whether statements include a role statement, whose text
// may carry a password: it is not kept in the cache.
func hasRole(stmts []*Stmt) bool {
	for _, st := range stmts {
		if st.Kind == KindRole {
			return true
		}
	}
	return false
}
