package runtime

import (
	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/schema/avroconv"
	"github.com/tributary-cdc/tributary/schema/jsonconv"
	"github.com/tributary-cdc/tributary/schema/jsonschemaconv"
	"github.com/tributary-cdc/tributary/schema/protoconv"
	"github.com/tributary-cdc/tributary/schema/simpleconv"
	"github.com/tributary-cdc/tributary/transforms"
)

// StandardPlugins are the registry entries of every plugin the worker
// ships besides connectors: the converters, the header converter, and the
// transforms and predicates. cmd/replicate registers them beside the
// connector classes. A new converter is its package (exporting its
// connector.Entry) plus one line here.
func StandardPlugins() []connector.Entry {
	return append([]connector.Entry{
		jsonconv.Plugin(),
		simpleconv.StringPlugin(),
		simpleconv.ByteArrayPlugin(),
		avroconv.Plugin(),
		protoconv.Plugin(),
		jsonschemaconv.Plugin(),
		simpleconv.SimpleHeaderPlugin(),
	}, transforms.Plugins()...)
}

// withStandardPlugins returns reg, or, when it holds no converter (a
// registry of connectors only, as tests build), a copy with
// StandardPlugins added.
func withStandardPlugins(reg *connector.Registry) *connector.Registry {
	if len(reg.Entries(connector.Converter)) > 0 {
		return reg
	}
	return reg.Clone().Register(StandardPlugins()...)
}

// transformsFrom is the default TransformFactory: the connector's
// transforms/predicates keys, each class found in reg. A connector without
// transforms gets a nil Transformer (records pass untouched).
func transformsFrom(reg *connector.Registry) TransformFactory {
	return func(cfg map[string]string) (Transformer, error) {
		c, err := transforms.ParseWith(reg, cfg)
		if err != nil {
			return nil, err
		}
		if c.Len() == 0 {
			return nil, nil
		}
		return c, nil
	}
}
