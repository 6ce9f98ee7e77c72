package runtime

import (
	"github.com/tributary-cdc/tributary/schema"
	"github.com/tributary-cdc/tributary/schema/avroconv"
	"github.com/tributary-cdc/tributary/schema/jsonconv"
)

// newJSONConverter builds Connect's JsonConverter from its properties
// (schemas.enable, decimal.format, replace.null.with.default,
// schemas.cache.size).
func newJSONConverter(props map[string]string, isKey bool) (schema.Converter, error) {
	cfg, err := jsonconv.ConfigFromMap(props)
	if err != nil {
		return nil, err
	}
	cfg.IsKey = isKey
	return jsonconv.New(cfg), nil
}

// newAvroConverter builds Confluent's AvroConverter against the registry at
// schema.registry.url. The embedded registry needs a ConverterFactory that
// hands the converter its client (Options.Converters).
func newAvroConverter(props map[string]string, isKey bool) (schema.Converter, error) {
	cfg, err := avroconv.ConfigFromMap(props, isKey)
	if err != nil {
		return nil, err
	}
	return avroconv.New(cfg)
}
