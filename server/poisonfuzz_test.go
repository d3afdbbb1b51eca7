package server_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pgraft/pgraft/server/servertest"
)

// TestPoisonFuzz sends random statements from a grammar that mixes
// PostgreSQL syntax, SQLite-only functions, huge sizes, deep nesting and
// catalog and internal names to a three-node in-process cluster, through
// the leader and the followers, and checks after every batch that every
// node answers SELECT 1 within a second and that all hold the same data
// (I8: nothing a client sends can crash, stall or split the cluster).
//
// It runs when PGRAFT_POISON_STATEMENTS is set; `make fuzz` sends
// 1,000,000. PGRAFT_POISON_SEED fixes the generator (default: the
// clock, logged).
func TestPoisonFuzz(t *testing.T) {
	skipShortCluster(t)
	if os.Getenv("PGRAFT_POISON_STATEMENTS") == "" {
		// Not in make test yet: runs of 3,000 statements sometimes see
		// writes stall for more than 30 s (a pre-run that statement_timeout
		// does not stop; seeds 424242 and 1796631620377700051), an open
		// bug of issue 13. make fuzz runs it.
		t.Skip("set PGRAFT_POISON_STATEMENTS=N to run the poison fuzzer (make fuzz does)")
	}
	total := envInt(t, "PGRAFT_POISON_STATEMENTS", 3000)
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("PGRAFT_POISON_SEED"); v != "" {
		s, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("PGRAFT_POISON_SEED: %v", err)
		}
		seed = s
	}
	t.Logf("poison fuzz: %d statements, seed %d (PGRAFT_POISON_SEED=%d replays the generator)", total, seed, seed)

	c := servertest.NewCluster(t, 3)
	for _, s := range poisonSetup {
		leaderExec(t, c, s)
	}
	const workers = 3 // one session per node
	const batch = 300
	var st fuzzStats
	start := time.Now()
	for done := 0; done < total; {
		n := min(batch, total-done)
		var wg sync.WaitGroup
		for w := range workers {
			g := &poisonGen{rng: rand.New(rand.NewPCG(seed, uint64(done*workers+w)))}
			wg.Go(func() {
				// Bounded waits: a runaway statement stops at 100 ms (runaways
				// are about 3% of the statements, and their CPU time was most
				// of a run's at 300 ms), and a write queued behind another
				// session's open transaction gives up at once (55P03)
				// instead of waiting out lock_timeout. An XX000 is a gap in
				// translation, not a poisoned node: reported, not failed.
				runFuzzSession(t, "poison fuzz", c.Nodes[w].DSN(), "SET statement_timeout = '100ms'; SET lock_timeout = '100ms'",
					g.statement, n/workers+1, &st, 5)
			})
		}
		wg.Wait()
		done += n
		requirePoisonHealthy(t, c, done)
	}
	t.Logf("poison fuzz: %d statements in %v (%d errors: %s); every node served and converged after each batch of %d",
		st.sent.Load(), time.Since(start).Round(time.Second), st.failed.Load(), st.summary(), batch)
}

func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q: want a positive number", name, v)
	}
	return n
}

var poisonSetup = []string{
	`CREATE TABLE pz (id int PRIMARY KEY, a text, b bigint, c double precision, d bytea, e timestamptz, f boolean)`,
	`CREATE TABLE pz2 (k serial PRIMARY KEY, v text UNIQUE, n numeric)`,
	`INSERT INTO pz VALUES (1, 'one', 1, 1.5, '\x01', '2024-01-01', true), (2, 'two', 2, 2.5, NULL, NULL, false)`,
}

// requirePoisonHealthy is the check after each batch (requireServing,
// poison_test.go), naming how far the run got.
func requirePoisonHealthy(t *testing.T, c *servertest.Cluster, done int) {
	t.Helper()
	if done%30000 == 0 {
		t.Logf("poison fuzz: %d statements sent, every node serving and converged so far", done)
	}
	requireServing(t, c) // fails naming the node; the last line above tells how far the run got
}

// poisonGen generates statements. It belongs to one goroutine.
type poisonGen struct {
	rng   *rand.Rand
	depth int
}

func (g *poisonGen) pick(xs ...string) string { return xs[g.rng.IntN(len(xs))] }

