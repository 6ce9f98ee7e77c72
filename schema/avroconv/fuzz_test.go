package avroconv

import (
	"testing"

	"github.com/hamba/avro/v2"
)

// FuzzDecode feeds arbitrary bodies to compiled readers: they must return a
// value or an error, never panic or hang.
func FuzzDecode(f *testing.F) {
	s, v := allTypes()
	at, err := avroSchemaOf(s, false)
	if err != nil {
		f.Fatal(err)
	}
	enc, err := compileWriter(s, at)
	if err != nil {
		f.Fatal(err)
	}
	w := avro.NewWriter(nil, 256)
	if err := enc(w, v); err != nil {
		f.Fatal(err)
	}
	f.Add(w.Buffer())
	f.Add([]byte{0x02, 0x00})
	f.Add([]byte{0xfe, 0xff, 0xff, 0xff, 0x0f})
	empty, err := parseSchema(`{"type":"array","items":{"type":"record","name":"E","fields":[]}}`)
	if err != nil {
		f.Fatal(err)
	}
	readers := []*reader{}
	for _, t := range []*avroType{at, empty} {
		r, err := compileReader(t)
		if err != nil {
			f.Fatal(err)
		}
		readers = append(readers, r)
	}
	api := avro.Config{MaxByteSliceSize: 1 << 20}.Freeze()
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, rd := range readers {
			r := avro.NewReader(nil, 0, avro.WithReaderConfig(api)).Reset(body)
			_, _ = rd.dec(r)
		}
	})
}
