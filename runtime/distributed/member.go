package distributed

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-cdc/tributary/runtime/kafka"
)

// memberHandler is what the group member asks of the herder.
type memberHandler interface {
	// joinMeta returns the metadata of the next join: the config offset
	// read and the work running here.
	joinMeta() memberMeta
	// lead computes every member's assignment (this worker is the leader).
	lead(ctx context.Context, generation int32, leaderID string, members []joinedMember) (map[string]assignment, error)
	// assigned applies this member's assignment: revoked work is stopped
	// before it returns. It reports whether the member must rejoin at once.
	assigned(ctx context.Context, generation int32, memberID string, a assignment) (rejoin bool)
	// lost stops all work: the membership ended (or may have ended) without
	// a revocation, so the leader may give the work to others.
	lost(reason string)
}

// joinedMember is a member as the leader's JoinGroup response lists it.
type joinedMember struct {
	ID   string
	Meta memberMeta
}

// member runs Kafka's group membership protocol (JoinGroup, SyncGroup,
// Heartbeat, LeaveGroup) with protocol type "connect", as Connect's
// WorkerGroupMember does, over a plain franz-go client (kgo routes the
// requests to the group coordinator).
//
// Heartbeats come from a goroutine of their own, as Connect's heartbeat
// thread: they keep going while a JoinGroup or SyncGroup waits and while
// the herder applies an assignment (stopping revoked tasks may take a
// while), so a member is never dropped by the coordinator because it was
// busy or waiting in a rebalance. A coordinator that answers a heartbeat
// with UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID or (outside a rebalance)
// ILLEGAL_GENERATION has dropped this member: it stops all its work
// (handler.lost) before it joins again, and any JoinGroup or SyncGroup
// still waiting is abandoned (a coordinator need not answer the requests
// of a member it dropped).
//
// It also keeps the worker's lease: when the coordinator has answered
// nothing for the lease (session.timeout.ms, plus the part of
// scheduled.rebalance.max.delay.ms a stop does not need: Config.Lease;
// heartbeats are answered during a rebalance too, with
// REBALANCE_IN_PROGRESS), the coordinator may have expelled this worker and
// the leader may soon give its work away, so it stops its work itself
// (handler.lost) before another worker can start it.
type member struct {
	cl        *kgo.Client
	group     string
	session   time.Duration
	lease     time.Duration // without a coordinator answer, the work stops after this (Config.Lease; session by default)
	rebalance time.Duration
	heartbeat time.Duration
	log       *slog.Logger
	h         memberHandler

	rejoinCh    chan struct{} // the herder asks for a rebalance
	rebalanceCh chan struct{} // a heartbeat saw the coordinator start one

	// lastContact is when the last request the coordinator answered as
	// from a member of the group was sent (unix nanos).
	lastContact atomic.Int64
	hasWork     atomic.Bool
	lossPending atomic.Bool // leaseHeld started stopping the work

	// lossMu is held while the work is being stopped after the membership
	// was lost: a new round waits for it, so nothing is rejoined with work
	// still running that the leader may give away.
	lossMu sync.Mutex

	mu         sync.Mutex
	memberID   string
	generation int32
	joining    bool               // a JoinGroup/SyncGroup of this round is pending
	cancel     context.CancelFunc // ends the current round's requests
	lostRound  bool               // lost() ran during the current round
}

func newMember(cl *kgo.Client, group string, session, rebalance, heartbeat time.Duration, log *slog.Logger, h memberHandler) *member {
	return &member{cl: cl, group: group, session: session, lease: session, rebalance: rebalance, heartbeat: heartbeat,
		log: log, h: h, rejoinCh: make(chan struct{}, 1), rebalanceCh: make(chan struct{}, 1), generation: -1}
}

// requestRejoin asks for a rebalance (the leader does after config changes).
func (m *member) requestRejoin() {
	select {
	case m.rejoinCh <- struct{}{}:
	default:
	}
}

// setHasWork tells the lease watchdog whether there is work to stop.
func (m *member) setHasWork(b bool) { m.hasWork.Store(b) }

// run takes part in the group until ctx ends, then leaves it.
func (m *member) run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); m.watchdog(ctx) }()
	go func() { defer wg.Done(); m.heartbeats(ctx) }()
	defer wg.Wait()
	backoff := 200 * time.Millisecond
	for ctx.Err() == nil {
		if err := m.round(ctx); err != nil {
			if ctx.Err() != nil {
				break
			}
			m.log.Warn("group round failed; rejoining", "group", m.group, "err", err, "backoff", backoff)
			_ = sleepCtx(ctx, backoff)
			backoff = min(backoff*2, 5*time.Second)
			continue
		}
		backoff = 200 * time.Millisecond
	}
	m.leave()
}

// watchdog stops the work when the lease ran out.
func (m *member) watchdog(ctx context.Context) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !m.hasWork.Load() {
			continue
		}
		last := time.Unix(0, m.lastContact.Load())
		if time.Since(last) <= m.lease {
			continue
		}
		m.loseWork(fmt.Sprintf("no answer from the group coordinator for %v (lease %v)", time.Since(last).Round(time.Millisecond), m.lease))
	}
}

