package chaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/jackc/pgx/v5"
)

// regKind is a register operation.
type regKind int

const (
	regRead regKind = iota
	regWrite
	regCAS
)

// regInput is a register operation's call.
type regInput struct {
	Kind  regKind
	Key   int
	Value int64 // write / CAS: new value
	Old   int64 // CAS: expected value
}

// regOutput is what the client got back.
type regOutput struct {
	Value   int64 // read: the value seen
	OK      bool  // CAS: a row was updated
	Unknown bool  // the outcome is unknown: it may or may not have applied
	Node    int   // which node the client talked to
}

// registerModel is a per-key register. A write or CAS with an unknown
// outcome may have applied or not, so the model is nondeterministic.
func registerModel() porcupine.Model {
	nm := porcupine.NondeterministicModel{
		Partition: func(h []porcupine.Operation) [][]porcupine.Operation {
			byKey := map[int][]porcupine.Operation{}
			var keys []int
			for _, op := range h {
				k := op.Input.(regInput).Key
				if _, ok := byKey[k]; !ok {
					keys = append(keys, k)
				}
				byKey[k] = append(byKey[k], op)
			}
			out := make([][]porcupine.Operation, 0, len(keys))
			for _, k := range keys {
				out = append(out, byKey[k])
			}
			return out
		},
		Init: func() []any { return []any{int64(0)} },
		Step: regStep,
		DescribeOperation: func(in, out any) string {
			return describeReg(in.(regInput), out.(regOutput))
		},
	}
	return nm.ToModel()
}

// regStep returns the states a register in state s can be in after op.
func regStep(s, in, out any) []any {
	v, i, o := s.(int64), in.(regInput), out.(regOutput)
	switch {
	case i.Kind == regRead:
		if o.Value == v {
			return []any{v}
		}
		return nil
	case i.Kind == regWrite && o.Unknown:
		return []any{v, i.Value}
	case i.Kind == regWrite:
		return []any{i.Value}
	case o.Unknown:
		if v == i.Old {
			return []any{v, i.Value}
		}
		return []any{v}
	case v == i.Old && o.OK:
		return []any{i.Value}
	case v != i.Old && !o.OK:
		return []any{v}
	}
	return nil
}

func describeReg(i regInput, o regOutput) string {
	var s string
	switch i.Kind {
	case regRead:
		s = fmt.Sprintf("read(k%d) -> %d", i.Key, o.Value)
	case regWrite:
		s = fmt.Sprintf("write(k%d, %d)", i.Key, i.Value)
	default:
		s = fmt.Sprintf("cas(k%d, %d->%d) -> %v", i.Key, i.Old, i.Value, o.OK)
	}
	if o.Unknown {
		s += " ?"
	}
	return s + fmt.Sprintf(" @n%d", o.Node)
}

// history records operations from many clients.
type history struct {
	start   time.Time
	clients atomic.Int64 // next porcupine client ID
	values  atomic.Int64 // next unique written value

	mu      sync.Mutex
	ops     []porcupine.Operation
	pending []int // indexes in ops of unknown outcomes, Return not yet known
	counts  regCounts
}

// regCounts are the register workload's figures.
type regCounts struct {
	Done, Failed, Unknown int
}

func (h *history) now() int64 { return time.Since(h.start).Nanoseconds() }

// add records one operation; an unknown outcome gets its Return later
// (closeUnknown), when its effect is settled one way or the other.
func (h *history) add(client int, in regInput, out regOutput, call, ret int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ops = append(h.ops, porcupine.Operation{ClientId: client, Input: in, Call: call, Output: out, Return: ret})
	if out.Unknown {
		h.pending = append(h.pending, len(h.ops)-1)
		h.counts.Unknown++
	} else {
		h.counts.Done++
	}
}

func (h *history) fail() {
	h.mu.Lock()
	h.counts.Failed++
	h.mu.Unlock()
}

// closeUnknown sets the Return of every operation with an unknown outcome
// to t: the caller knows that whatever they did has taken effect by then
// (a Raft barrier on the leader after every client stopped).
func (h *history) closeUnknown(t int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, k := range h.pending {
		h.ops[k].Return = t
	}
	h.pending = nil
}

