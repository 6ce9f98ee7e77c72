package simpleconv

import (
	"fmt"
	"strings"

	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/connector/config"
	"github.com/tributary-cdc/tributary/schema"
)

// Class names under which the converters are configured.
const (
	StringClass          = "org.apache.kafka.connect.storage.StringConverter"
	ByteArrayClass       = "org.apache.kafka.connect.converters.ByteArrayConverter"
	SimpleHeaderClass    = "org.apache.kafka.connect.storage.SimpleHeaderConverter"
	keyConverterType     = "converter.type"
	keyConverterEncoding = "converter.encoding"
)

// converterDef is Connect's ConverterConfig: converter.type, which the
// runtime always sets.
func converterDef() *config.Def {
	return config.NewDef().
		Define(config.Key{Name: keyConverterType, Type: config.String, Default: config.NoDefault, Importance: config.Low,
			Doc: "How this converter will be used.", Validator: config.OneOf("key", "value", "header")})
}

// StringPlugin is StringConverter's registry entry. Its keys are those of
// Connect's StringConverterConfig; strings are always UTF-8.
func StringPlugin() connector.Entry {
	return connector.Entry{
		Class: StringClass, Aliases: []string{"StringConverter"}, Type: connector.Converter,
		Doc: "Kafka Connect's string converter: values as their UTF-8 string form.",
		Config: func() *config.Def {
			return converterDef().Define(config.Key{Name: keyConverterEncoding, Type: config.String, Default: "UTF-8",
				Importance: config.High, DisplayName: "Encoding", Validator: utf8Only,
				Doc: "The name of the Java character set to use for encoding strings as byte arrays. Only UTF-8 is supported; another value is refused."})
		},
		NewConverter: func(props map[string]string, _ bool) (schema.Converter, error) {
			if v, ok := props[keyConverterEncoding]; ok {
				if err := utf8Only(v); err != nil {
					return nil, fmt.Errorf("%s: %w", keyConverterEncoding, err)
				}
			}
			return String{}, nil
		},
	}
}

// utf8Only accepts UTF-8 under Java's names for it: StringConverter here
// reads and writes UTF-8 only, so another charset is refused, not ignored.
func utf8Only(v any) error {
	s, _ := v.(string)
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "", "UTF-8", "UTF8":
		return nil
	}
	return fmt.Errorf("charset %q is not supported: StringConverter reads and writes UTF-8 only", s)
}

// ByteArrayPlugin is ByteArrayConverter's registry entry.
func ByteArrayPlugin() connector.Entry {
	return connector.Entry{
		Class: ByteArrayClass, Aliases: []string{"ByteArrayConverter"}, Type: connector.Converter,
		Doc:          "Kafka Connect's pass-through converter for BYTES values.",
		Config:       converterDef,
		NewConverter: func(map[string]string, bool) (schema.Converter, error) { return ByteArray{}, nil },
	}
}

// SimpleHeaderPlugin is SimpleHeaderConverter's registry entry (the
// worker's header.converter default). It has no keys and no constructor:
// headers travel as raw bytes.
func SimpleHeaderPlugin() connector.Entry {
	return connector.Entry{
		Class: SimpleHeaderClass, Type: connector.HeaderConverter,
		Doc: "Kafka Connect's default header converter.",
	}
}
