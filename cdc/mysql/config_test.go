package mysql

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/connector/config"
)

func minimalConfig(kv ...string) map[string]string {
	m := map[string]string{
		"name":               "inventory-connector",
		"connector.class":    "io.debezium.connector.mysql.MySqlConnector",
		"tasks.max":          "1",
		"database.hostname":  "mysql",
		"database.port":      "3306",
		"database.user":      "debezium",
		"database.password":  "dbz",
		"database.server.id": "184054",
		"topic.prefix":       "dbserver1",
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "<delete>" {
			delete(m, kv[i])
			continue
		}
		m[kv[i]] = kv[i+1]
	}
	return m
}

func validateRaw(raw map[string]string) config.Errors {
	p := Plugin{}
	v, err := p.Config().Parse(raw)
	var errs config.Errors
	if err != nil {
		errs = append(errs, err.(config.Errors)...)
	}
	return append(errs, p.Validate(v)...)
}

func TestConfigValidation(t *testing.T) {
	cases := []struct {
		name string
		kv   []string
		keys []string // keys that must be reported
	}{
		{"debezium tutorial config", []string{
			"database.include.list", "inventory",
			"schema.history.internal.kafka.bootstrap.servers", "kafka:9092",
			"schema.history.internal.kafka.topic", "schema-changes.inventory",
			"key.converter", "org.apache.kafka.connect.json.JsonConverter",
			"transforms", "unwrap", "transforms.unwrap.type", "io.debezium.transforms.ExtractNewRecordState",
		}, nil},
		{"all supported keys", []string{
			"table.include.list", "inventory\\..*", "column.exclude.list", "inventory.customers.email",
			"snapshot.mode", "when_needed", "snapshot.fetch.size", "1000", "snapshot.max.threads", "4",
			"decimal.handling.mode", "string", "time.precision.mode", "connect", "bigint.unsigned.handling.mode", "precise",
			"binary.handling.mode", "hex", "include.schema.changes", "false", "tombstones.on.delete", "false",
			"provide.transaction.metadata", "true", "heartbeat.interval.ms", "5000", "max.batch.size", "100",
			"max.queue.size", "1000", "database.ssl.mode", "required",
		}, nil},
		{"legacy names", []string{"topic.prefix", "<delete>", "database.server.name", "legacy", "database.whitelist", "a", "table.blacklist", "a.b"}, nil},
		{"missing required", []string{"database.hostname", "<delete>", "topic.prefix", "<delete>"}, []string{"database.hostname", "topic.prefix"}},
		{"bad enums", []string{"snapshot.mode", "recovery", "decimal.handling.mode", "exact", "binary.handling.mode", "raw", "database.ssl.mode", "maybe"},
			[]string{"snapshot.mode", "decimal.handling.mode", "binary.handling.mode", "database.ssl.mode"}},
		{"unsupported keys", []string{"database.connectionTimeZone", "UTC", "include.query", "true"},
			[]string{"database.connectionTimeZone", "include.query"}},
		{"message key columns", []string{"message.key.columns", "inventory.t:id;inventory.u:a,b"}, nil},
		{"malformed message key columns", []string{"message.key.columns", "inventory.t"}, []string{"message.key.columns"}},
		{"signals and incremental snapshots", []string{"signal.enabled.channels", "source,kafka,file", "signal.data.collection", "inventory.debezium_signal",
			"signal.kafka.topic", "dbserver1-signal", "signal.kafka.bootstrap.servers", "kafka:9092", "signal.kafka.groupId", "g",
			"signal.file", "/tmp/signals.txt", "signal.poll.interval.ms", "1000", "incremental.snapshot.chunk.size", "2048",
			"incremental.snapshot.watermarking.strategy", "insert_insert"}, nil},
		{"malformed signal keys", []string{"signal.enabled.channels", "source,jmx", "signal.data.collection", "debezium_signal",
			"incremental.snapshot.chunk.size", "0", "incremental.snapshot.watermarking.strategy", "insert_update"},
			[]string{"signal.enabled.channels", "signal.data.collection", "incremental.snapshot.chunk.size", "incremental.snapshot.watermarking.strategy"}},
		{"kafka channel without brokers", []string{"signal.enabled.channels", "kafka"}, []string{"signal.kafka.bootstrap.servers"}},
		{"insert_delete watermarks", []string{"incremental.snapshot.watermarking.strategy", "insert_delete"}, []string{"incremental.snapshot.watermarking.strategy"}},
		{"unknown signal key", []string{"signal.kafka.poll.timeout.ms", "100"}, []string{"signal.kafka.poll.timeout.ms"}},
		{"include and exclude together", []string{"table.include.list", "a.b", "table.exclude.list", "a.c"}, []string{"table.exclude.list"}},
		{"bad regex", []string{"table.include.list", "a.(b"}, []string{"table.include.list"}},
		{"queue not above batch", []string{"max.batch.size", "100", "max.queue.size", "100"}, []string{"max.queue.size"}},
		{"truncates wanted", []string{"skipped.operations", "none"}, []string{"skipped.operations"}},
		{"skip deletes", []string{"skipped.operations", "d,t"}, nil},
		{"bad topic prefix", []string{"topic.prefix", "my server"}, []string{"topic.prefix"}},
		{"bad number", []string{"database.port", "x", "snapshot.max.threads", "0"}, []string{"database.port", "snapshot.max.threads"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			errs := validateRaw(minimalConfig(c.kv...))
			got := map[string]bool{}
			for _, e := range errs {
				got[e.Key] = true
			}
			for _, k := range c.keys {
				if !got[k] {
					t.Errorf("no error for %s; errors: %v", k, errs)
				}
			}
			if len(c.keys) == 0 && len(errs) > 0 {
				t.Errorf("unexpected errors: %v", errs)
			}
			if len(errs) > len(c.keys) {
				t.Errorf("extra errors: %v", errs)
			}
		})
	}
}

