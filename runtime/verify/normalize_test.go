package verify

import (
	"testing"
	"time"
)

func TestNormalizeAcrossTypes(t *testing.T) {
	ts := time.Date(2026, 3, 1, 23, 59, 59, 123456000, time.UTC)
	cases := []struct {
		name string
		a, b any
		ca   class
		cb   class
	}{
		{"tinyint(1) vs boolean", int64(1), true, classInt, classBool},
		{"bit(1) vs boolean", []byte{0}, false, classBit, classBool},
		{"text int vs int64", []byte("42"), int64(42), classInt, classInt},
		{"decimal scale", []byte("12.50"), "12.5000", classDecimal, classDecimal},
		{"decimal vs bigint", "7.000", int64(7), classDecimal, classInt},
		{"float32 round trip", float32(1.1), []byte("1.1"), classFloat32, classFloat32},
		{"float vs double column", float32(0.3), float64(0.3), classFloat32, classFloat64},
		{"negative zero", float64(0), []byte("-0"), classFloat64, classFloat64},
		{"timestamp zones", ts, ts.In(time.FixedZone("x", 7200)), classTimestamp, classTimestamp},
		{"zoned string vs timestamptz", "2026-03-01T23:59:59.123456Z", ts, classText, classTimestamp},
		{"date", time.Date(2026, 2, 3, 0, 0, 0, 0, time.UTC), []byte("2026-02-03"), classDate, classDate},
		{"date vs datetime", time.Date(2026, 2, 3, 0, 0, 0, 0, time.UTC), "2026-02-03 00:00:00", classDate, classTimestamp},
		{"time fraction", []byte("12:34:56.500000"), "12:34:56.5", classTime, classTime},
		{"micro time", int64(45296500000), "12:34:56.5", classTime, classTime},
		{"json key order", `{"b": 1, "a": [1, 2]}`, []byte(`{"a":[1,2],"b":1}`), classText, classJSON},
		{"uuid case", "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11", [16]byte{0xa0, 0xee, 0xbc, 0x99, 0x9c, 0x0b, 0x4e, 0xf8, 0xbb, 0x6d, 0x6b, 0xb9, 0xbd, 0x38, 0x0a, 0x11}, classChar, classUUID},
		{"char padding", "ab   ", []byte("ab"), classChar, classText},
		{"bytes", []byte{0xde, 0xad}, "\xde\xad", classBytes, classBytes},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pc := pairClass(c.ca, c.cb)
			if pc != pairClass(c.cb, c.ca) {
				t.Fatalf("pairClass not symmetric: %v vs %v", pc, pairClass(c.cb, c.ca))
			}
			a, b := normalize(c.a, pc), normalize(c.b, pc)
			if a != b {
				t.Fatalf("%v (%T) → %s, %v (%T) → %s; want equal (class %d)", c.a, c.a, a, c.b, c.b, b, pc)
			}
		})
	}
	// Different values stay different.
	for _, d := range []struct {
		a, b any
		c    class
	}{
		{[]byte("12.5"), "12.51", classDecimal},
		{ts, ts.Add(time.Microsecond), classTimestamp},
		{nil, "", classText},
		{int64(1), int64(2), classInt},
		{`{"a":1}`, `{"a":2}`, classJSON},
	} {
		if normalize(d.a, d.c) == normalize(d.b, d.c) {
			t.Errorf("%v and %v normalize equal", d.a, d.b)
		}
	}
}

func TestClassify(t *testing.T) {
	for _, c := range []struct {
		f         flavor
		typ, base string
		want      class
	}{
		{flavorMySQL, "tinyint(1)", "tinyint", classInt},
		{flavorMySQL, "bit(1)", "bit", classBit},
		{flavorMySQL, "float", "float", classFloat32},
		{flavorMySQL, "float(30)", "float", classFloat64},
		{flavorMySQL, "datetime(6)", "datetime", classTimestamp},
		{flavorMySQL, "char(36)", "char", classChar},
		{flavorMySQL, "longtext", "longtext", classText},
		{flavorPostgres, "numeric(10,2)", "numeric", classDecimal},
		{flavorPostgres, "timestamp with time zone", "timestamptz", classTimestamp},
		{flavorPostgres, "jsonb", "jsonb", classJSON},
		{flavorPostgres, "bytea", "bytea", classBytes},
		{flavorPostgres, "character(8)", "bpchar", classChar},
		{flavorPostgres, "interval", "interval", classOther},
	} {
		if got := classify(c.f, c.typ, c.base); got != c.want {
			t.Errorf("classify(%v, %q, %q) = %d, want %d", c.f, c.typ, c.base, got, c.want)
		}
	}
}

func TestCompareKeyOrder(t *testing.T) {
	if compareKey("9", "10", classInt) >= 0 {
		t.Error("9 < 10 numerically")
	}
	if compareKey("B", "a", classText) >= 0 || compareKey("a", "é", classText) >= 0 {
		t.Error("text keys compare by UTF-8 bytes")
	}
	if compareKey("2026-01-02 00:00:00.000000", "2026-01-10 00:00:00.000000", classTimestamp) >= 0 {
		t.Error("timestamps compare in time order")
	}
}