func (g *poisonGen) statement() string {
	switch g.rng.IntN(20) {
	case 0, 1, 2, 3:
		return "SELECT " + g.exprList()
	case 4, 5, 6:
		return fmt.Sprintf("INSERT INTO pz VALUES (%d, %s, %s, %s, %s, %s, %s)", g.rng.IntN(1000)+3,
			g.expr(), g.expr(), g.expr(), g.expr(), g.expr(), g.expr())
	case 7:
		return "INSERT INTO pz2 (v, n) SELECT " + g.expr() + ", " + g.expr() + " FROM " + g.source()
	case 8:
		return "UPDATE pz SET " + g.pick("a", "b", "c", "d", "e", "f") + " = " + g.expr() + " WHERE " + g.expr()
	case 9:
		return "DELETE FROM " + g.pick("pz", "pz2") + " WHERE " + g.expr()
	case 10:
		return "SELECT " + g.exprList() + " FROM " + g.source() + " WHERE " + g.expr() + g.pick("", " LIMIT 5", " ORDER BY 1")
	case 11:
		return g.pick(
			"CREATE TABLE IF NOT EXISTS pzt"+strconv.Itoa(g.rng.IntN(5))+" (x int, y text DEFAULT "+g.literal()+")",
			"DROP TABLE IF EXISTS pzt"+strconv.Itoa(g.rng.IntN(5)),
			"CREATE INDEX IF NOT EXISTS pzi"+strconv.Itoa(g.rng.IntN(5))+" ON pz ("+g.pick("a", "b", "lower(a)", "(b + 1)")+")",
			"CREATE VIEW pzv"+strconv.Itoa(g.rng.IntN(5))+" AS SELECT "+g.exprList()+" FROM "+g.source(),
			"DROP VIEW IF EXISTS pzv"+strconv.Itoa(g.rng.IntN(5)),
			"ALTER TABLE pz ADD COLUMN z"+strconv.Itoa(g.rng.IntN(5))+" text",
			"DROP TABLE "+g.pick("_pgraft_meta", "sqlite_master", "sqlite_sequence", "pg_class", "pzt1"),
		)
	case 12:
		return g.pick("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT s1", "ROLLBACK TO SAVEPOINT s1", "RELEASE SAVEPOINT s1",
			"BEGIN ISOLATION LEVEL REPEATABLE READ", "SET statement_timeout = '150ms'", "SET TIME ZONE 'Asia/Tokyo'")
	case 13:
		return g.pick(
			"UPDATE _pgraft_meta SET value = 0",
			"INSERT INTO pz2 (v) SELECT file FROM pragma_database_list",
			"INSERT INTO pz2 (v) SELECT name FROM pragma_function_list",
			"INSERT INTO pz2 (v) SELECT sql FROM sqlite_master",
			"INSERT INTO pz2 (v) VALUES (sqlite_version())",
			"INSERT INTO pz2 (v) VALUES (datetime('2024-06-01 12:00:00', 'utc'))",
			"INSERT INTO pz2 (v) VALUES (datetime('now', 'localtime'))",
			"SELECT * FROM pragma_page_count",
			"PRAGMA writable_schema = 1",
			"ATTACH DATABASE '/tmp/x.db' AS x",
			"SELECT load_extension('/tmp/x')",
			"VACUUM",
			"INSERT INTO pz2 (v) VALUES (last_insert_rowid())",
		)
	case 14:
		// deep nesting and long chains, sometimes past any sane bound
		n := g.size()
		switch g.rng.IntN(4) {
		case 0:
			return "SELECT " + strings.Repeat("(", n) + "1" + strings.Repeat(")", n)
		case 1:
			return "SELECT 1" + strings.Repeat("+1", n)
		case 2:
			return "SELECT " + strings.Repeat("-", n) + "1"
		default:
			return "SELECT " + strings.Repeat("ARRAY[", n) + "1" + strings.Repeat("]", n)
		}
	case 15:
		return "INSERT INTO pz2 (v) SELECT count(*)::text FROM (WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r" +
			g.pick(" WHERE n < 1000", " WHERE n < 100000", "") + ") SELECT n FROM r) s"
	case 16:
		return "SELECT " + g.pick("count(*)", "string_agg(a, ',')", "sum(b)", "avg(c)", "array_agg(a)", "max(e)") +
			" FROM " + g.source() + g.pick("", " GROUP BY a", " HAVING count(*) > 1")
	case 17:
		return "INSERT INTO pz2 (v) VALUES (" + g.hugeCall() + ")"
	case 18:
		return "SELECT " + g.hugeCall()
	default:
		return g.pick("", ";", "SELECT", "SELEC 1", "INSERT INTO", "SELECT 1; SELECT 2", "SELECT $1", "SELECT '\x00'",
			"SELECT 'unterminated", "SELECT \"", "DO $$ BEGIN END $$", "COPY pz TO '/etc/passwd'", "LISTEN x",
			"CREATE EXTENSION x", "SELECT pg_sleep(0.01)", "SHOW ALL", "EXPLAIN SELECT 1")
	}
}

// size is mostly small, sometimes large, rarely absurd.
func (g *poisonGen) size() int {
	switch g.rng.IntN(10) {
	case 0:
		return 1000 + g.rng.IntN(100_000)
	case 1, 2:
		return 100 + g.rng.IntN(1000)
	}
	return g.rng.IntN(50)
}

