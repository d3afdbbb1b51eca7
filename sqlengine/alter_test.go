package sqlengine

import (
	"context"
	"sort"
	"strings"
	"testing"

	"github.com/pgraft/pgraft/pgwire/pgerror"
	"github.com/pgraft/pgraft/sqlengine/translate"
)

// pgRunner applies PostgreSQL statements to an engine as a node would:
// each is translated against the engine's schema and applied as its own
// entry, under the statement budget.
type pgRunner struct {
	t     *testing.T
	e     *Engine
	index uint64
	steps uint64 // the entries' work budget
}

func newPGRunner(t *testing.T) *pgRunner {
	return &pgRunner{t: t, e: newTestEngine(t), steps: MaxStatementSteps}
}

// run applies one statement and returns its error (translation's or the
// entry's).
func (r *pgRunner) run(pgSQL string) error {
	r.t.Helper()
	s, err := r.e.Schema(context.Background())
	if err != nil {
		r.t.Fatalf("schema: %v", err)
	}
	sts, err := translate.SQL(pgSQL, s, translate.Options{})
	if err != nil {
		return err
	}
	for _, st := range sts {
		if st.SQL == "" {
			continue
		}
		p := &Payload{Ctx: ExecContext{TimeZone: "UTC"}, StepBudget: r.steps,
			Ops: []Op{{Kind: OpExec, SQL: st.SQL}}}
		for _, q := range st.Post {
			p.Ops = append(p.Ops, Op{Kind: OpExec, SQL: q})
		}
		data, err := EncodePayload(p)
		if err != nil {
			r.t.Fatal(err)
		}
		r.index++
		res := r.e.ApplyBatch([]Command{{Index: r.index, Data: data}})[0].(*ApplyResult)
		if res.Err != nil {
			return res.Err
		}
		for _, x := range res.Results {
			if x.Err != nil {
				return x.Err
			}
		}
	}
	return nil
}

func (r *pgRunner) must(stmts ...string) {
	r.t.Helper()
	for _, q := range stmts {
		if err := r.run(q); err != nil {
			r.t.Fatalf("%s: %v", q, err)
		}
	}
}

// fails runs a statement that must fail with code, and checks that it
// changed nothing.
func (r *pgRunner) fails(q, code string) *pgerror.Error {
	r.t.Helper()
	before := r.state()
	err := r.run(q)
	if pgerror.Code(err) != code {
		r.t.Fatalf("%s: %v, want %s", q, err, code)
	}
	if after := r.state(); after != before {
		r.t.Fatalf("%s failed but changed the database:\nbefore %s\nafter  %s", q, before, after)
	}
	return pgerror.As(err)
}

// state is the schema and the rows.
func (r *pgRunner) state() string {
	return r.schemaText() + "\n" + dump(r.t, r.e)
}

func (r *pgRunner) schemaText() string {
	r.t.Helper()
	var out []string
	r.e.wmu.Lock()
	defer r.e.wmu.Unlock()
	leave := r.e.wauth.enterInternalUncached()
	defer leave()
	rows, err := stepStrings(r.e.wraw, `SELECT type || ' ' || name || ': ' || coalesce(sql, '') FROM sqlite_schema
		WHERE name NOT LIKE '_pgraft%' ORDER BY name`)
	if err != nil {
		r.t.Fatal(err)
	}
	out = append(out, rows...)
	return strings.Join(out, "\n")
}

// rows returns a query's rows as "a|b" lines.
func (r *pgRunner) rows(q string) []string {
	r.t.Helper()
	s, _ := r.e.Schema(context.Background())
	sts, err := translate.SQL(q, s, translate.Options{})
	if err != nil {
		r.t.Fatalf("%s: %v", q, err)
	}
	res, err := r.e.Query(context.Background(), sts[0].SQL, nil)
	if err != nil {
		r.t.Fatalf("%s: %v", q, err)
	}
	defer res.Close()
	var out []string
	for res.Next() {
		row, err := res.Values()
		if err != nil {
			r.t.Fatal(err)
		}
		parts := make([]string, len(row))
		for i, v := range row {
			parts[i] = valueText(v)
		}
		out = append(out, strings.Join(parts, "|"))
	}
	return out
}

func valueText(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case []byte:
		return string(x)
	}
	return strings.TrimPrefix(valueKey(v), valueKey(v)[:1])
}

// constraintNames returns table's constraints as the catalog names them
// (pgraft's range checks left out), sorted.
func (r *pgRunner) constraintNames(table string) []string {
	r.t.Helper()
	s, err := r.e.Schema(context.Background())
	if err != nil {
		r.t.Fatal(err)
	}
	var out []string
	for _, c := range s.constraints {
		if c.table == table && !strings.HasPrefix(c.name, translate.RangeCheckPrefix) {
			out = append(out, c.name+":"+string(c.kind))
		}
	}
	sort.Strings(out)
	return out
}

