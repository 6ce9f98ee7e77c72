package distributed

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/runtime"
	"github.com/tributary-cdc/tributary/runtime/configstore"
	"github.com/tributary-cdc/tributary/runtime/kafka"
	"github.com/tributary-cdc/tributary/runtime/rest"
)

// Connector and task states written to the status topic.
const (
	stateRunning    = "RUNNING"
	statePaused     = "PAUSED"
	stateStopped    = "STOPPED"
	stateFailed     = "FAILED"
	stateUnassigned = "UNASSIGNED"
)

// Options are what a Herder is built with besides its config.
type Options struct {
	// Registry holds the connector classes. Required.
	Registry *connector.Registry
	Logger   *slog.Logger
	// Observer receives the worker's progress events (metrics); nil for
	// none. Task state changes also go to the status topic.
	Observer   runtime.Observer
	Errors     runtime.ErrorReporterFactory
	Converters runtime.ConverterFactory
	Transforms runtime.TransformFactory
	KafkaHooks []kgo.Hook
	// AdvertisedScheme is the scheme of the advertised REST URL (http or
	// https, rest.ParseSecurity's Advertised; default http).
	AdvertisedScheme string
	// RESTClientTLS, when set, is the TLS config for calls to other
	// workers' https listeners (rest.Security's ClientTLS).
	RESTClientTLS *tls.Config
}

// Herder is one worker of a distributed cluster: Kafka Connect's
// DistributedHerder. It implements rest.Herder; serve its REST API through
// Handler, which forwards state changes to the leader.
type Herder struct {
	cfg      *Config
	log      *slog.Logger
	url      string // advertised REST URL, http://host:port/
	workerID string // host:port
	w        *runtime.Worker
	host     *runtime.TaskHost
	local    *runtime.RESTHerder // plugin definitions and validation
	admin    *kgo.Client
	configs  *configLog
	statuses *statusStore
	offsets  *offsetStore
	member   *member
	assignor *assignor
	httpc    *http.Client

	generation atomic.Int32
	// fenced is set from the moment the membership was lost until the next
	// assignment: no task or connector instance starts meanwhile (a
	// reconcile already under way must not restart what lost stops).
	fenced atomic.Bool

	// opMu serializes changes to the work running here (reconcile,
	// assignments, restarts, lost membership).
	opMu    sync.Mutex
	current work                  // work assigned to this worker
	conns   map[string]*connState // connector instances running here

	// reported is current as the next join reports it (readable while a
	// long reconcile holds opMu).
	reportedMu sync.Mutex
	reported   work

	mu        sync.Mutex // guards the fields below
	memberID  string
	leaderURL string // "" while unknown (rebalancing)
	isLeader  bool
	leaderCh  chan struct{} // closed and replaced when the leader changes
	// owners is the leader's view of every member's work: item → worker
	// URL (for forwarding task restarts to their owner).
	owners map[item]string

	// restartsFrom is the config offset read at start: older restart
	// requests are history.
	restartsFrom int64

	kick   chan struct{}
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	closed atomic.Bool
}

// connState is a connector instance running on this worker.
type connState struct {
	cfg    map[string]string
	target string
	state  string // RUNNING, PAUSED, STOPPED or FAILED
	// submitted is true once the task configs computed from cfg are in the
	// config topic; until then reconcile retries.
	submitted bool
}

var _ rest.Herder = (*Herder)(nil)

