// Package smtdiff compares Tributary's JsonConverter (schema/jsonconv) and
// transforms (transforms) byte for byte with Apache Kafka Connect 4.4.0's
// own JsonConverter, transformations and predicates, and Debezium
// 3.6.1.Final's ExtractNewRecordState and ByLogicalTableRouter, on the same
// inputs. The reference runs in one JVM: a small driver
// (integration/jvm/smtdriver/SmtDriver.java) compiled by the test against
// the jars harness.FetchConnect fetches. Expected values come only from
// that run; a difference kept on purpose is written next to its case with
// the reason.
package smtdiff
