package runtime

import (
	"errors"
	"strings"

	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/connector/config"
)

// Connector-level keys the runtime owns (Connect's ConnectorConfig,
// SourceConnectorConfig and SinkConnectorConfig).
const (
	KeyName                  = "name"
	KeyConnectorClass        = "connector.class"
	KeyTasksMax              = "tasks.max"
	KeyTransforms            = "transforms"
	KeyPredicates            = "predicates"
	KeyTopics                = "topics"
	KeyTopicsRegex           = "topics.regex"
	KeyErrorsTolerance       = "errors.tolerance"
	KeyErrorsLogEnable       = "errors.log.enable"
	KeyErrorsLogMessages     = "errors.log.include.messages"
	KeyErrorsRetryTimeout    = "errors.retry.timeout"
	KeyErrorsRetryDelayMax   = "errors.retry.delay.max.ms"
	KeyDLQTopic              = "errors.deadletterqueue.topic.name"
	KeyDLQReplication        = "errors.deadletterqueue.topic.replication.factor"
	KeyDLQContextHeaders     = "errors.deadletterqueue.context.headers.enable"
	KeyConsumerGroupOverride = "consumer.override.group.id"
)

// ConnectorDef declares the runtime's connector keys for a connector type.
// Merge it with the plugin's own Config() to validate a connector config
// (see Worker.Validate).
func ConnectorDef(t connector.Type) *config.Def {
	d := config.NewDef().
		Define(config.Key{Name: KeyName, Type: config.String, Default: config.NoDefault, Importance: config.High,
			Group: "Common", Doc: "Globally unique name to use for this connector.", Validator: config.NonEmpty}).
		Define(config.Key{Name: KeyConnectorClass, Type: config.String, Default: config.NoDefault, Importance: config.High,
			Group: "Common", Doc: "Name or alias of the class for this connector."}).
		Define(config.Key{Name: KeyTasksMax, Type: config.Int, Default: 1, Importance: config.High,
			Group: "Common", Doc: "Maximum number of tasks to use for this connector.", Validator: config.AtLeast(1)}).
		Define(config.Key{Name: "tasks.max.enforce", Type: config.Boolean, Default: true, Importance: config.Low,
			Group: "Common", Doc: "Accepted for compatibility."}).
		Define(config.Key{Name: KeyKeyConverter, Type: config.Class, Default: "", Importance: config.Low,
			Group: "Common", Doc: "Converter class for keys; the worker's when empty."}).
		Define(config.Key{Name: KeyValueConverter, Type: config.Class, Default: "", Importance: config.Low,
			Group: "Common", Doc: "Converter class for values; the worker's when empty."}).
		Define(config.Key{Name: KeyHeaderConverter, Type: config.Class, Default: "", Importance: config.Low,
			Group: "Common", Doc: "Header converter class; headers travel as raw bytes."}).
		Define(config.Key{Name: KeyTransforms, Type: config.List, Default: []string{}, Importance: config.Low,
			Group: "Transforms", Doc: "Aliases for the transformations to be applied to records."}).
		Define(config.Key{Name: KeyPredicates, Type: config.List, Default: []string{}, Importance: config.Low,
			Group: "Predicates", Doc: "Aliases for the predicates used by transformations."}).
		Define(config.Key{Name: "config.action.reload", Type: config.String, Default: "restart", Importance: config.Low,
			Group: "Common", Doc: "Accepted for compatibility.", Validator: config.OneOf("none", "restart")}).
		Define(config.Key{Name: KeyErrorsRetryTimeout, Type: config.Long, Default: int64(0), Importance: config.Medium,
			Group: "Error Handling", Doc: "Maximum duration in milliseconds that a failed operation will be reattempted; -1 retries forever."}).
		Define(config.Key{Name: KeyErrorsRetryDelayMax, Type: config.Long, Default: int64(60000), Importance: config.Medium,
			Group: "Error Handling", Doc: "The maximum duration in milliseconds between consecutive retry attempts."}).
		Define(config.Key{Name: KeyErrorsTolerance, Type: config.String, Default: "none", Importance: config.Medium,
			Group: "Error Handling", Doc: "none: an error fails the task; all: problematic records are skipped (or sent to the dead letter queue).",
			Validator: config.OneOf("none", "all")}).
		Define(config.Key{Name: KeyErrorsLogEnable, Type: config.Boolean, Default: false, Importance: config.Medium,
			Group: "Error Handling", Doc: "Log each error and the failed operation."}).
		Define(config.Key{Name: KeyErrorsLogMessages, Type: config.Boolean, Default: false, Importance: config.Medium,
			Group: "Error Handling", Doc: "Include the failed record in the log."}).
		PassThrough("transforms.", "predicates.", "key.converter.", "value.converter.", "header.converter.",
			"producer.override.", "consumer.override.", "admin.override.", "topic.creation.")
	switch t {
	case connector.Sink:
		d.Define(config.Key{Name: KeyTopics, Type: config.List, Default: []string{}, Importance: config.High,
			Group: "Common", Doc: "List of topics to consume, separated by commas."}).
			Define(config.Key{Name: KeyTopicsRegex, Type: config.String, Default: "", Importance: config.High,
				Group: "Common", Doc: "Regular expression giving topics to consume.", Validator: config.ValidRegex}).
			Define(config.Key{Name: KeyDLQTopic, Type: config.String, Default: "", Importance: config.Medium,
				Group: "Error Handling", Doc: "Dead letter queue topic; empty disables it."}).
			Define(config.Key{Name: KeyDLQReplication, Type: config.Int, Default: 3, Importance: config.Medium,
				Group: "Error Handling", Doc: "Replication factor for the dead letter queue topic."}).
			Define(config.Key{Name: KeyDLQContextHeaders, Type: config.Boolean, Default: false, Importance: config.Medium,
				Group: "Error Handling", Doc: "Add error context headers to dead letter queue records."})
	case connector.Source:
		d.Define(config.Key{Name: "topic.creation.groups", Type: config.List, Default: []string{}, Importance: config.Low,
			Group: "Topic Creation", Doc: "Groups of configurations for topics created by source connectors."}).
			Define(config.Key{Name: KeyExactlyOnceSupport, Type: config.String, Default: "requested", Importance: config.Medium,
				Group: "Exactly Once Support", Validator: config.OneOf("requested", "required"),
				Doc: "requested or required. required makes validation refuse the connector unless the worker runs exactly-once source support " +
					"(exactly.once.source.support=enabled, distributed mode) and the connector can give exactly-once delivery with this config."}).
			Define(config.Key{Name: KeyTransactionBoundary, Type: config.String, Default: "poll", Importance: config.Medium,
				Group: "Exactly Once Support", Validator: config.OneOf("poll", "interval", "connector"),
				Doc: "With exactly-once source support: poll commits one producer transaction (records and their offsets) per batch a task returns; " +
					"interval commits every transaction.boundary.interval.ms; connector (connector-defined boundaries) is refused: no connector here defines them."}).
			Define(config.Key{Name: KeyTransactionBoundaryInterval, Type: config.Long, Default: nil, Importance: config.Low,
				Group: "Exactly Once Support", Validator: nonNegativeLong,
				Doc: "With transaction.boundary=interval, how often a task commits its transaction; unset: the worker's offset.flush.interval.ms."}).
			Define(config.Key{Name: "offsets.storage.topic", Type: config.String, Default: "", Importance: config.Low,
				Group: "Exactly Once Support", Doc: "Connect's per-connector offsets topic (KIP-618): not supported; a value is refused (offsets go to the worker's offset store)."})
	}
	return d
}

