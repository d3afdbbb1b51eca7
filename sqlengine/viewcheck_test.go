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
