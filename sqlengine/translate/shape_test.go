package translate

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func TestScanLiterals(t *testing.T) {
	tests := []struct {
		sql   string
		shape string // "" = not scannable
		texts []string
	}{
		{"SELECT id FROM t WHERE id = 42", "SELECT id FROM t WHERE id = \x00", []string{"42"}},
		{"select 'it''s', 1.5e3, .5, 007", "select \x00, \x00, \x00, \x00", []string{"'it''s'", "1.5e3", ".5", "007"}},
		{"SELECT \"a1\"\"x\" FROM t2 -- 5 'c'\nWHERE x = 'a'", "SELECT \"a1\"\"x\" FROM t2 -- 5 'c'\nWHERE x = \x00", []string{"'a'"}},
		{"SELECT 'a' -- 'b'", "", nil}, // a comment after a string: left to the parser
		{"SELECT /* 1 /* 2 */ 3 */ 4", "SELECT /* 1 /* 2 */ 3 */ \x00", []string{"4"}},
		{"SELECT x::varchar(10) FROM t", "SELECT x::varchar(\x00) FROM t", []string{"10"}},
		{"SELECT 1 FROM t WHERE a = -5", "SELECT \x00 FROM t WHERE a = -\x00", []string{"1", "5"}},
		{"SELECT $1", "", nil},
		{"SELECT $$x$$", "", nil},
		{"SELECT E'a\\n'", "", nil},
		{"SELECT x'1F'", "", nil},
		{"SELECT U&'d\\0061t'", "", nil},
		{"SELECT 'a'\n'b'", "", nil},
		{"SELECT 0x1F", "", nil},
		{"SELECT 1_000", "", nil},
		{"SELECT 'unterminated", "", nil},
		{"SELECT id FROM t", "", nil}, // no constants: the exact-text cache is enough
	}
	for _, tc := range tests {
		shape, lits, ok := ScanLiterals(tc.sql)
		if tc.shape == "" {
			if ok {
				t.Errorf("ScanLiterals(%q) = %q, want not scannable", tc.sql, shape)
			}
			continue
		}
		if !ok || shape != tc.shape {
			t.Errorf("ScanLiterals(%q) = %q, %v; want %q", tc.sql, shape, ok, tc.shape)
			continue
		}
		var texts []string
		for _, l := range lits {
			texts = append(texts, l.Text)
			if tc.sql[l.Off:l.Off+len(l.Text)] != l.Text {
				t.Errorf("%q: literal %q not at offset %d", tc.sql, l.Text, l.Off)
			}
		}
		if !reflect.DeepEqual(texts, tc.texts) {
			t.Errorf("ScanLiterals(%q) literals %q, want %q", tc.sql, texts, tc.texts)
		}
	}
}

func TestLiteralClasses(t *testing.T) {
	tests := []struct {
		text  string
		class litClass
		value any
	}{
		{"42", litInt4, int64(42)},
		{"2147483647", litInt4, int64(2147483647)},
		{"2147483648", litInt8, int64(2147483648)},
		{"99999999999999999999", litOther, nil},
		{"1.5", litNumeric, "1.5"},
		{"1e3", litNumeric, "1000"},
		{"1.50", litNumeric, "1.50"},
		{"0.1234567890123456", litOther, nil}, // 16 significant digits
	}
	for _, tc := range tests {
		l := numberLiteral(0, tc.text)
		if l.class != tc.class || l.value != tc.value {
			t.Errorf("numberLiteral(%q) = %v %v, want %v %v", tc.text, l.class, l.value, tc.class, tc.value)
		}
	}
}

