package chaos

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

// explainSearchLimit bounds the subset search of explainBalances (nodes
// visited); past it the answer is "undecided", reported, not a violation.
const explainSearchLimit = 20_000_000

// explainBalances returns "" when final balances equal the initial ones
// plus every acknowledged transfer plus some subset of the unknown ones
// (each unknown transfer applied or not, I4), else what is wrong. The
// search is a depth-first walk over the unknown transfers, pruned by how
// far the remaining ones can still move each account.
func explainBalances(final []int64, acked, unknown []transfer) string {
	residual := make([]int64, len(final))
	for a := range final {
		residual[a] = final[a] - bankInitial
	}
	for _, tr := range acked {
		residual[tr.From] += tr.Amount
		residual[tr.To] -= tr.Amount
	}
	// lo[k][a], hi[k][a]: how far transfers k… can move account a.
	n := len(unknown)
	lo, hi := make([][]int64, n+1), make([][]int64, n+1)
	lo[n], hi[n] = make([]int64, len(final)), make([]int64, len(final))
	for k := n - 1; k >= 0; k-- {
		lo[k], hi[k] = slices.Clone(lo[k+1]), slices.Clone(hi[k+1])
		lo[k][unknown[k].From] -= unknown[k].Amount
		hi[k][unknown[k].To] += unknown[k].Amount
	}
	visits := 0
	var walk func(k int, need []int64) bool
	walk = func(k int, need []int64) bool {
		visits++
		if visits > explainSearchLimit {
			return false
		}
		for a, v := range need {
			if v < lo[k][a] || v > hi[k][a] {
				return false
			}
		}
		if k == n {
			return true // all zero: lo[n] = hi[n] = 0
		}
		if walk(k+1, need) {
			return true
		}
		tr := unknown[k]
		need[tr.From] += tr.Amount
		need[tr.To] -= tr.Amount
		ok := walk(k+1, need)
		need[tr.From] -= tr.Amount
		need[tr.To] += tr.Amount
		return ok
	}
	if walk(0, residual) {
		return ""
	}
	if visits > explainSearchLimit {
		return fmt.Sprintf("undecided: %d unknown transfers, search stopped after %d steps", n, explainSearchLimit)
	}
	return fmt.Sprintf("balances %v are not the initial %d each plus the %d acknowledged transfers plus any subset of the %d unknown ones (residual %v): a transfer was lost or applied without being attempted",
		final, bankInitial, len(acked), n, residual)
}

// stamped is one acknowledged insert of the set workload with its client
// times (nanoseconds since the run's start) and the now() it stored.
type stamped struct {
	ID        int64
	Call, Ret int64
	TS        time.Time
}

// checkTimeOrder checks what DESIGN.md §3 promises about entry time: an
// entry's timestamp is never below that of the entries applied before the
// leader stamped it. From the clients' side: when insert X was
// acknowledged before insert Y was sent, Y's now() is not below X's, even
// across failovers and clock jumps. Entries proposed concurrently are not
// ordered by the promise (autocommit writes are stamped before they are
// queued), so log order is not checked.
func checkTimeOrder(ops []stamped) []string {
	byCall := slices.Clone(ops)
	slices.SortFunc(byCall, func(a, b stamped) int { return cmp.Compare(a.Call, b.Call) })
	byRet := slices.Clone(ops)
	slices.SortFunc(byRet, func(a, b stamped) int { return cmp.Compare(a.Ret, b.Ret) })
	var violations []string
	var latest stamped // latest now() among inserts acknowledged so far
	r := 0
	for _, y := range byCall {
		for ; r < len(byRet) && byRet[r].Ret < y.Call; r++ {
			if byRet[r].TS.After(latest.TS) {
				latest = byRet[r]
			}
		}
		if r > 0 && y.TS.Before(latest.TS) {
			violations = append(violations, fmt.Sprintf("clock: insert %d (sent at %v) stored now() %s, below %s of insert %d acknowledged before it was sent (at %v)",
				y.ID, time.Duration(y.Call), y.TS.Format(time.RFC3339Nano), latest.TS.Format(time.RFC3339Nano), latest.ID, time.Duration(latest.Ret)))
			if len(violations) == 5 {
				break
			}
		}
	}
	return violations
}
