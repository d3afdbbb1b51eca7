package server

import (
	"testing"
	"time"
)

func TestLagClock(t *testing.T) {
	var c lagClock
	t0 := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	if got := c.lag(0, t0); got != 0 {
		t.Fatalf("empty clock: lag %v, want 0", got)
	}
	c.record(10, t0)
	c.record(12, t0.Add(5*time.Millisecond)) // within lagSampleEvery: joins the sample at t0
	c.record(20, t0.Add(100*time.Millisecond))
	c.record(30, t0.Add(200*time.Millisecond))
	c.record(25, t0.Add(300*time.Millisecond)) // lower than the last: ignored
	now := t0.Add(time.Second)
	for _, tc := range []struct {
		applied uint64
		want    time.Duration
	}{
		{0, time.Second},             // behind everything: since the first sample
		{9, time.Second},             // index 10 was applied at t0
		{12, 900 * time.Millisecond}, // 13..20 by t0+100ms
		{19, 900 * time.Millisecond},
		{20, 800 * time.Millisecond},
		{30, 0}, // caught up
		{31, 0},
	} {
		if got := c.lag(tc.applied, now); got != tc.want {
			t.Errorf("lag(%d) = %v, want %v", tc.applied, got, tc.want)
		}
	}
}

func TestLagClockRingKeepsNewest(t *testing.T) {
	var c lagClock
	t0 := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	for i := 1; i <= 3*lagSamples; i++ {
		c.record(uint64(i), t0.Add(time.Duration(i)*lagSampleEvery))
	}
	now := t0.Add(time.Duration(3*lagSamples) * lagSampleEvery)
	// Index 1 left the ring long ago: the lag is the window's age.
	if got, want := c.lag(0, now), time.Duration(lagSamples-1)*lagSampleEvery; got != want {
		t.Errorf("lag beyond the window = %v, want %v", got, want)
	}
	if got, want := c.lag(uint64(3*lagSamples-1), now), time.Duration(0); got != want {
		t.Errorf("lag one entry behind, applied just now = %v, want %v", got, want)
	}
}