// New joins the cluster: it creates the three internal topics when missing,
// reads them, and starts taking part in the group. listen is the REST API's
// listening address (for the advertised URL when rest.advertised.* is not
// set). Close leaves the cluster.
func New(ctx context.Context, cfg *Config, listen net.Addr, opts Options) (*Herder, error) {
	if opts.Registry == nil {
		return nil, errors.New("distributed: no connector registry")
	}
	if cfg.Worker.Embedded {
		return nil, fmt.Errorf("%s: distributed workers share a Kafka cluster; set it to the cluster's brokers (the embedded broker is for standalone mode)", runtime.KeyBootstrapServers)
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Observer == nil {
		opts.Observer = runtime.NopObserver{}
	}
	h := &Herder{cfg: cfg, conns: map[string]*connState{}, leaderCh: make(chan struct{}), owners: map[item]string{},
		kick: make(chan struct{}, 1), httpc: &http.Client{Timeout: 100 * time.Second}}
	if opts.RESTClientTLS != nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = opts.RESTClientTLS
		h.httpc.Transport = tr
	}
	h.url, h.workerID = cfg.advertised(listen, opts.AdvertisedScheme)
	h.log = opts.Logger.With("worker_id", h.workerID)
	h.assignor = newAssignor(cfg.ScheduledDelay)
	h.generation.Store(-1)

	hooks := slices.Clone(opts.KafkaHooks)
	nc := func(extra ...kgo.Opt) (*kgo.Client, error) {
		base, err := kafka.ClientOpts(kafka.Overlay(cfg.Worker.Raw, "admin."))
		if err != nil {
			return nil, err
		}
		if len(hooks) > 0 {
			base = append(base, kgo.WithHooks(hooks...))
		}
		return kgo.NewClient(append(base, extra...)...)
	}
	fail := func(err error) (*Herder, error) {
		h.closeStores(context.Background())
		return nil, err
	}
	var err error
	if h.admin, err = nc(); err != nil {
		return nil, err
	}
	if h.configs, err = openConfigLog(ctx, nc, cfg.ConfigTopic, cfg.ConfigRF, h.log); err != nil {
		return fail(err)
	}
	if h.statuses, err = openStatusStore(ctx, nc, cfg.StatusTopic, cfg.StatusPartitions, cfg.StatusRF, h.workerID, h.log); err != nil {
		return fail(err)
	}
	if h.offsets, err = openOffsetStore(ctx, nc, cfg.OffsetTopic, cfg.GroupID, cfg.OffsetPartitions, cfg.OffsetRF, h.log); err != nil {
		return fail(err)
	}
	h.w, err = runtime.NewWorker(ctx, taskWorkerConfig(cfg.Worker), runtime.Options{
		Registry: opts.Registry, Logger: h.log, Store: h.offsets, Converters: opts.Converters, Transforms: opts.Transforms,
		Errors: opts.Errors, Observer: statusObserver{Observer: opts.Observer, h: h}, KafkaHooks: hooks, WorkerID: h.workerID,
		Lease: h.leaseHeld,
	})
	if err != nil {
		return fail(err)
	}
	h.host = runtime.NewTaskHost(h.w)
	h.local = runtime.NewRESTHerder(h.w, nil)
	h.member = newMember(h.admin, cfg.GroupID, cfg.SessionTimeout, cfg.RebalanceTimeout, cfg.HeartbeatInterval, h.log, h)
	h.member.lease = cfg.Lease()

	// Restart requests already in the topic were for instances that ran
	// before this worker started.
	h.restartsFrom = h.configs.offset()
	h.ctx, h.cancel = context.WithCancel(context.Background())
	h.wg.Add(4)
	go func() { defer h.wg.Done(); h.member.run(h.ctx) }()
	go func() { defer h.wg.Done(); h.rotateKeys(h.ctx) }()
	go func() { defer h.wg.Done(); h.loop(h.ctx) }()
	go func() { defer h.wg.Done(); h.restarts(h.ctx) }()
	h.log.Info("distributed worker started", "url", h.url, "group.id", cfg.GroupID,
		"config.storage.topic", cfg.ConfigTopic, "offset.storage.topic", cfg.OffsetTopic, "status.storage.topic", cfg.StatusTopic)
	return h, nil
}

// leaseHeld tells tasks whether this worker may still hand batches on: it
// is a member of the group whose coordinator answered within
// session.timeout.ms, and its work was not stopped since the last
// assignment.
func (h *Herder) leaseHeld() bool {
	return !h.fenced.Load() && h.member != nil && h.member.leaseHeld()
}

// taskWorkerConfig is the worker config the tasks' Kafka clients are built
// from: without the worker group's session.timeout.ms,
// heartbeat.interval.ms and rebalance.timeout.ms, which are not the sink
// tasks' consumer group settings (Connect's are consumer.session.timeout.ms
// and so on, default 45 s; a worker's short session given to a sink
// consumer, which heartbeats every 3 s, had it dropped from its group over
// and over, replaying everything since its last commit).
func taskWorkerConfig(wc *runtime.WorkerConfig) *runtime.WorkerConfig {
	c := *wc
	c.Raw = maps.Clone(wc.Raw)
	for _, k := range []string{KeySessionTimeout, KeyHeartbeatInterval, KeyRebalanceTimeout} {
		delete(c.Raw, k)
	}
	return &c
}

