package sqlengine

import "testing"

// TestParseDatetimeForms: the date forms PostgreSQL 15 reads beyond ISO
// (year first with / or ., month names, AM/PM), each with the timestamp
// PostgreSQL gives it (captured from PostgreSQL 15.18, DateStyle ISO, MDY).
func TestParseDatetimeForms(t *testing.T) {
	cases := []struct{ in, want string }{
		{"1962/2/18", "1962-02-18 00:00:00"},
		{"2021/1/1", "2021-01-01 00:00:00"},
		{"2021/01/01 10:00", "2021-01-01 10:00:00"},
		{"2021.01.01", "2021-01-01 00:00:00"},
		{"Feb 18 1962", "1962-02-18 00:00:00"},
		{"January 8, 1999", "1999-01-08 00:00:00"},
		{"1999-Jan-08", "1999-01-08 00:00:00"},
		{"08-Jan-1999", "1999-01-08 00:00:00"},
		{"8 January 1999 22:30", "1999-01-08 22:30:00"},
		{"Fri, 08 Jan 1999 10:00 pm", "1999-01-08 22:00:00"},
		{"Sept 3 2020 12:00 AM", "2020-09-03 00:00:00"},
		{"2020-09-03 12:30 pm", "2020-09-03 12:30:00"},
		{"1/8/1999", "1999-01-08 00:00:00"},
		{"19990108", "1999-01-08 00:00:00"},
	}
	for _, c := range cases {
		p, e := parseDatetime(c.in, false)
		if e != dtOK {
			t.Errorf("%q: error %v", c.in, e)
			continue
		}
		if got := p.t.Format("2006-01-02 15:04:05"); got != c.want {
			t.Errorf("%q = %s, want %s", c.in, got, c.want)
		}
	}
	zoned := []struct{ in, want string }{ // as timestamptz, shown in UTC
		{"2021-01-01 10:00 America/New_York", "2021-01-01 15:00:00"},
		{"2021-07-01 10:00 America/New_York", "2021-07-01 14:00:00"},
		{"2021-01-01 10:00 EST", "2021-01-01 15:00:00"},
		{"Jan 1 2021 10:00 Europe/Paris", "2021-01-01 09:00:00"},
		{"2021-01-01 10:00 PST8PDT", "2021-01-01 18:00:00"},
		{"2021-01-01 10:00+05:30", "2021-01-01 04:30:00"},
	}
	for _, c := range zoned {
		p, e := parseDatetime(c.in, false)
		if e != dtOK || !p.zone {
			t.Errorf("%q: error %v, zone %v", c.in, e, p.zone)
			continue
		}
		if got := p.t.Format("2006-01-02 15:04:05"); got != c.want {
			t.Errorf("%q = %s UTC, want %s", c.in, got, c.want)
		}
	}
	for _, bad := range []string{"Fbr 18 1962", "1962/13/01", "Feb 30 1962", "13:00 pm", "2021/1", "2021-01-01 10:00 Nowhere/Land", "2021-01-01 10:00 xyz"} {
		if _, e := parseDatetime(bad, false); e == dtOK {
			t.Errorf("%q parsed, want an error", bad)
		}
	}
}
