package source

import (
	"strings"

	"github.com/tributary-cdc/tributary/connector"
)

var _ connector.ExactlyOnceSupporter = SourcePlugin{}

// ExactlyOnceSupport implements connector.ExactlyOnceSupporter: the
// incrementing and timestamp modes resume from the committed column values,
// so each row a committed transaction holds is not read again; bulk mode
// keeps no offsets and reads every table again on each poll, so it is
// unsupported.
func (SourcePlugin) ExactlyOnceSupport(cfg map[string]string) connector.ExactlyOnceSupport {
	switch strings.ToLower(strings.TrimSpace(cfg["mode"])) {
	case "incrementing", "timestamp", "timestamp+incrementing":
		return connector.ExactlyOnceSupported
	}
	return connector.ExactlyOnceUnsupported
}
