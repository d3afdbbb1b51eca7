package pgtest

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
)

// Directives a block may start with.
const (
	DirectiveSend  = "send"
	DirectiveUntil = "until"
)

// separator ends a block's arguments and starts its expected output.
const separator = "----"

// Script is a parsed script file. It keeps the original lines so that a
// rewrite changes only the expected outputs and leaves comments alone.
type Script struct {
	Name   string
	Blocks []*Block
	lines  []string
}

// Block is one directive with its arguments and expected output.
type Block struct {
	Line      int               // 1-based line of the directive, for messages
	Directive string            // DirectiveSend or DirectiveUntil
	Options   map[string]string // from the directive line: "key" or "key=value"
	Args      []string          // lines between the directive and "----"
	Expected  []string          // lines after "----", up to a blank line or EOF
	outStart  int               // index in Script.lines of the first output line
	outEnd    int               // index one past the last output line
}

// ParseFile reads and parses the script at path.
func ParseFile(path string) (*Script, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open script: %w", err)
	}
	defer f.Close()
	return Parse(path, f)
}

// Parse parses a script; name is used in error messages.
func Parse(name string, r io.Reader) (*Script, error) {
	s := &Script{Name: name}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20) // long Query lines are fine
	for sc.Scan() {
		s.lines = append(s.lines, strings.TrimRight(sc.Text(), " \t\r"))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read script %s: %w", name, err)
	}
	for i := 0; i < len(s.lines); {
		line := s.lines[i]
		if line == "" || strings.HasPrefix(line, "#") {
			i++
			continue
		}
		b, next, err := s.parseBlock(i)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, i+1, err)
		}
		s.Blocks = append(s.Blocks, b)
		i = next
	}
	return s, nil
}

// parseBlock parses the block whose directive is at lines[i] and returns
// the index of the first line after it.
func (s *Script) parseBlock(i int) (*Block, int, error) {
	fields := strings.Fields(s.lines[i])
	b := &Block{Line: i + 1, Directive: fields[0], Options: map[string]string{}}
	if b.Directive != DirectiveSend && b.Directive != DirectiveUntil {
		return nil, 0, fmt.Errorf("unknown directive %q", b.Directive)
	}
	for _, f := range fields[1:] {
		k, v, _ := strings.Cut(f, "=")
		b.Options[k] = v
	}
	i++
	for ; i < len(s.lines) && s.lines[i] != separator; i++ {
		if s.lines[i] == "" {
			return nil, 0, fmt.Errorf("%s block: blank line before %q", b.Directive, separator)
		}
		b.Args = append(b.Args, s.lines[i])
	}
	if i == len(s.lines) {
		return nil, 0, fmt.Errorf("%s block: missing %q", b.Directive, separator)
	}
	if len(b.Args) == 0 {
		return nil, 0, fmt.Errorf("%s block: no arguments", b.Directive)
	}
	i++
	b.outStart = i
	for ; i < len(s.lines) && s.lines[i] != ""; i++ {
		b.Expected = append(b.Expected, s.lines[i])
	}
	b.outEnd = i
	if err := b.validate(); err != nil {
		return nil, 0, err
	}
	return b, i, nil
}

// validate rejects what would otherwise fail only when the script runs.
func (b *Block) validate() error {
	switch b.Directive {
	case DirectiveSend:
		if len(b.Options) > 0 {
			return fmt.Errorf("send takes no options")
		}
		if len(b.Expected) > 0 {
			return fmt.Errorf("send block has output")
		}
		for _, a := range b.Args {
			if _, err := decodeFrontend(a); err != nil {
				return err
			}
		}
	case DirectiveUntil:
		for k := range b.Options {
			if k != optKeepMessages && k != optKeepAttnums && k != optIgnore && k != optKeep {
				return fmt.Errorf("until: unknown option %q", k)
			}
		}
		for _, a := range b.Args {
			if strings.ContainsAny(a, " {") {
				return fmt.Errorf("until: %q is not a message type", a)
			}
		}
	}
	return nil
}

// Bytes renders the script with each block's expected output replaced by
// outputs[block index]; blocks without an entry keep their expectation.
func (s *Script) Bytes(outputs map[int][]string) []byte {
	var buf bytes.Buffer
	at := 0
	for i, b := range s.Blocks {
		out, ok := outputs[i]
		if !ok {
			continue
		}
		for ; at < b.outStart; at++ {
			buf.WriteString(s.lines[at] + "\n")
		}
		for _, l := range out {
			buf.WriteString(l + "\n")
		}
		at = b.outEnd
	}
	for ; at < len(s.lines); at++ {
		buf.WriteString(s.lines[at] + "\n")
	}
	return buf.Bytes()
}

// SendBytes returns what the script's send blocks write, in order, as one
// byte stream: a seed for fuzzing a server with realistic conversations.
func (s *Script) SendBytes() ([]byte, error) {
	var out []byte
	for _, b := range s.Blocks {
		if b.Directive != DirectiveSend {
			continue
		}
		for _, a := range b.Args {
			m, err := decodeFrontend(a)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %w", s.Name, b.Line, err)
			}
			out = append(out, m...)
		}
	}
	return out, nil
}
