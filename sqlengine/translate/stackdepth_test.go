package translate

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	pg "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// depthShape builds a query that nests n times in one way, for the bound
// tests. Each is a way PostgreSQL's grammar nests without limit: binary
// operator chains (left-deep, which bison's stack does not bound), prefix
// operators, brackets, CASE, subqueries, set operations, joins, casts.
type depthShape struct {
	name string
	gen  func(n int) string
}

func rep(s string, n int) string { return strings.Repeat(s, n) }

var depthShapes = []depthShape{
	{"plus chain", func(n int) string { return "SELECT 1" + rep("+1", n) }},
	{"concat chain", func(n int) string { return "SELECT 'a'" + rep("||'a'", n) }},
	{"comparison in a chain of ANDs", func(n int) string { return "SELECT 1 WHERE 1=1" + rep(" AND 1=1+1", n) }},
	{"parameter chain", func(n int) string {
		var b strings.Builder
		b.WriteString("SELECT $1")
		for i := 2; i <= n+1; i++ {
			b.WriteString("+$" + strconv.Itoa(i))
		}
		return b.String()
	}},
	{"parentheses", func(n int) string { return "SELECT " + rep("(", n) + "1" + rep(")", n) }},
	{"right-nested sums", func(n int) string { return "SELECT " + rep("(1+", n) + "1" + rep(")", n) }},
	{"scalar subqueries", func(n int) string { return rep("SELECT (", n) + "SELECT 1" + rep(")", n) }},
	{"IN subqueries", func(n int) string { return "SELECT 1" + rep(" WHERE 1 IN (SELECT 1", n) + rep(")", n) }},
	{"EXISTS", func(n int) string { return "SELECT " + rep("EXISTS (SELECT ", n) + "1" + rep(")", n) }},
	{"FROM subqueries", func(n int) string { return "SELECT * FROM " + rep("(SELECT * FROM ", n) + "t" + rep(") a", n) }},
	{"CTEs", func(n int) string { return rep("WITH a AS (", n) + "SELECT 1" + rep(") SELECT 1", n) }},
	{"arrays", func(n int) string { return "SELECT " + rep("ARRAY[", n) + "1" + rep("]", n) }},
	{"nested brackets", func(n int) string { return "SELECT ARRAY" + rep("[", n) + "1" + rep("]", n) }},
	{"CASE", func(n int) string { return "SELECT " + rep("CASE WHEN true THEN ", n) + "1" + rep(" END", n) }},
	{"CASE in ELSE", func(n int) string { return "SELECT " + rep("CASE 1 WHEN 1 THEN 1 ELSE ", n) + "1" + rep(" END", n) }},
	{"unary minus", func(n int) string { return "SELECT " + rep("- ", n) + "x" }},
	{"glued unary minus", func(n int) string { return "SELECT 1" + rep("+-", n) + "1" }},
	{"NOT", func(n int) string { return "SELECT " + rep("NOT ", n) + "true" }},
	{"BETWEEN AND NOT", func(n int) string { return "SELECT 1" + rep(" BETWEEN 1 AND NOT 1", n) }},
	{"casts", func(n int) string { return "SELECT 1" + rep("::int", n) }},
	{"CAST", func(n int) string { return "SELECT " + rep("CAST(", n) + "1" + rep(" AS int)", n) }},
	{"function calls", func(n int) string { return "SELECT " + rep("f(", n) + "1" + rep(")", n) }},
	{"coalesce", func(n int) string { return "SELECT " + rep("coalesce(", n) + "1" + rep(",1)", n) }},
	{"ROW", func(n int) string { return "SELECT " + rep("ROW(", n) + "1" + rep(")", n) }},
	{"row constructors", func(n int) string { return "SELECT " + rep("(1,", n) + "1" + rep(")", n) }},
	{"UNION", func(n int) string { return "SELECT 1, 2" + rep(" UNION SELECT 1, 2", n) }},
	{"parenthesized UNION", func(n int) string { return rep("(SELECT 1 UNION ", n) + "SELECT 1" + rep(")", n) }},
	{"JOIN", func(n int) string { return "SELECT * FROM t" + rep(" JOIN t ON a AND b", n) }},
	{"CROSS JOIN", func(n int) string { return "SELECT * FROM t" + rep(" CROSS JOIN t", n) }},
	{"parenthesized JOIN", func(n int) string { return "SELECT * FROM " + rep("(", n) + "t" + rep(" JOIN t ON true)", n) }},
	{"JSON arrows", func(n int) string { return "SELECT x" + rep("->'a'", n) }},
	{"AT TIME ZONE", func(n int) string { return "SELECT x" + rep(" AT TIME ZONE 'a'", n) }},
	{"COLLATE", func(n int) string { return "SELECT 'a'" + rep(` COLLATE "C"`, n) }},
	{"IS NOT NULL", func(n int) string { return "SELECT (" + rep("(", n) + "1" + rep(") IS NOT NULL", n) + ")" }},
	{"OPERATOR", func(n int) string { return "SELECT 1" + rep(" OPERATOR(pg_catalog.+) 1", n) }},
	{"subscripts", func(n int) string { return "SELECT (x" + rep("[1]", n) + ")" }},
	{"OR of ANDs in parentheses", func(n int) string { return "SELECT 1 WHERE " + rep("(a OR b AND ", n) + "c" + rep(")", n) }},
	{"INSERT SELECT", func(n int) string { return "INSERT INTO t SELECT 1" + rep("*1", n) }},
	{"UPDATE SET", func(n int) string { return "UPDATE t SET a = 1" + rep("-1", n) }},
}

