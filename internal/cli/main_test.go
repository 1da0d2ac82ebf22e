package cli_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when a goroutine outlives the tests: the
// callback server, the spinner and the tenants must all stop.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
