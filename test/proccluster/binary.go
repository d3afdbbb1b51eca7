package proccluster

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// Binary is the pgraft binary of one test binary: built from cmd/pgraft on
// the first call of Path, reused after, and deleted by Remove. A test
// package declares one and calls Remove from TestMain after m.Run:
//
//	var pgraft proccluster.Binary
//
//	func TestMain(m *testing.M) {
//		code := m.Run()
//		pgraft.Remove()
//		os.Exit(code)
//	}
type Binary struct {
	once sync.Once
	dir  string // temporary directory holding the binary
	path string
	err  error
}

// Path returns the binary's path, building it on first use (a few seconds
// with a warm build cache); a failed build fails t, and every later call.
func (b *Binary) Path(t testing.TB) string {
	t.Helper()
	b.once.Do(func() {
		if b.dir, b.err = os.MkdirTemp("", "pgraft-bin-"); b.err != nil {
			return
		}
		b.path = filepath.Join(b.dir, "pgraft")
		cmd := exec.Command("go", "build", "-o", b.path, "github.com/pgraft/pgraft/cmd/pgraft")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("build pgraft: %w\n%s", err, out)
		}
	})
	if b.err != nil {
		t.Fatalf("proccluster: %v", b.err)
	}
	return b.path
}

// Remove deletes the built binary, if any.
func (b *Binary) Remove() {
	if b.dir != "" {
		os.RemoveAll(b.dir)
	}
}
