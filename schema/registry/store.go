package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// The _schemas topic holds Confluent Schema Registry's records, so Confluent
// tools (and a Confluent registry pointed at the same topic) read them:
//
//	key   {"keytype":"SCHEMA","subject":"s","version":1,"magic":1}
//	value {"subject":"s","version":1,"id":1,"schema":"…","deleted":false}   (null: hard-deleted)
//	key   {"keytype":"CONFIG","subject":null|"s","magic":0}
//	value {"compatibilityLevel":"BACKWARD"}                                   (null: subject config removed)
//	key   {"keytype":"NOOP","magic":0}
//
// All state changes go through the topic: a write is produced, and the
// registry answers only after its own reader applied it, as Confluent's
// KafkaStore does. Restarting (or a second instance) replays the topic.

type schemaKey struct {
	KeyType string  `json:"keytype"`
	Subject *string `json:"subject,omitempty"`
	Version *int    `json:"version,omitempty"`
	Magic   int     `json:"magic"`
}

// configKey keeps "subject":null for the global config, as Confluent writes it.
type configKey struct {
	KeyType string  `json:"keytype"`
	Subject *string `json:"subject"`
	Magic   int     `json:"magic"`
}

type schemaValue struct {
	Subject    string      `json:"subject"`
	Version    int         `json:"version"`
	ID         int         `json:"id"`
	SchemaType string      `json:"schemaType,omitempty"`
	References []Reference `json:"references,omitempty"`
	Schema     string      `json:"schema"`
	Deleted    bool        `json:"deleted"`
}

type configValue struct {
	CompatibilityLevel string `json:"compatibilityLevel"`
}

type version struct {
	version int
	id      int
	deleted bool
}

// stored is one schema of the registry, by id.
type stored struct {
	typ  string // TypeAvro, TypeJSON, TypeProtobuf (never "")
	text string // canonical text
	refs []Reference
}

// identity is what makes two registrations the same schema: type, canonical
// text and references, as Confluent compares them.
func (s stored) identity() string {
	b, _ := json.Marshal(s.refs)
	return s.typ + "\x00" + s.text + "\x00" + string(b)
}

type state struct {
	schemas       map[int]stored       // id → schema
	byText        map[string]int       // identity → id
	subjects      map[string][]version // ordered by version
	subjectCompat map[string]string    // subject → level
	globalCompat  string
	maxID         int
}

func newState(defaultCompat string) *state {
	return &state{
		schemas:       map[int]stored{},
		byText:        map[string]int{},
		subjects:      map[string][]version{},
		subjectCompat: map[string]string{},
		globalCompat:  defaultCompat,
	}
}

// apply folds one _schemas record into the state.
func (st *state) apply(key, value []byte) error {
	var k struct {
		KeyType string  `json:"keytype"`
		Subject *string `json:"subject"`
		Version int     `json:"version"`
	}
	if err := json.Unmarshal(key, &k); err != nil {
		return fmt.Errorf("bad key %q: %w", key, err)
	}
	switch k.KeyType {
	case "SCHEMA":
		if k.Subject == nil {
			return fmt.Errorf("SCHEMA key without subject")
		}
		subj := *k.Subject
		if value == nil { // hard delete
			vs := st.subjects[subj]
			for i, v := range vs {
				if v.version == k.Version {
					st.subjects[subj] = append(vs[:i:i], vs[i+1:]...)
					break
				}
			}
			if len(st.subjects[subj]) == 0 {
				delete(st.subjects, subj)
			}
			return nil
		}
		var v schemaValue
		if err := json.Unmarshal(value, &v); err != nil {
			return fmt.Errorf("bad SCHEMA value: %w", err)
		}
		sc := stored{typ: normType(v.SchemaType), text: v.Schema, refs: v.References}
		st.schemas[v.ID] = sc
		if _, ok := st.byText[sc.identity()]; !ok {
			st.byText[sc.identity()] = v.ID
		}
		if v.ID > st.maxID {
			st.maxID = v.ID
		}
		vs := st.subjects[subj]
		i := sort.Search(len(vs), func(i int) bool { return vs[i].version >= v.Version })
		nv := version{version: v.Version, id: v.ID, deleted: v.Deleted}
		if i < len(vs) && vs[i].version == v.Version {
			vs[i] = nv
		} else {
			vs = append(vs, version{})
			copy(vs[i+1:], vs[i:])
			vs[i] = nv
		}
		st.subjects[subj] = vs
	case "CONFIG":
		var v configValue
		if value != nil {
			if err := json.Unmarshal(value, &v); err != nil {
				return fmt.Errorf("bad CONFIG value: %w", err)
			}
		}
		switch {
		case k.Subject == nil && v.CompatibilityLevel != "":
			st.globalCompat = v.CompatibilityLevel
		case k.Subject != nil && v.CompatibilityLevel == "":
			delete(st.subjectCompat, *k.Subject)
		case k.Subject != nil:
			st.subjectCompat[*k.Subject] = v.CompatibilityLevel
		}
	}
	// NOOP, DELETE_SUBJECT, CLEAR_SUBJECT, MODE, …: nothing to fold (deletes
	// are also written as SCHEMA records with deleted=true).
	return nil
}

// log is where state lives: a Kafka topic, or memory for tests.
type stateLog interface {
	// write stores records and returns after the state reflects them.
	write(ctx context.Context, recs []kv) error
	close()
}

type kv struct{ key, value []byte }

