package main

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// goBenchmarks runs the Go benchmarks other packages keep beside their hot
// code (`func Benchmark…` in *_test.go; they stay where they are), one
// package at a time with -benchtime 1x, sized by -rows through the
// environment variables those benchmarks read.
func goBenchmarks(ctx context.Context, rows int, stdout, stderr io.Writer) error {
	root, err := repoRoot()
	if err != nil {
		return err
	}
	pkgs, err := benchPackages(root)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Go benchmarks beside the code (%d packages), -benchtime 1x, %d rows:\n", len(pkgs), rows)
	failed := 0
	for _, pkg := range pkgs {
		fmt.Fprintf(stdout, "\n$ go test ./%s -run '^$' -bench . -benchtime 1x\n", pkg)
		cmd := exec.CommandContext(ctx, "go", "test", "./"+pkg, "-run", "^$", "-bench", ".", "-benchtime", "1x", "-timeout", "60m")
		cmd.Dir = root
		n := strconv.Itoa(rows)
		cmd.Env = append(os.Environ(), "TRIBUTARY_ROWS="+n, "TRIBUTARY_BENCH_ROWS="+n)
		cmd.Stdout, cmd.Stderr = stdout, stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintf(stdout, "(%s: %v)\n", pkg, err)
			failed++
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d benchmark packages failed", failed, len(pkgs))
	}
	return nil
}

// repoRoot is the module root: the directory holding go.mod above the
// working directory.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}

// benchPackages lists the package directories (relative to root) whose
// test files declare a benchmark.
func benchPackages(root string) ([]string, error) {
	seen := map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.Contains(string(b), "\nfunc Benchmark") {
			rel, _ := filepath.Rel(root, filepath.Dir(path))
			seen[rel] = true
		}
		return nil
	})
	var out []string
	for p := range seen {
		out = append(out, p)
	}
	sort.Strings(out)
	return out, err
}
