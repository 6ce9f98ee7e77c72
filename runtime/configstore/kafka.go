package configstore

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-cdc/tributary/runtime/topics"
)

// Kafka is a Store in a compacted, single-partition Kafka topic (Connect's
// config.storage.topic) holding Connect's config topic records, so Kafka
// Connect tooling can read it. It reads the topic to its end when opened
// and on Refresh; its writes are acknowledged by Kafka (acks=all) before
// they return. Other record kinds of the topic (task-, commit-, session-key
// …) are kept on the topic but not interpreted here.
type Kafka struct {
	newClient func(...kgo.Opt) (*kgo.Client, error)
	cl        *kgo.Client // producer and admin
	topic     string

	mu      sync.Mutex
	records map[string][]byte
	next    int64 // next offset to read
	closed  bool
}

// NewClient builds a Kafka client for the worker's cluster with extra
// options (Worker.KafkaClient has this signature).
type NewClient func(opts ...kgo.Opt) (*kgo.Client, error)

// OpenKafka creates the topic when missing (1 partition,
// cleanup.policy=compact, replication factor replication, -1 for the
// broker's default) and reads it. The store's clients come from newClient
// and are closed by Close.
func OpenKafka(ctx context.Context, newClient NewClient, topic string, replication int16) (*Kafka, error) {
	cl, err := newClient()
	if err != nil {
		return nil, err
	}
	compact := "compact"
	if _, err := topics.Create(ctx, cl, topic, 1, replication, map[string]*string{"cleanup.policy": &compact}, nil); err != nil {
		cl.Close()
		return nil, fmt.Errorf("config topic %s: %w", topic, err)
	}
	k := &Kafka{newClient: newClient, cl: cl, topic: topic, records: map[string][]byte{}}
	if err := k.Refresh(ctx); err != nil {
		cl.Close()
		return nil, err
	}
	return k, nil
}

// Refresh reads the records written since the last read (by this or other
// workers).
func (k *Kafka) Refresh(ctx context.Context) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	// A fresh client each time: kgo's metadata cache of a long-lived one
	// may still miss a topic created moments ago.
	cons, err := k.newClient(
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{k.topic: {0: kgo.NewOffset().At(k.next)}}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		return err
	}
	defer cons.Close()
	var end kadm.ListedOffset
	for attempt := 0; ; attempt++ {
		ends, err := kadm.NewClient(cons).ListEndOffsets(ctx, k.topic)
		if err != nil {
			return fmt.Errorf("config topic %s: end offsets: %w", k.topic, err)
		}
		var ok bool
		end, ok = ends.Lookup(k.topic, 0)
		if ok && end.Err == nil {
			break
		}
		// Just created: metadata may not know the partition yet.
		if attempt == 50 {
			return fmt.Errorf("config topic %s: no end offset for partition 0: %v", k.topic, end.Err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("config topic %s: end offsets: %w", k.topic, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	if end.Offset <= k.next {
		return nil
	}
	for k.next < end.Offset {
		fs := cons.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("config topic %s: read: %w", k.topic, err)
		}
		var ferr error
		fs.EachError(func(_ string, _ int32, err error) { ferr = err })
		if ferr != nil {
			return fmt.Errorf("config topic %s: read: %w", k.topic, ferr)
		}
		fs.EachRecord(func(r *kgo.Record) {
			if r.Value == nil {
				delete(k.records, string(r.Key))
			} else {
				k.records[string(r.Key)] = r.Value
			}
			k.next = r.Offset + 1
		})
	}
	return nil
}

// Load implements Store.
func (k *Kafka) Load(context.Context) ([]Connector, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return decodeRecords(k.records)
}

// decodeRecords turns config topic records into connectors, sorted by name.
func decodeRecords(records map[string][]byte) ([]Connector, error) {
	names := map[string]bool{}
	for key := range records {
		if name, ok := strings.CutPrefix(key, connectorPrefix); ok {
			names[name] = true
		} else if name, ok := strings.CutPrefix(key, targetPrefix); ok {
			names[name] = true
		}
	}
	var out []Connector
	for _, name := range slices.Sorted(maps.Keys(names)) {
		c := Connector{Name: name, Target: TargetRunning}
		var err error
		if v, ok := records[ConnectorKey(name)]; ok {
			if c.Config, err = DecodeConfig(v); err != nil {
				return nil, fmt.Errorf("%s: %w", ConnectorKey(name), err)
			}
		}
		if v, ok := records[TargetKey(name)]; ok {
			if c.Target, err = DecodeTarget(v); err != nil {
				return nil, fmt.Errorf("%s: %w", TargetKey(name), err)
			}
		}
		out = append(out, c)
	}
	return out, nil
}

func (k *Kafka) write(ctx context.Context, recs ...*kgo.Record) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closed {
		return errors.New("config store closed")
	}
	for _, r := range recs {
		r.Topic, r.Partition = k.topic, 0
	}
	res := k.cl.ProduceSync(ctx, recs...)
	if err := res.FirstErr(); err != nil {
		return fmt.Errorf("config topic %s: write: %w", k.topic, err)
	}
	for _, r := range res {
		if r.Record.Value == nil {
			delete(k.records, string(r.Record.Key))
		} else {
			k.records[string(r.Record.Key)] = r.Record.Value
		}
	}
	return nil
}

// PutConfig implements Store.
func (k *Kafka) PutConfig(ctx context.Context, name string, cfg map[string]string) error {
	v, err := EncodeConfig(cfg)
	if err != nil {
		return err
	}
	return k.write(ctx, &kgo.Record{Key: []byte(ConnectorKey(name)), Value: v})
}

// PutTarget implements Store.
func (k *Kafka) PutTarget(ctx context.Context, name, target string) error {
	v, err := EncodeTarget(target)
	if err != nil {
		return err
	}
	return k.write(ctx, &kgo.Record{Key: []byte(TargetKey(name)), Value: v})
}

// Delete implements Store: tombstones for the connector's config and
// target state.
func (k *Kafka) Delete(ctx context.Context, name string) error {
	return k.write(ctx, &kgo.Record{Key: []byte(ConnectorKey(name))}, &kgo.Record{Key: []byte(TargetKey(name))})
}

// Close implements Store.
func (k *Kafka) Close() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if !k.closed {
		k.closed = true
		k.cl.Close()
	}
	return nil
}