// leaseHeld reports whether the coordinator answered within
// session.timeout.ms. When it did not, the work is stopped (as the watchdog
// does at its next tick), so a task that asked and holds its batch back is
// stopped soon.
func (m *member) leaseHeld() bool {
	last := time.Unix(0, m.lastContact.Load())
	if time.Since(last) <= m.lease {
		return true
	}
	if m.lossPending.CompareAndSwap(false, true) {
		go func() {
			defer m.lossPending.Store(false)
			m.loseWork(fmt.Sprintf("no answer from the group coordinator for %v (lease %v)", time.Since(last).Round(time.Millisecond), m.lease))
		}()
	}
	return false
}

// contact records that the coordinator answered a request sent at sent as
// from a member of the group.
func (m *member) contact(sent time.Time) {
	for {
		old := m.lastContact.Load()
		if sent.UnixNano() <= old || m.lastContact.CompareAndSwap(old, sent.UnixNano()) {
			return
		}
	}
}

// loseWork stops all work (handler.lost) and ends the current round, so
// the member rejoins reporting that it runs nothing.
func (m *member) loseWork(reason string) {
	m.lossMu.Lock()
	defer m.lossMu.Unlock()
	m.mu.Lock()
	m.lostRound = true
	cancel := m.cancel
	m.mu.Unlock()
	m.hasWork.Store(false)
	m.h.lost(reason)
	if cancel != nil {
		cancel()
	}
}

// resetMember forgets the membership memberID/gen (unless a newer one
// replaced it), ends the round's pending requests and stops all work.
func (m *member) resetMember(memberID string, gen int32, reason string) {
	m.mu.Lock()
	if m.memberID != memberID || (gen >= 0 && m.generation != gen) {
		m.mu.Unlock()
		return // a later membership: the answer is about an old one
	}
	m.memberID, m.generation = "", -1
	m.mu.Unlock()
	m.log.Warn("group membership lost; stopping all work before rejoining", "group", m.group, "reason", reason)
	m.loseWork("group membership lost: " + reason)
}

// round is one join, sync and the wait until the next rebalance.
func (m *member) round(ctx context.Context) error {
	// Work stopped after a lost membership is stopped before we rejoin.
	m.lossMu.Lock()
	m.lossMu.Unlock() //nolint:staticcheck // a barrier
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	m.mu.Lock()
	memberID := m.memberID
	m.lostRound = false
	m.joining = true
	m.cancel = cancel
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		m.joining = false
		m.cancel = nil
		m.mu.Unlock()
	}()
	// A rebalance a heartbeat saw before now is the one this join answers.
	select {
	case <-m.rebalanceCh:
	default:
	}

	meta := m.h.joinMeta()
	join := kmsg.NewPtrJoinGroupRequest()
	join.Group = m.group
	join.SessionTimeoutMillis = int32(m.session.Milliseconds())
	join.RebalanceTimeoutMillis = int32(m.rebalance.Milliseconds())
	join.ProtocolType = protocolType
	join.MemberID = memberID
	p := kmsg.NewJoinGroupRequestProtocol()
	p.Name = protocolCompatible
	p.Metadata = encodeMeta(meta)
	join.Protocols = append(join.Protocols, p)
	sent := time.Now()
	jresp, err := join.RequestWith(rctx, m.cl)
	if err != nil {
		if rctx.Err() != nil && ctx.Err() == nil {
			return nil // dropped meanwhile (resetMember): join anew
		}
		return fmt.Errorf("join group %s: %w", m.group, err)
	}
	if err := kerr.ErrorForCode(jresp.ErrorCode); err != nil {
		switch {
		case errors.Is(err, kerr.MemberIDRequired):
			m.mu.Lock()
			m.memberID = jresp.MemberID
			m.mu.Unlock()
			return nil
		case errors.Is(err, kerr.UnknownMemberID), errors.Is(err, kerr.IllegalGeneration), errors.Is(err, kerr.FencedInstanceID):
			m.resetMember(memberID, -1, "join group: "+err.Error())
			return nil
		case errors.Is(err, kerr.RebalanceInProgress):
			return nil
		}
		return fmt.Errorf("join group %s: %w", m.group, err)
	}
	m.contact(sent)
	memberID = jresp.MemberID
	gen := jresp.Generation
	m.mu.Lock()
	m.memberID, m.generation = memberID, gen
	m.mu.Unlock()

	sync := kmsg.NewPtrSyncGroupRequest()
	sync.Group = m.group
	sync.Generation = gen
	sync.MemberID = memberID
	sync.ProtocolType = kmsg.StringPtr(protocolType)
	sync.Protocol = kmsg.StringPtr(protocolCompatible)
	if jresp.LeaderID == memberID {
		members := make([]joinedMember, 0, len(jresp.Members))
		for _, jm := range jresp.Members {
			md, err := decodeMeta(jm.ProtocolMetadata)
			if err != nil {
				m.log.Warn("member metadata unreadable; the member gets no work this round", "member", jm.MemberID, "err", err)
				continue
			}
			members = append(members, joinedMember{ID: jm.MemberID, Meta: md})
		}
		as, err := m.h.lead(rctx, gen, memberID, members)
		if err != nil {
			return fmt.Errorf("assign: %w", err)
		}
		for id, a := range as {
			ga := kmsg.NewSyncGroupRequestGroupAssignment()
			ga.MemberID = id
			ga.MemberAssignment = encodeAssignment(a)
			sync.GroupAssignment = append(sync.GroupAssignment, ga)
		}
	}
	sent = time.Now()
	sresp, err := sync.RequestWith(rctx, m.cl)
	if err != nil {
		if rctx.Err() != nil && ctx.Err() == nil {
			return nil
		}
		return fmt.Errorf("sync group %s: %w", m.group, err)
	}
	if err := kerr.ErrorForCode(sresp.ErrorCode); err != nil {
		switch {
		case errors.Is(err, kerr.UnknownMemberID), errors.Is(err, kerr.FencedInstanceID):
			m.resetMember(memberID, gen, "sync group: "+err.Error())
			return nil
		case errors.Is(err, kerr.RebalanceInProgress), errors.Is(err, kerr.IllegalGeneration):
			return nil
		}
		return fmt.Errorf("sync group %s: %w", m.group, err)
	}
	m.contact(sent)
	a, err := decodeAssignment(sresp.MemberAssignment)
	if err != nil {
		return err
	}
	m.mu.Lock()
	if m.memberID != memberID || m.generation != gen {
		m.mu.Unlock()
		return nil // dropped while syncing: nothing of this generation starts
	}
	m.joining = false
	m.mu.Unlock()

	// Heartbeats go on while the assignment is applied (stopping revoked
	// tasks may take a while) and until the next rebalance.
	m.hasWork.Store(true)
	rejoin := m.h.assigned(rctx, gen, memberID, a)
	m.mu.Lock()
	if m.lostRound {
		rejoin = true // the work we reported is no longer running
	}
	m.mu.Unlock()
	if rejoin || rctx.Err() != nil {
		return nil
	}
	var delay <-chan time.Time
	if a.DelayMS > 0 {
		t := time.NewTimer(time.Duration(a.DelayMS) * time.Millisecond)
		defer t.Stop()
		delay = t.C
	}
	select {
	case <-m.rebalanceCh:
	case <-m.rejoinCh:
	case <-delay:
	case <-rctx.Done():
	}
	return nil
}

