package metrics

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tributary-cdc/tributary/connector"
)

// Registry holds one worker's metrics.
type Registry struct {
	reg *prometheus.Registry

	sourcePoll  *prometheus.CounterVec
	sourceWrite *prometheus.CounterVec
	sinkRead    *prometheus.CounterVec
	sinkSend    *prometheus.CounterVec
	failures    *prometheus.CounterVec
	skipped     *prometheus.CounterVec
	retries     *prometheus.CounterVec
	logged      *prometheus.CounterVec
	dlq         *prometheus.CounterVec
	dlqFailures *prometheus.CounterVec
	batch       *prometheus.HistogramVec
	sourceLag   *prometheus.GaugeVec
	sinkLag     *prometheus.GaugeVec
	snapDone    *prometheus.GaugeVec
	snapTotal   *prometheus.GaugeVec
	commits     *prometheus.CounterVec

	mu       sync.Mutex
	status   func() []ConnectorStatus
	onScrape []func(context.Context)
}

// ConnectorStatus is what the status collector needs from the worker.
type ConnectorStatus struct {
	Name  string
	State string // RUNNING, PAUSED, STOPPED, FAILED, UNASSIGNED, RESTARTING
	Tasks []TaskStatus
}

// TaskStatus is one task's state.
type TaskStatus struct {
	ID    int
	State string
}

var taskLabels = []string{"connector", "task"}

// New returns a registry with every Tributary metric plus the Go runtime and
// process collectors registered.
func New() *Registry {
	r := &Registry{reg: prometheus.NewRegistry()}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		if labels == nil {
			labels = taskLabels
		}
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
		r.reg.MustRegister(c)
		return c
	}
	gauge := func(name, help string, labels ...string) *prometheus.GaugeVec {
		g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
		r.reg.MustRegister(g)
		return g
	}
	r.sourcePoll = counter("kafka_connect_source_task_source_record_poll_total", "Records produced by the source task's poll, before transformations.")
	r.sourceWrite = counter("kafka_connect_source_task_source_record_write_total", "Records written to Kafka by the source task (after transformations, acknowledged).")
	r.sinkRead = counter("kafka_connect_sink_task_sink_record_read_total", "Records read from Kafka by the sink task.")
	r.sinkSend = counter("kafka_connect_sink_task_sink_record_send_total", "Records handed to and committed by the sink task (after transformations).")
	r.failures = counter("kafka_connect_task_error_total_record_failures", "Record processing failures, by stage.", "connector", "task", "stage")
	r.skipped = counter("kafka_connect_task_error_total_records_skipped", "Records skipped because of errors (errors.tolerance=all).")
	r.retries = counter("kafka_connect_task_error_total_retries", "Retries of failed operations.")
	r.logged = counter("kafka_connect_task_error_total_errors_logged", "Errors written to the log (errors.log.enable).")
	r.dlq = counter("kafka_connect_task_error_deadletterqueue_produce_requests", "Records written to the dead letter queue.")
	r.dlqFailures = counter("kafka_connect_task_error_deadletterqueue_produce_failures", "Failed writes to the dead letter queue.")
	r.batch = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "kafka_connect_connector_task_batch_size",
		Help:    "Records per batch polled (source) or put (sink).",
		Buckets: prometheus.ExponentialBuckets(1, 4, 9), // 1 … 65536
	}, taskLabels)
	r.reg.MustRegister(r.batch)
	r.sourceLag = gauge("kafka_connect_source_task_source_lag_ms", "Milliseconds between the source commit time of the last record and when the task read it.", taskLabels...)
	r.sinkLag = gauge("kafka_connect_sink_task_consumer_lag", "Records between the sink task's committed position and the partition's end offset.", "connector", "task", "topic", "partition")
	r.snapDone = gauge("kafka_connect_snapshot_rows_scanned", "Rows read so far by the initial snapshot of a table.", "connector", "task", "table")
	r.snapTotal = gauge("kafka_connect_snapshot_rows_estimated", "Estimated rows of a table being snapshotted.", "connector", "task", "table")
	r.commits = counter("kafka_connect_connector_task_offset_commit_total", "Offset commits (source: offset store writes; sink: flush plus consumer commit), by result (success, failure).", "connector", "task", "result")
	r.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	r.reg.MustRegister(statusCollector{r})
	return r
}

