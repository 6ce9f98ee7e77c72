package source

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestQueryModeDuplicateColumn: a query whose result has two columns of the
// same name (a join selecting a.id and b.id) cannot become a Connect struct;
// Poll reports an error naming the column and how to fix it, and does not
// panic, on every poll.
func TestQueryModeDuplicateColumn(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		f := newFixture(t, b)
		f.exec(t, "CREATE TABLE a (id INT PRIMARY KEY, name VARCHAR(20))")
		f.exec(t, "CREATE TABLE b (id INT PRIMARY KEY, a_id INT)")
		f.exec(t, "INSERT INTO a VALUES (1, 'x')")
		f.exec(t, "INSERT INTO b VALUES (7, 1)")
		task := startTask(t, f.config("mode", "bulk", "topic.prefix", "dup",
			"query", "SELECT a.id, a.name, b.id FROM a JOIN b ON b.a_id = a.id"), nil)
		want := `query mode: duplicate column name "id" in the result of query; alias one of them (SELECT ... AS ...)`
		for i := 0; i < 2; i++ {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			var err error
			for err == nil && ctx.Err() == nil {
				_, err = task.Poll(ctx)
			}
			cancel()
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("poll %d: error %v, want one containing %q", i, err, want)
			}
		}
	})
}
