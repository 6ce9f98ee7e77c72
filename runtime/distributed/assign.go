package distributed

// The leader's assignor: incremental cooperative, as Connect's
// IncrementalCooperativeAssignor.
//
//   - Sticky: a member keeps the work it reports running (its allocation),
//     unless the work was deleted, or is revoked to balance the cluster.
//   - Two phases for moves: work taken from a member is only revoked in one
//     round; the member stops it and rejoins, and the next round gives it to
//     another member. So a connector or task never runs on two members that
//     followed the protocol.
//   - Lost work (its last owner left the group) is held for
//     scheduled.rebalance.max.delay.ms, so a worker that restarts gets its
//     own work back; after the delay it goes to the least loaded members.
//     A member coming back with the same worker ID gets it at once.
//   - Balanced: connectors and tasks are spread separately, each member
//     ending with ⌊n/m⌋ or ⌈n/m⌉ of each; while lost work is held nothing
//     is revoked.

import (
	"maps"
	"slices"
	"strings"
	"time"
)

// memberInfo is one member of a rebalance as the leader sees it.
type memberInfo struct {
	ID       string // group member ID
	URL      string // advertised REST URL
	WorkerID string // host:port, as in statuses
	Alloc    work   // work it runs now
}

// memberResult is the leader's decision for one member.
type memberResult struct {
	Full     work // what it runs after this round
	Assigned work // new work
	Revoked  work // work to stop before rejoining
}

// item is a connector instance (task -1) or a task.
type item struct {
	conn string
	task int
}

func (it item) isConnector() bool { return it.task == connectorTask }

// ownerHint tells a new leader (without memory of earlier rounds) who last
// ran an item: the worker ID and state of its latest status record.
type ownerHint func(it item) (workerID, state string, ok bool)

// assignor keeps the leader's memory between rounds.
type assignor struct {
	delay time.Duration
	// prevOwner is the worker ID each item was given to last time.
	prevOwner map[item]string
	// heldUntil is when held lost work is released to other members.
	heldUntil map[item]time.Time
	// fresh is set until the first round this worker leads: only then is
	// the status topic asked who ran what (ownerHint).
	fresh bool
}

func newAssignor(delay time.Duration) *assignor {
	return &assignor{delay: delay, prevOwner: map[item]string{}, heldUntil: map[item]time.Time{}, fresh: true}
}

// forget drops the memory (this worker is no longer the leader).
func (a *assignor) forget() {
	clear(a.prevOwner)
	clear(a.heldUntil)
	a.fresh = true
}