func TestAlterKeepsRowsIndexesReferencesAndViews(t *testing.T) {
	r := newPGRunner(t)
	r.must(
		"CREATE TABLE p (id integer NOT NULL, name text, n int)",
		"INSERT INTO p VALUES (1, 'a', 10), (2, 'b', 20), (3, NULL, 30)",
		"ALTER TABLE ONLY public.p ADD CONSTRAINT p_pkey PRIMARY KEY (id)",
		"CREATE INDEX p_name_idx ON p (name)",
		"CREATE TABLE c (id serial PRIMARY KEY, pid int REFERENCES p(id) ON DELETE CASCADE)",
		"INSERT INTO c (pid) VALUES (1), (2), (3)",
		"CREATE VIEW pv AS SELECT id, name FROM p",
		// Each of these rebuilds p: c's rows must survive (no ON DELETE
		// CASCADE fires) and c must still reference p.
		"ALTER TABLE p ALTER COLUMN name TYPE varchar(20)",
		"ALTER TABLE p ALTER COLUMN name SET DEFAULT 'x'",
		"ALTER TABLE p ALTER COLUMN n DROP DEFAULT, ALTER COLUMN n SET NOT NULL",
		"ALTER TABLE p ADD CONSTRAINT p_n_check CHECK (n > 0)",
		"ALTER TABLE p ALTER COLUMN n TYPE bigint",
	)
	if got := r.rows("SELECT id, name, n FROM p ORDER BY id"); strings.Join(got, ",") != "1|a|10,2|b|20,3|NULL|30" {
		t.Fatalf("rows of p: %q", got)
	}
	if got := r.rows("SELECT count(*) FROM c"); got[0] != "3" {
		t.Fatalf("rows of c after rebuilding p: %q", got)
	}
	if got := r.rows("SELECT name FROM pv ORDER BY id"); len(got) != 3 {
		t.Fatalf("view over p: %q", got)
	}
	if !strings.Contains(r.schemaText(), "index p_name_idx: CREATE INDEX p_name_idx ON p (name)") {
		t.Fatalf("index p_name_idx lost:\n%s", r.schemaText())
	}
	r.fails("INSERT INTO c (pid) VALUES (99)", pgerror.ForeignKeyViolation)
	r.must("DELETE FROM p WHERE id = 1")
	if got := r.rows("SELECT count(*) FROM c"); got[0] != "2" {
		t.Fatalf("ON DELETE CASCADE after rebuilding p: %q", got)
	}
	r.must("INSERT INTO p (id, n) VALUES (4, 5)")
	if got := r.rows("SELECT name FROM p WHERE id = 4"); got[0] != "x" {
		t.Fatalf("new default: %q", got)
	}
	if got := r.constraintNames("p"); strings.Join(got, ",") != "p_n_check:c,p_pkey:p" {
		t.Fatalf("constraints of p: %q", got)
	}
}

func TestAlterGeneratedConstraintNames(t *testing.T) {
	r := newPGRunner(t)
	r.must(
		"CREATE TABLE b (id int PRIMARY KEY)",
		"CREATE TABLE t (a int, b int, c text)",
		"ALTER TABLE t ADD PRIMARY KEY (a)",
		"ALTER TABLE t ADD UNIQUE (c), ADD CHECK (a > 0), ADD FOREIGN KEY (b) REFERENCES b",
		"ALTER TABLE t ADD UNIQUE (c)",
	)
	want := "t_a_check:c,t_b_fkey:f,t_c_key1:u,t_c_key:u,t_pkey:p"
	if got := r.constraintNames("t"); strings.Join(got, ",") != want {
		t.Fatalf("constraints: %q, want %s", got, want)
	}
	r.must("ALTER TABLE t DROP CONSTRAINT t_c_key1", "ALTER TABLE t RENAME CONSTRAINT t_a_check TO a_positive",
		"ALTER INDEX t_pkey RENAME TO t_pk", "ALTER TABLE t DROP CONSTRAINT IF EXISTS nope")
	want = "a_positive:c,t_b_fkey:f,t_c_key:u,t_pk:p"
	if got := r.constraintNames("t"); strings.Join(got, ",") != want {
		t.Fatalf("constraints: %q, want %s", got, want)
	}
	r.fails("ALTER TABLE t DROP CONSTRAINT nope", pgerror.UndefinedObject)
	// Older builds made ADD CONSTRAINT … UNIQUE a unique index: DROP
	// CONSTRAINT drops it, alone or with a rebuild.
	r.must("CREATE UNIQUE INDEX old_uq ON t (c)", "ALTER TABLE t DROP CONSTRAINT old_uq",
		"CREATE UNIQUE INDEX old_uq2 ON t (c)", "ALTER TABLE t DROP CONSTRAINT old_uq2, ALTER COLUMN c SET NOT NULL")
	if sch := r.schemaText(); strings.Contains(sch, "old_uq") {
		t.Fatalf("unique indexes left:\n%s", sch)
	}
	r.fails("ALTER TABLE t ADD CONSTRAINT t_c_key UNIQUE (b)", pgerror.DuplicateObject)
	r.fails("ALTER TABLE t ADD PRIMARY KEY (b)", "42P16")
	r.fails("ALTER TABLE t ALTER COLUMN a DROP NOT NULL", "42P16")
}

