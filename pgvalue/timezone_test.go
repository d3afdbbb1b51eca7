package pgvalue

import (
	"testing"
	"time"
)

func TestOffsetZoneName(t *testing.T) {
	for east, want := range map[int]string{-7 * 3600: "<-07>+07", 5*3600 + 1800: "<+05:30>-05:30", 0: "<+00>-00", 20 * 3600: "<+20>-20"} {
		if got := OffsetZoneName(east); got != want {
			t.Errorf("OffsetZoneName(%d) = %q, want %q", east, got, want)
		}
	}
}

func TestLoadZone(t *testing.T) {
	tests := []struct {
		name string
		east int
		ok   bool
	}{
		{"UTC", 0, true}, {"Etc/UTC", 0, true}, {"<-07>+07", -7 * 3600, true}, {"<+05:30>-05:30", 5*3600 + 1800, true},
		{"+02", 2 * 3600, true}, {"-3", -3 * 3600, true}, {"+05:30", 5*3600 + 1800, true},
		{"<+02>+02", 0, false}, {"nowhere", 0, false}, {"../../etc/passwd", 0, false}, {"", 0, false},
	}
	for _, tc := range tests {
		loc, ok := LoadZone(tc.name)
		if ok != tc.ok {
			t.Errorf("LoadZone(%q) ok = %v", tc.name, ok)
			continue
		}
		if ok {
			if _, off := timeIn(loc); off != tc.east {
				t.Errorf("LoadZone(%q) offset = %d, want %d", tc.name, off, tc.east)
			}
		}
	}
	if loc, ok := LoadZone("Europe/Paris"); !ok || loc.String() != "Europe/Paris" {
		t.Errorf("LoadZone(Europe/Paris) = %v, %v", loc, ok)
	}
}

func timeIn(loc *time.Location) (string, int) { return time.Date(2024, 1, 1, 0, 0, 0, 0, loc).Zone() }