func TestConfigPasswordNotInErrors(t *testing.T) {
	errs := validateRaw(minimalConfig("database.password", "s3cret", "database.port", "bad"))
	if strings.Contains(errs.Error(), "s3cret") {
		t.Fatalf("password leaked: %v", errs)
	}
}

func TestPluginContract(t *testing.T) {
	var p connector.SourcePlugin = Plugin{}
	reg := connector.NewRegistry(p)
	for _, name := range []string{Class, MariaDBClass, "MySqlConnector", "MariaDbConnector"} {
		got, err := reg.Lookup(name)
		if err != nil || got.Class() != Class {
			t.Fatalf("lookup %s: %v %v", name, got, err)
		}
	}
	tc, err := p.TaskConfigs(context.Background(), minimalConfig(), 4)
	if err != nil || len(tc) != 1 || tc[0]["topic.prefix"] != "dbserver1" {
		t.Fatalf("task configs: %v %v", tc, err)
	}
	s, err := parseSettings(minimalConfig("connector.class", MariaDBClass, "database.server.id", "0"))
	if err != nil {
		t.Fatal(err)
	}
	if s.connectorName != "mariadb" || s.serverID < 5400 || s.serverID >= 6400 {
		t.Fatalf("connector %q server id %d", s.connectorName, s.serverID)
	}
	if _, err := parseSettings(minimalConfig("snapshot.mode", "nope")); err == nil {
		t.Fatal("bad snapshot.mode accepted")
	} else {
		var ce config.Errors
		if !errors.As(err, &ce) || ce[0].Key != KeySnapshotMode {
			t.Fatalf("error %v does not name snapshot.mode", err)
		}
	}
}

func TestFilters(t *testing.T) {
	s, err := parseSettings(minimalConfig("database.include.list", "shop,crm", "table.exclude.list", "shop\\.audit.*", "column.exclude.list", "shop.customers.(ssn|secret)"))
	if err != nil {
		t.Fatal(err)
	}
	f := s.filters
	for _, c := range []struct {
		db, table string
		want      bool
	}{{"shop", "orders", true}, {"shop", "audit_log", false}, {"crm", "x", true}, {"shopx", "orders", false}, {"mysql", "user", false}} {
		if got := f.table(c.db, c.table); got != c.want {
			t.Errorf("table(%s.%s) = %v", c.db, c.table, got)
		}
	}
	col := f.column("shop", "customers")
	if col("ssn") || col("secret") || !col("name") {
		t.Error("column filter")
	}
}

func TestOffsetRoundTrip(t *testing.T) {
	p := position{File: "mysql-bin.000003", Pos: 154, GTIDs: "0-1-5", Event: 3, Row: 2, ServerID: 1, TsSec: 1700000000}
	m := p.offsetMap()
	// as read back from a JSON offset store
	back := map[string]any{}
	for k, v := range m {
		switch x := v.(type) {
		case int64:
			back[k] = float64(x)
		default:
			back[k] = x
		}
	}
	got, err := parseOffset(back)
	if err != nil || got != p {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	if _, ok := m[offSnapshot]; ok {
		t.Fatal("streaming offset has a snapshot key")
	}
	snap := position{File: "f", Pos: 4, Snapshot: true}.offsetMap()
	if snap[offSnapshot] != "INITIAL" {
		t.Fatalf("snapshot offset %v", snap)
	}
	if p, err := parseOffset(map[string]any{"file": "f", "pos": 4, "snapshot": true}); err != nil || !p.Snapshot {
		t.Fatalf("Debezium <3.0.2 snapshot=true: %+v %v", p, err)
	}
	if _, err := parseOffset(map[string]any{"pos": "x"}); err == nil {
		t.Fatal("bad offset accepted")
	}
}
