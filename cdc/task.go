package cdc

import (
	"log/slog"

	"github.com/tributary-cdc/tributary/connector"
)

// TaskLogger is the logger a CDC task logs through: the runtime's
// (slog.Default when it gives none) with the connector name, task id and
// server (topic.prefix) attached.
func TaskLogger(tc connector.TaskContext, server string) *slog.Logger {
	log := tc.Logger
	if log == nil {
		log = slog.Default()
	}
	return log.With("connector", tc.Connector, "task", tc.TaskID, "server", server)
}

// TaskMetrics is the runtime's metrics, or a no-op when it gives none.
func TaskMetrics(tc connector.TaskContext) connector.Metrics {
	if tc.Metrics == nil {
		return connector.NopMetrics{}
	}
	return tc.Metrics
}
