package sqlengine

import (
	"context"
	"testing"

	"github.com/pgraft/pgraft/pgvalue"
	"github.com/pgraft/pgraft/sqlengine/translate"
)

// TestDateTimeArithmetic runs translated PostgreSQL expressions on a real
// engine and compares with PostgreSQL 15's answers.
func TestDateTimeArithmetic(t *testing.T) {
	e := newTestEngine(t)
	tests := []struct{ expr, want string }{
		{"date '2024-01-01' + 1", "2024-01-02"},
		{"date '2024-03-01' - 1", "2024-02-29"},
		{"date '2024-03-10' - date '2024-03-01'", "9"},
		{"timestamp '2024-01-31 10:00:00' + interval '1 month'", "2024-02-29 10:00:00"},
		{"timestamp '2024-01-01 00:00:00' - interval '1 hour 30 minutes'", "2023-12-31 22:30:00"},
		{"timestamp '2024-01-02 02:00:00' - timestamp '2024-01-01 00:00:00'", "1 day 02:00:00"},
		{"date '2024-01-01' + interval '36 hours'", "2024-01-02 12:00:00"},
		{"interval '1 hour' * 3", "03:00:00"},
		{"interval '1 day' + interval '2 hours'", "1 day 02:00:00"},
		{"timestamp '2024-01-01 00:00:00' + interval '1 hour' > timestamp '2024-01-01 00:30:00'", "1"},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			sts, err := translate.SQL("SELECT "+tc.expr, nil, translate.Options{})
			if err != nil {
				t.Fatal(err)
			}
			rows, err := e.Query(context.Background(), sts[0].SQL, nil)
			if err != nil {
				t.Fatalf("%s: %v", sts[0].SQL, err)
			}
			defer rows.Close()
			rows.Next()
			v, err := rows.Values()
			if err != nil {
				t.Fatal(err)
			}
			if got := toText(FromStorage(v[0], pgvalue.OIDText, nil)); got != tc.want {
				t.Fatalf("%s = %v, want %s (SQL %s)", tc.expr, got, tc.want, sts[0].SQL)
			}
		})
	}
}
