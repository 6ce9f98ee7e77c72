package runtime

import (
	"time"

	"github.com/tributary-cdc/tributary/connector"
)

// Observer receives the worker's progress events (metrics). Methods are
// called from task goroutines and must be cheap and safe for concurrent
// use.
type Observer interface {
	// TaskState reports a task's new state.
	TaskState(connector string, task int, state State)
	// SourcePolled reports records returned by one Poll.
	SourcePolled(connector string, task int, n int)
	// SourceWritten reports records acknowledged by Kafka (or filtered).
	SourceWritten(connector string, task int, n int)
	// SinkRead reports records consumed from Kafka.
	SinkRead(connector string, task int, n int)
	// SinkPut reports records handed to the task's Put.
	SinkPut(connector string, task int, n int, took time.Duration)
	// OffsetCommit reports an offset commit (source: store write; sink:
	// Flush plus consumer commit) and its outcome.
	OffsetCommit(connector string, task int, took time.Duration, err error)
	// RecordError reports an errant record (counted whether tolerated or not).
	RecordError(connector string, task int, stage Stage)
	// TaskMetrics returns the connector.Metrics handed to the task.
	TaskMetrics(connector string, task int) connector.Metrics
}

// NopObserver ignores every event.
type NopObserver struct{}

func (NopObserver) TaskState(string, int, State)                   {}
func (NopObserver) SourcePolled(string, int, int)                  {}
func (NopObserver) SourceWritten(string, int, int)                 {}
func (NopObserver) SinkRead(string, int, int)                      {}
func (NopObserver) SinkPut(string, int, int, time.Duration)        {}
func (NopObserver) OffsetCommit(string, int, time.Duration, error) {}
func (NopObserver) RecordError(string, int, Stage)                 {}
func (NopObserver) TaskMetrics(string, int) connector.Metrics      { return connector.NopMetrics{} }
