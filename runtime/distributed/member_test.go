package distributed

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// rawMember is another worker of the group, speaking the protocol by hand
// so a test controls exactly when it falls silent (kill -9).
type rawMember struct {
	cl         *kgo.Client
	group      string
	url        string
	hb         time.Duration
	silent     atomic.Bool
	wentSilent chan time.Time

	mu   sync.Mutex
	id   string
	gens []rawGen // every generation it joined
}

// rawGen is a generation as a member's JoinGroup response showed it.
type rawGen struct {
	gen     int32
	leader  string
	members []string // only when this member leads
	at      time.Time
}

func newRawMember(t *testing.T, addrs []string, group, url string) *rawMember {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return &rawMember{cl: cl, group: group, url: url, hb: 100 * time.Millisecond, wentSilent: make(chan time.Time, 1)}
}

func (r *rawMember) ID() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.id
}

func (r *rawMember) generations() []rawGen {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.gens)
}

// run joins, syncs (assigning nothing when it leads) and heartbeats,
// rejoining on a rebalance, until ctx ends or it falls silent.
func (r *rawMember) run(ctx context.Context, session, rebalance time.Duration) {
	for ctx.Err() == nil {
		join := kmsg.NewPtrJoinGroupRequest()
		join.Group, join.MemberID, join.ProtocolType = r.group, r.ID(), protocolType
		join.SessionTimeoutMillis, join.RebalanceTimeoutMillis = int32(session.Milliseconds()), int32(rebalance.Milliseconds())
		p := kmsg.NewJoinGroupRequestProtocol()
		p.Name, p.Metadata = protocolCompatible, encodeMeta(memberMeta{URL: r.url})
		join.Protocols = append(join.Protocols, p)
		jr, err := join.RequestWith(ctx, r.cl)
		if err != nil {
			continue
		}
		if jr.ErrorCode != 0 {
			r.mu.Lock()
			r.id = jr.MemberID
			r.mu.Unlock()
			continue
		}
		g := rawGen{gen: jr.Generation, leader: jr.LeaderID, at: time.Now()}
		sync := kmsg.NewPtrSyncGroupRequest()
		sync.Group, sync.Generation, sync.MemberID = r.group, jr.Generation, jr.MemberID
		if jr.LeaderID == jr.MemberID {
			for _, m := range jr.Members {
				g.members = append(g.members, m.MemberID)
				ga := kmsg.NewSyncGroupRequestGroupAssignment()
				ga.MemberID, ga.MemberAssignment = m.MemberID, encodeAssignment(assignment{Leader: jr.MemberID, LeaderURL: r.url})
				sync.GroupAssignment = append(sync.GroupAssignment, ga)
			}
		}
		r.mu.Lock()
		r.id = jr.MemberID
		r.gens = append(r.gens, g)
		r.mu.Unlock()
		sr, err := sync.RequestWith(ctx, r.cl)
		if err != nil || sr.ErrorCode != 0 {
			continue
		}
		for ctx.Err() == nil {
			if sleepCtx(ctx, r.hb) != nil {
				return
			}
			hb := kmsg.NewPtrHeartbeatRequest()
			hb.Group, hb.Generation, hb.MemberID = r.group, jr.Generation, jr.MemberID
			resp, err := hb.RequestWith(ctx, r.cl)
			if r.silent.Load() {
				r.wentSilent <- time.Now() // its last heartbeat just went out
				return
			}
			if err != nil {
				continue
			}
			if resp.ErrorCode != 0 {
				if errors.Is(kerr.ErrorForCode(resp.ErrorCode), kerr.UnknownMemberID) {
					r.mu.Lock()
					r.id = ""
					r.mu.Unlock()
				}
				break
			}
		}
	}
}

// fakeHandler is a herder that runs pretend work and assigns nothing.
type fakeHandler struct {
	url string
	mu  sync.Mutex
	led map[int32][]string // generation → members, when leading
	gen int32              // last generation assigned
	// lostAt is when the work was last stopped (zero: never).
	lostAt  time.Time
	lostWhy string
}

func (f *fakeHandler) joinMeta() memberMeta {
	return memberMeta{URL: f.url, Allocation: &assignment{Assigned: work{Connectors: []string{"pretend"}}}}
}

func (f *fakeHandler) lead(_ context.Context, gen int32, leaderID string, members []joinedMember) (map[string]assignment, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]assignment{}
	var ids []string
	for _, m := range members {
		ids = append(ids, m.ID)
		out[m.ID] = assignment{Leader: leaderID, LeaderURL: f.url}
	}
	f.led[gen] = ids
	return out, nil
}

func (f *fakeHandler) assigned(_ context.Context, gen int32, _ string, _ assignment) bool {
	f.mu.Lock()
	f.gen = gen
	f.mu.Unlock()
	return false
}

func (f *fakeHandler) lost(reason string) {
	f.mu.Lock()
	f.lostAt, f.lostWhy = time.Now(), reason
	f.mu.Unlock()
}

func (f *fakeHandler) state() (gen int32, led map[int32][]string, lostAt time.Time, why string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	led = map[int32][]string{}
	for k, v := range f.led {
		led[k] = slices.Clone(v)
	}
	return f.gen, led, f.lostAt, f.lostWhy
}

