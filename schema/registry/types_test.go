package registry

import (
	"context"
	"encoding/json"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"
)

// Schemas of Confluent's documentation example for JSON Schema references
// (schema-registry/fundamentals/serdes-develop/serdes-json: a Person whose
// address property is "$ref": "address.schema.json", registered with
// references [{"name":"address.schema.json","subject":"address","version":1}]).
const (
	jsAddress = `{"$id":"http://example.com/address.schema.json","title":"Address","type":"object","properties":{"street":{"type":"string"},"city":{"type":"string"}},"required":["street"]}`
	jsPerson  = `{"$id":"http://example.com/person.schema.json","title":"Person","type":"object","properties":{"name":{"type":"string"},"address":{"$ref":"address.schema.json"}}}`
)

var addressRef = []map[string]any{{"name": "address.schema.json", "subject": "address", "version": 1}}

// wantJSON compares a response body with a hand-written literal, as JSON.
func wantJSON(t *testing.T, c call, status int, want string) {
	t.Helper()
	var got, exp any
	if err := json.Unmarshal(c.body, &got); err != nil {
		t.Fatalf("body %s: %v", c.body, err)
	}
	if err := json.Unmarshal([]byte(want), &exp); err != nil {
		t.Fatalf("bad literal %s: %v", want, err)
	}
	if c.status != status || !reflect.DeepEqual(got, exp) {
		t.Fatalf("got %d %s\nwant %d %s", c.status, c.body, status, want)
	}
}

