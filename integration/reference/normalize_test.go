package reference

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

// The normalizations, each with why the field may differ between two
// correct captures of the same changes. Everything else in the key and
// value bytes must be equal, member order and number spelling included.
//
// Every record (key and value):
//   - a string equal to the topic prefix, or starting with it and a dot,
//     gets the prefix replaced by "PREFIX": the two captures run under
//     different topic.prefix values by design, and the prefix is in the
//     schema names (PREFIX.db.table.Value/Key/Envelope) and in
//     source.name.
//
// Every value:
//   - payload.ts_ms, ts_us, ts_ns: when the connector processed the event,
//     a wall-clock reading of each process.
//   - payload.source.version: the implementation's version string
//     (Debezium's "3.6.1.Final").
//
// Snapshot values (source.snapshot other than "false"):
//   - source.ts_ms, ts_us, ts_ns: the time each connector read the row.
//   - source.file, pos, gtid, row, server_id, thread (MySQL): the binlog
//     position each connector's snapshot started at; the two snapshots
//     run at different moments, so different binlog coordinates are
//     both right.
//   - source.lsn, txId, xmin, sequence (PostgreSQL): the consistent point
//     of each connector's own replication slot and its snapshot
//     transaction.
//
// Ignored values keep their null-ness: a field one side leaves null and
// the other fills is a difference.
//
// Headers: the value of __debezium.context.runId, a random UUID each task
// start draws; __debezium.context.connectorLogicalName, the topic prefix,
// becomes PREFIX.
//
// Streamed values keep every source field: both connectors read the same
// binlog / WAL events, so positions, transaction ids and commit times
// must be equal.
var (
	valueIgnored         = []string{"ts_ms", "ts_us", "ts_ns"}
	sourceIgnored        = []string{"version"}
	snapshotSourceIgnore = []string{"ts_ms", "ts_us", "ts_ns", "file", "pos", "gtid", "row", "server_id", "thread", "lsn", "txId", "xmin", "sequence"}
)

const ignored = `"(ignored)"`

// deviation is a difference from Debezium kept on purpose: the value at
// path (member names from the record value's root) of snapshot records
// of topic is not compared. Each is listed in the README's "Differences
// from Debezium".
type deviation struct {
	topic   string // suffix after the prefix
	path    []string
	variant string // only under this topic prefix stem ("" = all)
	all     bool   // streamed records too, not only snapshot ones
	why     string
}

var deviations = []deviation{
	{"public.types", []string{"payload", "after", "c_date"}, "", false,
		"PostgreSQL dates before the common era: Debezium 3.6.1's snapshot drops the era " +
			"('0044-03-15 BC' becomes -703383, 15 March 44 AD; read through JDBC's java.sql.Date), " +
			"while its streaming gives -735160 (44 BC) for the same value; Tributary gives -735160 in both"},
}

// applyDeviations blanks the deviation paths of a value of prefix
// (snapshot: a snapshot record).
func applyDeviations(n *node, prefix, topic string, snapshot bool) {
	for _, d := range deviations {
		if d.topic != topic || (!d.all && !snapshot) || (d.variant != "" && prefix[:len(prefix)-1] != d.variant) {
			continue
		}
		cur := n
		for _, k := range d.path[:len(d.path)-1] {
			cur = cur.get(k)
		}
		cur.set(d.path[len(d.path)-1], `"(deviation)"`)
	}
}

// ignore replaces member k of n with the ignored marker unless it is null.
func ignore(n *node, k string) {
	if v := n.get(k); v != nil && string(v.raw) != "null" {
		n.set(k, ignored)
	}
}

// renamePrefix replaces prefix in every string scalar that is the prefix
// or starts with prefix+".".
func renamePrefix(n *node, prefix string) {
	if n == nil {
		return
	}
	if n.kind == 0 {
		s := n.str()
		if s == prefix || strings.HasPrefix(s, prefix+".") {
			b, _ := json.Marshal("PREFIX" + strings.TrimPrefix(s, prefix))
			n.raw = b
		}
		return
	}
	for _, v := range n.vals {
		renamePrefix(v, prefix)
	}
}

// normalized is one record after normalization.
type normalized struct {
	key, value []byte
	snapshot   bool
	compact    string // why a raw key/value was not compact JSON ("" when it was)
}

// normalize applies the normalizations above to a record of prefix.
func normalize(r *kgo.Record, prefix, topic string) (normalized, error) {
	var out normalized
	for i, raw := range [][]byte{r.Key, r.Value} {
		if raw == nil {
			continue
		}
		n, err := parseOrdered(raw)
		if err != nil {
			return out, fmt.Errorf("%s offset %d: %w: %s", r.Topic, r.Offset, err, raw)
		}
		if !bytes.Equal(n.bytes(), raw) {
			out.compact = fmt.Sprintf("not compact JSON: %s", raw)
		}
		renamePrefix(n, prefix)
		if i == 1 {
			payload := n.get("payload")
			for _, k := range valueIgnored {
				ignore(payload, k)
			}
			source := payload.get("source")
			for _, k := range sourceIgnored {
				ignore(source, k)
			}
			if snap := source.get("snapshot"); snap != nil && snap.str() != "false" && string(snap.raw) != "null" {
				out.snapshot = true
				for _, k := range snapshotSourceIgnore {
					ignore(source, k)
				}
			}
			applyDeviations(n, prefix, topic, out.snapshot)
			out.value = n.bytes()
		} else {
			out.key = n.bytes()
		}
	}
	return out, nil
}

