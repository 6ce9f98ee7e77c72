// Package dlq is Kafka Connect's error handling (KIP-298, KIP-610) for
// Tributary's tasks: the errors.* connector keys, retries with jittered
// backoff, error logging, the dead letter queue, and the trace text a failed
// task shows in its status.
//
// A Handler belongs to one task. The worker (runtime.DLQErrorReporters)
// reports every record that fails at a stage — KEY_CONVERTER,
// VALUE_CONVERTER, HEADER_CONVERTER, TRANSFORMATION, KAFKA_PRODUCE, or
// TASK_PUT through the sink task's TaskContext.Report — with Report, after
// retrying retriable conversion failures with Retry. Execute combines both
// for callers that run the operation themselves:
//
//	ok, err := h.Execute(ctx, dlq.StageValueConverter, valueConverterClass, raw, func(ctx context.Context) error {
//		s, v, err = conv.ToConnect(raw.Topic, hdrs, raw.Value)
//		return err
//	})
//	if err != nil { /* fail the task: errors.tolerance=none; do not commit past raw */ }
//	if !ok { /* tolerated: skip raw, its offset may be committed */ }
//
// With errors.tolerance=all a failed record is logged (errors.log.enable),
// written with its original key, value and headers to the dead letter queue
// (sink connectors with errors.deadletterqueue.topic.name, plus the
// __connect.errors.* context headers when enabled) and skipped; the DLQ write
// is acknowledged by Kafka before Execute/Report return, so committing the
// record's offset afterwards loses nothing. With errors.tolerance=none
// (the default) the failure is reported the same way, then the call returns a
// *ToleranceExceededError: the task must fail and must not commit the
// record's offset.
//
// Retriable errors (errors.Is(err, connector.ErrRetriable)) are retried inside
// Execute for up to errors.retry.timeout (0: no retries, -1: forever) with
// exponential backoff from 300 ms capped at errors.retry.delay.max.ms, with
// jitter. A sink's Put/Flush failing with a retriable error (a database
// outage) is not a record failure: RetryPut retries the same batch until it
// succeeds, fails otherwise, or the context ends — nothing is dead-lettered.
//
// A Handler is safe for concurrent use.
package dlq
