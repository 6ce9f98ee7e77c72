package main

import (
	"strings"
	"testing"

	"github.com/tributary-cdc/tributary/connector/config"
	"github.com/tributary-cdc/tributary/runtime"
)

// TestValidateRejectsNearTypos: a connector key within two edits of a key
// the connector (or Connect) defines is an error naming both; a key far
// from every known key is not an error (it is logged at task start).
func TestValidateRejectsNearTypos(t *testing.T) {
	cases := []struct {
		class, typo, want string
		base              map[string]string
	}{
		{"io.confluent.connect.jdbc.JdbcSinkConnector", "inset.mode", "insert.mode",
			map[string]string{"topics": "t", "connection.url": "jdbc:postgresql://localhost/db"}},
		{"io.debezium.connector.postgresql.PostgresConnector", "snapshot.mod", "snapshot.mode",
			map[string]string{"database.hostname": "localhost", "database.user": "u", "database.dbname": "db", "topic.prefix": "p"}},
		{"io.confluent.connect.jdbc.JdbcSourceConnector", "poll.interval.mss", "poll.interval.ms",
			map[string]string{"connection.url": "jdbc:postgresql://localhost/db", "mode": "bulk", "topic.prefix": "p"}},
		{"io.confluent.connect.s3.S3SinkConnector", "flsh.size", "flush.size",
			map[string]string{"topics": "t", "s3.bucket.name": "b"}},
		{"io.confluent.connect.jdbc.JdbcSinkConnector", "transforms.route.regx", "",
			map[string]string{"topics": "t", "connection.url": "jdbc:postgresql://localhost/db"}},
	}
	reg := newRegistry()
	for _, c := range cases {
		t.Run(c.typo, func(t *testing.T) {
			p, err := reg.Lookup(c.class)
			if err != nil {
				t.Fatal(err)
			}
			cfg := map[string]string{"name": "n", "connector.class": c.class, c.typo: "x", "my.custom.note": "hello"}
			for k, v := range c.base {
				cfg[k] = v
			}
			errs := runtime.ValidateConnectorConfig(reg, p, cfg)
			var got string
			for _, e := range errs {
				if e.Key == "my.custom.note" {
					t.Errorf("far-away key reported: %v", e)
				}
				if e.Key == c.typo {
					got = e.Message
				}
			}
			if c.want == "" {
				if got != "" {
					t.Errorf("key under a pass-through prefix reported: %s", got)
				}
				return
			}
			want := "Unknown configuration '" + c.typo + "'; did you mean '" + c.want + "'?"
			if got != want {
				t.Errorf("error for %s = %q, want %q (all: %v)", c.typo, got, want, errs)
			}
		})
	}
}

// TestWorkerConfigRejectsNearTypo: a misspelt worker key is an error at
// parse (worker start and replicate validate); a far-away one is not.
func TestWorkerConfigRejectsNearTypo(t *testing.T) {
	_, err := runtime.ParseWorkerConfig(map[string]string{"offset.flush.interval.mss": "1000"})
	want := "Unknown configuration 'offset.flush.interval.mss'; did you mean 'offset.flush.interval.ms'?"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("ParseWorkerConfig = %v, want an error containing %q", err, want)
	}
	var ce config.Errors
	if _, err := runtime.ParseWorkerConfig(map[string]string{"embedded.schema.registry.port": "8081", "group.id": "g",
		"offset.storage.topic": "o", "config.storage.topic": "c", "status.storage.topic": "s", "producer.linger.ms": "5"}); err != nil {
		t.Fatalf("ParseWorkerConfig(far-away and distributed keys) = %v (%T %v)", err, err, ce)
	}
}