func (g *poisonGen) source() string {
	return g.pick("pz", "pz2", "pz p1, pz p2", "pg_class", "pg_catalog.pg_type", "information_schema.tables",
		"generate_series(1, 10) AS gs(a)", "(SELECT 1 AS a) s", "_pgraft_meta", "sqlite_master", "sqlite_schema",
		"pragma_database_list", "pragma_table_info('pz')", "pzv1", "pzt2", "json_each('[1,2]')", "unnest(ARRAY[1,2]) AS u(a)")
}

func (g *poisonGen) exprList() string {
	n := 1 + g.rng.IntN(3)
	parts := make([]string, n)
	for i := range parts {
		parts[i] = g.expr()
	}
	return strings.Join(parts, ", ")
}

func (g *poisonGen) expr() string {
	if g.depth > 6 {
		return g.literal()
	}
	g.depth++
	defer func() { g.depth-- }()
	switch g.rng.IntN(12) {
	case 0, 1, 2:
		return g.literal()
	case 3:
		return g.pick("a", "b", "c", "d", "e", "f", "id", "k", "v", "n", "x", "nosuch")
	case 4:
		return g.expr() + " " + g.pick("+", "-", "*", "/", "%", "||", "=", "<>", "<", "AND", "OR", "LIKE", "~", "#>>", "->", "@>", "&", "<<") + " " + g.expr()
	case 5:
		return "CASE WHEN " + g.expr() + " THEN " + g.expr() + " ELSE " + g.expr() + " END"
	case 6:
		return "(" + g.expr() + ")::" + g.pick("int", "bigint", "text", "numeric(10,2)", "float8", "bool", "bytea",
			"timestamptz", "date", "interval", "jsonb", "uuid", "int[]", "regclass", "oid", "char(3)")
	case 7:
		return "(SELECT " + g.expr() + " FROM " + g.source() + " LIMIT 1)"
	default:
		return g.call()
	}
}

func (g *poisonGen) call() string {
	f := g.pick(
		// PostgreSQL
		"repeat", "lpad", "rpad", "substr", "length", "upper", "lower", "concat", "md5", "random", "now",
		"coalesce", "nullif", "greatest", "least", "abs", "round", "sqrt", "power", "exp", "ln", "mod", "div",
		"left", "right", "replace", "split_part", "regexp_replace", "format", "encode", "decode",
		"gen_random_uuid", "to_char", "date_trunc", "age", "make_interval", "to_timestamp", "chr", "ascii",
		"string_to_array", "array_length", "array_fill", "jsonb_build_object", "json_agg", "to_jsonb",
		"jsonb_array_elements_text", "generate_series", "pg_typeof", "current_setting", "set_config",
		"pg_advisory_lock", "txid_current", "pg_backend_pid", "version", "current_database", "overlay",
		"translate", "initcap", "reverse", "btrim", "factorial", "width_bucket", "trunc",
		// SQLite-only and node-local
		"sqlite_version", "sqlite_source_id", "randomblob", "zeroblob", "hex", "printf", "datetime", "julianday",
		"unixepoch", "strftime", "typeof", "quote", "changes", "total_changes", "last_insert_rowid",
		"load_extension", "likelihood", "sqlite_compileoption_used", "instr", "glob", "char", "unicode",
	)
	n := g.rng.IntN(4)
	args := make([]string, n)
	for i := range args {
		args[i] = g.expr()
	}
	return f + "(" + strings.Join(args, ", ") + ")"
}

// hugeCall asks for an enormous result.
func (g *poisonGen) hugeCall() string {
	big := g.pick("4611686018427387904", "9223372036854775807", "2147483647", "1000000000", "100000000", "-1", "-9223372036854775808")
	return g.pick(
		"repeat('ab', "+big+")", "lpad('x', "+big+")", "rpad('x', "+big+", 'yz')", "randomblob("+big+")",
		"zeroblob("+big+")", "array_fill(1, ARRAY["+big+"])", "string_agg(repeat('x', 1000000), '') FROM generate_series(1, "+big+")",
		"length(repeat('ab', "+big+"))", "printf('%."+big+"c', 'x')", "format('%"+big+"s', 'x')",
		"generate_series(1, "+big+")", "to_char(1, repeat('9', 100000))", "make_interval(years => "+big+")",
		"'epoch'::timestamptz + ("+big+" || ' years')::interval", "factorial("+big+")", "power(10, "+big+")",
	)
}

func (g *poisonGen) literal() string {
	return g.pick("1", "0", "-1", "NULL", "true", "'x'", "''", "'a''b'", "1.5", "'NaN'::float8", "'Infinity'",
		"9223372036854775807", "-9223372036854775808", "99999999999999999999999", "'2024-01-01'", "'1962/2/18'",
		"'\\x00ff'", "E'\\\\'", "'{1,2}'", "'{\"a\":1}'", "'"+strings.Repeat("z", g.size())+"'", "$$dollar$$",
		"'now'", "'localtime'", "'utc'", "x'00'", "ARRAY[1,2,3]", "interval '1 day'", "1e308", "1e-308")
}