func TestAlterFailuresChangeNothing(t *testing.T) {
	r := newPGRunner(t)
	r.must(
		"CREATE TABLE p (id int PRIMARY KEY, q text)",
		"INSERT INTO p VALUES (1)",
		"CREATE TABLE t (id int, v text, w int)",
		"INSERT INTO t VALUES (1, '10', NULL), (2, 'abc', 1), (2, '7', 5)",
		"CREATE INDEX t_v_idx ON t (v)",
	)
	if e := r.fails("ALTER TABLE t ADD COLUMN z int, ALTER COLUMN v TYPE int USING v::int", pgerror.InvalidTextRepresentation); !strings.Contains(e.Message, `"abc"`) {
		t.Errorf("conversion error: %v", e)
	}
	if e := r.fails("ALTER TABLE t ALTER COLUMN w SET NOT NULL", pgerror.NotNullViolation); e.Message != `column "w" of relation "t" contains null values` {
		t.Errorf("SET NOT NULL: %q", e.Message)
	}
	if e := r.fails("ALTER TABLE t ADD PRIMARY KEY (id)", pgerror.UniqueViolation); e.Message != `could not create unique index "t_pkey"` || e.Detail != "Key (id)=(2) is duplicated." {
		t.Errorf("ADD PRIMARY KEY: %q %q", e.Message, e.Detail)
	}
	if e := r.fails("ALTER TABLE t ADD CONSTRAINT t_w_fk FOREIGN KEY (w) REFERENCES p (id)", pgerror.ForeignKeyViolation); e.Detail != `Key (w)=(5) is not present in table "p".` {
		t.Errorf("ADD FOREIGN KEY: %q %q", e.Message, e.Detail)
	}
	if e := r.fails("ALTER TABLE t ADD CHECK (w > 2)", pgerror.CheckViolation); e.Message != `check constraint "t_w_check" of relation "t" is violated by some row` {
		t.Errorf("ADD CHECK: %q", e.Message)
	}
	r.fails("ALTER TABLE t ADD COLUMN n int NOT NULL", pgerror.NotNullViolation)
	r.fails("ALTER TABLE t ALTER COLUMN w TYPE smallint USING w * 100000", pgerror.NumericValueOutOfRange)
	r.fails("ALTER TABLE t OWNER TO nobody", pgerror.UndefinedObject)
	r.must("ALTER TABLE t OWNER TO postgres", "ALTER TABLE t ADD CONSTRAINT t_w_fk FOREIGN KEY (w) REFERENCES p (id) NOT VALID")
	r.fails("ALTER TABLE p DROP CONSTRAINT p_pkey", pgerror.DependentObjectsStillExist)
	r.fails("ALTER TABLE p DROP COLUMN id", pgerror.DependentObjectsStillExist)
	r.must("ALTER TABLE p DROP CONSTRAINT p_pkey CASCADE")
	if got := r.constraintNames("t"); len(got) != 0 {
		t.Fatalf("CASCADE left t's foreign key: %q", got)
	}
}

