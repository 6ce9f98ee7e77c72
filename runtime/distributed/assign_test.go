package distributed

import (
	"fmt"
	"reflect"
	"testing"
	"time"
)

func TestProtocolRoundTrip(t *testing.T) {
	a := assignment{Error: assignNoError, Leader: "m-1", LeaderURL: "http://w1:8083/", ConfigOffset: 42,
		Assigned: work{Connectors: []string{"a"}, Tasks: []taskID{{"a", 0}, {"b", 2}}},
		Revoked:  work{Tasks: []taskID{{"c", 1}}}, DelayMS: 1500}
	got, err := decodeAssignment(encodeAssignment(a))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Assigned.sorted(), a.Assigned.sorted()) || !reflect.DeepEqual(got.Revoked.sorted(), a.Revoked.sorted()) ||
		got.Leader != a.Leader || got.LeaderURL != a.LeaderURL || got.ConfigOffset != 42 || got.DelayMS != 1500 {
		t.Fatalf("round trip: %+v", got)
	}
	// Connect's layout: version 1, error 0, then strings with int16 lengths.
	b := encodeAssignment(assignment{Leader: "L", LeaderURL: "U", ConfigOffset: 7})
	want := []byte{0, 1, 0, 0, 0, 1, 'L', 0, 1, 'U', 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	if !reflect.DeepEqual(b, want) {
		t.Fatalf("bytes % x, want % x", b, want)
	}
	m := memberMeta{URL: "http://w2:8083/", ConfigOffset: 9, Allocation: &a}
	gm, err := decodeMeta(encodeMeta(m))
	if err != nil || gm.URL != m.URL || gm.ConfigOffset != 9 || gm.Allocation == nil || gm.Allocation.Assigned.size() != 3 {
		t.Fatalf("meta round trip: %+v %v", gm, err)
	}
	if gm, err := decodeMeta(encodeMeta(memberMeta{URL: "u"})); err != nil || gm.Allocation != nil {
		t.Fatalf("meta without allocation: %+v %v", gm, err)
	}
	if _, err := decodeAssignment([]byte{0, 1, 0}); err == nil {
		t.Fatal("truncated assignment accepted")
	}
}

// cluster simulates members that follow the protocol: they apply the
// leader's decision and report it as their allocation next round.
type simCluster struct {
	a       *assignor
	members map[string]*memberInfo
	conf    map[string]int
	now     time.Time
}

func newSim(conf map[string]int, workers ...string) *simCluster {
	s := &simCluster{a: newAssignor(10 * time.Second), members: map[string]*memberInfo{}, conf: conf, now: time.Unix(1000, 0)}
	for _, w := range workers {
		s.join(w)
	}
	return s
}

func (s *simCluster) join(w string) {
	s.members[w] = &memberInfo{ID: "id-" + w, URL: "http://" + w + "/", WorkerID: w}
}

func (s *simCluster) round(t *testing.T) (revokedAny bool, delay time.Duration) {
	t.Helper()
	var ms []memberInfo
	for _, m := range s.members {
		ms = append(ms, *m)
	}
	res, delay := s.a.assign(s.now, ms, s.conf, nil)
	for _, m := range s.members {
		r := res[m.ID]
		next := apply(m.Alloc, r.Assigned, r.Revoked)
		if !reflect.DeepEqual(next.sorted(), r.Full.sorted()) {
			t.Fatalf("%s: alloc %v + %v - %v = %v, leader says %v", m.WorkerID, m.Alloc, r.Assigned, r.Revoked, next, r.Full)
		}
		for it := range workSet(r.Assigned) {
			for _, o := range s.members {
				if o != m && workSet(o.Alloc)[it] && !workSet(res[o.ID].Revoked)[it] {
					t.Fatalf("%v given to %s while %s still runs it", it, m.WorkerID, o.WorkerID)
				}
				if o != m && workSet(o.Alloc)[it] {
					t.Fatalf("%v given to %s in the round %s revokes it", it, m.WorkerID, o.WorkerID)
				}
			}
		}
		m.Alloc = next
		revokedAny = revokedAny || !r.Revoked.empty()
	}
	return revokedAny, delay
}

// settle runs rounds until nothing is revoked (members rejoin at once after
// a revocation).
func (s *simCluster) settle(t *testing.T) time.Duration {
	t.Helper()
	for i := 0; i < 5; i++ {
		rev, delay := s.round(t)
		if !rev {
			return delay
		}
	}
	t.Fatal("no stable assignment after 5 rounds")
	return 0
}

func (s *simCluster) counts() map[string][2]int {
	out := map[string][2]int{}
	for w, m := range s.members {
		out[w] = [2]int{len(m.Alloc.Connectors), len(m.Alloc.Tasks)}
	}
	return out
}

func (s *simCluster) check(t *testing.T, want map[string][2]int) {
	t.Helper()
	if got := s.counts(); !reflect.DeepEqual(got, want) {
		t.Fatalf("connectors/tasks per worker = %v, want %v", got, want)
	}
	seen := map[item]string{}
	for w, m := range s.members {
		for _, it := range items(m.Alloc) {
			if o, dup := seen[it]; dup {
				t.Fatalf("%v on %s and %s", it, o, w)
			}
			seen[it] = w
		}
	}
}

