package runtime

// This file plugs runtime/dlq (errors.*, dead letter queue) into the worker
// as its ErrorReporterFactory.

import (
	"context"
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-cdc/tributary/runtime/connector"
	"github.com/tributary-cdc/tributary/runtime/dlq"
	"github.com/tributary-cdc/tributary/runtime/kafka"
	"github.com/tributary-cdc/tributary/runtime/metrics"
)

// DLQErrorReporters returns the ErrorReporterFactory that applies a
// connector's errors.* keys with runtime/dlq: errors.tolerance, retries,
// errors.log.*, and for sink connectors the dead letter queue
// (errors.deadletterqueue.*, with Connect's __connect.errors.* headers). A
// DLQ record is acknowledged by Kafka before the failed record counts as
// done. obs may be nil; with it, DLQ writes are counted in its registry.
func DLQErrorReporters(obs *MetricsObserver) ErrorReporterFactory {
	return func(ctx context.Context, w *Worker, conn string, task int, cfg map[string]string) (ErrorReporter, error) {
		c, err := dlq.ParseConfig(cfg)
		if err != nil {
			return nil, err
		}
		var m *metrics.Task
		if obs != nil {
			m = obs.Task(conn, task)
		}
		r := &dlqReporter{}
		opts := dlq.Options{Connector: conn, Task: task, Logger: w.log.With("connector", conn, "task", task), Metrics: m, FailuresCounted: obs != nil}
		p, err := w.opts.Registry.Lookup(strings.TrimSpace(cfg[KeyConnectorClass]))
		if err != nil || p.Type() != connector.Sink {
			c.Topic = "" // the dead letter queue is for sink connectors only, as in Connect
		}
		if c.Topic != "" {
			props := w.ClientProps("producer.")
			for k, v := range cfg {
				if rest, ok := strings.CutPrefix(k, "producer.override."); ok {
					props[rest] = v
				}
			}
			props["client.id"] = fmt.Sprintf("connector-dlq-producer-%s-%d", conn, task)
			popts, err := kafka.ProducerOpts(props)
			if err != nil {
				return nil, fmt.Errorf("dead letter queue producer config: %w", err)
			}
			prod, err := kgo.NewClient(append(popts, w.hookOpts()...)...)
			if err != nil {
				return nil, fmt.Errorf("dead letter queue producer: %w", err)
			}
			r.prod = prod
			opts.Producer = prod
			opts.Admin = prod
		}
		r.h = dlq.New(c, opts)
		return r, nil
	}
}

type dlqReporter struct {
	h    *dlq.Handler
	prod *kgo.Client
}

func (r *dlqReporter) Report(ctx context.Context, rec ErrantRecord) error {
	return r.h.Report(ctx, dlq.Failure{Stage: dlq.Stage(rec.Stage), Class: rec.Class, Consumed: rec.Raw, Source: rec.Record, Err: rec.Err})
}

func (r *dlqReporter) Close() error {
	if r.prod != nil {
		r.prod.Close()
	}
	return nil
}
