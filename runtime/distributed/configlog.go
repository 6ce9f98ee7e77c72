package distributed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-cdc/tributary/runtime/configstore"
	"github.com/tributary-cdc/tributary/runtime/kafka"
)

// Config topic record keys (Connect's KafkaConfigBackingStore).
const (
	keyConnector = "connector-"
	keyTask      = "task-"
	keyCommit    = "commit-"
	keyTarget    = "target-state-"
	keyRestart   = "restart-connector-"
)

// endOffsetPatience bounds how long a reader of an internal topic waits for
// a topic just created to be known to every broker before giving up.
const endOffsetPatience = 30 * time.Second

// newClient builds a client on the worker's cluster (Worker.KafkaClient).
type newClient func(opts ...kgo.Opt) (*kgo.Client, error)

// snapshot is the state the config topic describes, up to an offset.
type snapshot struct {
	// Offset is the offset after the last record applied (Connect's config
	// offset, sent in member metadata and assignments).
	Offset     int64
	Connectors map[string]map[string]string
	// Targets holds RUNNING, PAUSED or STOPPED per connector (RUNNING when
	// absent).
	Targets map[string]string
	// Tasks are the committed task configs per connector.
	Tasks map[string][]map[string]string
}

// Target returns a connector's target state.
func (s snapshot) Target(name string) string {
	if t, ok := s.Targets[name]; ok {
		return t
	}
	return configstore.TargetRunning
}

// taskCounts returns connector → committed task count, for the assignor.
func (s snapshot) taskCounts() map[string]int {
	out := make(map[string]int, len(s.Connectors))
	for n := range s.Connectors {
		out[n] = len(s.Tasks[n])
	}
	return out
}

// restartRequest is a restart-connector-<name> record.
type restartRequest struct {
	Connector    string `json:"-"`
	Offset       int64  `json:"-"` // of the record
	IncludeTasks bool   `json:"include-tasks"`
	OnlyFailed   bool   `json:"only-failed"`
}

// configLog follows the config topic (one partition) and writes to it.
// Only the leader writes, as in Connect; every worker reads everything.
type configLog struct {
	topic string
	log   *slog.Logger
	prod  *kgo.Client
	cons  *kgo.Client

	mu      sync.Mutex
	snap    snapshot
	pending map[string]map[int]map[string]string // task records not yet committed
	changed chan struct{}                        // closed and replaced on every applied batch
	readErr error
	closed  bool
	// session is the latest session key read (sessionkey.go).
	session *sessionKey

	// restarts receives restart requests read from the topic (buffered;
	// the herder drains it).
	restarts chan restartRequest

	cancel context.CancelFunc
	done   chan struct{}
}

// openConfigLog creates the topic when missing (one partition, compacted)
// and starts following it from the beginning.
func openConfigLog(ctx context.Context, nc newClient, topic string, rf int16, log *slog.Logger) (*configLog, error) {
	prod, err := nc(kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.RequiredAcks(kgo.AllISRAcks()), kgo.ProducerLinger(0))
	if err != nil {
		return nil, err
	}
	if err := kafka.EnsureTopics(ctx, prod, kafka.Compacted(topic, 1, rf)); err != nil {
		prod.Close()
		return nil, fmt.Errorf("config topic: %w", err)
	}
	if n, err := waitPartitions(ctx, prod, topic); err != nil {
		prod.Close()
		return nil, fmt.Errorf("config topic: %w", err)
	} else if n != 1 {
		prod.Close()
		return nil, fmt.Errorf("config topic %s has %d partitions; Kafka Connect requires exactly one (config.storage.topic)", topic, n)
	}
	cons, err := nc(kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}))
	if err != nil {
		prod.Close()
		return nil, err
	}
	rctx, cancel := context.WithCancel(context.Background())
	c := &configLog{topic: topic, log: log, prod: prod, cons: cons,
		snap:     snapshot{Connectors: map[string]map[string]string{}, Targets: map[string]string{}, Tasks: map[string][]map[string]string{}},
		pending:  map[string]map[int]map[string]string{},
		changed:  make(chan struct{}),
		restarts: make(chan restartRequest, 64),
		cancel:   cancel, done: make(chan struct{})}
	go c.follow(rctx)
	if err := c.readToEnd(ctx); err != nil {
		c.close()
		return nil, err
	}
	return c, nil
}

// waitPartitions returns a topic's partition count once metadata knows it.
func waitPartitions(ctx context.Context, cl *kgo.Client, topic string) (int, error) {
	for {
		tds, err := kadm.NewClient(cl).ListTopics(ctx, topic)
		if err == nil {
			if td, ok := tds[topic]; ok && td.Err == nil && len(td.Partitions) > 0 {
				return len(td.Partitions), nil
			}
		}
		if err := sleepCtx(ctx, 100*time.Millisecond); err != nil {
			return 0, fmt.Errorf("topic %s: no metadata: %w", topic, err)
		}
	}
}

