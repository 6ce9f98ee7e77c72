// Package distributed is Kafka Connect's distributed herder in Go: several
// `replicate distributed` workers with the same group.id share connectors
// and tasks through Kafka (see the package documentation below, completed
// as the package grows).
package distributed