// Prometheus returns the underlying registry (to register more collectors,
// for example kgo client hooks).
func (r *Registry) Prometheus() *prometheus.Registry { return r.reg }

// Handler serves the registry in the Prometheus text format. Functions
// registered with OnScrape run first (bounded by 5 s).
func (r *Registry) Handler() http.Handler {
	h := promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{Registry: r.reg})
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		fns := append([]func(context.Context){}, r.onScrape...)
		r.mu.Unlock()
		if len(fns) > 0 {
			ctx, cancel := context.WithTimeout(req.Context(), 5*time.Second)
			for _, fn := range fns {
				fn(ctx)
			}
			cancel()
		}
		h.ServeHTTP(w, req)
	})
}

// OnScrape registers fn to refresh gauges that are read from elsewhere
// (e.g. sink consumer lag from Kafka) before each scrape.
func (r *Registry) OnScrape(fn func(context.Context)) {
	r.mu.Lock()
	r.onScrape = append(r.onScrape, fn)
	r.mu.Unlock()
}

// SetStatusSource makes the registry report connector and task states
// (kafka_connect_connector_status, kafka_connect_connector_task_status,
// kafka_connect_worker_connector_count, kafka_connect_worker_task_count) from
// fn, called on every scrape.
func (r *Registry) SetStatusSource(fn func() []ConnectorStatus) {
	r.mu.Lock()
	r.status = fn
	r.mu.Unlock()
}

// Forget removes every series of a deleted connector.
func (r *Registry) Forget(connectorName string) {
	l := prometheus.Labels{"connector": connectorName}
	for _, v := range []*prometheus.CounterVec{r.sourcePoll, r.sourceWrite, r.sinkRead, r.sinkSend, r.failures, r.skipped, r.retries, r.logged, r.dlq, r.dlqFailures, r.commits} {
		v.DeletePartialMatch(l)
	}
	for _, v := range []*prometheus.GaugeVec{r.sourceLag, r.sinkLag, r.snapDone, r.snapTotal} {
		v.DeletePartialMatch(l)
	}
	r.batch.DeletePartialMatch(l)
}

// Task returns the metrics handle of one task. Series appear on first use,
// so a source task shows no sink series and vice versa.
func (r *Registry) Task(connectorName string, task int) *Task {
	return &Task{r: r, connector: connectorName, task: strconv.Itoa(task)}
}

// Task is one task's metrics. All methods are safe on a nil *Task.
type Task struct {
	r         *Registry
	connector string
	task      string
}

var _ connector.Metrics = (*Task)(nil)

func (t *Task) add(v *prometheus.CounterVec, n int) {
	if t != nil && n > 0 {
		v.WithLabelValues(t.connector, t.task).Add(float64(n))
	}
}

// SourcePolled counts records returned by a source task's Poll and observes
// the batch size.
func (t *Task) SourcePolled(n int) {
	if t == nil || n <= 0 {
		return
	}
	t.add(t.r.sourcePoll, n)
	t.r.batch.WithLabelValues(t.connector, t.task).Observe(float64(n))
}

// SourceWritten counts source records Kafka acknowledged.
func (t *Task) SourceWritten(n int) {
	if t != nil {
		t.add(t.r.sourceWrite, n)
	}
}

// SinkRead counts records a sink task consumed from Kafka.
func (t *Task) SinkRead(n int) {
	if t != nil {
		t.add(t.r.sinkRead, n)
	}
}

// SinkPut observes the size of a batch handed to a sink task's Put.
func (t *Task) SinkPut(n int) {
	if t == nil || n <= 0 {
		return
	}
	t.r.batch.WithLabelValues(t.connector, t.task).Observe(float64(n))
}

// SinkWritten counts records handed to a sink task's Put that it accepted.
func (t *Task) SinkWritten(n int) {
	if t != nil {
		t.add(t.r.sinkSend, n)
	}
}

