package jsonschemaconv

import (
	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/schema"
)

// Plugin is the converter's registry entry: JsonSchemaConverter against the
// registry at schema.registry.url (building it does not contact the
// registry). schema.registry.url=embedded is rewritten by the worker's
// converter factory (cmd/replicate).
func Plugin() connector.Entry {
	return connector.Entry{
		Class: ClassName, Aliases: []string{Alias}, Type: connector.Converter, Config: ConfigDef,
		Doc: "Confluent's JSON Schema converter: JSON with a schema registry id, its JSON Schema registered as schemaType JSON.",
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
