package metrics

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

func scrape(t *testing.T, r *Registry) map[string]*dto.MetricFamily {
	t.Helper()
	rec := httptest.NewRecorder()
	r.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("status %d", rec.Code)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(rec.Body)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return fams
}

func value(fams map[string]*dto.MetricFamily, name string, labels map[string]string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.Metric {
		for k, v := range labels {
			found := false
			for _, lp := range m.Label {
				if lp.GetName() == k && lp.GetValue() == v {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

func TestRegistryCountersAndParse(t *testing.T) {
	r := New()
	src := r.Task("src", 0)
	sink := r.Task("sink", 1)
	src.SourcePolled(10)
	src.SourceWritten(10)
	src.SourceLagMillis(250)
	src.SnapshotProgress("shop.orders", 40, 100)
	sink.SinkRead(7)
	sink.SinkPut(7)
	sink.SinkWritten(4)
	sink.Failed("VALUE_CONVERTER")
	sink.Skipped()
	sink.DeadLettered()
	sink.SinkLag("orders", 2, 5)
	var nilTask *Task
	nilTask.SourcePolled(1) // must not panic
	r.SetStatusSource(func() []ConnectorStatus {
		return []ConnectorStatus{{Name: "src", State: "RUNNING", Tasks: []TaskStatus{{ID: 0, State: "RUNNING"}}}, {Name: "sink", State: "RUNNING", Tasks: []TaskStatus{{ID: 1, State: "FAILED"}}}}
	})

	fams := scrape(t, r)
	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"kafka_connect_source_task_source_record_poll_total", map[string]string{"connector": "src", "task": "0"}, 10},
		{"kafka_connect_source_task_source_record_write_total", map[string]string{"connector": "src"}, 10},
		{"kafka_connect_source_task_source_lag_ms", map[string]string{"connector": "src"}, 250},
		{"kafka_connect_snapshot_rows_scanned", map[string]string{"table": "shop.orders"}, 40},
		{"kafka_connect_snapshot_rows_estimated", map[string]string{"table": "shop.orders"}, 100},
		{"kafka_connect_sink_task_sink_record_read_total", map[string]string{"connector": "sink", "task": "1"}, 7},
		{"kafka_connect_sink_task_sink_record_send_total", map[string]string{"connector": "sink"}, 4},
		{"kafka_connect_task_error_total_record_failures", map[string]string{"stage": "VALUE_CONVERTER"}, 1},
		{"kafka_connect_task_error_total_records_skipped", map[string]string{"connector": "sink"}, 1},
		{"kafka_connect_task_error_deadletterqueue_produce_requests", map[string]string{"connector": "sink"}, 1},
		{"kafka_connect_sink_task_consumer_lag", map[string]string{"topic": "orders", "partition": "2"}, 5},
		{"kafka_connect_connector_task_batch_size", map[string]string{"connector": "src"}, 1},
		{"kafka_connect_connector_task_status", map[string]string{"connector": "sink", "status": "failed"}, 1},
		{"kafka_connect_connector_status", map[string]string{"connector": "src", "status": "running"}, 1},
		{"kafka_connect_worker_task_count", nil, 2},
	}
	for _, c := range checks {
		got, ok := value(fams, c.name, c.labels)
		if !ok || got != c.want {
			t.Errorf("%s%v = %v (found %v), want %v", c.name, c.labels, got, ok, c.want)
		}
	}
	if _, ok := fams["go_goroutines"]; !ok {
		t.Error("go collector missing")
	}

	src.SourcePolled(5)
	if got, _ := value(scrape(t, r), "kafka_connect_source_task_source_record_poll_total", map[string]string{"connector": "src"}); got != 15 {
		t.Errorf("counter did not move: %v", got)
	}
	r.Forget("src")
	if _, ok := value(scrape(t, r), "kafka_connect_source_task_source_record_poll_total", map[string]string{"connector": "src"}); ok {
		t.Error("forgotten connector still reported")
	}
	// Two registries are independent (no global state).
	if got, ok := value(scrape(t, New()), "kafka_connect_sink_task_sink_record_read_total", nil); ok {
		t.Errorf("fresh registry has data: %v", got)
	}
}

func TestOnScrapeAndCommits(t *testing.T) {
	r := New()
	task := r.Task("sink", 0)
	calls := 0
	r.OnScrape(func(ctx context.Context) {
		calls++
		task.SinkLag("orders", 0, int64(10*calls))
	})
	task.OffsetCommitted(nil)
	task.OffsetCommitted(errors.New("x"))
	fams := scrape(t, r)
	if v, _ := value(fams, "kafka_connect_sink_task_consumer_lag", map[string]string{"topic": "orders"}); v != 10 {
		t.Errorf("lag %v", v)
	}
	if v, _ := value(fams, "kafka_connect_connector_task_offset_commit_total", map[string]string{"result": "failure"}); v != 1 {
		t.Errorf("commit failures %v", v)
	}
	if v, _ := value(scrape(t, r), "kafka_connect_sink_task_consumer_lag", map[string]string{"topic": "orders"}); v != 20 {
		t.Errorf("lag not refreshed: %v", v)
	}
}
