// Package config is Kafka Connect's ConfigDef in Go: every connector, transform
// and the worker declare their keys (type, default, importance, documentation,
// validator) once, and the same definition drives parsing, the REST
// config/validate endpoint and the docs.
//
// Parse returns every problem at once, each naming its key; unknown keys are
// kept and reported by Validate, never silently dropped.
package config
