package pgwire_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if any goroutine outlives its tests: every
// connection's goroutine, the malformed-input and fuzz-seed ones included,
// must end once the connection or the server closes.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
