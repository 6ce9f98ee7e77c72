package runtime

// This file adapts the Worker to the REST API (runtime/rest.Herder) and keeps
// REST changes in a config store (runtime/configstore) so they survive a
// restart. It only uses the Worker's exported API.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/tributary-cdc/tributary/connector/config"
	"github.com/tributary-cdc/tributary/runtime/configstore"
	"github.com/tributary-cdc/tributary/runtime/rest"
)

// RESTHerder serves the REST API from a Worker. Config and target state
// changes made through it are written to the config store (when set) once
// the worker applied them.
type RESTHerder struct {
	w     *Worker
	store configstore.Store
	log   *slog.Logger
	// OnDelete, when set, is called after a connector was deleted (e.g. to
	// forget its metrics).
	OnDelete func(name string)

	mu sync.Mutex // serializes changes so the store follows the worker's order
}

var _ rest.Herder = (*RESTHerder)(nil)

// NewRESTHerder returns the REST adapter of w. store may be nil (changes
// are then not persisted).
func NewRESTHerder(w *Worker, store configstore.Store) *RESTHerder {
	return &RESTHerder{w: w, store: store, log: w.log}
}

// Restore starts the connectors a worker begins with: fromFiles (connector
// configs given on the command line, by name) and every connector kept in
// the config store. A connector in both runs with the command line's config.
// Stored target states (PAUSED, STOPPED) are applied before tasks start.
// Bad command-line configs are returned as errors; a stored connector that
// no longer starts is logged and skipped.
func (h *RESTHerder) Restore(ctx context.Context, fromFiles map[string]map[string]string, order []string) error {
	var stored []configstore.Connector
	if h.store != nil {
		var err error
		if stored, err = h.store.Load(ctx); err != nil {
			return err
		}
	}
	targets := map[string]string{}
	for _, c := range stored {
		targets[c.Name] = c.Target
	}
	if order == nil {
		order = sortedKeys(fromFiles)
	}
	var errs []error
	for _, name := range order {
		cfg := fromFiles[name]
		target := targets[name]
		if target == "" {
			target = rest.StateRunning
		}
		if _, err := h.w.PutConnectorConfigState(ctx, name, cfg, State(target), false); err != nil {
			errs = append(errs, fmt.Errorf("connector %s: %w", name, err))
		}
	}
	for _, c := range stored {
		if _, ok := fromFiles[c.Name]; ok || c.Config == nil {
			continue
		}
		if _, err := h.w.PutConnectorConfigState(ctx, c.Name, c.Config, State(c.Target), false); err != nil {
			h.log.Error("stored connector could not be started; it stays in the config store", "connector", c.Name,
				"store", storePath(h.store), "err", err)
			continue
		}
		h.log.Info("connector restored from the config store", "connector", c.Name, "target", c.Target)
	}
	return errors.Join(errs...)
}

func storePath(s configstore.Store) string {
	if f, ok := s.(*configstore.File); ok {
		return f.Path()
	}
	return ""
}

func sortedKeys(m map[string]map[string]string) []string {
	return slices.Sorted(maps.Keys(m))
}

// restErr translates the worker's errors to the REST API's sentinels.
func restErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNotFound):
		return fmt.Errorf("%w: %w", rest.ErrNotFound, err)
	case errors.Is(err, ErrExists):
		return fmt.Errorf("%w: %w", rest.ErrExists, err)
	case errors.Is(err, ErrTaskNotFound):
		return fmt.Errorf("%w: %w", rest.ErrTaskNotFound, err)
	case errors.Is(err, ErrNotStopped):
		return fmt.Errorf("%w: %w", rest.ErrNotStopped, err)
	case errors.Is(err, ErrWorkerClosed):
		return fmt.Errorf("%w: %w", rest.ErrConflict, err)
	}
	return err
}

// Connectors implements rest.Herder.
func (h *RESTHerder) Connectors(context.Context) ([]string, error) { return h.w.Connectors(), nil }

// ConnectorConfig implements rest.Herder.
func (h *RESTHerder) ConnectorConfig(_ context.Context, name string) (map[string]string, error) {
	cfg, err := h.w.ConnectorConfig(name)
	return cfg, restErr(err)
}

// TaskConfigs implements rest.Herder.
func (h *RESTHerder) TaskConfigs(_ context.Context, name string) ([]map[string]string, error) {
	tcs, err := h.w.TaskConfigs(name)
	return tcs, restErr(err)
}

// ConnectorStatus implements rest.Herder.
func (h *RESTHerder) ConnectorStatus(_ context.Context, name string) (rest.ConnectorStatus, error) {
	st, err := h.w.ConnectorStatus(name)
	if err != nil {
		return rest.ConnectorStatus{}, restErr(err)
	}
	out := rest.ConnectorStatus{
		Name:      st.Name,
		Connector: rest.StateInfo{State: string(st.Connector.State), Trace: st.Connector.Trace, WorkerID: st.Connector.WorkerID},
		Tasks:     make([]rest.TaskState, len(st.Tasks)),
		Type:      string(st.Type),
	}
	for i, t := range st.Tasks {
		out.Tasks[i] = rest.TaskState{ID: t.ID, State: string(t.State), Trace: t.Trace, WorkerID: t.WorkerID}
	}
	return out, nil
}

