package registry

import "testing"

// FuzzJSONCompat checks any two JSON schemas the registry accepts against
// each other: a verdict, never a panic or a hang ($ref cycles included).
func FuzzJSONCompat(f *testing.F) {
	f.Add(jsAddress, jsPerson)
	f.Add(`{"oneOf":[{"type":"null"},{"$ref":"#/definitions/a"}],"definitions":{"a":{"$ref":"#/definitions/a"}}}`, `{"anyOf":[{"type":"string"}]}`)
	f.Add(`{"type":"array","items":[{"type":"string"}],"additionalItems":false}`, `{"type":"array","items":{"type":"string"}}`)
	f.Add(`{"type":"string","enum":["a"],"not":{"const":1}}`, `{"allOf":[{"type":"string"},{"enum":["a","b"]}]}`)
	f.Fuzz(func(t *testing.T, older, newer string) {
		var jf jsonFormat
		if _, err := jf.Canonical(Resolved{Schema: older}); err != nil {
			return
		}
		if _, err := jf.Canonical(Resolved{Schema: newer}); err != nil {
			return
		}
		jf.CheckCompatibility(Resolved{Schema: newer}, Resolved{Schema: older})
		jf.CheckCompatibility(Resolved{Schema: older}, Resolved{Schema: newer})
	})
}
