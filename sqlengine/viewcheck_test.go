package sqlengine

import (
	"context"
	"testing"

	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// makeLegacyBrokenView makes view v over table t and drops t behind the
// engine's back, as a build without the view check could.
func makeLegacyBrokenView(t *testing.T, e *Engine) {
	t.Helper()
	e.wmu.Lock()
	leave := e.wauth.enterInternalUncached()
	_, err := stepRaw(e.wraw, `CREATE VIEW v AS SELECT a FROM t`)
	if err == nil {
		_, err = stepRaw(e.wraw, `DROP TABLE t`)
	}
	leave()
	e.wmu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
}

// TestViewsStayLoadable: a schema change that would leave a view that
// cannot be read fails as PostgreSQL's does (42P01 at CREATE VIEW, 2BP01 at
// DROP TABLE) and changes nothing; the schema still loads.
func TestViewsStayLoadable(t *testing.T) {
	e := newTestEngine(t)
	out := e.ApplyBatch([]Command{
		{Index: 1, Data: budgetEntry(t, 0, `CREATE TABLE t (a INTEGER)`)},
		{Index: 2, Data: budgetEntry(t, 0, `CREATE VIEW v AS SELECT a FROM t`)},
		{Index: 3, Data: budgetEntry(t, 0, `DROP TABLE t`)},
		{Index: 4, Data: budgetEntry(t, 0, `CREATE VIEW w AS SELECT * FROM missing`)},
		{Index: 5, Data: budgetEntry(t, 0, `CREATE VIEW x AS SELECT nosuch FROM t`)},
		{Index: 6, Data: budgetEntry(t, 0, `DROP VIEW v`)},
		{Index: 7, Data: budgetEntry(t, 0, `DROP TABLE t`)},
	})
	want := map[int]string{2: "2BP01", 3: "42P01", 4: "42703"}
	for i, r := range out {
		res := r.(*ApplyResult)
		got := ""
		if len(res.Results) > 0 {
			got = pgerror.Code(res.Results[0].Err)
		}
		if got != want[i] {
			t.Errorf("entry %d: %v, want SQLSTATE %q", i+1, res.Results, want[i])
		}
	}
	if _, err := e.Schema(context.Background()); err != nil {
		t.Fatalf("schema after the refused changes: %v", err)
	}
	if got := dump(t, e); got != "" {
		t.Fatalf("tables left: %q", got)
	}
}

// TestSchemaLoadsAroundBrokenView: a broken view already in a database (made
// before the view check) leaves the rest of the schema loadable, and can be
// dropped.
func TestSchemaLoadsAroundBrokenView(t *testing.T) {
	e := newTestEngine(t)
	e.ApplyBatch([]Command{
		{Index: 1, Data: budgetEntry(t, 0, `CREATE TABLE t (a INTEGER)`)},
		{Index: 2, Data: budgetEntry(t, 0, `CREATE TABLE u (b INTEGER)`)},
	})
	makeLegacyBrokenView(t, e)
	e.schemaDirty.Store(true)
	s, err := e.Schema(context.Background())
	if err != nil {
		t.Fatalf("schema with a broken view: %v", err)
	}
	if s.Table("u") == nil || s.Table("v") == nil {
		t.Fatalf("schema lost a relation: u %v, v %v", s.Table("u"), s.Table("v"))
	}
	out := e.ApplyBatch([]Command{{Index: 3, Data: budgetEntry(t, 0, `DROP VIEW v`)}})
	if r := out[0].(*ApplyResult); r.Results[0].Err != nil {
		t.Fatalf("DROP VIEW of the broken view: %v", r.Results[0].Err)
	}
}

// TestOldBrokenViewDoesNotBlockDDL: a view an older build left broken does
// not make unrelated schema changes fail.
func TestOldBrokenViewDoesNotBlockDDL(t *testing.T) {
	e := newTestEngine(t)
	e.ApplyBatch([]Command{{Index: 1, Data: budgetEntry(t, 0, `CREATE TABLE t (a INTEGER)`)}})
	makeLegacyBrokenView(t, e)
	out := e.ApplyBatch([]Command{{Index: 2, Data: budgetEntry(t, 0, `CREATE TABLE u (b INTEGER)`)}})
	if r := out[0].(*ApplyResult); r.Results[0].Err != nil {
		t.Fatalf("CREATE TABLE beside an old broken view: %v", r.Results[0].Err)
	}
}

// TestForeignKeysStayUsable: SQLite accepts a foreign key whose parent is
// missing or has no unique key on the referenced columns, and then refuses
// every write to the child table on every node. PostgreSQL refuses the
// DDL; so does pgraft (42830 or 42P01 at CREATE, 2BP01 at DROP of the
// parent), and the child stays writable.
func TestForeignKeysStayUsable(t *testing.T) {
	e := newTestEngine(t)
	out := e.ApplyBatch([]Command{
		{Index: 1, Data: budgetEntry(t, 0, `CREATE TABLE p (id INTEGER, u INTEGER UNIQUE)`)},
		{Index: 2, Data: budgetEntry(t, 0, `CREATE TABLE c1 (id INTEGER, pid INTEGER REFERENCES p)`)},      // p has no primary key
		{Index: 3, Data: budgetEntry(t, 0, `CREATE TABLE c2 (id INTEGER, pid INTEGER REFERENCES p (id))`)}, // id is not unique
		{Index: 4, Data: budgetEntry(t, 0, `CREATE TABLE c3 (id INTEGER, pid INTEGER REFERENCES nosuch (id))`)},
		{Index: 5, Data: budgetEntry(t, 0, `CREATE TABLE c4 (id INTEGER, pu INTEGER REFERENCES p (u))`)},
		{Index: 6, Data: budgetEntry(t, 0, `DROP TABLE p`)},
		{Index: 7, Data: budgetEntry(t, 0, `INSERT INTO c4 VALUES (1, NULL)`)},
		{Index: 8, Data: budgetEntry(t, 0, `CREATE TABLE s (id INTEGER PRIMARY KEY, up INTEGER REFERENCES s)`)}, // itself
		{Index: 9, Data: budgetEntry(t, 0, `INSERT INTO s VALUES (1, NULL), (2, 1)`)},
	})
	codes := map[int]string{1: "42830", 2: "42830", 3: "42P01", 5: "2BP01"}
	for i, r := range out {
		res := r.(*ApplyResult)
		got := ""
		if len(res.Results) > 0 {
			got = pgerror.Code(res.Results[0].Err)
		}
		if got != codes[i] {
			t.Errorf("entry %d: %v, want SQLSTATE %q", i+1, res.Results, codes[i])
		}
	}
	// Only c4, p and s were made; p stays (DROP refused), c4 and s took rows.
	want := "== c4\n[]interface {}{1, 1, interface {}(nil)}\n== p\n== s\n" +
		"[]interface {}{1, 1, interface {}(nil)}\n[]interface {}{2, 2, 1}\n"
	if got := dump(t, e); got != want {
		t.Fatalf("tables after the refused changes:\n%s\nwant:\n%s", got, want)
	}
}
