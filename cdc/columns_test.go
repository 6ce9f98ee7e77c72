package cdc

import (
	"crypto/sha256"
	"strings"
	"testing"

	"github.com/tributary-cdc/tributary/schema"
)

// TestHashColumnValue checks Debezium's column.mask.hash output. The
// expected digests were computed outside Go: "hello" with Python hashlib
// (sha256(b"CzQMA0cB5K" + b"\xac\xed\x00\x05t\x00\x05hello")), and the
// non-ASCII string (NUL, a supplementary character) by JDK 17's
// ObjectOutputStream.writeObject and MessageDigest, as MaskStrings does.
func TestHashColumnValue(t *testing.T) {
	salt := []byte("CzQMA0cB5K")
	for _, c := range []struct{ in, v1, v2 string }{
		{"hello", "b4d39ab0d198fb4cac8b2f023da74f670bcaf192dcc79b5d6361b7ae6b2fafdf", "c4bf2f9ebc99b7f64add45103e81eb4ca483649064e3e1398b21f41786360c7b"},
		{"Grüße €𝄞\x00x", "90e4546d3c0deeeed600ad8fa6d8f44c3e51396fa42d1a9579e55738f0ac981b", "375bba520d423d138aa2dc82acf8658338c4843be4e53e2ddcdcda6d0b41cba7"},
	} {
		if got := HashColumnValue(sha256.New, salt, c.in, false); got != c.v1 {
			t.Errorf("v1 %q: %s, want %s", c.in, got, c.v1)
		}
		if got := HashColumnValue(sha256.New, salt, c.in, true); got != c.v2 {
			t.Errorf("v2 %q: %s, want %s", c.in, got, c.v2)
		}
	}
}

func TestColumnRules(t *testing.T) {
	r, errs := ParseColumnRules(map[string]string{
		"column.mask.with.3.chars":                      "db.t.secret",
		"column.truncate.to.4.chars":                    "db.t.long,db.t.secret",
		"column.mask.hash.SHA-256.with.salt.CzQMA0cB5K": "db.t.h",
		"datatype.propagate.source.type":                ".+\\.VARCHAR",
		"message.key.columns":                           "db.t:b,a;other.*:x",
	})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	// truncate is registered first: it wins over the mask for db.t.secret
	m := r.Mapping(SourceColumn{Table: "db.t", Name: "secret", TypeName: "varchar", Length: 10, Character: true})
	if got := m.Convert("abcdefgh"); got != "abcd" {
		t.Fatalf("truncate: %v", got)
	}
	if m := r.Mapping(SourceColumn{Table: "db.t", Name: "long", Length: 3, Character: true}); m.Convert("abcdef") != "abcdef" || len(m.Params) != 0 {
		t.Fatal("a column shorter than the truncation is left alone")
	}
	m = r.Mapping(SourceColumn{Table: "db.t", Name: "h", TypeName: "char", Length: 10, Character: true})
	if got := m.Convert("hello"); got != "b4d39ab0d1" {
		t.Fatalf("hash truncated to the column length: %v", got)
	}
	m = r.Mapping(SourceColumn{Table: "db.t", Name: "v", TypeName: "varchar", Length: 20, Character: true})
	s := m.Schema(schema.OptionalString)
	want := []schema.Param{{Key: ParamSourceColumnType, Value: "VARCHAR"}, {Key: ParamSourceColumnLength, Value: "20"}, {Key: ParamSourceColumnName, Value: "v"}}
	if len(s.Parameters) != 3 || s.Parameters[0] != want[0] || s.Parameters[1] != want[1] || s.Parameters[2] != want[2] {
		t.Fatalf("params %v", s.Parameters)
	}
	if len(schema.OptionalString.Parameters) != 0 {
		t.Fatal("shared schema modified")
	}
	if got := r.KeyColumns("db.t", []string{"a", "b", "c"}); len(got) != 2 || got[0] != 1 || got[1] != 0 {
		t.Fatalf("key columns %v", got)
	}
	if got := r.KeyColumns("db.u", []string{"a"}); got != nil {
		t.Fatalf("unmatched table: %v", got)
	}
	for k, v := range map[string]string{
		"column.mask.with.x.chars":         "a.b.c",
		"column.mask.hash.MD2.with.salt.s": "a.b.c",
		"column.truncate.to.5.chars":       "(",
		"message.key.columns":              "db.t",
	} {
		_, errs := ParseColumnRules(map[string]string{k: v})
		if len(errs) == 0 || !strings.Contains(errs.Error(), k) {
			t.Errorf("%s=%s: %v", k, v, errs)
		}
	}
}
