package config

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestInfosReportsEveryError(t *testing.T) {
	d := NewDef().
		Define(Key{Name: "mode", Type: String, Default: NoDefault, Importance: High, Group: "Mode", Validator: OneOf("bulk", "incrementing")}).
		Define(Key{Name: "connection.url", Type: String, Default: NoDefault, Importance: High, Group: "Database"}).
		Define(Key{Name: "batch.max.rows", Type: Int, Default: 100, Group: "Connector", OrderInGroup: 2}).
		Define(Key{Name: "connection.password", Type: Password, Default: nil, Group: "Database"})
	infos := d.Infos("io.example.Conn", map[string]string{
		"mode": "sideways", "batch.max.rows": "lots", "connection.password": "pw", "extra.key": "x",
	}, Errors{{Key: "mode", Message: "cross-key problem"}})
	if infos.ErrorCount != 4 {
		t.Fatalf("error_count %d, want 4: %+v", infos.ErrorCount, infos)
	}
	errs := map[string][]string{}
	vals := map[string]*string{}
	for _, c := range infos.Configs {
		errs[c.Value.Name] = c.Value.Errors
		vals[c.Value.Name] = c.Value.Value
	}
	if len(errs["mode"]) != 2 || !strings.Contains(errs["mode"][0], "String must be one of: bulk, incrementing") {
		t.Errorf("mode errors %q", errs["mode"])
	}
	if len(errs["connection.url"]) != 1 || !strings.Contains(errs["connection.url"][0], "Missing required configuration") {
		t.Errorf("url errors %q", errs["connection.url"])
	}
	if len(errs["batch.max.rows"]) != 1 || !strings.Contains(errs["batch.max.rows"][0], "INT") {
		t.Errorf("batch errors %q", errs["batch.max.rows"])
	}
	if *vals["connection.password"] != HiddenValue {
		t.Errorf("password shown: %q", *vals["connection.password"])
	}
	if vals["extra.key"] == nil || *vals["extra.key"] != "x" || len(errs["extra.key"]) != 0 {
		t.Errorf("unknown key not listed as kept")
	}
	if strings.Join(infos.Groups, ",") != "Mode,Database,Connector,Unknown" {
		t.Errorf("groups %v", infos.Groups)
	}
	b, _ := json.Marshal(infos.Configs[2])
	want := `{"definition":{"name":"batch.max.rows","type":"INT","required":false,"default_value":"100","importance":"LOW","documentation":"","group":"Connector","width":"NONE","display_name":"batch.max.rows","dependents":[],"order":2,"order_in_group":2},"value":{"name":"batch.max.rows","value":"lots","recommended_values":[],"errors":["Invalid value lots for configuration batch.max.rows: Not a number of type INT"],"visible":true}}`
	if string(b) != want {
		t.Errorf("json\n got %s\nwant %s", b, want)
	}
}
