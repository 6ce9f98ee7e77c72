package signals

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-cdc/tributary/cdc"
	"github.com/tributary-cdc/tributary/cdc/mysql"
	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/integration/harness"
	"github.com/tributary-cdc/tributary/schema"
	"github.com/tributary-cdc/tributary/schema/jsonconv"
)

func TestMain(m *testing.M) { os.Exit(harness.Run(m, harness.NeedMariaDB|harness.NeedKafka)) }

type offsets struct{ off map[string]any }

func (o *offsets) Offset(context.Context, map[string]any) (map[string]any, error) { return o.off, nil }

func exec(t *testing.T, db *sqlx.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

var jsonConv = jsonconv.New(jsonconv.Config{SchemasEnable: false, IsKey: true})

func toJSON(t *testing.T, s *schema.Schema, v any) string {
	b, err := jsonConv.FromConnect("t", nil, s, v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// expected renders a table's rows as key JSON → value JSON, from a SELECT.
func expected(t *testing.T, db *sqlx.DB, q string, render func(vals []any) (string, string)) map[string]string {
	rows, err := db.Queryx(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		vals, err := rows.SliceScan()
		if err != nil {
			t.Fatal(err)
		}
		k, v := render(vals)
		out[k] = v
	}
	return out
}

func str(v any) string { b, _ := json.Marshal(fmt.Sprintf("%s", v)); return string(b) }

// TestKafkaSignalIncrementalSnapshot: an execute-snapshot signal on the
// Kafka channel (key = topic.prefix, as Debezium's KafkaSignalChannel
// requires; a signal with another key is skipped) snapshots two tables, one
// with a composite key, while a writer changes them.
func TestKafkaSignalIncrementalSnapshot(t *testing.T) {
	broker := harness.Kafka(t)
	db := harness.MariaDB(t)
	conn := db.Open(t)
	exec(t, conn, "CREATE TABLE dbz_signal (id VARCHAR(64) PRIMARY KEY, type VARCHAR(32) NOT NULL, data TEXT)")
	exec(t, conn, "CREATE TABLE a (id INT PRIMARY KEY, v VARCHAR(20) NOT NULL)")
	exec(t, conn, "CREATE TABLE b (k1 INT NOT NULL, k2 VARCHAR(8) NOT NULL, v INT NOT NULL, PRIMARY KEY (k1, k2))")
	exec(t, conn, "CREATE TABLE marker (id INT AUTO_INCREMENT PRIMARY KEY)")
	var sa, sb strings.Builder
	for i := 1; i <= 1500; i++ {
		if i > 1 {
			sa.WriteByte(',')
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sa, "(%d,'a%d')", i, i)
		fmt.Fprintf(&sb, "(%d,'x%d',%d)", i/10, i%10, i)
	}
	exec(t, conn, "INSERT INTO a VALUES "+sa.String())
	exec(t, conn, "INSERT INTO b VALUES "+sb.String())

	const prefix = "ksig"
	cfg := map[string]string{
		"connector.class": mysql.MariaDBClass, "database.hostname": db.Host, "database.port": strconv.Itoa(db.Port),
		"database.user": db.User, "database.password": db.Password, "topic.prefix": prefix,
		"database.include.list": db.Name, "poll.interval.ms": "50", "snapshot.mode": "no_data", "include.schema.changes": "false",
		"signal.enabled.channels":         "kafka",
		"signal.data.collection":          db.Name + ".dbz_signal",
		"signal.kafka.bootstrap.servers":  broker.Bootstrap,
		"signal.kafka.groupId":            "ksig-signals",
		"incremental.snapshot.chunk.size": "64",
	}
	off := &offsets{}
	var task connector.SourceTask = mysql.Plugin{}.NewTask()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := task.Start(ctx, cfg, connector.TaskContext{Connector: "ksig", Logger: log, Offsets: off, Metrics: connector.NopMetrics{}}); err != nil {
		t.Fatal(err)
	}
	defer func() { task.Stop() }()

	var recs []schema.Record
	poll := func() {
		rs, err := task.Poll(context.Background())
		if err != nil {
			t.Fatalf("poll: %v", err)
		}
		if len(rs) > 0 {
			off.off = rs[len(rs)-1].SourceOffset
			_ = task.Commit(context.Background(), nil)
		}
		recs = append(recs, rs...)
	}
	count := func(topic string) int {
		n := 0
		for _, r := range recs {
			if r.Topic == topic {
				n++
			}
		}
		return n
	}
	markerTopic := prefix + "." + db.Name + ".marker"
	for deadline := time.Now().Add(30 * time.Second); count(markerTopic) == 0; poll() {
		if time.Now().After(deadline) {
			t.Fatal("the task does not stream")
		}
		exec(t, conn, "INSERT INTO marker VALUES ()")
	}

	cl, err := kgo.NewClient(kgo.SeedBrokers(broker.Bootstrap), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	data := fmt.Sprintf(`{"type": "incremental", "data-collections": ["%s.a", "%s.b"]}`, db.Name, db.Name)
	for _, r := range []*kgo.Record{
		{Topic: prefix + "-signal", Key: []byte("another-connector"), Value: []byte(`{"id": "x", "type": "execute-snapshot", "data": {"data-collections": ["` + db.Name + `.b"]}}`)},
		{Topic: prefix + "-signal", Key: []byte(prefix), Value: []byte(`{"id": "k-1", "type": "execute-snapshot", "data": ` + data + `}`)},
	} {
		if err := cl.ProduceSync(context.Background(), r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}

	// a writer changes both tables while the snapshot runs
	stop := make(chan struct{})
	werr := make(chan error, 1)
	go func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				werr <- nil
				return
			default:
			}
			qs := []string{
				fmt.Sprintf("UPDATE a SET v = 'u%d' WHERE id = %d", i, 1+(i*37)%1500),
				fmt.Sprintf("DELETE FROM a WHERE id = %d", 1+(i*101)%1500),
				fmt.Sprintf("INSERT INTO a VALUES (%d, 'n%d')", 2000+i, i),
				fmt.Sprintf("UPDATE b SET v = %d WHERE k1 = %d", -i, (i*13)%150),
				fmt.Sprintf("DELETE FROM b WHERE k1 = %d AND k2 = 'x%d'", (i*7)%150, i%10),
			}
			if _, err := conn.Exec(qs[i%len(qs)]); err != nil {
				werr <- err
				return
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()
	sawState, done := false, false
	for deadline := time.Now().Add(120 * time.Second); !done; {
		if time.Now().After(deadline) {
			t.Fatalf("the incremental snapshot did not complete (%d records)", len(recs))
		}
		poll()
		_, running := off.off[cdc.OffIncrementalCollections]
		sawState = sawState || running
		done = sawState && !running
	}
	close(stop)
	if err := <-werr; err != nil {
		t.Fatal(err)
	}
	n := count(markerTopic)
	exec(t, conn, "INSERT INTO marker VALUES ()")
	for deadline := time.Now().Add(30 * time.Second); count(markerTopic) == n; poll() {
		if time.Now().After(deadline) {
			t.Fatal("marker not seen")
		}
	}

	for _, c := range []struct {
		table, query string
		render       func([]any) (string, string)
		want         int // rows read by the snapshot, at least
	}{
		{"a", "SELECT id, v FROM a", func(v []any) (string, string) {
			return fmt.Sprintf(`{"id":%d}`, v[0]), fmt.Sprintf(`{"id":%d,"v":%s}`, v[0], str(v[1]))
		}, 1000},
		{"b", "SELECT k1, k2, v FROM b", func(v []any) (string, string) {
			return fmt.Sprintf(`{"k1":%d,"k2":%s}`, v[0], str(v[1])), fmt.Sprintf(`{"k1":%d,"k2":%s,"v":%d}`, v[0], str(v[1]), v[2])
		}, 1000},
	} {
		topic := prefix + "." + db.Name + "." + c.table
		got := map[string]string{}
		reads := 0
		for _, r := range recs {
			if r.Topic != topic {
				continue
			}
			k := toJSON(t, r.KeySchema, r.Key)
			if r.Value == nil {
				delete(got, k)
				continue
			}
			env := r.Value.(*schema.Struct)
			if env.Get("op") == "r" {
				reads++
				if s := env.Get("source").(*schema.Struct).Get("snapshot"); s != "incremental" {
					t.Fatalf("%s: op r with source.snapshot %v", c.table, s)
				}
			}
			after, _ := env.Get("after").(*schema.Struct)
			if after == nil {
				delete(got, k)
				continue
			}
			got[k] = toJSON(t, after.Schema, after)
		}
		want := expected(t, conn, c.query, c.render)
		if reads < c.want {
			t.Errorf("%s: %d incremental snapshot reads", c.table, reads)
		}
		bad := 0
		for k, w := range want {
			if got[k] != w {
				bad++
				if bad <= 5 {
					t.Errorf("%s %s: topic %q, table %q", c.table, k, got[k], w)
				}
			}
		}
		if len(got) != len(want) || bad > 0 {
			t.Fatalf("%s: %d rows in the topic, %d in the table, %d differ", c.table, len(got), len(want), bad)
		}
		t.Logf("%s: %d rows, %d incremental snapshot reads", c.table, len(want), reads)
	}

	// The channel committed what it read under signal.kafka.groupId: a new
	// task does not run the snapshot again.
	task.Stop()
	task = mysql.Plugin{}.NewTask()
	if err := task.Start(context.Background(), cfg, connector.TaskContext{Connector: "ksig", Logger: log, Offsets: off, Metrics: connector.NopMetrics{}}); err != nil {
		t.Fatal(err)
	}
	recs = nil
	for end := time.Now().Add(4 * time.Second); time.Now().Before(end); poll() {
		exec(t, conn, "INSERT INTO marker VALUES ()")
	}
	if count(markerTopic) == 0 {
		t.Fatal("the restarted task does not stream")
	}
	for _, r := range recs {
		if r.Value != nil && r.Value.(*schema.Struct).Get("op") == "r" {
			t.Fatalf("the restarted task snapshotted again: %s %v", r.Topic, r.Key)
		}
	}
}
