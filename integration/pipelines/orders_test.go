package pipelines

import (
	"context"
	"encoding/base64"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-cdc/tributary/integration/harness"
	"github.com/tributary-cdc/tributary/runtime/verify"
)

// The orders schemas a plain application writes with Connect JSON: v2 adds
// an optional field and a required field with a default.
const (
	ordersSchemaV1 = `{"type":"struct","name":"orders","optional":false,"fields":[
		{"field":"id","type":"int64","optional":false},
		{"field":"customer","type":"string","optional":false},
		{"field":"amount","type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2","connect.decimal.precision":"10"}},
		{"field":"quantity","type":"int32","optional":false},
		{"field":"ordered_at","type":"int64","optional":false,"name":"org.apache.kafka.connect.data.Timestamp","version":1},
		{"field":"express","type":"boolean","optional":true}]}`
	ordersSchemaV2 = `{"type":"struct","name":"orders","optional":false,"fields":[
		{"field":"id","type":"int64","optional":false},
		{"field":"customer","type":"string","optional":false},
		{"field":"amount","type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2","connect.decimal.precision":"10"}},
		{"field":"quantity","type":"int32","optional":false},
		{"field":"ordered_at","type":"int64","optional":false,"name":"org.apache.kafka.connect.data.Timestamp","version":1},
		{"field":"express","type":"boolean","optional":true},
		{"field":"coupon","type":"string","optional":true},
		{"field":"discount","type":"double","optional":false,"default":0}]}`
	ordersKeySchema = `{"type":"int64","optional":false}`
)

// order is one row the application writes.
type order struct {
	id        int64
	customer  string
	amount    string // decimal text, scale 2
	quantity  int32
	orderedAt time.Time
	express   *bool
	// v2 fields
	coupon   *string
	discount float64
}

// decimalBase64 is JsonConverter's default decimal encoding: the unscaled
// value's big-endian two's-complement bytes, base64.
func decimalBase64(s string) string {
	unscaled, ok := new(big.Int).SetString(strings.Replace(s, ".", "", 1), 10)
	if !ok {
		panic("bad decimal " + s)
	}
	b := unscaled.Bytes()
	if unscaled.Sign() >= 0 && (len(b) == 0 || b[0]&0x80 != 0) {
		b = append([]byte{0}, b...)
	}
	if unscaled.Sign() < 0 {
		// two's complement of the magnitude, one byte wider
		n := len(b) + 1
		m := new(big.Int).Lsh(big.NewInt(1), uint(8*n))
		b = m.Add(m, unscaled).Bytes()
	}
	return base64.StdEncoding.EncodeToString(b)
}

func jsonQuote(s string) string { return fmt.Sprintf("%q", s) }

// message is the Connect JSON value of o with schema v1 or v2. v2 writes
// the decimal as a JSON number, which Kafka's JsonConverter also reads.
func (o order) message(v2 bool) []byte {
	express := "null"
	if o.express != nil {
		express = fmt.Sprint(*o.express)
	}
	payload := fmt.Sprintf(`"id":%d,"customer":%s,"amount":%s,"quantity":%d,"ordered_at":%d,"express":%s`,
		o.id, jsonQuote(o.customer), jsonQuote(decimalBase64(o.amount)), o.quantity, o.orderedAt.UnixMilli(), express)
	schema := ordersSchemaV1
	if v2 {
		coupon := "null"
		if o.coupon != nil {
			coupon = jsonQuote(*o.coupon)
		}
		payload = fmt.Sprintf(`"id":%d,"customer":%s,"amount":%s,"quantity":%d,"ordered_at":%d,"express":%s,"coupon":%s,"discount":%g`,
			o.id, jsonQuote(o.customer), o.amount, o.quantity, o.orderedAt.UnixMilli(), express, coupon, o.discount)
		schema = ordersSchemaV2
	}
	return []byte(`{"schema":` + schema + `,"payload":{` + payload + `}}`)
}

