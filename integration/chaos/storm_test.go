package chaos

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-cdc/tributary/integration/harness"
)

// A good record of the storm topics, as Kafka Connect's JsonConverter
// (schemas.enable=true) writes it, spelled out by hand.
const (
	stormKeySchema   = `{"type":"struct","fields":[{"type":"int64","optional":false,"field":"id"}],"optional":false,"name":"storm.Key"}`
	stormValueSchema = `{"type":"struct","fields":[{"type":"int64","optional":false,"field":"id"},` +
		`{"type":"string","optional":true,"field":"name"},{"type":"int32","optional":true,"field":"qty"},` +
		`{"type":"string","optional":true,"field":"note"}],"optional":false,"name":"storm.Value"}`
)

func stormKey(id int64) []byte {
	return []byte(fmt.Sprintf(`{"schema":%s,"payload":{"id":%d}}`, stormKeySchema, id))
}

func stormValue(id int64, name string, qty int, note string) []byte {
	return []byte(fmt.Sprintf(`{"schema":%s,"payload":{"id":%d,"name":%s,"qty":%d,"note":%q}}`, stormValueSchema, id, name, qty, note))
}

// badKinds are the malformed records, each with the stage Connect names
// in __connect.errors.stage when it is dead-lettered.
var badKinds = []struct {
	kind, stage string
	make        func(id int64) (key, value []byte)
}{
	{"truncated JSON", "VALUE_CONVERTER", func(id int64) ([]byte, []byte) {
		return stormKey(id), []byte(`{"schema":{"type":"struct","fields":[{"type":"int64"`)
	}},
	{"not JSON", "VALUE_CONVERTER", func(id int64) ([]byte, []byte) {
		return stormKey(id), []byte("\x00\x01\x02 this is not JSON")
	}},
	{"payload does not match schema", "VALUE_CONVERTER", func(id int64) ([]byte, []byte) {
		return stormKey(id), []byte(fmt.Sprintf(`{"schema":%s,"payload":{"id":%d,"name":"x","qty":"many","note":"n"}}`, stormValueSchema, id))
	}},
	{"NULL into a NOT NULL column", "TASK_PUT", func(id int64) ([]byte, []byte) {
		return stormKey(id), stormValue(id, "null", 1, "no name")
	}},
	{"oversize value (200 kB into VARCHAR(32))", "TASK_PUT", func(id int64) ([]byte, []byte) {
		return stormKey(id), stormValue(id, strconv.Quote(strings.Repeat("ü", 100_000)), 2, "oversize")
	}},
	{"no key with pk.mode=record_key", "TASK_PUT", func(id int64) ([]byte, []byte) {
		return nil, stormValue(id, `"keyless"`, 3, "no key")
	}},
}