func (c *configLog) follow(ctx context.Context) {
	defer close(c.done)
	for {
		fs := c.cons.PollFetches(ctx)
		if ctx.Err() != nil || fs.IsClientClosed() {
			return
		}
		var ferr error
		fs.EachError(func(_ string, _ int32, err error) {
			if !errors.Is(err, context.Canceled) {
				ferr = err
			}
		})
		var restarts []restartRequest
		c.mu.Lock()
		fs.EachRecord(func(r *kgo.Record) {
			if rr, ok := c.apply(r); ok {
				restarts = append(restarts, rr)
			}
			c.snap.Offset = r.Offset + 1
		})
		c.readErr = ferr
		close(c.changed)
		c.changed = make(chan struct{})
		c.mu.Unlock()
		if ferr != nil {
			c.log.Warn("config topic read error", "topic", c.topic, "err", ferr)
		}
		for _, rr := range restarts {
			select {
			case c.restarts <- rr:
			default:
				c.log.Warn("restart request dropped (too many pending)", "connector", rr.Connector)
			}
		}
	}
}

// apply applies one record to the snapshot (c.mu held).
func (c *configLog) apply(r *kgo.Record) (restartRequest, bool) {
	key := string(r.Key)
	s := &c.snap
	switch {
	case key == keySessionKey:
		c.applySessionKey(r)
	case strings.HasPrefix(key, keyConnector):
		name := key[len(keyConnector):]
		if r.Value == nil {
			delete(s.Connectors, name)
			delete(s.Targets, name)
			delete(s.Tasks, name)
			delete(c.pending, name)
			return restartRequest{}, false
		}
		cfg, err := configstore.DecodeConfig(r.Value)
		if err != nil {
			c.log.Warn("bad config record ignored", "key", key, "err", err)
			return restartRequest{}, false
		}
		s.Connectors[name] = cfg
	case strings.HasPrefix(key, keyTarget):
		name := key[len(keyTarget):]
		if r.Value == nil {
			delete(s.Targets, name)
			return restartRequest{}, false
		}
		t, err := configstore.DecodeTarget(r.Value)
		if err != nil {
			c.log.Warn("bad target state record ignored", "key", key, "err", err)
			return restartRequest{}, false
		}
		s.Targets[name] = t
	case strings.HasPrefix(key, keyTask):
		rest := key[len(keyTask):]
		i := strings.LastIndexByte(rest, '-')
		if i < 0 {
			return restartRequest{}, false
		}
		name := rest[:i]
		n, err := strconv.Atoi(rest[i+1:])
		if err != nil || n < 0 || r.Value == nil {
			return restartRequest{}, false
		}
		cfg, err := configstore.DecodeConfig(r.Value)
		if err != nil {
			c.log.Warn("bad task config record ignored", "key", key, "err", err)
			return restartRequest{}, false
		}
		if c.pending[name] == nil {
			c.pending[name] = map[int]map[string]string{}
		}
		c.pending[name][n] = cfg
	case strings.HasPrefix(key, keyCommit):
		name := key[len(keyCommit):]
		if r.Value == nil {
			return restartRequest{}, false
		}
		var v struct {
			Tasks *int `json:"tasks"`
		}
		if err := json.Unmarshal(r.Value, &v); err != nil || v.Tasks == nil || *v.Tasks < 0 {
			c.log.Warn("bad commit record ignored", "key", key, "value", string(r.Value))
			return restartRequest{}, false
		}
		tcs := make([]map[string]string, *v.Tasks)
		for i := range tcs {
			cfg, ok := c.pending[name][i]
			if !ok {
				c.log.Warn("commit record without all its task configs ignored", "connector", name, "tasks", *v.Tasks, "missing", i)
				return restartRequest{}, false
			}
			tcs[i] = cfg
		}
		delete(c.pending, name)
		s.Tasks[name] = tcs
	case strings.HasPrefix(key, keyRestart):
		if r.Value == nil {
			return restartRequest{}, false
		}
		rr := restartRequest{Connector: key[len(keyRestart):], Offset: r.Offset}
		if err := json.Unmarshal(r.Value, &rr); err != nil {
			c.log.Warn("bad restart record ignored", "key", key, "err", err)
			return restartRequest{}, false
		}
		return rr, true
	}
	return restartRequest{}, false
}

// snapshot returns a copy of the current state.
func (c *configLog) snapshot() snapshot {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := snapshot{Offset: c.snap.Offset, Connectors: make(map[string]map[string]string, len(c.snap.Connectors)),
		Targets: maps.Clone(c.snap.Targets), Tasks: make(map[string][]map[string]string, len(c.snap.Tasks))}
	for n, cfg := range c.snap.Connectors {
		s.Connectors[n] = maps.Clone(cfg)
	}
	for n, tcs := range c.snap.Tasks {
		out := make([]map[string]string, len(tcs))
		for i, tc := range tcs {
			out[i] = maps.Clone(tc)
		}
		s.Tasks[n] = out
	}
	return s
}