// URL returns the worker's advertised REST URL.
func (h *Herder) URL() string { return h.url }

// WorkerID returns the worker ID used in statuses (host:port).
func (h *Herder) WorkerID() string { return h.workerID }

// Worker returns the runtime worker running this worker's tasks.
func (h *Herder) Worker() *runtime.Worker { return h.w }

// Leader reports whether this worker leads the group and the leader's URL
// ("" while a rebalance is in progress).
func (h *Herder) Leader() (isLeader bool, url string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.isLeader, h.leaderURL
}

// RESTOptions returns rest.Options serving this herder; callers add
// Metrics, ClusterID, Version, LogLevel and Logger.
func (h *Herder) RESTOptions() rest.Options {
	o := h.local.RESTOptions()
	o.Herder = h
	return o
}

// Close stops this worker's tasks (they commit their offsets and report
// UNASSIGNED), leaves the group so the others take the work over, and closes
// the worker. ctx bounds the shutdown.
func (h *Herder) Close(ctx context.Context) error {
	if !h.closed.CompareAndSwap(false, true) {
		return nil
	}
	h.log.Info("distributed worker stopping")
	h.opMu.Lock()
	h.stopAllLocked()
	h.opMu.Unlock()
	_ = h.statuses.flush(ctx)
	h.cancel() // the member leaves the group
	done := make(chan struct{})
	go func() { h.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		h.log.Warn("distributed worker shutdown timed out", "err", ctx.Err())
	}
	err := h.w.Close(ctx)
	h.closeStores(ctx)
	h.log.Info("distributed worker stopped")
	return err
}

func (h *Herder) closeStores(ctx context.Context) {
	if h.offsets != nil {
		h.offsets.Close()
	}
	if h.statuses != nil {
		h.statuses.close(ctx)
	}
	if h.configs != nil {
		h.configs.close()
	}
	if h.admin != nil {
		h.admin.Close()
	}
}

// ---- group membership (memberHandler) ----

// setCurrentLocked replaces the work assigned here (opMu held).
func (h *Herder) setCurrentLocked(w work) {
	h.current = w
	h.reportedMu.Lock()
	h.reported = w
	h.reportedMu.Unlock()
}

func (h *Herder) joinMeta() memberMeta {
	h.reportedMu.Lock()
	cur := h.reported
	h.reportedMu.Unlock()
	m := memberMeta{URL: h.url, ConfigOffset: h.configs.offset()}
	if !cur.empty() {
		m.Allocation = &assignment{ConfigOffset: m.ConfigOffset, Assigned: cur}
	}
	return m
}

func (h *Herder) lead(ctx context.Context, gen int32, leaderID string, members []joinedMember) (map[string]assignment, error) {
	sctx, cancel := context.WithTimeout(ctx, h.cfg.SyncTimeout)
	defer cancel()
	if err := h.configs.readToEnd(sctx); err != nil {
		return nil, fmt.Errorf("leader cannot read the config topic to its end: %w", err)
	}
	_ = h.statuses.sync(sctx)
	snap := h.configs.snapshot()
	infos := make([]memberInfo, 0, len(members))
	urls := map[string]string{}
	for _, m := range members {
		mi := memberInfo{ID: m.ID, URL: m.Meta.URL, WorkerID: workerIDOf(m.Meta.URL)}
		if m.Meta.Allocation != nil {
			mi.Alloc = m.Meta.Allocation.Assigned
		}
		infos = append(infos, mi)
		urls[m.ID] = m.Meta.URL
	}
	hint := func(it item) (string, string, bool) {
		key := connectorStatusKey(it.conn)
		if !it.isConnector() {
			key = taskStatusKey(it.conn, it.task)
		}
		v, ok := h.statuses.get(key)
		return v.WorkerID, v.State, ok
	}
	res, delay := h.assignor.assign(time.Now(), infos, snap.taskCounts(), hint)
	out := make(map[string]assignment, len(res))
	owners := map[item]string{}
	for id, r := range res {
		out[id] = assignment{Error: assignNoError, Leader: leaderID, LeaderURL: h.url, ConfigOffset: snap.Offset,
			Assigned: r.Assigned, Revoked: r.Revoked, DelayMS: int32(delay.Milliseconds())}
		for _, it := range items(r.Full) {
			owners[it] = urls[id]
		}
		h.log.Info("assignment", "generation", gen, "member", urls[id], "assigned", r.Assigned.String(), "revoked", r.Revoked.String(), "runs", r.Full.String())
	}
	if delay > 0 {
		h.log.Info("work of departed workers is held for them", "generation", gen, "release_in", delay.Round(time.Millisecond))
	}
	h.mu.Lock()
	h.owners = owners
	h.mu.Unlock()
	return out, nil
}

