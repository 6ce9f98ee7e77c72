package jsonschemaconv

import (
	"testing"

	"github.com/tributary-cdc/tributary/schema"
)

// FuzzConnectSchema feeds arbitrary JSON Schemas and payloads to the
// reading side: it may refuse them, never panic; what it accepts it can
// write again.
func FuzzConnectSchema(f *testing.F) {
	s, v := allTypes()
	dc := defaultDataConfig()
	doc, _ := dc.jsonSchemaOf(s)
	payload, _ := dc.appendValue(nil, s, v)
	f.Add(string(appendJSON(nil, doc)), string(payload))
	f.Add(`{"type":["null","string"],"required":"x"}`, `"a"`)
	f.Add(`{"type":"object","properties":{"a":{"$ref":"#/definitions/x"}},"definitions":{"x":{"$ref":"#/definitions/x"}}}`, `{"a":1}`)
	f.Add(`{"oneOf":[{"type":"integer"},{"type":"object","properties":{"b":{"type":"string"}}}]}`, `{"b":"c"}`)
	f.Add(`{"type":"array","items":{"type":"object","properties":{"key":{"type":"integer"},"value":{"type":"string"}}},"connect.type":"map"}`, `[{"key":1,"value":"x"}]`)
	f.Fuzz(func(t *testing.T, jsonSchema, payload string) {
		cs, err := dc.connectSchemaOf(jsonSchema, nil)
		if err != nil {
			return
		}
		p, err := parseOrdered([]byte(payload))
		if err != nil {
			return
		}
		val, err := dc.toValue(cs, p, true)
		if err != nil || val == nil {
			return
		}
		if err := schema.Validate(cs, val); err != nil {
			return // e.g. a required field missing from the payload
		}
		if _, err := dc.jsonSchemaOf(cs); err != nil {
			t.Fatalf("schema read from %s cannot be written: %v", jsonSchema, err)
		}
		if _, err := dc.appendValue(nil, cs, val); err != nil {
			t.Fatalf("value read from %s under %s cannot be written: %v", payload, jsonSchema, err)
		}
	})
}