// TestMalformedRecordStorm: good records mixed with malformed ones on two
// JDBC sinks' topics (into PostgreSQL and MariaDB), errors.tolerance=all
// with a DLQ: every good record applied, every bad one dead-lettered once
// with its original bytes and context headers.
func TestMalformedRecordStorm(t *testing.T) {
	good := envInt("TRIBUTARY_CHAOS_STORM", 3000)
	type target struct {
		name, topic, dlq string
		db               *harness.Database
	}
	targets := []target{
		{name: "sink-postgres", topic: "storm.postgres", dlq: "dlq.storm.postgres", db: harness.Postgres(t)},
		{name: "sink-mariadb", topic: "storm.mariadb", dlq: "dlq.storm.mariadb", db: harness.MariaDB(t)},
	}
	connectors := map[string]map[string]string{}
	for _, tg := range targets {
		conn := tg.db.Open(t)
		mustExec(t, conn, "CREATE TABLE storm (id BIGINT PRIMARY KEY, name VARCHAR(32) NOT NULL, qty INT, note TEXT)")
		connectors[tg.name] = map[string]string{
			"connector.class":                   "io.confluent.connect.jdbc.JdbcSinkConnector",
			"tasks.max":                         "1",
			"connection.url":                    tg.db.JDBCURL(),
			"topics":                            tg.topic,
			"table.name.format":                 "storm",
			"insert.mode":                       "upsert",
			"pk.mode":                           "record_key",
			"auto.create":                       "false",
			"auto.evolve":                       "false",
			"batch.size":                        "500",
			"errors.tolerance":                  "all",
			"errors.log.enable":                 "true",
			"errors.deadletterqueue.topic.name": tg.dlq,
			"errors.deadletterqueue.topic.replication.factor": "1",
			"errors.deadletterqueue.context.headers.enable":   "true",
		}
	}
	w := newWorker(t, harness.DefaultBroker(t), nil, connectors)
	w.start()
	w.waitRunning(time.Minute, "sink-postgres", "sink-mariadb")

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(w.bootstrap), kgo.ProducerBatchMaxBytes(4<<20),
		kgo.MetadataMinAge(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)

	// The same sequence on both topics: every 10th record is bad, cycling
	// through the kinds.
	type bad struct {
		kind, stage string
		key, value  []byte
	}
	wantGood := map[int64]string{} // id → "name|qty|note"
	badAt := map[int64]bad{}       // topic offset → what was written
	var recs []*kgo.Record
	var id int64
	for off := int64(0); len(wantGood) < good; off++ {
		id++
		if off%10 == 5 {
			k := badKinds[len(badAt)%len(badKinds)]
			key, value := k.make(id)
			badAt[off] = bad{k.kind, k.stage, key, value}
			recs = append(recs, &kgo.Record{Key: key, Value: value})
			continue
		}
		name, qty, note := fmt.Sprintf("good-%d", id), int(id%97), fmt.Sprintf("note %d \"quoted\" ✓", id)
		wantGood[id] = fmt.Sprintf("%s|%d|%s", name, qty, note)
		recs = append(recs, &kgo.Record{Key: stormKey(id), Value: stormValue(id, strconv.Quote(name), qty, note)})
	}
	for _, tg := range targets {
		if _, err := adm.CreateTopic(ctx, 1, 1, nil, tg.topic); err != nil {
			t.Fatalf("create %s: %v", tg.topic, err)
		}
		batch := make([]*kgo.Record, 0, len(recs))
		for _, r := range recs {
			batch = append(batch, &kgo.Record{Topic: tg.topic, Key: r.Key, Value: r.Value})
		}
		for lo := 0; lo < len(batch); lo += 500 {
			if err := cl.ProduceSync(ctx, batch[lo:min(lo+500, len(batch))]...).FirstErr(); err != nil {
				t.Fatalf("produce to %s: %v", tg.topic, err)
			}
		}
	}
	t.Logf("produced %d records per topic: %d good, %d bad", len(recs), len(wantGood), len(badAt))

	for _, tg := range targets {
		conn := tg.db.Open(t)
		// Every good row in the table.
		deadline := time.Now().Add(3 * time.Minute)
		for {
			w.alive()
			var n int
			if err := conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM storm").Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n == len(wantGood) {
				break
			}
			if n > len(wantGood) || time.Now().After(deadline) {
				t.Fatalf("%s: storm holds %d rows, want %d\n%s", tg.name, n, len(wantGood), w.statuses(tg.name))
			}
			time.Sleep(200 * time.Millisecond)
		}
		rows, err := conn.QueryContext(ctx, "SELECT id, name, qty, note FROM storm")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var (
				rid        int64
				name, note string
				qty        int
			)
			if err := rows.Scan(&rid, &name, &qty, &note); err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprintf("%s|%d|%s", name, qty, note); wantGood[rid] != got {
				t.Errorf("%s: row %d = %q, want %q", tg.name, rid, got, wantGood[rid])
			}
		}
		rows.Close()

		// Every bad record on the DLQ, once, with its bytes and headers.
		dlq := readTopic(ctx, t, w, tg.dlq, len(badAt))
		seen := map[int64]bool{}
		for _, r := range dlq {
			h := map[string]string{}
			for _, hd := range r.Headers {
				h[hd.Key] = string(hd.Value)
			}
			off, err := strconv.ParseInt(h["__connect.errors.offset"], 10, 64)
			if err != nil {
				t.Errorf("%s: DLQ record %d without a valid __connect.errors.offset: %v", tg.name, r.Offset, h)
				continue
			}
			b, ok := badAt[off]
			switch {
			case !ok:
				t.Errorf("%s: good record at offset %d was dead-lettered: %s", tg.name, off, h["__connect.errors.exception.message"])
				continue
			case seen[off]:
				t.Errorf("%s: offset %d (%s) dead-lettered twice", tg.name, off, b.kind)
			}
			seen[off] = true
			if h["__connect.errors.topic"] != tg.topic || h["__connect.errors.partition"] != "0" ||
				h["__connect.errors.connector.name"] != tg.name || h["__connect.errors.task.id"] != "0" {
				t.Errorf("%s: %s: context headers %v", tg.name, b.kind, h)
			}
			if h["__connect.errors.stage"] != b.stage {
				t.Errorf("%s: %s: stage %q, want %q (%s)", tg.name, b.kind, h["__connect.errors.stage"], b.stage,
					h["__connect.errors.exception.message"])
			}
			if h["__connect.errors.exception.class.name"] == "" || h["__connect.errors.exception.message"] == "" {
				t.Errorf("%s: %s: no exception class or message in %v", tg.name, b.kind, h)
			}
			if string(r.Value) != string(b.value) || string(r.Key) != string(b.key) {
				t.Errorf("%s: %s: DLQ record does not hold the original key and value", tg.name, b.kind)
			}
		}
		if len(seen) != len(badAt) {
			for off, b := range badAt {
				if !seen[off] {
					t.Errorf("%s: bad record at offset %d (%s) is not on the DLQ", tg.name, off, b.kind)
				}
			}
		}
		t.Logf("%s: %d good rows applied, %d bad records dead-lettered", tg.name, len(wantGood), len(seen))
	}
	for _, tg := range targets {
		var st status
		if err := w.get("/connectors/"+tg.name+"/status", &st); err != nil || !st.running() {
			t.Errorf("%s after the storm: %v %s", tg.name, err, st)
		}
	}
	w.stop()
}

// readTopic reads a topic from the start until it holds at least want
// records (waiting for them), then a moment longer for any extra ones.
func readTopic(ctx context.Context, t *testing.T, w *worker, topic string, want int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(w.bootstrap), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.MetadataMinAge(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var out []*kgo.Record
	deadline := time.Now().Add(2 * time.Minute)
	extra := time.Time{}
	for {
		if len(out) >= want && extra.IsZero() {
			extra = time.Now().Add(2 * time.Second)
		}
		if !extra.IsZero() && time.Now().After(extra) {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("DLQ %s holds %d records after 2 minutes, want %d", topic, len(out), want)
		}
		pctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		fs := cl.PollFetches(pctx)
		cancel()
		fs.EachRecord(func(r *kgo.Record) { out = append(out, r) })
		w.alive()
	}
}
