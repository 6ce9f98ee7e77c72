package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tributary-cdc/tributary/connector/config"
	"github.com/tributary-cdc/tributary/runtime"
	"github.com/tributary-cdc/tributary/runtime/distributed"
)

// deployConfigs lists the example and Kubernetes config files: worker
// configs (worker*.properties) and connector configs (everything else).
func deployConfigs(t *testing.T) (workers, connectors []string) {
	t.Helper()
	for _, pattern := range []string{"../../deploy/examples/*", "../../deploy/kubernetes/config/*"} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			switch {
			case strings.HasPrefix(filepath.Base(f), "worker"):
				workers = append(workers, f)
			case strings.HasSuffix(f, ".json"), strings.HasSuffix(f, ".properties"):
				connectors = append(connectors, f)
			}
		}
	}
	return workers, connectors
}

// TestDeployExamplesValidate runs every example worker and connector config
// in deploy/ through the parsing and validation the binary uses, so the
// examples the README links to stay valid.
func TestDeployExamplesValidate(t *testing.T) {
	workers, connectors := deployConfigs(t)
	if len(workers) < 3 || len(connectors) < 7 {
		t.Fatalf("found %d worker and %d connector configs, want at least 3 and 7: %v %v", len(workers), len(connectors), workers, connectors)
	}
	for _, f := range workers {
		raw, err := runtime.LoadProperties(f)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if _, err := runtime.ParseWorkerConfig(raw); err != nil {
			t.Errorf("%s: %v", f, err)
		}
		if unknown := runtime.WorkerDef().Unknown(raw); len(unknown) > 0 {
			t.Errorf("%s: unknown worker keys %v", f, unknown)
		}
		if _, ok := raw[distributed.KeyGroupID]; ok {
			if _, err := distributed.ParseConfig(raw); err != nil {
				t.Errorf("%s: distributed: %v", f, err)
			}
		}
	}
	reg := newRegistry()
	classes := map[string]bool{}
	for _, f := range connectors {
		name, cfg, err := runtime.LoadConnectorFile(f)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if name == "" {
			t.Errorf("%s: no connector name", f)
		}
		class := strings.TrimSpace(cfg[runtime.KeyConnectorClass])
		p, err := reg.Lookup(class)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		classes[p.Class()] = true
		if errs := runtime.ValidateConnectorConfig(reg, p, cfg); len(errs) > 0 {
			t.Errorf("%s: %v", f, errs)
		}
	}
	// Every connector class the binary ships has an example.
	for _, p := range reg.Plugins() {
		if !classes[p.Class()] {
			t.Errorf("no example config in deploy/ for %s", p.Class())
		}
	}

	// And `replicate validate`, as a user runs it, agrees.
	for _, w := range workers {
		var out, errb bytes.Buffer
		if code := run(append([]string{"validate", w}, connectors...), &out, &errb); code != 0 || strings.Contains(out.String(), "warning") {
			t.Errorf("replicate validate %s …: exit %d\n%s%s", w, code, out.String(), errb.String())
		}
	}
}

// TestDeployFilesPresent checks the deployment files the README points to.
func TestDeployFilesPresent(t *testing.T) {
	for _, f := range []string{
		"Dockerfile", "Dockerfile.dockerignore", "systemd/tributary.service",
		"kubernetes/kustomization.yaml", "kubernetes/deployment.yaml", "kubernetes/service.yaml",
		"kubernetes/secret.yaml", "kubernetes/config/worker.properties",
	} {
		b, err := os.ReadFile(filepath.Join("../../deploy", f))
		if err != nil {
			t.Error(err)
			continue
		}
		if len(bytes.TrimSpace(b)) == 0 {
			t.Errorf("deploy/%s is empty", f)
		}
	}
}

// TestDeployProvidersRestricted: every shipped worker config that enables
// config providers also says what they may read (Kafka's allowed.paths and
// allowlist.pattern), so a REST caller cannot read /etc/passwd or the
// worker's whole environment through a connector config.
func TestDeployProvidersRestricted(t *testing.T) {
	workers, _ := deployConfigs(t)
	t.Setenv("HOME_SECRET_PROBE", "must-not-leak")
	for _, f := range workers {
		raw, err := runtime.LoadProperties(f)
		if err != nil {
			t.Fatal(err)
		}
		if raw["config.providers"] == "" {
			continue
		}
		p, err := config.NewProviders(raw)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, name := range p.Names() {
			ref := map[string]string{
				"env":  "${env:HOME_SECRET_PROBE}",
				"file": "${file:/etc/passwd:root}",
				"dir":  "${dir:/etc:passwd}",
			}[name]
			if ref == "" {
				continue
			}
			out, err := p.Resolve(context.Background(), map[string]string{"k": ref})
			if err == nil {
				t.Errorf("%s: provider %s resolved %s to %q: it is not restricted", f, name, ref, out["k"])
			} else if strings.Contains(err.Error(), "must-not-leak") || strings.Contains(err.Error(), "root:") {
				t.Errorf("%s: the refusal of %s shows the value: %v", f, ref, err)
			}
		}
	}
}
