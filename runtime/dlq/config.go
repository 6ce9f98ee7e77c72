package dlq

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tributary-cdc/tributary/connector/config"
)

// Connector config keys.
const (
	KeyTolerance          = "errors.tolerance"
	KeyRetryTimeout       = "errors.retry.timeout"
	KeyRetryDelayMax      = "errors.retry.delay.max.ms"
	KeyLogEnable          = "errors.log.enable"
	KeyLogIncludeMessages = "errors.log.include.messages"
	KeyTopic              = "errors.deadletterqueue.topic.name"
	KeyReplication        = "errors.deadletterqueue.topic.replication.factor"
	KeyContextHeaders     = "errors.deadletterqueue.context.headers.enable"
)

// Tolerance is errors.tolerance.
type Tolerance string

// Tolerances.
const (
	ToleranceNone Tolerance = "none"
	ToleranceAll  Tolerance = "all"
)

const groupName = "Error Handling"

// Def declares the error handling keys every connector accepts. The dead
// letter queue keys are for sink connectors (SinkDef adds them).
func Def() *config.Def {
	return config.NewDef().
		Define(config.Key{Name: KeyRetryTimeout, Type: config.Long, Default: int64(0), Importance: config.Medium, Group: groupName, OrderInGroup: 1,
			DisplayName: "Retry Timeout for Errors", Validator: config.AtLeast(-1),
			Doc: "How long (ms) an operation that failed with a retriable error is retried. 0 (the default): no retries; -1: forever."}).
		Define(config.Key{Name: KeyRetryDelayMax, Type: config.Long, Default: int64(60000), Importance: config.Medium, Group: groupName, OrderInGroup: 2,
			DisplayName: "Maximum Delay Between Retries for Errors", Validator: config.AtLeast(1),
			Doc: "Upper bound (ms) of the delay between retries; delays start at 300 ms, double, and get random jitter."}).
		Define(config.Key{Name: KeyTolerance, Type: config.String, Default: string(ToleranceNone), Importance: config.Medium, Group: groupName, OrderInGroup: 3,
			DisplayName: "Error Tolerance", Validator: config.OneOf(string(ToleranceNone), string(ToleranceAll)),
			Doc: "none (default): the first failed record fails the task. all: failed records are logged/dead-lettered and skipped."}).
		Define(config.Key{Name: KeyLogEnable, Type: config.Boolean, Default: false, Importance: config.Medium, Group: groupName, OrderInGroup: 4,
			DisplayName: "Log Errors",
			Doc:         "Log every failed operation with its stage and record coordinates (false: only failures that stop the task are logged)."}).
		Define(config.Key{Name: KeyLogIncludeMessages, Type: config.Boolean, Default: false, Importance: config.Medium, Group: groupName, OrderInGroup: 5,
			DisplayName: "Log Error Details",
			Doc:         "Also log the failed record's key, value and headers (false by default so record contents stay out of logs)."})
}

// SinkDef is Def plus the dead letter queue keys.
func SinkDef() *config.Def {
	return Def().
		Define(config.Key{Name: KeyTopic, Type: config.String, Default: "", Importance: config.Medium, Group: groupName, OrderInGroup: 6,
			DisplayName: "Dead Letter Queue Topic Name",
			Doc:         "Sink connectors: topic that receives records failing in a converter, a transformation or the sink, with their original key, value and headers. Empty (default): no dead letter queue."}).
		Define(config.Key{Name: KeyReplication, Type: config.Int, Default: 3, Importance: config.Medium, Group: groupName, OrderInGroup: 7,
			DisplayName: "Dead Letter Queue Topic Replication Factor", Validator: validReplication,
			Doc: "Replication factor used when the dead letter queue topic has to be created (lowered to the number of brokers when larger, e.g. on the embedded broker)."}).
		Define(config.Key{Name: KeyContextHeaders, Type: config.Boolean, Default: false, Importance: config.Medium, Group: groupName, OrderInGroup: 8,
			DisplayName: "Enable Error Context Headers",
			Doc:         "Add __connect.errors.* headers (topic, partition, offset, connector, task, stage, class, exception) to dead-lettered records."})
}

func validReplication(v any) error {
	n, _ := v.(int)
	if n == -1 || n >= 1 {
		return nil
	}
	return errors.New("Replication factor must be positive or -1 to use the broker's default")
}

// Config is a connector's parsed error handling settings.
type Config struct {
	Tolerance          Tolerance
	RetryTimeout       time.Duration // 0: no retries; negative: forever
	RetryDelayMax      time.Duration
	LogEnable          bool
	LogIncludeMessages bool
	Topic              string // sink connectors only; "" for none
	ReplicationFactor  int16
	ContextHeaders     bool
}

// ParseConfig reads the errors.* keys of a connector config. Every problem
// is reported, each naming its key.
func ParseConfig(raw map[string]string) (Config, error) {
	v, err := SinkDef().Parse(raw)
	if err != nil {
		return Config{}, err
	}
	c := Config{
		Tolerance:          Tolerance(strings.ToLower(strings.TrimSpace(v.String(KeyTolerance)))),
		RetryTimeout:       v.Duration(KeyRetryTimeout),
		RetryDelayMax:      v.Duration(KeyRetryDelayMax),
		LogEnable:          v.Bool(KeyLogEnable),
		LogIncludeMessages: v.Bool(KeyLogIncludeMessages),
		Topic:              v.String(KeyTopic),
		ReplicationFactor:  int16(v.Int(KeyReplication)),
		ContextHeaders:     v.Bool(KeyContextHeaders),
	}
	if c.Tolerance != ToleranceAll {
		c.Tolerance = ToleranceNone
	}
	if v.Long(KeyRetryTimeout) < 0 {
		c.RetryTimeout = -1
	}
	return c, nil
}

// String describes c for logs.
func (c Config) String() string {
	return fmt.Sprintf("errors.tolerance=%s errors.retry.timeout=%s errors.deadletterqueue.topic.name=%q", c.Tolerance, c.RetryTimeout, c.Topic)
}
