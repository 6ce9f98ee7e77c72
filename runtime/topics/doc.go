// Package topics creates the Kafka topics a source connector writes to, as
// Kafka Connect's KIP-158 does: before the first record goes to a topic that
// does not exist, the worker creates it with the partitions, replication
// factor and topic configs of the first topic.creation group whose include
// regexes match the name and whose exclude regexes do not (groups in the
// order of topic.creation.groups, then "default").
//
// Topic creation is on when the worker's topic.creation.enable is true (the
// default) and the connector sets any topic.creation.* key; then
// topic.creation.default.replication.factor and
// topic.creation.default.partitions are required (-1: broker default).
//
// A Creator remembers the topics it has seen, so Ensure costs a map lookup
// after the first call per topic. Ensure is safe for concurrent use.
package topics
