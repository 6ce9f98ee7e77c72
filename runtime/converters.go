package runtime

import (
	"strings"

	"github.com/tributary-cdc/tributary/schema"
)

// ConverterFactory builds a converter from its class name and its
// properties (the key.converter./value.converter. keys with the prefix
// stripped; converter.type is set to key or value). The default is the
// registry's (connector.Registry.NewConverter).
type ConverterFactory func(class string, props map[string]string, isKey bool) (schema.Converter, error)

// converterProps returns the class and properties of the key or value
// converter for a connector: the connector's own key.converter (and its
// key.converter.* keys) when set, else the worker's.
func converterProps(worker, conn map[string]string, prefix string, isKey bool) (string, map[string]string) {
	src := worker
	if strings.TrimSpace(conn[prefix]) != "" {
		src = conn
	}
	props := map[string]string{}
	for k, v := range src {
		if strings.HasPrefix(k, prefix+".") {
			props[k[len(prefix)+1:]] = v
		}
	}
	if isKey {
		props["converter.type"] = "key"
	} else {
		props["converter.type"] = "value"
	}
	class := strings.TrimSpace(src[prefix])
	if class == "" {
		class = JSONConverterClass
	}
	return class, props
}

type schemaConverter = schema.Converter
