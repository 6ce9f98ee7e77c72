package runtime_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/filestream"
	"github.com/tributary-cdc/tributary/runtime"
	"github.com/tributary-cdc/tributary/schema"
)

// stuckSource's first task ignores cancellation: its Poll returns an error
// only after hold, long after the worker gave up waiting for it.
type stuckSource struct {
	filestream.Source
	runs *atomic.Int32
	hold time.Duration
}

func (stuckSource) Class() string     { return "test.StuckSource" }
func (stuckSource) Aliases() []string { return nil }
func (s stuckSource) NewTask() connector.SourceTask {
	return &stuckTask{first: s.runs.Add(1) == 1, hold: s.hold}
}

type stuckTask struct {
	first bool
	hold  time.Duration
}

func (*stuckTask) Start(context.Context, map[string]string, connector.TaskContext) error { return nil }
func (s *stuckTask) Poll(ctx context.Context) ([]schema.Record, error) {
	if s.first {
		time.Sleep(s.hold) // deaf to ctx
		return nil, errors.New("late failure of the abandoned run")
	}
	select {
	case <-ctx.Done():
	case <-time.After(50 * time.Millisecond):
	}
	return nil, nil
}
func (*stuckTask) Commit(context.Context, []connector.Offset) error { return nil }
func (*stuckTask) Stop() error                                      { return nil }

// TestAbandonedRunDoesNotReportItsEnd: a task run that does not stop within
// task.shutdown.graceful.timeout.ms + offset.flush.timeout.ms is abandoned;
// when it ends later, its FAILED must not replace the state of the run that
// replaced it (a distributed worker that stopped everything after losing its
// lease and got the task back saw its RUNNING overwritten by the old run's
// late end and the task listed UNASSIGNED for good).
func TestAbandonedRunDoesNotReportItsEnd(t *testing.T) {
	const hold = 2 * time.Second
	src := stuckSource{runs: &atomic.Int32{}, hold: hold}
	w := newWorker(t, t.TempDir(), map[string]string{"task.shutdown.graceful.timeout.ms": "100", "offset.flush.timeout.ms": "100"}, src)
	ctx := context.Background()
	if err := w.CreateConnector(ctx, "stuck", map[string]string{"connector.class": "test.StuckSource", "topic": "x"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "RUNNING", 10*time.Second, func() bool {
		st, _ := w.TaskStatus("stuck", 0)
		return st.State == runtime.Running && src.runs.Load() == 1
	})
	time.Sleep(100 * time.Millisecond) // the first run is inside its Poll
	restartedAt := time.Now()
	if err := w.RestartTask(ctx, "stuck", 0); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the second run", 5*time.Second, func() bool { return src.runs.Load() == 2 })
	// The abandoned run fails hold after it began; look well after that.
	time.Sleep(time.Until(restartedAt.Add(hold + time.Second)))
	if st, _ := w.TaskStatus("stuck", 0); st.State != runtime.Running {
		t.Fatalf("task state %s (trace %q) after the abandoned run ended; the running replacement must keep RUNNING", st.State, st.Trace)
	}
}
