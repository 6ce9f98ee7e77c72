package distributed

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-cdc/tributary/integration/harness"
	"github.com/tributary-cdc/tributary/internal/dbserver"
	"github.com/tributary-cdc/tributary/offsets"
	"github.com/tributary-cdc/tributary/runtime"
)

// realKafka returns a client maker on real Apache Kafka: the cluster of
// TRIBUTARY_TEST_BOOTSTRAP_SERVERS, or a private one-broker cluster. It
// skips when TRIBUTARY_TEST_KAFKA leaves real Kafka out, and in -short.
func realKafka(t *testing.T) (newClient, string) {
	t.Helper()
	if testing.Short() {
		t.Skip("real Kafka: not in -short")
	}
	if k := os.Getenv(harness.EnvKafka); k != "" && !strings.Contains(k, "kafka") {
		t.Skipf("real Kafka left out by %s=%q", harness.EnvKafka, k)
	}
	bootstrap := strings.TrimSpace(os.Getenv(harness.EnvBootstrap))
	if bootstrap == "" {
		bootstrap = harness.StartKafka(t, dbserver.KafkaOptions{Brokers: 1}).Bootstrap
	}
	return func(opts ...kgo.Opt) (*kgo.Client, error) {
		return kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(strings.Split(bootstrap, ",")...)}, opts...)...)
	}, bootstrap
}

// TestZombieCannotAddRecord is KIP-618's fence on real Kafka, at the level
// of the stores two workers hold: the old owner of a task has records of an
// open transaction in the log when the new owner initializes the task's
// producer; none of them, and nothing the old owner produces afterwards,
// becomes visible to a read_committed reader, its commit fails with
// ErrFenced, and the new owner starts from the old owner's last committed
// offset.
func TestZombieCannotAddRecord(t *testing.T) {
	nc, _ := realKafka(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	log := slog.New(slog.DiscardHandler)
	open := func() *offsetStore {
		s, err := openOffsetStore(ctx, nc, "eos-offsets", "eos", 3, 1, log)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	a, b := open(), open()
	key := runtime.TaskKey{Connector: "src", Task: 0}
	part := map[string]any{"filename": "in.txt"}
	const topic = "eos-data"
	prodOpts := func() []kgo.Opt {
		cl, _ := nc()
		defer cl.Close()
		return []kgo.Opt{kgo.SeedBrokers(cl.OptValue(kgo.SeedBrokers).([]string)...), kgo.AllowAutoTopicCreation(),
			kgo.DefaultProduceTopic(topic), kgo.TransactionTimeout(30 * time.Second)}
	}
	owner := func(s *offsetStore) runtime.TaskProducer {
		t.Helper()
		if err := s.claim(ctx, key); err != nil {
			t.Fatal(err)
		}
		tp, err := s.Transactional(ctx, "src", 0, prodOpts())
		if err != nil {
			t.Fatal(err)
		}
		return tp
	}
	// send produces values in a transaction and waits for their acks;
	// commit adds the offset and commits.
	send := func(tp runtime.TaskProducer, vals ...string) error {
		cl := tp.Client()
		if err := cl.BeginTransaction(); err != nil {
			return err
		}
		for _, v := range vals {
			if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte(v)}).FirstErr(); err != nil {
				return err
			}
		}
		return nil
	}
	commit := func(tp runtime.TaskProducer, pos int64) error {
		entries := []offsets.Entry{{Partition: part, Offset: map[string]any{"position": pos}}}
		recs, err := tp.OffsetRecords("src", entries)
		if err != nil {
			return err
		}
		cl := tp.Client()
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			return tp.Fenced(err)
		}
		if err := cl.EndTransaction(ctx, kgo.TryCommit); err != nil {
			return tp.Fenced(err)
		}
		tp.Committed("src", entries)
		return nil
	}

	tpA := owner(a)
	if err := send(tpA, "a1", "a2"); err != nil {
		t.Fatal(err)
	}
	if err := commit(tpA, 2); err != nil {
		t.Fatal(err)
	}
	// The old owner's next transaction is in the log, not committed, when
	// the new owner takes the task over.
	if err := send(tpA, "a3-open"); err != nil {
		t.Fatal(err)
	}
	tpB := owner(b)
	if off, _ := b.Get(ctx, "src", part); off == nil || off["position"] != int64(2) {
		t.Fatalf("new owner starts from %v, want position 2 (the old owner's last commit)", off)
	}
	if err := send(tpB, "b3"); err != nil {
		t.Fatal(err)
	}
	// The zombie goes on: its produce and its commit are refused.
	zerr := tpA.Client().ProduceSync(ctx, &kgo.Record{Value: []byte("a4-zombie")}).FirstErr()
	if zerr == nil {
		zerr = commit(tpA, 4)
	} else {
		zerr = tpA.Fenced(zerr)
	}
	if !errors.Is(zerr, ErrFenced) {
		t.Fatalf("zombie's produce/commit after the takeover: %v, want ErrFenced", zerr)
	}
	if err := commit(tpB, 3); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Transactional(ctx, "src", 0, prodOpts()); !errors.Is(err, ErrFenced) {
		t.Fatalf("fenced worker reopens the task's producer: %v, want ErrFenced", err)
	}

	cl, err := nc(kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var got []string
	rctx, rcancel := context.WithTimeout(ctx, 10*time.Second)
	defer rcancel()
	for len(got) < 3 && rctx.Err() == nil {
		cl.PollFetches(rctx).EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	// Anything more (a3-open, a4-zombie) would arrive within a moment.
	tctx, tcancel := context.WithTimeout(ctx, 2*time.Second)
	defer tcancel()
	for tctx.Err() == nil {
		cl.PollFetches(tctx).EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	if strings.Join(got, ",") != "a1,a2,b3" {
		t.Fatalf("read_committed reader sees %q, want [a1 a2 b3]", got)
	}
	if off, _ := open().Get(ctx, "src", part); off == nil || off["position"] != int64(3) {
		t.Fatalf("committed offset %v, want position 3 (the new owner's)", off)
	}
}