func TestAlterDropColumn(t *testing.T) {
	r := newPGRunner(t)
	r.must(
		"CREATE TABLE t (id int PRIMARY KEY, a int UNIQUE, b text, c int, CHECK (c > a))",
		"CREATE INDEX t_b_idx ON t (b)",
		"CREATE INDEX t_c_idx ON t (c)",
		"INSERT INTO t VALUES (1, 1, 'x', 2), (2, 2, 'y', 3)",
		"CREATE VIEW tv AS SELECT id, c FROM t",
		"ALTER TABLE t DROP COLUMN a, DROP COLUMN IF EXISTS nope, DROP COLUMN b",
	)
	sch := r.schemaText()
	if strings.Contains(sch, "t_b_idx") || !strings.Contains(sch, "t_c_idx") {
		t.Fatalf("indexes after DROP COLUMN:\n%s", sch)
	}
	if got := r.constraintNames("t"); strings.Join(got, ",") != "t_pkey:p" {
		t.Fatalf("constraints after DROP COLUMN: %q", got)
	}
	if got := r.rows("SELECT * FROM t ORDER BY id"); strings.Join(got, ",") != "1|2,2|3" {
		t.Fatalf("rows: %q", got)
	}
	r.fails("ALTER TABLE t DROP COLUMN c", pgerror.DependentObjectsStillExist)
	r.fails("ALTER TABLE t DROP COLUMN nope", pgerror.UndefinedColumn)
	r.must("CREATE VIEW tv2 AS SELECT id FROM tv", "CREATE VIEW other AS SELECT id FROM t", "ALTER TABLE t DROP COLUMN c CASCADE")
	if sch := r.schemaText(); strings.Contains(sch, "view tv") || !strings.Contains(sch, "view other") {
		t.Fatalf("views after DROP COLUMN CASCADE:\n%s", sch)
	}
}

func TestAlterAddColumnWithConstraints(t *testing.T) {
	r := newPGRunner(t)
	r.must(
		"CREATE TABLE p (id int PRIMARY KEY)",
		"INSERT INTO p VALUES (1)",
		"CREATE TABLE t (id int PRIMARY KEY)",
		"INSERT INTO t VALUES (1), (2)",
		"ALTER TABLE t ADD COLUMN a int NOT NULL DEFAULT 0", // SQLite adds it in place
		"ALTER TABLE t ADD COLUMN b text UNIQUE, ADD COLUMN c int REFERENCES p (id) CHECK (c > 0)", // rebuilt
		"ALTER TABLE t ADD COLUMN IF NOT EXISTS a int",
	)
	if got := r.constraintNames("t"); strings.Join(got, ",") != "t_b_key:u,t_c_check:c,t_c_fkey:f,t_pkey:p" {
		t.Fatalf("constraints: %q", got)
	}
	r.fails("INSERT INTO t (id, c) VALUES (3, 7)", pgerror.ForeignKeyViolation)
	r.fails("ALTER TABLE t ADD COLUMN a int", pgerror.DuplicateColumn)
	r.must("ALTER TABLE t ADD COLUMN s int GENERATED ALWAYS AS (id * 10) STORED") // SQLite adds none to a table with rows
	if got := r.rows("SELECT s FROM t ORDER BY id"); strings.Join(got, ",") != "10,20" {
		t.Fatalf("stored generated column: %q", got)
	}
	r.must("ALTER TABLE t ADD COLUMN x int, ALTER COLUMN x SET DEFAULT 3", "ALTER TABLE t ADD COLUMN y int DEFAULT 4, ALTER COLUMN y DROP DEFAULT")
	if got := r.rows("SELECT x, y FROM t ORDER BY id"); strings.Join(got, ",") != "NULL|4,NULL|4" {
		t.Fatalf("rows an ADD COLUMN filled, its default changed in the same statement: %q", got)
	}
	r.fails("ALTER TABLE t ADD COLUMN d int DEFAULT 5 REFERENCES p (id)", pgerror.ForeignKeyViolation)
	r.must("ALTER TABLE t ADD COLUMN d int DEFAULT 1 REFERENCES p (id)")
}

// TestAlterRunsWithinTheBudget: the rebuild copies every row under the
// statement's budget: one too small fails with 54000 and changes nothing.
func TestAlterRunsWithinTheBudget(t *testing.T) {
	r := newPGRunner(t)
	r.must("CREATE TABLE t (id int PRIMARY KEY, v text)",
		"INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 3000) g")
	r.steps = 20_000
	r.fails("ALTER TABLE t ALTER COLUMN v SET NOT NULL", pgerror.ProgramLimitExceeded)
	r.steps = MaxStatementSteps
	// The interrupted rebuild left foreign keys on (they are off while it
	// runs): a reference is still checked.
	r.must("CREATE TABLE c (id int REFERENCES t (id))")
	r.fails("INSERT INTO c VALUES (99999)", pgerror.ForeignKeyViolation)
	r.must("ALTER TABLE t ALTER COLUMN v SET NOT NULL")
}

