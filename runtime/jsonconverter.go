package runtime

import (
	"fmt"

	"github.com/tributary-cdc/tributary/schema"
)

// newJSONConverter builds Connect's JsonConverter.
func newJSONConverter(props map[string]string, isKey bool) (schema.Converter, error) {
	return nil, fmt.Errorf("org.apache.kafka.connect.json.JsonConverter is not available in this build yet")
}
