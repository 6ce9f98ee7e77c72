package cdc

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tributary-cdc/tributary/schema"
)

// TestContextHeadersApply: data-change envelopes, tombstones and schema
// changes get the four headers after their own; heartbeats and
// transaction metadata get none (Debezium 3.6.1's EventDispatcher adds
// them in its change-record and schema-change receivers only).
func TestContextHeadersApply(t *testing.T) {
	h := NewContextHeaders("srv", 2, "postgresql")
	named := func(n string) *schema.Schema { return schema.NewStructSchema(n) }
	recs := []schema.Record{
		{ValueSchema: named("srv.public.t.Envelope"), Value: &schema.Struct{}, Headers: []schema.Header{{Key: HeaderNewKey, Value: []byte(`{"id":1}`)}}},
		{}, // tombstone
		{ValueSchema: named("io.debezium.connector.mysql.SchemaChangeValue"), Value: &schema.Struct{}},
		{ValueSchema: named("io.debezium.connector.common.Heartbeat"), Value: &schema.Struct{}},
		{ValueSchema: named("io.debezium.connector.common.TransactionMetadataValue"), Value: &schema.Struct{}},
	}
	h.Apply(recs)
	want := []int{5, 4, 4, 0, 0}
	for i, r := range recs {
		if len(r.Headers) != want[i] {
			t.Fatalf("record %d: %d headers, want %d: %v", i, len(r.Headers), want[i], r.Headers)
		}
	}
	hs := recs[0].Headers
	if hs[0].Key != HeaderNewKey || hs[1].Key != HeaderLogicalName || string(hs[1].Value) != "srv" ||
		hs[2].Key != HeaderTaskID || string(hs[2].Value) != "2" || hs[3].Key != HeaderConnectorName ||
		string(hs[3].Value) != "postgresql" || hs[4].Key != HeaderRunID {
		t.Fatalf("headers %v", hs)
	}
	// Each record has its own slice: changing one leaves the others.
	recs[1].Headers[0].Value = []byte("x")
	if string(recs[2].Headers[0].Value) != "srv" {
		t.Fatal("records share a header slice")
	}
	var none ContextHeaders
	r := []schema.Record{{}}
	none.Apply(r)
	if r[0].Headers != nil {
		t.Fatal("nil ContextHeaders added headers")
	}
}

func TestUUIDv7(t *testing.T) {
	at := time.UnixMilli(0x0123456789ab)
	u := uuidV7(at)
	if !regexp.MustCompile(`^0123456789ab-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(u[:8] + u[9:13] + u[13:]) {
		t.Fatalf("uuidV7 = %s", u)
	}
	if uuidV7(at) == u {
		t.Fatal("two run ids are equal")
	}
}

// TestJavaHashMapOrder: the END event's data_collections come in the
// order java.util.HashMap iterates them (Debezium keeps the counts in one);
// the expected orders were printed by Java 17's HashMap for the same
// insertions (14 keys: the table grows to 32 buckets).
func TestJavaHashMapOrder(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"public.types,public.nokey", "public.nokey,public.types"},
		{"public.types,public.nokey,db1.orders,db1.customers,inventory.products,s.t0,s.t1,s.t2,s.t3,s.t4,s.t5,s.t6,s.t7,s.t8",
			"s.t0,public.nokey,s.t6,s.t5,s.t8,s.t7,public.types,db1.customers,s.t2,s.t1,inventory.products,s.t4,s.t3,db1.orders"},
	} {
		var counts []CollectionCount
		for _, k := range strings.Split(c.in, ",") {
			counts = append(counts, CollectionCount{Collection: k, Count: 1})
		}
		var got []string
		for _, cc := range javaHashMapOrder(counts) {
			got = append(got, cc.Collection)
		}
		if g := strings.Join(got, ","); g != c.want {
			t.Errorf("order of %s:\n got %s\nwant %s", c.in, g, c.want)
		}
	}
}
