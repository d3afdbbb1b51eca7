package sqlengine

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pgraft/pgraft/pgvalue"
	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// TestInfinityStorageSorts: the stored infinities sort outside every finite
// date and timestamp in SQLite's BINARY order (Go's string order is the
// same byte order), including the values older builds stored.
func TestInfinityStorageSorts(t *testing.T) {
	finite := []string{"0001-01-01", "0001-01-01 00:00:00", "0001-01-01 00:00:00.000001", "2024-02-29",
		"2024-02-29 10:00:00", "9999-12-31", "9999-12-31 23:59:59", "9999-12-31 23:59:59.999999"}
	for _, f := range finite {
		if !(storedNegInfinity < f) || !(f < storedPosInfinity) {
			t.Errorf("%q does not sort between the infinities", f)
		}
	}
	sorted := append([]string{storedPosInfinity, storedNegInfinity}, finite...)
	slices.Sort(sorted)
	if sorted[0] != storedNegInfinity || sorted[len(sorted)-1] != storedPosInfinity {
		t.Errorf("sorted: %q", sorted)
	}
}

// TestStoredInfinity: the stored texts, and the times go-sqlite3 makes of
// them in a column declared DATE or TIMESTAMP, are infinities; no finite
// value is.
func TestStoredInfinity(t *testing.T) {
	tests := []struct {
		v    any
		want pgvalue.InfiniteTime
		ok   bool
	}{
		{storedNegInfinity, pgvalue.NegInfinity, true},
		{storedPosInfinity, pgvalue.PosInfinity, true},
		{[]byte(storedPosInfinity), pgvalue.PosInfinity, true},
		{"infinity", pgvalue.PosInfinity, true},
		{time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), pgvalue.NegInfinity, true},
		{posInfinityTime, pgvalue.PosInfinity, true},
		{time.Time{}, 0, false}, // 0001-01-01 00:00:00
		{time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC), 0, false},
		{"9999-12-31 23:59:59.999999", 0, false},
		{"0001-01-01", 0, false},
		{int64(0), 0, false},
	}
	for _, tc := range tests {
		got, ok := storedInfinity(tc.v)
		if got != tc.want || ok != tc.ok {
			t.Errorf("storedInfinity(%#v) = %v, %v; want %v, %v", tc.v, got, ok, tc.want, tc.ok)
		}
	}
	for _, inf := range []pgvalue.InfiniteTime{pgvalue.NegInfinity, pgvalue.PosInfinity} {
		if got, ok := storedInfinity(infinityStorage(inf)); !ok || got != inf {
			t.Errorf("round trip of %v: %v, %v", inf, got, ok)
		}
		// What a DATE or TIMESTAMP column gives back through go-sqlite3.
		parsed, ok := ParseStorageTime(infinityStorage(inf))
		if got, isInf := storedInfinity(parsed); !ok || !isInf || got != inf {
			t.Errorf("%v parsed as %v: %v, %v", inf, parsed, got, isInf)
		}
	}
}

