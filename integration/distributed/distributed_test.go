package distributed

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-cdc/tributary/integration/harness"
	"github.com/tributary-cdc/tributary/runtime/verify"
)

var replicateBin, brokerBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "replicate-distributed-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	replicateBin, brokerBin = filepath.Join(dir, "replicate"), filepath.Join(dir, "brokerd")
	for bin, pkg := range map[string]string{replicateBin: "./cmd/replicate", brokerBin: "./integration/distributed/brokerd"} {
		cmd := exec.Command("go", "build", "-o", bin, pkg)
		cmd.Dir = root
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "build", pkg+":", err)
			os.RemoveAll(dir)
			os.Exit(1)
		}
	}
	// The FileStream tests need no database: start the servers only when a
	// test that needs them may run.
	flag.Parse()
	need := harness.NeedMariaDB | harness.NeedPostgres
	if r := flag.Lookup("test.run").Value.String(); r != "" {
		if ok, err := regexp.MatchString(r, "TestDistributedCluster"); err == nil && !ok {
			need = 0
		}
	}
	// Real Apache Kafka: three brokers (replication factor 3).
	need |= harness.NeedKafka3
	code := harness.Run(m, need)
	os.RemoveAll(dir)
	os.Exit(code)
}

// timing is the group timing of a cluster under test.
type timing struct {
	session, heartbeat, rebalance, delay time.Duration
	// extra is appended to every worker's properties.
	extra string
}

// shortTiming keeps TestDistributedCluster short: sessions below kfake's
// default minimum (6 s; the broker's minimum is lowered to 2 s).
var shortTiming = timing{session: 4 * time.Second, heartbeat: time.Second, rebalance: 10 * time.Second, delay: 8 * time.Second,
	extra: "task.shutdown.graceful.timeout.ms=5000\noffset.flush.timeout.ms=2000\n"}

// connectDefaults are Kafka Connect's default group timeouts
// (session.timeout.ms 10000, heartbeat.interval.ms 3000,
// rebalance.timeout.ms 60000) with the issue's
// scheduled.rebalance.max.delay.ms=3000; task stop budgets below it.
var connectDefaults = timing{session: 10 * time.Second, heartbeat: 3 * time.Second, rebalance: 60 * time.Second, delay: 3 * time.Second,
	extra: "task.shutdown.graceful.timeout.ms=1000\noffset.flush.timeout.ms=1000\n"}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// proc is a process started by the test; it is killed at cleanup.
type proc struct {
	cmd    *exec.Cmd
	log    string
	exited chan struct{}
	err    error
}

func startProc(t *testing.T, logPath string, bin string, args ...string) *proc {
	t.Helper()
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, log: logPath, exited: make(chan struct{})}
	go func() { p.err = cmd.Wait(); f.Close(); close(p.exited) }()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			cmd.Process.Kill()
			<-p.exited
		}
	})
	return p
}

// cluster is a broker process and three worker processes.
type cluster struct {
	t  *testing.T
	tm timing
	rf int16 // replication factor of every topic
	// statusTopic is the workers' status.storage.topic; group their group.id.
	statusTopic, group string
	dir                string
	broker             string
	admin              *kadm.Client
	cl                 *kgo.Client
	workers            []*worker

	// statusLog is every status record, as a consumer tailing the status
	// topic saw it (the topic is compacted, so its history must be read
	// live).
	statusMu  sync.Mutex
	statusLog map[string][]statusEvent
}

// tailStatuses records every status record from now on.
func (c *cluster) tailStatuses() {
	c.statusLog = map[string][]statusEvent{}
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.seeds()...), kgo.ConsumeTopics(c.statusTopic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		c.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			fs := cl.PollFetches(ctx)
			c.statusMu.Lock()
			fs.EachRecord(func(r *kgo.Record) {
				var v struct {
					State    string `json:"state"`
					WorkerID string `json:"worker_id"`
				}
				if r.Value == nil || json.Unmarshal(r.Value, &v) != nil {
					return
				}
				c.statusLog[string(r.Key)] = append(c.statusLog[string(r.Key)], statusEvent{r.Timestamp, v.WorkerID, v.State})
			})
			c.statusMu.Unlock()
		}
	}()
	c.t.Cleanup(func() { cancel(); <-done; cl.Close() })
}

type worker struct {
	i    int
	port int
	prop string
	runs []*proc
	// killedAt is when run n was killed with SIGKILL (zero: not killed).
	killedAt map[int]time.Time
	// pausedAt are the SIGSTOP and SIGCONT times of the current run's
	// pauses: a paused worker runs nothing, and once resumed it must stop
	// its tasks within pauseGrace.
	pausedAt [][2]time.Time
}

