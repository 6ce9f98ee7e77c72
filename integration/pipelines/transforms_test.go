package pipelines

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/tributary-cdc/tributary/integration/harness"
)

// TestTransformChainAndInsertHeader is issue 9's acceptance test on the
// real binary:
//
//   - the MariaDB CDC source carries the InsertHeader config from the issue,
//     and every record of its table topic has the header source:
//     mysql-connector (read back with Debian's kcat, an independent client);
//   - the JDBC sink into PostgreSQL runs ExtractNewRecordState →
//     ReplaceField (exclude + renames) → RegexRouter, and the flattened,
//     renamed rows land in the table the router names, following inserts,
//     updates and deletes.
func TestTransformChainAndInsertHeader(t *testing.T) {
	src, dst := harness.MariaDB(t), harness.Postgres(t)
	sconn, dconn := src.Open(t), dst.Open(t)
	execSQL(t, sconn,
		`CREATE TABLE clients (
			id INT PRIMARY KEY,
			name VARCHAR(100) NOT NULL,
			email VARCHAR(200),
			city VARCHAR(100),
			internal_note VARCHAR(100))`,
		`INSERT INTO clients VALUES
			(1, 'Ada Lovelace', 'ada@example.com', 'London', 'vip'),
			(2, 'Grace Hopper', NULL, 'Arlington', NULL),
			(3, 'Alan Turing', 'alan@example.com', 'Wilmslow', 'x'),
			(4, 'Edsger Dijkstra', 'ewd@example.com', 'Nuenen', 'y'),
			(5, 'Barbara Liskov', 'liskov@example.com', NULL, 'z')`)

	source := mariadbSource(src, "crm")
	source["table.include.list"] = src.Name + `\.clients`
	source["transforms"] = "InsertHeader"
	source["transforms.InsertHeader.type"] = "org.apache.kafka.connect.transforms.InsertHeader"
	source["transforms.InsertHeader.header.name"] = "source"
	source["transforms.InsertHeader.header.value"] = "mysql-connector"
	sink := map[string]string{
		"connector.class": "io.confluent.connect.jdbc.JdbcSinkConnector",
		"tasks.max":       "1",
		"connection.url":  dst.JDBCURL(),
		"topics.regex":    `crm\.[^.]+\.clients`,
		// Pattern subscriptions find topics created after the sink started
		// at the next metadata refresh, as in Kafka's consumer.
		"consumer.override.metadata.max.age.ms": "1000",
		"insert.mode":                           "upsert",
		"pk.mode":                               "record_key",
		"delete.enabled":                        "true",
		"auto.create":                           "true",
		"auto.evolve":                           "true",
		"transforms":                            "unwrap,rename,route",
		"transforms.unwrap.type":                "io.debezium.transforms.ExtractNewRecordState",
		"transforms.unwrap.drop.tombstones":     "false",
		"transforms.rename.type":                "org.apache.kafka.connect.transforms.ReplaceField$Value",
		"transforms.rename.exclude":             "internal_note",
		"transforms.rename.renames":             "name:full_name,email:email_address",
		"transforms.route.type":                 "org.apache.kafka.connect.transforms.RegexRouter",
		"transforms.route.regex":                `crm\.([^.]+)\.(.*)`,
		"transforms.route.replacement":          "crm_$2",
	}
	w := startWorker(t, workerOpts{}, connector{"crm-source", source}, connector{"crm-sink", sink})
	w.waitRunning("crm-source", "crm-sink")

	const srcQuery = `SELECT id, name, email, city FROM clients ORDER BY id`
	const dstQuery = `SELECT id, full_name, email_address, city FROM crm_clients ORDER BY id`
	same := func() error {
		want, err := rows(sconn, srcQuery)
		if err != nil {
			return err
		}
		got, err := rows(dconn, dstQuery)
		if err != nil {
			return err
		}
		if d := equalRows(got, want); d != "" {
			return fmt.Errorf("crm_clients differs from clients:\n%s", d)
		}
		return nil
	}
	w.eventually(90*time.Second, "snapshot in crm_clients", same)

	execSQL(t, sconn,
		`INSERT INTO clients VALUES (6, 'Ken Thompson', 'ken@example.com', 'New Orleans', 'a'), (7, 'Dennis Ritchie', NULL, 'Bronxville', NULL)`,
		`INSERT INTO clients VALUES (8, 'Niklaus Wirth', 'wirth@example.com', 'Winterthur', 'b')`,
		`UPDATE clients SET city = 'Cambridge', internal_note = 'moved' WHERE id = 3`,
		`UPDATE clients SET email = 'grace@example.com' WHERE id = 2`,
		`DELETE FROM clients WHERE id = 4`)
	w.eventually(60*time.Second, "streamed changes in crm_clients", same)

	cols, err := columns(dst, dconn, "crm_clients")
	if err != nil {
		t.Fatal(err)
	}
	if want := "id NOT NULL,full_name NOT NULL,email_address NULL,city NULL"; strings.Join(cols, ",") != want {
		t.Errorf("crm_clients columns %v, want %s", cols, want)
	}
	var others []string
	if err := dconn.Select(&others, `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'crm_clients'`); err != nil {
		t.Fatal(err)
	}
	if len(others) > 0 {
		t.Errorf("the sink created tables %v besides crm_clients", others)
	}

	// Every record of the table topic carries the header: 5 snapshot reads,
	// 3 inserts, 2 updates, 1 delete and its tombstone.
	topic := "crm." + src.Name + ".clients"
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		t.Fatal("kcat is not installed (apt-get install -y kcat)")
	}
	out, err := exec.Command(kcat, "-b", w.broker(), "-C", "-t", topic, "-e", "-q", "-f", `%h\n`).CombinedOutput()
	if err != nil {
		t.Fatalf("kcat: %v: %s", err, out)
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != 12 {
		t.Errorf("kcat read %d records from %s, want 12:\n%s", len(lines), topic, out)
	}
	// Debezium 3's context headers (extended.headers.enabled, on by
	// default) come first; InsertHeader appends its header last.
	for i, l := range lines {
		hs := strings.Split(l, ",")
		if hs[len(hs)-1] != "source=mysql-connector" {
			t.Errorf("record %d of %s has headers %q, want source=mysql-connector last", i, topic, l)
		}
		for _, want := range []string{"__debezium.context.connectorLogicalName=crm", "__debezium.context.connectorName=mysql", "__debezium.context.taskId=0"} {
			if !strings.Contains(l, want) {
				t.Errorf("record %d of %s has headers %q, want %s among them", i, topic, l, want)
			}
		}
	}
	w.stop()
}
