package distributed

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-cdc/tributary/offsets"
	"github.com/tributary-cdc/tributary/runtime"
)

func testCluster(t *testing.T) newClient {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return func(opts ...kgo.Opt) (*kgo.Client, error) {
		return kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...)}, opts...)...)
	}
}

// TestOffsetFencing: a worker that claimed a task fences the task's older
// owner, whose commits then fail and are never seen by readers.
func TestOffsetFencing(t *testing.T) {
	nc := testCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	log := slog.New(slog.DiscardHandler)
	open := func() *offsetStore {
		s, err := openOffsetStore(ctx, nc, "connect-offsets", "cluster", 5, 1, log)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	a, b := open(), open()
	key := runtime.TaskKey{Connector: "cdc", Task: 0}
	part := map[string]any{"server": "db1"}
	put := func(s *offsetStore, pos int64) error {
		return s.ForTask("cdc", 0).Put(ctx, "cdc", []offsets.Entry{{Partition: part, Offset: map[string]any{"pos": pos}}})
	}
	if err := put(a, 1); !errors.Is(err, ErrFenced) {
		t.Fatalf("commit without a claim: %v, want ErrFenced", err)
	}
	if err := a.claim(ctx, key); err != nil {
		t.Fatal(err)
	}
	if err := put(a, 10); err != nil {
		t.Fatal(err)
	}
	// The new owner claims the task: it reads the old owner's last commit.
	if err := b.claim(ctx, key); err != nil {
		t.Fatal(err)
	}
	if off, _ := b.Get(ctx, "cdc", part); off == nil || off["pos"] != int64(10) {
		t.Fatalf("new owner reads %v, want pos 10", off)
	}
	if err := put(a, 20); !errors.Is(err, ErrFenced) {
		t.Fatalf("old owner's commit after the claim: %v, want ErrFenced", err)
	}
	if err := put(a, 21); !errors.Is(err, ErrFenced) {
		t.Fatalf("old owner's second commit: %v, want ErrFenced", err)
	}
	if err := put(b, 30); err != nil {
		t.Fatal(err)
	}
	// A third reader sees the new owner's commit only.
	c := open()
	if off, _ := c.Get(ctx, "cdc", part); off == nil || off["pos"] != int64(30) {
		t.Fatalf("reader sees %v, want pos 30", off)
	}
	// Plain writes (offsets REST API) and deletes work too.
	if err := c.Put(ctx, "jdbc", []offsets.Entry{{Partition: map[string]any{"table": "t"}, Offset: map[string]any{"incrementing": int64(5)}}}); err != nil {
		t.Fatal(err)
	}
	if err := b.sync(ctx); err != nil {
		t.Fatal(err)
	}
	if es, _ := b.List(ctx, "jdbc"); len(es) != 1 {
		t.Fatalf("list %v", es)
	}
	if err := c.Delete(ctx, "jdbc"); err != nil {
		t.Fatal(err)
	}
	d := open()
	if es, _ := d.List(ctx, "jdbc"); len(es) != 0 {
		t.Fatalf("after delete %v", es)
	}
	// The topic holds Connect's key/value format.
	cl, _ := nc(kgo.ConsumeTopics("connect-offsets"), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	defer cl.Close()
	found := false
	for !found && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			if string(r.Key) == `["cdc",{"server":"db1"}]` && string(r.Value) == `{"pos":30}` {
				found = true
			}
		})
	}
}
