package connector

// ExactlyOnceSupport is a source connector's answer to whether it can give
// exactly-once delivery with a config (Kafka Connect's ExactlyOnceSupport,
// KIP-618).
type ExactlyOnceSupport string

// Answers of ExactlyOnceSupporter.
const (
	// ExactlyOnceSupported: the connector's source offsets let a task resume
	// exactly after the last record its committed transaction holds, so
	// records and offsets written in one Kafka transaction are delivered
	// exactly once.
	ExactlyOnceSupported ExactlyOnceSupport = "SUPPORTED"
	// ExactlyOnceUnsupported: the connector cannot resume exactly where it
	// stopped with this config (it keeps no offsets, or re-reads everything).
	ExactlyOnceUnsupported ExactlyOnceSupport = "UNSUPPORTED"
)

// ExactlyOnceSupporter is implemented by source plugins that can say whether
// they support exactly-once delivery with a config (Connect's
// SourceConnector.exactlyOnceSupport). A plugin that does not implement it
// is treated as Connect treats a null answer: exactly.once.support=required
// is refused for it. cfg is the raw connector config.
type ExactlyOnceSupporter interface {
	ExactlyOnceSupport(cfg map[string]string) ExactlyOnceSupport
}
