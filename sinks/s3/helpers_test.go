package s3

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hamba/avro/v2/ocf"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/parquet-go/parquet-go"
	"github.com/shopspring/decimal"

	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/schema"
)

// fakeS3 is an in-process S3 API (gofakes3 over HTTP) with one bucket.
type fakeS3 struct {
	url    string
	bucket string
	cl     *minio.Client
	parts  atomic.Int64 // multipart part uploads seen
	bytes  atomic.Int64 // request body bytes of PUTs
}

func newFakeS3(t testing.TB) *fakeS3 {
	t.Helper()
	faker := gofakes3.New(s3mem.New(), gofakes3.WithLogger(gofakes3.DiscardLog()))
	f := &fakeS3{bucket: "cold"}
	h := faker.Server()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			if r.URL.Query().Get("partNumber") != "" {
				f.parts.Add(1)
			}
			if r.ContentLength > 0 {
				f.bytes.Add(r.ContentLength)
			}
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	f.url = srv.URL
	cl, err := minio.New(strings.TrimPrefix(srv.URL, "http://"), &minio.Options{
		Creds: credentials.NewStaticV4("AK", "SK", ""), Region: "us-east-1", BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		t.Fatal(err)
	}
	f.cl = cl
	if err := cl.MakeBucket(context.Background(), f.bucket, minio.MakeBucketOptions{Region: "us-east-1"}); err != nil {
		t.Fatal(err)
	}
	return f
}

// config returns a connector config writing to the fake store.
func (f *fakeS3) config(kv ...string) map[string]string {
	cfg := map[string]string{
		"name": "s3-sink", "connector.class": Class, "topics": "cdc.shop.orders",
		KeyBucket: f.bucket, KeyStoreURL: f.url, KeyRegion: "us-east-1",
		KeyAccessKeyID: "AK", KeySecretAccessKey: "SK",
		KeyFlushSize: "1000", KeyFormatClass: FormatJSON,
	}
	for i := 0; i+1 < len(kv); i += 2 {
		cfg[kv[i]] = kv[i+1]
	}
	return cfg
}

func (f *fakeS3) list(t testing.TB, prefix string) []string {
	t.Helper()
	var keys []string
	for o := range f.cl.ListObjects(context.Background(), f.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		keys = append(keys, o.Key)
	}
	slices.Sort(keys)
	return keys
}

func (f *fakeS3) get(t testing.TB, key string) []byte {
	t.Helper()
	o, err := f.cl.GetObject(context.Background(), f.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	b, err := io.ReadAll(o)
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	return b
}

// The test topic: CDC-like change events with the Kafka offset in "seq".
var (
	rowSchema = schema.StructBuilder().Name("shop.orders.Value").Optional().
			Field("id", schema.NewBuilder(schema.TypeInt64).Build()).
			Field("customer", schema.NewBuilder(schema.TypeString).Build()).
			Field("amount", schema.DecimalSchema(2, 12, true)).
			Field("created_at", schema.TimestampSchema(true)).
			Field("tags", schema.ArrayOf(schema.NewBuilder(schema.TypeString).Build())).
			Field("note", schema.NewBuilder(schema.TypeString).Optional().Build()).
			Build()
	eventSchema = schema.StructBuilder().Name("shop.orders.Envelope").
			Field("before", rowSchema).
			Field("after", rowSchema).
			Field("op", schema.NewBuilder(schema.TypeString).Build()).
			Field("ts_ms", schema.NewBuilder(schema.TypeInt64).Optional().Build()).
			Field("seq", schema.NewBuilder(schema.TypeInt64).Build()).
			Build()
	keySchema = schema.StructBuilder().Name("shop.orders.Key").
			Field("id", schema.NewBuilder(schema.TypeInt64).Build()).Build()
)

var baseTime = time.Date(2024, 3, 10, 20, 0, 0, 0, time.UTC)

// event builds the record at offset off of partition p; its time advances
// 1.5 s per offset from baseTime.
func event(topic string, p int32, off int64) schema.Record {
	id := off*8 + int64(p)
	ts := baseTime.Add(time.Duration(off) * 1500 * time.Millisecond)
	after := &schema.Struct{Schema: rowSchema, Values: []any{
		id, "customer-" + strconv.FormatInt(id%997, 10), decimal.New(id%100000, -2), ts,
		[]any{"a", "b" + strconv.FormatInt(id%7, 10)}, nil,
	}}
	if id%5 == 0 {
		after.Values[5] = "note for order " + strconv.FormatInt(id, 10)
	}
	return schema.Record{
		Topic: topic, Partition: p, Offset: off,
		KeySchema: keySchema, Key: &schema.Struct{Schema: keySchema, Values: []any{id}},
		ValueSchema: eventSchema,
		Value:       &schema.Struct{Schema: eventSchema, Values: []any{nil, after, "c", ts.UnixMilli(), off}},
		Timestamp:   ts,
		Headers:     []schema.Header{{Key: "op", Value: []byte("c")}},
	}
}

// rowsEnv reads TRIBUTARY_ROWS (default def).
func rowsEnv(def int) int {
	if n, err := strconv.Atoi(os.Getenv("TRIBUTARY_ROWS")); err == nil && n > 0 {
		return n
	}
	return def
}

// driver feeds a task as the runtime's sink loop does: batches across
// partitions in offset order, PreCommit every few batches, and only the
// offsets PreCommit returned count as committed.
type driver struct {
	t         testing.TB
	cfg       map[string]string
	topic     string
	parts     int32
	n         int64 // records per partition
	want      int64 // offset each partition must have committed at the end (n unless the last file stays open)
	batch     int
	gen       func(topic string, p int32, off int64) schema.Record
	committed map[connector.TopicPartition]int64
}

func newDriver(t testing.TB, cfg map[string]string, parts int32, n int64) *driver {
	d := &driver{t: t, cfg: cfg, topic: cfg["topics"], parts: parts, n: n, want: n, batch: 500, gen: event,
		committed: map[connector.TopicPartition]int64{}}
	return d
}

func (d *driver) start() *Task {
	d.t.Helper()
	task := Plugin{}.NewTask().(*Task)
	if err := task.Start(context.Background(), d.cfg, connector.TaskContext{Connector: "s3-sink"}); err != nil {
		d.t.Fatal(err)
	}
	return task
}

// run delivers records from the committed offsets; stopAfter > 0 abandons
// the task (as kill -9 would) after that many batches, without a last
// PreCommit. It returns whether everything was delivered and committed.
func (d *driver) run(ctx context.Context, stopAfter int) bool {
	d.t.Helper()
	task := d.start()
	pos := map[int32]int64{}
	for p := range d.parts {
		pos[p] = d.committed[connector.TopicPartition{Topic: d.topic, Partition: p}]
	}
	batches := 0
	for {
		var recs []schema.Record
		for p := range d.parts {
			for i := 0; i < d.batch/int(d.parts) && pos[p] < d.n; i++ {
				recs = append(recs, d.gen(d.topic, p, pos[p]))
				pos[p]++
			}
		}
		if len(recs) == 0 {
			break
		}
		if err := task.Put(ctx, recs); err != nil {
			d.t.Fatal(err)
		}
		batches++
		if stopAfter > 0 && batches >= stopAfter {
			task.up.close() // crash: uploads in flight die with the process
			return false
		}
		if batches%7 == 0 {
			d.preCommit(ctx, task, pos)
		}
	}
	d.preCommit(ctx, task, pos)
	if err := task.Stop(); err != nil {
		d.t.Fatal(err)
	}
	for p := range d.parts {
		if got := d.committed[connector.TopicPartition{Topic: d.topic, Partition: p}]; got != d.want {
			d.t.Fatalf("partition %d committed %d, want %d", p, got, d.want)
		}
	}
	return true
}

func (d *driver) preCommit(ctx context.Context, task *Task, pos map[int32]int64) {
	d.t.Helper()
	cur := map[connector.TopicPartition]int64{}
	for p, o := range pos {
		cur[connector.TopicPartition{Topic: d.topic, Partition: p}] = o
	}
	safe, err := task.PreCommit(ctx, cur)
	if err != nil {
		d.t.Fatal(err)
	}
	for tp, o := range safe {
		if o < d.committed[tp] {
			d.t.Fatalf("%v: committed offset went back from %d to %d", tp, d.committed[tp], o)
		}
		d.committed[tp] = min(o, cur[tp])
	}
}

// objName splits <topic>+<partition>+<offset><ext>.
func objName(key, fileDelim string) (topic string, part int32, start int64, ext string, err error) {
	base := key[strings.LastIndexByte(key, '/')+1:]
	fields := strings.SplitN(base, fileDelim, 3)
	if len(fields) != 3 {
		return "", 0, 0, "", fmt.Errorf("bad object name %s", key)
	}
	p, err := strconv.Atoi(fields[1])
	if err != nil {
		return "", 0, 0, "", fmt.Errorf("bad partition in %s", key)
	}
	dot := strings.IndexByte(fields[2], '.')
	if dot < 0 {
		dot = len(fields[2])
	}
	start, err = strconv.ParseInt(fields[2][:dot], 10, 64)
	if err != nil {
		return "", 0, 0, "", fmt.Errorf("bad offset in %s", key)
	}
	return fields[0], int32(p), start, fields[2][dot:], nil
}

// readSeqs decodes one value object and returns its records' seq (offset)
// values and created times in file order.
func readSeqs(t testing.TB, key string, data []byte) (seqs []int64, times []time.Time) {
	t.Helper()
	switch {
	case strings.HasSuffix(key, ".json"):
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for sc.Scan() {
			var ev struct {
				Seq   int64 `json:"seq"`
				TsMs  int64 `json:"ts_ms"`
				After struct {
					ID int64 `json:"id"`
				} `json:"after"`
			}
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				t.Fatalf("%s: bad JSON line %q: %v", key, sc.Text(), err)
			}
			seqs = append(seqs, ev.Seq)
			times = append(times, time.UnixMilli(ev.TsMs).UTC())
		}
	case strings.HasSuffix(key, ".avro"):
		dec, err := ocf.NewDecoder(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		for dec.HasNext() {
			var m map[string]any
			if err := dec.Decode(&m); err != nil {
				t.Fatalf("%s: %v", key, err)
			}
			seqs = append(seqs, m["seq"].(int64))
			ts, _ := m["ts_ms"].(int64)
			if u, ok := m["ts_ms"].(map[string]any); ok {
				ts = u["long"].(int64)
			}
			times = append(times, time.UnixMilli(ts).UTC())
		}
		if err := dec.Error(); err != nil {
			t.Fatalf("%s: %v", key, err)
		}
	case strings.HasSuffix(key, ".parquet"):
		f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		seqCol, ok := f.Schema().Lookup("seq")
		if !ok {
			t.Fatalf("%s: no seq column in %s", key, f.Schema())
		}
		tsCol, _ := f.Schema().Lookup("ts_ms")
		r := parquet.NewReader(f)
		defer r.Close()
		rows := make([]parquet.Row, 128)
		for {
			n, err := r.ReadRows(rows)
			for _, row := range rows[:n] {
				var seq, ts int64
				for _, v := range row {
					switch v.Column() {
					case seqCol.ColumnIndex:
						seq = v.Int64()
					case tsCol.ColumnIndex:
						ts = v.Int64()
					}
				}
				seqs = append(seqs, seq)
				times = append(times, time.UnixMilli(ts).UTC())
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", key, err)
			}
		}
	default:
		t.Fatalf("unknown object type %s", key)
	}
	return seqs, times
}

// verifyExactlyOnce reads every value object under prefix and checks each
// partition holds offsets 0..n-1 exactly once, in order, and that each
// object starts at the offset its name says. It returns the keys.
func verifyExactlyOnce(t testing.TB, f *fakeS3, prefix, topic string, parts int32, n int64) []string {
	t.Helper()
	keys := f.list(t, prefix)
	type obj struct {
		start int64
		key   string
	}
	byPart := map[int32][]obj{}
	for _, k := range keys {
		if strings.Contains(k, ".keys.") || strings.Contains(k, ".headers.") {
			continue
		}
		tp, p, start, _, err := objName(k, "+")
		if err != nil {
			t.Fatal(err)
		}
		if tp != topic {
			t.Fatalf("object %s of topic %s", k, tp)
		}
		byPart[p] = append(byPart[p], obj{start, k})
	}
	for p := range parts {
		objs := byPart[p]
		slices.SortFunc(objs, func(a, b obj) int { return int(a.start - b.start) })
		next := int64(0)
		for _, o := range objs {
			seqs, _ := readSeqs(t, o.key, f.get(t, o.key))
			if len(seqs) == 0 {
				t.Fatalf("%s is empty", o.key)
			}
			if seqs[0] != o.start {
				t.Fatalf("%s starts with offset %d", o.key, seqs[0])
			}
			for _, s := range seqs {
				if s != next {
					t.Fatalf("partition %d: %s holds offset %d where %d was expected (duplicate or gap)", p, o.key, s, next)
				}
				next++
			}
		}
		if next != n {
			t.Fatalf("partition %d: the bucket holds offsets up to %d, want %d", p, next, n)
		}
	}
	return keys
}
