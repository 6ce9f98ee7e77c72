// Package metrics is the worker's Prometheus instrumentation: one Registry per
// worker (never the global default registry), served as Prometheus text on
// the REST port's /metrics.
//
// Metric names follow what the Strimzi/Prometheus JMX exporter rules make of
// Kafka Connect's JMX metrics, so existing Kafka Connect dashboards keep
// working: kafka_connect_source_task_source_record_poll_total,
// kafka_connect_sink_task_sink_record_send_total,
// kafka_connect_task_error_total_record_failures,
// kafka_connect_task_error_deadletterqueue_produce_requests,
// kafka_connect_connector_status{connector,status}, and so on, each labelled
// with connector and task. Tributary adds source lag, sink consumer lag and
// snapshot progress gauges (see Registry for the full list).
//
// A Task handle is what the runtime gives each task: it implements
// connector.Metrics and its methods are cheap (pre-resolved label values),
// safe for concurrent use, and do nothing on a nil *Task.
package metrics