// protoDepth is the nesting depth of a protobuf message: what
// pg_query_nodes_to_protobuf and protobuf-c recurse over.
func protoDepth(m protoreflect.Message) int {
	deepest := 0
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList() && fd.Message() != nil:
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				deepest = max(deepest, protoDepth(l.Get(i).Message()))
			}
		case fd.Message() != nil && !fd.IsMap():
			deepest = max(deepest, protoDepth(v.Message()))
		}
		return true
	})
	return deepest + 1
}

// TestParseDepthBoundsTreeDepth is the proof of the estimate: for every
// shape, at sizes the C parser survives with room to spare, the tree's
// protobuf depth is at most 2·parseDepth + 64, which maxParseDepth's
// choice relies on (stackdepth.go).
func TestParseDepthBoundsTreeDepth(t *testing.T) {
	check := func(t *testing.T, sql string) {
		t.Helper()
		tree, err := pg.Parse(sql)
		if err != nil {
			return // no tree, nothing serialized
		}
		d, e := protoDepth(tree.ProtoReflect()), parseDepth(sql, 1<<30)
		if d > 2*e+64 {
			t.Fatalf("tree depth %d > 2·%d+64 for %.80s…", d, e, sql)
		}
	}
	for _, s := range depthShapes {
		t.Run(s.name, func(t *testing.T) {
			for _, n := range []int{0, 1, 2, 3, 10, 100, 400} {
				check(t, s.gen(n))
			}
		})
	}
	t.Run("random mixes", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(13, 2))
		for i := 0; i < 300; i++ {
			check(t, "SELECT "+randomExpr(rng, 1+rng.IntN(300)))
		}
	})
}

