package jdbcsink

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/tributary-cdc/tributary/integration/harness"
	"github.com/tributary-cdc/tributary/schema"
)

// envInt reads a positive integer from the environment.
func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

var (
	loadKeySchema   = schema.NewStructSchema("load.Key", schema.Field{Name: "id", Schema: schema.Int64Schema})
	loadValueSchema = schema.NewStructSchema("load.Value",
		schema.Field{Name: "id", Schema: schema.Int64Schema},
		schema.Field{Name: "p", Schema: schema.Int32Schema},
		schema.Field{Name: "o", Schema: schema.Int64Schema},
		schema.Field{Name: "v", Schema: schema.StringSchema})
)

// loadGen is a deterministic keyed stream over several partitions: the
// record at offset o of partition p has key id = (o mod keysPerPart)·parts + p,
// so a key always lives in one partition, as with Kafka's key partitioning.
type loadGen struct {
	topic       string
	parts       int
	perPart     int
	keysPerPart int
}

func (g loadGen) record(p int32, o int64) schema.Record {
	id := (o%int64(g.keysPerPart))*int64(g.parts) + int64(p)
	v := fmt.Sprintf("p%d-o%d", p, o)
	return record(g.topic, p, o, loadKeySchema, structOf(loadKeySchema, id), loadValueSchema, structOf(loadValueSchema, id, p, o, v))
}

// expected returns the final rows of an upsert load, "id|p|o|v" by id.
func (g loadGen) expectedUpsert() []string {
	last := map[int64][2]int64{}
	for p := 0; p < g.parts; p++ {
		for o := 0; o < g.perPart; o++ {
			id := (int64(o)%int64(g.keysPerPart))*int64(g.parts) + int64(p)
			last[id] = [2]int64{int64(p), int64(o)}
		}
	}
	out := make([]string, 0, len(last))
	for id := int64(0); id < int64(len(last)); id++ {
		po := last[id]
		out = append(out, fmt.Sprintf("%d|%d|%d|p%d-o%d", id, po[0], po[1], po[0], po[1]))
	}
	return out
}

// batch returns up to n records per partition starting at pos, interleaved
// like a consumer poll.
func (g loadGen) batch(pos []int64, n int) []schema.Record {
	var out []schema.Record
	for i := 0; i < n; i++ {
		for p := range pos {
			if o := pos[p] + int64(i); o < int64(g.perPart) {
				out = append(out, g.record(int32(p), o))
			}
		}
	}
	return out
}

func done(pos []int64, per int) bool {
	for _, o := range pos {
		if o < int64(per) {
			return false
		}
	}
	return true
}

// advance returns the positions after recs.
func advance(pos []int64, recs []schema.Record) []int64 {
	out := append([]int64(nil), pos...)
	for _, r := range recs {
		if r.Offset+1 > out[r.Partition] {
			out[r.Partition] = r.Offset + 1
		}
	}
	return out
}

// checkLoad verifies the target table after a load: upsert mode has the
// last change per key; insert mode has every record exactly once.
func checkLoad(t testing.TB, db *sqlx.DB, g loadGen, table, insertMode string) {
	t.Helper()
	if insertMode == "upsert" {
		got := render(query(t, db, "SELECT id, p, o, v FROM "+table+" ORDER BY id"))
		want := strings.Join(g.expectedUpsert(), "\n") + "\n"
		if got != want {
			t.Fatalf("target differs from expected (%d vs %d bytes); first rows got:\n%.300s\nwant:\n%.300s", len(got), len(want), got, want)
		}
		return
	}
	q := "SELECT COUNT(*), COUNT(DISTINCT p, o) FROM " + table
	if db.DriverName() == "pgx" {
		q = "SELECT COUNT(*), COUNT(DISTINCT (p, o)) FROM " + table
	}
	rows := query(t, db, q)
	want := strconv.Itoa(g.parts * g.perPart)
	if rows[0][0] != want || rows[0][1] != want {
		t.Fatalf("insert load: %s rows, %s distinct records; want %s of each (no duplicates, nothing lost)", rows[0][0], rows[0][1], want)
	}
}

