package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-cdc/tributary/internal/dbserver"
)

// ackHook notes when each record of the latency topic was acknowledged
// by the broker (the producer's per-record completion).
type ackHook struct {
	topic string
	base  time.Time
	acks  []atomic.Int64
}

func (h *ackHook) OnProduceRecordUnbuffered(r *kgo.Record, err error) {
	if err != nil || r.Topic != h.topic {
		return
	}
	if id, ok := keyID(r.Key); ok && id >= 0 && id < int64(len(h.acks)) {
		h.acks[id].CompareAndSwap(0, int64(time.Since(h.base))+1)
	}
}

// latencyStage runs a CDC source and a JDBC sink into the other database
// while a writer commits rows at a steady rate into the source table, and
// measures, per row, DB commit → record acknowledged by Kafka and DB commit
// → row visible in the target table.
func latencyStage(ctx context.Context, c *child, fromMaria bool) (result, error) {
	p := c.p
	var (
		src, dst *dbserver.Database
		topic    string
		srcCfg   map[string]string
	)
	if fromMaria {
		src, dst = p.Maria, p.Postgres
		prefix := fmt.Sprintf("lm%d", p.Run)
		topic = fmt.Sprintf("%s.%s.%s", prefix, p.MariaCDC.Name, p.Table)
		srcCfg = mariaSourceConfig(p, prefix, p.Table, "no_data")
	} else {
		src, dst = p.Postgres, p.Maria
		prefix := fmt.Sprintf("lp%d", p.Run)
		topic = fmt.Sprintf("%s.public.%s", prefix, p.Table)
		srcCfg = pgSourceConfig(p, prefix, p.Table, "no_data", "filtered")
	}
	capacity := int(float64(p.LatRate)*p.LatDuration.Seconds()) + p.LatRate + 16
	base := time.Now()
	commits := make([]atomic.Int64, capacity)
	visible := make([]atomic.Int64, capacity)
	hook := &ackHook{topic: topic, base: base, acks: make([]atomic.Int64, capacity)}
	bc := &byteCounter{topic: topic}
	w, err := c.worker(ctx, bc, hook)
	if err != nil {
		return result{}, err
	}
	defer closeWorker(w)
	sinkCfg := sinkConfig(p, dst, p.Table)
	sinkCfg["topics"] = topic
	sinkCfg["auto.create"] = "true"
	sinkCfg["delete.enabled"] = "true"
	if err := w.CreateConnector(ctx, "source", srcCfg); err != nil {
		return result{}, err
	}
	if err := w.CreateConnector(ctx, "sink", sinkCfg); err != nil {
		return result{}, err
	}
	sconn, err := src.Connect(ctx)
	if err != nil {
		return result{}, err
	}
	defer sconn.Close()
	dconn, err := dst.Connect(ctx)
	if err != nil {
		return result{}, err
	}
	defer dconn.Close()
	pg := src.Kind == dbserver.KindPostgres

	// Warm up: row 0 must arrive before the clock starts (connectors
	// streaming, target table created). The source starts streaming from
	// wherever the log is when it connects, so the row is updated every
	// second until a change of it arrives.
	if err := insertRows(ctx, sconn, pg, p.Table, 0, 0); err != nil {
		return result{}, err
	}
	deadline := time.Now().Add(5 * time.Minute)
	lastTouch := time.Now()
	for {
		if time.Since(lastTouch) > time.Second {
			if _, err := sconn.ExecContext(ctx, "UPDATE "+p.Table+" SET v = v + 1 WHERE id = 0"); err != nil {
				return result{}, err
			}
			lastTouch = time.Now()
		}
		var n int64
		if err := dconn.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+p.Table+" WHERE id = 0").Scan(&n); err == nil && n == 1 {
			break
		}
		if err := failure(w, "source", "sink"); err != nil {
			return result{}, err
		}
		if time.Now().After(deadline) {
			return result{}, fmt.Errorf("warm-up row did not reach the target within 5 minutes")
		}
		time.Sleep(50 * time.Millisecond)
	}

	if err := c.begin(); err != nil {
		return result{}, err
	}
	// Poller: the highest id visible in the target; the sink applies a
	// partition's records in order, so every id up to it is visible.
	var seen atomic.Int64
	pctx, stopPoll := context.WithCancel(ctx)
	pollDone := make(chan struct{})
	go func() {
		defer close(pollDone)
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-pctx.Done():
				return
			case <-t.C:
			}
			var m int64
			if err := dconn.QueryRowContext(pctx, "SELECT COALESCE(MAX(id), 0) FROM "+p.Table).Scan(&m); err != nil {
				continue
			}
			now := int64(time.Since(base)) + 1
			for id := seen.Load() + 1; id <= m && id < int64(capacity); id++ {
				visible[id].Store(now)
			}
			if m > seen.Load() {
				seen.Store(m)
			}
		}
	}()
	defer func() { stopPoll(); <-pollDone }()

	// Writer: every 10 ms, commit the rows due by then in one transaction.
	start := time.Now()
	var last int64
	tick := time.NewTicker(10 * time.Millisecond)
	for time.Since(start) < p.LatDuration {
		select {
		case <-ctx.Done():
			tick.Stop()
			return result{}, ctx.Err()
		case <-tick.C:
		}
		due := int64(time.Since(start).Seconds() * float64(p.LatRate))
		due = min(due, int64(capacity-1), last+5000)
		if due <= last {
			continue
		}
		if err := insertRows(ctx, sconn, pg, p.Table, last+1, due); err != nil {
			tick.Stop()
			return result{}, err
		}
		now := int64(time.Since(base)) + 1
		for id := last + 1; id <= due; id++ {
			commits[id].Store(now)
		}
		last = due
	}
	tick.Stop()
	writeSecs := time.Since(start).Seconds()

	deadline = time.Now().Add(5 * time.Minute)
	for seen.Load() < last {
		if err := failure(w, "source", "sink"); err != nil {
			return result{}, err
		}
		if time.Now().After(deadline) {
			return result{}, fmt.Errorf("only %d of %d rows visible in the target 5 minutes after the writer stopped", seen.Load(), last)
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.end()

	var ack, apply []float64
	for id := int64(1); id <= last; id++ {
		cm := commits[id].Load()
		if a := hook.acks[id].Load(); a > 0 {
			ack = append(ack, float64(a-cm)/1e6)
		}
		if v := visible[id].Load(); v > 0 {
			apply = append(apply, float64(v-cm)/1e6)
		}
	}
	res := result{Rows: last, Seconds: writeSecs, Bytes: bc.produced.Load()}
	res.AckP50, res.AckP99, _ = percentiles(ack)
	res.ApplyP50, res.ApplyP99, res.ApplyMax = percentiles(apply)
	res.Note = fmt.Sprintf("writer %.0f rows/s; %d acks seen", float64(last)/writeSecs, len(ack))
	return res, nil
}

func percentiles(xs []float64) (p50, p99, mx float64) {
	if len(xs) == 0 {
		return 0, 0, 0
	}
	slices.Sort(xs)
	at := func(q float64) float64 { return xs[min(len(xs)-1, int(q*float64(len(xs))))] }
	return at(0.50), at(0.99), xs[len(xs)-1]
}

// insertRows commits rows lo..hi (the generated row shape) in one
// multi-row INSERT.
func insertRows(ctx context.Context, db *sqlx.DB, pg bool, table string, lo, hi int64) error {
	var sb strings.Builder
	fmt.Fprintf(&sb, "INSERT INTO %s (id, v, s, d, ts) VALUES ", table)
	for i := lo; i <= hi; i++ {
		id, v, s, d, ts := row(i)
		if i > lo {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, "(%d,%d,'%s',%s,'%s')", id, v, s, d.StringFixed(2), ts.Format("2006-01-02 15:04:05"))
	}
	if _, err := db.ExecContext(ctx, sb.String()); err != nil {
		return fmt.Errorf("insert rows %d–%d: %w", lo, hi, err)
	}
	return nil
}