// store is the registry state plus its log.
type store struct {
	mu      sync.RWMutex
	st      *state
	writeMu sync.Mutex // one write (id assignment + produce) at a time
	log     stateLog
}

func (s *store) read(fn func(st *state)) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	fn(s.st)
}

type memLog struct{ s *store }

func (m *memLog) write(_ context.Context, recs []kv) error {
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	for _, r := range recs {
		if err := m.s.st.apply(r.key, r.value); err != nil {
			return err
		}
	}
	return nil
}

func (m *memLog) close() {}

// kafkaLog stores records in a compacted single-partition topic and tails it.
type kafkaLog struct {
	s      *store
	cl     *kgo.Client
	topic  string
	logger *slog.Logger

	mu      sync.Mutex
	applied int64 // offset of the last applied record, -1 before any
	notify  chan struct{}
	err     error

	cancel context.CancelFunc
	done   chan struct{}
}

func openKafkaLog(ctx context.Context, s *store, topic string, opts []kgo.Opt, logger *slog.Logger) (*kafkaLog, error) {
	all := append([]kgo.Opt{
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.DefaultProduceTopic(topic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.FetchMaxWait(500 * time.Millisecond),
	}, opts...)
	cl, err := kgo.NewClient(all...)
	if err != nil {
		return nil, fmt.Errorf("registry: kafka client: %w", err)
	}
	adm := kadm.NewClient(cl)
	_, err = adm.CreateTopic(ctx, 1, -1, map[string]*string{"cleanup.policy": kadm.StringPtr("compact")}, topic)
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		cl.Close()
		return nil, fmt.Errorf("registry: create topic %s: %w", topic, err)
	}
	end, err := endOffset(ctx, adm, topic)
	if err != nil {
		cl.Close()
		return nil, fmt.Errorf("registry: end offset of %s: %w", topic, err)
	}
	rctx, cancel := context.WithCancel(context.Background())
	l := &kafkaLog{s: s, cl: cl, topic: topic, logger: logger, applied: -1, notify: make(chan struct{}), cancel: cancel, done: make(chan struct{})}
	go l.run(rctx)
	if end > 0 {
		if err := l.waitApplied(ctx, end-1); err != nil {
			l.close()
			return nil, fmt.Errorf("registry: replay %s: %w", topic, err)
		}
	}
	return l, nil
}

func (l *kafkaLog) run(ctx context.Context) {
	defer close(l.done)
	for {
		fs := l.cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return
		}
		fs.EachError(func(t string, p int32, err error) {
			l.logger.Warn("schema registry: fetch error", "topic", t, "partition", p, "err", err)
		})
		var last int64 = -1
		l.s.mu.Lock()
		fs.EachRecord(func(r *kgo.Record) {
			if err := l.s.st.apply(r.Key, r.Value); err != nil {
				l.logger.Warn("schema registry: skipping record", "topic", r.Topic, "offset", r.Offset, "err", err)
			}
			last = r.Offset
		})
		l.s.mu.Unlock()
		if last >= 0 {
			l.mu.Lock()
			l.applied = last
			close(l.notify)
			l.notify = make(chan struct{})
			l.mu.Unlock()
		}
	}
}

func (l *kafkaLog) waitApplied(ctx context.Context, off int64) error {
	for {
		l.mu.Lock()
		if l.applied >= off {
			l.mu.Unlock()
			return nil
		}
		ch := l.notify
		l.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-l.done:
			return errors.New("registry log closed")
		}
	}
}

func (l *kafkaLog) write(ctx context.Context, recs []kv) error {
	krs := make([]*kgo.Record, len(recs))
	for i, r := range recs {
		krs[i] = &kgo.Record{Topic: l.topic, Partition: 0, Key: r.key, Value: r.value}
	}
	res := l.cl.ProduceSync(ctx, krs...)
	if err := res.FirstErr(); err != nil {
		return fmt.Errorf("registry: write %s: %w", l.topic, err)
	}
	var last int64
	for _, r := range res {
		if r.Record.Offset > last {
			last = r.Record.Offset
		}
	}
	return l.waitApplied(ctx, last)
}

// catchUp waits until every record written so far (by any instance) is applied.
func (l *kafkaLog) catchUp(ctx context.Context) error {
	ends, err := kadm.NewClient(l.cl).ListEndOffsets(ctx, l.topic)
	if err != nil {
		return err
	}
	if o, ok := ends.Lookup(l.topic, 0); ok && o.Err == nil && o.Offset > 0 {
		return l.waitApplied(ctx, o.Offset-1)
	}
	return nil
}

func (l *kafkaLog) close() {
	l.cancel()
	<-l.done
	l.cl.Close()
}

// endOffset returns the end offset of partition 0 of topic. A topic created a
// moment ago may not be known to every broker yet (UNKNOWN_TOPIC_OR_PARTITION),
// so lookups are retried for a while: replaying from a guessed 0 would serve
// an empty registry and hand out ids that already exist.
func endOffset(ctx context.Context, adm *kadm.Client, topic string) (int64, error) {
	deadline := time.Now().Add(15 * time.Second)
	for {
		ends, err := adm.ListEndOffsets(ctx, topic)
		if err == nil {
			err = ends.Error()
		}
		if err == nil {
			if o, ok := ends.Lookup(topic, 0); ok {
				if o.Err == nil {
					return o.Offset, nil
				}
				err = o.Err
			} else {
				err = fmt.Errorf("no end offset for partition 0")
			}
		}
		if time.Now().After(deadline) {
			return 0, err
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
