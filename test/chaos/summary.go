package chaos

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// violationClasses are the summary's violation columns, matched against
// each violation's prefix ("exited" is a pgraft process that died).
var violationClasses = []string{"register", "set", "bank", "clock", "convergence", "node"}

// summary formats results as a table, one row per run and a total row,
// then the faults injected by kind and any notes.
func summary(results []Result) string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "run\ttime\tops\treg ok/fail/?\tset ack/fail/?\tbank ok/fail/?\ttotals read\tmax gap\tfaults\tlinearizable\treg\tset\tbank\tclock\tconv\tcrash\t")
	var tot Result
	tot.FaultKinds = map[string]int{}
	faults := 0
	byClass := make([]int, len(violationClasses))
	for _, r := range results {
		v := classCounts(r.Violations)
		fmt.Fprintf(w, "%s:%d\t%s\t%d\t%s\t%s\t%s\t%d\t%s\t%d\t%s\t%s\t\n", r.Backend, r.Seed, r.Elapsed.Round(time.Second), r.Ops(),
			triple(r.Register.Done, r.Register.Failed, r.Register.Unknown), triple(r.Set.Acked, r.Set.Failed, r.Set.Unknown),
			triple(r.Bank.Acked, r.Bank.Failed, r.Bank.Unknown), r.Bank.Reads, r.MaxGap.Round(10*time.Millisecond),
			faultCount(r), r.Linearized, joinInts(v, "\t"))
		add(&tot, r)
		for k, n := range r.FaultKinds {
			tot.FaultKinds[k] += n
		}
		faults += faultCount(r)
		for k := range v {
			byClass[k] += v[k]
		}
	}
	fmt.Fprintf(w, "%d runs\t%s\t%d\t%s\t%s\t%s\t%d\t%s\t%d\t\t%s\t\n", len(results), tot.Elapsed.Round(time.Second), tot.Ops(),
		triple(tot.Register.Done, tot.Register.Failed, tot.Register.Unknown), triple(tot.Set.Acked, tot.Set.Failed, tot.Set.Unknown),
		triple(tot.Bank.Acked, tot.Bank.Failed, tot.Bank.Unknown), tot.Bank.Reads, tot.MaxGap.Round(10*time.Millisecond),
		faults, joinInts(byClass, "\t"))
	w.Flush()
	violations := 0
	for _, n := range byClass {
		violations += n
	}
	fmt.Fprintf(&b, "operations: %d; faults: %d (%s); violations: %d\n", tot.Ops(), faults, countLine(tot.FaultKinds), violations)
	notes := map[string]bool{}
	for _, r := range results {
		for _, n := range r.Notes {
			if !strings.HasPrefix(n, "now() in log order") && !notes[n] {
				notes[n] = true
				fmt.Fprintf(&b, "note (%s:%d): %s\n", r.Backend, r.Seed, n)
			}
		}
	}
	return b.String()
}

func add(tot *Result, r Result) {
	tot.Register.Done += r.Register.Done
	tot.Register.Failed += r.Register.Failed
	tot.Register.Unknown += r.Register.Unknown
	tot.Set.Acked += r.Set.Acked
	tot.Set.Failed += r.Set.Failed
	tot.Set.Unknown += r.Set.Unknown
	tot.Bank.Acked += r.Bank.Acked
	tot.Bank.Failed += r.Bank.Failed
	tot.Bank.Unknown += r.Bank.Unknown
	tot.Bank.Reads += r.Bank.Reads
	tot.Elapsed += r.Elapsed
	tot.MaxGap = max(tot.MaxGap, r.MaxGap)
}

// classCounts counts violations by violationClasses prefix.
func classCounts(violations []string) []int {
	out := make([]int, len(violationClasses))
	for _, v := range violations {
		for k, c := range violationClasses {
			if strings.HasPrefix(v, c) {
				out[k]++
				break
			}
		}
	}
	return out
}

func triple(a, b, c int) string { return fmt.Sprintf("%d/%d/%d", a, b, c) }

func joinInts(v []int, sep string) string {
	s := make([]string, len(v))
	for k, n := range v {
		s[k] = fmt.Sprint(n)
	}
	return strings.Join(s, sep)
}

// faultCount is the number of faults injected.
func faultCount(r Result) int {
	n := 0
	for _, c := range r.FaultKinds {
		n += c
	}
	return n
}

// errorLine formats client error counts, most frequent first.
func errorLine(m map[string]int) string { return countLine(m) }

// countLine formats counts by name, most frequent first.
func countLine(m map[string]int) string {
	keys := slices.Sorted(maps.Keys(m))
	slices.SortStableFunc(keys, func(a, b string) int { return m[b] - m[a] })
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s×%d", k, m[k])
	}
	return strings.Join(parts, " ")
}