func TestSchemaTypesAndReferences(t *testing.T) {
	s := startServer(t, nil)
	defer s.Close()
	u := s.URL()
	// Confluent's documented answer of GET /schemas/types.
	wantJSON(t, do(t, "GET", u+"/schemas/types", nil), 200, `["JSON","PROTOBUF","AVRO"]`)

	// An Avro schema: schemaType left out of every answer.
	wantJSON(t, do(t, "POST", u+"/subjects/avro-value/versions", map[string]string{"schema": `{"type":"string"}`}), 200, `{"id":1}`)
	wantJSON(t, do(t, "GET", u+"/schemas/ids/1", nil), 200, `{"schema":"{\"type\":\"string\"}"}`)
	wantJSON(t, do(t, "GET", u+"/subjects/avro-value/versions/1", nil), 200, `{"subject":"avro-value","version":1,"id":1,"schema":"{\"type\":\"string\"}"}`)
	// The same text as JSON Schema is another schema, with another id.
	wantJSON(t, do(t, "POST", u+"/subjects/json-value/versions", map[string]any{"schemaType": "JSON", "schema": `{"type":"string"}`}), 200, `{"id":2}`)
	wantJSON(t, do(t, "GET", u+"/schemas/ids/2", nil), 200, `{"schemaType":"JSON","schema":"{\"type\":\"string\"}"}`)

	// A JSON schema referring to another one.
	wantJSON(t, do(t, "POST", u+"/subjects/address/versions", map[string]any{"schemaType": "JSON", "schema": jsAddress}), 200, `{"id":3}`)
	c := do(t, "POST", u+"/subjects/person-value/versions", map[string]any{"schemaType": "JSON", "schema": jsPerson, "references": addressRef})
	wantJSON(t, c, 200, `{"id":4}`)
	personText, _ := json.Marshal(jsPerson)
	refs := `[{"name":"address.schema.json","subject":"address","version":1}]`
	wantJSON(t, do(t, "GET", u+"/schemas/ids/4", nil), 200, `{"schemaType":"JSON","schema":`+string(personText)+`,"references":`+refs+`}`)
	wantJSON(t, do(t, "GET", u+"/subjects/person-value/versions/latest", nil), 200,
		`{"subject":"person-value","version":1,"id":4,"schemaType":"JSON","references":`+refs+`,"schema":`+string(personText)+`}`)
	wantJSON(t, do(t, "GET", u+"/schemas/ids/4/versions", nil), 200, `[{"subject":"person-value","version":1}]`)
	wantJSON(t, do(t, "GET", u+"/subjects/address/versions/1/referencedby", nil), 200, `[4]`)
	wantJSON(t, do(t, "GET", u+"/subjects/person-value/versions/1/referencedby", nil), 200, `[]`)
	// Registering again (other whitespace) is the same schema; lookup needs
	// the same type and references.
	wantJSON(t, do(t, "POST", u+"/subjects/person-value/versions", map[string]any{"schemaType": "JSON", "schema": strings.ReplaceAll(jsPerson, ",", ", "), "references": addressRef}), 200, `{"id":4}`)
	wantJSON(t, do(t, "POST", u+"/subjects/person-value", map[string]any{"schemaType": "JSON", "schema": jsPerson, "references": addressRef}), 200,
		`{"subject":"person-value","version":1,"id":4,"schemaType":"JSON","references":`+refs+`,"schema":`+string(personText)+`}`)
	// without its reference the $ref does not resolve: invalid, as Confluent parses lookups too
	do(t, "POST", u+"/subjects/person-value", map[string]any{"schemaType": "JSON", "schema": jsPerson}).wantError(t, 422, ErrCodeInvalidSchema)
	do(t, "POST", u+"/subjects/person-value", map[string]any{"schemaType": "JSON", "schema": jsAddress}).wantError(t, 404, ErrCodeSchemaNotFound)

	// References must resolve, and a $ref must reach a reference.
	do(t, "POST", u+"/subjects/x-value/versions", map[string]any{"schemaType": "JSON", "schema": jsPerson,
		"references": []map[string]any{{"name": "address.schema.json", "subject": "nobody", "version": 1}}}).wantError(t, 422, ErrCodeInvalidSchema)
	do(t, "POST", u+"/subjects/x-value/versions", map[string]any{"schemaType": "JSON", "schema": jsPerson,
		"references": []map[string]any{{"name": "address.schema.json", "subject": "address", "version": 7}}}).wantError(t, 422, ErrCodeInvalidSchema)
	do(t, "POST", u+"/subjects/x-value/versions", map[string]any{"schemaType": "JSON", "schema": jsPerson}).wantError(t, 422, ErrCodeInvalidSchema)
	do(t, "POST", u+"/subjects/x-value/versions", map[string]any{"schemaType": "JSON", "schema": `{"type":"nope"}`}).wantError(t, 422, ErrCodeInvalidSchema)
	do(t, "POST", u+"/subjects/x-value/versions", map[string]any{"schemaType": "XML", "schema": `<a/>`}).wantError(t, 422, ErrCodeInvalidSchema)

	// A referenced version cannot be deleted (42206, Confluent's message),
	// neither alone nor with its subject; once the referrer is soft-deleted it can.
	c = do(t, "DELETE", u+"/subjects/address/versions/1", nil)
	wantJSON(t, c, 422, `{"error_code":42206,"message":"One or more references exist to the schema {magic=1,keytype=SCHEMA,subject=address,version=1}."}`)
	do(t, "DELETE", u+"/subjects/address", nil).wantError(t, 422, ErrCodeReferenceExists)
	wantJSON(t, do(t, "DELETE", u+"/subjects/person-value/versions/1", nil), 200, `1`)
	wantJSON(t, do(t, "GET", u+"/subjects/address/versions/1/referencedby", nil), 200, `[]`)
	wantJSON(t, do(t, "GET", u+"/subjects/address/versions/1/referencedby?deleted=true", nil), 200, `[4]`)
	// permanent deletion still counts the soft-deleted referrer (Confluent's lookupDeletedSchema)
	wantJSON(t, do(t, "DELETE", u+"/subjects/address/versions/1", nil), 200, `1`)
	do(t, "DELETE", u+"/subjects/address/versions/1?permanent=true", nil).wantError(t, 422, ErrCodeReferenceExists)
}

