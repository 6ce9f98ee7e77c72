package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/connector/config"
	"github.com/tributary-cdc/tributary/offsets"
	"github.com/tributary-cdc/tributary/runtime/dlq"
	"github.com/tributary-cdc/tributary/runtime/kafka"
)

// Transformer is a connector's transform chain (transforms.Chain satisfies
// it): Apply returns the new record, or keep=false to drop it.
type Transformer = connector.Transformer

// TransformFactory builds a connector's transform chain from its config
// (transforms.ParseWith over the registry). It returns an error naming the
// bad key.
type TransformFactory func(connectorConfig map[string]string) (Transformer, error)

// Options are what the worker is built with besides its config.
type Options struct {
	// Registry holds the plugin classes: connectors, converters, transforms
	// and predicates. Required. A registry without converters (connectors
	// only, as tests build) is used with StandardPlugins added.
	Registry *connector.Registry
	Logger   *slog.Logger
	// Store keeps source offsets. Nil: a FileStore at
	// offset.storage.file.filename (standalone mode).
	Store offsets.Store
	// Converters builds key/value converters; nil means the registry's
	// (Registry.NewConverter).
	Converters ConverterFactory
	// Transforms builds transform chains; nil means the transforms package
	// over the registry's transform and predicate classes.
	Transforms TransformFactory
	// Errors builds errant-record reporters (DLQ); nil means
	// DefaultErrorReporter.
	Errors ErrorReporterFactory
	// Observer receives progress events (metrics); nil means NopObserver.
	Observer Observer
	// KafkaHooks are added to every Kafka client the worker creates.
	KafkaHooks []kgo.Hook
	// WorkerID names this worker in statuses; default host:rest.port.
	WorkerID string
	// Lease, when set, tells whether this worker may still run its tasks
	// (distributed mode: it is still a confirmed member of its group). A
	// task asks before it hands a batch on (a source before it sends what
	// Poll returned, a sink before Put); when the lease is gone it holds the
	// batch back, uncommitted, until it is stopped, so a worker that wakes
	// from a pause never writes for work others took meanwhile. Nil: always
	// held (standalone mode).
	Lease func() bool
}

// leaseHeld reports whether tasks may hand batches on (Options.Lease).
func (w *Worker) leaseHeld() bool { return w.opts.Lease == nil || w.opts.Lease() }

// Worker runs connectors and their tasks in one process (Connect's
// standalone herder and worker). All methods are safe for concurrent use.
// A failing task is marked FAILED with its trace; it never stops the worker
// or other tasks.
type Worker struct {
	cfg      *WorkerConfig
	opts     Options
	log      *slog.Logger
	id       string
	embedded *kafka.Embedded
	// clientProps are the worker's Kafka client properties with
	// bootstrap.servers resolved (embedded broker address).
	clientProps map[string]string
	store       offsets.Store
	ownStore    bool

	mu     sync.Mutex
	conns  map[string]*connEntry
	order  []string
	closed bool

	adminOnce sync.Once
	admin     *kgo.Client
	adminErr  error
}

type connEntry struct {
	name     string
	cfg      map[string]string
	plugin   connector.Plugin
	target   State // RUNNING, PAUSED or STOPPED
	state    StateInfo
	taskCfgs []map[string]string
	tasks    []*taskRunner
}

