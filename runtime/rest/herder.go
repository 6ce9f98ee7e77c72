package rest

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/tributary-cdc/tributary/connector/config"
)

// Herder is what the REST API needs from the worker. Errors wrap the
// sentinels below (errors.Is) so the API answers with Connect's codes; a
// config.Errors is a 400 listing every bad key.
type Herder interface {
	// Connectors returns the connector names.
	Connectors(ctx context.Context) ([]string, error)
	// ConnectorConfig returns the stored config (provider references
	// unresolved, secrets in clear: the API redacts them).
	ConnectorConfig(ctx context.Context, name string) (map[string]string, error)
	// TaskConfigs returns the connector's current task configs.
	TaskConfigs(ctx context.Context, name string) ([]map[string]string, error)
	// ConnectorStatus returns the connector's and its tasks' states.
	ConnectorStatus(ctx context.Context, name string) (ConnectorStatus, error)
	// PutConnectorConfig creates the connector, or with allowReplace
	// replaces its config. A new connector starts in target state
	// initial (RUNNING, PAUSED or STOPPED). It returns ErrExists when the
	// connector exists and allowReplace is false.
	PutConnectorConfig(ctx context.Context, name string, cfg map[string]string, initial string, allowReplace bool) (created bool, err error)
	DeleteConnector(ctx context.Context, name string) error
	PauseConnector(ctx context.Context, name string) error
	ResumeConnector(ctx context.Context, name string) error
	StopConnector(ctx context.Context, name string) error
	// RestartConnector restarts the connector and, with includeTasks, its
	// tasks; onlyFailed limits both to FAILED instances.
	RestartConnector(ctx context.Context, name string, includeTasks, onlyFailed bool) error
	RestartTask(ctx context.Context, name string, task int) error
	// Offsets returns the committed offsets.
	Offsets(ctx context.Context, name string) ([]Offset, error)
	// AlterOffsets and ResetOffsets change offsets of a STOPPED connector.
	AlterOffsets(ctx context.Context, name string, offsets []Offset) error
	ResetOffsets(ctx context.Context, name string) error
	// ConfigDef returns the full definition (runtime keys and the plugin's)
	// of a connector class or alias; it wraps ErrPluginNotFound when unknown.
	ConfigDef(ctx context.Context, class string) (def *config.Def, connectorType string, err error)
	// Validate checks a connector config and returns every problem
	// (wrapping ErrPluginNotFound when connector.class is unknown).
	Validate(ctx context.Context, cfg map[string]string) (config.Errors, error)
}

// Sentinel errors a Herder wraps.
var (
	ErrNotFound       = errors.New("connector not found")
	ErrExists         = errors.New("connector already exists")
	ErrTaskNotFound   = errors.New("task not found")
	ErrNotStopped     = errors.New("connector is not STOPPED")
	ErrPluginNotFound = errors.New("connector plugin not found")
	ErrConflict       = errors.New("conflicting operation")
)

// Error is an error with an HTTP status, answered as Connect's error body.
type Error struct {
	Code    int
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("%d: %s", e.Code, e.Message) }

func badRequest(format string, args ...any) *Error {
	return &Error{Code: http.StatusBadRequest, Message: fmt.Sprintf(format, args...)}
}
