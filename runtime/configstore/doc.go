// Package configstore keeps connector configs and target states so that
// connectors created or changed through the REST API survive a restart.
//
// The records are Kafka Connect's config topic records: key
// "connector-<name>" with value {"properties":{…}} and key
// "target-state-<name>" with value {"state":"PAUSED","state.v2":"STOPPED"}.
// In standalone mode they live in a JSON file (File) holding the compacted
// set of those records, written atomically (temporary file, fsync, rename)
// before a change is acknowledged. Stored configs keep config provider
// references (${env:…}) unresolved, so secrets are not written in clear
// unless the user wrote them in clear.
package configstore
