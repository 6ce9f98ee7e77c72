package distributed

import (
	"strings"
	"testing"
)

// TestScheduledDelayCoversTaskStop: the delay before a departed worker's
// work moves must cover the time a cut-off worker takes to stop its tasks
// (README, "Keep scheduled.rebalance.max.delay.ms above
// task.shutdown.graceful.timeout.ms + offset.flush.timeout.ms").
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
		_, err := ParseConfig(raw)
		if tc.bad {
			if err == nil || !strings.Contains(err.Error(), "scheduled.rebalance.max.delay.ms") || !strings.Contains(err.Error(), "task.shutdown.graceful.timeout.ms") {
				t.Errorf("%v: err %v, want the delay refused naming the stop timeouts", tc.extra, err)
			}
		} else if err != nil {
			t.Errorf("%v: %v", tc.extra, err)
		}
	}
}
