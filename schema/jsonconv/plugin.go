package jsonconv

import (
	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/schema"
)

// Class names under which the converter is configured.
const (
	ClassName = "org.apache.kafka.connect.json.JsonConverter"
	Alias     = "JsonConverter"
)

// Plugin is the converter's registry entry: JsonConverter configured from
// its properties (schemas.enable, decimal.format, replace.null.with.default,
// schemas.cache.size).
func Plugin() connector.Entry {
	return connector.Entry{
		Class: ClassName, Aliases: []string{Alias}, Type: connector.Converter, Config: ConfigDef,
		Doc: "Kafka Connect's JSON converter, with or without the schema envelope (schemas.enable).",
		NewConverter: func(props map[string]string, isKey bool) (schema.Converter, error) {
			cfg, err := ConfigFromMap(props)
			if err != nil {
				return nil, err
			}
			cfg.IsKey = isKey
			return New(cfg), nil
		},
	}
}