// pauseGrace is how soon after SIGCONT a paused worker must have logged
// its tasks stopped (it decides to stop at once, within a second; each
// task's stop line follows its flush, which on a loaded two-core machine
// took up to 2 s). Its writes in that window are checked by the line
// counts (checkDuplicates), not by this interval check.
const pauseGrace = 3 * time.Second

func (w *worker) url() string { return fmt.Sprintf("http://127.0.0.1:%d/", w.port) }
func (w *worker) id() string  { return fmt.Sprintf("127.0.0.1:%d", w.port) }
func (w *worker) cur() *proc  { return w.runs[len(w.runs)-1] }

// clusterSeq numbers the clusters of a test binary: each gets its own
// group and internal topics, so a real cluster shared by the tests never
// mixes them (the dead members of an earlier test stay in its group until
// their sessions expire).
var clusterSeq atomic.Int32

// newCluster prepares three workers on broker b: a real Kafka cluster
// (replication factor 3 on three brokers), or for the embedded kind the
// embedded broker of runtime/kafka in a process of its own (brokerd), as
// distributed workers cannot share one inside a worker.
func newCluster(t *testing.T, b *harness.Broker, tm timing, converter string) *cluster {
	n := clusterSeq.Add(1)
	c := &cluster{t: t, tm: tm, dir: t.TempDir(), rf: 1, statusTopic: fmt.Sprintf("it-status-%d", n), group: fmt.Sprintf("tributary-it-%d", n)}
	if b.Embedded {
		c.startBrokerd()
	} else {
		c.broker = b.Bootstrap
		switch {
		case b.Cluster == nil:
			c.rf = -1 // an existing cluster: its default
		case b.Cluster.Brokers() >= 3:
			c.rf = 3
		}
		// Apache Kafka's group.min.session.timeout.ms is 6000 and static.
		if c.tm.session < 6*time.Second {
			c.tm.session = 6 * time.Second
		}
	}
	var err error
	c.cl, err = kgo.NewClient(kgo.SeedBrokers(c.seeds()...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.cl.Close)
	c.admin = kadm.NewClient(c.cl)
	if b.Embedded {
		// Shorter sessions than kfake's default minimum (6 s) keep the
		// test short and leave room in the failover deadline.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		rs, err := c.admin.AlterBrokerConfigs(ctx, []kadm.AlterConfig{{Name: "group.min.session.timeout.ms", Value: kgoStr("2000")}})
		if err == nil {
			for _, r := range rs {
				if r.Err != nil {
					err = r.Err
				}
			}
		}
		if err != nil {
			t.Fatalf("lower group.min.session.timeout.ms: %v", err)
		}
	}
	t.Logf("broker %s (%s), replication factor %d, session.timeout.ms=%d", b.Name, c.broker, c.rf, c.tm.session.Milliseconds())
	tm = c.tm
	for i := range 3 {
		w := &worker{i: i, port: freePort(t), prop: filepath.Join(c.dir, fmt.Sprintf("worker-%d.properties", i)), killedAt: map[int]time.Time{}}
		props := fmt.Sprintf(`# connect-distributed.properties
bootstrap.servers=%[1]s
group.id=tributary-it-%[9]d
config.storage.topic=it-configs-%[9]d
offset.storage.topic=it-offsets-%[9]d
status.storage.topic=it-status-%[9]d
config.storage.replication.factor=%[10]d
offset.storage.replication.factor=%[10]d
status.storage.replication.factor=%[10]d
offset.storage.partitions=5
status.storage.partitions=3
key.converter=%[3]s
value.converter=%[3]s
listeners=http://127.0.0.1:%[2]d
rest.advertised.host.name=127.0.0.1
offset.flush.interval.ms=1000
session.timeout.ms=%[4]d
heartbeat.interval.ms=%[5]d
rebalance.timeout.ms=%[6]d
scheduled.rebalance.max.delay.ms=%[7]d
%[8]s`, c.broker, w.port, converter, tm.session.Milliseconds(), tm.heartbeat.Milliseconds(), tm.rebalance.Milliseconds(), tm.delay.Milliseconds(), tm.extra, n, c.rf)
		if err := os.WriteFile(w.prop, []byte(props), 0o644); err != nil {
			t.Fatal(err)
		}
		c.workers = append(c.workers, w)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, w := range c.workers {
				for n, r := range w.runs {
					b, _ := os.ReadFile(r.log)
					t.Logf("worker %d run %d log (tail):\n%s", w.i, n, tail(b, 6000))
				}
			}
		}
	})
	return c
}