// offset returns the offset after the last applied record.
func (c *configLog) offset() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.snap.Offset
}

// changes returns a channel closed at the next applied batch.
func (c *configLog) changes() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.changed
}

// readTo waits until every record before offset is applied.
func (c *configLog) readTo(ctx context.Context, offset int64) error {
	for {
		c.mu.Lock()
		pos, ch, closed, rerr := c.snap.Offset, c.changed, c.closed, c.readErr
		c.mu.Unlock()
		if pos >= offset {
			return nil
		}
		if closed {
			return errors.New("config topic reader closed")
		}
		select {
		case <-ch:
		case <-ctx.Done():
			if rerr != nil {
				return fmt.Errorf("read config topic %s to offset %d (at %d): %w (last read error: %v)", c.topic, offset, pos, ctx.Err(), rerr)
			}
			return fmt.Errorf("read config topic %s to offset %d (at %d): %w", c.topic, offset, pos, ctx.Err())
		}
	}
}

// readToEnd waits until everything written to the topic so far is applied
// (Connect's readToEnd) and returns the offset reached.
func (c *configLog) readToEnd(ctx context.Context) error {
	ends, err := kafka.EndOffsets(ctx, c.prod, c.topic, endOffsetPatience)
	if err != nil {
		return fmt.Errorf("config topic: %w", err)
	}
	end, ok := ends[0]
	if !ok {
		return fmt.Errorf("config topic %s has no partition 0", c.topic)
	}
	return c.readTo(ctx, end)
}

// write produces records in order and waits until the reader applied them.
func (c *configLog) write(ctx context.Context, recs ...*kgo.Record) error {
	for _, r := range recs {
		r.Topic, r.Partition = c.topic, 0
	}
	res := c.prod.ProduceSync(ctx, recs...)
	if err := res.FirstErr(); err != nil {
		return fmt.Errorf("write config topic %s: %w", c.topic, err)
	}
	var last int64
	for _, r := range res {
		last = max(last, r.Record.Offset)
	}
	return c.readTo(ctx, last+1)
}

// putConnector writes a connector config, preceded by its target state
// when one is given (KIP-980 initial_state: the state is in place before the
// connector first starts).
func (c *configLog) putConnector(ctx context.Context, name string, cfg map[string]string, target string) error {
	var recs []*kgo.Record
	if target != "" {
		v, err := configstore.EncodeTarget(target)
		if err != nil {
			return err
		}
		recs = append(recs, &kgo.Record{Key: []byte(keyTarget + name), Value: v})
	}
	v, err := configstore.EncodeConfig(cfg)
	if err != nil {
		return err
	}
	recs = append(recs, &kgo.Record{Key: []byte(keyConnector + name), Value: v})
	return c.write(ctx, recs...)
}

// putTarget writes a connector's target state.
func (c *configLog) putTarget(ctx context.Context, name, target string) error {
	v, err := configstore.EncodeTarget(target)
	if err != nil {
		return err
	}
	return c.write(ctx, &kgo.Record{Key: []byte(keyTarget + name), Value: v})
}

// putTasks writes a connector's task configs and the commit record that
// makes them visible together.
func (c *configLog) putTasks(ctx context.Context, name string, tcs []map[string]string) error {
	recs := make([]*kgo.Record, 0, len(tcs)+1)
	for i, tc := range tcs {
		v, err := configstore.EncodeConfig(tc)
		if err != nil {
			return err
		}
		recs = append(recs, &kgo.Record{Key: []byte(keyTask + name + "-" + strconv.Itoa(i)), Value: v})
	}
	recs = append(recs, &kgo.Record{Key: []byte(keyCommit + name), Value: []byte(`{"tasks":` + strconv.Itoa(len(tcs)) + `}`)})
	return c.write(ctx, recs...)
}

// deleteConnector writes tombstones for the connector's config and target
// state (its task configs stay until compaction, as in Connect).
func (c *configLog) deleteConnector(ctx context.Context, name string) error {
	return c.write(ctx, &kgo.Record{Key: []byte(keyConnector + name)}, &kgo.Record{Key: []byte(keyTarget + name)})
}

// putRestart writes a restart request every worker acts on.
func (c *configLog) putRestart(ctx context.Context, rr restartRequest) error {
	v, err := json.Marshal(rr)
	if err != nil {
		return err
	}
	return c.write(ctx, &kgo.Record{Key: []byte(keyRestart + rr.Connector), Value: v})
}

func (c *configLog) close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
	c.cancel()
	c.cons.Close()
	<-c.done
	c.prod.Close()
}