func TestProtobufCompatibilityREST(t *testing.T) {
	// Stored and served as sent; compatibility checked by protobuf.go's
	// format (Confluent's rules): an added field is BACKWARD compatible, a
	// changed field type is refused with 409, NONE accepts it.
	s := startServer(t, nil)
	defer s.Close()
	u := s.URL()
	p1 := "syntax = \"proto3\";\nmessage A { string a = 1; }\n"
	p2 := "syntax = \"proto3\";\nmessage A { string a = 1; int32 b = 2; }\n"
	p3 := "syntax = \"proto3\";\nmessage A { string a = 1; double b = 2; }\n"
	wantJSON(t, do(t, "POST", u+"/subjects/p-value/versions", map[string]any{"schemaType": "PROTOBUF", "schema": p1}), 200, `{"id":1}`)
	text, _ := json.Marshal(p1)
	wantJSON(t, do(t, "GET", u+"/schemas/ids/1", nil), 200, `{"schemaType":"PROTOBUF","schema":`+string(text)+`}`)
	wantJSON(t, do(t, "POST", u+"/subjects/p-value/versions", map[string]any{"schemaType": "PROTOBUF", "schema": p2}), 200, `{"id":2}`)
	c := do(t, "POST", u+"/subjects/p-value/versions", map[string]any{"schemaType": "PROTOBUF", "schema": p3})
	c.wantError(t, 409, ErrCodeIncompatible)
	if !strings.Contains(string(c.body), "FIELD_SCALAR_KIND_CHANGED") {
		t.Fatalf("message: %s", c.body)
	}
	do(t, "PUT", u+"/config/p-value", map[string]string{"compatibility": "NONE"})
	wantJSON(t, do(t, "POST", u+"/subjects/p-value/versions", map[string]any{"schemaType": "PROTOBUF", "schema": p3}), 200, `{"id":3}`)
	do(t, "POST", u+"/subjects/bad-value/versions", map[string]any{"schemaType": "PROTOBUF", "schema": "message A { B b = 1; }"}).wantError(t, 422, ErrCodeInvalidSchema)
}