// NewWorker starts a worker: the embedded broker when bootstrap.servers is
// empty or "embedded", and the offset store. Connectors are added with
// CreateConnector.
func NewWorker(ctx context.Context, cfg *WorkerConfig, opts Options) (*Worker, error) {
	if opts.Registry == nil {
		return nil, errors.New("worker: no connector registry")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	opts.Registry = withStandardPlugins(opts.Registry)
	if opts.Converters == nil {
		opts.Converters = opts.Registry.NewConverter
	}
	if opts.Observer == nil {
		opts.Observer = NopObserver{}
	}
	if opts.Transforms == nil {
		opts.Transforms = transformsFrom(opts.Registry)
	}
	w := &Worker{cfg: cfg, opts: opts, log: opts.Logger, conns: map[string]*connEntry{}}
	w.id = opts.WorkerID
	if w.id == "" {
		host := cfg.RestAdvertisedHost()
		w.id = net.JoinHostPort(host, strconv.Itoa(cfg.RestPort))
	}
	w.clientProps = maps.Clone(cfg.Raw)
	if cfg.Embedded {
		e, err := kafka.StartEmbedded(kafka.EmbeddedConfig{Port: cfg.EmbeddedPort, DataDir: cfg.EmbeddedDataDir, Logger: w.log})
		if err != nil {
			return nil, err
		}
		w.embedded = e
		w.clientProps[KeyBootstrapServers] = strings.Join(e.Addrs(), ",")
	}
	w.store = opts.Store
	if err := w.checkExactlyOnceWorker(); err != nil { // eos.go
		w.closeKafka()
		return nil, err
	}
	if w.store == nil {
		if cfg.OffsetFile == "" {
			w.closeKafka()
			return nil, fmt.Errorf("%s: Missing required configuration \"%s\" which has no default value.", KeyOffsetFile, KeyOffsetFile)
		}
		fs, err := offsets.OpenFile(cfg.OffsetFile)
		if err != nil {
			w.closeKafka()
			return nil, err
		}
		w.store, w.ownStore = fs, true
	}
	return w, nil
}

// RestAdvertisedHost returns the host name the worker is known by:
// rest.advertised.host.name, rest.host.name or the machine's host name.
func (c *WorkerConfig) RestAdvertisedHost() string {
	if h := c.Raw[KeyRestAdvertisedHost]; h != "" {
		return h
	}
	if c.RestHost != "" {
		return c.RestHost
	}
	if h, err := os.Hostname(); err == nil {
		return h
	}
	return "localhost"
}

// ID returns the worker ID used in statuses.
func (w *Worker) ID() string { return w.id }

// Config returns the worker config.
func (w *Worker) Config() *WorkerConfig { return w.cfg }

// Registry returns the connector registry.
func (w *Worker) Registry() *connector.Registry { return w.opts.Registry }

// Logger returns the worker's logger.
func (w *Worker) Logger() *slog.Logger { return w.log }

// BootstrapServers returns the Kafka addresses the worker uses (the
// embedded broker's when it runs one).
func (w *Worker) BootstrapServers() string { return w.clientProps[KeyBootstrapServers] }

// Embedded returns the embedded broker, or nil.
func (w *Worker) Embedded() *kafka.Embedded { return w.embedded }

// OffsetStore returns the source offset store.
func (w *Worker) OffsetStore() offsets.Store { return w.store }

// ClientProps returns the worker's Kafka client properties with the
// given prefixes (e.g. "producer.") overlaid, bootstrap.servers resolved.
func (w *Worker) ClientProps(prefixes ...string) map[string]string {
	return kafka.Overlay(w.clientProps, prefixes...)
}

// KafkaClient returns a new franz-go client on the worker's cluster with
// the worker's client properties ("admin." overlaid) plus opts. The caller
// closes it.
func (w *Worker) KafkaClient(opts ...kgo.Opt) (*kgo.Client, error) {
	base, err := kafka.ClientOpts(w.ClientProps("admin."))
	if err != nil {
		return nil, err
	}
	base = append(base, w.hookOpts()...)
	return kgo.NewClient(append(base, opts...)...)
}

func (w *Worker) hookOpts() []kgo.Opt {
	if len(w.opts.KafkaHooks) == 0 {
		return nil
	}
	hooks := make([]kgo.Hook, len(w.opts.KafkaHooks))
	copy(hooks, w.opts.KafkaHooks)
	return []kgo.Opt{kgo.WithHooks(hooks...)}
}

func (w *Worker) adminClient() (*kgo.Client, error) {
	w.adminOnce.Do(func() { w.admin, w.adminErr = w.KafkaClient() })
	return w.admin, w.adminErr
}

// Validate checks a connector config without creating anything: the
// definition used (runtime keys merged with the plugin's) and every problem.
// err is set when the connector class is unknown.
func (w *Worker) Validate(ctx context.Context, cfg map[string]string) (*config.Def, config.Errors, error) {
	p, err := w.opts.Registry.Lookup(strings.TrimSpace(cfg[KeyConnectorClass]))
	if err != nil {
		return nil, nil, err
	}
	_, errs := validateConnector(p, cfg)
	errs = append(errs, w.validateRuntimeParts(cfg)...)
	errs = append(errs, w.validateExactlyOnce(p, cfg)...)
	return FullDef(p), errs, nil
}

// validateRuntimeParts checks converters and transforms, which the runtime
// builds.
func (w *Worker) validateRuntimeParts(cfg map[string]string) config.Errors {
	var errs config.Errors
	for _, k := range []string{KeyKeyConverter, KeyValueConverter} {
		class, props := converterProps(w.cfg.Raw, cfg, k, k == KeyKeyConverter)
		if _, err := w.opts.Converters(class, props, k == KeyKeyConverter); err != nil {
			key := k
			var ce config.Errors
			if errors.As(err, &ce) && len(ce) > 0 {
				for _, e := range ce {
					errs = append(errs, config.KeyError{Key: k + "." + e.Key, Message: e.Message})
				}
				continue
			}
			errs = append(errs, config.KeyError{Key: key, Message: err.Error()})
		}
	}
	if strings.TrimSpace(cfg[KeyTransforms]) != "" || strings.TrimSpace(cfg[KeyPredicates]) != "" {
		if _, err := w.opts.Transforms(cfg); err != nil {
			var ce config.Errors
			if errors.As(err, &ce) {
				errs = append(errs, ce...)
			} else {
				errs = append(errs, config.KeyError{Key: KeyTransforms, Message: err.Error()})
			}
		}
	}
	return errs
}

// CreateConnector validates cfg and starts the connector and its tasks.
// cfg["name"], when set, must equal name. It returns config.Errors when the
// config is invalid and ErrExists when the name is taken.
func (w *Worker) CreateConnector(ctx context.Context, name string, cfg map[string]string) error {
	_, err := w.putConfig(ctx, name, cfg, Running, false)
	return err
}

// PutConnectorConfig creates the connector or replaces its config
// (restarting its tasks with the new config). created reports whether it
// was new. A connector that exists is only replaced when cfg differs.
func (w *Worker) PutConnectorConfig(ctx context.Context, name string, cfg map[string]string) (created bool, err error) {
	return w.putConfig(ctx, name, cfg, Running, true)
}

// PutConnectorConfigState is PutConnectorConfig with the target state of a
// new connector (RUNNING, PAUSED or STOPPED, KIP-980's initial_state) and
// whether an existing connector may be replaced (else ErrExists).
func (w *Worker) PutConnectorConfigState(ctx context.Context, name string, cfg map[string]string, initial State, allowReplace bool) (created bool, err error) {
	switch initial {
	case "":
		initial = Running
	case Running, Paused, Stopped:
	default:
		return false, fmt.Errorf("initial state %q: must be RUNNING, PAUSED or STOPPED", initial)
	}
	return w.putConfig(ctx, name, cfg, initial, allowReplace)
}

func (w *Worker) putConfig(ctx context.Context, name string, cfg map[string]string, initial State, allowUpdate bool) (bool, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return false, config.Errors{{Key: KeyName, Message: "Missing required configuration \"name\" which has no default value."}}
	}
	cfg = maps.Clone(cfg)
	if n, ok := cfg[KeyName]; ok && strings.TrimSpace(n) != name {
		return false, config.Errors{{Key: KeyName, Message: fmt.Sprintf("Connector name configuration (%s) doesn't match connector name in the URL (%s)", n, name)}}
	}
	cfg[KeyName] = name
	p, err := w.opts.Registry.Lookup(strings.TrimSpace(cfg[KeyConnectorClass]))
	if err != nil {
		return false, config.Errors{{Key: KeyConnectorClass, Message: err.Error()}}
	}
	if _, errs := validateConnector(p, cfg); len(errs) > 0 {
		return false, errs
	}
	if errs := w.validateRuntimeParts(cfg); len(errs) > 0 {
		return false, errs
	}
	if errs := w.validateExactlyOnce(p, cfg); len(errs) > 0 {
		return false, errs
	}

	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return false, ErrWorkerClosed
	}
	c, exists := w.conns[name]
	if exists && !allowUpdate {
		w.mu.Unlock()
		return false, fmt.Errorf("connector %s: %w", name, ErrExists)
	}
	if !exists {
		c = &connEntry{name: name, target: initial}
		w.conns[name] = c
		w.order = append(w.order, name)
	}
	old := c.tasks
	same := exists && maps.Equal(c.cfg, cfg)
	if !same {
		c.cfg, c.plugin, c.tasks = cfg, p, nil
	}
	w.mu.Unlock()
	if same {
		return false, nil
	}
	w.stopTasks(old)
	w.startConnector(ctx, c)
	return !exists, nil
}

