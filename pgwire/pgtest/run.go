package pgtest

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
)

// MismatchError reports an until block whose output differs from its
// expectation, or whose messages did not all arrive.
type MismatchError struct {
	Script string
	Line   int      // line of the until directive
	Want   []string // the expectation
	Got    []string // what was received, normalized
	Err    error    // a read error (e.g. timeout) that cut the block short
}

func (e *MismatchError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:%d: until block", e.Script, e.Line)
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	b.WriteString("\n--- want\n")
	for _, l := range e.Want {
		b.WriteString(l + "\n")
	}
	b.WriteString("--- got\n")
	for _, l := range e.Got {
		b.WriteString(l + "\n")
	}
	return b.String()
}

// Run plays s on c and compares every until block with its expectation. It
// stops at the first difference, returned as a *MismatchError, since the
// rest of the conversation would be out of step.
func (s *Script) Run(c *Conn) error {
	for _, b := range s.Blocks {
		got, err := s.play(c, b)
		if b.Directive == DirectiveSend {
			if err != nil {
				return fmt.Errorf("%s:%d: %w", s.Name, b.Line, err)
			}
			continue
		}
		if err != nil || !sameLines(b.Expected, got) {
			return &MismatchError{Script: s.Name, Line: b.Line, Want: b.Expected, Got: got, Err: err}
		}
	}
	return nil
}

// Play plays s on c without comparing and returns the output of each until
// block, keyed by block index, as Bytes wants it for a rewrite.
func (s *Script) Play(c *Conn) (map[int][]string, error) {
	outputs := map[int][]string{}
	for i, b := range s.Blocks {
		got, err := s.play(c, b)
		if err != nil {
			return outputs, fmt.Errorf("%s:%d: %w", s.Name, b.Line, err)
		}
		if b.Directive == DirectiveUntil {
			outputs[i] = got
		}
	}
	return outputs, nil
}

func (s *Script) play(c *Conn, b *Block) ([]string, error) {
	if b.Directive == DirectiveSend {
		return nil, c.Send(b.Args)
	}
	return c.Until(b.Args, b.untilOptions())
}

func (b *Block) untilOptions() UntilOptions {
	opts := UntilOptions{Ignore: map[string]bool{}}
	for _, t := range ignoredByDefault {
		opts.Ignore[t] = true
	}
	if v, ok := b.Options[optIgnore]; ok {
		for _, t := range strings.Split(v, ",") {
			opts.Ignore[t] = true
		}
	}
	if v, ok := b.Options[optKeep]; ok {
		for _, t := range strings.Split(v, ",") {
			delete(opts.Ignore, t)
		}
	}
	_, opts.KeepMessages = b.Options[optKeepMessages]
	_, opts.KeepAttnums = b.Options[optKeepAttnums]
	return opts
}

// sameLines compares expected and received lines as JSON values.
func sameLines(want, got []string) bool {
	if len(want) != len(got) {
		return false
	}
	for i := range want {
		w, err1 := canonicalJSON(want[i])
		g, err2 := canonicalJSON(got[i])
		if err1 != nil || err2 != nil || w != g {
			return false
		}
	}
	return true
}

// RunFile runs the script at path on a new connection to cfg.Addr and
// reports a difference as a test failure. With rewrite it instead replaces
// the file's expectations with what the server answered; review the diff.
func RunFile(t testing.TB, path string, cfg Config, rewrite bool) {
	t.Helper()
	s, err := ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg = cfg.withDefaults()
	ctx, cancel := context.WithTimeout(context.Background(), cfg.Timeout)
	defer cancel()
	c, err := Dial(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !rewrite {
		if err := s.Run(c); err != nil {
			t.Fatal(err)
		}
		return
	}
	outputs, err := s.Play(c)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, s.Bytes(outputs), 0o644); err != nil {
		t.Fatalf("rewrite %s: %v", path, err)
	}
}