// Failed counts one failed record operation at stage (KEY_CONVERTER,
// VALUE_CONVERTER, TRANSFORMATION, TASK_PUT, …).
func (t *Task) Failed(stage string) {
	if t == nil {
		return
	}
	t.r.failures.WithLabelValues(t.connector, t.task, stage).Inc()
}

// Skipped counts a record dropped under errors.tolerance=all.
func (t *Task) Skipped() {
	if t != nil {
		t.add(t.r.skipped, 1)
	}
}

// Retried counts one retry of a failed operation.
func (t *Task) Retried() {
	if t != nil {
		t.add(t.r.retries, 1)
	}
}

// Logged counts one error written to the log.
func (t *Task) Logged() {
	if t != nil {
		t.add(t.r.logged, 1)
	}
}

// DeadLettered counts one record written to the dead letter queue.
func (t *Task) DeadLettered() {
	if t != nil {
		t.add(t.r.dlq, 1)
	}
}

// DeadLetterFailed counts one failed dead letter queue write.
func (t *Task) DeadLetterFailed() {
	if t != nil {
		t.add(t.r.dlqFailures, 1)
	}
}

// SourceLagMillis implements connector.Metrics.
func (t *Task) SourceLagMillis(ms int64) {
	if t != nil {
		t.r.sourceLag.WithLabelValues(t.connector, t.task).Set(float64(ms))
	}
}

// SnapshotProgress implements connector.Metrics.
func (t *Task) SnapshotProgress(table string, done, total int64) {
	if t == nil {
		return
	}
	t.r.snapDone.WithLabelValues(t.connector, t.task, table).Set(float64(done))
	t.r.snapTotal.WithLabelValues(t.connector, t.task, table).Set(float64(total))
}

// OffsetCommitted counts one offset commit and its outcome.
func (t *Task) OffsetCommitted(err error) {
	if t == nil {
		return
	}
	result := "success"
	if err != nil {
		result = "failure"
	}
	t.r.commits.WithLabelValues(t.connector, t.task, result).Inc()
}

// SinkLag sets the consumer lag (end offset minus committed position) of one
// partition a sink task reads.
func (t *Task) SinkLag(topic string, partition int32, lag int64) {
	if t == nil {
		return
	}
	t.r.sinkLag.WithLabelValues(t.connector, t.task, topic, strconv.Itoa(int(partition))).Set(float64(lag))
}

// statusCollector turns the worker's statuses into Strimzi-style state
// series (value 1, state as a lower-case label).
type statusCollector struct{ r *Registry }

var (
	connStatusDesc = prometheus.NewDesc("kafka_connect_connector_status", "Connector state (1 for the current state).", []string{"connector", "status"}, nil)
	taskStatusDesc = prometheus.NewDesc("kafka_connect_connector_task_status", "Task state (1 for the current state).", []string{"connector", "task", "status"}, nil)
	connCountDesc  = prometheus.NewDesc("kafka_connect_worker_connector_count", "Connectors on this worker.", nil, nil)
	taskCountDesc  = prometheus.NewDesc("kafka_connect_worker_task_count", "Tasks on this worker.", nil, nil)
)

func (c statusCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- connStatusDesc
	ch <- taskStatusDesc
	ch <- connCountDesc
	ch <- taskCountDesc
}

func (c statusCollector) Collect(ch chan<- prometheus.Metric) {
	c.r.mu.Lock()
	fn := c.r.status
	c.r.mu.Unlock()
	if fn == nil {
		return
	}
	statuses := fn()
	tasks := 0
	for _, s := range statuses {
		ch <- prometheus.MustNewConstMetric(connStatusDesc, prometheus.GaugeValue, 1, s.Name, strings.ToLower(s.State))
		for _, t := range s.Tasks {
			tasks++
			ch <- prometheus.MustNewConstMetric(taskStatusDesc, prometheus.GaugeValue, 1, s.Name, strconv.Itoa(t.ID), strings.ToLower(t.State))
		}
	}
	ch <- prometheus.MustNewConstMetric(connCountDesc, prometheus.GaugeValue, float64(len(statuses)))
	ch <- prometheus.MustNewConstMetric(taskCountDesc, prometheus.GaugeValue, float64(tasks))
}
