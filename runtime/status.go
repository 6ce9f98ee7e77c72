package runtime

import "github.com/tributary-cdc/tributary/connector"

// State is a connector or task state, spelled as Kafka Connect's REST API
// spells it.
type State string

// Connector and task states.
const (
	Running    State = "RUNNING"
	Paused     State = "PAUSED"
	Stopped    State = "STOPPED"
	Failed     State = "FAILED"
	Unassigned State = "UNASSIGNED"
	Restarting State = "RESTARTING"
)

// StateInfo is the state of a connector or task on a worker. Trace holds
// the failure (error chain) when State is FAILED.
type StateInfo struct {
	State    State  `json:"state"`
	WorkerID string `json:"worker_id"`
	Trace    string `json:"trace,omitempty"`
}

// TaskStatus is one task's state (GET /connectors/{name}/status "tasks").
type TaskStatus struct {
	ID int `json:"id"`
	StateInfo
}

// ConnectorStatus is the body of GET /connectors/{name}/status.
type ConnectorStatus struct {
	Name      string         `json:"name"`
	Connector StateInfo      `json:"connector"`
	Tasks     []TaskStatus   `json:"tasks"`
	Type      connector.Type `json:"type"`
}

// TaskID names a task (GET /connectors/{name} "tasks").
type TaskID struct {
	Connector string `json:"connector"`
	Task      int    `json:"task"`
}

// ConnectorInfo is the body of GET /connectors/{name}.
type ConnectorInfo struct {
	Name   string            `json:"name"`
	Config map[string]string `json:"config"`
	Tasks  []TaskID          `json:"tasks"`
	Type   connector.Type    `json:"type"`
}

// TaskInfo is one element of GET /connectors/{name}/tasks.
type TaskInfo struct {
	ID     TaskID            `json:"id"`
	Config map[string]string `json:"config"`
}

// OffsetEntry is one element of GET /connectors/{name}/offsets (KIP-875).
// For source connectors Partition/Offset are the connector's own maps; for
// sink connectors Partition is {"kafka_topic","kafka_partition"} and Offset
// is {"kafka_offset"}.
type OffsetEntry struct {
	Partition map[string]any `json:"partition"`
	Offset    map[string]any `json:"offset"`
}