func kgoStr(s string) *string { return &s }

func (c *cluster) seeds() []string { return strings.Split(c.broker, ",") }

// startBrokerd starts the broker process and waits until it listens.
func (c *cluster) startBrokerd() {
	t := c.t
	port := freePort(t)
	p := startProc(t, filepath.Join(c.dir, "broker.log"), brokerBin, "-port", strconv.Itoa(port), "-data-dir", filepath.Join(c.dir, "broker"))
	c.broker = fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if b, _ := os.ReadFile(p.log); bytes.Contains(b, []byte("listening")) {
			return
		}
		select {
		case <-p.exited:
			b, _ := os.ReadFile(p.log)
			t.Fatalf("broker exited: %v\n%s", p.err, b)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("broker did not start in 30s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// start starts a run of worker i and waits until its REST API answers.
func (c *cluster) start(i int) {
	t := c.t
	t.Helper()
	w := c.workers[i]
	p := startProc(t, filepath.Join(c.dir, fmt.Sprintf("worker-%d-run-%d.log", i, len(w.runs))), replicateBin, "distributed", w.prop)
	w.runs = append(w.runs, p)
	deadline := time.Now().Add(60 * time.Second)
	for {
		if resp, err := http.Get(w.url()); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		select {
		case <-p.exited:
			b, _ := os.ReadFile(p.log)
			t.Fatalf("worker %d exited at start: %v\n%s", i, p.err, tail(b, 4000))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("worker %d REST API not up after 60s", i)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// leader returns the worker whose latest assignment made it the leader
// (from the workers' logs), or -1.
func (c *cluster) leader() int {
	best, at := -1, ""
	for i, w := range c.workers {
		b, _ := os.ReadFile(w.cur().log)
		lines := strings.Split(string(b), "\n")
		for j := len(lines) - 1; j >= 0; j-- {
			if strings.Contains(lines[j], `msg="joined group"`) {
				ts := strings.TrimPrefix(strings.Fields(lines[j])[0], "time=")
				if strings.Contains(lines[j], "leader=true") && ts > at {
					best, at = i, ts
				}
				break
			}
		}
	}
	return best
}

// kill kills worker i's current run with SIGKILL.
func (c *cluster) kill(i int) time.Time {
	w := c.workers[i]
	p := w.cur()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		c.t.Fatal(err)
	}
	at := time.Now()
	<-p.exited
	w.killedAt[len(w.runs)-1] = at
	return at
}

// stop stops worker i's current run with SIGTERM and expects a clean exit.
func (c *cluster) stop(i int) {
	p := c.workers[i].cur()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		if p.err != nil {
			c.t.Fatalf("worker %d exited with %v after SIGTERM", i, p.err)
		}
	case <-time.After(60 * time.Second):
		c.t.Fatalf("worker %d did not stop within 60s of SIGTERM", i)
	}
}

func call(method, url string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// placement maps "connector" or "connector-task" to its worker ID and state.
type placement map[string]struct{ Worker, State string }

func (c *cluster) placement(w *worker) (placement, error) {
	code, b, err := call("GET", w.url()+"connectors?expand=status", nil)
	if err != nil {
		return nil, err
	}
	if code != 200 {
		return nil, fmt.Errorf("HTTP %d: %s", code, b)
	}
	var m map[string]struct {
		Status struct {
			Connector struct{ State, Worker_ID string } `json:"connector"`
			Tasks     []struct {
				ID        int    `json:"id"`
				State     string `json:"state"`
				Worker_ID string `json:"worker_id"`
			} `json:"tasks"`
		} `json:"status"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	p := placement{}
	for name, v := range m {
		p[name] = struct{ Worker, State string }{v.Status.Connector.Worker_ID, v.Status.Connector.State}
		for _, ts := range v.Status.Tasks {
			p[fmt.Sprintf("%s-%d", name, ts.ID)] = struct{ Worker, State string }{ts.Worker_ID, ts.State}
		}
	}
	return p, nil
}

func (p placement) String() string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s@%s ", k, p[k].State, p[k].Worker)
	}
	return b.String()
}

// perWorker counts instances per worker ID.
func (p placement) perWorker() map[string]int {
	out := map[string]int{}
	for _, v := range p {
		out[v.Worker]++
	}
	return out
}

// waitPlacement polls worker via's status until ok accepts it.
func (c *cluster) waitPlacement(via int, d time.Duration, what string, ok func(placement) bool) placement {
	c.t.Helper()
	deadline := time.Now().Add(d)
	var last placement
	var lastErr error
	for time.Now().Before(deadline) {
		p, err := c.placement(c.workers[via])
		if err == nil && ok(p) {
			return p
		}
		last, lastErr = p, err
		time.Sleep(200 * time.Millisecond)
	}
	c.t.Fatalf("%s: not reached in %v; last status %v (err %v)", what, d, last, lastErr)
	return nil
}

// allRunning: want instances, all RUNNING, none on the given worker IDs.
func allRunning(want int, notOn ...string) func(placement) bool {
	return func(p placement) bool {
		if len(p) != want {
			return false
		}
		for _, v := range p {
			if v.State != "RUNNING" || slices.Contains(notOn, v.Worker) || v.Worker == "" {
				return false
			}
		}
		return true
	}
}

// ---- databases and load ----

type dbs struct {
	mSrc, pSrc, mDst, pDst         *harness.Database
	mSrcDB, pSrcDB, mDstDB, pDstDB *sqlx.DB
}

func setupDatabases(t *testing.T, rows int) *dbs {
	d := &dbs{mSrc: harness.MariaDB(t), pSrc: harness.Postgres(t), mDst: harness.MariaDB(t), pDst: harness.Postgres(t)}
	d.mSrcDB, d.pSrcDB, d.mDstDB, d.pDstDB = d.mSrc.Open(t), d.pSrc.Open(t), d.mDst.Open(t), d.pDst.Open(t)
	for _, q := range []string{
		`CREATE TABLE orders (id INT PRIMARY KEY, customer VARCHAR(64) NOT NULL, amount DECIMAL(12,2) NOT NULL, qty INT)`,
		`CREATE TABLE events (id INT AUTO_INCREMENT PRIMARY KEY, kind VARCHAR(32) NOT NULL, payload VARCHAR(200))`,
	} {
		d.mSrcDB.MustExec(q)
	}
	for _, q := range []string{
		`CREATE TABLE items (id INT PRIMARY KEY, name TEXT NOT NULL, price NUMERIC(12,2) NOT NULL, qty INT)`,
		`CREATE TABLE logs (id SERIAL PRIMARY KEY, level TEXT NOT NULL, msg TEXT)`,
	} {
		d.pSrcDB.MustExec(q)
	}
	for i := 1; i <= rows; i++ {
		d.mSrcDB.MustExec(`INSERT INTO orders VALUES (?, ?, ?, ?)`, i, fmt.Sprintf("customer-%d", i), float64(i)+0.25, i%7)
		d.mSrcDB.MustExec(`INSERT INTO events (kind, payload) VALUES (?, ?)`, "seed", fmt.Sprintf("event %d", i))
		d.pSrcDB.MustExec(`INSERT INTO items VALUES ($1, $2, $3, $4)`, i, fmt.Sprintf("item-%d", i), float64(i)+0.5, i%5)
		d.pSrcDB.MustExec(`INSERT INTO logs (level, msg) VALUES ($1, $2)`, "INFO", fmt.Sprintf("log %d", i))
	}
	return d
}

// load writes to the four source tables until stop is closed: inserts,
// updates and deletes on the CDC tables, inserts on the polled ones.
type load struct {
	stop chan struct{}
	wg   sync.WaitGroup
	mu   sync.Mutex
	ops  int
	errs []error
}

func startLoad(d *dbs, rows int, rate time.Duration) *load {
	l := &load{stop: make(chan struct{})}
	run := func(name string, db *sqlx.DB, op func(r *rand.Rand, next int) (string, []any), seq int) {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			r := rand.New(rand.NewPCG(uint64(seq), 7))
			next := rows
			tick := time.NewTicker(rate)
			defer tick.Stop()
			for {
				select {
				case <-l.stop:
					return
				case <-tick.C:
				}
				next++
				q, args := op(r, next)
				if _, err := db.Exec(q, args...); err != nil {
					l.mu.Lock()
					l.errs = append(l.errs, fmt.Errorf("%s: %w", name, err))
					l.mu.Unlock()
					continue
				}
				l.mu.Lock()
				l.ops++
				l.mu.Unlock()
			}
		}()
	}
	cdc := func(ph func(int) string, table, text string) func(r *rand.Rand, next int) (string, []any) {
		return func(r *rand.Rand, next int) (string, []any) {
			id := 1 + r.IntN(next)
			switch k := r.IntN(10); {
			case k < 5:
				return fmt.Sprintf("INSERT INTO %s VALUES (%s, %s, %s, %s)", table, ph(1), ph(2), ph(3), ph(4)),
					[]any{next, fmt.Sprintf("%s-%d", text, next), float64(next) / 4, r.IntN(100)}
			case k < 9:
				return fmt.Sprintf("UPDATE %s SET qty = %s, amount_or_price = %s WHERE id = %s", table, ph(1), ph(2), ph(3)),
					[]any{r.IntN(1000), float64(r.IntN(100000)) / 100, id}
			default:
				return fmt.Sprintf("DELETE FROM %s WHERE id = %s", table, ph(1)), []any{id}
			}
		}
	}
	my := func(int) string { return "?" }
	pg := func(i int) string { return "$" + strconv.Itoa(i) }
	orders := cdc(my, "orders", "customer")
	items := cdc(pg, "items", "item")
	fix := func(f func(*rand.Rand, int) (string, []any), col string) func(*rand.Rand, int) (string, []any) {
		return func(r *rand.Rand, next int) (string, []any) {
			q, a := f(r, next)
			return strings.Replace(q, "amount_or_price", col, 1), a
		}
	}
	run("orders", d.mSrcDB, fix(orders, "amount"), 1)
	run("items", d.pSrcDB, fix(items, "price"), 2)
	run("events", d.mSrcDB, func(r *rand.Rand, next int) (string, []any) {
		return "INSERT INTO events (kind, payload) VALUES (?, ?)", []any{"load", fmt.Sprintf("event %d", next)}
	}, 3)
	run("logs", d.pSrcDB, func(r *rand.Rand, next int) (string, []any) {
		return "INSERT INTO logs (level, msg) VALUES ($1, $2)", []any{"WARN", fmt.Sprintf("log %d", next)}
	}, 4)
	return l
}

func (l *load) end() (int, []error) {
	close(l.stop)
	l.wg.Wait()
	return l.ops, l.errs
}

// ---- connectors ----

func connectorConfigs(d *dbs) map[string]map[string]string {
	sink := func(url, topics string) map[string]string {
		return map[string]string{
			"connector.class":              "io.confluent.connect.jdbc.JdbcSinkConnector",
			"tasks.max":                    "1",
			"connection.url":               url,
			"topics":                       topics,
			"insert.mode":                  "upsert",
			"pk.mode":                      "record_key",
			"delete.enabled":               "true",
			"auto.create":                  "true",
			"auto.evolve":                  "true",
			"transforms":                   "route",
			"transforms.route.type":        "org.apache.kafka.connect.transforms.RegexRouter",
			"transforms.route.regex":       `(?:[^.]+\.[^.]+\.|j[mp]_)([^.]+)`,
			"transforms.route.replacement": "$1",
		}
	}
	jdbcSource := func(url, table, prefix string) map[string]string {
		return map[string]string{
			"connector.class":          "io.confluent.connect.jdbc.JdbcSourceConnector",
			"tasks.max":                "1",
			"connection.url":           url,
			"mode":                     "incrementing",
			"incrementing.column.name": "id",
			"table.whitelist":          table,
			"topic.prefix":             prefix,
			"poll.interval.ms":         "200",
			"transforms":               "key",
			"transforms.key.type":      "org.apache.kafka.connect.transforms.ValueToKey",
			"transforms.key.fields":    "id",
		}
	}
	return map[string]map[string]string{
		"mariadb-cdc": {
			"connector.class":       "io.debezium.connector.mysql.MySqlConnector",
			"tasks.max":             "1",
			"database.hostname":     d.mSrc.Host,
			"database.port":         strconv.Itoa(d.mSrc.Port),
			"database.user":         harness.MariaDBCDCUser,
			"database.password":     harness.MariaDBCDCPassword,
			"database.server.id":    "5501",
			"topic.prefix":          "mdb",
			"database.include.list": d.mSrc.Name,
			"table.include.list":    d.mSrc.Name + ".orders",
			"snapshot.mode":         "initial",
		},
		"postgres-cdc": {
			"connector.class":             "io.debezium.connector.postgresql.PostgresConnector",
			"tasks.max":                   "1",
			"database.hostname":           d.pSrc.Host,
			"database.port":               strconv.Itoa(d.pSrc.Port),
			"database.user":               d.pSrc.User,
			"database.password":           d.pSrc.Password,
			"database.dbname":             d.pSrc.Name,
			"topic.prefix":                "pg",
			"plugin.name":                 "pgoutput",
			"slot.name":                   "it_distributed",
			"publication.name":            "it_distributed",
			"publication.autocreate.mode": "filtered",
			"table.include.list":          "public.items",
			"snapshot.mode":               "initial",
		},
		"jdbc-mariadb-source":  jdbcSource(d.mSrc.JDBCURL(), "events", "jm_"),
		"jdbc-postgres-source": jdbcSource(d.pSrc.JDBCURL(), "logs", "jp_"),
		"postgres-sink":        sink(d.pDst.JDBCURL(), "mdb."+d.mSrc.Name+".orders,jm_events"),
		"mariadb-sink":         sink(d.mDst.JDBCURL(), "pg.public.items,jp_logs"),
	}
}

// TestDistributedCluster: three worker processes share six connectors
// (MariaDB CDC, PostgreSQL CDC, two JDBC sources, two JDBC sinks) created
// through one worker; every worker reports the same placement; a worker is
// killed with SIGKILL under a write load and its work resumes elsewhere
// within scheduled.rebalance.max.delay.ms + 10 s; it comes back and gets a
// share again; a rolling restart of all three follows, then a kill -9 of
// the leader; at the end every
// target table equals its source, and no CDC source ran on two workers at
// once (status topic history and worker logs).
func TestDistributedCluster(t *testing.T) {
	rows := 200
	if n, err := strconv.Atoi(os.Getenv("TRIBUTARY_ROWS")); err == nil && n > 0 {
		rows = n
	}
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	c := newCluster(t, harness.DefaultBroker(t), shortTiming, "org.apache.kafka.connect.json.JsonConverter")
	d := setupDatabases(t, rows)
	topics := []string{"mdb", "mdb." + d.mSrc.Name + ".orders", "pg.public.items", "jm_events", "jp_logs"}
	if resp, err := c.admin.CreateTopics(ctx, 1, c.rf, nil, topics...); err != nil || resp.Error() != nil {
		t.Fatalf("create topics: %v %v", err, resp.Error())
	}
	for i := range 3 {
		c.start(i)
		if i == 0 {
			c.tailStatuses()
		}
	}

	// Six connectors, created through worker 0 (forwarded to the leader
	// unless worker 0 leads).
	conns := connectorConfigs(d)
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range conns {
			if !yield(n) {
				return
			}
		}
	})
	for _, n := range names {
		code, b, err := call("POST", c.workers[0].url()+"connectors", map[string]any{"name": n, "config": conns[n]})
		if err != nil || code != 201 {
			t.Fatalf("create %s: HTTP %d %s %v", n, code, b, err)
		}
	}
	const instances = 12 // six connectors and their six tasks
	start := time.Now()
	p0 := c.waitPlacement(0, 90*time.Second, "all six connectors RUNNING", allRunning(instances))
	t.Logf("all connectors RUNNING %v after creation: %v", time.Since(start).Round(time.Millisecond), p0)
	// Every worker answers the same placement.
	samePlacement(t, c, 20*time.Second)
	pw := p0.perWorker()
	if len(pw) != 3 {
		t.Fatalf("connectors not spread over the three workers: %v", pw)
	}
	for id, n := range pw {
		if n != instances/3 {
			t.Errorf("worker %s runs %d connector/task instances, want %d (balanced): %v", id, n, instances/3, p0)
		}
	}

	// Kill -9 the worker running the MariaDB CDC task, under load.
	ld := startLoad(d, rows, 40*time.Millisecond)
	time.Sleep(3 * time.Second)
	// First a worker that does not lead, running a CDC task if one does.
	leader := c.leader()
	victim := -1
	for _, task := range []string{"mariadb-cdc-0", "postgres-cdc-0"} {
		for i, w := range c.workers {
			if victim < 0 && i != leader && p0[task].Worker == w.id() {
				victim = i
			}
		}
	}
	if victim < 0 {
		victim = (leader + 1) % 3
	}
	t.Logf("killing worker %d (leader is worker %d)", victim, leader)
	c.killAndReturn(victim, p0, instances)

	// Rolling restart, one worker after another, under load.
	for i := range 3 {
		c.stop(i)
		c.start(i)
		id := c.workers[i].id()
		c.waitPlacement((i+1)%3, 60*time.Second, fmt.Sprintf("all RUNNING after restarting worker %d", i), func(p placement) bool {
			return allRunning(instances)(p) && p.perWorker()[id] > 0
		})
	}
	// Then the leader: its successor assigns without memory of earlier
	// rounds, from the statuses.
	if l := c.leader(); l >= 0 {
		t.Logf("killing the leader, worker %d", l)
		p, err := c.placement(c.workers[(l+1)%3])
		if err != nil {
			t.Fatal(err)
		}
		c.killAndReturn(l, p, instances)
	} else {
		t.Error("no leader found in the workers' logs")
	}
	ops, errs := ld.end()
	if len(errs) > 0 {
		t.Fatalf("load errors: %v", errs[:min(len(errs), 5)])
	}
	t.Logf("load: %d statements", ops)
	pEnd := c.waitPlacement(0, 60*time.Second, "all RUNNING at the end", allRunning(instances))
	samePlacement(t, c, 20*time.Second)
	t.Logf("final placement: %v", pEnd)

	// Every target table equals its source.
	vctx, vcancel := context.WithTimeout(ctx, 120*time.Second)
	defer vcancel()
	for _, pair := range []struct {
		name     string
		src, dst *sqlx.DB
		table    string
	}{
		{"orders mariadb→postgres (CDC)", d.mSrcDB, d.pDstDB, "orders"},
		{"items postgres→mariadb (CDC)", d.pSrcDB, d.mDstDB, "items"},
		{"events mariadb→postgres (JDBC source)", d.mSrcDB, d.pDstDB, "events"},
		{"logs postgres→mariadb (JDBC source)", d.pSrcDB, d.mDstDB, "logs"},
	} {
		rep, err := verify.Until(vctx, pair.src, pair.dst, verify.Options{SourceTable: pair.table}, time.Second)
		if err != nil {
			t.Errorf("%s: %v", pair.name, err)
			for _, df := range rep.Diffs {
				t.Logf("  %s", df)
			}
			continue
		}
		t.Logf("%s: %s", pair.name, rep.Summary())
	}

	// No CDC source ran on two workers at once.
	checkExclusiveFromStatuses(t, c, []string{"mariadb-cdc", "postgres-cdc"})
	checkExclusiveFromLogs(t, c, []string{"mariadb-cdc", "postgres-cdc"})
}

// killAndReturn kills worker victim with SIGKILL, measures how long its
// work (per placement p) takes to run elsewhere, checks that against
// scheduled.rebalance.max.delay.ms, restarts the worker and waits until it
// has a share again.
func (c *cluster) killAndReturn(victim int, p placement, instances int) {
	t := c.t
	t.Helper()
	var moved []string
	for k, v := range p {
		if v.Worker == c.workers[victim].id() {
			moved = append(moved, k)
		}
	}
	sort.Strings(moved)
	killedID := c.workers[victim].id()
	other := (victim + 1) % 3
	killAt := c.kill(victim)
	scheduledDelay, sessionTimeout := c.tm.delay, c.tm.session
	p1 := c.waitPlacement(other, scheduledDelay+15*time.Second, "work of the killed worker running elsewhere",
		allRunning(instances, killedID))
	failover := time.Since(killAt)
	t.Logf("FAILOVER: worker %s killed; its work %v RUNNING elsewhere after %v (session.timeout.ms=%v, scheduled.rebalance.max.delay.ms=%v)",
		killedID, moved, failover.Round(time.Millisecond), sessionTimeout, scheduledDelay)
	if failover > scheduledDelay+10*time.Second {
		t.Errorf("failover took %v, more than scheduled.rebalance.max.delay.ms + 10s = %v", failover, scheduledDelay+10*time.Second)
	}
	if failover < scheduledDelay {
		t.Errorf("failover after %v: the killed worker's work was not held for scheduled.rebalance.max.delay.ms=%v", failover, scheduledDelay)
	}
	t.Logf("placement after failover: %v", p1)
	// The worker comes back and gets a share again.
	c.start(victim)
	c.waitPlacement(other, 60*time.Second, "returning worker gets a share", func(p placement) bool {
		return allRunning(instances)(p) && p.perWorker()[killedID] > 0
	})
}

// samePlacement waits until every worker answers GET
// /connectors?expand=status with the same placement.
func samePlacement(t *testing.T, c *cluster, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		var ps []placement
		var err error
		for _, w := range c.workers {
			var p placement
			if p, err = c.placement(w); err != nil {
				break
			}
			ps = append(ps, p)
		}
		if err == nil && ps[0].String() == ps[1].String() && ps[1].String() == ps[2].String() {
			return
		}
		if time.Now().After(deadline) {
			for i, p := range ps {
				t.Logf("worker %d answers %v", i, p)
			}
			t.Fatalf("workers answer different placements after %v (err %v)", d, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// statusEvent is one status record of a task.
type statusEvent struct {
	at     time.Time
	worker string
	state  string
}

// checkExclusiveFromStatuses reads the status topic's history: once a
// worker reported a CDC task RUNNING, no other worker may report it RUNNING
// before the first one reported it stopped (or was killed).
func checkExclusiveFromStatuses(t *testing.T, c *cluster, conns []string) {
	t.Helper()
	time.Sleep(time.Second) // the tailer catches up
	c.statusMu.Lock()
	events := c.statusLog
	c.statusMu.Unlock()
	killed := map[string][]time.Time{}
	for _, w := range c.workers {
		for _, at := range w.killedAt {
			killed[w.id()] = append(killed[w.id()], at)
		}
		for _, pa := range w.pausedAt {
			killed[w.id()] = append(killed[w.id()], pa[0])
		}
	}
	for _, conn := range conns {
		key := "status-task-" + conn + "-0"
		evs := events[key]
		if len(evs) == 0 {
			t.Errorf("%s: no status records", key)
			continue
		}
		owner, since := "", time.Time{}
		var moves []string
		for _, ev := range evs {
			switch ev.state {
			case "RUNNING", "PAUSED":
				if owner != "" && owner != ev.worker {
					ok := false
					for _, k := range killed[owner] {
						if k.After(since) && ev.at.After(k) {
							ok = true
						}
					}
					if !ok {
						t.Errorf("%s: %s reported RUNNING at %s while %s had it since %s without stopping", key, ev.worker,
							ev.at.Format("15:04:05.000"), owner, since.Format("15:04:05.000"))
					}
				}
				if owner != ev.worker {
					moves = append(moves, ev.worker+"@"+ev.at.Format("15:04:05.000"))
				}
				owner, since = ev.worker, ev.at
			default:
				if ev.worker == owner {
					owner = ""
				}
			}
		}
		t.Logf("%s ran on: %v", key, moves)
	}
}

var logLine = regexp.MustCompile(`^time=(\S+) .*msg="task (started|stopped)".* connector=(\S+) task=0`)

func contextTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}

// checkExclusiveFromLogs builds, from every worker run's log, the time
// intervals in which it ran a CDC task (from "task started" to "task
// stopped", or to the kill) and checks no two intervals overlap.
func checkExclusiveFromLogs(t *testing.T, c *cluster, conns []string) {
	t.Helper()
	type interval struct {
		run        string
		start, end time.Time
	}
	byConn := map[string][]interval{}
	for _, w := range c.workers {
		for n, r := range w.runs {
			f, err := os.Open(r.log)
			if err != nil {
				t.Fatal(err)
			}
			open := map[string]time.Time{}
			sc := bufio.NewScanner(f)
			sc.Buffer(make([]byte, 1<<20), 1<<20)
			run := fmt.Sprintf("worker %d run %d", w.i, n)
			for sc.Scan() {
				m := logLine.FindStringSubmatch(sc.Text())
				if m == nil || !slices.Contains(conns, m[3]) {
					continue
				}
				at, err := time.Parse(time.RFC3339Nano, m[1])
				if err != nil {
					continue
				}
				if m[2] == "started" {
					open[m[3]] = at
				} else if s, ok := open[m[3]]; ok {
					if n == len(w.runs)-1 {
						for _, pa := range w.pausedAt {
							// Stopped right after the pause: it ran nothing
							// while paused.
							if s.Before(pa[0]) && at.After(pa[1]) && at.Sub(pa[1]) <= pauseGrace {
								at = pa[0]
							}
						}
					}
					byConn[m[3]] = append(byConn[m[3]], interval{run, s, at})
					delete(open, m[3])
				}
			}
			f.Close()
			end, killed := w.killedAt[n]
			if !killed {
				end = time.Now()
			}
			for conn, s := range open {
				byConn[conn] = append(byConn[conn], interval{run, s, end})
			}
		}
	}
	for _, conn := range conns {
		iv := byConn[conn]
		sort.Slice(iv, func(i, j int) bool { return iv[i].start.Before(iv[j].start) })
		for i := 1; i < len(iv); i++ {
			if iv[i].start.Before(iv[i-1].end) {
				t.Errorf("%s ran on %s (%s–%s) and on %s (from %s) at once", conn, iv[i-1].run, iv[i-1].start.Format("15:04:05.000"),
					iv[i-1].end.Format("15:04:05.000"), iv[i].run, iv[i].start.Format("15:04:05.000"))
			}
		}
		var desc []string
		for _, x := range iv {
			desc = append(desc, fmt.Sprintf("%s %s–%s", x.run, x.start.Format("15:04:05.000"), x.end.Format("15:04:05.000")))
		}
		t.Logf("%s intervals: %s", conn, strings.Join(desc, "; "))
	}
}