// PutConnectorConfig implements rest.Herder.
func (h *RESTHerder) PutConnectorConfig(ctx context.Context, name string, cfg map[string]string, initial string, allowReplace bool) (bool, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := h.w.ConnectorConfig(name)
	exists := err == nil
	if exists && !allowReplace {
		return false, restErr(fmt.Errorf("connector %s: %w", name, ErrExists))
	}
	created := false
	if exists {
		if _, err := h.w.PutConnectorConfig(ctx, name, cfg); err != nil {
			return false, restErr(err)
		}
	} else {
		if initial == "" {
			initial = rest.StateRunning
		}
		if created, err = h.w.PutConnectorConfigState(ctx, name, cfg, State(initial), false); err != nil {
			return false, restErr(err)
		}
	}
	if h.store != nil {
		if err := h.store.PutConfig(ctx, name, cfg); err != nil {
			return created, fmt.Errorf("connector %s is running but its config could not be stored: %w", name, err)
		}
		if created && initial != rest.StateRunning {
			if err := h.store.PutTarget(ctx, name, initial); err != nil {
				return created, fmt.Errorf("store target state of %s: %w", name, err)
			}
		}
	}
	return created, nil
}

// DeleteConnector implements rest.Herder.
func (h *RESTHerder) DeleteConnector(ctx context.Context, name string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.w.DeleteConnector(ctx, name); err != nil {
		return restErr(err)
	}
	if h.OnDelete != nil {
		h.OnDelete(name)
	}
	if h.store != nil {
		if err := h.store.Delete(ctx, name); err != nil {
			return fmt.Errorf("connector %s deleted, but removing it from the config store failed: %w", name, err)
		}
	}
	return nil
}

func (h *RESTHerder) target(ctx context.Context, name, target string, fn func() error) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := fn(); err != nil {
		return restErr(err)
	}
	if h.store != nil {
		if err := h.store.PutTarget(ctx, name, target); err != nil {
			return fmt.Errorf("store target state of %s: %w", name, err)
		}
	}
	return nil
}

// PauseConnector implements rest.Herder.
func (h *RESTHerder) PauseConnector(ctx context.Context, name string) error {
	return h.target(ctx, name, rest.StatePaused, func() error { return h.w.PauseConnector(name) })
}

// ResumeConnector implements rest.Herder.
func (h *RESTHerder) ResumeConnector(ctx context.Context, name string) error {
	return h.target(ctx, name, rest.StateRunning, func() error { return h.w.ResumeConnector(ctx, name) })
}

// StopConnector implements rest.Herder.
func (h *RESTHerder) StopConnector(ctx context.Context, name string) error {
	return h.target(ctx, name, rest.StateStopped, func() error { return h.w.StopConnector(ctx, name) })
}

// RestartConnector implements rest.Herder.
func (h *RESTHerder) RestartConnector(ctx context.Context, name string, includeTasks, onlyFailed bool) error {
	return restErr(h.w.RestartConnector(ctx, name, includeTasks, onlyFailed))
}

// RestartTask implements rest.Herder.
func (h *RESTHerder) RestartTask(ctx context.Context, name string, task int) error {
	return restErr(h.w.RestartTask(ctx, name, task))
}

// Offsets implements rest.Herder.
func (h *RESTHerder) Offsets(ctx context.Context, name string) ([]rest.Offset, error) {
	es, err := h.w.Offsets(ctx, name)
	if errors.Is(err, kerr.GroupIDNotFound) {
		return []rest.Offset{}, nil // a sink that has not committed yet
	}
	if err != nil {
		return nil, restErr(err)
	}
	out := make([]rest.Offset, len(es))
	for i, e := range es {
		out[i] = rest.Offset{Partition: e.Partition, Offset: e.Offset}
	}
	return out, nil
}

// AlterOffsets implements rest.Herder.
func (h *RESTHerder) AlterOffsets(ctx context.Context, name string, offs []rest.Offset) error {
	es := make([]OffsetEntry, len(offs))
	for i, o := range offs {
		es[i] = OffsetEntry{Partition: o.Partition, Offset: o.Offset}
	}
	return restErr(h.w.AlterOffsets(ctx, name, es))
}

// ResetOffsets implements rest.Herder.
func (h *RESTHerder) ResetOffsets(ctx context.Context, name string) error {
	return restErr(h.w.ResetOffsets(ctx, name))
}

// ConfigDef implements rest.Herder.
func (h *RESTHerder) ConfigDef(_ context.Context, class string) (*config.Def, string, error) {
	p, err := h.w.opts.Registry.Lookup(strings.TrimSpace(class))
	if err != nil {
		return nil, "", fmt.Errorf("%w: %v", rest.ErrPluginNotFound, err)
	}
	return FullDef(p), string(p.Type()), nil
}

// Validate implements rest.Herder.
func (h *RESTHerder) Validate(ctx context.Context, cfg map[string]string) (config.Errors, error) {
	_, errs, err := h.w.Validate(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", rest.ErrPluginNotFound, err)
	}
	return errs, nil
}

// RESTOptions returns rest.Options for this worker: the herder and its
// plugin registry (every kind: GET /connector-plugins). Callers add
// Metrics, ClusterID, LogLevel and Logger.
func (h *RESTHerder) RESTOptions() rest.Options {
	return rest.Options{
		Herder:   h,
		Registry: h.w.opts.Registry,
		Logger:   h.log,
	}
}
