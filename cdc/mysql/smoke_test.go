package mysql

import (
	"testing"
	"time"

	"github.com/tributary-cdc/tributary/integration/harness"
)

func TestSmokeSnapshotThenStream(t *testing.T) {
	db := harness.MariaDB(t)
	conn := db.Open(t)
	mustExec(t, conn, "CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(20), qty INT NOT NULL DEFAULT 1)")
	mustExec(t, conn, "INSERT INTO items VALUES (1,'a',1),(2,'b',2),(3,'c',3)")
	off := &memOffsets{}
	task := startTask(t, testConfig(db, "smoke", "provide.transaction.metadata", "true"), off)
	c := &collector{t: t, task: task, off: off}
	topic := "smoke." + db.Name + ".items"
	c.pollUntil(20*time.Second, "snapshot", func() bool { return c.count(topic) >= 3 })
	mustExec(t, conn, "INSERT INTO items VALUES (4,'d',4)")
	mustExec(t, conn, "UPDATE items SET qty = 20 WHERE id = 2")
	mustExec(t, conn, "UPDATE items SET id = 10 WHERE id = 1")
	mustExec(t, conn, "DELETE FROM items WHERE id = 3")
	c.pollUntil(20*time.Second, "stream", func() bool { return c.count(topic) >= 3+1+1+3+2 })
	for _, r := range c.recs {
		if r.Value == nil {
			t.Logf("%s %s tombstone %v", r.Topic, keyString(t, r), r.SourceOffset)
			continue
		}
		t.Logf("%s %s %s\n   %v", r.Topic, keyString(t, r), envelopeJSON(t, r), r.SourceOffset)
	}
	got := replay(t, c.recs, topic)
	t.Logf("%v", got)
}
