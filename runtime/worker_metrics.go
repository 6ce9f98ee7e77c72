package runtime

// This file reports the worker's events to runtime/metrics (Prometheus).

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/runtime/metrics"
)

// MetricsObserver is an Observer that records into a metrics.Registry. It is
// safe for concurrent use.
type MetricsObserver struct {
	reg *metrics.Registry

	mu    sync.Mutex
	tasks map[taskKey]*metrics.Task
}

type taskKey struct {
	conn string
	task int
}

var _ Observer = (*MetricsObserver)(nil)

// NewMetricsObserver returns an Observer recording into reg.
func NewMetricsObserver(reg *metrics.Registry) *MetricsObserver {
	return &MetricsObserver{reg: reg, tasks: map[taskKey]*metrics.Task{}}
}

// Registry returns the registry the observer records into.
func (o *MetricsObserver) Registry() *metrics.Registry { return o.reg }

// Task returns the metrics handle of one task.
func (o *MetricsObserver) Task(conn string, task int) *metrics.Task {
	k := taskKey{conn, task}
	o.mu.Lock()
	defer o.mu.Unlock()
	t, ok := o.tasks[k]
	if !ok {
		t = o.reg.Task(conn, task)
		o.tasks[k] = t
	}
	return t
}

// Forget drops a deleted connector's series.
func (o *MetricsObserver) Forget(conn string) {
	o.mu.Lock()
	for k := range o.tasks {
		if k.conn == conn {
			delete(o.tasks, k)
		}
	}
	o.mu.Unlock()
	o.reg.Forget(conn)
}

// TaskState implements Observer (states are read from the worker at scrape
// time, see Watch).
func (o *MetricsObserver) TaskState(string, int, State) {}

// SourcePolled implements Observer.
func (o *MetricsObserver) SourcePolled(conn string, task, n int) { o.Task(conn, task).SourcePolled(n) }

// SourceWritten implements Observer.
func (o *MetricsObserver) SourceWritten(conn string, task, n int) {
	o.Task(conn, task).SourceWritten(n)
}

// SinkRead implements Observer.
func (o *MetricsObserver) SinkRead(conn string, task, n int) { o.Task(conn, task).SinkRead(n) }

// SinkPut implements Observer.
func (o *MetricsObserver) SinkPut(conn string, task, n int, _ time.Duration) {
	t := o.Task(conn, task)
	t.SinkPut(n)
	t.SinkWritten(n)
}

// OffsetCommit implements Observer.
func (o *MetricsObserver) OffsetCommit(conn string, task int, _ time.Duration, err error) {
	o.Task(conn, task).OffsetCommitted(err)
}

// RecordError implements Observer.
func (o *MetricsObserver) RecordError(conn string, task int, stage Stage) {
	o.Task(conn, task).Failed(string(stage))
}

// TaskMetrics implements Observer.
func (o *MetricsObserver) TaskMetrics(conn string, task int) connector.Metrics {
	return o.Task(conn, task)
}

// Watch makes the registry report w's connector and task states and, at
// each scrape, the consumer lag of its sink connectors (committed offsets
// of the connector's group against the partitions' end offsets, by task
// from the consumer's client id).
func (o *MetricsObserver) Watch(w *Worker) {
	o.reg.SetStatusSource(func() []metrics.ConnectorStatus {
		var out []metrics.ConnectorStatus
		for _, name := range w.Connectors() {
			st, err := w.ConnectorStatus(name)
			if err != nil {
				continue
			}
			cs := metrics.ConnectorStatus{Name: name, State: string(st.Connector.State)}
			for _, t := range st.Tasks {
				cs.Tasks = append(cs.Tasks, metrics.TaskStatus{ID: t.ID, State: string(t.State)})
			}
			out = append(out, cs)
		}
		return out
	})
	o.reg.OnScrape(func(ctx context.Context) { o.sinkLag(ctx, w) })
}

func (o *MetricsObserver) sinkLag(ctx context.Context, w *Worker) {
	groups := map[string]string{} // group → connector
	for _, name := range w.Connectors() {
		typ, err := w.ConnectorType(name)
		if err != nil || typ != connector.Sink {
			continue
		}
		cfg, err := w.ConnectorConfig(name)
		if err != nil {
			continue
		}
		groups[sinkGroup(name, cfg)] = name
	}
	if len(groups) == 0 {
		return
	}
	cl, err := w.adminClient()
	if err != nil {
		return
	}
	names := make([]string, 0, len(groups))
	for g := range groups {
		names = append(names, g)
	}
	lags, err := kadm.NewClient(cl).Lag(ctx, names...)
	if err != nil {
		w.log.Debug("sink consumer lag", "err", err)
		return
	}
	lags.Each(func(gl kadm.DescribedGroupLag) {
		conn, ok := groups[gl.Group]
		if !ok || gl.Error() != nil {
			return
		}
		for _, l := range gl.Lag.Sorted() {
			task := 0
			if l.Member != nil {
				if i := strings.LastIndexByte(l.Member.ClientID, '-'); i >= 0 {
					if n, err := strconv.Atoi(l.Member.ClientID[i+1:]); err == nil {
						task = n
					}
				}
			}
			o.Task(conn, task).SinkLag(l.Topic, l.Partition, l.Lag)
		}
	})
}