func testLogger() *slog.Logger {
	if os.Getenv("TRIBUTARY_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// TestMemberStaysInGroupWhileJoining is issue 18's split brain at the
// protocol level. Three members: ours (the leader, running work) and two
// others; one of the others dies (falls silent right after a heartbeat)
// just as ours rejoins. Our JoinGroup then waits for the dead member
// until the coordinator expels it, session.timeout.ms after its last
// heartbeat, which is later than our own last heartbeat before the join.
// A member that sends no heartbeats while its JoinGroup waits is expelled
// first by a coordinator that does not keep waiting members alive (kfake
// does not; Apache Kafka does), its JoinGroup is never answered, and the
// third member forms a generation without it and takes its work, while it
// keeps running that work until rebalance.timeout.ms. Heartbeats must go
// on during the join, so ours stays in the group (it leads the next
// generation with the survivor); and if it ever is dropped, it must have
// stopped its work by the time the survivor leads a generation without it.
func TestMemberStaysInGroupWhileJoining(t *testing.T) {
	const (
		session   = 3 * time.Second
		heartbeat = time.Second
		rebalance = 30 * time.Second
	)
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.GroupMinSessionTimeout(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	addrs := c.ListenAddrs()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	const group = "split-brain"

	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	fh := &fakeHandler{url: "http://ours/", led: map[int32][]string{}}
	m := newMember(cl, group, session, rebalance, heartbeat, testLogger(), fh)
	mctx, mcancel := context.WithCancel(ctx)
	mdone := make(chan struct{})
	go func() { defer close(mdone); m.run(mctx) }()
	t.Cleanup(func() { mcancel(); <-mdone })
	waitFor(t, ctx, "our member leads a generation", func() bool { _, led, _, _ := fh.state(); return len(led) > 0 })

	dead := newRawMember(t, addrs, group, "http://dead/")
	rctx, rcancel := context.WithCancel(ctx)
	rdone := make(chan struct{})
	go func() { defer close(rdone); dead.run(rctx, session, rebalance) }()
	t.Cleanup(func() { rcancel(); <-rdone })
	// The survivor is a member like ours.
	acl, err := kgo.NewClient(kgo.SeedBrokers(addrs...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(acl.Close)
	ah := &fakeHandler{url: "http://alive/", led: map[int32][]string{}}
	alive := newMember(acl, group, session, rebalance, heartbeat, testLogger(), ah)
	actx, acancel := context.WithCancel(ctx)
	adone := make(chan struct{})
	go func() { defer close(adone); alive.run(actx) }()
	t.Cleanup(func() { acancel(); <-adone })
	idOf := func(m *member) string { m.mu.Lock(); defer m.mu.Unlock(); return m.memberID }

	// All three in one generation, ours leading.
	var gen3 int32
	waitFor(t, ctx, "one generation of three members", func() bool {
		gen, led, _, _ := fh.state()
		if ids := led[gen]; len(ids) == 3 && slices.Contains(ids, dead.ID()) && slices.Contains(ids, idOf(alive)) {
			gen3 = gen
			return true
		}
		return false
	})
	waitFor(t, ctx, "the others synced", func() bool {
		g := dead.generations()
		ag, _, _, _ := ah.state()
		return len(g) > 0 && g[len(g)-1].gen == gen3 && ag == gen3
	})
	// Let our member's heartbeat phase drift away from the dead member's
	// last heartbeat (sent every 100 ms).
	time.Sleep(1500 * time.Millisecond)
	dead.silent.Store(true)
	killAt := <-dead.wentSilent
	ourID, aliveID := idOf(m), idOf(alive)
	m.requestRejoin()
	t.Logf("dead member silent; ours (%s) rejoins", ourID)

	// The dead member is expelled session.timeout.ms after its last
	// heartbeat; then a generation forms of the two living members.
	deadline := killAt.Add(session + 5*time.Second)
	for time.Now().Before(deadline) {
		_, led, lostAt, why := fh.state()
		for g, ids := range led {
			if g > gen3 && len(ids) == 2 && slices.Contains(ids, aliveID) {
				if !lostAt.IsZero() {
					t.Errorf("our member stopped its work needlessly at +%v: %s", lostAt.Sub(killAt), why)
				}
				t.Logf("generation %d: ours leads %v, formed %v after the kill", g, ids, time.Since(killAt).Round(time.Millisecond))
				return
			}
		}
		_, aled, _, _ := ah.state()
		for g, ids := range aled {
			if g <= gen3 || slices.Contains(ids, ourID) {
				continue
			}
			// A generation without ours: it must have stopped its work.
			if lostAt.IsZero() {
				t.Fatalf("split brain: generation %d formed without our member %v after the kill (members %v), "+
					"while our member still ran its work", g, time.Since(killAt).Round(time.Millisecond), ids)
			}
			t.Logf("our member was dropped but had stopped its work: %s", why)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	_, led, lostAt, why := fh.state()
	_, aled, _, _ := ah.state()
	t.Fatalf("no generation of the two living members %v after the kill: ours led %v; lost at %v (%s); the survivor led %v",
		session+5*time.Second, led, lostAt, why, aled)
}

func waitFor(t *testing.T, ctx context.Context, what string, ok func() bool) {
	t.Helper()
	for !ok() {
		if ctx.Err() != nil {
			t.Fatalf("%s: not reached", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
