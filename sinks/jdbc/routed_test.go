package jdbcsink

import (
	"fmt"
	"testing"

	"github.com/tributary-cdc/tributary/integration/harness"
	"github.com/tributary-cdc/tributary/schema"
)

// shardRec is record offset off of shard topic orig after a router (a
// RegexRouter or ByLogicalTableRouter) renamed it to routed: the runtime
// sets Topic to the routed name and keeps where it was consumed in
// Original* (Connect's SinkRecord.originalTopic(), KAFKA-5567).
func shardRec(orig, routed string, off int64, id int32) schema.Record {
	r := modeRec(routed, off, id, fmt.Sprintf("%s-%d", orig, off), int32(off))
	r.OriginalTopic, r.OriginalPartition, r.OriginalOffset = orig, 0, off
	return r
}

// TestRoutedShardsAllLand: two shard topics with the same offsets 0..9
// routed onto one table. Positions are per consumed topic-partition, so
// the second shard's records are not redeliveries of the first's: all 20
// rows land, with and without exactly.once, and with exactly.once a
// restarted task that is handed both shards again applies none twice.
func TestRoutedShardsAllLand(t *testing.T) {
	forEachDB(t, func(t *testing.T, hdb *harness.Database) {
		db := hdb.Open(t)
		for _, eo := range []string{"false", "true"} {
			t.Run("exactly.once="+eo, func(t *testing.T) {
				routed := "routed_eo_" + eo
				cfg := sinkConfig(hdb, "topics.regex", "shard_.*", "topics", "", "auto.create", "true",
					"insert.mode", "insert", "pk.mode", "none", "exactly.once", eo)
				var a, b []schema.Record
				for off := int64(0); off < 10; off++ {
					a = append(a, shardRec("shard_a", routed, off, int32(off)))
					b = append(b, shardRec("shard_b", routed, off, int32(100+off)))
				}
				var want []string
				for off := 0; off < 10; off++ {
					want = append(want, fmt.Sprintf("%d|shard_a-%d|%d", off, off, off))
				}
				for off := 0; off < 10; off++ {
					want = append(want, fmt.Sprintf("%d|shard_b-%d|%d", 100+off, off, off))
				}
				q := fmt.Sprintf("SELECT id, name, qty FROM %s ORDER BY id", routed)

				task := startTask(t, cfg, nil)
				mustPut(t, task, a...)
				mustPut(t, task, b...)
				mustFlush(t, task)
				expectRows(t, db, q, want...)
				task.Stop()

				if eo == "true" {
					again := startTask(t, cfg, nil)
					mustPut(t, again, append(append([]schema.Record{}, b...), a...)...)
					mustFlush(t, again)
					expectRows(t, db, q, want...)
				}
			})
		}
	})
}
