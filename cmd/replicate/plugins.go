package main

import (
	"github.com/tributary-cdc/tributary/cdc/mysql"
	"github.com/tributary-cdc/tributary/cdc/postgres"
	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/filestream"
	jdbcsource "github.com/tributary-cdc/tributary/jdbc/source"
	"github.com/tributary-cdc/tributary/runtime"
	jdbcsink "github.com/tributary-cdc/tributary/sinks/jdbc"
	s3sink "github.com/tributary-cdc/tributary/sinks/s3"
)

// newRegistry lists every plugin class the binary ships: the connector
// classes here, the converters, header converter, transforms and
// predicates in runtime.StandardPlugins.
func newRegistry() *connector.Registry {
	return connector.NewRegistry(
		filestream.Source{},
		filestream.Sink{},
		mysql.Plugin{},
		postgres.Plugin{},
		jdbcsource.SourcePlugin{},
		jdbcsink.Plugin{},
		s3sink.Plugin{},
	).Register(runtime.StandardPlugins()...)
}
