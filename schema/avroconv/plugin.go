package avroconv

import (
	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/schema"
)

// Plugin is the converter's registry entry: AvroConverter against the
// registry at schema.registry.url (building it does not contact the
// registry). The embedded registry needs a converter factory that rewrites
// schema.registry.url=embedded (cmd/replicate does).
func Plugin() connector.Entry {
	return connector.Entry{
		Class: ClassName, Aliases: []string{Alias}, Type: connector.Converter, Config: ConfigDef,
		Doc: "Confluent's Avro converter: Avro binary with a schema registry id.",
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
		// Checking a config reads every key but builds no client, so
		// schema.registry.url=embedded passes where a worker serves one.
		Validate: func(props map[string]string) error {
			_, err := ConfigFromMap(props, false)
			return err
		},
	}
}
