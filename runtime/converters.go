package runtime

import (
	"fmt"
	"strings"

	"github.com/tributary-cdc/tributary/schema"
	"github.com/tributary-cdc/tributary/schema/avroconv"
	"github.com/tributary-cdc/tributary/schema/simpleconv"
)

// ConverterFactory builds a converter from its class name and its
// properties (the key.converter./value.converter. keys with the prefix
// stripped; converter.type is set to key or value).
type ConverterFactory func(class string, props map[string]string, isKey bool) (schema.Converter, error)

// Converter class aliases accepted besides the full class names.
var converterAliases = map[string]string{
	"JsonConverter":      JSONConverterClass,
	"StringConverter":    StringConverterClass,
	"ByteArrayConverter": ByteArrayConverterClass,
	avroconv.Alias:       avroconv.ClassName,
}

// NewConverter is the default ConverterFactory: JsonConverter,
// StringConverter, ByteArrayConverter and AvroConverter (with a registry
// URL) by class name or short name.
func NewConverter(class string, props map[string]string, isKey bool) (schema.Converter, error) {
	class = strings.TrimSpace(class)
	if full, ok := converterAliases[class]; ok {
		class = full
	}
	switch class {
	case StringConverterClass:
		return simpleconv.String{}, nil
	case ByteArrayConverterClass:
		return simpleconv.ByteArray{}, nil
	case JSONConverterClass:
		return newJSONConverter(props, isKey)
	case avroconv.ClassName:
		return newAvroConverter(props, isKey)
	}
	return nil, fmt.Errorf("converter class %q not found (JsonConverter, StringConverter, ByteArrayConverter, AvroConverter)", class)
}

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
