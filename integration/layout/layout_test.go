// Package layout checks the shape of the tree that DESIGN.md's layout table
// promises: the product binary links no test code and builds for other
// systems, the stages never import the engine, and no sink depends on a
// package that registers a source connector.
package layout

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

const module = "github.com/tributary-cdc/tributary"

// repoRoot is the module root (two levels above this file).
func repoRoot(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// goCmd runs the go tool in the module root with extra environment.
func goCmd(t *testing.T, env []string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = repoRoot(t)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func deps(t *testing.T, pkg string) []string {
	return strings.Fields(goCmd(t, nil, "list", "-deps", pkg))
}

func TestBinaryLinksNoTestCode(t *testing.T) {
	for _, d := range deps(t, "./cmd/replicate") {
		if d == "testing" || strings.HasPrefix(d, module+"/integration") || strings.HasPrefix(d, "testing/") {
			t.Errorf("./cmd/replicate depends on %s", d)
		}
	}
}

func TestBinaryCrossBuilds(t *testing.T) {
	for _, target := range [][2]string{{"darwin", "arm64"}, {"windows", "amd64"}} {
		t.Run(target[0]+"/"+target[1], func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "replicate")
			goCmd(t, []string{"GOOS=" + target[0], "GOARCH=" + target[1], "CGO_ENABLED=0"}, "build", "-o", out, "./cmd/replicate")
			if st, err := os.Stat(out); err != nil || st.Size() == 0 {
				t.Fatalf("no binary for %s: %v", target, err)
			}
		})
	}
}

// TestStagesDoNotImportEngine: nothing under cdc/, jdbc/, sinks/,
// transforms/ or schema/ depends on runtime/ (directly or through another
// package).
func TestStagesDoNotImportEngine(t *testing.T) {
	pkgs := strings.Fields(goCmd(t, nil, "list", "./cdc/...", "./jdbc/...", "./sinks/...", "./transforms/...", "./schema/...", "./connector/...", "./offsets/..."))
	if len(pkgs) < 10 {
		t.Fatalf("only %d packages listed: %v", len(pkgs), pkgs)
	}
	for _, p := range pkgs {
		for _, d := range deps(t, p) {
			if strings.HasPrefix(d, module+"/runtime") || strings.HasPrefix(d, module+"/cmd") || strings.HasPrefix(d, module+"/integration") {
				t.Errorf("%s depends on %s", p, d)
			}
		}
	}
}

// sourceConnectorPackages are the packages that register a source connector.
var sourceConnectorPackages = []string{
	module + "/cdc/mysql",
	module + "/cdc/postgres",
	module + "/jdbc/source",
	module + "/filestream",
}

func TestSinksDoNotDependOnSources(t *testing.T) {
	pkgs := strings.Fields(goCmd(t, nil, "list", "./sinks/..."))
	if len(pkgs) < 2 {
		t.Fatalf("sink packages: %v", pkgs)
	}
	for _, p := range pkgs {
		d := deps(t, p)
		for _, src := range sourceConnectorPackages {
			if slices.Contains(d, src) {
				t.Errorf("sink %s depends on source connector package %s", p, src)
			}
		}
	}
	// The list above must name real packages, or the check proves nothing.
	all := strings.Fields(goCmd(t, nil, "list", "./..."))
	for _, src := range sourceConnectorPackages {
		if !slices.Contains(all, src) {
			t.Errorf("%s is not a package of the module; update sourceConnectorPackages", src)
		}
	}
}
