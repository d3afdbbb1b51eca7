package replica

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
)

// kv is a toy StateMachine: commands are "k=v". Like sqlengine, it keeps
// its applied index with its data; reusing the same *kv across a reopen
// simulates a state machine whose data survived on disk.
type kv struct {
	mu       sync.Mutex
	data     map[string]string
	applied  uint64
	history  []string // "index:k=v" for every command applied, in order
	restores int
	persist  func(w io.Writer) error // optional override for Persist failures
	sync     func() error            // optional override for Sync failures
	syncs    int
}

var _ StateMachine = (*kv)(nil)

func newKV() *kv { return &kv{data: map[string]string{}} }

func (s *kv) ApplyBatch(cmds []Command) []any {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]any, len(cmds))
	for i, c := range cmds {
		if c.Index <= s.applied {
			continue // already applied before a restart
		}
		s.applied = c.Index
		k, v, ok := strings.Cut(string(c.Data), "=")
		if !ok {
			out[i] = fmt.Errorf("malformed command %q", c.Data) // a data error is a result
			continue
		}
		s.data[k] = v
		s.history = append(s.history, fmt.Sprintf("%d:%s", c.Index, c.Data))
		out[i] = "set " + k
	}
	return out
}

func (s *kv) AppliedIndex() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.applied
}

// Sync has nothing to flush (the toy's "disk" is its memory) unless a test
// makes it fail.
func (s *kv) Sync() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.syncs++
	if s.sync != nil {
		return s.sync()
	}
	return nil
}

func (s *kv) get(k string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.data[k]
	return v, ok
}

func (s *kv) snapshotHistory() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.history...)
}

func (s *kv) restoreCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.restores
}

// kvState is the snapshot format.
type kvState struct {
	Applied uint64            `json:"applied"`
	Data    map[string]string `json:"data"`
	History []string          `json:"history"`
}

func (s *kv) Snapshot() (Snapshot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := kvState{Applied: s.applied, Data: make(map[string]string, len(s.data)), History: append([]string(nil), s.history...)}
	for k, v := range s.data {
		st.Data[k] = v
	}
	return &kvSnapshot{st: st, persist: s.persist}, nil
}

func (s *kv) Restore(r io.Reader) error {
	var st kvState
	if err := json.NewDecoder(r).Decode(&st); err != nil {
		return fmt.Errorf("decode kv snapshot: %w", err)
	}
	if st.Data == nil {
		return errors.New("decode kv snapshot: no data")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.data, s.applied, s.history = st.Data, st.Applied, st.History
	s.restores++
	return nil
}

type kvSnapshot struct {
	st       kvState
	persist  func(w io.Writer) error
	released bool
}

func (s *kvSnapshot) Index() uint64 { return s.st.Applied }

func (s *kvSnapshot) Persist(w io.Writer) error {
	if s.persist != nil {
		return s.persist(w)
	}
	return json.NewEncoder(w).Encode(s.st)
}

func (s *kvSnapshot) Release() { s.released = true }
