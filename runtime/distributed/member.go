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
// It also keeps the worker's lease: when the coordinator has not answered
// for session.timeout.ms (outside a rebalance, whose requests may take up
// to rebalance.timeout.ms), the coordinator may already have expelled this
// worker, so it stops its work itself (handler.lost) before the leader can
// give the work to another worker.
type member struct {
	cl        *kgo.Client
	group     string
	session   time.Duration
	rebalance time.Duration
	heartbeat time.Duration
	log       *slog.Logger
	h         memberHandler

	rejoinCh chan struct{}

	// lastContact is when the last request the coordinator answered was
	// sent (unix nanos); inFlight is when the pending JoinGroup/SyncGroup
	// was sent (0: none).
	lastContact atomic.Int64
	inFlight    atomic.Int64
	hasWork     atomic.Bool

	mu         sync.Mutex
	memberID   string
	generation int32
	lostRound  bool // lost() ran during the current round
}

func newMember(cl *kgo.Client, group string, session, rebalance, heartbeat time.Duration, log *slog.Logger, h memberHandler) *member {
	return &member{cl: cl, group: group, session: session, rebalance: rebalance, heartbeat: heartbeat,
		log: log, h: h, rejoinCh: make(chan struct{}, 1)}
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
	wg.Add(1)
	go func() { defer wg.Done(); m.watchdog(ctx) }()
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
		if time.Since(last) <= m.session {
			continue
		}
		if f := m.inFlight.Load(); f != 0 && time.Since(time.Unix(0, f)) <= m.rebalance {
			continue // the coordinator keeps members that wait in a rebalance
		}
		m.loseWork(fmt.Sprintf("no answer from the group coordinator for %v (session.timeout.ms)", time.Since(last).Round(time.Millisecond)))
	}
}

func (m *member) loseWork(reason string) {
	m.mu.Lock()
	m.lostRound = true
	m.mu.Unlock()
	m.hasWork.Store(false)
	m.h.lost(reason)
}

func (m *member) resetMember(reason string) {
	m.mu.Lock()
	m.memberID, m.generation = "", -1
	m.mu.Unlock()
	m.loseWork(reason)
}

// round is one join, sync and the heartbeats until the next rebalance.
func (m *member) round(ctx context.Context) error {
	m.mu.Lock()
	memberID := m.memberID
	m.lostRound = false
	m.mu.Unlock()

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
	m.inFlight.Store(sent.UnixNano())
	jresp, err := join.RequestWith(ctx, m.cl)
	if err != nil {
		m.inFlight.Store(0)
		return fmt.Errorf("join group %s: %w", m.group, err)
	}
	if err := kerr.ErrorForCode(jresp.ErrorCode); err != nil {
		m.inFlight.Store(0)
		switch {
		case errors.Is(err, kerr.MemberIDRequired):
			m.mu.Lock()
			m.memberID = jresp.MemberID
			m.mu.Unlock()
			m.lastContact.Store(sent.UnixNano())
			return nil
		case errors.Is(err, kerr.UnknownMemberID), errors.Is(err, kerr.IllegalGeneration), errors.Is(err, kerr.FencedInstanceID):
			m.resetMember("group membership lost: " + err.Error())
			return nil
		case errors.Is(err, kerr.RebalanceInProgress):
			return nil
		}
		return fmt.Errorf("join group %s: %w", m.group, err)
	}
	m.lastContact.Store(sent.UnixNano())
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
		as, err := m.h.lead(ctx, gen, memberID, members)
		if err != nil {
			m.inFlight.Store(0)
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
	sresp, err := sync.RequestWith(ctx, m.cl)
	m.inFlight.Store(0)
	if err != nil {
		return fmt.Errorf("sync group %s: %w", m.group, err)
	}
	if err := kerr.ErrorForCode(sresp.ErrorCode); err != nil {
		switch {
		case errors.Is(err, kerr.UnknownMemberID), errors.Is(err, kerr.FencedInstanceID):
			m.resetMember("group membership lost: " + err.Error())
			return nil
		case errors.Is(err, kerr.RebalanceInProgress), errors.Is(err, kerr.IllegalGeneration):
			return nil
		}
		return fmt.Errorf("sync group %s: %w", m.group, err)
	}
	m.lastContact.Store(sent.UnixNano())
	a, err := decodeAssignment(sresp.MemberAssignment)
	if err != nil {
		return err
	}

	// Heartbeats run while the assignment is applied (stopping revoked
	// tasks may take a while) and until the next rebalance.
	hctx, hcancel := context.WithCancel(ctx)
	hbDone := make(chan error, 1)
	go func() { hbDone <- m.heartbeats(hctx, gen, memberID) }()
	defer func() { hcancel() }()

	m.hasWork.Store(true)
	rejoin := m.h.assigned(ctx, gen, memberID, a)
	m.mu.Lock()
	if m.lostRound {
		rejoin = true // the work we reported is no longer running
	}
	m.mu.Unlock()
	if rejoin {
		hcancel()
		<-hbDone
		return nil
	}
	var delay <-chan time.Time
	if a.DelayMS > 0 {
		t := time.NewTimer(time.Duration(a.DelayMS) * time.Millisecond)
		defer t.Stop()
		delay = t.C
	}
	select {
	case err := <-hbDone:
		return err
	case <-m.rejoinCh:
	case <-delay:
	case <-ctx.Done():
	}
	hcancel()
	<-hbDone
	return nil
}

// heartbeats sends heartbeats every heartbeat.interval.ms until ctx ends
// (nil) or the coordinator starts a rebalance (nil) or drops the member.
func (m *member) heartbeats(ctx context.Context, gen int32, memberID string) error {
	t := time.NewTicker(m.heartbeat)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		req := kmsg.NewPtrHeartbeatRequest()
		req.Group, req.Generation, req.MemberID = m.group, gen, memberID
		sent := time.Now()
		rctx, cancel := context.WithTimeout(ctx, m.session)
		resp, err := req.RequestWith(rctx, m.cl)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			m.log.Warn("heartbeat failed", "group", m.group, "err", err)
			continue
		}
		err = kerr.ErrorForCode(resp.ErrorCode)
		switch {
		case err == nil:
			m.lastContact.Store(sent.UnixNano())
		case errors.Is(err, kerr.RebalanceInProgress):
			m.lastContact.Store(sent.UnixNano())
			return nil
		case errors.Is(err, kerr.UnknownMemberID), errors.Is(err, kerr.IllegalGeneration), errors.Is(err, kerr.FencedInstanceID):
			m.resetMember("group membership lost: " + err.Error())
			return nil
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
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req := kmsg.NewPtrLeaveGroupRequest()
	req.Group = m.group
	req.MemberID = id
	mi := kmsg.NewLeaveGroupRequestMember()
	mi.MemberID = id
	req.Members = append(req.Members, mi)
	if _, err := req.RequestWith(ctx, m.cl); err != nil {
		m.log.Warn("leave group", "group", m.group, "err", err)
	}
}
