package mysql

import (
	"testing"
	"time"

	"github.com/tributary-cdc/tributary/schema"
)

func TestTemporalHelpers(t *testing.T) {
	for _, c := range []struct {
		y, m, d int64
		days    int64
	}{{1970, 1, 1, 0}, {2024, 1, 15, 19737}, {1969, 12, 31, -1}, {1000, 1, 1, -354285}, {9999, 12, 31, 2932896}, {0, 1, 1, -719528}} {
		if got := schema.DaysFromCivil(c.y, c.m, c.d); got != c.days {
			t.Errorf("schema.DaysFromCivil(%d-%d-%d) = %d, want %d", c.y, c.m, c.d, got, c.days)
		}
		if y, m, d := schema.CivilFromDays(c.days); y != c.y || m != c.m || d != c.d {
			t.Errorf("schema.CivilFromDays(%d) = %d-%d-%d", c.days, y, m, d)
		}
	}
	for _, c := range []struct {
		in   string
		want int64
	}{{"00:00:00", 0}, {"13:45:30.123", 49530123000}, {"-838:59:59", -3020399000000}, {"-00:00:00.5", -500000}, {"838:59:59.000000", 3020399000000}} {
		got, err := parseTime(c.in)
		if err != nil || got != c.want {
			t.Errorf("parseTime(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
	for _, c := range []struct {
		in   any
		want int64
	}{
		{"2018-06-20 15:13:16.945104", 1529507596945104},
		{[]byte("1969-12-31 23:59:59.999"), -1000},
		{time.Date(2024, 2, 29, 13, 45, 30, 123456000, time.UTC), 1709214330123456},
	} {
		got, err := parseDateTime(c.in)
		if err != nil || got != c.want {
			t.Errorf("parseDateTime(%v) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
	if _, err := parseDateTime("0000-00-00 00:00:00"); err != errZeroDate {
		t.Errorf("zero datetime: %v", err)
	}
	for _, c := range []struct {
		us   int64
		fsp  int
		want string
	}{{1529501823000000, 0, "2018-06-20T13:37:03Z"}, {1529501823120000, 3, "2018-06-20T13:37:03.120Z"}, {-1, 6, "1969-12-31T23:59:59.999999Z"}, {0, 2, "1970-01-01T00:00:00.00Z"}} {
		if got := formatZoned(c.us, c.fsp); got != c.want {
			t.Errorf("formatZoned(%d, %d) = %s, want %s", c.us, c.fsp, got, c.want)
		}
	}
}

func TestCharsetDecoding(t *testing.T) {
	if got := charsetDecoder("latin1")("caf\xe9 \x80 \x81"); got != "café € \u0081" {
		t.Errorf("latin1: %q", got)
	}
	if got := charsetDecoder("utf8mb4")("日本"); got != "日本" {
		t.Errorf("utf8mb4: %q", got)
	}
	if got := charsetDecoder("cp1251")("\xcf\xf0\xe8"); got != "При" {
		t.Errorf("cp1251: %q", got)
	}
}

func TestParseEnumValues(t *testing.T) {
	got := parseEnumValues("enum('a','b''c','d,e','')")
	want := []string{"a", "b'c", "d,e", ""}
	if len(got) != len(want) {
		t.Fatalf("%q", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%q", got)
		}
	}
}