func (o order) key() []byte {
	return []byte(fmt.Sprintf(`{"schema":%s,"payload":%d}`, ordersKeySchema, o.id))
}

func (o order) row(v2 bool) []string {
	express := "NULL"
	if o.express != nil {
		express = text(*o.express)
	}
	r := []string{fmt.Sprint(o.id), o.customer, o.amount, fmt.Sprint(o.quantity),
		o.orderedAt.UTC().Format("2006-01-02 15:04:05.000000"), express}
	if v2 {
		coupon := "NULL"
		if o.coupon != nil {
			coupon = *o.coupon
		}
		r = append(r, coupon, text(o.discount))
	}
	return r
}

func ptr[T any](v T) *T { return &v }

// produce writes the orders to the topic as a plain application: a franz-go
// producer, no source connector.
func produce(t *testing.T, cl *kgo.Client, topic string, v2 bool, orders ...order) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var recs []*kgo.Record
	for _, o := range orders {
		recs = append(recs, &kgo.Record{Topic: topic, Key: o.key(), Value: o.message(v2)})
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
}

// TestOrdersConnectJSONAutoCreateEvolve is issue 7's first acceptance test:
// an application writes Connect-JSON orders to a topic; JdbcSinkConnector
// with auto.create, auto.evolve and upserts creates the table in MariaDB
// (pk.mode=record_value) and PostgreSQL (pk.mode=record_key) and fills it;
// then the application adds two fields and both tables gain the columns
// with the values.
func TestOrdersConnectJSONAutoCreateEvolve(t *testing.T) {
	maria, pg := harness.MariaDB(t), harness.Postgres(t)
	mconn, pconn := maria.Open(t), pg.Open(t)
	sinks := []connector{
		{name: "orders-mariadb", config: map[string]string{
			"connector.class": "io.confluent.connect.jdbc.JdbcSinkConnector",
			"tasks.max":       "1",
			"topics":          "orders",
			"connection.url":  fmt.Sprintf("jdbc:mariadb://%s:%d/%s", maria.Host, maria.Port, maria.Name),
			"connection.user": maria.User,
			"insert.mode":     "upsert",
			"pk.mode":         "record_value",
			"pk.fields":       "id",
			"auto.create":     "true",
			"auto.evolve":     "true",
		}},
		{name: "orders-postgres", config: map[string]string{
			"connector.class": "io.confluent.connect.jdbc.JdbcSinkConnector",
			"tasks.max":       "2",
			"topics":          "orders",
			"connection.url":  pg.JDBCURL(),
			"insert.mode":     "upsert",
			"pk.mode":         "record_key",
			"pk.fields":       "id",
			"auto.create":     "true",
			"auto.evolve":     "true",
		}},
	}
	w := startWorker(t, workerOpts{}, sinks...)
	w.createTopic("orders", 3)
	w.waitRunning("orders-mariadb", "orders-postgres")
	prod := w.kafka()

	at := time.Date(2024, 3, 9, 14, 30, 15, 123_000_000, time.UTC)
	v1 := []order{
		{id: 1, customer: "Ada", amount: "12.34", quantity: 1, orderedAt: at, express: ptr(true)},
		{id: 2, customer: "Grace", amount: "0.99", quantity: 3, orderedAt: at.Add(time.Minute), express: ptr(false)},
		{id: 3, customer: "Linus", amount: "1000.00", quantity: 2, orderedAt: at.Add(2 * time.Minute)},
		{id: 4, customer: "Barbara ✓ 'quoted'", amount: "-5.50", quantity: 7, orderedAt: at.Add(3 * time.Minute), express: ptr(true)},
		{id: 5, customer: "Edsger", amount: "99999999.99", quantity: 1, orderedAt: at.Add(4 * time.Minute), express: ptr(false)},
	}
	// Upserts: ids 2 and 5 change after their first write.
	upd := []order{
		{id: 2, customer: "Grace", amount: "1.99", quantity: 4, orderedAt: at.Add(time.Minute), express: ptr(true)},
		{id: 5, customer: "Edsger W.", amount: "0.01", quantity: 9, orderedAt: at.Add(5 * time.Minute)},
	}
	produce(t, prod, "orders", false, v1...)
	produce(t, prod, "orders", false, upd...)
	want := map[int64]order{}
	for _, o := range append(append([]order{}, v1...), upd...) {
		want[o.id] = o
	}
	wantRows := func(v2 bool) [][]string {
		var out [][]string
		for id := int64(1); id <= int64(len(want)); id++ {
			out = append(out, want[id].row(v2))
		}
		return out
	}

	type target struct {
		db   *harness.Database
		conn *sqlx.DB
	}
	targets := []target{{maria, mconn}, {pg, pconn}}
	const v1Query = `SELECT id, customer, amount, quantity, ordered_at, express FROM orders ORDER BY id`
	for _, tg := range targets {
		w.eventually(60*time.Second, fmt.Sprintf("%s orders table filled", tg.db.Kind), func() error {
			got, err := rows(tg.conn, v1Query)
			if err != nil {
				return err
			}
			if d := equalRows(got, wantRows(false)); d != "" {
				return fmt.Errorf("orders differ:\n%s", d)
			}
			return nil
		})
		cols, err := columns(tg.db, tg.conn, "orders")
		if err != nil {
			t.Fatal(err)
		}
		wantCols := []string{"id NOT NULL", "customer NOT NULL", "amount NOT NULL", "quantity NOT NULL", "ordered_at NOT NULL", "express NULL"}
		if strings.Join(cols, ",") != strings.Join(wantCols, ",") {
			t.Errorf("%s: created columns %v, want %v", tg.db.Kind, cols, wantCols)
		}
		if pk, err := primaryKey(tg.db, tg.conn, "orders"); err != nil || strings.Join(pk, ",") != "id" {
			t.Errorf("%s: primary key %v (%v), want [id]", tg.db.Kind, pk, err)
		}
	}

	// The application adds fields: coupon (optional) and discount
	// (required, default 0); order 6 is new, order 1 is updated.
	v2 := []order{
		{id: 6, customer: "Margaret", amount: "42.00", quantity: 2, orderedAt: at.Add(6 * time.Minute), coupon: ptr("SPRING"), discount: 1.5},
		{id: 1, customer: "Ada", amount: "12.34", quantity: 2, orderedAt: at, express: ptr(true), coupon: ptr("VIP"), discount: 0.25},
		{id: 7, customer: "Ken", amount: "3.10", quantity: 1, orderedAt: at.Add(7 * time.Minute), express: ptr(false), discount: 0},
	}
	produce(t, prod, "orders", true, v2...)
	for _, o := range v2 {
		want[o.id] = o
	}
	const v2Query = `SELECT id, customer, amount, quantity, ordered_at, express, coupon, discount FROM orders ORDER BY id`
	for _, tg := range targets {
		w.eventually(60*time.Second, fmt.Sprintf("%s orders table evolved", tg.db.Kind), func() error {
			got, err := rows(tg.conn, v2Query)
			if err != nil {
				return err
			}
			if d := equalRows(got, wantRows(true)); d != "" {
				return fmt.Errorf("orders differ:\n%s", d)
			}
			return nil
		})
		cols, err := columns(tg.db, tg.conn, "orders")
		if err != nil {
			t.Fatal(err)
		}
		if n := len(cols); n != 8 || cols[6] != "coupon NULL" || !strings.HasPrefix(cols[7], "discount ") {
			t.Errorf("%s: evolved columns %v, want the six of v1 plus coupon NULL, discount", tg.db.Kind, cols)
		}
	}
	// Both targets hold the same table.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rep, err := verify.Tables(ctx, mconn, pconn, verify.Options{SourceTable: "orders"})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Verified() {
		t.Errorf("MariaDB and PostgreSQL orders differ: %s %v", rep.Summary(), rep.Diffs)
	}
	w.waitRunning("orders-mariadb", "orders-postgres")
	w.stop()
}
