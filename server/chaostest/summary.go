package chaostest

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// summary formats results as a table, one row per run and a total row.
func summary(results []Result) string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "seed\ttime\treg ok\treg fail\treg ?\tset ack\tset fail\tset ?\tmax gap\tfaults\tlinearizable\tviolations\t")
	var tot Result
	faults, violations := 0, 0
	for _, r := range results {
		fmt.Fprintf(w, "%d\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%d\t%s\t%d\t\n", r.Seed, r.Elapsed.Round(time.Second),
			r.Register.Done, r.Register.Failed, r.Register.Unknown, r.Set.Acked, r.Set.Failed, r.Set.Unknown,
			r.MaxGap.Round(10*time.Millisecond), faultCount(r), r.Linearized, len(r.Violations))
		tot.Register.Done += r.Register.Done
		tot.Register.Failed += r.Register.Failed
		tot.Register.Unknown += r.Register.Unknown
		tot.Set.Acked += r.Set.Acked
		tot.Set.Failed += r.Set.Failed
		tot.Set.Unknown += r.Set.Unknown
		tot.Elapsed += r.Elapsed
		tot.MaxGap = max(tot.MaxGap, r.MaxGap)
		faults += faultCount(r)
		violations += len(r.Violations)
	}
	fmt.Fprintf(w, "%d runs\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%d\t\t%d\t\n", len(results), tot.Elapsed.Round(time.Second),
		tot.Register.Done, tot.Register.Failed, tot.Register.Unknown, tot.Set.Acked, tot.Set.Failed, tot.Set.Unknown,
		tot.MaxGap.Round(10*time.Millisecond), faults, violations)
	w.Flush()
	fmt.Fprintf(&b, "operations: %d; faults: %d; violations: %d\n", tot.Ops(), faults, violations)
	return b.String()
}

// faultCount is the number of faults injected (repairs not counted).
func faultCount(r Result) int {
	n := 0
	for _, f := range r.Faults {
		if strings.Contains(f, "crashes") || strings.Contains(f, "isolated") {
			n++
		}
	}
	return n
}

// errorLine formats client error counts, most frequent first.
func errorLine(m map[string]int) string {
	keys := slices.Collect(maps.Keys(m))
	slices.SortFunc(keys, func(a, b string) int { return m[b] - m[a] })
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s×%d", k, m[k])
	}
	return strings.Join(parts, " ")
}