// instantiateAndCompare builds a shape from first, instantiates it for
// second, and checks that the statement equals second's own translation
// once its parameters are replaced by second's constants. ok reports
// whether first made a shape that second fits.
func instantiateAndCompare(t *testing.T, first, second string) (ok bool) {
	t.Helper()
	key1, lits1, ok1 := ScanLiterals(first)
	key2, lits2, ok2 := ScanLiterals(second)
	if !ok1 || !ok2 || key1 != key2 {
		t.Fatalf("%q and %q do not share a shape key", first, second)
	}
	opts := Options{}
	_, sh, err := WithShape(first, lits1, testSchema(), opts)
	if err != nil {
		t.Fatalf("WithShape(%q): %v", first, err)
	}
	if sh == nil {
		return false
	}
	got, ok := sh.Instantiate(second, lits2)
	if !ok {
		return false
	}
	want, err := SQL(second, testSchema(), opts)
	if err != nil {
		t.Fatalf("SQL(%q): %v", second, err)
	}
	st := *got[0]
	if len(st.Bound) == 0 || st.Template == nil {
		t.Fatalf("%q: instantiated statement has no bound constants", second)
	}
	slots := make([]litSlot, len(sh.slotLit))
	for i, li := range sh.slotLit {
		slots[i].normal = renderLiteral(lits2[li])
		if st.Bound[i] != lits2[li].value {
			t.Errorf("%q: ?%d bound to %v, want %v", second, i+1, st.Bound[i], lits2[li].value)
		}
	}
	restored, fok := fillSlots(st.SQL, slots)
	if !fok {
		t.Fatalf("%q: cannot fill %q", second, st.SQL)
	}
	st.SQL, st.Bound, st.Template = restored, nil, nil
	if !reflect.DeepEqual(&st, want[0]) {
		t.Errorf("instantiated %q:\n got %+v\nwant %+v", second, st, *want[0])
	}
	return true
}

func TestShapeInstantiatesLikeTranslate(t *testing.T) {
	shared := [][2]string{
		{"SELECT id, name FROM users WHERE id = 42", "SELECT id, name FROM users WHERE id = 7"},
		{"SELECT id FROM users WHERE name = 'a' AND score > 1.5", "SELECT id FROM users WHERE name = 'it''s' AND score > 99.25"},
		{"UPDATE orders SET amount = amount + 5 WHERE id = 3", "UPDATE orders SET amount = amount + 1000 WHERE id = 99999"},
		{"INSERT INTO orders (id, user_id, note) VALUES (1, 2, 'x') ON CONFLICT (id) DO UPDATE SET note = excluded.note",
			"INSERT INTO orders (id, user_id, note) VALUES (5, 6, 'y''z') ON CONFLICT (id) DO UPDATE SET note = excluded.note"},
		{"DELETE FROM orders WHERE id IN (1, 2, 3);", "DELETE FROM orders WHERE id IN (10, 20, 30);"},
		{"SELECT 1 + 2, 'a' || name FROM users", "SELECT 3 + 4, 'b' || name FROM users"},
		{"SELECT id FROM users WHERE id = 3000000000", "SELECT id FROM users WHERE id = 4000000000"},
		{"SELECT count(*) FROM orders WHERE placed > '2024-01-01'", "SELECT count(*) FROM orders WHERE placed > '2025-06-30'"},
	}
	for _, tc := range shared {
		if !instantiateAndCompare(t, tc[0], tc[1]) {
			t.Errorf("%q: no shared translation for %q", tc[0], tc[1])
		}
	}
	// The second query must not reuse the first one's translation.
	separate := [][2]string{
		{"SELECT id FROM users WHERE id = 5", "SELECT id FROM users WHERE id = 5000000000"}, // int4 vs int8
		{"SELECT id FROM users WHERE id = 5", "SELECT id FROM users WHERE id = 5.5"},
		{"SELECT name::varchar(10) FROM users", "SELECT name::varchar(20) FROM users"},
		{"SELECT id, name FROM users ORDER BY 1", "SELECT id, name FROM users ORDER BY 2"},
		{"SELECT id FROM users LIMIT 5", "SELECT id FROM users LIMIT 6"},
	}
	for _, tc := range separate {
		if instantiateAndCompare(t, tc[0], tc[1]) {
			t.Errorf("%q reused the translation of %q", tc[1], tc[0])
		}
	}
}

func TestShapeRefusals(t *testing.T) {
	for _, sql := range []string{
		"SELECT 1 FROM users WHERE id = -5",               // the parser's constant starts at the minus
		"CREATE TABLE x (a int DEFAULT 5)",                // DDL
		"SELECT 1; SELECT 2",                              // several statements
		"SELECT relname FROM pg_class WHERE relnatts = 2", // catalog
	} {
		_, lits, ok := ScanLiterals(sql)
		if !ok {
			t.Fatalf("%q: not scannable", sql)
		}
		_, sh, err := WithShape(sql, lits, testSchema(), Options{})
		if err != nil {
			t.Fatalf("%q: %v", sql, err)
		}
		if sh != nil {
			t.Errorf("%q made a shape; want none", sql)
		}
	}
}