// startConnector computes task configs and starts tasks per the target
// state. Errors leave the connector FAILED with the trace.
func (w *Worker) startConnector(ctx context.Context, c *connEntry) {
	w.mu.Lock()
	target, cfg, p := c.target, c.cfg, c.plugin
	w.mu.Unlock()
	if target == Stopped {
		w.setConnState(c, StateInfo{State: Stopped, WorkerID: w.id}, nil)
		return
	}
	maxTasks, _ := strconv.Atoi(strings.TrimSpace(cfg[KeyTasksMax]))
	if maxTasks <= 0 {
		maxTasks = 1
	}
	rcfg, err := w.resolveConfig(ctx, cfg) // config providers (worker_providers.go)
	var tcs []map[string]string
	if err == nil {
		tcs, err = p.TaskConfigs(ctx, maps.Clone(rcfg), maxTasks)
		unresolveTaskConfigs(cfg, rcfg, tcs)
	}
	if err == nil && len(tcs) > maxTasks {
		err = fmt.Errorf("connector %s produced %d task configs, more than tasks.max=%d", c.name, len(tcs), maxTasks)
	}
	if err != nil {
		w.log.Error("connector failed to start", "connector", c.name, "err", err)
		w.setConnState(c, StateInfo{State: Failed, WorkerID: w.id, Trace: trace(err)}, nil)
		return
	}
	full := make([]map[string]string, len(tcs))
	for i, tc := range tcs {
		m := maps.Clone(cfg)
		maps.Copy(m, tc)
		full[i] = m
	}
	tasks := make([]*taskRunner, len(full))
	for i, tc := range full {
		tasks[i] = w.newTask(c.name, p, i, tc)
	}
	st := Running
	if target == Paused {
		st = Paused
	}
	w.mu.Lock()
	c.taskCfgs = full
	c.tasks = tasks
	c.state = StateInfo{State: st, WorkerID: w.id}
	w.mu.Unlock()
	w.log.Info("connector started", "connector", c.name, "class", p.Class(), "tasks", len(tasks))
	for _, k := range unknownConnectorKeys(p, cfg) {
		w.log.Warn(fmt.Sprintf("The configuration '%s' was supplied but isn't a known config.", k), "connector", c.name)
	}
	for _, t := range tasks {
		t.setPaused(target == Paused)
		t.start()
	}
}

