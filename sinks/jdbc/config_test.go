package jdbcsink

import (
	"errors"
	"strings"
	"testing"

	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/connector/config"
)

func rawConfig(kv ...string) map[string]string {
	m := map[string]string{
		"connection.url": "jdbc:postgresql://127.0.0.1:5432/shop?user=u",
		"topics":         "orders",
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "<unset>" {
			delete(m, kv[i])
			continue
		}
		m[kv[i]] = kv[i+1]
	}
	return m
}

// keysOf returns the keys named by a validation error.
func keysOf(t *testing.T, err error) map[string]string {
	t.Helper()
	out := map[string]string{}
	if err == nil {
		return out
	}
	var ce config.Errors
	if !errors.As(err, &ce) {
		t.Fatalf("error %v is not config.Errors", err)
	}
	for _, e := range ce {
		out[e.Key] = e.Message
	}
	return out
}

func TestValidateInsertModeByPKMode(t *testing.T) {
	// Confluent's rules: upsert and update need key columns (pk.mode other
	// than none); everything else is allowed.
	for _, im := range []string{"insert", "upsert", "update"} {
		for _, pm := range []string{"none", "kafka", "record_key", "record_value"} {
			t.Run(im+"/"+pm, func(t *testing.T) {
				err := Validate(rawConfig("insert.mode", im, "pk.mode", pm))
				keys := keysOf(t, err)
				rejected := pm == "none" && im != "insert"
				if rejected {
					msg, ok := keys["pk.mode"]
					if !ok {
						t.Fatalf("insert.mode=%s pk.mode=%s accepted, want a pk.mode error; got %v", im, pm, err)
					}
					if !strings.Contains(msg, "insert.mode="+im) || !strings.Contains(msg, "pk.mode=none") {
						t.Errorf("message does not name both keys: %q", msg)
					}
					return
				}
				if err != nil {
					t.Fatalf("insert.mode=%s pk.mode=%s rejected: %v", im, pm, err)
				}
			})
		}
	}
}

func TestValidateCrossKeyRules(t *testing.T) {
	cases := []struct {
		name    string
		kv      []string
		wantKey string
		wantMsg string
	}{
		{"delete needs record_key", []string{"delete.enabled", "true", "pk.mode", "record_value"}, "delete.enabled", "pk.mode=record_key"},
		{"delete with none", []string{"delete.enabled", "true"}, "delete.enabled", "pk.mode=none"},
		{"kafka pk.fields count", []string{"pk.mode", "kafka", "pk.fields", "a,b"}, "pk.fields", "exactly 3"},
		{"no topics", []string{"topics", "<unset>"}, "topics", "Must configure one of topics or topics.regex"},
		{"both topics", []string{"topics.regex", "ord.*"}, "topics", "mutually exclusive"},
		{"bad regex", []string{"topics", "<unset>", "topics.regex", "(("}, "topics.regex", "regular expression"},
		{"bad insert.mode", []string{"insert.mode", "merge"}, "insert.mode", "insert, upsert, update"},
		{"bad pk.mode", []string{"pk.mode", "key"}, "pk.mode", "record_key"},
		{"bad url", []string{"connection.url", "jdbc:oracle:thin:@x"}, "connection.url", "unsupported URL"},
		{"missing url", []string{"connection.url", "<unset>"}, "connection.url", "Missing required configuration"},
		{"dialect mismatch", []string{"dialect.name", "MySqlDatabaseDialect"}, "dialect.name", "does not match"},
		{"bad timezone", []string{"db.timezone", "Mars/Olympus"}, "db.timezone", "time zone"},
		{"bad batch.size", []string{"batch.size", "0"}, "batch.size", "at least 1"},
		{"bad quoting", []string{"quote.sql.identifiers", "sometimes"}, "quote.sql.identifiers", "always, never"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := Validate(rawConfig(c.kv...))
			keys := keysOf(t, err)
			msg, ok := keys[c.wantKey]
			if !ok {
				t.Fatalf("want an error on %s, got %v", c.wantKey, err)
			}
			if !strings.Contains(msg, c.wantMsg) {
				t.Errorf("%s: message %q does not contain %q", c.wantKey, msg, c.wantMsg)
			}
		})
	}
}

func TestValidateAccepts(t *testing.T) {
	for _, kv := range [][]string{
		{"delete.enabled", "true", "pk.mode", "record_key", "insert.mode", "upsert"},
		{"pk.mode", "kafka", "pk.fields", "t,p,o", "insert.mode", "upsert"},
		{"topics", "<unset>", "topics.regex", "cdc\\..*"},
		{"fields.include.list", "a,b", "connection.url", "jdbc:mariadb://h:3306/db"},
		{"connection.url", "jdbc:mysql://h/db", "dialect.name", "MySqlDatabaseDialect", "db.timezone", "Europe/Berlin"},
		{"exactly.once", "true", "schemaless.infer", "true", "auto.create", "true", "auto.evolve", "true"},
	} {
		if err := Validate(rawConfig(kv...)); err != nil {
			t.Errorf("%v rejected: %v", kv, err)
		}
	}
}

func TestPluginContract(t *testing.T) {
	var p connector.SinkPlugin = Plugin{}
	reg := connector.NewRegistry(p)
	for _, name := range []string{"io.confluent.connect.jdbc.JdbcSinkConnector", "JdbcSinkConnector"} {
		got, err := reg.Lookup(name)
		if err != nil || got.Class() != Class {
			t.Fatalf("lookup %s: %v %v", name, got, err)
		}
	}
	if p.Type() != connector.Sink {
		t.Fatalf("type %s", p.Type())
	}
	vals, err := p.Config().Parse(rawConfig("insert.mode", "upsert"))
	if err != nil {
		t.Fatal(err)
	}
	errs := p.Validate(vals)
	if len(errs) != 1 || errs[0].Key != "pk.mode" {
		t.Fatalf("Validate = %v, want one pk.mode error", errs)
	}
	tcs, err := p.TaskConfigs(t.Context(), rawConfig(), 3)
	if err != nil || len(tcs) != 3 || tcs[2]["topics"] != "orders" {
		t.Fatalf("TaskConfigs = %v, %v", tcs, err)
	}
	// Every documented key is declared, including the alias.
	for _, k := range []string{"topics", "topics.regex", "connection.url", "connection.user", "connection.password", "insert.mode",
		"pk.mode", "pk.fields", "fields.whitelist", "fields.include.list", "table.name.format", "auto.create", "auto.evolve",
		"delete.enabled", "batch.size", "max.retries", "retry.backoff.ms", "db.timezone", "quote.sql.identifiers",
		"exactly.once", "schemaless.infer", "truncate.enabled"} {
		if _, ok := p.Config().Lookup(k); !ok {
			t.Errorf("key %s not declared", k)
		}
	}
}
