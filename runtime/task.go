package runtime

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/tributary-cdc/tributary/connector"
)

// taskRunner owns one task's goroutine and its state.
type taskRunner struct {
	w      *Worker
	conn   string
	id     int
	plugin connector.Plugin
	cfg    map[string]string
	log    *slog.Logger

	mu      sync.Mutex
	state   State
	trace   string
	cancel  context.CancelFunc
	done    chan struct{}
	paused  bool
	pauseCh chan struct{} // closed and replaced when paused changes
	// runSeq numbers the task's runs (start); stop bumps it when it gives
	// up waiting for a run (abandons it). A run reports its end only while
	// it is the current one (Connect's WorkerTask.cancel): a new run of the
	// same task may have reported RUNNING since, and the abandoned run's
	// late UNASSIGNED or FAILED must not overwrite it.
	runSeq int
}

func (w *Worker) newTask(conn string, p connector.Plugin, id int, cfg map[string]string) *taskRunner {
	return &taskRunner{
		w: w, conn: conn, id: id, plugin: p, cfg: cfg,
		log:     w.log.With("connector", conn, "task", id),
		state:   Unassigned,
		pauseCh: make(chan struct{}),
	}
}

func (t *taskRunner) status() StateInfo {
	t.mu.Lock()
	defer t.mu.Unlock()
	return StateInfo{State: t.state, WorkerID: t.w.id, Trace: t.trace}
}

func (t *taskRunner) setState(s State, trace string) {
	t.mu.Lock()
	t.state, t.trace = s, trace
	t.mu.Unlock()
	t.w.opts.Observer.TaskState(t.conn, t.id, s)
}

// endRun records how run seq ended: FAILED with the error's trace, else
// UNASSIGNED (unless it failed before). A run abandoned meanwhile reports
// nothing.
func (t *taskRunner) endRun(seq int, err error) {
	t.mu.Lock()
	if seq != t.runSeq {
		t.mu.Unlock()
		t.log.Info("abandoned task run ended; its state is not reported", "err", err)
		return
	}
	s, tr := Unassigned, ""
	switch {
	case err != nil:
		s, tr = Failed, trace(err)
	case t.state == Failed:
		t.mu.Unlock()
		return
	}
	t.state, t.trace = s, tr
	t.mu.Unlock()
	t.w.opts.Observer.TaskState(t.conn, t.id, s)
}

// pauseState returns whether the task is paused and a channel closed at the
// next change.
func (t *taskRunner) pauseState() (bool, <-chan struct{}) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.paused, t.pauseCh
}

func (t *taskRunner) setPaused(p bool) {
	t.mu.Lock()
	if t.paused != p {
		t.paused = p
		close(t.pauseCh)
		t.pauseCh = make(chan struct{})
	}
	changed := false
	switch {
	case p && t.state == Running:
		t.state, changed = Paused, true
	case !p && t.state == Paused:
		t.state, changed = Running, true
	}
	s := t.state
	t.mu.Unlock()
	if changed {
		t.w.opts.Observer.TaskState(t.conn, t.id, s)
	}
}

func (t *taskRunner) start() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.mu.Lock()
	t.cancel, t.done = cancel, done
	t.runSeq++
	seq := t.runSeq
	st := Running
	if t.paused {
		st = Paused
	}
	t.mu.Unlock()
	t.setState(st, "")
	go func() {
		defer close(done)
		err := t.run(ctx)
		if err != nil {
			t.log.Error("task failed", "err", err)
		}
		t.endRun(seq, err)
	}()
}

// run executes the task's loop; a panic becomes a task failure.
func (t *taskRunner) run(ctx context.Context) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("task panicked: %v\n%s", r, debug.Stack())
		}
	}()
	rcfg, err := t.w.resolveConfig(ctx, t.cfg) // config providers (worker_providers.go)
	if err != nil {
		return err
	}
	t.cfg = rcfg
	switch p := t.plugin.(type) {
	case connector.SourcePlugin:
		return t.runSource(ctx, p)
	case connector.SinkPlugin:
		return t.runSink(ctx, p)
	}
	return fmt.Errorf("connector class %s is neither a source nor a sink plugin", t.plugin.Class())
}

// stop cancels the task and waits up to timeout for it to finish its
// shutdown (final offset commit, Stop).
func (t *taskRunner) stop(timeout time.Duration) {
	t.mu.Lock()
	cancel, done := t.cancel, t.done
	t.mu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	// The task gets the graceful timeout plus the offset flush timeout,
	// as its last commit runs after it stopped polling.
	timer := time.NewTimer(timeout + t.w.cfg.OffsetFlushTimeout)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		t.mu.Lock()
		t.runSeq++ // abandoned: its end is not reported
		t.mu.Unlock()
		t.log.Warn("task did not stop in time; abandoning it", "timeout", timeout)
	}
}

func (t *taskRunner) restart(timeout time.Duration) {
	t.setState(Restarting, "")
	t.stop(timeout)
	t.start()
}

// failure keeps the first fatal error reported from any goroutine of a task
// and cancels the task's work.
type failure struct {
	mu     sync.Mutex
	err    error
	cancel context.CancelFunc
}

func (f *failure) set(err error) {
	f.mu.Lock()
	if f.err == nil {
		f.err = err
	}
	f.mu.Unlock()
	f.cancel()
}

func (f *failure) get() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// storeReader gives a source task its committed offsets.
type storeReader struct {
	w    *Worker
	conn string
}

func (r storeReader) Offset(ctx context.Context, partition map[string]any) (map[string]any, error) {
	return r.w.store.Get(ctx, r.conn, partition)
}

// buildParts builds the converters, transform chain and error reporter of a
// task.
func (t *taskRunner) buildParts(ctx context.Context) (parts taskParts, err error) {
	kc, kp := converterProps(t.w.cfg.Raw, t.cfg, KeyKeyConverter, true)
	if parts.key, err = t.w.opts.Converters(kc, kp, true); err != nil {
		return parts, fmt.Errorf("key.converter: %w", err)
	}
	parts.keyClass = kc
	vc, vp := converterProps(t.w.cfg.Raw, t.cfg, KeyValueConverter, false)
	if parts.value, err = t.w.opts.Converters(vc, vp, false); err != nil {
		return parts, fmt.Errorf("value.converter: %w", err)
	}
	parts.valueClass = vc
	if parts.xf, err = t.w.opts.Transforms(t.cfg); err != nil {
		return parts, fmt.Errorf("transforms: %w", err)
	}
	if t.w.opts.Errors != nil {
		if parts.errs, err = t.w.opts.Errors(ctx, t.w, t.conn, t.id, t.cfg); err != nil {
			return parts, fmt.Errorf("error reporter: %w", err)
		}
	} else {
		parts.errs = DefaultErrorReporter(t.cfg, t.log)
	}
	return parts, nil
}

func (t *taskRunner) taskContext() connector.TaskContext {
	return connector.TaskContext{
		Connector: t.conn,
		TaskID:    t.id,
		Logger:    t.log,
		Offsets:   storeReader{t.w, t.conn},
		Metrics:   t.w.opts.Observer.TaskMetrics(t.conn, t.id),
	}
}

// report hands an errant record to the reporter: nil means skip it.
func (t *taskRunner) report(ctx context.Context, parts *taskParts, rec ErrantRecord) error {
	rec.Connector, rec.Task = t.conn, t.id
	t.w.opts.Observer.RecordError(t.conn, t.id, rec.Stage)
	return parts.errs.Report(ctx, rec)
}