// Cases after Confluent's json-schema-provider SchemaDiffTest examples
// (diff-schema-examples.json, diff-combined-schema-examples.json), under the
// default STRICT policy.
func TestJSONCompatibility(t *testing.T) {
	closed := func(props, required string) string {
		return `{"type":"object","properties":{` + props + `},"required":[` + required + `],"additionalProperties":false}`
	}
	open := func(props string) string { return `{"type":"object","properties":{` + props + `}}` }
	cases := []struct {
		name       string
		old, new   string
		compatible bool
	}{
		{"optional property added to closed model", closed(`"a":{"type":"string"}`, ``), closed(`"a":{"type":"string"},"b":{"type":"integer"}`, ``), true},
		{"required property added to closed model", closed(`"a":{"type":"string"}`, ``), closed(`"a":{"type":"string"},"b":{"type":"integer"}`, `"b"`), false},
		{"required property with default added", closed(`"a":{"type":"string"}`, ``), closed(`"a":{"type":"string"},"b":{"type":"integer","default":0}`, `"b"`), true},
		{"optional property added to open model", open(`"a":{"type":"string"}`), open(`"a":{"type":"string"},"b":{"type":"integer"}`), false},
		{"property removed from open model", open(`"a":{"type":"string"},"b":{"type":"integer"}`), open(`"a":{"type":"string"}`), true},
		{"property removed from closed model", closed(`"a":{"type":"string"},"b":{"type":"integer"}`, ``), closed(`"a":{"type":"string"}`, ``), false},
		{"type changed", open(`"a":{"type":"string"}`), open(`"a":{"type":"integer"}`), false},
		{"integer extended to number", open(`"a":{"type":"integer"}`), open(`"a":{"type":"number"}`), true},
		{"number narrowed to integer", open(`"a":{"type":"number"}`), open(`"a":{"type":"integer"}`), false},
		{"required removed", closed(`"a":{"type":"string"}`, `"a"`), closed(`"a":{"type":"string"}`, ``), true},
		{"required added", closed(`"a":{"type":"string"}`, ``), closed(`"a":{"type":"string"}`, `"a"`), false},
		{"maxLength increased", `{"type":"string","maxLength":5}`, `{"type":"string","maxLength":10}`, true},
		{"maxLength decreased", `{"type":"string","maxLength":10}`, `{"type":"string","maxLength":5}`, false},
		{"enum extended", `{"enum":["a","b"]}`, `{"enum":["a","b","c"]}`, true},
		{"enum narrowed", `{"enum":["a","b"]}`, `{"enum":["a"]}`, false},
		{"sum type extended", `{"type":"string"}`, `{"oneOf":[{"type":"null"},{"type":"string"}]}`, true},
		{"sum type narrowed", `{"oneOf":[{"type":"null"},{"type":"string"}]}`, `{"type":"string"}`, false},
		{"array items changed", `{"type":"array","items":{"type":"string"}}`, `{"type":"array","items":{"type":"integer"}}`, false},
		{"additionalProperties removed", open(`"a":{"type":"string"}`), closed(`"a":{"type":"string"}`, ``), false},
		{"additionalProperties added", closed(`"a":{"type":"string"}`, ``), open(`"a":{"type":"string"}`), true},
		{"oneOf to anyOf", `{"oneOf":[{"type":"string"},{"type":"integer"}]}`, `{"anyOf":[{"type":"string"},{"type":"integer"}]}`, true},
		{"anyOf to oneOf", `{"anyOf":[{"type":"string"},{"type":"integer"}]}`, `{"oneOf":[{"type":"string"},{"type":"integer"}]}`, false},
		{"removed enum of a typed schema", `{"type":"string","enum":["red"]}`, `{"type":"string"}`, true},
		{"not extended", `{"not":{"type":"integer"}}`, `{"not":{"type":"number"}}`, false},
		{"dependency schema removed", `{"dependencies":{"foo":{"type":"string"}}}`, `{}`, true},
		{"dependency schema added", `{"dependencies":{"foo":{"type":"string"}}}`, `{"dependencies":{"bar":{"type":"string"}}}`, false},
		{"tuple item removed, covered by additionalItems", `{"type":"array","items":[{"type":"string"},{"type":"number"}],"additionalItems":false}`,
			`{"type":"array","items":[{"type":"string"}],"additionalItems":{"type":"number"}}`, true},
		{"property removed, covered by patternProperties", `{"properties":{"foo":{"type":"string"},"I_123":{"type":"integer"}},"additionalProperties":false}`,
			`{"properties":{"foo":{"type":"string"}},"additionalProperties":false,"patternProperties":{"^S_":{"type":"string"},"^I_":{"type":"number"}}}`, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			msgs := checkJSONCompat(Resolved{Schema: tc.new}, Resolved{Schema: tc.old})
			if (len(msgs) == 0) != tc.compatible {
				t.Fatalf("compatible=%v, want %v: %v", len(msgs) == 0, tc.compatible, msgs)
			}
		})
	}
	// Through the REST API, with Confluent's 409.
	s := startServer(t, nil)
	defer s.Close()
	u := s.URL()
	body := func(sch string) map[string]any { return map[string]any{"schemaType": "JSON", "schema": sch} }
	wantJSON(t, do(t, "POST", u+"/subjects/c-value/versions", body(closed(`"a":{"type":"string"}`, ``))), 200, `{"id":1}`)
	do(t, "POST", u+"/subjects/c-value/versions", body(closed(`"a":{"type":"integer"}`, ``))).wantError(t, 409, ErrCodeIncompatible)
	wantJSON(t, do(t, "POST", u+"/compatibility/subjects/c-value/versions/latest", body(closed(`"a":{"type":"string"},"b":{"type":"integer"}`, ``))), 200, `{"is_compatible":true}`)
	wantJSON(t, do(t, "POST", u+"/subjects/c-value/versions", body(closed(`"a":{"type":"string"},"b":{"type":"integer"}`, ``))), 200, `{"id":2}`)
	// FORWARD: the old schema must read the new data: a property added to a
	// closed model is one the old schema refuses
	do(t, "PUT", u+"/config/c-value", map[string]string{"compatibility": "FORWARD"})
	do(t, "POST", u+"/subjects/c-value/versions", body(closed(`"a":{"type":"string"},"b":{"type":"integer"},"c":{"type":"string"}`, ``))).wantError(t, 409, ErrCodeIncompatible)
	// and a different schema type is never compatible
	do(t, "PUT", u+"/config/c-value", map[string]string{"compatibility": "BACKWARD"})
	do(t, "POST", u+"/subjects/c-value/versions", map[string]string{"schema": `{"type":"string"}`}).wantError(t, 409, ErrCodeIncompatible)
}