// heartbeats sends a heartbeat every heartbeat.interval.ms for as long as
// the member has a generation, whatever the rounds do.
func (m *member) heartbeats(ctx context.Context) {
	t := time.NewTicker(m.heartbeat)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		m.mu.Lock()
		memberID, gen := m.memberID, m.generation
		m.mu.Unlock()
		if memberID == "" || gen < 0 {
			continue // not a member yet
		}
		req := kmsg.NewPtrHeartbeatRequest()
		req.Group, req.Generation, req.MemberID = m.group, gen, memberID
		sent := time.Now()
		rctx, cancel := context.WithTimeout(ctx, m.session)
		resp, err := req.RequestWith(rctx, m.cl)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			m.log.Warn("heartbeat failed", "group", m.group, "err", err)
			continue
		}
		err = kerr.ErrorForCode(resp.ErrorCode)
		m.mu.Lock()
		current := m.memberID == memberID && m.generation == gen
		joining := m.joining
		m.mu.Unlock()
		switch {
		case err == nil:
			m.contact(sent)
		case errors.Is(err, kerr.RebalanceInProgress):
			// Still a member; the coordinator waits for our JoinGroup.
			m.contact(sent)
			if current && !joining {
				select {
				case m.rebalanceCh <- struct{}{}:
				default:
				}
			}
		case errors.Is(err, kerr.IllegalGeneration):
			// The group moved to a newer generation: ours if our
			// JoinGroup is pending or was answered meanwhile, else the
			// group went on without us.
			if current && !joining {
				m.resetMember(memberID, gen, "heartbeat: "+err.Error())
			}
		case errors.Is(err, kerr.UnknownMemberID), errors.Is(err, kerr.FencedInstanceID):
			m.resetMember(memberID, -1, "heartbeat: "+err.Error())
		default:
			m.log.Warn("heartbeat error", "group", m.group, "err", err)
		}
	}
}

// leave sends LeaveGroup so the others rebalance at once.
func (m *member) leave() {
	m.mu.Lock()
	id := m.memberID
	m.mu.Unlock()
	if id == "" {
		return
	}
	if err := kafka.LeaveGroup(context.Background(), m.cl, m.group, id); err != nil {
		m.log.Warn("leave group", "group", m.group, "err", err)
	}
}