func (w *Worker) setConnState(c *connEntry, s StateInfo, tasks []*taskRunner) {
	w.mu.Lock()
	c.state = s
	c.tasks = tasks
	if s.State == Stopped || s.State == Failed {
		c.taskCfgs = nil
	}
	w.mu.Unlock()
}

func (w *Worker) stopTasks(tasks []*taskRunner) {
	var wg sync.WaitGroup
	for _, t := range tasks {
		wg.Add(1)
		go func() { defer wg.Done(); t.stop(w.cfg.ShutdownTimeout) }()
	}
	wg.Wait()
}

func (w *Worker) get(name string) (*connEntry, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	c, ok := w.conns[name]
	if !ok {
		return nil, fmt.Errorf("connector %s: %w", name, ErrNotFound)
	}
	return c, nil
}

// DeleteConnector stops the connector and its tasks and forgets it. A
// plugin implementing connector.Deleter removes its external resources.
// Committed offsets are kept, as in Kafka Connect.
func (w *Worker) DeleteConnector(ctx context.Context, name string) error {
	w.mu.Lock()
	c, ok := w.conns[name]
	if !ok {
		w.mu.Unlock()
		return fmt.Errorf("connector %s: %w", name, ErrNotFound)
	}
	delete(w.conns, name)
	w.order = slices.DeleteFunc(w.order, func(s string) bool { return s == name })
	tasks, cfg, p := c.tasks, c.cfg, c.plugin
	c.tasks = nil
	w.mu.Unlock()
	w.stopTasks(tasks)
	if d, ok := p.(connector.Deleter); ok {
		if err := d.OnDelete(ctx, maps.Clone(cfg)); err != nil {
			return fmt.Errorf("connector %s deleted, but removing its resources failed: %w", name, err)
		}
	}
	w.log.Info("connector deleted", "connector", name)
	return nil
}

