package jdbcsink

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/integration/harness"
	"github.com/tributary-cdc/tributary/schema"
)

var closeKV = schema.NewStructSchema("kv", schema.Field{Name: "id", Schema: schema.Int32Schema}, schema.Field{Name: "v", Schema: schema.OptionalString})

// kvRec is an upsert of id=v on partition p at offset off of topic orders.
func kvRec(p int32, off int64, id int32, v string) schema.Record {
	return record("orders", p, off, nil, nil, closeKV, structOf(closeKV, id, v))
}

// closePartitions calls ClosePartitions as the runtime does: through
// connector.SinkPartitionCloser.
func closePartitions(t *testing.T, task connector.SinkTask, parts ...connector.TopicPartition) {
	t.Helper()
	c, ok := task.(connector.SinkPartitionCloser)
	if !ok {
		t.Errorf("%T does not implement connector.SinkPartitionCloser: the runtime cannot tell it about revoked or lost partitions", task)
		return
	}
	if err := c.ClosePartitions(context.Background(), parts); err != nil {
		t.Fatalf("close partitions: %v", err)
	}
}

// TestClosePartitionsDropsBuffered: rows a task still buffers for a
// partition when it loses it (here a write that timed out on a row lock)
// are not written later over the new owner's newer upsert; the partitions
// it keeps are still written, and a closed partition that comes back is
// accepted again from its committed offset.
func TestClosePartitionsDropsBuffered(t *testing.T) {
	forEachDB(t, func(t *testing.T, hdb *harness.Database) {
		db := hdb.Open(t)
		cfg := sinkConfig(hdb, "table.name.format", "kv_close", "auto.create", "true", "insert.mode", "upsert",
			"pk.mode", "record_value", "pk.fields", "id", "max.retries", "0")
		a := startTask(t, cfg, nil)
		mustPut(t, a, kvRec(1, 0, 2, "b0")) // creates the table and row 2

		// Another session holds row 2, so A's next batch (rows 1 and 2 in one
		// transaction) cannot commit and stays buffered.
		lock, err := db.BeginTxx(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer lock.Rollback()
		if _, err := lock.Exec("UPDATE kv_close SET v = 'locked' WHERE id = 2"); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
		err = a.Put(ctx, []schema.Record{kvRec(0, 0, 1, "a-old"), kvRec(1, 1, 2, "b1")})
		cancel()
		if err == nil {
			t.Fatal("put succeeded although row 2 is locked")
		}

		// Partition 0 is lost; task B owns it now and writes a newer value.
		closePartitions(t, a, connector.TopicPartition{Topic: "orders", Partition: 0})
		if err := lock.Rollback(); err != nil {
			t.Fatal(err)
		}
		b := startTask(t, cfg, nil)
		mustPut(t, b, kvRec(0, 0, 1, "a-old"), kvRec(0, 1, 1, "a-new"))

		// A's next flush writes what it still owns (partition 1) only.
		mustFlush(t, a)
		expectRows(t, db, "SELECT id, v FROM kv_close ORDER BY id", "1|a-new", "2|b1")

		// Partition 0 comes back to A, from its committed offset 0.
		mustPut(t, a, kvRec(0, 0, 1, "a-old"), kvRec(0, 1, 1, "a-new"), kvRec(0, 2, 1, "a-newest"))
		expectRows(t, db, "SELECT id, v FROM kv_close ORDER BY id", "1|a-newest", "2|b1")
	})
}

var seqSchema = schema.NewStructSchema("seq", schema.Field{Name: "seq", Schema: schema.Int64Schema})

// seqRecs are records from..to-1 of partition 0, each row carrying its offset.
func seqRecs(from, to int64) []schema.Record {
	var out []schema.Record
	for off := from; off < to; off++ {
		out = append(out, record("orders", 0, off, nil, nil, seqSchema, structOf(seqSchema, off)))
	}
	return out
}

// TestExactlyOnceTwoOwners feeds one partition to two tasks of one
// connector (as after a rebalance that left a zombie owner) with
// exactly.once=true in insert mode without a key, so a record applied twice
// is a duplicate row. Every record must be applied once and the stored
// offset must never move backwards.
func TestExactlyOnceTwoOwners(t *testing.T) {
	forEachDB(t, func(t *testing.T, hdb *harness.Database) {
		db := hdb.Open(t)
		storedOffset := func(t *testing.T, table string) int64 {
			var off int64
			if err := db.Get(&off, "SELECT kafka_offset FROM tributary_sink_offsets WHERE table_name = '"+table+"' AND kafka_partition = 0"); err != nil {
				t.Fatal(err)
			}
			return off
		}
		cfgFor := func(table string) map[string]string {
			return sinkConfig(hdb, "table.name.format", table, "auto.create", "false", "insert.mode", "insert",
				"pk.mode", "none", "exactly.once", "true", "max.retries", "50", "retry.backoff.ms", "20")
		}
		createSeq := func(t *testing.T, table string) {
			if _, err := db.Exec("CREATE TABLE " + table + " (seq BIGINT NOT NULL)"); err != nil {
				t.Fatal(err)
			}
		}
		expectOnce := func(t *testing.T, table string, n int64) {
			t.Helper()
			expectRows(t, db, fmt.Sprintf("SELECT COUNT(*), COUNT(DISTINCT seq), MIN(seq), MAX(seq) FROM %s", table),
				fmt.Sprintf("%d|%d|0|%d", n, n, n-1))
		}

		t.Run("interleaved", func(t *testing.T) {
			// B buffers records before A applies a larger batch; B's next
			// batch overlaps what A applied and ends below A's offset.
			createSeq(t, "eo_inter")
			a, b := startTask(t, cfgFor("eo_inter"), nil), startTask(t, cfgFor("eo_inter"), nil)
			mustPut(t, b, seqRecs(0, 10)...)
			mustPut(t, a, seqRecs(0, 100)...)
			mustPut(t, b, seqRecs(10, 50)...)
			if got := storedOffset(t, "eo_inter"); got != 99 {
				t.Errorf("stored offset %d after B's older batch, want 99 (never backwards)", got)
			}
			mustPut(t, b, seqRecs(50, 120)...)
			mustPut(t, a, seqRecs(100, 120)...)
			expectOnce(t, "eo_inter", 120)
			if got := storedOffset(t, "eo_inter"); got != 119 {
				t.Errorf("stored offset %d, want 119", got)
			}
		})

		t.Run("concurrent", func(t *testing.T) {
			// Both tasks race through the same 3000 records in random
			// batches while a watcher checks the stored offset only grows.
			const n = 3000
			createSeq(t, "eo_conc")
			tasks := []*Task{startTask(t, cfgFor("eo_conc"), nil), startTask(t, cfgFor("eo_conc"), nil)}
			done := make(chan struct{})
			var watch sync.WaitGroup
			var backwards []string
			watch.Add(1)
			go func() {
				defer watch.Done()
				last := int64(-1)
				for {
					select {
					case <-done:
						return
					case <-time.After(2 * time.Millisecond):
					}
					var off int64
					if err := db.Get(&off, "SELECT kafka_offset FROM tributary_sink_offsets WHERE table_name = 'eo_conc' AND kafka_partition = 0"); err != nil {
						continue // no row yet
					}
					if off < last {
						backwards = append(backwards, fmt.Sprintf("%d after %d", off, last))
					}
					last = max(last, off)
				}
			}()
			var wg sync.WaitGroup
			errs := make([]error, len(tasks))
			for i, task := range tasks {
				wg.Add(1)
				go func() {
					defer wg.Done()
					rng := rand.New(rand.NewPCG(uint64(i), 17))
					for pos := int64(0); pos < n; {
						end := min(pos+1+rng.Int64N(150), n)
						if err := task.Put(context.Background(), seqRecs(pos, end)); err != nil {
							errs[i] = fmt.Errorf("task %d put %d..%d: %w", i, pos, end-1, err)
							return
						}
						pos = end
					}
				}()
			}
			wg.Wait()
			close(done)
			watch.Wait()
			for _, err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			expectOnce(t, "eo_conc", n)
			if got := storedOffset(t, "eo_conc"); got != n-1 {
				t.Errorf("stored offset %d, want %d", got, n-1)
			}
			if len(backwards) > 0 {
				t.Errorf("stored offset moved backwards: %v", backwards)
			}
		})
	})
}
