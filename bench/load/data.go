package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/shopspring/decimal"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-cdc/tributary/schema"
	"github.com/tributary-cdc/tributary/schema/jsonconv"
)

// The sink stages read flat records of the tables' row shape, as a Connect
// JsonConverter (schemas.enable=true) writes them.
var (
	sinkKeySchema   = schema.NewStructSchema("bench.Key", schema.Field{Name: "id", Schema: schema.Int64Schema})
	sinkValueSchema = schema.NewStructSchema("bench.Value",
		schema.Field{Name: "id", Schema: schema.Int64Schema},
		schema.Field{Name: "v", Schema: schema.Int64Schema},
		schema.Field{Name: "s", Schema: schema.OptionalString},
		schema.Field{Name: "d", Schema: schema.DecimalSchema(2, 12, true)},
		schema.Field{Name: "ts", Schema: schema.TimestampSchema(true)})
	epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
)

// row is row i of every generated table (the SQL generators in env.go
// produce the same values).
func row(i int64) (id, v int64, s string, d decimal.Decimal, ts time.Time) {
	return i, i * 7, fmt.Sprintf("row-%d", i), decimal.New(i, -2), epoch.Add(time.Duration(i) * time.Second)
}

// produceSinkTopic writes rows 1..n as JSON records keyed by id.
func produceSinkTopic(ctx context.Context, cl *kgo.Client, topic string, n int) error {
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 1, 1, nil, topic); err != nil {
		return fmt.Errorf("create topic %s: %w", topic, err)
	}
	kc := jsonconv.New(jsonconv.Config{SchemasEnable: true, IsKey: true, ReplaceNullWithDefault: true})
	vc := jsonconv.New(jsonconv.DefaultConfig())
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	for i := int64(1); i <= int64(n); i++ {
		id, v, s, d, ts := row(i)
		k, err := kc.FromConnect(topic, nil, sinkKeySchema, &schema.Struct{Schema: sinkKeySchema, Values: []any{id}})
		if err != nil {
			return err
		}
		val, err := vc.FromConnect(topic, nil, sinkValueSchema, &schema.Struct{Schema: sinkValueSchema, Values: []any{id, v, s, d, ts}})
		if err != nil {
			return err
		}
		wg.Add(1)
		r := &kgo.Record{Topic: topic, Key: k, Value: val}
		cl.Produce(ctx, r, func(_ *kgo.Record, err error) {
			defer wg.Done()
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return fmt.Errorf("produce %s: %w", topic, firstErr)
	}
	return nil
}