// registerClient runs register operations on one node until ctx ends.
func registerClient(ctx context.Context, h *history, errs *errorCounts, dsn, consistency string, node, keys int, rng *rand.Rand) {
	c := &client{dsn: dsn, consistency: consistency}
	defer c.close()
	id := int(h.clients.Add(1) - 1)
	last := make([]int64, keys) // last value this client saw per key
	for ctx.Err() == nil {
		conn := c.get(ctx)
		if conn == nil {
			continue
		}
		in := nextOp(h, rng, keys, last)
		call := h.now()
		out, err := doOp(conn, in)
		out.Node = node
		ret := h.now()
		switch {
		case err == nil:
			h.add(id, in, out, call, ret)
			switch {
			case in.Kind == regRead:
				last[in.Key] = out.Value
			case in.Kind == regWrite || out.OK:
				last[in.Key] = in.Value
			}
			continue
		case in.Kind == regRead || classify(err) == failed:
			h.fail() // a failed read tells nothing
		default:
			out.Unknown = true
			h.add(id, in, out, call, 0)
			// Later operations must not look sequential after this one
			// in the visualization: a fresh client ID, as Jepsen does.
			id = int(h.clients.Add(1) - 1)
		}
		errs.add(err)
		c.failed(ctx, err)
	}
}

// nextOp draws an operation: half reads, a quarter blind writes of a fresh
// value, a quarter CAS from the value this client last saw.
func nextOp(h *history, rng *rand.Rand, keys int, last []int64) regInput {
	in := regInput{Key: rng.IntN(keys)}
	switch p := rng.IntN(100); {
	case p < 50:
		in.Kind = regRead
	case p < 75:
		in.Kind, in.Value = regWrite, h.values.Add(1)
	default:
		in.Kind, in.Old, in.Value = regCAS, last[in.Key], h.values.Add(1)
	}
	return in
}

// doOp runs one register operation, bounded by opTimeout.
func doOp(conn *pgx.Conn, in regInput) (regOutput, error) {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	var out regOutput
	switch in.Kind {
	case regRead:
		err := conn.QueryRow(ctx, `SELECT v FROM chaos_reg WHERE k = $1`, in.Key).Scan(&out.Value)
		return out, err
	case regWrite:
		_, err := conn.Exec(ctx, `UPDATE chaos_reg SET v = $2 WHERE k = $1`, in.Key, in.Value)
		return out, err
	}
	tag, err := conn.Exec(ctx, `UPDATE chaos_reg SET v = $3 WHERE k = $1 AND v = $2`, in.Key, in.Old, in.Value)
	out.OK = err == nil && tag.RowsAffected() == 1
	return out, err
}

// finalReads appends a linearizable read of every key through every node:
// after the cluster converged, they pin down which unknown outcomes took
// effect. Each read is retried (bounded) while a node settles after
// healing; only successful attempts enter the history.
func finalReads(h *history, dsns []string, keys int) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for n, dsn := range dsns {
		c := &client{dsn: dsn}
		id := int(h.clients.Add(1) - 1)
		for k := 0; k < keys; k++ {
			in := regInput{Kind: regRead, Key: k}
			for {
				var out regOutput
				var err error
				call := h.now()
				if conn := c.get(ctx); conn != nil {
					if out, err = doOp(conn, in); err == nil {
						out.Node = n
						h.add(id, in, out, call, h.now())
						break
					}
					c.failed(ctx, err)
				}
				if ctx.Err() != nil {
					c.close()
					return fmt.Errorf("final read of k%d on node %d: %v (last error %v)", k, n, ctx.Err(), err)
				}
			}
		}
		c.close()
	}
	return nil
}

// maxGap returns the longest time between consecutive acknowledged
// register operations (start and end of the run included): how long the
// cluster, as the clients saw it, was unavailable at worst.
func (h *history) maxGap(end int64) time.Duration {
	h.mu.Lock()
	var rets []int64
	for _, op := range h.ops {
		if !op.Output.(regOutput).Unknown {
			rets = append(rets, op.Return)
		}
	}
	h.mu.Unlock()
	slices.Sort(rets)
	var gap, prev int64
	for _, r := range append(rets, end) {
		gap, prev = max(gap, r-prev), r
	}
	return time.Duration(gap)
}

// checkRegister checks the history with porcupine. It returns the result
// and, when the history is not linearizable, writes a visualization to
// vizPath.
func checkRegister(h *history, timeout time.Duration, vizPath string) (porcupine.CheckResult, error) {
	h.mu.Lock()
	ops := append([]porcupine.Operation(nil), h.ops...)
	h.mu.Unlock()
	model := registerModel()
	res, info := porcupine.CheckOperationsVerbose(model, ops, timeout)
	if res == porcupine.Illegal && vizPath != "" {
		if err := porcupine.VisualizePath(model, info, vizPath); err != nil {
			return res, fmt.Errorf("write visualization: %w", err)
		}
	}
	return res, nil
}
