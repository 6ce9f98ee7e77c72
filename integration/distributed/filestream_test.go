package distributed

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-cdc/tributary/integration/harness"
)

// The FileStream suite reproduces issue 18 as the user ran it: three
// worker processes, Connect's default group timeouts,
// scheduled.rebalance.max.delay.ms=3000, three FileStreamSource →
// FileStreamSink pairs under a writer, then a fault. It needs no database.

const (
	fsPairs = 3
	fsLines = 20000
)

// fsCluster is a cluster running the three FileStream pairs.
type fsCluster struct {
	*cluster
	in, out []string
	// written[i] is how many lines of in[i] are written (and synced).
	written [fsPairs]atomic.Int64
	wdone   chan struct{}
}

func newFSCluster(t *testing.T, b *harness.Broker, tm timing) *fsCluster {
	c := &fsCluster{cluster: newCluster(t, b, tm, "org.apache.kafka.connect.storage.StringConverter"), wdone: make(chan struct{})}
	var topics []string
	for i := range fsPairs {
		topics = append(topics, fmt.Sprintf("lines-%d", i))
		c.in = append(c.in, filepath.Join(c.dir, fmt.Sprintf("in-%d.txt", i)))
		c.out = append(c.out, filepath.Join(c.dir, fmt.Sprintf("out-%d.txt", i)))
		if err := os.WriteFile(c.in[i], nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := contextTimeout(30 * time.Second)
	defer cancel()
	if resp, err := c.admin.CreateTopics(ctx, 1, c.rf, nil, append(topics, "lines-x")...); err != nil || resp.Error() != nil {
		t.Fatalf("create topics: %v %v", err, resp.Error())
	}
	for i := range 3 {
		c.start(i)
		if i == 0 {
			c.tailStatuses()
		}
	}
	for i := range fsPairs {
		for name, cfg := range map[string]map[string]string{
			fmt.Sprintf("src-%d", i):  {"connector.class": "FileStreamSource", "file": c.in[i], "topic": topics[i]},
			fmt.Sprintf("sink-%d", i): {"connector.class": "FileStreamSink", "file": c.out[i], "topics": topics[i]},
		} {
			code, b, err := call("POST", c.workers[i].url()+"connectors", map[string]any{"name": name, "config": cfg})
			if err != nil || code != 201 {
				t.Fatalf("create %s: HTTP %d %s %v", name, code, b, err)
			}
		}
	}
	start := time.Now()
	p := c.waitPlacement(0, 90*time.Second, "six FileStream connectors RUNNING", allRunning(4*fsPairs))
	t.Logf("all connectors RUNNING %v after creation: %v", time.Since(start).Round(time.Millisecond), p)
	return c
}

// write appends fsLines lines to every input file over about d.
func (c *fsCluster) write(d time.Duration) {
	const chunk = 100
	every := d / (fsLines / chunk)
	go func() {
		defer close(c.wdone)
		fs := make([]*os.File, fsPairs)
		for i := range fsPairs {
			f, err := os.OpenFile(c.in[i], os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				c.t.Error(err)
				return
			}
			defer f.Close()
			fs[i] = f
		}
		tick := time.NewTicker(every)
		defer tick.Stop()
		for n := 0; n < fsLines; n += chunk {
			<-tick.C
			for i, f := range fs {
				var b strings.Builder
				for j := n; j < n+chunk; j++ {
					fmt.Fprintf(&b, "%d-%05d\n", i, j)
				}
				if _, err := f.WriteString(b.String()); err != nil {
					c.t.Error(err)
					return
				}
				c.written[i].Store(int64(n + chunk))
			}
		}
	}()
}

// lineCounts returns how often each line number occurs in out[i].
func (c *fsCluster) lineCounts(i int) map[int]int {
	b, _ := os.ReadFile(c.out[i])
	m := map[int]int{}
	prefix := strconv.Itoa(i) + "-"
	for _, l := range strings.Split(string(b), "\n") {
		if n, err := strconv.Atoi(strings.TrimPrefix(l, prefix)); err == nil && strings.HasPrefix(l, prefix) {
			m[n]++
		}
	}
	return m
}

// waitDelivered waits until every output file has every line; it returns
// when that happened.
func (c *fsCluster) waitDelivered(d time.Duration) time.Time {
	c.t.Helper()
	deadline := time.Now().Add(d)
	<-c.wdone
	for i := range fsPairs {
		for len(c.lineCounts(i)) < fsLines {
			if time.Now().After(deadline) {
				c.t.Fatalf("%s has %d of %d distinct lines after %v", c.out[i], len(c.lineCounts(i)), fsLines, d)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	return time.Now()
}

// checkDuplicates: a pair none of whose instances ran on a faulted worker
// has every line exactly once; a pair the faulted worker ran may repeat
// only lines written before the fault (the range it had not committed).
func (c *fsCluster) checkDuplicates(faulted string, p placement, writtenAtFault [fsPairs]int64) {
	t := c.t
	for i := range fsPairs {
		touched := p[fmt.Sprintf("src-%d-0", i)].Worker == faulted || p[fmt.Sprintf("sink-%d-0", i)].Worker == faulted
		counts := c.lineCounts(i)
		var dups []int
		total := 0
		for n, k := range counts {
			total += k
			if k > 1 {
				dups = append(dups, n)
			}
		}
		sort.Ints(dups)
		span := ""
		if len(dups) > 0 {
			span = fmt.Sprintf(" (lines %d…%d)", dups[0], dups[len(dups)-1])
		}
		t.Logf("pair %d (ran on the faulted worker: %v): %d lines written for %d, %d duplicated%s", i, touched, total, fsLines, len(dups), span)
		switch {
		case !touched && len(dups) > 0:
			t.Errorf("pair %d never ran on the faulted worker, yet %d lines are duplicated%s: a task ran on two workers", i, len(dups), span)
		case touched && len(dups) > 0 && int64(dups[len(dups)-1]) >= writtenAtFault[i]:
			t.Errorf("pair %d repeats line %d, written after the fault (%d lines were written then): the faulted worker's tasks ran after others took them",
				i, dups[len(dups)-1], writtenAtFault[i])
		}
	}
}

// firstRunningElsewhere returns, per instance the faulted worker ran,
// when another worker first reported it RUNNING after at.
func (c *cluster) firstRunningElsewhere(faulted string, p placement, at time.Time, d time.Duration) map[string]time.Duration {
	c.t.Helper()
	out := map[string]time.Duration{}
	deadline := time.Now().Add(d)
	for {
		c.statusMu.Lock()
		for k, v := range p {
			if v.Worker != faulted || out[k] != 0 {
				continue
			}
			conn, task := k, -1
			if j := strings.LastIndexByte(k, '-'); j > 0 {
				if n, err := strconv.Atoi(k[j+1:]); err == nil && strings.Count(k, "-") == 2 {
					conn, task = k[:j], n
				}
			}
			key := "status-connector-" + conn
			if task >= 0 {
				key = fmt.Sprintf("status-task-%s-%d", conn, task)
			}
			for _, ev := range c.statusLog[key] {
				if ev.state == "RUNNING" && ev.worker != faulted && ev.at.After(at) {
					out[k] = ev.at.Sub(at)
					break
				}
			}
		}
		c.statusMu.Unlock()
		n := 0
		for _, v := range p {
			if v.Worker == faulted {
				n++
			}
		}
		if len(out) == n {
			return out
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("after %v only %v of the faulted worker's work runs elsewhere", d, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func maxDur(m map[string]time.Duration) time.Duration {
	var x time.Duration
	for _, d := range m {
		x = max(x, d)
	}
	return x
}

// victimRunning picks a worker that does not lead and runs a source task
// (the issue killed such a worker), else any worker that does not lead.
func (c *cluster) victimRunning(p placement) int {
	leader := c.leader()
	for _, k := range []string{"src-0-0", "src-1-0", "src-2-0"} {
		for i, w := range c.workers {
			if i != leader && p[k].Worker == w.id() {
				return i
			}
		}
	}
	return (leader + 1) % 3
}

var fsConns = []string{"src-0", "src-1", "src-2", "sink-0", "sink-1", "sink-2"}

// TestFileStreamKillDefaults is issue 18: kill -9 a worker running a pair
// with Connect's default timeouts; its work runs elsewhere after
// session.timeout.ms + scheduled.rebalance.max.delay.ms and nothing else
// moves, no task runs on two workers at once, pairs the killed worker did
// not run have every line exactly once.
func TestFileStreamKillDefaults(t *testing.T) {
	harness.EachBroker(t, func(t *testing.T, b *harness.Broker) { testFileStreamKill(t, b, connectDefaults, false) })
}

// TestFileStreamKillDuringRebalance kills a worker and at once creates a
// connector, so the survivors rejoin while the dead worker is still a
// member: their JoinGroups wait until the coordinator drops it,
// session.timeout.ms after its last heartbeat. A survivor must not be
// dropped meanwhile (issue 18: the leader was, kept running its tasks,
// and the third worker took them as well).
func TestFileStreamKillDuringRebalance(t *testing.T) {
	harness.EachBroker(t, func(t *testing.T, b *harness.Broker) { testFileStreamKill(t, b, connectDefaults, true) })
}

// TestFileStreamKillShort is the same with short timeouts, on real Kafka
// (the embedded broker runs the default-timeout and rebalance variants).
func TestFileStreamKillShort(t *testing.T) {
	short := timing{session: 3 * time.Second, heartbeat: 500 * time.Millisecond, rebalance: 10 * time.Second, delay: 3 * time.Second,
		extra: connectDefaults.extra}
	testFileStreamKill(t, harness.Kafka(t), short, false)
}

func testFileStreamKill(t *testing.T, b *harness.Broker, tm timing, rebalance bool) {
	c := newFSCluster(t, b, tm)
	tm = c.tm // the broker's minimum session may have raised it
	c.write(25 * time.Second)
	time.Sleep(5 * time.Second)
	p, err := c.placement(c.workers[0])
	if err != nil {
		t.Fatal(err)
	}
	victim := c.victimRunning(p)
	killed := c.workers[victim].id()
	var atKill [fsPairs]int64
	for i := range fsPairs {
		atKill[i] = c.written[i].Load()
	}
	t.Logf("killing worker %d (%s, leader is worker %d); placement %v", victim, killed, c.leader(), p)
	killAt := c.kill(victim)
	instances := 4 * fsPairs
	if rebalance {
		code, b, err := call("POST", c.workers[(victim+1)%3].url()+"connectors", map[string]any{"name": "extra",
			"config": map[string]string{"connector.class": "FileStreamSink", "file": filepath.Join(c.dir, "extra.txt"), "topics": "lines-x"}})
		if err != nil || code != 201 {
			t.Fatalf("create extra: HTTP %d %s %v", code, b, err)
		}
		instances += 2
	}
	// Every instance of the killed worker runs elsewhere in time.
	took := c.firstRunningElsewhere(killed, p, killAt, tm.session+tm.delay+30*time.Second)
	failover := maxDur(took)
	c.waitPlacement((victim+1)%3, 30*time.Second, "all RUNNING on the survivors", allRunning(instances, killed))
	delivered := c.waitDelivered(120 * time.Second)
	t.Logf("FAILOVER kill -9 (session.timeout.ms=%d heartbeat.interval.ms=%d rebalance.timeout.ms=%d scheduled.rebalance.max.delay.ms=%d): "+
		"the killed worker's instances RUNNING elsewhere after %v (max; each %v); every line delivered %v after the kill",
		tm.session.Milliseconds(), tm.heartbeat.Milliseconds(), tm.rebalance.Milliseconds(), tm.delay.Milliseconds(),
		failover.Round(time.Millisecond), roundAll(took), delivered.Sub(killAt).Round(time.Millisecond))
	// The coordinator drops the dead worker session.timeout.ms after its
	// last heartbeat (up to heartbeat.interval.ms before the kill); its work
	// is then held for the delay; the survivors learn of the rebalance with
	// their next heartbeat and take one more round for the release.
	if lo := tm.session - tm.heartbeat + tm.delay; failover < lo {
		t.Errorf("failover after %v, before session.timeout.ms − heartbeat.interval.ms + scheduled.rebalance.max.delay.ms = %v", failover, lo)
	}
	if hi := tm.session + tm.delay + 2*tm.heartbeat + 5*time.Second; failover > hi {
		t.Errorf("failover after %v, later than session.timeout.ms + scheduled.rebalance.max.delay.ms + 2 heartbeats + 5 s = %v", failover, hi)
	}
	// The survivors kept their own work: nothing moved but the killed
	// worker's (a leader that dropped out of the group would lose its).
	pEnd, err := c.placement(c.workers[(victim+1)%3])
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range p {
		if v.Worker != killed && pEnd[k].Worker != v.Worker {
			t.Errorf("%s moved from %s to %s though its worker was not killed", k, v.Worker, pEnd[k].Worker)
		}
	}
	c.checkDuplicates(killed, p, atKill)
	checkExclusiveFromStatuses(t, c.cluster, fsConns)
	checkExclusiveFromLogs(t, c.cluster, fsConns)
}

func roundAll(m map[string]time.Duration) string {
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	})
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%v", k, m[k].Round(time.Millisecond)))
	}
	return strings.Join(parts, " ")
}

// TestFileStreamZombie pauses a worker (SIGSTOP) for longer than
// session.timeout.ms + scheduled.rebalance.max.delay.ms, so the others take
// its work, then resumes it (SIGCONT): it must stop its tasks at once and
// rejoin, never running what the others took: its pairs repeat only lines
// written before the pause; the others have each line once.
func TestFileStreamZombie(t *testing.T) {
	harness.EachBroker(t, testFileStreamZombie)
}

func testFileStreamZombie(t *testing.T, b *harness.Broker) {
	tm := connectDefaults
	c := newFSCluster(t, b, tm)
	c.write(40 * time.Second)
	time.Sleep(5 * time.Second)
	p, err := c.placement(c.workers[0])
	if err != nil {
		t.Fatal(err)
	}
	victim := c.victimRunning(p)
	zombie := c.workers[victim].id()
	proc := c.workers[victim].cur()
	var atStop [fsPairs]int64
	for i := range fsPairs {
		atStop[i] = c.written[i].Load()
	}
	t.Logf("pausing worker %d (%s) with SIGSTOP; placement %v", victim, zombie, p)
	if err := proc.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stopAt := time.Now()
	var once sync.Once
	cont := func() { once.Do(func() { proc.cmd.Process.Signal(syscall.SIGCONT) }) }
	t.Cleanup(cont)
	took := c.firstRunningElsewhere(zombie, p, stopAt, tm.session+tm.delay+30*time.Second)
	t.Logf("ZOMBIE: the paused worker's instances RUNNING elsewhere after %v (max; each %v)", maxDur(took).Round(time.Millisecond), roundAll(took))
	time.Sleep(3 * time.Second) // the new owners are well under way
	cont()
	contAt := time.Now()
	c.workers[victim].pausedAt = append(c.workers[victim].pausedAt, [2]time.Time{stopAt, contAt})
	// The zombie notices at once and stops everything.
	deadline := time.Now().Add(10 * time.Second)
	var noticed time.Time
	for noticed.IsZero() {
		noticed = logTimeAfter(proc.log, `msg="stopping all work`, contAt.Add(-time.Second))
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(proc.log)
			t.Fatalf("the resumed worker did not stop its work within 10s:\n%s", tail(b, 4000))
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("ZOMBIE: resumed worker stopped all its work %v after SIGCONT", noticed.Sub(contAt).Round(time.Millisecond))
	if noticed.Sub(contAt) > time.Second {
		t.Errorf("the resumed worker took %v to stop its work", noticed.Sub(contAt))
	}
	// It rejoins and the cluster settles with every instance RUNNING.
	c.waitPlacement((victim+1)%3, 60*time.Second, "all RUNNING after the zombie rejoined", allRunning(4*fsPairs))
	c.waitDelivered(120 * time.Second)
	c.checkDuplicates(zombie, p, atStop)
	checkExclusiveFromStatuses(t, c.cluster, fsConns)
	checkExclusiveFromLogs(t, c.cluster, fsConns)
}

// logTimeAfter returns the time of the first line of the log at or after
// from that contains s (zero: none).
func logTimeAfter(path, s string, from time.Time) time.Time {
	b, _ := os.ReadFile(path)
	for _, l := range strings.Split(string(b), "\n") {
		if !strings.Contains(l, s) {
			continue
		}
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		at, err := time.Parse(time.RFC3339Nano, strings.TrimPrefix(f[0], "time="))
		if err == nil && !at.Before(from) {
			return at
		}
	}
	return time.Time{}
}

// TestFileStreamBrokerKill kills the group coordinator's broker (kill -9)
// under the FileStream writer on the three-broker cluster, and restarts it
// later. The group moves to another coordinator once the controller fenced
// the dead broker (broker.session.timeout.ms); meanwhile no worker can
// confirm its membership, so each may stop its work (the lease) and rejoin.
// Afterwards every instance is RUNNING again, on the worker that ran it
// before (nothing to move: no worker left), every line is delivered, and no
// task ran on two workers at once. The restart of the broker must not move
// anything either.
func TestFileStreamBrokerKill(t *testing.T) {
	b := harness.Kafka(t)
	if b.Cluster == nil || b.Cluster.Brokers() < 3 {
		t.Skip("needs the harness's three-broker cluster")
	}
	connect := connectDefaults
	connect.delay = 5 * time.Minute // Connect's default scheduled.rebalance.max.delay.ms
	for _, v := range []struct {
		name string
		tm   timing
		// keep: the lease outlasts the coordinator's move (Config.Lease),
		// so no worker stops anything and no line is repeated.
		keep bool
	}{
		{"connect-defaults", connect, true},
		// The delay of 3 s, below the stop timeouts: the lease is
		// session.timeout.ms, which a coordinator move (the controller
		// fences the dead broker after broker.session.timeout.ms, 9 s)
		// outlasts: every worker stops its work and gets it back.
		{"delay-3s", connectDefaults, false},
	} {
		t.Run(v.name, func(t *testing.T) { testFileStreamBrokerKill(t, harness.Kafka(t), v.tm, v.keep) })
	}
}

func testFileStreamBrokerKill(t *testing.T, b *harness.Broker, tm timing, keep bool) {
	c := newFSCluster(t, b, tm)
	tm = c.tm
	c.write(30 * time.Second)
	time.Sleep(5 * time.Second)
	p, err := c.placement(c.workers[0])
	if err != nil {
		t.Fatal(err)
	}
	// The coordinator of the workers' group: kill -9 its broker.
	ctx, cancel := contextTimeout(10 * time.Second)
	groups, err := c.admin.DescribeGroups(ctx, c.group)
	cancel()
	if err != nil || groups.Error() != nil {
		t.Fatalf("describe group %s: %v %v", c.group, err, groups.Error())
	}
	coord := int(groups[c.group].Coordinator.NodeID) - 1 // node ids are 1…n in the harness
	if coord < 0 || coord >= b.Cluster.Brokers() {
		t.Fatalf("coordinator node %d is not one of the harness's brokers", groups[c.group].Coordinator.NodeID)
	}
	t.Logf("killing broker %d (node %d, the group coordinator); placement %v", coord, coord+1, p)
	if err := b.Cluster.Kill(coord); err != nil {
		t.Fatal(err)
	}
	killAt := time.Now()
	restarted := false
	t.Cleanup(func() {
		if !restarted {
			ctx, cancel := contextTimeout(2 * time.Minute)
			defer cancel()
			_ = b.Cluster.Restart(ctx, coord)
		}
	})
	// Until a new coordinator has the group, the statuses (whose
	// partitions may have lost their leader too) can still say RUNNING for
	// work a lease stop ended: look only after the move.
	moved := c.waitCoordinatorMoved(int32(coord+1), 90*time.Second)
	t.Logf("the group moved to node %d %v after the kill", moved.node, moved.at.Sub(killAt).Round(time.Millisecond))
	time.Sleep(tm.session)
	pAfter := c.waitPlacement(0, tm.session+tm.delay+60*time.Second, "all RUNNING with a broker down", allRunning(4*fsPairs))
	t.Logf("BROKER KILL (session.timeout.ms=%d heartbeat.interval.ms=%d scheduled.rebalance.max.delay.ms=%d): all RUNNING %v after the kill: %v",
		tm.session.Milliseconds(), tm.heartbeat.Milliseconds(), tm.delay.Milliseconds(), time.Since(killAt).Round(time.Millisecond), pAfter)
	checkStayed(t, p, pAfter, "after the broker kill")

	ctx, cancel = contextTimeout(2 * time.Minute)
	err = b.Cluster.Restart(ctx, coord)
	cancel()
	if err != nil {
		t.Fatalf("restart broker %d: %v", coord, err)
	}
	restarted = true
	t.Logf("broker %d restarted %v after the kill", coord, time.Since(killAt).Round(time.Millisecond))
	delivered := c.waitDelivered(120 * time.Second)
	t.Logf("BROKER KILL: every line delivered %v after the kill", delivered.Sub(killAt).Round(time.Millisecond))
	if delivered.Sub(killAt) > time.Minute {
		// Not a failure (at least once, nothing lost), but slower than the
		// fault explains: keep what the sink tasks did for the record.
		for _, w := range c.workers {
			b, _ := os.ReadFile(w.cur().log)
			var lines []string
			for _, l := range strings.Split(string(b), "\n") {
				if strings.Contains(l, "sink-") && (strings.Contains(l, "task") || strings.Contains(l, "group") || strings.Contains(l, "fetch")) {
					lines = append(lines, l)
				}
			}
			t.Logf("slow delivery: worker %d sink lines:\n%s", w.i, strings.Join(lines, "\n"))
		}
	}
	pEnd := c.waitPlacement(0, 60*time.Second, "all RUNNING after the broker restart", allRunning(4*fsPairs))
	checkStayed(t, p, pEnd, "after the broker restart")
	// No worker was faulted: only the lease stop may repeat lines (a task
	// stopped before its offsets were committed), and only lines written
	// before the kill… plus those of the window without a coordinator.
	for i := range fsPairs {
		counts := c.lineCounts(i)
		total, dups := 0, 0
		for _, k := range counts {
			total += k
			if k > 1 {
				dups++
			}
		}
		t.Logf("pair %d: %d lines written for %d, %d duplicated", i, total, fsLines, dups)
		if keep && dups > 0 {
			t.Errorf("pair %d: %d lines repeated though no task stopped", i, dups)
		}
	}
	if keep {
		for _, w := range c.workers {
			if at := logTimeAfter(w.cur().log, `msg="stopping all work`, killAt.Add(-time.Minute)); !at.IsZero() {
				t.Errorf("worker %d stopped all its work %v after the broker kill, within its lease", w.i, at.Sub(killAt).Round(time.Millisecond))
			}
		}
	}
	checkExclusiveFromStatuses(t, c.cluster, fsConns)
	checkExclusiveFromLogs(t, c.cluster, fsConns)
}

// checkStayed fails for every instance that runs on another worker in
// after than in before (no worker left, so nothing had to move).
func checkStayed(t *testing.T, before, after placement, when string) {
	t.Helper()
	for k, v := range before {
		if after[k].Worker != v.Worker {
			t.Errorf("%s: %s moved from %s to %s though no worker left", when, k, v.Worker, after[k].Worker)
		}
	}
}

type coordinatorMove struct {
	node int32
	at   time.Time
}

// waitCoordinatorMoved waits until the workers' group has a stable
// generation on a coordinator other than node.
func (c *cluster) waitCoordinatorMoved(node int32, d time.Duration) coordinatorMove {
	c.t.Helper()
	deadline := time.Now().Add(d)
	for {
		// A fresh client each time: one that cached the dead coordinator
		// keeps dialing it.
		cl, err := kgo.NewClient(kgo.SeedBrokers(c.seeds()...))
		if err != nil {
			c.t.Fatal(err)
		}
		ctx, cancel := contextTimeout(5 * time.Second)
		groups, err := kadm.NewClient(cl).DescribeGroups(ctx, c.group)
		cancel()
		cl.Close()
		if err == nil && groups.Error() == nil {
			g := groups[c.group]
			if g.Coordinator.NodeID != node && g.State == "Stable" {
				return coordinatorMove{g.Coordinator.NodeID, time.Now()}
			}
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("the group %s is not stable on another coordinator than node %d after %v (last: %v)", c.group, node, d, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}
