package s3

import (
	"context"

	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/connector/config"
)

// Class is the connector class name users put in connector.class.
const Class = "io.confluent.connect.s3.S3SinkConnector"

// Version is reported by the REST API for this plugin.
const Version = "10.6.0-tributary"

// Plugin is the S3 sink connector class (connector.SinkPlugin). It is
// stateless; register one value in the runtime's connector.Registry.
type Plugin struct{}

var _ connector.SinkPlugin = Plugin{}

// Class implements connector.Plugin.
func (Plugin) Class() string { return Class }

// Aliases implements connector.Plugin.
func (Plugin) Aliases() []string { return []string{"S3SinkConnector", "S3Sink"} }

// Type implements connector.Plugin.
func (Plugin) Type() connector.Type { return connector.Sink }

// Version implements connector.Plugin.
func (Plugin) Version() string { return Version }

// Config implements connector.Plugin.
func (Plugin) Config() *config.Def { return Def() }

// Validate implements connector.Plugin: the cross-key rules (topics vs
// topics.regex, time-based partitioner keys, FieldPartitioner fields,
// credentials in pairs, behavior.on.null.values=write with keys).
func (Plugin) Validate(cfg *config.Values) config.Errors { return validate(cfg) }

// TaskConfigs implements connector.Plugin: every task gets the connector
// config; the consumer group shares the partitions.
func (Plugin) TaskConfigs(_ context.Context, cfg map[string]string, maxTasks int) ([]map[string]string, error) {
	return connector.CopiesPerTask(cfg, maxTasks), nil
}

// NewTask implements connector.SinkPlugin.
func (Plugin) NewTask() connector.SinkTask { return &Task{} }

// Validate parses and checks a raw connector config the way Start does,
// returning every problem with its key (config.Errors).
func Validate(raw map[string]string) error {
	_, err := parseSettings(raw)
	return err
}