// PauseConnector pauses the connector's tasks: sources stop polling, sinks
// stop fetching; both keep their state and resources.
func (w *Worker) PauseConnector(name string) error {
	c, err := w.get(name)
	if err != nil {
		return err
	}
	w.mu.Lock()
	if c.target == Stopped {
		w.mu.Unlock()
		return nil
	}
	c.target = Paused
	if c.state.State == Running {
		c.state.State = Paused
	}
	tasks := c.tasks
	w.mu.Unlock()
	for _, t := range tasks {
		t.setPaused(true)
	}
	return nil
}

// ResumeConnector resumes a paused or stopped connector.
func (w *Worker) ResumeConnector(ctx context.Context, name string) error {
	c, err := w.get(name)
	if err != nil {
		return err
	}
	w.mu.Lock()
	prev := c.target
	c.target = Running
	if c.state.State == Paused {
		c.state.State = Running
	}
	tasks := c.tasks
	w.mu.Unlock()
	if prev == Stopped {
		w.startConnector(ctx, c)
		return nil
	}
	for _, t := range tasks {
		t.setPaused(false)
	}
	return nil
}

// StopConnector shuts the connector's tasks down and keeps its config
// (KIP-875 STOPPED state; offsets can then be altered or reset).
func (w *Worker) StopConnector(ctx context.Context, name string) error {
	c, err := w.get(name)
	if err != nil {
		return err
	}
	w.mu.Lock()
	c.target = Stopped
	tasks := c.tasks
	c.tasks = nil
	w.mu.Unlock()
	w.stopTasks(tasks)
	w.setConnState(c, StateInfo{State: Stopped, WorkerID: w.id}, nil)
	return nil
}

// RestartConnector restarts the connector; with includeTasks its tasks too
// (onlyFailed limits that to FAILED ones), as POST
// /connectors/{name}/restart. Restarting the connector recomputes task
// configs, so all tasks restart when the configs changed.
func (w *Worker) RestartConnector(ctx context.Context, name string, includeTasks, onlyFailed bool) error {
	c, err := w.get(name)
	if err != nil {
		return err
	}
	w.mu.Lock()
	connFailed := c.state.State == Failed
	tasks := slices.Clone(c.tasks)
	w.mu.Unlock()
	if !includeTasks {
		if onlyFailed && !connFailed {
			return nil
		}
		if connFailed || len(tasks) == 0 {
			w.setConnState(c, StateInfo{State: Restarting, WorkerID: w.id}, nil)
			w.startConnector(ctx, c)
		}
		return nil
	}
	if connFailed || len(tasks) == 0 {
		w.setConnState(c, StateInfo{State: Restarting, WorkerID: w.id}, nil)
		w.startConnector(ctx, c)
		return nil
	}
	for _, t := range tasks {
		if onlyFailed && t.status().State != Failed {
			continue
		}
		t.restart(w.cfg.ShutdownTimeout)
	}
	return nil
}

// RestartTask restarts one task.
func (w *Worker) RestartTask(ctx context.Context, name string, task int) error {
	c, err := w.get(name)
	if err != nil {
		return err
	}
	w.mu.Lock()
	var t *taskRunner
	if task >= 0 && task < len(c.tasks) {
		t = c.tasks[task]
	}
	w.mu.Unlock()
	if t == nil {
		return fmt.Errorf("connector %s task %d: %w", name, task, ErrTaskNotFound)
	}
	t.restart(w.cfg.ShutdownTimeout)
	return nil
}

// Connectors returns the connector names in creation order.
func (w *Worker) Connectors() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.order)
}

