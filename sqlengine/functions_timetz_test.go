package sqlengine

import (
	"slices"
	"strings"
	"testing"

	"github.com/pgraft/pgraft/pgvalue"
	"github.com/pgraft/pgraft/sqlengine/translate"
)

// TestTimetzStorageOrder: the stored texts sort as timetz_cmp_internal
// orders the values (UTC time, then offset, east first), for the extremes
// of both parts, and read back as they were.
func TestTimetzStorageOrder(t *testing.T) {
	h := int64(3600e6)
	vals := []pgvalue.Timetz{ // in PostgreSQL's order
		{Micros: 0, Offset: pgvalue.MaxTimetzOffset},                      // UTC -15:59:59
		{Micros: 30 * 60e6, Offset: 14 * 3600},                            // UTC -13:30
		{Micros: 0, Offset: 0},                                            // UTC 0
		{Micros: 10 * h, Offset: 2 * 3600},                                // UTC 8:00, east
		{Micros: 8 * h, Offset: 0},                                        // UTC 8:00
		{Micros: 3 * h, Offset: -5 * 3600},                                // UTC 8:00, west
		{Micros: 8*h + 1, Offset: 0},                                      // a microsecond later
		{Micros: pgvalue.MaxTimeMicros, Offset: 0},                        // 24:00:00
		{Micros: pgvalue.MaxTimeMicros, Offset: -pgvalue.MaxTimetzOffset}, // UTC 39:59:59
	}
	var stored []string
	for _, v := range vals {
		s := timetzStorage(v)
		back, ok := parseTimetzStorage(s)
		if !ok || back != v {
			t.Errorf("%+v stored as %q reads back %+v, %v", v, s, back, ok)
		}
		stored = append(stored, s)
	}
	if !slices.IsSorted(stored) {
		t.Errorf("stored texts out of order:\n%q", stored)
	}
}

// TestTimetzIsAFunctionOfItsArguments: pg_timetz reads no clock and no
// node setting: a time without offset takes the zone's offset on the date
// of the statement time it is given, so a write is the same on every node.
func TestTimetzIsAFunctionOfItsArguments(t *testing.T) {
	tests := []struct {
		in, src, now, zone, want string
	}{
		{"10:00", "", "2021-01-04 12:00:00", "America/New_York", "10:00:00-05"},
		{"10:00", "", "2021-07-04 12:00:00", "America/New_York", "10:00:00-04"},
		{"10:00+02", "", "2021-07-04 12:00:00", "America/New_York", "10:00:00+02"},
		{"2021-01-04 10:00 Europe/Paris", "", "2021-07-04 12:00:00", "UTC", "10:00:00+01"},
		{"2021-07-04 10:00:00", "timestamptz", "2000-01-01 00:00:00", "Europe/Paris", "12:00:00+02"},
		{"10:00:00", "time", "2021-07-04 00:00:00", "<-07>+07", "10:00:00-07"},
	}
	for _, tc := range tests {
		for i := 0; i < 2; i++ {
			got, err := pgTimetz([]any{tc.in, tc.src, int64(-1), tc.now, tc.zone})
			if err != nil {
				t.Fatalf("%+v: %v", tc, err)
			}
			v, _ := parseTimetzStorage(got)
			if s := string(pgvalue.AppendTimetz(nil, v)); s != tc.want {
				t.Errorf("%+v = %s, want %s", tc, s, tc.want)
			}
		}
	}
}

// TestTimetzParameter: a bound timetz has no statement time or session
// zone at hand, so it must carry its offset.
func TestTimetzParameter(t *testing.T) {
	if v, err := ToStorage("10:00:00+02", pgvalue.OIDTimetz); err != nil || FromStorage(v, pgvalue.OIDTimetz, nil) != (pgvalue.Timetz{Micros: 36000e6, Offset: 7200}) {
		t.Errorf("10:00:00+02: %v, %v", v, err)
	}
	if _, err := ToStorage("10:00:00", pgvalue.OIDTimetz); err == nil {
		t.Error("a timetz parameter without an offset was taken")
	}
	v, err := ToStorage(pgvalue.Timetz{Micros: 1, Offset: -3600}, pgvalue.OIDTimetz)
	if err != nil || FromStorage(v, pgvalue.OIDTimetz, nil) != (pgvalue.Timetz{Micros: 1, Offset: -3600}) {
		t.Errorf("binary parameter: %v, %v", v, err)
	}
}

// TestDatetimeColumnDefaults: the catalog shows defaults of infinity and of
// timetz constants as PostgreSQL does, not as they are stored.
func TestDatetimeColumnDefaults(t *testing.T) {
	tests := []struct{ typ, dflt, want string }{
		{"date", "(pg_cast_datetime('infinity', '', 'date', -1))", "'infinity'::date"},
		{"timestamptz", "(pg_cast_datetime('-infinity', '', 'timestamptz', -1))", "'-infinity'::timestamp with time zone"},
		{"timetz", "(pg_timetz('10:00+02', '', -1, pg_now(), 'UTC'))", "'10:00:00+02'::time with time zone"},
		{"timetz", "(pg_timetz(pg_now(), 'timestamptz', -1, pg_now(), 'UTC'))", "CURRENT_TIME"},
		{"time", "(pg_cast_datetime(pg_timetz(pg_now(), 'timestamptz', -1, pg_now(), 'UTC'), 'timetz', 'time', -1))", "CURRENT_TIME"},
	}
	for _, tc := range tests {
		if got := columnDefault("t", "c", translate.TypeByName(tc.typ), tc.dflt, true, false); got != tc.want {
			t.Errorf("%s DEFAULT %s shows %q, want %q", tc.typ, tc.dflt, got, tc.want)
		}
	}
}

// TestTimetzOddInputs: whatever a statement hands pg_timetz, it answers a
// value or a PostgreSQL error, never a panic (apply replays it forever).
func TestTimetzOddInputs(t *testing.T) {
	now, zone := "2021-07-04 12:00:00", "UTC"
	inputs := []any{"", " ", "+", "10", "10:", "99:99", "24:00:01+00", "10:00+99:99", "10:00 Nowhere/City",
		"2021-02-30 10:00+02", "10:00:00.9999999+02", int64(5), 1.5, []byte("10:00+02"), "epoch", "now",
		"23:59:60+14", strings.Repeat("1", 4096), "10:00 -infinity", "J2451187 10:00+02"}
	for _, in := range inputs {
		for _, src := range []string{"", "text", "time", "timetz", "timestamptz"} {
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Errorf("pg_timetz(%q, %q) panicked: %v", in, src, r)
					}
				}()
				v, err := pgTimetz([]any{in, src, int64(-1), now, zone})
				if err != nil {
					if !strings.HasPrefix(err.Error(), funcErrorPrefix) {
						t.Errorf("pg_timetz(%q, %q): error without a SQLSTATE: %v", in, src, err)
					}
					return
				}
				if _, ok := parseTimetzStorage(v); !ok {
					t.Errorf("pg_timetz(%q, %q) = %q, not a stored timetz", in, src, v)
				}
			}()
		}
	}
	if _, err := pgTimetz([]any{"10:00", "", int64(-1), "garbage", zone}); err == nil {
		t.Error("a bad statement time was taken")
	}
	if _, err := castFromTimetz("not a timetz", "time"); err == nil {
		t.Error("castFromTimetz took garbage")
	}
}