func TestClientTypesAndReferences(t *testing.T) {
	s := startServer(t, nil)
	defer s.Close()
	cl, err := s.Client()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	aid, err := cl.RegisterSchema(ctx, "address", Schema{Type: TypeJSON, Schema: jsAddress})
	if err != nil {
		t.Fatal(err)
	}
	refs := []Reference{{Name: "address.schema.json", Subject: "address", Version: 1}}
	pid, err := cl.RegisterSchema(ctx, "person-value", Schema{Type: TypeJSON, Schema: jsPerson, References: refs})
	if err != nil {
		t.Fatal(err)
	}
	if aid != 1 || pid != 2 {
		t.Fatalf("ids %d %d", aid, pid)
	}
	if id, err := cl.LookupSchema(ctx, "person-value", Schema{Type: TypeJSON, Schema: jsPerson, References: refs}); err != nil || id != pid {
		t.Fatalf("lookup: %d %v", id, err)
	}
	// A fresh client fetches type and references from the registry.
	fresh, _ := s.Client()
	got, err := fresh.SchemaOf(ctx, pid)
	if err != nil {
		t.Fatal(err)
	}
	if got.Type != TypeJSON || got.Schema != jsPerson || !reflect.DeepEqual(got.References, refs) {
		t.Fatalf("SchemaOf: %+v", got)
	}
	id, latest, err := fresh.LatestSchema(ctx, "person-value")
	if err != nil || id != pid || latest.Type != TypeJSON || !reflect.DeepEqual(latest.References, refs) {
		t.Fatalf("LatestSchema: %d %+v %v", id, latest, err)
	}
	id, at, err := fresh.SchemaAt(ctx, "address", 1)
	if err != nil || id != aid || at.Type != TypeJSON || at.References != nil {
		t.Fatalf("SchemaAt: %d %+v %v", id, at, err)
	}
	if _, err := fresh.SchemaByID(ctx, pid); err == nil || !strings.Contains(err.Error(), "not AVRO") {
		t.Fatalf("SchemaByID of a JSON schema: %v", err)
	}
}

// TestPythonClientReferences registers JSON schemas with a reference through
// a client nobody here wrote, Confluent's confluent_kafka SchemaRegistryClient
// (Debian's python3-confluent-kafka, installed by scripts/install-deps.sh),
// and checks what it reads back. It fails, not skips, without the package.
func TestPythonClientReferences(t *testing.T) {
	py := "/usr/bin/python3"
	if out, err := exec.Command(py, "-c", "import confluent_kafka.schema_registry, requests").CombinedOutput(); err != nil {
		t.Fatalf("needs Debian's python3-confluent-kafka and python3-requests (run scripts/install-deps.sh): %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s := startServer(t, nil)
	defer s.Close()
	out, err := exec.CommandContext(ctx, py, "testdata/python_refs.py", s.URL()).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("python: %v\n%s", err, stderr)
	}
	wantJSON(t, call{200, out}, 200, `{
		"address_id": 1, "person_id": 2,
		"person_type": "JSON",
		"person_refs": [{"name": "address.schema.json", "subject": "address", "version": 1}],
		"person_text_equal": true,
		"lookup": {"id": 2, "subject": "person-value", "version": 1},
		"latest": {"id": 2, "version": 1, "type": "JSON"},
		"delete_referenced": 42206,
		"bad_ref": 42201
	}`)
}

func TestTypesAndReferencesPersist(t *testing.T) {
	cluster := newCluster(t, t.TempDir())
	defer cluster.Close()
	s := startServer(t, cluster.ListenAddrs())
	u := s.URL()
	wantJSON(t, do(t, "POST", u+"/subjects/address/versions", map[string]any{"schemaType": "JSON", "schema": jsAddress}), 200, `{"id":1}`)
	wantJSON(t, do(t, "POST", u+"/subjects/person-value/versions", map[string]any{"schemaType": "JSON", "schema": jsPerson, "references": addressRef}), 200, `{"id":2}`)
	s.Close()
	s = startServer(t, cluster.ListenAddrs())
	defer s.Close()
	personText, _ := json.Marshal(jsPerson)
	wantJSON(t, do(t, "GET", s.URL()+"/schemas/ids/2", nil), 200,
		`{"schemaType":"JSON","schema":`+string(personText)+`,"references":[{"name":"address.schema.json","subject":"address","version":1}]}`)
	wantJSON(t, do(t, "GET", s.URL()+"/subjects/address/versions/1/referencedby", nil), 200, `[2]`)
	// the same schema again is recognized after the replay
	wantJSON(t, do(t, "POST", s.URL()+"/subjects/person-value/versions", map[string]any{"schemaType": "JSON", "schema": jsPerson, "references": addressRef}), 200, `{"id":2}`)
}
