package runtime_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/connector/config"
	"github.com/tributary-cdc/tributary/filestream"
	"github.com/tributary-cdc/tributary/runtime"
)

// A standalone worker cannot run exactly-once source support: the worker
// key is refused rather than accepted and ignored (Connect's standalone
// herder does not support exactly-once source connectors either).
func TestExactlyOnceRefusedInStandalone(t *testing.T) {
	for _, mode := range []string{"enabled", "preparing"} {
		_, wc := testWorkerConfig(t, t.TempDir(), map[string]string{"exactly.once.source.support": mode})
		reg := connector.NewRegistry(filestream.Source{})
		w, err := runtime.NewWorker(context.Background(), wc, runtime.Options{Registry: reg, Logger: testLogger(t)})
		if err == nil {
			w.Close(context.Background())
			t.Fatalf("exactly.once.source.support=%s accepted by a standalone worker", mode)
		}
		if !strings.Contains(err.Error(), "exactly.once.source.support="+mode) {
			t.Errorf("error %q does not name the key", err)
		}
	}
}

// exactly.once.support=required is refused at validation and creation by a
// worker without exactly-once support (Connect's message), and for a
// connector that cannot support it with its config (FileStreamSource on
// standard input); transaction.boundary=connector is refused because no
// connector defines boundaries.
func TestExactlyOnceRequiredValidation(t *testing.T) {
	dir := t.TempDir()
	w := newWorker(t, dir, nil)
	const notEnabled = "This worker does not have exactly-once source support enabled."
	const unsupported = "The connector does not support exactly-once semantics with the provided configuration."
	cases := []struct {
		name string
		cfg  map[string]string
		want []string
	}{
		{"requested", map[string]string{"exactly.once.support": "requested"}, nil},
		{"required", map[string]string{"exactly.once.support": "required"}, []string{notEnabled}},
		{"required on stdin", map[string]string{"exactly.once.support": "required", "file": ""}, []string{notEnabled, unsupported}},
		{"connector boundary", map[string]string{"transaction.boundary": "connector"},
			[]string{"The connector does not support connector-defined transaction boundaries with the given configuration. Please reconfigure it to use a different transaction boundary definition."}},
		{"per-connector offsets topic", map[string]string{"offsets.storage.topic": "my-offsets"},
			[]string{"per-connector offsets topics are not supported: remove the key; this connector's offsets are stored with the worker's (offset.storage.topic or offset.storage.file.filename)"}},
		{"negative interval", map[string]string{"transaction.boundary.interval.ms": "-1"},
			[]string{"Invalid value -1 for configuration transaction.boundary.interval.ms: Value must be at least 0"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := map[string]string{"connector.class": "FileStreamSource", "name": "c-" + strings.ReplaceAll(tc.name, " ", "-"), "topic": "t", "file": dir + "/in.txt"}
			for k, v := range tc.cfg {
				cfg[k] = v
			}
			_, errs, err := w.Validate(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range errs {
				got = append(got, e.Message)
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("errors %q, want %q", got, tc.want)
			}
			err = w.CreateConnector(context.Background(), "c-"+strings.ReplaceAll(tc.name, " ", "-"), cfg)
			var ce config.Errors
			if len(tc.want) > 0 && !errors.As(err, &ce) {
				t.Errorf("create: %v, want the validation errors", err)
			}
			if len(tc.want) == 0 && err != nil {
				t.Errorf("create: %v", err)
			}
		})
	}
}
