// Package quickstart is `replicate quickstart`: throwaway MariaDB and
// PostgreSQL servers (internal/dbserver), the embedded broker and schema
// registry, and two CDC pipelines crossing them, with a workload and a
// row-by-row verification at the end. It sits beside cmd/replicate (which
// only parses the command and passes in the plugin registry) and needs a Unix
// system for the database servers. It never installs anything: a missing
// Debian package is reported with the command that installs it.
package quickstart

import "github.com/tributary-cdc/tributary/connector"

// Options is what the binary hands the quickstart.
type Options struct {
	// Registry builds the plugin registry the worker runs connectors from.
	Registry func() *connector.Registry
	// Version is reported by the REST API's GET /.
	Version string
}