// TestCrashRecovery abandons tasks many times at random points — without
// Flush, with the context cancelled in the middle of Put or Flush — and
// restarts them from the last flushed positions, as the runtime does after
// a crash. The target must equal the expected table; insert mode with
// exactly.once=true must have no duplicates.
func TestCrashRecovery(t *testing.T) {
	rows := envInt("TRIBUTARY_ROWS", 3000)
	cases := []struct{ insertMode, pkMode, extra string }{
		{"upsert", "record_key", "false"},
		{"insert", "none", "true"}, // exactly.once
		{"upsert", "record_key", "true"},
	}
	forEachDB(t, func(t *testing.T, hdb *harness.Database) {
		db := hdb.Open(t)
		for _, c := range cases {
			name := c.insertMode + "_eo_" + c.extra
			t.Run(name, func(t *testing.T) {
				g := loadGen{topic: "crash_" + name, parts: 3, perPart: rows / 3, keysPerPart: 700}
				cfg := sinkConfig(hdb, "topics", g.topic, "auto.create", "true", "insert.mode", c.insertMode, "pk.mode", c.pkMode,
					"batch.size", "97", "exactly.once", c.extra)
				rng := rand.New(rand.NewPCG(1, uint64(len(name))))
				pos := make([]int64, g.parts) // the "committed consumer offsets"
				crashes := 0
				for !done(pos, g.perPart) {
					task := startTask(t, cfg, nil)
					cur := pos
					// Crash two times in three, and always once the load is past
					// its first half, until 12 crashes happened.
					crash := crashes < 12 && (rng.IntN(3) > 0 || pos[0] > int64(g.perPart/2))
					polls := 1 + rng.IntN(8)
					for i := 0; i < polls && !done(cur, g.perPart); i++ {
						recs := g.batch(cur, 10+rng.IntN(60))
						ctx, cancel := context.Background(), context.CancelFunc(func() {})
						if crash && i == polls-1 && rng.IntN(2) == 0 {
							// Die in the middle of a Put (possibly mid-transaction).
							ctx, cancel = context.WithTimeout(context.Background(), time.Duration(rng.IntN(3000))*time.Microsecond)
						}
						err := task.Put(ctx, recs)
						cancel()
						if err != nil {
							if ctx.Err() == nil {
								t.Fatalf("put: %v", err)
							}
							break
						}
						cur = advance(cur, recs)
					}
					if crash {
						if rng.IntN(2) == 0 {
							ctx, cancel := context.WithTimeout(context.Background(), time.Duration(rng.IntN(5000))*time.Microsecond)
							_ = task.Flush(ctx) // may or may not commit; offsets are not advanced either way
							cancel()
						}
						task.Stop() // abandoned: the runtime replays from pos
						crashes++
						continue
					}
					mustFlush(t, task)
					task.Stop()
					pos = cur // the runtime commits consumer offsets after Flush
				}
				if crashes < 10 {
					t.Fatalf("only %d crashes simulated", crashes)
				}
				checkLoad(t, db, g, g.topic, c.insertMode)
			})
		}
	})
}

// killState is what a TestKill9 child persists after each successful
// Flush: the consumer positions the runtime would commit.
type killState struct {
	Pos []int64
}

func readState(path string, parts int) []int64 {
	var st killState
	if b, err := os.ReadFile(path); err == nil && json.Unmarshal(b, &st) == nil && len(st.Pos) == parts {
		return st.Pos
	}
	return make([]int64, parts)
}

