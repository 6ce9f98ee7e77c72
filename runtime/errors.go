package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-cdc/tributary/schema"
)

// Errors callers (the REST API) branch on.
var (
	ErrNotFound     = errors.New("connector not found")
	ErrExists       = errors.New("connector already exists")
	ErrTaskNotFound = errors.New("task not found")
	ErrNotStopped   = errors.New("connector is not in the STOPPED state")
	ErrWorkerClosed = errors.New("worker is closed")
)

// Stage says where a record failed, as Connect's error context names it
// (the __connect.errors.stage header).
type Stage string

// Stages.
const (
	StageKeyConverter   Stage = "KEY_CONVERTER"
	StageValueConverter Stage = "VALUE_CONVERTER"
	StageHeaderConvert  Stage = "HEADER_CONVERTER"
	StageTransformation Stage = "TRANSFORMATION"
	StageTaskPut        Stage = "TASK_PUT"
	StageTaskPoll       Stage = "TASK_POLL"
	StageKafkaProduce   Stage = "KAFKA_PRODUCE"
	StageKafkaConsume   Stage = "KAFKA_CONSUME"
)

// ErrantRecord is a record that failed in one stage.
type ErrantRecord struct {
	Connector string
	Task      int
	Stage     Stage
	// Class is the converter/transform/connector class involved, if known.
	Class string
	// Raw is the consumed Kafka record with its original bytes (sink side);
	// nil on the source side.
	Raw *kgo.Record
	// Record is the Connect record when the failure came after conversion
	// (source side: the polled record).
	Record *schema.Record
	Err    error
}

// ErrorReporter decides what happens to an errant record (Connect's
// RetryWithToleranceOperator + ErrantRecordReporter): it returns nil to
// skip the record and go on (errors.tolerance=all, possibly after writing
// it to a dead letter queue), or an error to fail the task.
type ErrorReporter interface {
	Report(ctx context.Context, rec ErrantRecord) error
	Close() error
}

// ErrorReporterFactory builds the reporter for one task of a connector. The
// worker calls it once per task start; the reporter is closed when the task
// stops.
type ErrorReporterFactory func(ctx context.Context, w *Worker, connector string, task int, cfg map[string]string) (ErrorReporter, error)

// toleranceReporter is the default: errors.tolerance=none fails the task,
// all skips the record, logging it when errors.log.enable is true.
type toleranceReporter struct {
	all, log, logMessages bool
	logger                *slog.Logger
}

// DefaultErrorReporter applies errors.tolerance, errors.log.enable and
// errors.log.include.messages (no dead letter queue).
func DefaultErrorReporter(cfg map[string]string, logger *slog.Logger) ErrorReporter {
	return &toleranceReporter{
		all:         cfg[KeyErrorsTolerance] == "all",
		log:         cfg[KeyErrorsLogEnable] == "true",
		logMessages: cfg[KeyErrorsLogMessages] == "true",
		logger:      logger,
	}
}

func (r *toleranceReporter) Report(_ context.Context, rec ErrantRecord) error {
	if !r.all {
		return fmt.Errorf("Tolerance exceeded in error handler: %s stage: %w", rec.Stage, rec.Err)
	}
	if r.log {
		attrs := []any{"stage", rec.Stage, "class", rec.Class, "err", rec.Err}
		if rec.Raw != nil {
			attrs = append(attrs, "topic", rec.Raw.Topic, "partition", rec.Raw.Partition, "offset", rec.Raw.Offset)
			if r.logMessages {
				attrs = append(attrs, "key", string(rec.Raw.Key), "value", string(rec.Raw.Value))
			}
		}
		r.logger.Error("error encountered in task; skipping the record (errors.tolerance=all)", attrs...)
	}
	return nil
}

func (r *toleranceReporter) Close() error { return nil }