func sixConnectors() map[string]int {
	conf := map[string]int{}
	for i := range 6 {
		conf[fmt.Sprintf("c%d", i)] = 1
	}
	return conf
}

func TestAssignBalancedAndSticky(t *testing.T) {
	s := newSim(sixConnectors(), "w1", "w2", "w3")
	if d := s.settle(t); d != 0 {
		t.Fatalf("delay %v", d)
	}
	s.check(t, map[string][2]int{"w1": {2, 2}, "w2": {2, 2}, "w3": {2, 2}})
	before := map[string]string{}
	for w, m := range s.members {
		before[w] = m.Alloc.String()
	}
	// Another round changes nothing (sticky).
	s.settle(t)
	for w, m := range s.members {
		if m.Alloc.String() != before[w] {
			t.Fatalf("%s moved from %s to %s", w, before[w], m.Alloc)
		}
	}
	// A new connector with 3 tasks goes to the least loaded members.
	s.conf["big"] = 3
	s.settle(t)
	total := 0
	for _, c := range s.counts() {
		total += c[0] + c[1]
		if c[1] < 2 || c[1] > 3 || c[0] < 2 || c[0] > 3 {
			t.Fatalf("unbalanced: %v", s.counts())
		}
	}
	if total != 7+9 {
		t.Fatalf("total %d", total)
	}
	// Deleting it revokes its work.
	delete(s.conf, "big")
	s.settle(t)
	s.check(t, map[string][2]int{"w1": {2, 2}, "w2": {2, 2}, "w3": {2, 2}})
}

func TestAssignLostWorkHeldThenMoved(t *testing.T) {
	s := newSim(sixConnectors(), "w1", "w2", "w3")
	s.settle(t)
	lost := s.members["w3"].Alloc
	delete(s.members, "w3")
	s.now = s.now.Add(time.Second)
	d := s.settle(t)
	if d != 10*time.Second {
		t.Fatalf("delay %v, want the full 10s", d)
	}
	s.check(t, map[string][2]int{"w1": {2, 2}, "w2": {2, 2}})
	s.now = s.now.Add(4 * time.Second)
	if d := s.settle(t); d != 6*time.Second {
		t.Fatalf("delay %v, want the remaining 6s", d)
	}
	s.now = s.now.Add(6 * time.Second)
	if d := s.settle(t); d != 0 {
		t.Fatalf("delay %v after release", d)
	}
	s.check(t, map[string][2]int{"w1": {3, 3}, "w2": {3, 3}})
	for it := range workSet(lost) {
		if !workSet(s.members["w1"].Alloc)[it] && !workSet(s.members["w2"].Alloc)[it] {
			t.Fatalf("lost %v not reassigned", it)
		}
	}
	// w3 comes back: it gets a share again (revoked from the others first).
	s.join("w3")
	s.settle(t)
	s.check(t, map[string][2]int{"w1": {2, 2}, "w2": {2, 2}, "w3": {2, 2}})
}

func TestAssignReturningWorkerGetsItsWorkBack(t *testing.T) {
	s := newSim(sixConnectors(), "w1", "w2", "w3")
	s.settle(t)
	mine := s.members["w2"].Alloc.String()
	delete(s.members, "w2")
	s.now = s.now.Add(time.Second)
	s.settle(t)
	s.join("w2") // restarted: same worker ID, nothing running
	s.now = s.now.Add(3 * time.Second)
	if d := s.settle(t); d != 0 {
		t.Fatalf("delay %v", d)
	}
	if got := s.members["w2"].Alloc.String(); got != mine {
		t.Fatalf("w2 got %s back, had %s", got, mine)
	}
}

func TestAssignNewLeaderUsesStatuses(t *testing.T) {
	conf := map[string]int{"a": 1}
	a := newAssignor(10 * time.Second)
	now := time.Unix(0, 0)
	hint := func(it item) (string, string, bool) { return "dead:8083", "RUNNING", true }
	res, d := a.assign(now, []memberInfo{{ID: "x", WorkerID: "w1:8083"}}, conf, hint)
	if d == 0 || !res["x"].Full.empty() {
		t.Fatalf("work of a dead worker assigned at once by a new leader: %+v %v", res, d)
	}
	// Released work (UNASSIGNED) is placed at once.
	a = newAssignor(10 * time.Second)
	hint = func(it item) (string, string, bool) { return "dead:8083", "UNASSIGNED", true }
	res, d = a.assign(now, []memberInfo{{ID: "x", WorkerID: "w1:8083"}}, conf, hint)
	if d != 0 || res["x"].Full.size() != 2 {
		t.Fatalf("released work: %+v %v", res, d)
	}
	// Work stopped by a worker that is in the round (its lease ran out
	// while the group coordinator moved) goes back to it, not to the least
	// loaded member.
	a = newAssignor(10 * time.Second)
	hint = func(it item) (string, string, bool) { return "w2:8083", "UNASSIGNED", true }
	res, d = a.assign(now, []memberInfo{{ID: "x", WorkerID: "w1:8083"}, {ID: "y", WorkerID: "w2:8083"}}, conf, hint)
	if d != 0 || res["y"].Full.size() != 2 || !res["x"].Full.empty() {
		t.Fatalf("work its worker stopped did not go back to it: %+v %v", res, d)
	}
}
