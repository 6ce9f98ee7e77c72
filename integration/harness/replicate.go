package harness

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
)

// BuildReplicate builds cmd/replicate (go build, output to stderr) into a
// new temp directory named after prefix, for end-to-end tests that run the
// binary. Call remove when done; on error nothing is left behind.
//
//	func TestMain(m *testing.M) {
//		bin, remove, err := harness.BuildReplicate("replicate-bin")
//		if err != nil {
//			fmt.Fprintln(os.Stderr, err)
//			os.Exit(1)
//		}
//		binary = bin
//		code := m.Run()
//		remove()
//		os.Exit(code)
//	}
func BuildReplicate(prefix string) (binary string, remove func(), err error) {
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		return "", nil, err
	}
	binary = filepath.Join(dir, "replicate")
	_, file, _, _ := runtime.Caller(0)
	cmd := exec.Command("go", "build", "-o", binary, "./cmd/replicate")
	cmd.Dir = filepath.Join(filepath.Dir(file), "..", "..")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("build replicate: %w", err)
	}
	return binary, func() { os.RemoveAll(dir) }, nil
}
