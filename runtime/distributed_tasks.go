package runtime

// This file lets runtime/distributed run single tasks whose placement the
// cluster decides (Kafka Connect's distributed worker), reusing the
// standalone worker's task machinery: converters, transforms, DLQ, offset
// tracking and commits, Kafka clients and metrics.

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/offsets"
)

// TaskOffsetStore is an offset store that writes each source task's offsets
// through a writer of that task's own. Distributed mode uses it to fence
// zombies: every task's writer is a transactional producer whose
// transactional ID belongs to the task, so once a new owner claimed it, an
// old owner's offset commits fail. A task of a Worker whose Options.Store
// implements it commits through ForTask(connector, task).
type TaskOffsetStore interface {
	offsets.Store
	// ForTask returns the store a source task commits through.
	ForTask(connector string, task int) offsets.Store
}

// offsetStore returns the store the task commits source offsets through.
func (t *taskRunner) offsetStore() offsets.Store {
	if ts, ok := t.w.store.(TaskOffsetStore); ok {
		return ts.ForTask(t.conn, t.id)
	}
	return t.w.store
}

// TaskKey names one task of one connector.
type TaskKey struct {
	Connector string
	Task      int
}

func (k TaskKey) String() string { return k.Connector + "-" + strconv.Itoa(k.Task) }

// TaskHost runs single tasks with configs decided elsewhere (distributed
// mode: runtime/distributed assigns tasks to workers). It shares its
// Worker's converters, transforms, error reporters, offset store, observer
// and Kafka settings, but not the Worker's connector table: a Worker driven
// through a TaskHost has no connectors of its own. All methods are safe for
// concurrent use.
type TaskHost struct {
	w *Worker

	mu    sync.Mutex
	tasks map[TaskKey]*hostedTask
}

type hostedTask struct {
	t   *taskRunner
	cfg map[string]string
}

// NewTaskHost returns a TaskHost running tasks on w.
func NewTaskHost(w *Worker) *TaskHost {
	return &TaskHost{w: w, tasks: map[TaskKey]*hostedTask{}}
}

// Plugin returns the plugin of a connector config's connector.class.
func (h *TaskHost) Plugin(cfg map[string]string) (connector.Plugin, error) {
	return h.w.opts.Registry.Lookup(strings.TrimSpace(cfg[KeyConnectorClass]))
}

// TaskConfigs computes a connector's task configs as the standalone worker
// does: config provider references are resolved for the plugin and put back
// in its results, and each task config is the connector config overlaid with
// the task's keys. It fails when the plugin does, or returns more configs
// than tasks.max.
func (h *TaskHost) TaskConfigs(ctx context.Context, name string, cfg map[string]string) ([]map[string]string, error) {
	p, err := h.Plugin(cfg)
	if err != nil {
		return nil, err
	}
	maxTasks, _ := strconv.Atoi(strings.TrimSpace(cfg[KeyTasksMax]))
	if maxTasks <= 0 {
		maxTasks = 1
	}
	rcfg, err := h.w.resolveConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	tcs, err := p.TaskConfigs(ctx, maps.Clone(rcfg), maxTasks)
	if err != nil {
		return nil, err
	}
	unresolveTaskConfigs(cfg, rcfg, tcs)
	if len(tcs) > maxTasks {
		return nil, fmt.Errorf("connector %s produced %d task configs, more than tasks.max=%d", name, len(tcs), maxTasks)
	}
	full := make([]map[string]string, len(tcs))
	for i, tc := range tcs {
		m := maps.Clone(cfg)
		maps.Copy(m, tc)
		full[i] = m
	}
	return full, nil
}

// Start starts a task with its full config (as TaskConfigs returns it),
// paused when paused is set. It fails when the task already runs here.
func (h *TaskHost) Start(key TaskKey, cfg map[string]string, paused bool) error {
	p, err := h.Plugin(cfg)
	if err != nil {
		return err
	}
	h.mu.Lock()
	if _, ok := h.tasks[key]; ok {
		h.mu.Unlock()
		return fmt.Errorf("task %s already runs on this worker", key)
	}
	t := h.w.newTask(key.Connector, p, key.Task, maps.Clone(cfg))
	h.tasks[key] = &hostedTask{t: t, cfg: maps.Clone(cfg)}
	h.mu.Unlock()
	t.setPaused(paused)
	t.start()
	return nil
}

// Stop stops a task and waits for its shutdown (final offset commit, Stop)
// within task.shutdown.graceful.timeout.ms plus offset.flush.timeout.ms.
// It reports whether the task ran here.
func (h *TaskHost) Stop(key TaskKey) bool {
	h.mu.Lock()
	ht, ok := h.tasks[key]
	delete(h.tasks, key)
	h.mu.Unlock()
	if !ok {
		return false
	}
	ht.t.stop(h.w.cfg.ShutdownTimeout)
	return true
}

// StopAll stops every task in parallel and waits for them.
func (h *TaskHost) StopAll() {
	h.mu.Lock()
	var ts []*taskRunner
	for k, ht := range h.tasks {
		ts = append(ts, ht.t)
		delete(h.tasks, k)
	}
	h.mu.Unlock()
	h.w.stopTasks(ts)
}

// SetPaused pauses or resumes a task (sources stop polling, sinks stop
// fetching; both keep their resources).
func (h *TaskHost) SetPaused(key TaskKey, paused bool) {
	h.mu.Lock()
	ht, ok := h.tasks[key]
	h.mu.Unlock()
	if ok {
		ht.t.setPaused(paused)
	}
}

// Restart stops a task and starts it again with the same config, from its
// committed offsets. It reports whether the task ran here.
func (h *TaskHost) Restart(key TaskKey) bool {
	h.mu.Lock()
	ht, ok := h.tasks[key]
	h.mu.Unlock()
	if ok {
		ht.t.restart(h.w.cfg.ShutdownTimeout)
	}
	return ok
}

// Status returns a task's state on this worker.
func (h *TaskHost) Status(key TaskKey) (StateInfo, bool) {
	h.mu.Lock()
	ht, ok := h.tasks[key]
	h.mu.Unlock()
	if !ok {
		return StateInfo{}, false
	}
	return ht.t.status(), true
}

// Config returns the config a task runs with here.
func (h *TaskHost) Config(key TaskKey) (map[string]string, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ht, ok := h.tasks[key]
	if !ok {
		return nil, false
	}
	return maps.Clone(ht.cfg), true
}

// Tasks returns the tasks running here, sorted.
func (h *TaskHost) Tasks() []TaskKey {
	h.mu.Lock()
	defer h.mu.Unlock()
	keys := slices.Collect(maps.Keys(h.tasks))
	slices.SortFunc(keys, func(a, b TaskKey) int {
		if c := strings.Compare(a.Connector, b.Connector); c != 0 {
			return c
		}
		return a.Task - b.Task
	})
	return keys
}
