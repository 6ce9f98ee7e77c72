package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// qsPackages are the Debian packages the quickstart's servers come from.
var qsPackages = []string{"mariadb-server", "postgresql"}

// debInstalled reports whether a Debian package is installed.
func debInstalled(ctx context.Context, pkg string) bool {
	out, err := exec.CommandContext(ctx, "dpkg-query", "-W", "-f=${Status}", pkg).Output()
	return err == nil && strings.TrimSpace(string(out)) == "install ok installed"
}

// ensurePackages installs mariadb-server and postgresql when missing: with
// the repository's scripts/install-deps.sh when it is found (the same
// script `make test` runs), else with apt-get directly. Without dpkg (not
// Debian) it does nothing; the harness then names what is missing.
func ensurePackages(ctx context.Context, out io.Writer) error {
	if _, err := exec.LookPath("dpkg-query"); err != nil {
		fmt.Fprintln(out, "  - not a Debian system: make sure MariaDB and PostgreSQL server binaries are installed")
		return nil
	}
	var missing []string
	for _, p := range qsPackages {
		if !debInstalled(ctx, p) {
			missing = append(missing, p)
		}
	}
	if len(missing) == 0 {
		fmt.Fprintf(out, "  ok  Debian packages %s installed\n", strings.Join(qsPackages, ", "))
		return nil
	}
	fmt.Fprintf(out, "  ..  installing %s\n", strings.Join(missing, ", "))
	var cmd *exec.Cmd
	if script := findInstallScript(); script != "" {
		cmd = exec.CommandContext(ctx, "bash", script)
	} else {
		sudo := ""
		if os.Geteuid() != 0 {
			sudo = "sudo -n "
		}
		cmd = exec.CommandContext(ctx, "sh", "-c", fmt.Sprintf(
			"%sapt-get update -qq && DEBIAN_FRONTEND=noninteractive %sapt-get install -y -qq --no-install-recommends %s",
			sudo, sudo, strings.Join(missing, " ")))
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("install %s: %w", strings.Join(missing, ", "), err)
	}
	for _, p := range missing {
		if !debInstalled(ctx, p) {
			return fmt.Errorf("package %s is still not installed", p)
		}
	}
	fmt.Fprintf(out, "  ok  installed %s\n", strings.Join(missing, ", "))
	return nil
}

// findInstallScript looks for scripts/install-deps.sh in the working
// directory and its parents (a checkout of the repository).
func findInstallScript() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for range 6 {
		p := filepath.Join(dir, "scripts", "install-deps.sh")
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return ""
}
