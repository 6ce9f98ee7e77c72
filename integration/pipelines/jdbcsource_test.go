package pipelines

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-cdc/tributary/integration/harness"
)

// loginValue is a JsonConverter record of the login table.
type loginValue struct {
	Schema struct {
		Type   string `json:"type"`
		Name   string `json:"name"`
		Fields []struct {
			Field    string `json:"field"`
			Type     string `json:"type"`
			Optional bool   `json:"optional"`
			Name     string `json:"name"`
		} `json:"fields"`
	} `json:"schema"`
	Payload struct {
		ID        int32   `json:"id"`
		Username  string  `json:"username"`
		LoginTime *int64  `json:"login_time"`
		Extra     *string `json:"extra"`
	} `json:"payload"`
}

// TestJdbcSourceIssueConfigOverREST posts issue 6's JdbcSourceConnector
// config unchanged (POST /connectors) to a running replicate and checks
// that it writes topic mysql.login: Confluent's timestamp mode (rows with a
// NULL timestamp are never read, new and updated rows are), null keys, and
// a value schema named after the table.
func TestJdbcSourceIssueConfigOverREST(t *testing.T) {
	db := harness.MariaDB(t)
	conn := db.Open(t)
	execSQL(t, conn,
		`CREATE TABLE login (
			id INT AUTO_INCREMENT PRIMARY KEY,
			username VARCHAR(64) NOT NULL,
			login_time DATETIME(3) NULL)`,
		`INSERT INTO login (username, login_time) VALUES
			('ada', '2024-05-01 10:00:00.123'),
			('grace', '2024-05-01 10:00:01.000'),
			('linus', NULL),
			('ken', '2024-05-01 09:59:59.999')`)

	w := startWorker(t, workerOpts{})
	cfg := map[string]string{
		"connector.class":       "JdbcSourceConnector",
		"connection.url":        fmt.Sprintf("jdbc:mysql://127.0.0.1:%d/%s?user=root", db.Port, db.Name),
		"mode":                  "timestamp",
		"table.whitelist":       "login",
		"timestamp.column.name": "login_time",
		"validate.non.null":     "false",
		"topic.prefix":          "mysql.",
	}
	w.create(connector{"jdbc-login", cfg})
	w.waitRunning("jdbc-login")

	// The stored config is the posted one plus its name.
	code, b, err := w.call(http.MethodGet, "/connectors/jdbc-login/config", nil)
	if err != nil || code != http.StatusOK {
		t.Fatalf("GET config: HTTP %d, %v: %s", code, err, b)
	}
	var stored map[string]string
	if err := json.Unmarshal(b, &stored); err != nil {
		t.Fatal(err)
	}
	want := maps.Clone(cfg)
	want["name"] = "jdbc-login"
	if !maps.Equal(stored, want) {
		t.Errorf("GET /connectors/jdbc-login/config = %v, want %v", stored, want)
	}

	ms := func(s string) int64 {
		tm, err := time.Parse("2006-01-02 15:04:05.000", s)
		if err != nil {
			t.Fatal(err)
		}
		return tm.UnixMilli()
	}
	type row struct {
		id       int32
		username string
		at       int64
	}
	// Timestamp mode reads in timestamp order; linus (NULL) never.
	expect := []row{{4, "ken", ms("2024-05-01 09:59:59.999")}, {1, "ada", ms("2024-05-01 10:00:00.123")}, {2, "grace", ms("2024-05-01 10:00:01.000")}}
	check := func(stage string) {
		t.Helper()
		w.eventually(60*time.Second, stage+": mysql.login has the rows", func() error {
			n, err := w.endOffset("mysql.login")
			if err != nil {
				return err
			}
			if n < int64(len(expect)) {
				return fmt.Errorf("mysql.login has %d records, want %d", n, len(expect))
			}
			return nil
		})
		time.Sleep(1500 * time.Millisecond) // several polls: anything re-sent would show now
		recs := w.readTopic("mysql.login")
		if len(recs) != len(expect) {
			t.Fatalf("%s: mysql.login has %d records, want %d", stage, len(recs), len(expect))
		}
		for i, r := range recs {
			if r.Key != nil {
				t.Errorf("%s: record %d has key %q, want null (as Confluent's JDBC source)", stage, i, r.Key)
			}
			var v loginValue
			if err := json.Unmarshal(r.Value, &v); err != nil {
				t.Fatalf("%s: record %d: %v: %s", stage, i, err, r.Value)
			}
			var fields []string
			for _, f := range v.Schema.Fields {
				fields = append(fields, fmt.Sprintf("%s:%s:%s:%v", f.Field, f.Type, f.Name, f.Optional))
			}
			wantFields := "id:int32::false,username:string::false,login_time:int64:org.apache.kafka.connect.data.Timestamp:true"
			if v.Schema.Type != "struct" || v.Schema.Name != "login" || strings.Join(fields, ",") != wantFields {
				t.Errorf("%s: record %d schema %s %q %v, want struct \"login\" %s", stage, i, v.Schema.Type, v.Schema.Name, fields, wantFields)
			}
			e := expect[i]
			if v.Payload.ID != e.id || v.Payload.Username != e.username || v.Payload.LoginTime == nil || *v.Payload.LoginTime != e.at {
				t.Errorf("%s: record %d = %s, want id %d %s at %d", stage, i, r.Value, e.id, e.username, e.at)
			}
		}
	}
	check("initial poll")

	// A new login and an updated login_time are read; a row whose
	// timestamp did not move is not.
	execSQL(t, conn,
		`INSERT INTO login (username, login_time) VALUES ('barbara', '2024-05-02 08:00:00.000')`,
		`UPDATE login SET login_time = '2024-05-03 12:00:00.500' WHERE username = 'ada'`,
		`UPDATE login SET username = 'grace h.' WHERE username = 'grace'`)
	expect = append(expect, row{5, "barbara", ms("2024-05-02 08:00:00.000")}, row{1, "ada", ms("2024-05-03 12:00:00.500")})
	check("after insert and update")

	topics, err := w.topics()
	if err != nil {
		t.Fatal(err)
	}
	for _, tp := range topics {
		if strings.HasPrefix(tp, "mysql.") && tp != "mysql.login" {
			t.Errorf("unexpected topic %s (topics: %v)", tp, topics)
		}
	}
	w.stop()
}

// endOffset is the sum of a topic's partition end offsets.
func (w *worker) endOffset(topic string) (int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(w.broker()))
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		return 0, err
	}
	var n int64
	var perr error
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err != nil {
			perr = o.Err
		}
		n += o.Offset
	})
	return n, perr
}
