package translate

import "testing"

// FuzzTranslate: any input either translates or fails with an error; it
// never panics (a panic would close the client's connection).
func FuzzTranslate(f *testing.F) {
	for _, s := range []string{
		"SELECT 1", "SELECT * FROM t WHERE a = $1 AND b IN (1, 2)", "INSERT INTO t VALUES (1) RETURNING *",
		"UPDATE t SET a = a + 1 FROM u WHERE t.id = u.id", "CREATE TABLE t (id serial PRIMARY KEY, v text DEFAULT 'x')",
		"WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT * FROM r LIMIT 3",
		"SELECT x::int, CAST(y AS text), z::regclass FROM pg_catalog.pg_class", "BEGIN ISOLATION LEVEL SERIALIZABLE",
		"SELECT ARRAY(SELECT 1), a[1], b = ANY('{1,2}') FROM t", "DECLARE c CURSOR FOR SELECT 1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		SQL(sql, nil, Options{}) //nolint:errcheck // only panics matter
	})
}
