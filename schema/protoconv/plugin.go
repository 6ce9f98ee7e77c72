package protoconv

import (
	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/schema"
)

// Plugin is the converter's registry entry: ProtobufConverter against the
// registry at schema.registry.url (building it does not contact the
// registry; cmd/replicate rewrites schema.registry.url=embedded).
func Plugin() connector.Entry {
	return connector.Entry{
		Class: ClassName, Aliases: []string{Alias}, Type: connector.Converter, Config: ConfigDef,
		Doc: "Confluent's Protobuf converter: Protobuf binary with a schema registry id and message indexes.",
		NewConverter: func(props map[string]string, isKey bool) (schema.Converter, error) {
			cfg, err := ConfigFromMap(props, isKey)
			if err != nil {
				return nil, err
			}
			c, err := New(cfg)
			if err != nil {
				return nil, err
			}
			return c, nil
		},
		Validate: func(props map[string]string) error {
			_, err := ConfigFromMap(props, false)
			return err
		},
	}
}
