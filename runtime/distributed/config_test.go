package distributed

import (
	"strings"
	"testing"
	"time"
)

// TestScheduledDelayCoversTaskStop: a delay before a departed worker's work
// moves that does not cover the time a cut-off worker takes to stop its
// tasks (README, "Keep scheduled.rebalance.max.delay.ms above
// task.shutdown.graceful.timeout.ms + offset.flush.timeout.ms") is warned
// about, naming the keys; Kafka Connect accepts it, so it starts.
func TestScheduledDelayCoversTaskStop(t *testing.T) {
	base := map[string]string{
		"bootstrap.servers": "localhost:9092", "group.id": "g",
		"config.storage.topic": "c", "offset.storage.topic": "o", "status.storage.topic": "s",
	}
	for _, tc := range []struct {
		extra map[string]string
		bad   bool
	}{
		{map[string]string{}, false}, // Connect's defaults: 300000 ≥ 5000 + 5000
		{map[string]string{"scheduled.rebalance.max.delay.ms": "3000"}, true},
		{map[string]string{"scheduled.rebalance.max.delay.ms": "0"}, true},
		{map[string]string{"scheduled.rebalance.max.delay.ms": "10000"}, false},
		{map[string]string{"scheduled.rebalance.max.delay.ms": "3000", "task.shutdown.graceful.timeout.ms": "1000", "offset.flush.timeout.ms": "1000"}, false},
		{map[string]string{"scheduled.rebalance.max.delay.ms": "60000", "task.shutdown.graceful.timeout.ms": "60000"}, true},
	} {
		raw := map[string]string{}
		for k, v := range base {
			raw[k] = v
		}
		for k, v := range tc.extra {
			raw[k] = v
		}
		c, err := ParseConfig(raw)
		if err != nil {
			t.Errorf("%v: %v", tc.extra, err)
			continue
		}
		warned := strings.Join(c.Warnings, "\n")
		if tc.bad {
			if !strings.Contains(warned, "scheduled.rebalance.max.delay.ms") || !strings.Contains(warned, "task.shutdown.graceful.timeout.ms") {
				t.Errorf("%v: warnings %q, want one naming the delay and the stop timeouts", tc.extra, c.Warnings)
			}
		} else if len(c.Warnings) > 0 {
			t.Errorf("%v: unexpected warnings %q", tc.extra, c.Warnings)
		}
	}
}

// The lease is session.timeout.ms plus the part of the rebalance delay a
// stop (task.shutdown.graceful.timeout.ms + offset.flush.timeout.ms, 5 s
// each by default) does not need.
func TestLease(t *testing.T) {
	for _, c := range []struct {
		delay string
		want  time.Duration
	}{
		{"300000", 10*time.Second + 290*time.Second}, // Connect's default delay
		{"3000", 10 * time.Second},                   // below the stop time: the session alone
		{"10000", 10 * time.Second},
		{"12000", 12 * time.Second},
	} {
		cfg, err := ParseConfig(map[string]string{"bootstrap.servers": "k:9092", "group.id": "g", "config.storage.topic": "c",
			"offset.storage.topic": "o", "status.storage.topic": "s", "scheduled.rebalance.max.delay.ms": c.delay})
		if err != nil {
			t.Fatal(err)
		}
		if got := cfg.Lease(); got != c.want {
			t.Errorf("delay %s ms: lease %v, want %v", c.delay, got, c.want)
		}
	}
}
