package simpleconv

import (
	"bytes"
	"testing"

	"github.com/tributary-cdc/tributary/schema"
)

func TestString(t *testing.T) {
	var c String
	for _, tc := range []struct {
		in   any
		want []byte
	}{
		{"héllo", []byte("héllo")},
		{int32(-7), []byte("-7")},
		{int64(1) << 40, []byte("1099511627776")},
		{true, []byte("true")},
		{nil, nil},
	} {
		got, err := c.FromConnect("t", nil, nil, tc.in)
		if err != nil || !bytes.Equal(got, tc.want) || (got == nil) != (tc.want == nil) {
			t.Errorf("FromConnect(%v) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	s, v, err := c.ToConnect("t", nil, []byte("abc"))
	if err != nil || s != schema.OptionalString || v != "abc" {
		t.Errorf("ToConnect = %v %v %v", s, v, err)
	}
	if _, v, _ := c.ToConnect("t", nil, nil); v != nil {
		t.Errorf("ToConnect(nil) = %v, want nil", v)
	}
}

func TestByteArray(t *testing.T) {
	var c ByteArray
	got, err := c.FromConnect("t", nil, schema.BytesSchema, []byte{0, 1, 2})
	if err != nil || !bytes.Equal(got, []byte{0, 1, 2}) {
		t.Fatalf("FromConnect = %v, %v", got, err)
	}
	if _, err := c.FromConnect("t", nil, schema.StringSchema, "x"); err == nil {
		t.Fatal("FromConnect accepted a STRING schema")
	}
	if got, err := c.FromConnect("t", nil, nil, nil); got != nil || err != nil {
		t.Fatalf("FromConnect(nil) = %v, %v", got, err)
	}
	s, v, err := c.ToConnect("t", nil, []byte("z"))
	if err != nil || s != schema.OptionalBytes || !bytes.Equal(v.([]byte), []byte("z")) {
		t.Fatalf("ToConnect = %v %v %v", s, v, err)
	}
}