// ConnectorConfig returns a copy of the connector's config.
func (w *Worker) ConnectorConfig(name string) (map[string]string, error) {
	c, err := w.get(name)
	if err != nil {
		return nil, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return maps.Clone(c.cfg), nil
}

// ConnectorType returns whether the connector is a source or a sink.
func (w *Worker) ConnectorType(name string) (connector.Type, error) {
	c, err := w.get(name)
	if err != nil {
		return "", err
	}
	return c.plugin.Type(), nil
}

// ConnectorInfo returns GET /connectors/{name}.
func (w *Worker) ConnectorInfo(name string) (ConnectorInfo, error) {
	c, err := w.get(name)
	if err != nil {
		return ConnectorInfo{}, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	info := ConnectorInfo{Name: name, Config: maps.Clone(c.cfg), Type: c.plugin.Type(), Tasks: []TaskID{}}
	for i := range c.taskCfgs {
		info.Tasks = append(info.Tasks, TaskID{Connector: name, Task: i})
	}
	return info, nil
}

// TaskConfigs returns the current task configs (none while STOPPED).
func (w *Worker) TaskConfigs(name string) ([]map[string]string, error) {
	c, err := w.get(name)
	if err != nil {
		return nil, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]map[string]string, len(c.taskCfgs))
	for i, m := range c.taskCfgs {
		out[i] = maps.Clone(m)
	}
	return out, nil
}

// ConnectorStatus returns GET /connectors/{name}/status.
func (w *Worker) ConnectorStatus(name string) (ConnectorStatus, error) {
	c, err := w.get(name)
	if err != nil {
		return ConnectorStatus{}, err
	}
	w.mu.Lock()
	st := ConnectorStatus{Name: name, Connector: c.state, Type: c.plugin.Type(), Tasks: []TaskStatus{}}
	tasks := slices.Clone(c.tasks)
	w.mu.Unlock()
	for _, t := range tasks {
		st.Tasks = append(st.Tasks, TaskStatus{ID: t.id, StateInfo: t.status()})
	}
	return st, nil
}

// TaskStatus returns one task's status.
func (w *Worker) TaskStatus(name string, task int) (TaskStatus, error) {
	st, err := w.ConnectorStatus(name)
	if err != nil {
		return TaskStatus{}, err
	}
	for _, t := range st.Tasks {
		if t.ID == task {
			return t, nil
		}
	}
	return TaskStatus{}, fmt.Errorf("connector %s task %d: %w", name, task, ErrTaskNotFound)
}

// Offsets returns the connector's committed offsets (GET
// /connectors/{name}/offsets): source offsets from the offset store, or
// for a sink its consumer group's committed offsets.
func (w *Worker) Offsets(ctx context.Context, name string) ([]OffsetEntry, error) {
	c, err := w.get(name)
	if err != nil {
		return nil, err
	}
	out := []OffsetEntry{}
	if c.plugin.Type() == connector.Source {
		es, err := w.store.List(ctx, name)
		if err != nil {
			return nil, err
		}
		for _, e := range es {
			out = append(out, OffsetEntry{Partition: e.Partition, Offset: e.Offset})
		}
		return out, nil
	}
	cl, err := w.adminClient()
	if err != nil {
		return nil, err
	}
	offs, err := kafka.GroupOffsets(ctx, cl, sinkGroup(name, w.connCfg(c)))
	if err != nil {
		return nil, err
	}
	topics := slices.Sorted(maps.Keys(offs))
	for _, t := range topics {
		parts := slices.Sorted(maps.Keys(offs[t]))
		for _, p := range parts {
			out = append(out, OffsetEntry{
				Partition: map[string]any{"kafka_topic": t, "kafka_partition": int64(p)},
				Offset:    map[string]any{"kafka_offset": offs[t][p]},
			})
		}
	}
	return out, nil
}

func (w *Worker) connCfg(c *connEntry) map[string]string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return c.cfg
}

