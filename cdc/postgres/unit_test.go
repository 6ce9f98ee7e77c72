package postgres

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/tributary-cdc/tributary/connector/config"
	"github.com/tributary-cdc/tributary/schema"
)

func TestParseTimestamp(t *testing.T) {
	for _, c := range []struct {
		in   string
		us   int64
		kind tsKind
	}{
		{"1970-01-01 00:00:00", 0, tsFinite},
		{"2018-06-20 15:13:16.945104", 1529507596945104, tsFinite},
		{"2024-01-15 13:45:30.123456+02", 1705326330123456 - 2*3600*1e6, tsFinite},
		{"2024-01-15 13:45:30-05:30", 1705326330000000 + 5.5*3600*1e6, tsFinite},
		{"1969-12-31 23:59:59.5", -500000, tsFinite},
		{"0001-01-01 00:00:00 BC", schema.DaysFromCivil(0, 1, 1) * usPerDay, tsFinite},
		{"10000-01-01 00:00:00", schema.DaysFromCivil(10000, 1, 1) * usPerDay, tsFinite},
		{"infinity", 0, tsPosInf},
		{"-infinity", 0, tsNegInf},
	} {
		us, kind, err := parseTimestamp([]byte(c.in))
		if err != nil || us != c.us || kind != c.kind {
			t.Errorf("parseTimestamp(%q) = %d, %d, %v; want %d, %d", c.in, us, kind, err, c.us, c.kind)
		}
	}
	for _, bad := range []string{"", "2024-01-15", "2024-1-15 00:00:00", "2024-01-15 25:00"} {
		if _, _, err := parseTimestamp([]byte(bad)); err == nil {
			t.Errorf("parseTimestamp(%q): no error", bad)
		}
	}
}

