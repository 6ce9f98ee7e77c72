package jsonconv

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/tributary-cdc/tributary/schema"
)

// FuzzRoundTrip checks decode → encode → decode stability: whatever the
// converter accepts, it writes back in a form it reads as the same schema and
// value, and a second round gives identical bytes.
func FuzzRoundTrip(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err == nil {
			f.Add(b)
		}
	}
	for _, s := range []string{
		`{"schema":{"type":"map","keys":{"type":"int8","optional":true},"values":{"type":"float"}},"payload":[[null,1e39],[3,"NaN"]]}`,
		`{"schema":{"type":"bytes","name":"org.apache.kafka.connect.data.Decimal","parameters":{"scale":"3"}},"payload":1.5}`,
		`{"schema":null,"payload":{"a":[1,2.5,"\u00e9\ud800"]}}`,
		`{"payload":{"x":1},"schema":{"type":"struct","fields":[{"type":"int64","field":"x","default":7}]}}`,
	} {
		f.Add([]byte(s))
	}
	convs := []*Converter{New(DefaultConfig()), New(Config{SchemasEnable: false}), New(Config{SchemasEnable: true, DecimalFormat: DecimalNumeric})}
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, c := range convs {
			s, v, err := c.ToConnect("t", nil, in)
			if err != nil {
				continue
			}
			enc, err := c.FromConnect("t", nil, s, v)
			if err != nil {
				var fe *FieldError
				if !errors.As(err, &fe) {
					t.Fatalf("encode of decoded data failed without a FieldError: %v", err)
				}
				continue // e.g. a numeric decimal with more digits than its scale
			}
			if s == nil && v == nil {
				if enc != nil {
					t.Fatalf("tombstone encoded as %q", enc)
				}
				continue
			}
			s2, v2, err := c.ToConnect("t", nil, enc)
			if err != nil {
				t.Fatalf("decode of our own output %s: %v", enc, err)
			}
			if !schema.Equal(s, s2) {
				t.Fatalf("schema changed in round trip: %s", enc)
			}
			if !schema.EqualValues(v, v2) {
				t.Fatalf("value changed in round trip:\n%#v\n%#v\n%s", v, v2, enc)
			}
			enc2, err := c.FromConnect("t", nil, s2, v2)
			if err != nil || !bytes.Equal(enc, enc2) {
				t.Fatalf("second encode differs: %v\n%s\n%s", err, enc, enc2)
			}
		}
	})
}
