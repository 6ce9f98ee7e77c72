package reference

import (
	"fmt"
	"os"
	"testing"

	"github.com/tributary-cdc/tributary/integration/harness"
)

// binary is the replicate binary built once for the package.
var binary string

func TestMain(m *testing.M) {
	bin, remove, err := harness.BuildReplicate("replicate-reference-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = bin
	code := harness.Run(m, harness.NeedPostgres|harness.NeedKafka)
	remove()
	os.Exit(code)
}
