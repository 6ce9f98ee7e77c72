package filestream

import (
	"strings"

	"github.com/tributary-cdc/tributary/connector"
)

var _ connector.ExactlyOnceSupporter = Source{}

// ExactlyOnceSupport implements connector.ExactlyOnceSupporter as Kafka
// Connect's FileStreamSourceConnector: a file (appended to only) is read
// from its committed byte position, so exactly once is supported; standard
// input keeps no offsets, so it is not.
func (Source) ExactlyOnceSupport(cfg map[string]string) connector.ExactlyOnceSupport {
	if strings.TrimSpace(cfg[KeyFile]) != "" {
		return connector.ExactlyOnceSupported
	}
	return connector.ExactlyOnceUnsupported
}