// TestInfinityFunctions: casts, arithmetic, extract, date_trunc and
// isfinite on stored infinities, with PostgreSQL 15's answers.
func TestInfinityFunctions(t *testing.T) {
	pos, neg := storedPosInfinity, storedNegInfinity
	tests := []struct {
		name string
		got  func() (any, error)
		want any // a value, or the SQLSTATE of the error (a string "ERR:…")
	}{
		{"text to date", func() (any, error) { return pgCast(" Infinity ", "", "date", -1) }, pos},
		{"text to timestamptz", func() (any, error) { return pgCast("-infinity", "text", "timestamptz", 3) }, neg},
		{"+infinity is PostgreSQL 16's", func() (any, error) { return pgCast("+infinity", "", "date", -1) }, "ERR:22007"},
		{"text to time", func() (any, error) { return pgCast("infinity", "", "time", -1) }, "ERR:22007"},
		{"timestamp to time is NULL", func() (any, error) { return pgCast(pos, "timestamp", "time", -1) }, nil},
		{"date to timestamp", func() (any, error) { return pgCast(neg, "date", "timestamp", -1) }, neg},
		{"timestamptz to text", func() (any, error) { return pgCast(pos, "timestamptz", "text", -1) }, "infinity"},
		{"year 0 text is no -infinity", func() (any, error) { return pgCast("0000-01-01", "", "date", -1) }, "ERR:0A000"},
		{"ts + interval", func() (any, error) { return dtArith("+", pos, "timestamp", "1 day", "interval") }, pos},
		{"interval + ts", func() (any, error) { return dtArith("+", "1 mon", "interval", neg, "timestamptz") }, neg},
		{"date - int", func() (any, error) { return dtArith("-", neg, "date", int64(7), "int4") }, neg},
		{"date + interval", func() (any, error) { return dtArith("+", pos, "date", "1 day", "interval") }, pos},
		{"date - date", func() (any, error) { return dtArith("-", pos, "date", "2020-01-01", "date") }, "ERR:22008"},
		{"ts - ts", func() (any, error) { return dtArith("-", "2020-01-01 00:00:00", "timestamp", neg, "timestamp") }, "ERR:22008"},
		{"extract year", func() (any, error) { return pgExtract("year", pos) }, math.Inf(1)},
		{"extract epoch", func() (any, error) { return pgExtract("epoch", neg) }, math.Inf(-1)},
		{"extract month", func() (any, error) { return pgExtract("month", pos) }, nil},
		{"extract bad unit", func() (any, error) { return pgExtract("fortnight", pos) }, "ERR:22023"},
		{"date_trunc", func() (any, error) { return pgDateTrunc("day", neg) }, neg},
		{"isfinite", func() (any, error) { return pgIsFinite([]any{pos}) }, int64(0)},
		{"isfinite finite", func() (any, error) { return pgIsFinite([]any{"2020-01-01"}) }, int64(1)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.got()
			if want, ok := tc.want.(string); ok && strings.HasPrefix(want, "ERR:") {
				code, _, _ := strings.Cut(strings.TrimPrefix(errText(err), funcErrorPrefix), ":")
				if "ERR:"+code != want {
					t.Fatalf("got %v, %v; want %s", got, err, want)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %#v, %v; want %#v", got, err, tc.want)
			}
		})
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestOldEntriesStillRefuseInfinity: an entry an older build wrote casts
// with pg_cast, which refused infinity (0A000); it must fail the same way
// when this build applies it, or nodes that applied it on either build
// would differ. What translation writes now, pg_cast_datetime, stores it.
func TestOldEntriesStillRefuseInfinity(t *testing.T) {
	e := newTestEngine(t)
	if err := applyOne(t, e, `CREATE TABLE t (id INTEGER PRIMARY KEY, d DATE)`); err != nil {
		t.Fatal(err)
	}
	for _, in := range []string{"infinity", " -Infinity", "+infinity"} {
		err := applyOne(t, e, `INSERT INTO t VALUES (1, pg_cast(?1, '', 'date', -1))`, in)
		var pe *pgerror.Error
		if !errors.As(err, &pe) || pe.Code != pgerror.FeatureNotSupported {
			t.Errorf("old entry casting %q: %v, want 0A000", in, err)
		}
	}
	if err := applyOne(t, e, `INSERT INTO t VALUES (1, pg_cast('0000-01-01', 'date', 'timestamp', -1))`); err == nil {
		t.Errorf("old entry casting a year-0 date: no error")
	}
	if err := applyOne(t, e, `INSERT INTO t VALUES (2, pg_cast('2024-01-02 10:00', '', 'date', -1))`); err != nil {
		t.Errorf("old entry casting a finite date: %v", err)
	}
	if err := applyOne(t, e, `INSERT INTO t VALUES (3, pg_cast_datetime('infinity', '', 'date', -1))`); err != nil {
		t.Errorf("new entry: %v", err)
	}
	rows, err := queryAll(e, `SELECT id, d FROM t ORDER BY d`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows {
		got = append(got, fmt.Sprint(r[0], " ", FromStorage(r[1], pgvalue.OIDDate, time.UTC)))
	}
	if want := []string{"2 2024-01-02 00:00:00 +0000 UTC", "3 infinity"}; !slices.Equal(got, want) {
		t.Errorf("rows %q, want %q", got, want)
	}
}
