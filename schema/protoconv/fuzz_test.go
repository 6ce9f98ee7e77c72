package protoconv

import (
	"testing"

	"github.com/tributary-cdc/tributary/schema"
)

// FuzzToConnect feeds arbitrary wire-format records to a converter whose
// registry holds the Debezium envelope and a primitive key: they must give a
// value or an error, never panic or hang.
func FuzzToConnect(f *testing.F) {
	_, cl := memRegistry(f)
	cfg := DefaultConfig()
	cfg.Registry = cl
	c, err := New(cfg)
	if err != nil {
		f.Fatal(err)
	}
	env, v := debeziumCreate()
	rec, err := c.FromConnect("fz", nil, env, v)
	if err != nil {
		f.Fatal(err)
	}
	key, err := c.FromConnect("fzk", nil, schema.StringSchema, "k")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(rec)
	f.Add(key)
	f.Add(append(append([]byte{}, rec[:5]...), 2, 2))
	f.Add(append(append([]byte{}, rec[:5]...), 0xff, 0xff, 0xff, 0xff, 0x0f))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _, _ = c.ToConnect("fz", nil, b)
	})
}