// workerIDOf turns an advertised URL into a worker ID (host:port).
func workerIDOf(url string) string {
	s := strings.TrimPrefix(strings.TrimPrefix(url, "http://"), "https://")
	return strings.TrimSuffix(s, "/")
}

func (h *Herder) setLeader(isLeader bool, url, memberID string) {
	h.mu.Lock()
	changed := h.leaderURL != url || h.isLeader != isLeader
	h.isLeader, h.leaderURL, h.memberID = isLeader, url, memberID
	if changed {
		close(h.leaderCh)
		h.leaderCh = make(chan struct{})
	}
	h.mu.Unlock()
}

func (h *Herder) assigned(ctx context.Context, gen int32, memberID string, a assignment) bool {
	leader := a.Leader == memberID
	if !leader {
		h.assignor.forget()
	}
	h.generation.Store(gen)
	if a.Error != assignNoError {
		h.log.Warn("assignment error; rejoining", "generation", gen, "error", a.Error)
		sctx, cancel := context.WithTimeout(ctx, h.cfg.SyncTimeout)
		_ = h.configs.readToEnd(sctx)
		cancel()
		return true
	}
	sctx, cancel := context.WithTimeout(ctx, h.cfg.SyncTimeout)
	err := h.configs.readTo(sctx, a.ConfigOffset)
	cancel()
	if err != nil {
		h.log.Warn("config topic not readable to the leader's offset (worker.sync.timeout.ms); giving up work and rejoining", "err", err)
		h.member.loseWork("config topic behind the leader")
		return true
	}
	h.setLeader(leader, a.LeaderURL, memberID)

	h.opMu.Lock()
	h.fenced.Store(false)
	h.stopWorkLocked(a.Revoked, false)
	if h.closed.Load() {
		h.opMu.Unlock()
		return false // stopping: take no new work
	}
	h.setCurrentLocked(apply(h.current, a.Assigned, a.Revoked))
	cur := h.current
	h.opMu.Unlock()
	fctx, fcancel := context.WithTimeout(ctx, 5*time.Second)
	_ = h.statuses.flush(fctx)
	fcancel()
	h.member.setHasWork(!cur.empty())
	h.log.Info("joined group", "generation", gen, "leader", leader, "leader_url", a.LeaderURL, "config_offset", a.ConfigOffset,
		"assigned", a.Assigned.String(), "revoked", a.Revoked.String(), "runs", cur.String(), "delay_ms", a.DelayMS)
	h.poke()
	return !a.Revoked.empty()
}

func (h *Herder) lost(reason string) {
	h.log.Warn("stopping all work: group membership lost or not confirmed", "reason", reason)
	h.fenced.Store(true)
	tasks := h.host.Tasks()
	h.host.StopAll() // at once: the lease may be running out
	for _, k := range tasks {
		h.log.Info("task stopped", "connector", k.Connector, "task", k.Task)
	}
	h.opMu.Lock()
	h.stopAllLocked()
	h.opMu.Unlock()
	h.setLeader(false, "", "")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	_ = h.statuses.flush(ctx)
	cancel()
}

// stopAllLocked stops every task and connector instance (opMu held).
func (h *Herder) stopAllLocked() {
	all := h.current
	for _, k := range h.host.Tasks() {
		all.Tasks = append(all.Tasks, taskID{Connector: k.Connector, Task: k.Task})
	}
	for name := range h.conns {
		all.Connectors = append(all.Connectors, name)
	}
	h.stopWorkLocked(toWork(slices.Collect(maps.Keys(workSet(all)))), false)
	h.setCurrentLocked(work{})
}

