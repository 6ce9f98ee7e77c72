package s3

import (
	"context"
	"testing"

	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/schema"
)

// TestRoutedShardsKeepTheirOffsets: two shard topics with the same offsets
// 0..3 renamed to one topic by a router (Topic is the routed name,
// Original* where each was consumed, as the runtime sets them). Files and
// offsets follow the consumed partitions: both shards' 4 records are
// uploaded (none taken for a retry of the other's) and PreCommit returns
// offset 4 for each consumed partition, the positions the runtime commits.
func TestRoutedShardsKeepTheirOffsets(t *testing.T) {
	f := newFakeS3(t)
	ctx := context.Background()
	task := startTask(t, f.config(KeyFlushSize, "4", "topics", "shard_a,shard_b"), connector.TaskContext{})
	var batch []schema.Record
	for _, shard := range []string{"shard_a", "shard_b"} {
		for off := range int64(4) {
			r := event("routed", 0, off)
			r.OriginalTopic, r.OriginalPartition, r.OriginalOffset = shard, 0, off
			batch = append(batch, r)
		}
	}
	if err := task.Put(ctx, batch); err != nil {
		t.Fatal(err)
	}
	cur := map[connector.TopicPartition]int64{tp("shard_a", 0): 4, tp("shard_b", 0): 4}
	got := commitAll(t, task, cur)
	if got[tp("shard_a", 0)] != 4 || got[tp("shard_b", 0)] != 4 {
		t.Fatalf("pre-commit %v, want offset 4 for both consumed partitions", got)
	}
	n := 0
	for _, key := range f.list(t, "topics/") {
		n += len(lines(t, f.get(t, key)))
	}
	if n != 8 {
		t.Fatalf("%d records uploaded, want 8 (4 per shard): %v", n, f.list(t, "topics/"))
	}
}