// compareTopics compares every record of the topics (suffixes after the
// prefixes) in order and reports each difference as a test error.
func compareTopics(t *testing.T, dbz, trib *collector, suffixes []string) {
	t.Helper()
	for _, s := range suffixes {
		want, got := dbz.records(s), trib.records(s)
		if dir := os.Getenv("TRIBUTARY_REFERENCE_DUMP"); dir != "" {
			dump(t, filepath.Join(dir, dbz.prefix+"."+s+".jsonl"), want)
			dump(t, filepath.Join(dir, trib.prefix+"."+s+".jsonl"), got)
		}
		if len(want) != len(got) {
			t.Errorf("topic %s: Debezium wrote %d records, Tributary %d", s, len(want), len(got))
		}
		for i := 0; i < len(want) && i < len(got); i++ {
			w, err := normalize(want[i], dbz.prefix, s)
			if err != nil {
				t.Fatalf("Debezium record: %v", err)
			}
			g, err := normalize(got[i], trib.prefix, s)
			if err != nil {
				t.Fatalf("Tributary record: %v", err)
			}
			if g.compact != "" {
				t.Errorf("topic %s record %d: Tributary's %s", s, i, g.compact)
			}
			if !bytes.Equal(w.key, g.key) {
				t.Errorf("topic %s record %d: key differs\n%s", s, i, explain(w.key, g.key))
			}
			if !bytes.Equal(w.value, g.value) {
				t.Errorf("topic %s record %d: value differs\n%s", s, i, explain(w.value, g.value))
			}
			if hw, hg := headers(want[i], dbz.prefix), headers(got[i], trib.prefix); hw != hg {
				t.Errorf("topic %s record %d: headers differ: Debezium %s, Tributary %s", s, i, hw, hg)
			}
		}
	}
}

// dump writes records to path, one {"key","value","headers"} line each
// (TRIBUTARY_REFERENCE_DUMP=dir keeps both sides' raw records to look at).
func dump(t *testing.T, path string, recs []*kgo.Record) {
	var b bytes.Buffer
	for _, r := range recs {
		fmt.Fprintf(&b, "{\"key\":%s,\"value\":%s,\"headers\":%q}\n", orNull(r.Key), orNull(r.Value), headers(r, ""))
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Log(err)
	}
}

func orNull(b []byte) []byte {
	if b == nil {
		return []byte("null")
	}
	return b
}

func headers(r *kgo.Record, prefix string) string {
	var b strings.Builder
	for _, h := range r.Headers {
		if h.Key == "__debezium.context.runId" {
			fmt.Fprintf(&b, "%s=(ignored);", h.Key)
			continue
		}
		if h.Key == "__debezium.context.connectorLogicalName" && string(h.Value) == prefix {
			fmt.Fprintf(&b, "%s=PREFIX;", h.Key)
			continue
		}
		fmt.Fprintf(&b, "%s=%q;", h.Key, h.Value)
	}
	return b.String()
}

// explain shows where two normalized JSON documents differ: the paths of
// the differing members with both values.
func explain(want, got []byte) string {
	if want == nil || got == nil {
		return fmt.Sprintf("  Debezium:  %s\n  Tributary: %s", want, got)
	}
	w, err1 := parseOrdered(want)
	g, err2 := parseOrdered(got)
	if err1 != nil || err2 != nil {
		return fmt.Sprintf("  Debezium:  %s\n  Tributary: %s", want, got)
	}
	var lines []string
	diffNodes("", w, g, &lines)
	if len(lines) > 40 {
		lines = append(lines[:40], fmt.Sprintf("  … %d more", len(lines)-40))
	}
	return strings.Join(lines, "\n")
}

func diffNodes(path string, w, g *node, out *[]string) {
	if bytes.Equal(w.bytes(), g.bytes()) {
		return
	}
	if w.kind == '{' && g.kind == '{' {
		if strings.Join(w.keys, ",") != strings.Join(g.keys, ",") {
			*out = append(*out, fmt.Sprintf("  %s: members Debezium [%s], Tributary [%s]", path, strings.Join(w.keys, ","), strings.Join(g.keys, ",")))
		}
		for i, k := range w.keys {
			if gv := g.get(k); gv != nil {
				diffNodes(path+"."+k, w.vals[i], gv, out)
			}
		}
		return
	}
	if w.kind == '[' && g.kind == '[' && len(w.vals) == len(g.vals) {
		for i := range w.vals {
			p := fmt.Sprintf("%s[%d]", path, i)
			if f := w.vals[i].get("field"); f != nil {
				p = fmt.Sprintf("%s[%s]", path, f.str())
			}
			diffNodes(p, w.vals[i], g.vals[i], out)
		}
		return
	}
	ws, gs := w.bytes(), g.bytes()
	if len(ws) > 300 {
		ws = append(ws[:300:300], "…"...)
	}
	if len(gs) > 300 {
		gs = append(gs[:300:300], "…"...)
	}
	*out = append(*out, fmt.Sprintf("  %s: Debezium %s, Tributary %s", path, ws, gs))
}
