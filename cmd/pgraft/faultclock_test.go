package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestFaultClock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "clock")
	base := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	wall := base
	c := newFaultClock(path, func() time.Time { return wall })
	steps := []struct {
		name    string
		content *string // nil: remove the file
		advance time.Duration
		want    time.Duration // offset expected after the step
	}{
		{"missing file is no offset", nil, 0, 0},
		{"negative offset", ptr("-90s\n"), faultClockReread, -90 * time.Second},
		{"not re-read within the interval", ptr("+1h"), faultClockReread / 2, -90 * time.Second},
		{"re-read after the interval", ptr("+1h"), faultClockReread, time.Hour},
		{"garbage keeps the previous offset", ptr("soon"), faultClockReread, time.Hour},
		{"empty file is no offset", ptr(""), faultClockReread, 0},
		{"another offset", ptr("-5m"), faultClockReread, -5 * time.Minute},
		{"removed file is no offset", nil, faultClockReread, 0},
	}
	for _, s := range steps {
		if s.content == nil {
			os.Remove(path)
		} else if err := os.WriteFile(path, []byte(*s.content), 0o644); err != nil {
			t.Fatal(err)
		}
		wall = wall.Add(s.advance)
		if got := c.Now().Sub(wall); got != s.want {
			t.Errorf("%s: offset %v, want %v", s.name, got, s.want)
		}
	}
	if faultClockNow("") != nil {
		t.Error("faultClockNow(\"\") is not nil: the server's default clock must stay")
	}
}

func ptr(s string) *string { return &s }