func TestShapeSource(t *testing.T) {
	q1 := "  SELECT id FROM users WHERE id = 1 AND name = 'a';  "
	q2 := "  SELECT id FROM users WHERE id = 12345 AND name = 'longer';  "
	_, l1, _ := ScanLiterals(q1)
	_, l2, _ := ScanLiterals(q2)
	_, sh, err := WithShape(q1, l1, testSchema(), Options{})
	if err != nil || sh == nil {
		t.Fatalf("shape: %v %v", sh, err)
	}
	got, ok := sh.Instantiate(q2, l2)
	if !ok {
		t.Fatal("no instance")
	}
	if want := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(q2), ";")); got[0].Source != want {
		t.Errorf("Source = %q, want %q", got[0].Source, want)
	}
}

func BenchmarkShapeInstantiate(b *testing.B) {
	q := "SELECT id, balance FROM users WHERE id = 4242"
	_, lits, _ := ScanLiterals(q)
	_, sh, err := WithShape(q, lits, testSchema(), Options{})
	if err != nil || sh == nil {
		b.Fatalf("shape: %v", err)
	}
	b.ReportAllocs()
	for b.Loop() {
		_, lits, _ := ScanLiterals(q)
		if _, ok := sh.Instantiate(q, lits); !ok {
			b.Fatal("no instance")
		}
	}
}

// varied returns sql with every constant the lexer found replaced by
// another of the same class.
func varied(sql string, lits []Literal) string {
	var b strings.Builder
	last := 0
	for _, l := range lits {
		b.WriteString(sql[last:l.Off])
		switch l.class {
		case litInt4:
			b.WriteString(strconv.FormatInt(l.value.(int64)/2+1, 10))
		case litInt8:
			b.WriteString(strconv.FormatInt(l.value.(int64)-1, 10))
		case litNumeric:
			b.WriteString("2.5")
		case litString:
			b.WriteString("'" + strings.ReplaceAll(l.value.(string)+"x'y", "'", "''") + "'")
		default:
			b.WriteString(l.Text)
		}
		last = l.Off + len(l.Text)
	}
	b.WriteString(sql[last:])
	return b.String()
}

// FuzzShape checks the shape machinery against translation itself: for a
// query and a variant with other constants of the same kinds, the variant's
// instantiated statement, with its constants put back as literals, must be
// exactly the variant's own translation.
func FuzzShape(f *testing.F) {
	for _, s := range []string{
		"SELECT id, name FROM users WHERE id = 42",
		"UPDATE orders SET amount = amount + 5 WHERE id = 3",
		"INSERT INTO orders (id, user_id, note) VALUES (1, 2, 'x')",
		"SELECT count(*) FROM orders WHERE placed > '2024-01-01' GROUP BY 1 ORDER BY 1 LIMIT 3",
		"SELECT CASE WHEN score > 1.5 THEN 'hi' ELSE 'lo' END FROM users WHERE name LIKE 'a%'",
		"SELECT name::varchar(10), id % 7, 3000000000 FROM users WHERE id IN (1, 2, 3)",
		"DELETE FROM users WHERE created_at < '2020-01-01'::timestamptz - interval '1 day'",
		"SELECT substr(name, 2, 3), round(score, 1) FROM users WHERE active = true OFFSET 2",
		"SELECT id FROM users u WHERE EXISTS (SELECT 1 FROM orders o WHERE o.user_id = u.id AND o.amount > 10)",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		key, lits, ok := ScanLiterals(sql)
		if !ok {
			return
		}
		_, sh, err := WithShape(sql, lits, testSchema(), Options{})
		if err != nil || sh == nil {
			return
		}
		sql2 := varied(sql, lits)
		key2, lits2, ok := ScanLiterals(sql2)
		if !ok || key2 != key {
			t.Fatalf("variant %q of %q has another shape", sql2, sql)
		}
		got, ok := sh.Instantiate(sql2, lits2)
		if !ok {
			return // a constant the shape fixes changed
		}
		want, err := SQL(sql2, testSchema(), Options{})
		if err != nil {
			t.Fatalf("%q instantiated from %q, but translating it fails: %v", sql2, sql, err)
		}
		st := *got[0]
		slots := make([]litSlot, len(sh.slotLit))
		for i, li := range sh.slotLit {
			slots[i].normal = renderLiteral(lits2[li])
		}
		restored, fok := fillSlots(st.SQL, slots)
		if !fok {
			t.Fatalf("cannot fill %q", st.SQL)
		}
		st.SQL, st.Bound, st.Template = restored, nil, nil
		if len(want) != 1 || !reflect.DeepEqual(&st, want[0]) {
			t.Fatalf("%q instantiated from %q:\n got %+v\nwant %+v", sql2, sql, st, want)
		}
	})
}