// stopWorkLocked stops tasks (in parallel, waiting) and connector
// instances; deleted marks work of deleted connectors, whose statuses are
// removed (Connect's DESTROYED).
func (h *Herder) stopWorkLocked(w work, deleted bool) {
	var wg sync.WaitGroup
	for _, t := range w.Tasks {
		k := runtime.TaskKey{Connector: t.Connector, Task: t.Task}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if h.host.Stop(k) {
				h.log.Info("task stopped", "connector", k.Connector, "task", k.Task)
			}
			h.offsets.release(k)
			if deleted {
				h.statuses.putTombstone(taskStatusKey(k.Connector, k.Task))
			}
		}()
	}
	wg.Wait()
	for _, c := range w.Connectors {
		if _, ok := h.conns[c]; !ok {
			continue
		}
		delete(h.conns, c)
		if deleted {
			h.statuses.putTombstone(connectorStatusKey(c))
		} else {
			h.statuses.put(connectorStatusKey(c), stateUnassigned, "", h.generation.Load())
		}
		h.log.Info("connector stopped", "connector", c)
	}
}

// ---- reconciling the work running here with the config topic ----

func (h *Herder) poke() {
	select {
	case h.kick <- struct{}{}:
	default:
	}
}

// loop reconciles on every assignment, config change and retry tick; the
// leader also starts a rebalance when the set of connectors or tasks changed.
func (h *Herder) loop(ctx context.Context) {
	retry := time.NewTicker(2 * time.Second)
	defer retry.Stop()
	prev := h.configs.snapshot().taskCounts()
	for {
		changed := h.configs.changes()
		select {
		case <-ctx.Done():
			return
		case <-h.kick:
		case <-changed:
		case <-retry.C:
		}
		snap := h.configs.snapshot()
		counts := snap.taskCounts()
		if !maps.Equal(counts, prev) {
			prev = counts
			if lead, _ := h.Leader(); lead {
				h.member.requestRejoin()
			}
		}
		h.reconcile(ctx, snap)
	}
}

// reconcile makes the work running here match the assignment and the
// config topic: connector instances compute task configs, tasks run with
// their committed configs and target states.
func (h *Herder) reconcile(ctx context.Context, snap snapshot) {
	h.opMu.Lock()
	defer h.opMu.Unlock()
	if h.closed.Load() || h.fenced.Load() {
		return
	}
	gen := h.generation.Load()
	// Work of deleted connectors stops and its statuses go.
	var gone work
	for _, c := range h.current.Connectors {
		if _, ok := snap.Connectors[c]; !ok {
			gone.Connectors = append(gone.Connectors, c)
		}
	}
	for _, k := range h.host.Tasks() {
		if _, ok := snap.Connectors[k.Connector]; !ok {
			gone.Tasks = append(gone.Tasks, taskID{Connector: k.Connector, Task: k.Task})
		}
	}
	if !gone.empty() {
		for _, c := range gone.Connectors {
			if st, ok := h.conns[c]; ok {
				go h.onDelete(c, st.cfg)
			}
		}
		h.stopWorkLocked(gone, true)
	}

	for _, c := range h.current.Connectors {
		cfg, ok := snap.Connectors[c]
		if !ok {
			continue
		}
		h.reconcileConnector(ctx, c, cfg, snap, gen)
	}

	// Tasks: run those assigned here with their committed configs.
	want := map[runtime.TaskKey]map[string]string{}
	for _, t := range h.current.Tasks {
		tcs := snap.Tasks[t.Connector]
		if _, ok := snap.Connectors[t.Connector]; !ok || t.Task >= len(tcs) || snap.Target(t.Connector) == configstore.TargetStopped {
			continue
		}
		want[runtime.TaskKey{Connector: t.Connector, Task: t.Task}] = tcs[t.Task]
	}
	var stale work
	for _, k := range h.host.Tasks() {
		cfg, ok := want[k]
		if old, _ := h.host.Config(k); !ok || !maps.Equal(old, cfg) {
			stale.Tasks = append(stale.Tasks, taskID{Connector: k.Connector, Task: k.Task})
		}
	}
	if !stale.empty() {
		h.stopWorkLocked(stale, false)
	}
	keys := slices.Collect(maps.Keys(want))
	slices.SortFunc(keys, func(a, b runtime.TaskKey) int {
		return compareItem(item{a.Connector, a.Task}, item{b.Connector, b.Task})
	})
	for _, k := range keys {
		paused := snap.Target(k.Connector) == configstore.TargetPaused
		if _, running := h.host.Config(k); running {
			h.host.SetPaused(k, paused)
			continue
		}
		h.startTaskLocked(ctx, k, want[k], paused)
	}
}

