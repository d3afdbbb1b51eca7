package chaos

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/jackc/pgx/v5/pgconn"
)

// op builds a register operation on key 0 for the checker tests.
func op(kind regKind, old, value int64, ok, unknown bool, call, ret int64) porcupine.Operation {
	return porcupine.Operation{
		Input:  regInput{Kind: kind, Key: 0, Old: old, Value: value},
		Output: regOutput{Value: value, OK: ok, Unknown: unknown},
		Call:   call, Return: ret,
	}
}

func read(v, call, ret int64) porcupine.Operation { return op(regRead, 0, v, false, false, call, ret) }

// TestRegisterModel shows the checker accepting linearizable histories and
// rejecting the anomalies the chaos runs look for.
func TestRegisterModel(t *testing.T) {
	tests := []struct {
		name    string
		history []porcupine.Operation
		want    porcupine.CheckResult
	}{
		{"write then read", []porcupine.Operation{
			op(regWrite, 0, 1, false, false, 0, 10), read(1, 20, 30)}, porcupine.Ok},
		{"stale read after acknowledged write", []porcupine.Operation{
			op(regWrite, 0, 1, false, false, 0, 10), read(0, 20, 30)}, porcupine.Illegal},
		{"concurrent read sees either", []porcupine.Operation{
			op(regWrite, 0, 1, false, false, 0, 10), read(0, 5, 15)}, porcupine.Ok},
		{"unknown write that took effect", []porcupine.Operation{
			op(regWrite, 0, 5, false, true, 0, 100), read(5, 10, 20), read(5, 110, 120)}, porcupine.Ok},
		{"unknown write that did not", []porcupine.Operation{
			op(regWrite, 0, 5, false, true, 0, 100), read(0, 10, 20), read(0, 110, 120)}, porcupine.Ok},
		{"unknown write seen then unseen", []porcupine.Operation{
			op(regWrite, 0, 5, false, true, 0, 100), read(5, 10, 20), read(0, 30, 40)}, porcupine.Illegal},
		{"cas succeeds on the expected value", []porcupine.Operation{
			op(regCAS, 0, 2, true, false, 0, 10), read(2, 20, 30)}, porcupine.Ok},
		{"cas succeeds on another value", []porcupine.Operation{
			op(regCAS, 7, 2, true, false, 0, 10)}, porcupine.Illegal},
		{"cas fails on the expected value", []porcupine.Operation{
			op(regCAS, 0, 2, false, false, 0, 10)}, porcupine.Illegal},
		{"unknown cas on another value has no effect", []porcupine.Operation{
			op(regCAS, 7, 2, false, true, 0, 10), read(2, 20, 30)}, porcupine.Illegal},
		{"keys are independent", []porcupine.Operation{
			op(regWrite, 0, 1, false, false, 0, 10),
			{Input: regInput{Kind: regRead, Key: 1}, Output: regOutput{Value: 0}, Call: 20, Return: 30}}, porcupine.Ok},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := porcupine.CheckOperationsTimeout(registerModel(), tt.history, 10*time.Second); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestCompareSet(t *testing.T) {
	outcomes := map[int64]outcome{1: done, 2: done, 3: failed, 4: unknown, 5: unknown}
	tests := []struct {
		name          string
		ids           []int64
		lost, phantom []int64
	}{
		{"all acknowledged, some unknown", []int64{1, 2, 4}, nil, nil},
		{"acknowledged insert lost", []int64{1, 5}, []int64{2}, nil},
		{"failed insert present", []int64{1, 2, 3}, nil, []int64{3}},
		{"never attempted", []int64{1, 2, 9}, nil, []int64{9}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lost, phantom := compareSet(outcomes, tt.ids)
			if !slices.Equal(lost, tt.lost) || !slices.Equal(phantom, tt.phantom) {
				t.Errorf("lost %v phantom %v, want %v %v", lost, phantom, tt.lost, tt.phantom)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		err  error
		want outcome
	}{
		{nil, done},
		{&pgconn.PgError{Code: "40001"}, failed},
		{&pgconn.PgError{Code: "55P03"}, failed},
		{&pgconn.PgError{Code: "40003"}, unknown},
		{&pgconn.PgError{Code: "57P01"}, unknown},
		{&pgconn.PgError{Code: "XX000"}, unknown},
		{fmt.Errorf("write: %w", context.DeadlineExceeded), unknown},
		{errors.New("connection reset by peer"), unknown},
		// pgx's "conn closed" may follow a statement it sent (classify).
		{fmt.Errorf("COMMIT: %w", pgconn.ErrConnClosed), unknown},
	}
	for _, tt := range tests {
		if got := classify(tt.err); got != tt.want {
			t.Errorf("classify(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}