// AlterOffsets writes offsets for a STOPPED connector (PATCH
// /connectors/{name}/offsets). A nil Offset removes a partition's offset.
func (w *Worker) AlterOffsets(ctx context.Context, name string, entries []OffsetEntry) error {
	c, err := w.get(name)
	if err != nil {
		return err
	}
	if err := w.requireStopped(c); err != nil {
		return err
	}
	if c.plugin.Type() == connector.Source {
		es := make([]offsets.Entry, len(entries))
		for i, e := range entries {
			es[i] = offsets.Entry{Partition: e.Partition, Offset: e.Offset}
		}
		return w.store.Put(ctx, name, es)
	}
	cl, err := w.adminClient()
	if err != nil {
		return err
	}
	adm := kadm.NewClient(cl)
	group := sinkGroup(name, w.connCfg(c))
	commit := kadm.Offsets{}
	del := map[string][]int32{}
	for _, e := range entries {
		topic, _ := e.Partition["kafka_topic"].(string)
		part, ok := asInt64(e.Partition["kafka_partition"])
		if topic == "" || !ok {
			return fmt.Errorf("sink offsets need partition {\"kafka_topic\":…,\"kafka_partition\":…}, got %v", e.Partition)
		}
		if e.Offset == nil {
			del[topic] = append(del[topic], int32(part))
			continue
		}
		off, ok := asInt64(e.Offset["kafka_offset"])
		if !ok || off < 0 {
			return fmt.Errorf("sink offsets need offset {\"kafka_offset\": n ≥ 0}, got %v", e.Offset)
		}
		commit.AddOffset(topic, int32(part), off, -1)
	}
	if len(commit) > 0 {
		resp, err := adm.CommitOffsets(ctx, group, commit)
		if err == nil {
			err = resp.Error()
		}
		if err != nil {
			return fmt.Errorf("alter offsets of group %s: %w", group, err)
		}
	}
	if len(del) > 0 {
		set := kadm.TopicsSet{}
		for t, ps := range del {
			set.Add(t, ps...)
		}
		resp, err := adm.DeleteOffsets(ctx, group, set)
		if err == nil {
			err = resp.Error()
		}
		if err != nil {
			return fmt.Errorf("delete offsets of group %s: %w", group, err)
		}
	}
	return nil
}

// ResetOffsets removes every committed offset of a STOPPED connector
// (DELETE /connectors/{name}/offsets).
func (w *Worker) ResetOffsets(ctx context.Context, name string) error {
	c, err := w.get(name)
	if err != nil {
		return err
	}
	if err := w.requireStopped(c); err != nil {
		return err
	}
	if c.plugin.Type() == connector.Source {
		return w.store.Delete(ctx, name)
	}
	cl, err := w.adminClient()
	if err != nil {
		return err
	}
	group := sinkGroup(name, w.connCfg(c))
	resp, err := kadm.NewClient(cl).DeleteGroup(ctx, group)
	if err == nil && resp.Err != nil && !strings.Contains(resp.Err.Error(), "GROUP_ID_NOT_FOUND") {
		err = resp.Err
	}
	if err != nil {
		return fmt.Errorf("reset offsets of group %s: %w", group, err)
	}
	return nil
}

func (w *Worker) requireStopped(c *connEntry) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if c.target != Stopped {
		return fmt.Errorf("connector %s: %w", c.name, ErrNotStopped)
	}
	return nil
}

// Close stops every connector (tasks commit their offsets), then the
// offset store and the embedded broker. ctx bounds the whole shutdown.
func (w *Worker) Close(ctx context.Context) error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	var tasks []*taskRunner
	for _, c := range w.conns {
		tasks = append(tasks, c.tasks...)
	}
	w.mu.Unlock()
	done := make(chan struct{})
	go func() { w.stopTasks(tasks); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		w.log.Warn("worker shutdown timed out; some tasks did not stop", "err", ctx.Err())
	}
	var err error
	if w.ownStore {
		err = w.store.Close()
	}
	w.closeKafka()
	w.log.Info("worker stopped")
	return err
}

func (w *Worker) closeKafka() {
	if w.admin != nil {
		w.admin.Close()
	}
	if w.embedded != nil {
		w.embedded.Close()
	}
}

func sinkGroup(name string, cfg map[string]string) string {
	if g := strings.TrimSpace(cfg[KeyConsumerGroupOverride]); g != "" {
		return g
	}
	return "connect-" + name
}

func asInt64(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case int:
		return int64(x), true
	case int32:
		return int64(x), true
	case float64:
		if x == float64(int64(x)) {
			return int64(x), true
		}
	case string:
		n, err := strconv.ParseInt(x, 10, 64)
		return n, err == nil
	}
	return 0, false
}

// trace renders an error for a status trace.
func trace(err error) string {
	return dlq.Trace(err)
}
