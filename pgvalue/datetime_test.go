package pgvalue

import (
	"testing"
	"time"
)

func TestDatetimeText(t *testing.T) {
	ist := time.FixedZone("IST", 5*3600+30*60)
	lmt := time.FixedZone("LMT", -(4*3600 + 56*60 + 2))
	at := time.Date(2024, 1, 2, 3, 4, 5, 120000000, time.UTC)
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"date", AppendDate(nil, at), "2024-01-02"},
		{"time trims zeros", AppendTime(nil, at), "03:04:05.12"},
		{"timestamp", AppendTimestamp(nil, at), "2024-01-02 03:04:05.12"},
		{"timestamp rounds to micros", AppendTimestamp(nil, time.Date(2024, 1, 2, 3, 4, 5, 999999600, time.UTC)), "2024-01-02 03:04:06"},
		{"timestamptz UTC", AppendTimestamptz(nil, at), "2024-01-02 03:04:05.12+00"},
		{"timestamptz half hour", AppendTimestamptz(nil, at.In(ist)), "2024-01-02 08:34:05.12+05:30"},
		{"timestamptz seconds offset", AppendTimestamptz(nil, time.Date(1880, 1, 1, 0, 0, 0, 0, lmt)), "1880-01-01 00:00:00-04:56:02"},
	}
	for _, tc := range tests {
		if string(tc.got) != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, tc.got, tc.want)
		}
	}
}

func TestParseInfinity(t *testing.T) {
	tests := []struct {
		in   string
		want InfiniteTime
		ok   bool
	}{
		{"infinity", PosInfinity, true},
		{" Infinity ", PosInfinity, true},
		{"-INFINITY", NegInfinity, true},
		{"+infinity", 0, false}, // PostgreSQL 16 reads it, 15 does not
		{"inf", 0, false},
		{"- infinity", NegInfinity, true}, // as PostgreSQL 15 reads it
		{"--infinity", 0, false},
	}
	for _, tc := range tests {
		got, ok := ParseInfinity(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseInfinity(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
	if PosInfinity.String() != "infinity" || NegInfinity.String() != "-infinity" {
		t.Errorf("String: %q %q", PosInfinity, NegInfinity)
	}
}

func TestTimetz(t *testing.T) {
	tests := []struct {
		in   Timetz
		want string
	}{
		{Timetz{Micros: 36000e6, Offset: 7200}, "10:00:00+02"},
		{Timetz{Micros: 45296789000, Offset: -(5*3600 + 30*60)}, "12:34:56.789-05:30"},
		{Timetz{Micros: MaxTimeMicros, Offset: 0}, "24:00:00+00"},
		{Timetz{Micros: 1, Offset: MaxTimetzOffset}, "00:00:00.000001+15:59:59"},
	}
	for _, tc := range tests {
		if got := string(AppendTimetz(nil, tc.in)); got != tc.want {
			t.Errorf("AppendTimetz(%+v) = %q, want %q", tc.in, got, tc.want)
		}
		back, err := ParseTimetzBinary(AppendTimetzBinary(nil, tc.in))
		if err != nil || back != tc.in {
			t.Errorf("binary round trip of %+v: %+v, %v", tc.in, back, err)
		}
	}
	if _, err := ParseTimetzBinary(AppendTimetzBinary(nil, Timetz{Micros: MaxTimeMicros + 1})); err == nil {
		t.Error("25:00 read as a timetz")
	}
}
