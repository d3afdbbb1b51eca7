package server

import (
	"slices"
	"testing"
)

func TestAppendBounded(t *testing.T) {
	var ring []int
	for i := range 7 {
		ring = appendBounded(ring, i, 3)
	}
	if !slices.Equal(ring, []int{4, 5, 6}) {
		t.Fatalf("ring %v, want the last three", ring)
	}
	if got := appendBounded([]int{1}, 2, 3); !slices.Equal(got, []int{1, 2}) {
		t.Fatalf("short ring %v", got)
	}
}
