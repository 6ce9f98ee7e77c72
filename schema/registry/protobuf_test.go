package registry

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// envConfluentProtobufExamples names a local copy of Confluent's
// protobuf-provider test fixture diff-schema-examples.json (from
// confluentinc/schema-registry, src/test/resources). It is Confluent's file,
// under Confluent's license, so it is not part of this repository: the check
// runs where a developer points this variable at a copy.
const envConfluentProtobufExamples = "TRIBUTARY_CONFLUENT_PROTOBUF_EXAMPLES"

// TestProtobufCompatibilityConfluentExamples runs Confluent's own
// compatibility fixtures (used by
// SchemaDiffTest.checkProtobufSchemaCompatibility: original and update
// schema, their dependencies, and whether the update is backward
// compatible) through the PROTOBUF format. All 54 agreed when it was
// written; TestProtobufCompatibilityShapes keeps literal cases in CI.
func TestProtobufCompatibilityConfluentExamples(t *testing.T) {
	path := os.Getenv(envConfluentProtobufExamples)
	if path == "" {
		t.Skipf("%s not set (a local copy of Confluent's diff-schema-examples.json)", envConfluentProtobufExamples)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	type dep struct {
		Name       string `json:"name"`
		Dependency string `json:"dependency"`
	}
	var cases []struct {
		Description  string   `json:"description"`
		Original     string   `json:"original_schema"`
		Update       string   `json:"update_schema"`
		OriginalDeps []dep    `json:"original_dependencies"`
		UpdateDeps   []dep    `json:"update_dependencies"`
		Changes      []string `json:"changes"`
		Compatible   bool     `json:"compatible"`
	}
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	deps := func(ds []dep) map[string]string {
		m := map[string]string{}
		for _, d := range ds {
			m[d.Name] = d.Dependency
		}
		return m
	}
	f := protobufFormat{}
	for _, c := range cases {
		older := Resolved{Schema: c.Original, Deps: deps(c.OriginalDeps)}
		newer := Resolved{Schema: c.Update, Deps: deps(c.UpdateDeps)}
		if _, err := f.Canonical(older); err != nil {
			t.Errorf("%s: original does not compile: %v", c.Description, err)
			continue
		}
		if _, err := f.Canonical(newer); err != nil {
			t.Errorf("%s: update does not compile: %v", c.Description, err)
			continue
		}
		msgs := f.CheckCompatibility(newer, older)
		if got := len(msgs) == 0; got != c.Compatible {
			t.Errorf("%s: compatible=%v, Confluent says %v (changes %v); ours: %v", c.Description, got, c.Compatible, c.Changes, msgs)
		}
	}
}

// TestProtobufCompatibilityShapes: a changed field type is reported in
// Confluent's {errorType, description} shape with the field's path; adding
// and removing optional fields is compatible.
func TestProtobufCompatibilityShapes(t *testing.T) {
	v1 := "syntax = \"proto3\";\npackage p;\n\nmessage Envelope {\n  Value after = 1;\n\n  message Value {\n    int32 id = 1;\n    string name = 2;\n  }\n}\n"
	changed := strings.Replace(v1, "string name = 2;", "double name = 2;", 1)
	added := strings.Replace(v1, "string name = 2;", "string name = 2;\n    int64 extra = 3;", 1)
	removed := strings.Replace(v1, "    string name = 2;\n", "", 1)
	renumbered := strings.Replace(v1, "string name = 2;", "string name = 5;", 1)
	f := protobufFormat{}
	r := func(s string) Resolved { return Resolved{Schema: s} }
	msgs := f.CheckCompatibility(r(changed), r(v1))
	want := `{errorType:"FIELD_SCALAR_KIND_CHANGED", description:"The kind of a SCALAR field at path '#/Envelope/Value/2' in the new schema does not match its kind in the old schema"}`
	if len(msgs) != 1 || msgs[0] != want {
		t.Errorf("string→double: %v", msgs)
	}
	for name, s := range map[string]string{"added": added, "removed": removed, "renumbered (removed + added)": renumbered} {
		if m := f.CheckCompatibility(r(s), r(v1)); len(m) != 0 {
			t.Errorf("%s: %v", name, m)
		}
	}
	noValue := "syntax = \"proto3\";\npackage p;\n\nmessage Envelope {\n  int32 after = 1;\n}\n"
	if m := f.CheckCompatibility(r(noValue), r(v1)); len(m) < 2 || !strings.Contains(strings.Join(m, " "), "MESSAGE_REMOVED") ||
		!strings.Contains(strings.Join(m, " "), "FIELD_KIND_CHANGED") {
		t.Errorf("message removed and field kind changed: %v", m)
	}
	if m := f.CheckCompatibility(r(strings.Replace(v1, "package p;", "package q;", 1)), r(v1)); len(m) != 1 || !strings.Contains(m[0], "PACKAGE_CHANGED") {
		t.Errorf("package changed: %v", m)
	}
	if _, err := f.Canonical(r("syntax = \"proto3\";\nmessage A { B b = 1; }\n")); err == nil {
		t.Error("an unresolvable type was accepted")
	}
	// (confluent.field_meta) without the import compiles (as Confluent writes it)
	meta := "syntax = \"proto3\";\npackage p;\n\nmessage A {\n  int32 a = 1 [(confluent.field_meta) = {\n    params: [\n      {\n        key: \"connect.type\",\n        value: \"int16\"\n      }\n    ]\n  }];\n}\n"
	if _, err := f.Canonical(r(meta)); err != nil {
		t.Errorf("field_meta without its import: %v", err)
	}
}
