package sqlengine

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// Aggregates SQLite lacks: string_agg(DISTINCT x, sep …), whose DISTINCT
// SQLite allows over one argument only, and the ordered-set aggregates
// percentile_cont, percentile_disc and mode() WITHIN GROUP (ORDER BY x).

// stringAgg is pg_string_agg(pair): each row's value and separator come
// as one JSON array [sep, value] (so that DISTINCT and ORDER BY apply to
// one argument); NULL over no rows.
type stringAgg struct {
	b     strings.Builder
	any   bool
	meter *workBudget
}

func (g *stringAgg) Step(pair any) (err error) {
	defer recoverCallback("string_agg", &err)
	if b, ok := pair.([]byte); ok && b == nil {
		return nil
	}
	if pair == nil {
		return nil
	}
	var sv []any
	if err := json.Unmarshal([]byte(asString(pair)), &sv); err != nil || len(sv) != 2 {
		return funcError(pgerror.InternalError, "string_agg: malformed argument")
	}
	if sv[1] == nil {
		return nil
	}
	if g.any && sv[0] != nil {
		g.b.WriteString(jsonScalarText(sv[0]))
	}
	g.b.WriteString(jsonScalarText(sv[1]))
	g.any = true
	g.meter.charge(len(asString(pair)))
	if int64(g.b.Len()) > maxValueSize {
		return errTooLong()
	}
	return nil
}

func (g *stringAgg) Done() (_ any, err error) {
	defer recoverCallback("string_agg", &err)
	if !g.any {
		return nil, nil
	}
	return g.b.String(), nil
}

// jsonScalarText is a JSON scalar as text (json_array's numbers as SQLite
// wrote them).
func jsonScalarText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			return fmt.Sprintf("%d", int64(x))
		}
		return asString(x)
	case bool:
		if x {
			return "true"
		}
		return "false"
	}
	return fmt.Sprint(v)
}

// orderedSet is pg_ordered_set(kind, desc, fraction, value): the values of
// a group, sorted when it is done.
type orderedSet struct {
	kind  string
	desc  bool
	frac  any
	vals  []any
	size  int64
	meter *workBudget
}

func (g *orderedSet) Step(kind, desc, frac, v any) (err error) {
	defer recoverCallback("ordered-set aggregate", &err)
	g.kind, g.desc, g.frac = asString(orEmpty(kind)), truthy(desc), frac
	if b, ok := v.([]byte); ok && b == nil {
		v = nil
	}
	if v == nil {
		return nil
	}
	n := valueLen(v) + 16
	g.meter.charge(n)
	if g.size += int64(n); g.size > maxValueSize {
		return errTooLong()
	}
	g.vals = append(g.vals, v)
	return nil
}

func (g *orderedSet) Done() (_ any, err error) {
	defer recoverCallback("ordered-set aggregate", &err)
	var f float64
	if g.kind != "mode" {
		if b, ok := g.frac.([]byte); ok && b == nil {
			g.frac = nil
		}
		if g.frac == nil {
			return nil, nil
		}
		if f, err = toFloat(g.frac); err != nil {
			return nil, err
		}
		if f < 0 || f > 1 || math.IsNaN(f) {
			return nil, funcError(pgerror.NumericValueOutOfRange, fmt.Sprintf("percentile value %s is not between 0 and 1", asString(g.frac)))
		}
	}
	if len(g.vals) == 0 {
		return nil, nil
	}
	sort.SliceStable(g.vals, func(i, j int) bool {
		c := compareValues(g.vals[i], g.vals[j])
		if g.desc {
			return c > 0
		}
		return c < 0
	})
	n := len(g.vals)
	switch g.kind {
	case "disc":
		i := int(math.Ceil(f*float64(n))) - 1
		return g.vals[max(i, 0)], nil
	case "mode":
		best, bestN := g.vals[0], 0
		for i := 0; i < n; {
			j := i
			for j < n && compareValues(g.vals[i], g.vals[j]) == 0 {
				j++
			}
			if j-i > bestN {
				best, bestN = g.vals[i], j-i
			}
			i = j
		}
		return best, nil
	}
	pos := f * float64(n-1)
	lo, hi := math.Floor(pos), math.Ceil(pos)
	a, err := toFloat(g.vals[int(lo)])
	if err != nil {
		return nil, err
	}
	b, err := toFloat(g.vals[int(hi)])
	if err != nil {
		return nil, err
	}
	return a + (pos-lo)*(b-a), nil
}
