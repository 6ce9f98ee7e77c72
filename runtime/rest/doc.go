// Package rest is Kafka Connect's REST API (default port 8083) in front of a
// Herder, the worker's connector operations. Paths, JSON shapes, status codes
// and error bodies ({"error_code":…,"message":…}) are Connect's, so scripts,
// curl calls and UIs written for Kafka Connect work unchanged:
//
//	GET    /                                   version, commit, kafka_cluster_id
//	GET    /health                             {"status":"healthy",…}
//	GET    /connectors[?expand=status|info]
//	POST   /connectors                         201 ConnectorInfo; 409 if it exists; 400 bad config
//	GET    /connectors/{name}                  ConnectorInfo
//	GET    /connectors/{name}/config           flat config map
//	PUT    /connectors/{name}/config           201 created / 200 updated
//	PATCH  /connectors/{name}/config           200 (KIP-477; null removes a key)
//	GET    /connectors/{name}/status
//	GET    /connectors/{name}/tasks
//	GET    /connectors/{name}/tasks/{id}/status
//	POST   /connectors/{name}/tasks/{id}/restart        204
//	POST   /connectors/{name}/restart[?includeTasks&onlyFailed]  204, or 202 + status
//	PUT    /connectors/{name}/pause|resume     202
//	PUT    /connectors/{name}/stop             204 (KIP-875)
//	DELETE /connectors/{name}                  204
//	GET    /connectors/{name}/topics, PUT …/topics/reset
//	GET|PATCH|DELETE /connectors/{name}/offsets (KIP-875; changes only while STOPPED)
//	GET    /connector-plugins[?connectorsOnly=false]
//	GET    /connector-plugins/{plugin}/config
//	PUT    /connector-plugins/{plugin}/config/validate   ConfigInfos
//	GET|PUT /admin/loggers[/{logger}]
//	GET    /metrics                            Prometheus text (when a metrics handler is given)
//
// Values of PASSWORD keys (and of well-known Kafka client secrets such as
// *.ssl.key.password or *.sasl.jaas.config) are shown as [hidden] in every
// response, and so are passwords inside other values (URL userinfo,
// password= parameters of JDBC URLs and DSNs); error messages are scrubbed
// of the secrets of the configs a request touched. A PUT that sends
// [hidden] back keeps the stored secret only while no key deciding where
// it is sent (URL, host, port, user, database, bootstrap servers…) changed.
//
// Security (ParseSecurity, from a worker config, as Connect): listeners
// lists http:// and https:// listeners; the https ones use the
// listeners.https.ssl.* keys (else ssl.*) with PEM, PKCS12 or JKS stores
// and ssl.client.auth for mutual TLS; rest.extension.classes naming
// Connect's BasicAuthSecurityRestExtension turns on basic authentication
// against the users file of the JAAS file's KafkaConnect section
// (-Djava.security.auth.login.config in KAFKA_OPTS, or
// rest.basic.auth.jaas.config.file). Config provider references (${env:…}, ${file:…}) are stored and
// shown as written; the worker resolves them when a connector or task starts.
//
// Configs are validated here before they reach the Herder, so a bad config
// is a 400 listing every problem, as Connect answers.
//
// Handlers call the Herder synchronously with the request's context; the
// Server is safe for concurrent use.
package rest