// randomExpr nests pieces of the shapes above at random along one spine,
// budget levels deep (the other operands are leaves, so the text grows
// linearly): a mix no single shape tests.
func randomExpr(rng *rand.Rand, budget int) string {
	leaf := func() string { return []string{"1", "x", "'a'", "$1", "t.a", "NULL"}[rng.IntN(6)] }
	if budget <= 0 {
		return leaf()
	}
	e := randomExpr(rng, budget-1)
	switch rng.IntN(16) {
	case 0:
		return e + " + " + leaf()
	case 1:
		return "(" + e + ")"
	case 2:
		return "(SELECT " + e + ")"
	case 3:
		return "CASE WHEN " + leaf() + " THEN " + e + " ELSE " + leaf() + " END"
	case 4:
		return "- " + e
	case 5:
		return "NOT " + e
	case 6:
		return "(" + e + ")::int"
	case 7:
		return "f(" + leaf() + ", " + e + ")"
	case 8:
		return "ARRAY[" + e + "]"
	case 9:
		return leaf() + " AND " + e + " OR " + leaf()
	case 10:
		return leaf() + " BETWEEN " + leaf() + " AND " + e
	case 11:
		return "EXISTS (SELECT " + leaf() + " UNION SELECT " + e + ")"
	case 12:
		return e + " || " + leaf()
	case 13:
		return "(" + e + ") IS NULL"
	case 14:
		return "(SELECT " + leaf() + " FROM t JOIN u ON " + e + ")"
	}
	return leaf() + " IN (" + leaf() + ", " + e + ")"
}

// TestParseDepthLimit proves the bound at its edge: the deepest query of
// each kind that maxParseDepth allows reaches the parser and parses (or
// fails for another reason than depth), one step deeper fails with 54001
// before it. Both run in this process: a C stack overflow would kill it.
func TestParseDepthLimit(t *testing.T) {
	for _, s := range depthShapes {
		t.Run(s.name, func(t *testing.T) {
			n := largestAllowed(s.gen)
			if n < 0 {
				if _, err := SQL(s.gen(1<<14), nil, Options{}); pgerror.Code(err) == pgerror.StatementTooComplex {
					t.Fatalf("flat query refused: %v", err)
				}
				return
			}
			if _, err := SQL(s.gen(n), nil, Options{}); pgerror.Code(err) == pgerror.StatementTooComplex {
				t.Fatalf("n=%d: %v, want it parsed", n, err)
			}
			if _, err := pg.Parse(s.gen(n)); err != nil && !strings.Contains(err.Error(), "syntax") {
				t.Logf("n=%d parses with: %v", n, err)
			}
			err := errOf(SQL(s.gen(n+1), nil, Options{}))
			if pe := pgerror.As(err); pe == nil || pe.Code != pgerror.StatementTooComplex ||
				pe.Message != "stack depth limit exceeded" || !strings.HasPrefix(pe.Hint, `Increase the configuration parameter "max_stack_depth"`) {
				t.Fatalf("n=%d: %v, want 54001 stack depth limit exceeded", n+1, err)
			}
		})
	}
}

func errOf(_ []*Stmt, err error) error { return err }