// startTaskLocked claims a source task's offsets (fencing any older owner)
// and starts the task.
func (h *Herder) startTaskLocked(ctx context.Context, k runtime.TaskKey, cfg map[string]string, paused bool) {
	p, err := h.host.Plugin(cfg)
	if err != nil {
		h.statuses.put(taskStatusKey(k.Connector, k.Task), stateFailed, err.Error(), h.generation.Load())
		return
	}
	if h.fenced.Load() {
		return // the membership was lost: a claim would fence the task's new owner
	}
	if p.Type() == connector.Source {
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := h.offsets.claim(cctx, k)
		cancel()
		if err != nil {
			h.log.Warn("cannot claim source task; retrying", "connector", k.Connector, "task", k.Task, "err", err)
			return
		}
	}
	if h.fenced.Load() {
		return // the membership was lost meanwhile
	}
	if err := h.host.Start(k, cfg, paused); err != nil {
		h.log.Warn("task start", "connector", k.Connector, "task", k.Task, "err", err)
		return
	}
	h.log.Info("task started", "connector", k.Connector, "task", k.Task, "class", p.Class(), "generation", h.generation.Load())
}

// reconcileConnector keeps a connector instance assigned here in line with
// its config and target state (opMu held).
func (h *Herder) reconcileConnector(ctx context.Context, name string, cfg map[string]string, snap snapshot, gen int32) {
	target := snap.Target(name)
	st := h.conns[name]
	if st != nil && maps.Equal(st.cfg, cfg) && st.submitted {
		if st.target == target {
			return
		}
		// RUNNING ⇄ PAUSED needs no new task configs.
		if st.state != stateFailed && target != configstore.TargetStopped && st.target != configstore.TargetStopped {
			st.target = target
			st.state = stateFor(target)
			h.statuses.put(connectorStatusKey(name), st.state, "", gen)
			return
		}
	}
	retry := st != nil && maps.Equal(st.cfg, cfg) && st.target == target && !st.submitted
	if !retry {
		st = &connState{cfg: cfg, target: target}
		h.conns[name] = st
	}
	if target == configstore.TargetStopped {
		st.state = stateStopped
		st.submitted = len(snap.Tasks[name]) == 0 || h.submitTaskConfigs(ctx, name, cfg, nil) == nil
		h.statuses.put(connectorStatusKey(name), stateStopped, "", gen)
		return
	}
	tctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	tcs, err := h.host.TaskConfigs(tctx, name, cfg)
	cancel()
	if err != nil {
		h.log.Error("connector failed", "connector", name, "err", err)
		st.state, st.submitted = stateFailed, true
		h.statuses.put(connectorStatusKey(name), stateFailed, err.Error(), gen)
		return
	}
	if !retry || st.state != stateFor(target) {
		st.state = stateFor(target)
		h.statuses.put(connectorStatusKey(name), st.state, "", gen)
	}
	if sameTaskConfigs(tcs, snap.Tasks[name]) {
		st.submitted = true
	} else if err := h.submitTaskConfigs(ctx, name, cfg, tcs); err != nil {
		h.log.Warn("task configs not stored yet; retrying", "connector", name, "err", err)
	} else {
		st.submitted = true
	}
	if !retry {
		h.log.Info("connector started", "connector", name, "target", target, "tasks", len(tcs), "generation", gen)
	}
}

func stateFor(target string) string {
	if target == configstore.TargetPaused {
		return statePaused
	}
	return stateRunning
}

