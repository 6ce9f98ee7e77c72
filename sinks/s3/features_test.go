package s3

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hamba/avro/v2/ocf"
	"github.com/parquet-go/parquet-go"
	"github.com/shopspring/decimal"

	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/connector/config"
	"github.com/tributary-cdc/tributary/schema"
)

func startTask(t *testing.T, cfg map[string]string, tc connector.TaskContext) *Task {
	t.Helper()
	task := Plugin{}.NewTask().(*Task)
	if err := task.Start(context.Background(), cfg, tc); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = task.Stop() })
	return task
}

func commitAll(t *testing.T, task *Task, cur map[connector.TopicPartition]int64) map[connector.TopicPartition]int64 {
	t.Helper()
	out, err := task.PreCommit(context.Background(), cur)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func tp(topic string, p int32) connector.TopicPartition {
	return connector.TopicPartition{Topic: topic, Partition: p}
}

func lines(t *testing.T, b []byte) []string {
	t.Helper()
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

// TestKeysHeadersAndTombstones: store.kafka.keys/headers write .keys and
// .headers files beside each value file (Avro by default, JSON when
// asked); behavior.on.null.values=write puts tombstones' keys under the
// tombstone directory with no value file.
func TestKeysHeadersAndTombstones(t *testing.T) {
	f := newFakeS3(t)
	const topic = "cdc.shop.orders"
	task := startTask(t, f.config(KeyFlushSize, "4", KeyStoreKafkaKeys, "true", KeyStoreKafkaHeaders, "true",
		KeyHeadersFormatClass, "JsonFormat", KeyBehaviorOnNull, "write"), connector.TaskContext{})
	var recs []schema.Record
	for off := range int64(8) {
		r := event(topic, 0, off)
		if off == 2 || off == 5 {
			r.ValueSchema, r.Value = nil, nil
		}
		recs = append(recs, r)
	}
	if err := task.Put(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	got := commitAll(t, task, map[connector.TopicPartition]int64{tp(topic, 0): 8})
	if got[tp(topic, 0)] != 8 {
		t.Fatalf("committed %v", got)
	}
	keys := f.list(t, "topics/")
	want := []string{
		"topics/cdc.shop.orders/partition=0/cdc.shop.orders+0+0000000000.headers.json",
		"topics/cdc.shop.orders/partition=0/cdc.shop.orders+0+0000000000.json",
		"topics/cdc.shop.orders/partition=0/cdc.shop.orders+0+0000000000.keys.avro",
		"topics/cdc.shop.orders/partition=0/cdc.shop.orders+0+0000000004.headers.json",
		"topics/cdc.shop.orders/partition=0/cdc.shop.orders+0+0000000004.json",
		"topics/cdc.shop.orders/partition=0/cdc.shop.orders+0+0000000004.keys.avro",
		"topics/cdc.shop.orders/tombstone/cdc.shop.orders+0+0000000002.headers.json",
		"topics/cdc.shop.orders/tombstone/cdc.shop.orders+0+0000000002.keys.avro",
		"topics/cdc.shop.orders/tombstone/cdc.shop.orders+0+0000000005.headers.json",
		"topics/cdc.shop.orders/tombstone/cdc.shop.orders+0+0000000005.keys.avro",
	}
	if !slices.Equal(keys, want) {
		t.Fatalf("objects:\n%s", strings.Join(keys, "\n"))
	}
	// Keys: an Avro container of the key struct, aligned with the values.
	dec, err := ocf.NewDecoder(bytes.NewReader(f.get(t, want[2])))
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for dec.HasNext() {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m["id"].(int64))
	}
	if !slices.Equal(ids, []int64{0, 8, 24}) {
		t.Fatalf("key ids %v", ids)
	}
	if got := lines(t, f.get(t, want[1])); len(got) != 3 {
		t.Fatalf("value lines %v", got)
	}
	if got := lines(t, f.get(t, want[0])); !slices.Equal(got, []string{
		`[{"key":"op","value":"c"}]`, `[{"key":"op","value":"c"}]`, `[{"key":"op","value":"c"}]`}) {
		t.Fatalf("header lines %v", got)
	}
}

// TestNullValues: ignore skips tombstones (and commits past them), fail
// fails the Put unless the errant-record reporter tolerates the record.
func TestNullValues(t *testing.T) {
	f := newFakeS3(t)
	const topic = "cdc.shop.orders"
	recs := []schema.Record{event(topic, 0, 0), {Topic: topic, Partition: 0, Offset: 1}, event(topic, 0, 2)}

	ign := startTask(t, f.config(KeyFlushSize, "2", KeyBehaviorOnNull, "ignore", KeyTopicsDir, "ign"), connector.TaskContext{})
	if err := ign.Put(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	if got := commitAll(t, ign, map[connector.TopicPartition]int64{tp(topic, 0): 3}); got[tp(topic, 0)] != 3 {
		t.Fatalf("committed %v", got)
	}
	if keys := f.list(t, "ign/"); len(keys) != 1 || !strings.HasSuffix(keys[0], "+0000000000.json") {
		t.Fatalf("objects %v", keys)
	}

	fail := startTask(t, f.config(KeyFlushSize, "2", KeyTopicsDir, "fail"), connector.TaskContext{})
	err := fail.Put(context.Background(), recs)
	if err == nil || !strings.Contains(err.Error(), "behavior.on.null.values=fail") {
		t.Fatalf("Put: %v", err)
	}

	var reported []int64
	tol := startTask(t, f.config(KeyFlushSize, "2", KeyTopicsDir, "tol"), connector.TaskContext{
		Report: func(_ context.Context, rec schema.Record, _ error) error {
			reported = append(reported, rec.Offset)
			return nil
		},
	})
	if err := tol.Put(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(reported, []int64{1}) {
		t.Fatalf("reported %v", reported)
	}
	if got := commitAll(t, tol, map[connector.TopicPartition]int64{tp(topic, 0): 3}); got[tp(topic, 0)] != 3 {
		t.Fatalf("committed %v", got)
	}
}

// TestByteArrayGzipFieldAndDelims covers ByteArrayFormat with a separator,
// gzip JSON, FieldPartitioner, a custom topics.dir/file.delim, and a
// rotation on schema change.
func TestByteArrayGzipFieldAndDelims(t *testing.T) {
	f := newFakeS3(t)
	ctx := context.Background()

	ba := startTask(t, f.config(KeyFormatClass, "ByteArrayFormat", KeyFlushSize, "3", KeyTopicsDir, "raw",
		KeyByteArraySeparator, `\r\n`, KeyByteArrayExtension, ".txt"), connector.TaskContext{})
	var raw []schema.Record
	for i := range int64(3) {
		raw = append(raw, schema.Record{Topic: "logs", Partition: 2, Offset: 10 + i, Value: []byte("line" + string(rune('a'+i)))})
	}
	cfgTopics := f.config()
	_ = cfgTopics
	if err := ba.Put(ctx, raw); err != nil {
		t.Fatal(err)
	}
	commitAll(t, ba, map[connector.TopicPartition]int64{tp("logs", 2): 13})
	if got := string(f.get(t, "raw/logs/partition=2/logs+2+0000000010.txt")); got != "linea\r\nlineb\r\nlinec\r\n" {
		t.Fatalf("bytearray object %q", got)
	}

	gz := startTask(t, f.config(KeyFlushSize, "2", KeyCompressionType, "gzip", KeyTopicsDir, "gz",
		KeyPartitionerClass, "FieldPartitioner", KeyPartitionFieldName, "op", KeyFileDelim, "-", KeyZeroPadWidth, "4"), connector.TaskContext{})
	const topic = "cdc.shop.orders"
	if err := gz.Put(ctx, []schema.Record{event(topic, 1, 7), event(topic, 1, 8)}); err != nil {
		t.Fatal(err)
	}
	commitAll(t, gz, map[connector.TopicPartition]int64{tp(topic, 1): 9})
	zr, err := gzip.NewReader(bytes.NewReader(f.get(t, "gz/cdc.shop.orders/op=c/cdc.shop.orders-1-0007.json.gz")))
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(zr)
	if ls := lines(t, plain); len(ls) != 2 || !strings.Contains(ls[0], `"seq":7`) {
		t.Fatalf("gzip lines %q", ls)
	}

	// A schema change cuts the file even below flush.size.
	sc := startTask(t, f.config(KeyFlushSize, "100", KeyTopicsDir, "sc"), connector.TaskContext{})
	other := schema.StructBuilder().Name("v2").Field("seq", schema.NewBuilder(schema.TypeInt64).Build()).Build()
	recs := []schema.Record{event(topic, 0, 0), event(topic, 0, 1),
		{Topic: topic, Partition: 0, Offset: 2, ValueSchema: other, Value: &schema.Struct{Schema: other, Values: []any{int64(2)}}},
		event(topic, 0, 3)}
	if err := sc.Put(ctx, recs); err != nil {
		t.Fatal(err)
	}
	if got := commitAll(t, sc, map[connector.TopicPartition]int64{tp(topic, 0): 4}); got[tp(topic, 0)] != 3 {
		t.Fatalf("committed %v, want 3 (the last file is open)", got)
	}
	if keys := f.list(t, "sc/"); len(keys) != 2 || !strings.HasSuffix(keys[1], "+0000000002.json") {
		t.Fatalf("objects %v", keys)
	}
}

// TestRetriedBatchAndClose: a batch given again (the runtime retrying Put)
// is not written twice; ClosePartitions drops the open file so the
// partition resumes cleanly from its committed offset.
func TestRetriedBatchAndClose(t *testing.T) {
	f := newFakeS3(t)
	ctx := context.Background()
	const topic = "cdc.shop.orders"
	task := startTask(t, f.config(KeyFlushSize, "4"), connector.TaskContext{})
	batch := []schema.Record{event(topic, 0, 0), event(topic, 0, 1), event(topic, 0, 2)}
	for range 2 {
		if err := task.Put(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	if err := task.ClosePartitions(ctx, []connector.TopicPartition{tp(topic, 0)}); err != nil {
		t.Fatal(err)
	}
	// Reassigned: consumption restarts at the committed offset 0.
	for off := range int64(4) {
		if err := task.Put(ctx, []schema.Record{event(topic, 0, off)}); err != nil {
			t.Fatal(err)
		}
	}
	if got := commitAll(t, task, map[connector.TopicPartition]int64{tp(topic, 0): 4}); got[tp(topic, 0)] != 4 {
		t.Fatalf("committed %v", got)
	}
	verifyExactlyOnce(t, f, "topics/", topic, 1, 4)
}

// TestScheduledRotation: rotate.schedule.interval.ms commits an open file
// at PreCommit once the wall-clock boundary passed, without new records.
func TestScheduledRotation(t *testing.T) {
	f := newFakeS3(t)
	ctx := context.Background()
	const topic = "cdc.shop.orders"
	now := time.Date(2024, 5, 1, 10, 4, 0, 0, time.UTC)
	task := Plugin{}.NewTask().(*Task)
	task.now = func() time.Time { return now }
	if err := task.Start(ctx, f.config(KeyFlushSize, "1000", KeyRotateSchedule, "600000", KeyTimezone, "UTC"), connector.TaskContext{}); err != nil {
		t.Fatal(err)
	}
	defer task.Stop()
	if err := task.Put(ctx, []schema.Record{event(topic, 0, 0), event(topic, 0, 1)}); err != nil {
		t.Fatal(err)
	}
	cur := map[connector.TopicPartition]int64{tp(topic, 0): 2}
	if got := commitAll(t, task, cur); len(got) != 0 {
		t.Fatalf("committed %v before the schedule", got)
	}
	now = now.Add(6 * time.Minute) // past 10:10
	if got := commitAll(t, task, cur); got[tp(topic, 0)] != 2 {
		t.Fatalf("committed %v after the schedule", got)
	}
	verifyExactlyOnce(t, f, "topics/", topic, 1, 2)
}

// TestMultipart: a file larger than s3.part.size goes up as a multipart
// upload and reads back whole.
func TestMultipart(t *testing.T) {
	f := newFakeS3(t)
	d := newDriver(t, f.config(KeyFlushSize, "40000", KeyPartSize, "5242880"), 1, 40000)
	d.run(context.Background(), 0)
	verifyExactlyOnce(t, f, "topics/", d.topic, 1, 40000)
	if f.parts.Load() < 2 {
		t.Fatalf("%d multipart parts uploaded, want at least 2", f.parts.Load())
	}
}

// TestParquetTypes round-trips nested structs, optional items, maps,
// decimals and temporal types through parquet-go's reader.
func TestParquetTypes(t *testing.T) {
	inner := schema.StructBuilder().Name("Inner").Optional().
		Field("x", schema.NewBuilder(schema.TypeInt32).Build()).
		Field("y", schema.NewBuilder(schema.TypeString).Optional().Build()).Build()
	s := schema.StructBuilder().Name("com.example.Row").
		Field("i8", schema.NewBuilder(schema.TypeInt8).Build()).
		Field("f", schema.NewBuilder(schema.TypeFloat64).Optional().Build()).
		Field("b", schema.NewBuilder(schema.TypeBoolean).Build()).
		Field("raw", schema.NewBuilder(schema.TypeBytes).Optional().Build()).
		Field("dec", schema.DecimalSchema(3, 10, false)).
		Field("day", schema.DateSchema(true)).
		Field("tod", schema.TimeSchema(true)).
		Field("inner", inner).
		Field("nums", schema.ArrayOf(schema.NewBuilder(schema.TypeInt64).Build())).
		Field("maybe", schema.ArrayOf(schema.NewBuilder(schema.TypeString).Optional().Build())).
		Field("attrs", schema.MapOf(schema.NewBuilder(schema.TypeString).Build(), schema.NewBuilder(schema.TypeInt32).Optional().Build())).
		Field("structs", schema.ArrayOf(inner.WithOptional(false))).
		Build()
	day := time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)
	tod := time.Date(1970, 1, 1, 13, 14, 15, 16e6, time.UTC)
	rows := []*schema.Struct{
		{Schema: s, Values: []any{int8(-3), 1.5, true, []byte{1, 2}, decimal.RequireFromString("12.345"), day, tod,
			&schema.Struct{Schema: inner, Values: []any{int32(7), "y"}},
			[]any{int64(1), int64(2)}, []any{"a", nil, "c"}, map[any]any{"k2": int32(2), "k1": nil},
			[]any{&schema.Struct{Schema: inner.WithOptional(false), Values: []any{int32(1), nil}}}}},
		{Schema: s, Values: []any{int8(4), nil, false, nil, decimal.RequireFromString("-0.001"), nil, nil,
			nil, []any{}, []any{}, map[any]any{}, []any{}}},
	}
	st := &settings{parquetCodec: "zstd"}
	pf, err := newFormat(FormatParquet, viewValue, st)
	if err != nil {
		t.Fatal(err)
	}
	w := pf.newWriter("x")
	for i, r := range rows {
		if err := w.write(&schema.Record{ValueSchema: s, Value: r, Offset: int64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	b, err := w.finish()
	if err != nil {
		t.Fatal(err)
	}
	pfile, err := parquet.OpenFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if pfile.NumRows() != 2 {
		t.Fatalf("%d rows", pfile.NumRows())
	}
	var got []map[string]any
	r := parquet.NewReader(pfile)
	for range 2 {
		m := map[string]any{}
		if err := r.Read(&m); err != nil {
			t.Fatalf("read: %v\nschema: %s", err, pfile.Schema())
		}
		got = append(got, m)
	}
	js, _ := json.Marshal(got)
	want := `[{"attrs":{"k1":null,"k2":2},"b":true,"day":19782,"dec":"12.345","f":1.5,"i8":-3,"inner":{"x":7,"y":"y"},"maybe":["a",null,"c"],"nums":[1,2],"raw":"\u0001\u0002","structs":[{"x":1,"y":null}],"tod":47655016},` +
		`{"attrs":{},"b":false,"day":null,"dec":"-0.001","f":null,"i8":4,"inner":null,"maybe":[],"nums":[],"raw":null,"structs":[],"tod":null}]`
	if string(js) != want {
		t.Fatalf("read back:\n%s\nwant:\n%s\nschema:\n%s", js, want, pfile.Schema())
	}
	if !strings.Contains(pfile.Schema().String(), "message Row") {
		t.Fatalf("schema %s", pfile.Schema())
	}
}

// TestConfigErrors: every bad key is named; the secret is a PASSWORD key.
func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		raw  map[string]string
		keys []string
	}{
		{map[string]string{}, []string{KeyTopics, KeyFlushSize, KeyBucket, KeyFormatClass}},
		{map[string]string{"topics": "a", KeyTopicsRegex: "a.*", KeyBucket: "b", KeyFlushSize: "0", KeyFormatClass: "CsvFormat", KeyPartSize: "100"},
			[]string{KeyTopics, KeyFlushSize, KeyFormatClass, KeyPartSize}},
		{map[string]string{"topics": "a", KeyBucket: "b", KeyFlushSize: "1", KeyFormatClass: "JsonFormat", KeyPartitionerClass: "TimeBasedPartitioner"},
			[]string{KeyPathFormat, KeyPartitionDuration, KeyLocale, KeyTimezone}},
		{map[string]string{"topics": "a", KeyBucket: "b", KeyFlushSize: "1", KeyFormatClass: "JsonFormat", KeyPartitionerClass: "FieldPartitioner",
			KeyAccessKeyID: "x", KeyBehaviorOnNull: "write", KeyStoreURL: "ftp://x", KeyTimezone: "Mars/Base"},
			[]string{KeyPartitionFieldName, KeySecretAccessKey, KeyBehaviorOnNull, KeyStoreURL, KeyTimezone}},
		{map[string]string{"topics": "a", KeyBucket: "b", KeyFlushSize: "1", KeyFormatClass: "JsonFormat", KeyPartitionerClass: "TimeBasedPartitioner",
			KeyPathFormat: "'year'=YYYY/'bad", KeyPartitionDuration: "60000", KeyLocale: "en", KeyTimezone: "UTC", KeyTimestampExtractor: "Nope"},
			[]string{KeyTimestampExtractor, KeyPathFormat}},
	} {
		err := Validate(tc.raw)
		var ce config.Errors
		if !errors.As(err, &ce) {
			t.Fatalf("%v: %v", tc.raw, err)
		}
		var got []string
		for _, e := range ce {
			got = append(got, e.Key)
		}
		for _, k := range tc.keys {
			if !slices.Contains(got, k) {
				t.Errorf("%v: errors %v do not name %s", tc.raw, ce, k)
			}
		}
	}
	k, _ := Def().Lookup(KeySecretAccessKey)
	if k.Type != config.Password {
		t.Fatalf("%s is %s", KeySecretAccessKey, k.Type)
	}
	if err := Validate(map[string]string{"topics": "a", KeyBucket: "b", KeyFlushSize: "1", KeyFormatClass: FormatParquet,
		KeyAccessKeyID: "a", KeySecretAccessKey: "s3cr3t", KeyPartSize: "1"}); err == nil || strings.Contains(err.Error(), "s3cr3t") {
		t.Fatalf("err %v", err)
	}
	// A missing bucket fails Start with the key named.
	f := newFakeS3(t)
	err := (&Task{}).Start(context.Background(), f.config(KeyBucket, "nope"), connector.TaskContext{})
	if err == nil || !strings.Contains(err.Error(), KeyBucket) {
		t.Fatalf("start: %v", err)
	}
}
