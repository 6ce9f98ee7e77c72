package rest

// Connector and task states, as Connect spells them.
const (
	StateRunning    = "RUNNING"
	StatePaused     = "PAUSED"
	StateStopped    = "STOPPED"
	StateFailed     = "FAILED"
	StateUnassigned = "UNASSIGNED"
	StateRestarting = "RESTARTING"
)

// ServerInfo is GET /.
type ServerInfo struct {
	Version        string `json:"version"`
	Commit         string `json:"commit"`
	KafkaClusterID string `json:"kafka_cluster_id"`
}

// TaskID names a task.
type TaskID struct {
	Connector string `json:"connector"`
	Task      int    `json:"task"`
}

// ConnectorInfo is GET /connectors/{name} (and the body of create/update
// responses).
type ConnectorInfo struct {
	Name   string            `json:"name"`
	Config map[string]string `json:"config"`
	Tasks  []TaskID          `json:"tasks"`
	Type   string            `json:"type"`
}

// TaskInfo is one element of GET /connectors/{name}/tasks.
type TaskInfo struct {
	ID     TaskID            `json:"id"`
	Config map[string]string `json:"config"`
}

// StateInfo is a connector's or task's state; Trace is set for FAILED.
type StateInfo struct {
	State    string `json:"state"`
	Trace    string `json:"trace,omitempty"`
	WorkerID string `json:"worker_id"`
	// Version is the connector plugin's version (KIP-891), filled in by
	// the API from the plugin registry.
	Version string `json:"version,omitempty"`
}

// TaskState is a task's state in a ConnectorStatus.
type TaskState struct {
	ID       int    `json:"id"`
	State    string `json:"state"`
	Trace    string `json:"trace,omitempty"`
	WorkerID string `json:"worker_id"`
	Version  string `json:"version,omitempty"` // as StateInfo's
}

// ConnectorStatus is GET /connectors/{name}/status.
type ConnectorStatus struct {
	Name      string      `json:"name"`
	Connector StateInfo   `json:"connector"`
	Tasks     []TaskState `json:"tasks"`
	Type      string      `json:"type"`
}

// Offset is one partition with its offset (KIP-875). Source connectors use
// their own maps; sink connectors {"kafka_topic","kafka_partition"} and
// {"kafka_offset"}. A nil Offset in PATCH removes the partition's offset.
type Offset struct {
	Partition map[string]any `json:"partition"`
	Offset    map[string]any `json:"offset"`
}

// Offsets is the body of GET and PATCH /connectors/{name}/offsets.
type Offsets struct {
	Offsets []Offset `json:"offsets"`
}

// Message is a body carrying only a message (offsets API).
type Message struct {
	Message string `json:"message"`
}

// PluginInfo is one element of GET /connector-plugins.
type PluginInfo struct {
	Class   string `json:"class"`
	Type    string `json:"type"`
	Version string `json:"version,omitempty"`
}

// ErrorMessage is Connect's error body.
type ErrorMessage struct {
	ErrorCode int    `json:"error_code"`
	Message   string `json:"message"`
}

// CreateRequest is the body of POST /connectors.
type CreateRequest struct {
	Name         string            `json:"name"`
	Config       map[string]string `json:"config"`
	InitialState string            `json:"initial_state,omitempty"`
}
