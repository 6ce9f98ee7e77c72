package main

import (
	"github.com/tributary-cdc/tributary/runtime/connector"
	"github.com/tributary-cdc/tributary/runtime/filestream"
)

// newRegistry lists every connector class the binary ships.
func newRegistry() *connector.Registry {
	return connector.NewRegistry(
		filestream.Source{},
		filestream.Sink{},
	)
}