func TestAlterInTransactionIsOneUnit(t *testing.T) {
	e := newTestEngine(t)
	r := &pgRunner{t: t, e: e, steps: MaxStatementSteps}
	r.must("CREATE TABLE t (id int, v text)", "INSERT INTO t VALUES (1, 'x')")
	before := r.state()
	ctx := context.Background()
	wt, err := e.BeginWrite(ctx, ExecContext{TimeZone: "UTC"}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer wt.Rollback()
	s, _ := e.Schema(ctx)
	sts, err := translate.SQL("ALTER TABLE t ADD COLUMN z int, ALTER COLUMN v TYPE int USING v::int", s, translate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wt.Exec(ctx, sts[0].SQL, nil, false); pgerror.Code(err) != pgerror.InvalidTextRepresentation {
		t.Fatalf("ALTER in a transaction: %v", err)
	}
	ts, changed, err := wt.Schema(ctx)
	if err != nil || changed && ts.Table("t").Column("z") != nil {
		t.Fatalf("the failed ALTER left column z in the transaction (%v)", err)
	}
	wt.Rollback()
	if after := r.state(); after != before {
		t.Fatalf("state changed:\n%s\n%s", before, after)
	}
}

// TestAlterKeepsDependentsWhole: what a generated column or the table's own
// FOREIGN KEY depends on cannot go without CASCADE (PostgreSQL's 2BP01), so
// no ALTER leaves a table whose definition names what is gone.
func TestAlterKeepsDependentsWhole(t *testing.T) {
	r := newPGRunner(t)
	r.must(
		`CREATE TABLE t (id int PRIMARY KEY, a int, g int GENERATED ALWAYS AS (a * 2) STORED, parent int REFERENCES t (id) ON DELETE SET NULL)`,
		`INSERT INTO t (id, a, parent) VALUES (1, 1, NULL), (2, 2, 1)`,
	)
	if e := r.fails("ALTER TABLE t DROP COLUMN a", pgerror.DependentObjectsStillExist); e.Detail != "column g of table t depends on column a of table t" {
		t.Errorf("DROP COLUMN under a generated column: %q", e.Detail)
	}
	r.fails("ALTER TABLE t ALTER COLUMN a TYPE bigint", pgerror.FeatureNotSupported)
	if e := r.fails("ALTER TABLE t DROP CONSTRAINT t_pkey", pgerror.DependentObjectsStillExist); e.Detail != "constraint t_parent_fkey on table t depends on index t_pkey" {
		t.Errorf("DROP CONSTRAINT under the table's own foreign key: %q", e.Detail)
	}
	r.fails("ALTER TABLE t DROP COLUMN id", pgerror.DependentObjectsStillExist)
	r.must("ALTER TABLE t DROP COLUMN a CASCADE", "ALTER TABLE t DROP CONSTRAINT t_pkey CASCADE")
	if got := r.constraintNames("t"); len(got) != 0 {
		t.Fatalf("constraints left: %q", got)
	}
	if got := r.rows("SELECT id, parent FROM t ORDER BY id"); strings.Join(got, ",") != "1|NULL,2|1" {
		t.Fatalf("rows: %q", got)
	}
	r.must("INSERT INTO t (id, parent) VALUES (3, 3)")
}

// TestAlterRestatementKeepsTheTable: what ORMs restate on every sync
// (Sequelize's SET NOT NULL, DROP DEFAULT, TYPE of each column) changes
// nothing and copies nothing: the table keeps its OID.
func TestAlterRestatementKeepsTheTable(t *testing.T) {
	r := newPGRunner(t)
	r.must(`CREATE TABLE "Users" ("id" serial PRIMARY KEY, "email" varchar(255) NOT NULL)`)
	oid := func() uint32 {
		s, err := r.e.Schema(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return s.Table("Users").OID
	}
	before := oid()
	// (The serial id keeps its default, nextval of its sequence: dropping it
	// would change the table, as in PostgreSQL.)
	r.must(`ALTER TABLE "Users" ALTER COLUMN "id" SET NOT NULL;ALTER TABLE "Users" ALTER COLUMN "id" TYPE INTEGER`,
		`ALTER TABLE "Users" ALTER COLUMN "email" SET NOT NULL;ALTER TABLE "Users" ALTER COLUMN "email" DROP DEFAULT;ALTER TABLE "Users" ALTER COLUMN "email" TYPE VARCHAR(255)`)
	if after := oid(); after != before {
		t.Fatalf("restating the columns rebuilt the table: OID %d, then %d", before, after)
	}
	r.must(`ALTER TABLE "Users" ALTER COLUMN "email" TYPE VARCHAR(100)`)
	if after := oid(); after == before {
		t.Fatal("a real type change did not rebuild the table")
	}
}

// TestAlterRandomSequences runs random sequences of ALTER TABLE actions
// (fixed seed) and checks after each that the table still reads, its
// schema loads, and its rows are all there: no sequence of ALTERs leaves a
// table its own engine cannot use.
func TestAlterRandomSequences(t *testing.T) {
	actions := []string{
		"ALTER TABLE t ADD COLUMN %c int DEFAULT 1",
		"ALTER TABLE t ADD COLUMN %c text NOT NULL DEFAULT 'x'",
		"ALTER TABLE t ADD COLUMN %c int UNIQUE",
		"ALTER TABLE t ADD COLUMN %c int REFERENCES p (id) ON DELETE SET NULL",
		"ALTER TABLE t DROP COLUMN %o",
		"ALTER TABLE t DROP COLUMN %o CASCADE",
		"ALTER TABLE t ALTER COLUMN %o TYPE bigint USING 0",
		"ALTER TABLE t ALTER COLUMN %o TYPE text",
		"ALTER TABLE t ALTER COLUMN %o SET DEFAULT 7",
		"ALTER TABLE t ALTER COLUMN %o DROP DEFAULT",
		"ALTER TABLE t ALTER COLUMN %o SET NOT NULL",
		"ALTER TABLE t ALTER COLUMN %o DROP NOT NULL",
		"ALTER TABLE t ADD CHECK (%o IS NOT NULL OR id > 0)",
		"ALTER TABLE t ADD UNIQUE (%o)",
		"ALTER TABLE t ADD PRIMARY KEY (%o)",
		"ALTER TABLE t DROP CONSTRAINT IF EXISTS t_pkey CASCADE",
		"ALTER TABLE t DROP CONSTRAINT IF EXISTS t_%o_key",
		"ALTER TABLE t DROP CONSTRAINT IF EXISTS t_%o_fkey",
		"ALTER TABLE t RENAME CONSTRAINT t_%o_key TO k_%o",
		"ALTER TABLE t RENAME COLUMN %o TO %c",
		"CREATE INDEX ON t (%o)",
		"CREATE VIEW v_%c AS SELECT %o FROM t",
		"ALTER TABLE p ALTER COLUMN id TYPE bigint",
		"INSERT INTO t (id) VALUES (%n)",
	}
	r, twin := newPGRunner(t), newPGRunner(t) // twin: another node applying the same entries
	for _, x := range []*pgRunner{r, twin} {
		x.must("CREATE TABLE p (id int PRIMARY KEY)", "INSERT INTO p VALUES (1), (2)",
			"CREATE TABLE t (id int, a int, b text)", "INSERT INTO t VALUES (1, 1, 'a'), (2, 2, 'b'), (3, NULL, NULL)")
	}
	seed := uint64(12345)
	next := func(n int) int {
		seed = seed*6364136223846793005 + 1442695040888963407
		return int(seed>>33) % n
	}
	fresh := 0
	for i := 0; i < 150; i++ {
		s, err := r.e.Schema(context.Background())
		if err != nil {
			t.Fatalf("step %d: schema: %v", i, err)
		}
		cols := s.Table("t").Columns
		q := actions[next(len(actions))]
		fresh++
		q = strings.ReplaceAll(q, "%c", "c"+strings.Repeat("x", fresh%3)+string(rune('a'+fresh%26)))
		q = strings.ReplaceAll(q, "%o", cols[next(len(cols))].Name)
		q = strings.ReplaceAll(q, "%n", "1"+strings.Repeat("0", fresh%5))
		rowsBefore := r.rows("SELECT count(*) FROM t")[0]
		err = r.run(q)
		if terr := twin.run(q); pgerror.Code(terr) != pgerror.Code(err) {
			t.Fatalf("step %d: %s: %v on one node, %v on the other", i, q, err, terr)
		}
		t.Logf("%s -> %v", q, pgerror.Code(err))
		if pe := pgerror.As(err); err != nil && (pe == nil || pe.Code == pgerror.InternalError) {
			t.Fatalf("step %d: %s: %v", i, q, err)
		}
		if got := r.rows("SELECT count(*) FROM t")[0]; got != rowsBefore && !strings.HasPrefix(q, "INSERT") {
			t.Fatalf("step %d: %s: %s rows, were %s", i, q, got, rowsBefore)
		}
		r.rows("SELECT * FROM t")
		if err := r.run("UPDATE t SET id = id"); err != nil && pgerror.Code(err) == pgerror.InternalError {
			t.Fatalf("step %d: after %s, UPDATE: %v", i, q, err)
		}
		twin.run("UPDATE t SET id = id")
	}
	if a, b := r.state(), twin.state(); a != b {
		t.Fatalf("two engines fed the same statements differ:\n%s\n---\n%s", a, b)
	}
}

// TestAlterORMForms runs ALTERs as Prisma, TypeORM and knex write them.
func TestAlterORMForms(t *testing.T) {
	r := newPGRunner(t)
	r.must(
		`CREATE TABLE "User" ("id" SERIAL NOT NULL, "email" TEXT NOT NULL, CONSTRAINT "User_pkey" PRIMARY KEY ("id"))`,
		`CREATE TABLE "Post" ("id" SERIAL NOT NULL, "authorId" INTEGER, "title" varchar(50) DEFAULT 'x', CONSTRAINT "Post_pkey" PRIMARY KEY ("id"))`,
		`INSERT INTO "User" ("email") VALUES ('a@x'), ('b@x')`,
		`INSERT INTO "Post" ("authorId") VALUES (1), (2), (NULL)`,
		// Prisma
		`ALTER TABLE "Post" ADD CONSTRAINT "Post_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE`,
		`ALTER TABLE "User" DROP CONSTRAINT "User_pkey" CASCADE, ADD CONSTRAINT "User_pkey" PRIMARY KEY ("id")`,
		`ALTER TABLE "Post" ADD CONSTRAINT "Post_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE`,
		// TypeORM
		`ALTER TABLE "User" ADD CONSTRAINT "UQ_e12875dfb3b1d92d7d7c5377e22" UNIQUE ("email")`,
		`ALTER TABLE "Post" ALTER COLUMN "title" SET DEFAULT now()`,
		`ALTER TABLE "Post" ALTER COLUMN "title" SET DEFAULT 'y'`,
		// knex
		`alter table "Post" alter column "title" drop default`,
		`alter table "Post" alter column "title" drop not null`,
		`alter table "Post" alter column "title" type varchar(255) using ("title"::varchar(255))`,
	)
	want := "Post_authorId_fkey:f,Post_pkey:p"
	if got := r.constraintNames("Post"); strings.Join(got, ",") != want {
		t.Fatalf("Post: %q, want %s", got, want)
	}
	want = "UQ_e12875dfb3b1d92d7d7c5377e22:u,User_pkey:p"
	if got := r.constraintNames("User"); strings.Join(got, ",") != want {
		t.Fatalf("User: %q, want %s", got, want)
	}
	r.fails(`DELETE FROM "User" WHERE "id" = 1`, pgerror.ForeignKeyViolation)
	r.must(`UPDATE "User" SET "id" = 7 WHERE "id" = 2`)
	if got := r.rows(`SELECT "authorId" FROM "Post" ORDER BY "id"`); strings.Join(got, ",") != "1,7,NULL" {
		t.Fatalf("ON UPDATE CASCADE after the rebuilds: %q", got)
	}
}

// TestAlterKeepsSerialCounters: a rebuilt serial table hands out the next
// value it would have, not one freed by a delete.
func TestAlterKeepsSerialCounters(t *testing.T) {
	r := newPGRunner(t)
	r.must("CREATE TABLE t (id serial PRIMARY KEY, v text)",
		"INSERT INTO t (v) VALUES ('a'), ('b'), ('c')", "DELETE FROM t WHERE id = 3",
		"ALTER TABLE t ALTER COLUMN v SET NOT NULL", "INSERT INTO t (v) VALUES ('d')")
	if got := r.rows("SELECT id FROM t ORDER BY id"); strings.Join(got, ",") != "1,2,4" {
		t.Fatalf("ids after the rebuild: %q", got)
	}
}

// TestAlterRenameTableKeepsConstraintNames: as in PostgreSQL, t_pkey stays
// t_pkey when t becomes t2; references and views follow the table.
func TestAlterRenameTableKeepsConstraintNames(t *testing.T) {
	r := newPGRunner(t)
	r.must("CREATE TABLE t (id serial PRIMARY KEY, a int UNIQUE CHECK (a > 0))",
		"CREATE TABLE c (tid int REFERENCES t (id))", "CREATE VIEW tv AS SELECT id, a FROM t",
		"INSERT INTO t (a) VALUES (1), (2)", "INSERT INTO c VALUES (2)",
		"ALTER TABLE t RENAME TO t2")
	if got := r.constraintNames("t2"); strings.Join(got, ",") != "t_a_check:c,t_a_key:u,t_pkey:p" {
		t.Fatalf("constraints after RENAME TO: %q", got)
	}
	r.fails("INSERT INTO c VALUES (9)", pgerror.ForeignKeyViolation)
	r.must("INSERT INTO t2 (a) VALUES (3)")
	if got := r.rows("SELECT id FROM tv ORDER BY id"); strings.Join(got, ",") != "1,2,3" {
		t.Fatalf("view after RENAME TO: %q", got)
	}
	r.fails("ALTER TABLE t2 RENAME TO c", pgerror.DuplicateTable)
	r.must("ALTER TABLE t2 RENAME TO t3")
}

// TestAlterStaysInTheSandbox: an ALTER runs with internal access, so it
// checks the names the sandbox keeps for pgraft and SQLite itself.
func TestAlterStaysInTheSandbox(t *testing.T) {
	r := newPGRunner(t)
	r.must("CREATE TABLE t (id int PRIMARY KEY, k text)")
	for q, code := range map[string]string{
		`ALTER TABLE t RENAME TO _pgraft_x`:                                                     pgerror.InsufficientPrivilege,
		`ALTER TABLE t RENAME TO sqlite_x`:                                                      pgerror.InsufficientPrivilege,
		`ALTER TABLE t ADD FOREIGN KEY (k) REFERENCES _pgraft_meta (key)`:                       pgerror.UndefinedTable,
		`ALTER INDEX sqlite_autoindex_t_1 RENAME TO x`:                                          pgerror.UndefinedTable,
		`ALTER TABLE t ADD COLUMN z text DEFAULT 'applied_index' REFERENCES _pgraft_meta (key)`: pgerror.UndefinedTable,
	} {
		r.fails(q, code)
	}
	// Specs a translator would never write for these names, straight to
	// the engine.
	for _, spec := range []*translate.AlterSpec{
		{Table: "_pgraft_meta", Actions: []translate.AlterAction{{Op: "rename_table", NewName: "m"}}},
		{Table: "_pgraft_roles", Actions: []translate.AlterAction{{Op: "drop_column", Column: "name"}}},
	} {
		data, err := EncodePayload(&Payload{StepBudget: MaxStatementSteps, Ops: []Op{{Kind: OpExec, SQL: spec.Encode()}}})
		if err != nil {
			t.Fatal(err)
		}
		r.index++
		res := r.e.ApplyBatch([]Command{{Index: r.index, Data: data}})[0].(*ApplyResult)
		if got := pgerror.Code(res.Results[0].Err); got != pgerror.UndefinedTable {
			t.Errorf("%+v: %v, want 42P01", spec, res.Results[0].Err)
		}
	}
}

// TestDropCascade: DROP TABLE/VIEW … CASCADE drops the views that depend on
// the relation, views over those views included, and other tables'
// FOREIGN KEYs referencing it (their rows stay), as PostgreSQL does;
// without CASCADE each of those makes the DROP 2BP01. Unrelated views and
// tables are left alone. (Django's migrate zero drops its tables so.)
func TestDropCascade(t *testing.T) {
	r := newPGRunner(t)
	r.must(`CREATE TABLE p (id serial PRIMARY KEY, name text)`,
		`CREATE TABLE c (id int PRIMARY KEY, pid int REFERENCES p ON DELETE CASCADE, note text)`,
		`CREATE TABLE other (x int)`,
		`CREATE VIEW pv AS SELECT name FROM p`, `CREATE VIEW pvv AS SELECT * FROM pv`, `CREATE VIEW ov AS SELECT x FROM other`,
		`INSERT INTO p (name) VALUES ('a'), ('b')`, `INSERT INTO c VALUES (1, 1, 'x'), (2, 2, 'y')`)
	r.fails(`DROP TABLE p`, pgerror.DependentObjectsStillExist)
	r.fails(`DROP VIEW pv`, pgerror.DependentObjectsStillExist)
	r.must(`DROP VIEW pv CASCADE`)
	if got := r.rows(`SELECT relname FROM pg_class WHERE relkind = 'v' ORDER BY relname`); strings.Join(got, ",") != "ov" {
		t.Fatalf("views after DROP VIEW pv CASCADE: %q, want [ov]", got)
	}
	r.must(`CREATE VIEW pv AS SELECT name FROM p`, `DROP TABLE p CASCADE`)
	if got := r.rows(`SELECT relname FROM pg_class WHERE relkind IN ('r', 'v') ORDER BY relname`); strings.Join(got, ",") != "c,other,ov" {
		t.Fatalf("relations after DROP TABLE p CASCADE: %q", got)
	}
	if got := r.constraintNames("c"); strings.Join(got, ",") != "c_pkey:p" {
		t.Fatalf("constraints of c: %q, want the foreign key gone", got)
	}
	r.must(`INSERT INTO c VALUES (3, 99, 'no parent any more')`, `DROP TABLE IF EXISTS nosuch CASCADE`)
	if got := r.rows(`SELECT count(*) FROM c`); strings.Join(got, ",") != "3" {
		t.Fatalf("rows of c: %q", got)
	}
}
