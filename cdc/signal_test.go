package cdc

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"
)

// Formats from Debezium's ExecuteSnapshot/StopSnapshot/AbstractSnapshotSignal
// (data-collections as whole-name regular expressions, type defaulting to
// incremental, additional-conditions matched case-insensitively) and its
// documentation's signal examples.
func TestParseSnapshotRequest(t *testing.T) {
	r, err := ParseSnapshotRequest(`{"data-collections": ["inv\\.orders", " inv.lines "], "type": "INCREMENTAL",
		"additional-conditions": [{"data-collection": "inv.ORDERS", "filter": "status = 'open'"}]}`, false)
	if err != nil {
		t.Fatal(err)
	}
	if r.Type != SnapshotTypeIncremental || !reflect.DeepEqual(r.DataCollections, []string{`inv\.orders`, "inv.lines"}) {
		t.Fatalf("%+v", r)
	}
	if got := r.Condition("inv.orders"); got != "status = 'open'" {
		t.Errorf("condition %q", got)
	}
	if got := r.Condition("inv.lines"); got != "" {
		t.Errorf("condition for inv.lines %q", got)
	}
	if r, err := ParseSnapshotRequest(`{"data-collections": ["a.b"], "type": "blocking"}`, false); err != nil || r.Type != SnapshotTypeBlocking {
		t.Errorf("blocking: %+v %v", r, err)
	}
	for _, bad := range []string{`{}`, `{"data-collections": []}`, `{"data-collections": [1]}`, `{"data-collections": ["a.b"], "type": "full"}`,
		`{"data-collections": ["a.(b"]}`, `not json`} {
		if _, err := ParseSnapshotRequest(bad, false); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	// stop-snapshot without collections stops everything
	if r, err := ParseSnapshotRequest(`{"type": "incremental"}`, true); err != nil || r.DataCollections != nil {
		t.Errorf("stop all: %+v %v", r, err)
	}
	if r, err := ParseSnapshotRequest("", true); err != nil || r.Type != SnapshotTypeIncremental {
		t.Errorf("stop, no data: %+v %v", r, err)
	}
}

func TestMatchCollections(t *testing.T) {
	known := []string{"inv.a", "inv.b", "inv.ab", "other.a"}
	got := MatchCollections([]string{`inv\.a.*`, "inv.b", "inv.a", "missing.t"}, known)
	if want := []string{"inv.a", "inv.ab", "inv.b", "missing.t"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %v want %v", got, want)
	}
}

func TestLogSignalMessage(t *testing.T) {
	msg, err := LogSignalMessage(`{"message": "signal at {} and {}"}`, "pos=4")
	if err != nil || msg != "signal at pos=4 and {}" {
		t.Errorf("%q %v", msg, err)
	}
	if _, err := LogSignalMessage(`{}`, nil); err == nil {
		t.Error("empty message accepted")
	}
}

// The queue as Debezium's SnapshotDataCollection.computeJsonString writes it
// (Jackson, List<LinkedHashMap<String, String>>, absent values as null, the
// condition in parentheses as DataCollection.getAdditionalCondition gives it).
func TestIncrementalStateOffset(t *testing.T) {
	s := &IncrementalState{
		Collections: []SnapshotCollection{{ID: "inv.orders", Condition: "(status = 'a<b')", CorrelationID: "sig-1"}, {ID: "inv.lines"}},
		LastKey:     []any{int32(1001)}, MaxKey: []any{int32(5000)}, CorrelationID: "sig-1",
	}
	m := map[string]any{"file": "binlog.000001"}
	if err := s.Store(m); err != nil {
		t.Fatal(err)
	}
	want := `[{"incremental_snapshot_collections_id":"inv.orders","incremental_snapshot_collections_additional_condition":"(status = 'a<b')","incremental_snapshot_collections_surrogate_key":null,"incremental_snapshot_collections_correlation_id":"sig-1"},` +
		`{"incremental_snapshot_collections_id":"inv.lines","incremental_snapshot_collections_additional_condition":null,"incremental_snapshot_collections_surrogate_key":null,"incremental_snapshot_collections_correlation_id":null}]`
	if m[OffIncrementalCollections] != want {
		t.Errorf("collections\n got %s\nwant %s", m[OffIncrementalCollections], want)
	}
	back, err := LoadIncrementalState(m)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, s) {
		t.Errorf("round trip: %+v\nwant %+v", back, s)
	}
	// a table not started yet: lastEventKeySent and maximumKey are Java null
	s.LastKey, s.MaxKey = nil, nil
	if err := s.Store(m); err != nil || m[OffIncrementalPrimaryKey] != "aced000570" {
		t.Errorf("null key: %v %v", m[OffIncrementalPrimaryKey], err)
	}
	if st, err := LoadIncrementalState(map[string]any{"file": "x"}); err != nil || st.Running() {
		t.Errorf("no state: %v %v", st, err)
	}
}

// The file channel reads one JSON signal a line, skips malformed lines and
// empties the file (Debezium's FileSignalChannel).
func TestFileSignals(t *testing.T) {
	f := filepath.Join(t.TempDir(), "signals.txt")
	if err := os.WriteFile(f, []byte(`{"id": "1", "type": "log", "data": {"message": "hi"}}`+"\n\nnot json\n"+`{"id": 2, "type": "stop-snapshot", "data": {}}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	var got []Signal
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = RunFileSignals(ctx, &SignalConfig{File: f, PollInterval: 20 * time.Millisecond}, slog.New(slog.DiscardHandler), func(s Signal) {
			mu.Lock()
			got = append(got, s)
			mu.Unlock()
		})
	}()
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n >= 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	want := []Signal{{ID: "1", Type: "log", Data: `{"message": "hi"}`, Channel: ChannelFile}, {ID: "2", Type: "stop-snapshot", Data: "{}", Channel: ChannelFile}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	if b, _ := os.ReadFile(f); len(b) != 0 {
		t.Errorf("signal file not emptied: %q", b)
	}
}
