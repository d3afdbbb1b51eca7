package translate

import (
	"fmt"
	"sync"
	"testing"
)

// snapshot is a comparable Schema, as a Cache needs: each value stands for
// one version of the schema, as sqlengine's SchemaSnapshot does.
type snapshot struct{ fakeSchema }

func newSnapshot() *snapshot { return &snapshot{testSchema()} }

func cached(t *testing.T, c *Cache[string], sql string, schema Schema, opts Options) []*Stmt {
	t.Helper()
	stmts, err := c.SQL(sql, schema, opts)
	if err != nil {
		t.Fatalf("SQL(%q): %v", sql, err)
	}
	return stmts
}

func TestCacheKeepsTranslations(t *testing.T) {
	var c Cache[string] // the zero value works
	s := newSnapshot()
	q := "SELECT name FROM users WHERE id = $1"
	a, b := cached(t, &c, q, s, Options{}), cached(t, &c, q, s, Options{})
	if a[0] != b[0] {
		t.Fatal("the same text was translated twice")
	}
	if p := cached(t, &c, q, s, Options{ParamOIDs: []uint32{20}}); p[0] == a[0] {
		t.Fatal("other parameter types share a translation")
	}
	if n := cached(t, &c, q, newSnapshot(), Options{}); n[0] == a[0] {
		t.Fatal("a new schema kept the old one's translation")
	}
}

// The bound is per entry, least recently used first: the cache never
// empties itself whole (it did at 4,096 entries, a cliff under load).
func TestCacheEvictsLeastRecentlyUsed(t *testing.T) {
	c := NewCache[string](2)
	s := newSnapshot()
	q := func(i int) string { return fmt.Sprintf("SELECT name FROM users WHERE id = $1 AND %d = %d", i, i) }
	first := cached(t, c, q(1), s, Options{ParamOIDs: []uint32{20}})
	second := cached(t, c, q(2), s, Options{ParamOIDs: []uint32{20}})
	cached(t, c, q(1), s, Options{ParamOIDs: []uint32{20}}) // q(1) is now the most recent
	cached(t, c, q(3), s, Options{ParamOIDs: []uint32{20}}) // evicts q(2)
	if again := cached(t, c, q(1), s, Options{ParamOIDs: []uint32{20}}); again[0] != first[0] {
		t.Error("the most recently used entry was evicted")
	}
	if again := cached(t, c, q(2), s, Options{ParamOIDs: []uint32{20}}); again[0] == second[0] {
		t.Error("the least recently used entry was kept past the bound")
	}
}

// A translation that read a session setting belongs to that session.
func TestCacheSkipsTranslationsThatReadSettings(t *testing.T) {
	var c Cache[string]
	s := newSnapshot()
	user := "alice"
	opts := Options{Setting: func(name string) (string, bool) {
		if name == "session_authorization" {
			return user, true
		}
		return "", false
	}}
	a := cached(t, &c, "SELECT current_user", s, opts)
	user = "bob"
	b := cached(t, &c, "SELECT current_user", s, opts)
	if a[0] == b[0] || a[0].SQL == b[0].SQL {
		t.Fatalf("current_user cached: %q then %q", a[0].SQL, b[0].SQL)
	}
}

// Texts that differ only in constants share their first one's Shape, and
// its description.
func TestCacheSharesShapesAndDescriptions(t *testing.T) {
	var c Cache[string]
	s := newSnapshot()
	first := cached(t, &c, "SELECT name FROM users WHERE id = 1", s, Options{})
	second := cached(t, &c, "SELECT name FROM users WHERE id = 2", s, Options{})
	third := cached(t, &c, "SELECT name FROM users WHERE id = 3", s, Options{})
	if second[0].Template == nil || second[0].Template != third[0].Template || first[0].Template != nil {
		t.Fatalf("templates: %p, %p, %p", first[0].Template, second[0].Template, third[0].Template)
	}
	if _, ok := c.Description(second[0]); ok {
		t.Fatal("a description before any was set")
	}
	c.SetDescription(second[0], "name text")
	if d, ok := c.Description(third[0]); !ok || d != "name text" {
		t.Fatalf("a shape's statements do not share its description: %q, %v", d, ok)
	}
	cached(t, &c, "SELECT 1", newSnapshot(), Options{}) // a schema change
	if _, ok := c.Description(third[0]); ok {
		t.Fatal("a description outlived its schema")
	}
}

func TestCacheConcurrentUse(t *testing.T) {
	c := NewCache[int](8)
	s := newSnapshot()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				stmts, err := c.SQL(fmt.Sprintf("SELECT name FROM users WHERE id = %d", (g*7+i)%20), s, Options{})
				if err != nil {
					t.Error(err)
					return
				}
				c.SetDescription(stmts[0], i)
				c.Description(stmts[0])
			}
		}()
	}
	wg.Wait()
}

// BenchmarkCacheHit is Parse of a statement the cache has: pgbench's and
// every ORM's steady state.
func BenchmarkCacheHit(b *testing.B) {
	c := NewCache[string](DefaultCacheSize)
	s := newSnapshot()
	q := "SELECT id, name FROM users WHERE id = $1"
	opts := Options{ParamOIDs: []uint32{20}}
	if _, err := c.SQL(q, s, opts); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.SQL(q, s, opts); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCacheShapeHit is Parse of a simple-protocol query whose shape
// the cache has (pgbench -M simple).
func BenchmarkCacheShapeHit(b *testing.B) {
	c := NewCache[string](DefaultCacheSize)
	s := newSnapshot()
	if _, err := c.SQL("SELECT id, name FROM users WHERE id = 1", s, Options{}); err != nil {
		b.Fatal(err)
	}
	q := "SELECT id, name FROM users WHERE id = 4242"
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.SQL(q, s, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