func TestZonedFormats(t *testing.T) {
	for _, c := range []struct {
		us    int64
		width int
		want  string
	}{
		{1529501823000000, 0, "2018-06-20T13:37:03Z"},
		{1529501823120000, 3, "2018-06-20T13:37:03.120Z"},
		{1529501823120000, 6, "2018-06-20T13:37:03.120000Z"},
		{1529501823120000, -1, "2018-06-20T13:37:03.12Z"},
		{-1, 6, "1969-12-31T23:59:59.999999Z"},
		{schema.DaysFromCivil(-43, 3, 15) * usPerDay, 0, "-0043-03-15T00:00:00Z"},
	} {
		if got := formatZonedTimestamp(c.us, c.width); got != c.want {
			t.Errorf("formatZonedTimestamp(%d, %d) = %q, want %q", c.us, c.width, got, c.want)
		}
	}
	for in, want := range map[string]string{
		"13:45:30.5+02":      "11:45:30.5Z",
		"01:00:00+05:30":     "19:30:00Z",
		"23:00:00.000001-02": "01:00:00.000001Z",
	} {
		if got, err := parseTimeTZ([]byte(in)); err != nil || got != want {
			t.Errorf("parseTimeTZ(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestCivilRoundTrip(t *testing.T) {
	for _, d := range []int64{-1_000_000, -719528, -1, 0, 1, 19737, 2_932_896} {
		y, m, dd := schema.CivilFromDays(d)
		if back := schema.DaysFromCivil(y, m, dd); back != d {
			t.Errorf("%d → %d-%d-%d → %d", d, y, m, dd, back)
		}
	}
}

func TestInterval(t *testing.T) {
	for _, c := range []struct {
		in     string
		micros int64
		iso    string
	}{
		{"P1Y2M3DT4H5M6.78S", (14)*usPerMonth + 3*usPerDay + 4*usPerHour + 5*usPerMin + 6_780_000, "P1Y2M3DT4H5M6.78S"},
		{"PT0S", 0, "P0Y0M0DT0H0M0S"},
		{"P-1DT-2H-3M-4.5S", -(usPerDay + 2*usPerHour + 3*usPerMin + 4_500_000), "P0Y0M-1DT-2H-3M-4.5S"},
		{"PT0.000001S", 1, "P0Y0M0DT0H0M0.000001S"},
		{"P1M", usPerMonth, "P0Y1M0DT0H0M0S"},
	} {
		iv, err := parseInterval([]byte(c.in))
		if err != nil {
			t.Fatalf("parseInterval(%q): %v", c.in, err)
		}
		if iv.micros() != c.micros || iv.iso() != c.iso {
			t.Errorf("%q: micros %d iso %q; want %d %q", c.in, iv.micros(), iv.iso(), c.micros, c.iso)
		}
	}
	if _, err := parseInterval([]byte("1 day")); err == nil {
		t.Error("postgres-style interval accepted")
	}
}

func TestParseArray(t *testing.T) {
	for in, want := range map[string][]string{
		`{}`:                         {},
		`{1,2,3}`:                    {"1", "2", "3"},
		`{a,NULL,"b c","d\"e","\\"}`: {"a", "<nil>", "b c", `d"e`, `\`},
		`{"",NULL}`:                  {"", "<nil>"},
		`[0:1]={x,y}`:                {"x", "y"},
	} {
		got, err := parseArray([]byte(in))
		if err != nil {
			t.Fatalf("parseArray(%q): %v", in, err)
		}
		var s []string
		for _, g := range got {
			if g == nil {
				s = append(s, "<nil>")
			} else {
				s = append(s, string(g))
			}
		}
		if strings.Join(s, "|") != strings.Join(want, "|") || len(s) != len(want) {
			t.Errorf("parseArray(%q) = %q, want %q", in, s, want)
		}
	}
	if _, err := parseArray([]byte(`{{1,2},{3,4}}`)); err == nil {
		t.Error("multi-dimensional array accepted")
	}
}

func TestHstoreAndMoneyAndBits(t *testing.T) {
	e, err := parseHstore([]byte(`"a"=>"1", "b c"=>NULL, "q\"k"=>"v\\x"`))
	if err != nil || len(e) != 3 || e[0].key != "a" || *e[0].value != "1" || e[1].value != nil || e[2].key != `q"k` || *e[2].value != `v\x` {
		t.Fatalf("parseHstore: %+v %v", e, err)
	}
	for in, want := range map[string]string{"$1,234.56": "1234.56", "-$0.50": "-0.50", "($3.00)": "-3.00"} {
		if got, err := parseMoney([]byte(in)); err != nil || got != want {
			t.Errorf("parseMoney(%q) = %q, %v", in, got, err)
		}
	}
	for in, want := range map[string]string{"1000000001": "AQI=", "101": "BQ==", "0000": "", "1" + strings.Repeat("0", 70): "AAAAAAAAAABA"} {
		b, err := parseBits([]byte(in))
		if err != nil || base64.StdEncoding.EncodeToString(b) != want {
			t.Errorf("parseBits(%q) = %x, %v; want %s", in, b, err, want)
		}
	}
}

func TestVariableScale(t *testing.T) {
	for in, want := range map[string][2]any{
		"123.450": {int32(2), "MDk="},
		"100":     {int32(0), "ZA=="},
		"0.000":   {int32(0), "AA=="},
		"-1.5":    {int32(1), "8Q=="},
	} {
		st := variableScale(decimal.RequireFromString(in))
		if st.Values[0] != want[0] || base64.StdEncoding.EncodeToString(st.Values[1].([]byte)) != want[1] {
			t.Errorf("variableScale(%s) = %v %x, want %v", in, st.Values[0], st.Values[1], want)
		}
	}
}

func TestDecodeRowChange(t *testing.T) {
	// U relid=7 'K' (1 col: 't' "1") 'N' (2 cols: 't' "2", 'u')
	msg := []byte{'U', 0, 0, 0, 7, 'K', 0, 1, 't', 0, 0, 0, 1, '1', 'N', 0, 2, 't', 0, 0, 0, 1, '2', 'u'}
	var rc rowChange
	ok, err := decodeRowChange(msg, false, &rc)
	if !ok || err != nil || rc.relID != 7 || rc.oldKind != 'K' || len(rc.old) != 1 || string(rc.old[0].data) != "1" ||
		len(rc.new) != 2 || string(rc.new[0].data) != "2" || rc.new[1].kind != 'u' {
		t.Fatalf("%v %v %+v", ok, err, rc)
	}
	// streamed: xid before relid
	msg = []byte{'I', 0, 0, 0, 9, 0, 0, 0, 7, 'N', 0, 1, 'n'}
	if ok, err = decodeRowChange(msg, true, &rc); !ok || err != nil || rc.relID != 7 || rc.new[0].kind != 'n' {
		t.Fatalf("streamed insert: %v %v %+v", ok, err, rc)
	}
	if _, err = decodeRowChange(msg[:11], true, &rc); err == nil {
		t.Fatal("truncated message accepted")
	}
	if ok, _ = decodeRowChange([]byte{'B', 0, 0, 0, 0, 0, 0}, false, &rc); ok {
		t.Fatal("BEGIN taken as a row change")
	}
}

func TestConfigValidation(t *testing.T) {
	base := map[string]string{
		"database.hostname": "h", "database.user": "u", "database.dbname": "d", "topic.prefix": "p",
	}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "<delete>" {
				delete(m, kv[i])
			} else {
				m[kv[i]] = kv[i+1]
			}
		}
		return m
	}
	if _, err := parseSettings(base); err != nil {
		t.Fatalf("minimal config: %v", err)
	}
	for _, c := range []struct {
		cfg     map[string]string
		key     string
		message string
	}{
		{with("topic.prefix", "<delete>"), "topic.prefix", "Missing required"},
		{with("plugin.name", "decoderbufs"), "plugin.name", "only pgoutput"},
		{with("snapshot.mode", "custom"), "snapshot.mode", "not supported"},
		{with("snapshot.mode", "sometimes"), "snapshot.mode", "must be one of"},
		{with("time.precision.mode", "isostring"), "time.precision.mode", "not supported"},
		{with("decimal.handling.mode", "exact"), "decimal.handling.mode", "must be one of"},
		{with("interval.handling.mode", "iso"), "interval.handling.mode", "must be one of"},
		{with("hstore.handling.mode", "list"), "hstore.handling.mode", "must be one of"},
		{with("binary.handling.mode", "raw"), "binary.handling.mode", "must be one of"},
		{with("publication.autocreate.mode", "auto"), "publication.autocreate.mode", "must be one of"},
		{with("database.sslmode", "maybe"), "database.sslmode", "must be one of"},
		{with("skipped.operations", "c,x"), "skipped.operations", "unknown operation"},
		{with("slot.name", "Bad-Name"), "slot.name", "lower-case"},
		{with("snapshot.max.threads", "0"), "snapshot.max.threads", "at least"},
		{with("heartbeat.interval.ms", "soon"), "heartbeat.interval.ms", "LONG"},
		{with("table.include.list", "a.b", "table.exclude.list", "c.d"), "table.exclude.list", "cannot both"},
		{with("table.include.list", "a.("), "table.include.list", "regular expression"},
		{with("unavailable.value.placeholder", "hex:zz"), "unavailable.value.placeholder", "hexadecimal"},
		{with("topic.prefix", "a b"), "topic.prefix", "letters"},
		{with("signal.data.collection", "dbz_signal"), "signal.data.collection", "2 dot-separated parts"},
		{with("signal.data.collection", "db.public.dbz_signal"), "signal.data.collection", "2 dot-separated parts"},
		{with("signal.enabled.channels", "source,jmx"), "signal.enabled.channels", "not supported"},
		{with("signal.enabled.channels", "carrier-pigeon"), "signal.enabled.channels", "unknown signal channel"},
		{with("signal.enabled.channels", "kafka"), "signal.kafka.bootstrap.servers", "required"},
		{with("incremental.snapshot.watermarking.strategy", "insert_delete"), "incremental.snapshot.watermarking.strategy", "not supported"},
		{with("incremental.snapshot.chunk.size", "0"), "incremental.snapshot.chunk.size", "at least"},
	} {
		_, err := parseSettings(c.cfg)
		var errs config.Errors
		if !errors.As(err, &errs) {
			t.Errorf("%s: got %v, want config.Errors", c.key, err)
			continue
		}
		found := false
		for _, e := range errs {
			if e.Key == c.key && strings.Contains(e.Message, c.message) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: errors %v do not name the key with %q", c.key, errs, c.message)
		}
	}
	s, err := parseSettings(with("snapshot.mode", "schema_only", "skipped.operations", "none", "database.server.name", "legacy", "topic.prefix", "<delete>"))
	if err != nil {
		t.Fatal(err)
	}
	if s.signals == nil || s.signals.DataCollection != "" || !s.signals.Channels["source"] || s.signals.ChunkSize != 1024 {
		t.Errorf("signal defaults: %+v", s.signals)
	}
	if s.snapshotMode != "no_data" || len(s.skip) != 0 || s.prefix != "legacy" {
		t.Errorf("aliases: mode %s skip %v prefix %s", s.snapshotMode, s.skip, s.prefix)
	}
}

func TestFilters(t *testing.T) {
	f, err := newFilters([]string{"inv.*"}, nil, nil, []string{"inventory\\.secret"}, nil, []string{".*\\.pw"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		schema, table string
		want          bool
	}{
		{"inventory", "orders", true}, {"INVENTORY", "orders", true}, {"inventory", "secret", false},
		{"public", "orders", false}, {"pg_catalog", "pg_class", false},
	} {
		if got := f.table(c.schema, c.table); got != c.want {
			t.Errorf("table(%s.%s) = %v", c.schema, c.table, got)
		}
	}
	if f.column("inventory", "users", "pw") || !f.column("inventory", "users", "name") {
		t.Error("column filter")
	}
}

func TestZeroValues(t *testing.T) {
	m := newMapper(&settings{decimalMode: "precise", timeMode: "adaptive", placeholder: "x"})
	for _, oid := range []uint32{oidInt2, oidInt4, oidInt8, oidText, oidBytea, oidNumeric, oidDate, oidTimestamp, oidBool} {
		mp, err := m.mapType(&pgType{oid: oid}, -1)
		if err != nil {
			t.Fatal(err)
		}
		if err := schema.Validate(mp.schema, zeroValue(mp.schema)); err != nil {
			t.Errorf("oid %d: zero value invalid: %v", oid, err)
		}
	}
}
