//go:build linux && amd64

package chaos

import (
	"errors"
	"net"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// inNetns runs f on a thread switched into network namespace ns; sockets
// f opens stay in ns. The thread is discarded if it cannot switch back.
func inNetns(t *testing.T, ns string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			t.Errorf("open own netns: %v", err)
			return
		}
		defer orig.Close()
		target, err := os.Open("/run/netns/" + ns)
		if err != nil {
			t.Errorf("open netns %s: %v", ns, err)
			return
		}
		defer target.Close()
		if err := setns(target); err != nil {
			t.Errorf("setns %s: %v", ns, err)
			return
		}
		f()
		if setns(orig) == nil {
			runtime.UnlockOSThread() // else the thread dies with the goroutine
		}
	}()
	<-done
}

func setns(f *os.File) error {
	_, _, errno := syscall.RawSyscall(sysSetns, f.Fd(), syscall.CLONE_NEWNET, 0)
	if errno != 0 {
		return errno
	}
	return nil
}

// TestLabCutIsSilent shows that a cut between two nodes is a real
// partition: a connection attempt neither succeeds nor fails fast (it
// times out), open connections stall, the test process still reaches
// both nodes, and heal restores the link.
func TestLabCutIsSilent(t *testing.T) {
	lab, err := newNetLab(2)
	if err != nil {
		t.Skipf("no network namespaces here (the process backend falls back to 127.0.0.1): %v", err)
	}
	defer lab.teardown()
	var ln net.Listener
	inNetns(t, lab.ns(1), func() {
		ln, err = net.Listen("tcp", net.JoinHostPort(lab.ip(1), "7000"))
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	dial := func(timeout time.Duration) (time.Duration, error) {
		var err error
		start := time.Now()
		inNetns(t, lab.ns(0), func() {
			var c net.Conn
			if c, err = net.DialTimeout("tcp", ln.Addr().String(), timeout); err == nil {
				c.Close()
			}
		})
		return time.Since(start), err
	}
	if _, err := dial(time.Second); err != nil {
		t.Fatalf("before the cut: %v", err)
	}
	if err := lab.cut(0, 1); err != nil {
		t.Fatal(err)
	}
	took, err := dial(700 * time.Millisecond)
	var ne net.Error
	if err == nil || !errors.As(err, &ne) || !ne.Timeout() || took < 600*time.Millisecond {
		t.Errorf("dial across the cut: %v after %v, want a timeout (a silent drop)", err, took)
	}
	if c, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err != nil {
		t.Errorf("the test process cannot reach node 1 during the cut: %v", err)
	} else {
		c.Close()
	}
	if err := lab.heal(); err != nil {
		t.Fatal(err)
	}
	if _, err := dial(2 * time.Second); err != nil {
		t.Errorf("after heal: %v", err)
	}
}

// sysSetns is setns(2) on linux/amd64 (the syscall package lacks the name).
const sysSetns = 308
