package runtime

// This file plugs runtime/dlq (errors.*, dead letter queue) into the worker
// as its ErrorReporterFactory.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/runtime/dlq"
	"github.com/tributary-cdc/tributary/runtime/kafka"
	"github.com/tributary-cdc/tributary/runtime/metrics"
	"github.com/tributary-cdc/tributary/schema"
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

// Retrier is implemented by error reporters that retry operations failing
// with retriable errors (errors.retry.timeout).
type Retrier interface {
	Retry(ctx context.Context, op func(context.Context) error) error
}

// Retry implements Retrier with the connector's errors.retry.* settings.
func (r *dlqReporter) Retry(ctx context.Context, op func(context.Context) error) error {
	return r.h.Retry(ctx, op)
}

// retryAfter retries op after it failed with err, per errors.retry.timeout
// when err is retriable and the task's reporter supports retries; it
// returns the last error. The first retry waits a backoff like the others.
func retryAfter(ctx context.Context, rep ErrorReporter, err error, op func() error) error {
	r, ok := rep.(Retrier)
	if !ok || !errors.Is(err, connector.ErrRetriable) {
		return err
	}
	first := true
	return r.Retry(ctx, func(context.Context) error {
		if first {
			first = false
			return err
		}
		return op()
	})
}

// retryToConnect retries a failed ToConnect (sink side).
func retryToConnect(ctx context.Context, rep ErrorReporter, c schema.Converter, topic string, hs []schema.Header, b []byte, err error) (*schema.Schema, any, error) {
	var s *schema.Schema
	var v any
	err = retryAfter(ctx, rep, err, func() (err error) {
		s, v, err = c.ToConnect(topic, hs, b)
		return err
	})
	return s, v, err
}

// retryFromConnect retries a failed FromConnect (source side).
func retryFromConnect(ctx context.Context, rep ErrorReporter, c schema.Converter, topic string, hs []schema.Header, sc *schema.Schema, v any, err error) ([]byte, error) {
	var b []byte
	err = retryAfter(ctx, rep, err, func() (err error) {
		b, err = c.FromConnect(topic, hs, sc, v)
		return err
	})
	return b, err
}

// retryPut runs a sink task's Put, giving it the same batch again while it
// fails with a retriable error (a database outage is retried, never
// dead-lettered): with the connector's errors.retry.delay.max.ms as the
// backoff cap when the reporter is runtime/dlq's, else 100 ms doubling to
// 10 s. It returns nil, the first non-retriable error, or an error once ctx
// ends.
func retryPut(ctx context.Context, rep ErrorReporter, log *slog.Logger, op func(context.Context) error) error {
	if r, ok := rep.(*dlqReporter); ok {
		return r.h.RetryPut(ctx, op)
	}
	b := dlq.Backoff{Min: 100 * time.Millisecond, Max: 10 * time.Second}
	for {
		err := op(ctx)
		if err == nil || !errors.Is(err, connector.ErrRetriable) {
			return err
		}
		d := b.Next()
		log.Warn("put failed; retrying the same batch", "err", err, "backoff", d)
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return fmt.Errorf("%w (last error: %w)", ctx.Err(), err)
		}
	}
}
