package main

import (
	"fmt"
	"io"
	"runtime"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
)

func numCPU() int { return runtime.NumCPU() }

func sortedStrings(s []string) []string { sort.Strings(s); return s }

// short is the one-line progress form of a result.
func (r result) short() string {
	s := fmt.Sprintf("%10.0f rows/s %8.1f MB/s  %6.1fs  peak RSS %4.0f MiB  CPU %5.1fs (broker %5.1fs)", r.rowsPerSec(), r.mbPerSec(), r.Seconds,
		float64(r.RSSKiB)/1024, r.CPUSeconds, r.BrokerCPU)
	if r.PeakHeapMiB > 0 {
		s += fmt.Sprintf("  peak heap %.0f MiB", r.PeakHeapMiB)
	}
	if r.ApplyP50 > 0 || r.AckP50 > 0 {
		s += fmt.Sprintf("  commit→acked p50 %.0f ms p99 %.0f ms, commit→applied p50 %.0f ms p99 %.0f ms", r.AckP50, r.AckP99, r.ApplyP50, r.ApplyP99)
	}
	return s
}

// targets from issue 10 (rows/s floors; 0: none).
var targets = map[string]string{
	stMariaCatchup:  "≥ 250k",
	stPgCatchup:     "≥ 80k",
	stMariaSnapshot: "≥ 150k",
	stPgSnapshot:    "≥ 150k",
	stMariaSink:     "≥ 100k",
	stPgSink:        "≥ 140k",
	stMariaLatency:  "p99 < 500 ms",
	stPgLatency:     "p99 < 500 ms",
}

// printTable prints one table of results; ratios compare a stage with its
// baseline in the same list (for medians: the median of the per-run
// ratios, passed in Note as computed by medians).
func printTable(w io.Writer, title string, rs []result, o options) {
	by := map[string]result{}
	for _, r := range rs {
		by[r.Stage] = r
	}
	fmt.Fprintf(w, "\n%s (%d rows per stage; peak RSS per stage process; target from issue 10):\n", title, o.rows)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "stage\trows/s\tMB/s\tp50 ms\tp99 ms\tpeak RSS MiB\tCPU s\tbroker CPU s\tbaseline\tratio\t÷ produce\ttarget\t")
	for _, st := range allStages {
		r, ok := by[st]
		if !ok {
			continue
		}
		p50, p99 := "", ""
		if r.ApplyP50 > 0 || r.AckP50 > 0 {
			p50 = fmt.Sprintf("%.0f / %.0f", r.AckP50, r.ApplyP50)
			p99 = fmt.Sprintf("%.0f / %.0f", r.AckP99, r.ApplyP99)
		}
		base, ratio, prod := "", "", ""
		if b, ok := baselineOf[st]; ok {
			base = b
			if r.ratio > 0 {
				ratio = fmt.Sprintf("%.2f", r.ratio)
			} else if br, ok := by[b]; ok && br.rowsPerSec() > 0 {
				ratio = fmt.Sprintf("%.2f", r.rowsPerSec()/br.rowsPerSec())
			}
		}
		if strings.HasSuffix(st, "-catchup") || strings.HasSuffix(st, "-snapshot") {
			if r.prodRatio > 0 {
				prod = fmt.Sprintf("%.2f", r.prodRatio)
			} else if pr, ok := by[stProduceCDC]; ok && pr.rowsPerSec() > 0 {
				prod = fmt.Sprintf("%.2f", r.rowsPerSec()/pr.rowsPerSec())
			}
		}
		fmt.Fprintf(tw, "%s\t%.0f\t%.1f\t%s\t%s\t%.0f\t%.1f\t%.1f\t%s\t%s\t%s\t%s\t\n", st, r.rowsPerSec(), r.mbPerSec(), p50, p99,
			float64(r.RSSKiB)/1024, r.CPUSeconds, r.BrokerCPU, base, ratio, prod, targets[st])
	}
	tw.Flush()
	fmt.Fprintln(w, "latency columns: commit → acked in Kafka / commit → visible in the target database.")
	if r, ok := by[stProduceCDC]; ok {
		fmt.Fprintf(w, "÷ produce: stage rows/s divided by kgo produce-only of same-size records (%s).\n", r.Note)
	}
}

// medians combines the runs: per stage the median rows/s, MB/s, latencies
// and RSS, and the median of the per-run ratios to the baselines.
func medians(all []result, runs int) []result {
	byStage := map[string][]result{}
	byRun := map[int]map[string]result{}
	for _, r := range all {
		byStage[r.Stage] = append(byStage[r.Stage], r)
		if byRun[r.Run] == nil {
			byRun[r.Run] = map[string]result{}
		}
		byRun[r.Run][r.Stage] = r
	}
	var out []result
	for _, st := range allStages {
		rs := byStage[st]
		if len(rs) == 0 {
			continue
		}
		med := func(f func(result) float64) float64 {
			xs := make([]float64, len(rs))
			for i, r := range rs {
				xs[i] = f(r)
			}
			return median(xs)
		}
		m := result{Stage: st, Rows: rs[0].Rows}
		rps := med(result.rowsPerSec)
		m.Seconds = float64(m.Rows) / rps
		m.Bytes = int64(med(result.mbPerSec) * 1e6 * m.Seconds)
		m.AckP50 = med(func(r result) float64 { return r.AckP50 })
		m.AckP99 = med(func(r result) float64 { return r.AckP99 })
		m.ApplyP50 = med(func(r result) float64 { return r.ApplyP50 })
		m.ApplyP99 = med(func(r result) float64 { return r.ApplyP99 })
		m.RSSKiB = int64(med(func(r result) float64 { return float64(r.RSSKiB) }))
		m.CPUSeconds = med(func(r result) float64 { return r.CPUSeconds })
		m.BrokerCPU = med(func(r result) float64 { return r.BrokerCPU })
		m.Note = rs[0].Note
		var ratios, prods []float64
		for _, r := range rs {
			if b, ok := baselineOf[st]; ok {
				if br, ok := byRun[r.Run][b]; ok && br.rowsPerSec() > 0 {
					ratios = append(ratios, r.rowsPerSec()/br.rowsPerSec())
				}
			}
			if pr, ok := byRun[r.Run][stProduceCDC]; ok && pr.rowsPerSec() > 0 {
				prods = append(prods, r.rowsPerSec()/pr.rowsPerSec())
			}
		}
		m.ratio, m.prodRatio = median(ratios), median(prods)
		out = append(out, m)
	}
	return out
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	xs = slices.Clone(xs)
	slices.Sort(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}
