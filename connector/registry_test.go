package connector_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/connector/config"
	"github.com/tributary-cdc/tributary/schema"
)

func entry(class string, t connector.Type, aliases ...string) connector.Entry {
	return connector.Entry{Class: class, Type: t, Aliases: aliases}
}

func TestRegistryFindByKind(t *testing.T) {
	reg := connector.NewRegistry().Register(
		entry("org.example.transforms.Mask$Value", connector.Transformation, "org.example.OldMask"),
		entry("org.example.predicates.IsTombstone", connector.Predicate),
		entry("org.example.JsonConverter", connector.Converter, "Json"),
		entry("org.example.HeaderConv", connector.HeaderConverter),
	)
	cases := []struct {
		t    connector.Type
		name string
		want string // "" = not found
	}{
		{connector.Transformation, "org.example.transforms.Mask$Value", "org.example.transforms.Mask$Value"},
		{connector.Transformation, "Mask$Value", "org.example.transforms.Mask$Value"}, // simple name
		{connector.Transformation, " Mask$Value ", "org.example.transforms.Mask$Value"},
		{connector.Transformation, "org.example.OldMask", "org.example.transforms.Mask$Value"},
		{connector.Transformation, "OldMask", ""},          // an alias's simple name is not an alias
		{connector.Transformation, "other.Mask$Value", ""}, // a dotted name must match whole
		{connector.Transformation, "IsTombstone", ""},      // kinds apart
		{connector.Predicate, "IsTombstone", "org.example.predicates.IsTombstone"},
		{connector.Converter, "Json", "org.example.JsonConverter"},
		{connector.Converter, "JsonConverter", "org.example.JsonConverter"},
		{connector.HeaderConverter, "HeaderConv", "org.example.HeaderConv"},
	}
	for _, c := range cases {
		e, ok := reg.Find(c.t, c.name)
		if got := map[bool]string{true: e.Class}[ok]; got != c.want {
			t.Errorf("Find(%s, %q) = %q, want %q", c.t, c.name, got, c.want)
		}
	}
	if e, ok := reg.FindAny("IsTombstone"); !ok || e.Type != connector.Predicate {
		t.Errorf("FindAny(IsTombstone) = %+v %v", e, ok)
	}
}

func TestRegistryLaterEntryWins(t *testing.T) {
	reg := connector.NewRegistry().Register(entry("a.B", connector.Converter, "B1"))
	clone := reg.Clone().Register(connector.Entry{Class: "a.B", Type: connector.Converter, Doc: "second"})
	if e, _ := clone.Find(connector.Converter, "a.B"); e.Doc != "second" {
		t.Errorf("the later entry does not win: %+v", e)
	}
	if es := clone.Entries(connector.Converter); len(es) != 1 || es[0].Doc != "second" {
		t.Errorf("Entries lists a replaced entry: %+v", es)
	}
	if e, _ := reg.Find(connector.Converter, "a.B"); e.Doc != "" {
		t.Errorf("Clone changed the original: %+v", e)
	}
}

func TestRegistryConnectorLookupUnchanged(t *testing.T) {
	reg := connector.NewRegistry()
	reg.Register(entry("org.example.Conv", connector.Converter))
	if _, err := reg.Lookup("org.example.Conv"); err == nil ||
		err.Error() != "failed to find any class that implements Connector and which name matches org.example.Conv" {
		t.Errorf("a converter found as a connector: %v", err)
	}
	if len(reg.Plugins()) != 0 {
		t.Errorf("Plugins lists non-connectors: %v", reg.Plugins())
	}
}

func TestEntryCheck(t *testing.T) {
	def := func() *config.Def {
		return config.NewDef().Define(config.Key{Name: "n", Type: config.Int, Default: 1, Importance: config.High})
	}
	built := 0
	e := connector.Entry{Class: "x.Conv", Type: connector.Converter, Config: def,
		NewConverter: func(props map[string]string, isKey bool) (schema.Converter, error) {
			built++
			if !isKey {
				return nil, errors.New("value converters are not supported")
			}
			return nil, config.Errors{{Key: "n", Message: "too small"}}
		}}
	if errs := e.Check(map[string]string{"n": "many"}); len(errs) != 1 || errs[0].Key != "n" || !strings.HasPrefix(errs[0].Message, "Invalid value many for configuration n") || built != 0 {
		t.Errorf("parse error: %v (constructor ran %d times)", errs, built)
	}
	if errs := e.Check(map[string]string{"converter.type": "key"}); len(errs) != 1 || errs[0].Key != "n" || errs[0].Message != "too small" {
		t.Errorf("constructor error: %v", errs)
	}
	if errs := e.Check(map[string]string{"converter.type": "value"}); len(errs) != 1 || errs[0].Key != "" {
		t.Errorf("keyless constructor error: %v", errs)
	}
	e.Validate = func(map[string]string) error { return nil }
	built = 0
	if errs := e.Check(map[string]string{"converter.type": "value"}); errs != nil || built != 0 {
		t.Errorf("Validate does not replace the constructor: %v, built %d", errs, built)
	}
}