func sameTaskConfigs(a, b []map[string]string) bool {
	return slices.EqualFunc(a, b, func(x, y map[string]string) bool { return maps.Equal(x, y) })
}

// onDelete removes a deleted connector's external resources
// (connector.Deleter, e.g. a replication slot), retrying while its tasks
// are still stopping elsewhere.
func (h *Herder) onDelete(name string, cfg map[string]string) {
	p, err := h.host.Plugin(cfg)
	if err != nil {
		return
	}
	d, ok := p.(connector.Deleter)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(h.ctx, 60*time.Second)
	defer cancel()
	for {
		err := d.OnDelete(ctx, maps.Clone(cfg))
		if err == nil {
			h.log.Info("deleted connector's resources removed", "connector", name)
			return
		}
		if sleepCtx(ctx, 2*time.Second) != nil {
			h.log.Warn("deleted connector's resources could not be removed", "connector", name, "err", err)
			return
		}
	}
}

// ---- restart requests (restart-connector-<name> records) ----

func (h *Herder) restarts(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case rr := <-h.configs.restarts:
			if rr.Offset >= h.restartsFrom {
				h.restartLocal(ctx, rr)
			}
		}
	}
}

// restartLocal restarts the instances of a connector running here as a
// restart request asks.
func (h *Herder) restartLocal(ctx context.Context, rr restartRequest) {
	h.opMu.Lock()
	defer h.opMu.Unlock()
	if st, ok := h.conns[rr.Connector]; ok && (!rr.OnlyFailed || st.state == stateFailed) {
		delete(h.conns, rr.Connector) // the next reconcile starts it again
		h.statuses.put(connectorStatusKey(rr.Connector), "RESTARTING", "", h.generation.Load())
		h.log.Info("connector restarting", "connector", rr.Connector)
	}
	if rr.IncludeTasks {
		for _, k := range h.host.Tasks() {
			if k.Connector != rr.Connector {
				continue
			}
			if st, ok := h.host.Status(k); ok && rr.OnlyFailed && st.State != runtime.Failed {
				continue
			}
			h.restartTaskLocked(ctx, k)
		}
	}
	h.poke()
}

// restartTaskLocked stops a task and starts it again (claiming it anew).
func (h *Herder) restartTaskLocked(ctx context.Context, k runtime.TaskKey) bool {
	cfg, ok := h.host.Config(k)
	if !ok {
		return false
	}
	h.stopWorkLocked(work{Tasks: []taskID{{k.Connector, k.Task}}}, false)
	snap := h.configs.snapshot()
	h.startTaskLocked(ctx, k, cfg, snap.Target(k.Connector) == configstore.TargetPaused)
	h.log.Info("task restarted", "connector", k.Connector, "task", k.Task)
	return true
}

// ---- statuses ----

// statusObserver sends task state changes to the status topic.
type statusObserver struct {
	runtime.Observer
	h *Herder
}

func (o statusObserver) TaskState(conn string, task int, state runtime.State) {
	o.Observer.TaskState(conn, task, state)
	trace := ""
	if state == runtime.Failed {
		if st, ok := o.h.host.Status(runtime.TaskKey{Connector: conn, Task: task}); ok {
			trace = st.Trace
		}
	}
	o.h.statuses.put(taskStatusKey(conn, task), string(state), trace, o.h.generation.Load())
}

// LocalStatus returns the connector instances and tasks running on this
// worker with their states, by connector (for metrics). A connector whose
// instance runs elsewhere but has tasks here is listed with state "".
func (h *Herder) LocalStatus() map[string]LocalConnector {
	out := map[string]LocalConnector{}
	h.opMu.Lock()
	for name, st := range h.conns {
		out[name] = LocalConnector{State: st.state}
	}
	h.opMu.Unlock()
	for _, k := range h.host.Tasks() {
		st, ok := h.host.Status(k)
		if !ok {
			continue
		}
		lc := out[k.Connector]
		if lc.Tasks == nil {
			lc.Tasks = map[int]string{}
		}
		lc.Tasks[k.Task] = string(st.State)
		out[k.Connector] = lc
	}
	return out
}

// LocalConnector is a connector's instance state (empty when it runs
// elsewhere) and the states of its tasks on this worker.
type LocalConnector struct {
	State string
	Tasks map[int]string
}