// FullDef returns the runtime's keys merged with the plugin's.
func FullDef(p connector.Plugin) *config.Def {
	return ConnectorDef(p.Type()).Merge(p.Config())
}

// validateConnector parses cfg against the runtime's and the plugin's keys
// and runs the plugin's cross-key checks. It returns every problem.
func validateConnector(p connector.Plugin, cfg map[string]string) (*config.Values, config.Errors) {
	def := FullDef(p)
	v, err := def.Parse(cfg)
	var errs config.Errors
	if err != nil {
		if ce, ok := err.(config.Errors); ok {
			errs = append(errs, ce...)
		} else {
			errs = append(errs, config.KeyError{Key: KeyConnectorClass, Message: err.Error()})
		}
	}
	errs = append(errs, def.Typos(cfg, pluginPrefixes()...)...)
	if p.Type() == connector.Source && strings.TrimSpace(cfg["offsets.storage.topic"]) != "" {
		errs = append(errs, config.KeyError{Key: "offsets.storage.topic", Message: "per-connector offsets topics are not supported: " +
			"remove the key; this connector's offsets are stored with the worker's (offset.storage.topic or offset.storage.file.filename)"})
	}
	if p.Type() == connector.Sink {
		topics := strings.TrimSpace(cfg[KeyTopics])
		regex := strings.TrimSpace(cfg[KeyTopicsRegex])
		switch {
		case topics == "" && regex == "":
			errs = append(errs, config.KeyError{Key: KeyTopics, Message: "Must configure one of topics or topics.regex"})
		case topics != "" && regex != "":
			errs = append(errs, config.KeyError{Key: KeyTopics, Message: "topics and topics.regex are mutually exclusive options, but both are set."})
		}
	}
	if len(errs) == 0 {
		errs = append(errs, p.Validate(v)...)
	}
	return v, errs
}

// pluginPrefixes are key prefixes owned by a connector's driver or its
// Debezium history rather than by the keys it declares: keys under them
// are never checked for typos.
func pluginPrefixes() []string {
	return []string{"database.history.", "schema.history.internal.", "driver."}
}

// unknownConnectorKeys returns the keys of cfg that neither the runtime nor
// the plugin declares, outside pass-through prefixes, sorted.
func unknownConnectorKeys(p connector.Plugin, cfg map[string]string) []string {
	def := FullDef(p).PassThrough(pluginPrefixes()...)
	return def.Unknown(cfg)
}

// taskParts are the per-task pieces the runtime builds around a connector's
// task.
type taskParts struct {
	key, value           schemaConverter
	keyClass, valueClass string
	xf                   Transformer
	errs                 ErrorReporter
}

// ValidateConnectorConfig checks a connector config against the runtime's
// and the plugin's keys (types, required keys, validators, cross-key
// checks) and the transforms (classes found in reg), without a worker.
// Converters are checked by Worker.Validate, which knows the worker's
// defaults.
func ValidateConnectorConfig(reg *connector.Registry, p connector.Plugin, cfg map[string]string) config.Errors {
	_, errs := validateConnector(p, cfg)
	if len(errs) > 0 {
		return errs
	}
	if _, err := transformsFrom(withStandardPlugins(reg))(cfg); err != nil {
		var ce config.Errors
		if errors.As(err, &ce) {
			return ce
		}
		return config.Errors{{Key: KeyTransforms, Message: err.Error()}}
	}
	return nil
}