// largestAllowed finds the largest n whose query passes checkParseDepth
// (the estimate grows with n), or -1 when 2^14 still passes.
func largestAllowed(gen func(int) string) int {
	lo, hi := 0, 1
	for checkParseDepth(gen(hi)) == nil {
		if hi >= 1<<14 {
			return -1 // flat: AND chains, which PostgreSQL makes one node
		}
		lo, hi = hi, hi*2
	}
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if checkParseDepth(gen(mid)) == nil {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}

// TestParseDepthIssue13 is the issue's two queries: 54001, and this process
// still alive to say so.
func TestParseDepthIssue13(t *testing.T) {
	plus := "SELECT 1" + rep("+1", 39999)
	var params strings.Builder
	params.WriteString("SELECT $1")
	for i := 2; i <= 65535; i++ {
		params.WriteString("+$" + strconv.Itoa(i))
	}
	for _, sql := range []string{plus, params.String()} {
		if _, err := SQL(sql, nil, Options{}); pgerror.Code(err) != pgerror.StatementTooComplex {
			t.Fatalf("%.40s…: %v, want 54001", sql, err)
		}
		lits, _, _ := ScanLiterals(sql)
		if _, _, err := WithShape(sql, nil, nil, Options{}); pgerror.Code(err) != pgerror.StatementTooComplex {
			t.Fatalf("WithShape %.40s… (%d): %v, want 54001", sql, len(lits), err)
		}
	}
}

// TestParseDepthFuzz throws deep and long queries of every shape, mixed and
// at random sizes up to three times the bound, at SQL: none may crash
// the process, and each answer is either a translation or an error with a
// SQLSTATE.
func TestParseDepthFuzz(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 4))
	for i := 0; i < 400; i++ {
		var sql string
		if i%2 == 0 {
			s := depthShapes[rng.IntN(len(depthShapes))]
			sql = s.gen(rng.IntN(3 * maxParseDepth))
		} else {
			a, b := depthShapes[rng.IntN(len(depthShapes))], depthShapes[rng.IntN(len(depthShapes))]
			sql = a.gen(rng.IntN(maxParseDepth)) + " UNION ALL " + b.gen(rng.IntN(maxParseDepth))
		}
		_, err := SQL(sql, nil, Options{})
		if err != nil && pgerror.As(err) == nil {
			t.Fatalf("%.60s…: %v, an error without a SQLSTATE", sql, err)
		}
	}
}

// TestParseDepthLexer: what is not code (strings, identifiers, comments,
// dollar quotes) adds nothing, and what PostgreSQL's lexer takes for code
// is counted even where a naive scan would see a string.
func TestParseDepthLexer(t *testing.T) {
	deep := rep("(", 600) + "1" + rep(")", 600) // 2400 by itself
	tests := []struct {
		name    string
		sql     string
		tooDeep bool
	}{
		{"plain", "SELECT " + deep, true},
		{"in a string", "SELECT '" + deep + "'", false},
		{"in a string with doubled quotes", "SELECT 'it''s " + deep + "'", false},
		{"in an E string with an escaped quote", `SELECT E'\'` + deep + "'", false},
		{"after a backslash in a plain string", `SELECT '\' , ` + deep, true},
		{"in a quoted identifier", `SELECT "` + deep + `"`, false},
		{"in a line comment", "SELECT 1 -- " + deep, false},
		{"after a line comment", "SELECT 1 -- x\n, " + deep, true},
		{"in a nested block comment", "SELECT 1 /* /* */ " + deep + " */", false},
		{"in a dollar quote", "SELECT $q$" + deep + "$q$", false},
		{"in an empty-tag dollar quote", "SELECT $$" + deep + "$$", false},
		{"after a parameter", "SELECT $1, " + deep, true},
		{"code after a B string", "SELECT B'01', " + deep, true},
		{"B string then a string", "SELECT B'0''" + deep + "'", false},
		{"continued E string", "SELECT E'a'\n'\\'" + deep + "'", false},
		{"U& string", "SELECT U&'" + deep + "'", false},
		{"identifier ending in e", "SELECT fe'" + deep + "'", false},
		{"after a NUL", "SELECT 1\x00" + deep, false},
		{"deep in separate statements", "SELECT " + rep("(", 300) + "1" + rep(")", 300) + "; SELECT " + rep("(", 300) + "1" + rep(")", 300), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := checkParseDepth(tc.sql) != nil
			if got != tc.tooDeep {
				t.Fatalf("too deep = %v, want %v (estimate %d)", got, tc.tooDeep, parseDepth(tc.sql, 1<<30))
			}
		})
	}
}

// BenchmarkParseDepth: the scan runs before every parse.
func BenchmarkParseDepth(b *testing.B) {
	sql := "SELECT a, b, c FROM t JOIN u ON t.id = u.id WHERE a = 1 AND b IN (1, 2, 3) AND c LIKE 'x%' ORDER BY a LIMIT 10"
	for b.Loop() {
		parseDepth(sql, maxParseDepth)
	}
	b.ReportMetric(float64(len(sql)), "bytes")
}