// assign computes every member's work for the configured connectors
// (connector name → task count). It returns the results by member ID and
// how long members should wait before rejoining so held work is released
// (0: no held work).
func (a *assignor) assign(now time.Time, members []memberInfo, configured map[string]int, hint ownerHint) (map[string]memberResult, time.Duration) {
	members = slices.Clone(members)
	slices.SortFunc(members, func(x, y memberInfo) int {
		if c := strings.Compare(x.WorkerID, y.WorkerID); c != 0 {
			return c
		}
		return strings.Compare(x.ID, y.ID)
	})
	valid := func(it item) bool {
		n, ok := configured[it.conn]
		return ok && (it.isConnector() || (it.task >= 0 && it.task < n))
	}
	byWorker := map[string]int{} // worker ID → index of its member
	for i, m := range members {
		if _, dup := byWorker[m.WorkerID]; !dup {
			byWorker[m.WorkerID] = i
		}
	}

	// Keep what members run, dropping deleted work and duplicates.
	full := make([]map[item]bool, len(members))
	revoked := make([]map[item]bool, len(members))
	owned := map[item]bool{}
	for i, m := range members {
		full[i], revoked[i] = map[item]bool{}, map[item]bool{}
		for _, it := range items(m.Alloc) {
			if !valid(it) || owned[it] {
				revoked[i][it] = true
				continue
			}
			owned[it] = true
			full[i][it] = true
		}
	}

	// Work nobody runs: new, released, or lost.
	var unowned []item
	for c, n := range configured {
		for t := connectorTask; t < n; t++ {
			if it := (item{c, t}); !owned[it] {
				unowned = append(unowned, it)
			}
		}
	}
	slices.SortFunc(unowned, compareItem)
	var toPlace []item
	var held time.Time
	heldFor := map[item]string{} // held item → its last owner
	for _, it := range unowned {
		prev, known := a.prevOwner[it]
		if !known && a.fresh && hint != nil {
			// The worker that last reported it, when it is here (it
			// stopped its work after losing its lease, or a leader
			// change cost the memory): back to it. Work a departed
			// worker released (UNASSIGNED) is placed at once, work it
			// ran when it vanished is held for it.
			if w, st, ok := hint(it); ok && w != "" && st != "DESTROYED" {
				if _, here := byWorker[w]; here || st != "UNASSIGNED" {
					prev, known = w, true
				}
			}
		}
		if !known {
			toPlace = append(toPlace, it)
			continue
		}
		if i, ok := byWorker[prev]; ok {
			// Its owner is here (released it, or came back): give it back.
			full[i][it] = true
			delete(a.heldUntil, it)
			continue
		}
		until, ok := a.heldUntil[it]
		if !ok {
			until = now.Add(a.delay)
			a.heldUntil[it] = until
		}
		if now.Before(until) {
			if held.IsZero() || until.Before(held) {
				held = until
			}
			heldFor[it] = prev
			continue
		}
		delete(a.heldUntil, it)
		toPlace = append(toPlace, it)
	}
	for it := range a.heldUntil {
		if !valid(it) || owned[it] {
			delete(a.heldUntil, it)
		}
	}

	count := func(i int, conn bool) (kind, total int) {
		for it := range full[i] {
			if it.isConnector() == conn {
				kind++
			}
		}
		return kind, len(full[i])
	}
	if len(members) > 0 {
		for _, it := range toPlace {
			best, bk, bt := -1, 0, 0
			for i := range members {
				k, t := count(i, it.isConnector())
				if best < 0 || k < bk || (k == bk && t < bt) {
					best, bk, bt = i, k, t
				}
			}
			full[best][it] = true
		}
	}

	// Balance by revoking from members above the ceiling, unless work is
	// held (Connect does not revoke while a delay is pending).
	if held.IsZero() && len(members) > 1 {
		for _, conn := range []bool{true, false} {
			total := 0
			for i := range members {
				k, _ := count(i, conn)
				total += k
			}
			ceil := (total + len(members) - 1) / len(members)
			floor := total / len(members)
			needy := false
			for i := range members {
				if k, _ := count(i, conn); k < floor {
					needy = true
				}
			}
			if !needy {
				continue
			}
			for i := range members {
				k, _ := count(i, conn)
				if k <= ceil {
					continue
				}
				var mine []item
				for it := range full[i] {
					if it.isConnector() == conn {
						mine = append(mine, it)
					}
				}
				slices.SortFunc(mine, compareItem)
				for _, it := range mine[len(mine)-(k-ceil):] {
					delete(full[i], it)
					revoked[i][it] = true
				}
			}
		}
	}

	out := make(map[string]memberResult, len(members))
	clear(a.prevOwner)
	for i, m := range members {
		cur := map[item]bool{}
		for _, it := range items(m.Alloc) {
			cur[it] = true
		}
		var res memberResult
		var fullList, assigned, rev []item
		for it := range full[i] {
			fullList = append(fullList, it)
			a.prevOwner[it] = m.WorkerID
			if !cur[it] {
				assigned = append(assigned, it)
			}
		}
		for it := range revoked[i] {
			if cur[it] {
				rev = append(rev, it)
			}
		}
		res.Full, res.Assigned, res.Revoked = toWork(fullList), toWork(assigned), toWork(rev)
		out[m.ID] = res
	}
	// Held work stays remembered by its last owner.
	maps.Copy(a.prevOwner, heldFor)
	a.fresh = false
	var delay time.Duration
	if !held.IsZero() {
		delay = max(held.Sub(now), time.Millisecond)
	}
	return out, delay
}

func compareItem(a, b item) int {
	if c := strings.Compare(a.conn, b.conn); c != 0 {
		return c
	}
	return a.task - b.task
}

func items(w work) []item {
	out := make([]item, 0, w.size())
	for _, c := range w.Connectors {
		out = append(out, item{c, connectorTask})
	}
	for _, t := range w.Tasks {
		out = append(out, item{t.Connector, t.Task})
	}
	return out
}

func toWork(its []item) work {
	var w work
	slices.SortFunc(its, compareItem)
	for _, it := range its {
		if it.isConnector() {
			w.Connectors = append(w.Connectors, it.conn)
		} else {
			w.Tasks = append(w.Tasks, taskID{Connector: it.conn, Task: it.task})
		}
	}
	return w
}

// workSet turns work into a set of items.
func workSet(w work) map[item]bool {
	s := map[item]bool{}
	for _, it := range items(w) {
		s[it] = true
	}
	return s
}

// apply returns cur minus revoked plus assigned.
func apply(cur, assigned, revoked work) work {
	s := workSet(cur)
	for it := range workSet(revoked) {
		delete(s, it)
	}
	maps.Copy(s, workSet(assigned))
	return toWork(slices.Collect(maps.Keys(s)))
}