// TestKill9 runs the load in a child process and kills it with SIGKILL at
// random moments (≥ 10 times), restarting it from the positions it
// committed after its last successful Flush. Afterwards the target must
// equal the expected table, and insert mode with exactly.once=true must
// have no duplicates.
func TestKill9(t *testing.T) {
	rows := envInt("TRIBUTARY_KILL_ROWS", 24000)
	kills := envInt("TRIBUTARY_KILLS", 10)
	forEachDB(t, func(t *testing.T, hdb *harness.Database) {
		db := hdb.Open(t)
		for _, mode := range []string{"upsert", "insert"} {
			t.Run(mode, func(t *testing.T) {
				g := loadGen{topic: "kill_" + mode, parts: 3, perPart: rows / 3, keysPerPart: 5000}
				state := filepath.Join(t.TempDir(), "state.json")
				// run starts a child; killAt > 0 kills it with SIGKILL a moment
				// after its killAt-th Put returned (so kills land mid-load,
				// often inside a transaction); 0 lets it finish.
				run := func(killAt int, delay time.Duration) (finished bool) {
					cmd := exec.Command(os.Args[0], "-test.run=^TestKill9Child$", "-test.count=1")
					cmd.Env = append(os.Environ(), childEnv+"=1", "KILL_URL="+hdb.JDBCURL(), "KILL_MODE="+mode, "KILL_STATE="+state,
						"KILL_TOPIC="+g.topic, "KILL_ROWS="+strconv.Itoa(rows))
					errOut := &limitedBuffer{}
					cmd.Stderr = errOut
					stdout, err := cmd.StdoutPipe()
					if err != nil {
						t.Fatal(err)
					}
					if err := cmd.Start(); err != nil {
						t.Fatal(err)
					}
					sc := bufio.NewScanner(stdout)
					puts, killed := 0, false
					for sc.Scan() {
						if sc.Text() != "put" {
							continue
						}
						if puts++; killAt > 0 && puts == killAt {
							time.Sleep(delay)
							_ = cmd.Process.Signal(syscall.SIGKILL)
							killed = true
							break
						}
					}
					_, _ = io.Copy(io.Discard, stdout)
					err = cmd.Wait()
					if killed {
						return false
					}
					if err != nil {
						t.Fatalf("child failed: %v\n%s", err, errOut)
					}
					return true
				}
				rng := rand.New(rand.NewPCG(9, uint64(len(mode))))
				killed := 0
				for killed < kills {
					if run(1+rng.IntN(6), time.Duration(rng.IntN(4000))*time.Microsecond) {
						break // finished before the kill
					}
					killed++
				}
				run(0, 0) // finish
				if !done(readState(state, g.parts), g.perPart) {
					t.Fatalf("child finished without committing everything: %v", readState(state, g.parts))
				}
				t.Logf("%s: killed %d times", mode, killed)
				if killed < kills {
					t.Logf("the load finished before %d kills; raise TRIBUTARY_KILL_ROWS", kills)
				}
				checkLoad(t, db, g, g.topic, mode)
			})
		}
	})
}

// TestKill9Child is the process TestKill9 kills: it loads from the
// committed positions, flushing and committing every few polls.
func TestKill9Child(t *testing.T) {
	if os.Getenv(childEnv) == "" {
		t.Skip("run by TestKill9")
	}
	mode := os.Getenv("KILL_MODE")
	rows, _ := strconv.Atoi(os.Getenv("KILL_ROWS"))
	g := loadGen{topic: os.Getenv("KILL_TOPIC"), parts: 3, perPart: rows / 3, keysPerPart: 5000}
	pk := "record_key"
	if mode == "insert" {
		pk = "none"
	}
	cfg := map[string]string{"connection.url": os.Getenv("KILL_URL"), "topics": g.topic, "auto.create": "true",
		"insert.mode": mode, "pk.mode": pk, "exactly.once": "true", "batch.size": "500", "retry.backoff.ms": "50"}
	task := startTask(t, cfg, nil)
	path := os.Getenv("KILL_STATE")
	pos := readState(path, g.parts)
	for polls := 1; !done(pos, g.perPart); polls++ {
		recs := g.batch(pos, 200)
		mustPut(t, task, recs...)
		fmt.Println("put")
		pos = advance(pos, recs)
		if polls%3 == 0 || done(pos, g.perPart) {
			mustFlush(t, task)
			b, _ := json.Marshal(killState{Pos: pos})
			tmp := path + ".tmp"
			if err := os.WriteFile(tmp, b, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(tmp, path); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// limitedBuffer keeps the last 8 KiB a child wrote.
type limitedBuffer struct{ b []byte }

func (l *limitedBuffer) Write(p []byte) (int, error) {
	l.b = append(l.b, p...)
	if len(l.b) > 8192 {
		l.b = l.b[len(l.b)-8192:]
	}
	return len(p), nil
}

func (l *limitedBuffer) String() string { return string(l.b) }
