package chaos

import (
	"strings"
	"testing"
	"time"
)

func TestExplainBalances(t *testing.T) {
	flat := func(deltas map[int]int64) []int64 {
		out := make([]int64, bankAccounts)
		for a := range out {
			out[a] = bankInitial + deltas[a]
		}
		return out
	}
	acked := []transfer{{0, 1, 5, 0}, {2, 3, 7, 0}}
	unknown := []transfer{{4, 5, 3, 0}, {5, 6, 2, 0}, {1, 0, 9, 0}}
	tests := []struct {
		name  string
		final []int64
		want  string // "" or a substring of the message
	}{
		{"acknowledged only", flat(map[int]int64{0: -5, 1: 5, 2: -7, 3: 7}), ""},
		{"plus two unknown", flat(map[int]int64{0: -5 + 9, 1: 5 - 9, 2: -7, 3: 7, 5: -2, 6: 2}), ""},
		{"plus every unknown", flat(map[int]int64{0: 4, 1: -4, 2: -7, 3: 7, 4: -3, 5: 1, 6: 2}), ""},
		{"acknowledged transfer lost", flat(map[int]int64{2: -7, 3: 7}), "lost"},
		{"phantom transfer", flat(map[int]int64{0: -5, 1: 5, 2: -7, 3: 7, 6: 1, 7: -1}), "lost"},
		{"half an unknown transfer", flat(map[int]int64{0: -5, 1: 5, 2: -7, 3: 7, 4: -3}), "lost"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := explainBalances(tt.final, acked, unknown)
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestExplainBalancesManyUnknown checks that pruning keeps the search
// fast with many unknown transfers, of which a scattered subset applied.
func TestExplainBalancesManyUnknown(t *testing.T) {
	var unknown []transfer
	final := make([]int64, bankAccounts)
	for a := range final {
		final[a] = bankInitial
	}
	for k := 0; k < 60; k++ {
		tr := transfer{From: k % bankAccounts, To: (k*3 + 1) % bankAccounts, Amount: int64(1 + k%10)}
		if tr.From == tr.To {
			tr.To = (tr.To + 1) % bankAccounts
		}
		unknown = append(unknown, tr)
		if k%7 == 0 {
			final[tr.From] -= tr.Amount
			final[tr.To] += tr.Amount
		}
	}
	start := time.Now()
	if msg := explainBalances(final, nil, unknown); msg != "" {
		t.Errorf("a subset exists, got %q", msg)
	}
	t.Logf("60 unknown transfers explained in %v", time.Since(start))
}

func TestCheckTimeOrder(t *testing.T) {
	at := func(s int) time.Time { return time.Unix(1_700_000_000+int64(s), 0) }
	tests := []struct {
		name string
		ops  []stamped
		bad  bool
	}{
		{"sequential, increasing", []stamped{{1, 0, 10, at(1)}, {2, 20, 30, at(2)}}, false},
		{"concurrent may go either way", []stamped{{1, 0, 10, at(2)}, {2, 5, 30, at(1)}}, false},
		{"equal time is allowed", []stamped{{1, 0, 10, at(1)}, {2, 20, 30, at(1)}}, false},
		{"later insert stamped earlier", []stamped{{1, 0, 10, at(2)}, {2, 20, 30, at(1)}}, true},
		{"against the latest of several", []stamped{{1, 0, 10, at(5)}, {2, 0, 12, at(3)}, {3, 20, 30, at(4)}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := checkTimeOrder(tt.ops); (len(got) > 0) != tt.bad {
				t.Errorf("violations %v, want some: %v", got, tt.bad)
			}
		})
	}
}
