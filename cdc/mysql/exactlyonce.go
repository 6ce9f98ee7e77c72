package mysql

import "github.com/tributary-cdc/tributary/connector"

var _ connector.ExactlyOnceSupporter = Plugin{}

// ExactlyOnceSupport implements connector.ExactlyOnceSupporter: the offset
// holds the binlog position down to the row within an event (Debezium's
// event and row), so streaming resumes exactly after the last committed
// record. As in Debezium, a snapshot interrupted before it completed is
// taken again from its start.
func (Plugin) ExactlyOnceSupport(map[string]string) connector.ExactlyOnceSupport {
	return connector.ExactlyOnceSupported
}
