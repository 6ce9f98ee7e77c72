package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"
)

// options are the command-line flags.
type options struct {
	rows        int
	stages      string
	runs        int
	cpuprofile  string
	memprofile  string
	latRate     int
	latDuration time.Duration
	sinkBatch   int
	flushMs     int
	workDir     string
	keep        bool
	jsonOut     string
	gobench     bool
	noSchemas   bool
}

func main() {
	if len(os.Args) > 2 && os.Args[1] == "-child" {
		os.Exit(childMain(os.Args[2]))
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.IntVar(&o.rows, "rows", 1_000_000, "rows per stage")
	fs.StringVar(&o.stages, "stages", "catchup,snapshot,sink,latency",
		"stages to run, comma-separated: catchup, snapshot, sink, latency (each with its baselines); "+
			"or single stages such as mariadb-catchup, postgres-sink, produce")
	fs.IntVar(&o.runs, "runs", 1, "runs of every stage (the summary shows medians)")
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "directory for one CPU profile per stage and run (<stage>-run<N>.pprof)")
	fs.StringVar(&o.memprofile, "memprofile", "", "directory for one heap profile per stage and run, taken when the heap in use peaked (<stage>-run<N>.heap)")
	fs.IntVar(&o.latRate, "latency-rate", 10_000, "rows/s the latency stage's writer commits")
	fs.DurationVar(&o.latDuration, "latency-duration", 30*time.Second, "how long the latency stage's writer runs")
	fs.IntVar(&o.flushMs, "offset-flush-ms", 60000, "the worker's offset.flush.interval.ms (Connect's default 60000)")
	fs.IntVar(&o.sinkBatch, "sink-batch", 3000, "batch.size of the sink and rows per statement of the raw INSERT baseline")
	fs.StringVar(&o.workDir, "work-dir", "", "directory for stage logs and offsets (default: a temp dir, removed unless -keep)")
	fs.BoolVar(&o.keep, "keep", false, "keep the work dir (stage logs) after the run")
	fs.StringVar(&o.jsonOut, "json", "", "also write every result as JSON to this file")
	fs.BoolVar(&o.noSchemas, "no-schemas", false, "source stages write JSON without the schema envelope (value/key.converter.schemas.enable=false), to see what the schemas cost; sink stages always read schemas")
	fs.BoolVar(&o.gobench, "gobench", false, "run the Go benchmarks kept beside the code (go test -bench in every package that has one) instead of the stages")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: go run ./bench/load [flags]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if o.rows < 1000 || o.runs < 1 || o.latRate < 1 || o.sinkBatch < 1 {
		fmt.Fprintln(stderr, "load: -rows must be ≥ 1000, -runs, -latency-rate and -sink-batch ≥ 1")
		return 2
	}
	if o.gobench {
		if err := goBenchmarks(context.Background(), o.rows, stdout, stderr); err != nil {
			fmt.Fprintln(stderr, "load:", err)
			return 1
		}
		return 0
	}
	sel, err := selectStages(o.stages)
	if err != nil {
		fmt.Fprintln(stderr, "load:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := orchestrate(ctx, o, sel, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "load:", err)
		return 1
	}
	return 0
}

// allStages lists every stage in the order a run executes them. A stage's
// baseline runs right before it, on the same data.
var allStages = []string{
	stBinlogParse, stMariaCatchup,
	stMariaScan, stMariaSnapshot,
	stPgDecode, stPgCatchup,
	stPgScan, stPgSnapshot,
	stProduce300, stProduceCDC,
	stMariaInsert, stMariaSink,
	stPgInsert, stPgSink,
	stMariaLatency, stPgLatency,
}

const (
	stBinlogParse   = "baseline-binlog-parse"
	stMariaCatchup  = "mariadb-catchup"
	stMariaScan     = "baseline-mariadb-scan"
	stMariaSnapshot = "mariadb-snapshot"
	stPgDecode      = "baseline-pgoutput-decode"
	stPgCatchup     = "postgres-catchup"
	stPgScan        = "baseline-postgres-scan"
	stPgSnapshot    = "postgres-snapshot"
	stProduce300    = "baseline-produce-300B"
	stProduceCDC    = "baseline-produce-cdc-size"
	stMariaInsert   = "baseline-mariadb-insert"
	stMariaSink     = "mariadb-sink"
	stPgInsert      = "baseline-postgres-insert"
	stPgSink        = "postgres-sink"
	stMariaLatency  = "mariadb-latency"
	stPgLatency     = "postgres-latency"
)

var groups = map[string][]string{
	"catchup":  {stBinlogParse, stMariaCatchup, stPgDecode, stPgCatchup, stProduce300, stProduceCDC},
	"snapshot": {stMariaScan, stMariaSnapshot, stPgScan, stPgSnapshot, stProduce300, stProduceCDC},
	"sink":     {stMariaInsert, stMariaSink, stPgInsert, stPgSink},
	"latency":  {stMariaLatency, stPgLatency},
	"produce":  {stProduce300, stProduceCDC},
	"mariadb":  {stBinlogParse, stMariaCatchup, stMariaScan, stMariaSnapshot, stMariaInsert, stMariaSink, stMariaLatency},
	"postgres": {stPgDecode, stPgCatchup, stPgScan, stPgSnapshot, stPgInsert, stPgSink, stPgLatency},
	"all":      allStages,
}

// baselineOf names each stage's baseline.
var baselineOf = map[string]string{
	stMariaCatchup:  stBinlogParse,
	stMariaSnapshot: stMariaScan,
	stPgCatchup:     stPgDecode,
	stPgSnapshot:    stPgScan,
	stMariaSink:     stMariaInsert,
	stPgSink:        stPgInsert,
}

// selectStages turns -stages into the set of stages to run; a pipeline
// stage brings its baseline along.
func selectStages(s string) (map[string]bool, error) {
	sel := map[string]bool{}
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if g, ok := groups[name]; ok {
			for _, st := range g {
				sel[st] = true
			}
			continue
		}
		known := false
		for _, st := range allStages {
			if st == name {
				known = true
			}
		}
		if !known {
			names := []string{}
			for g := range groups {
				names = append(names, g)
			}
			return nil, fmt.Errorf("-stages: unknown stage %q (groups: %s; stages: %s)", name,
				strings.Join(sortedStrings(names), ", "), strings.Join(allStages, ", "))
		}
		sel[name] = true
		if b, ok := baselineOf[name]; ok {
			sel[b] = true
		}
	}
	if len(sel) == 0 {
		return nil, errors.New("-stages: no stage selected")
	}
	return sel, nil
}

// result is what a stage subprocess reports.
type result struct {
	Stage   string  `json:"stage"`
	Run     int     `json:"run"`
	Rows    int64   `json:"rows"`
	Seconds float64 `json:"seconds"`
	Bytes   int64   `json:"bytes"`
	RSSKiB  int64   `json:"rss_kib"`
	// Latencies in milliseconds (latency stages): commit → acked in Kafka
	// and commit → visible in the target database.
	AckP50     float64 `json:"ack_p50_ms,omitempty"`
	AckP99     float64 `json:"ack_p99_ms,omitempty"`
	ApplyP50   float64 `json:"apply_p50_ms,omitempty"`
	ApplyP99   float64 `json:"apply_p99_ms,omitempty"`
	ApplyMax   float64 `json:"apply_max_ms,omitempty"`
	AvgRecord  float64 `json:"avg_record_bytes,omitempty"`
	CPUSeconds float64 `json:"cpu_seconds"`
	// BrokerCPU is the CPU time the parent (the embedded broker) used
	// during the stage; PeakHeapMiB the stage's largest heap in use.
	BrokerCPU   float64 `json:"broker_cpu_seconds"`
	PeakHeapMiB float64 `json:"peak_heap_mib,omitempty"`
	Note        string  `json:"note,omitempty"`

	// ratio and prodRatio are set on medians: the median of the per-run
	// ratios to the stage's baseline and to produce-only.
	ratio, prodRatio float64
}

func (r result) rowsPerSec() float64 {
	if r.Seconds <= 0 {
		return 0
	}
	return float64(r.Rows) / r.Seconds
}

func (r result) mbPerSec() float64 {
	if r.Seconds <= 0 {
		return 0
	}
	return float64(r.Bytes) / r.Seconds / 1e6
}

// runChild runs one stage in a subprocess and returns its result.
func runChild(ctx context.Context, p params, logDir string) (result, error) {
	exe, err := os.Executable()
	if err != nil {
		return result{}, fmt.Errorf("find own executable: %w", err)
	}
	b, err := json.Marshal(p)
	if err != nil {
		return result{}, err
	}
	cmd := exec.CommandContext(ctx, exe, "-child", p.Stage)
	cmd.Env = append(os.Environ(), "TRIBUTARY_BENCH_PARAMS="+string(b))
	logPath := filepath.Join(logDir, fmt.Sprintf("%s-run%d.log", p.Stage, p.Run))
	logf, err := os.Create(logPath)
	if err != nil {
		return result{}, err
	}
	defer logf.Close()
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cpu0 := cpuTime()
	runErr := cmd.Run()
	brokerCPU := (cpuTime() - cpu0).Seconds()
	var res result
	found := false
	sc := bufio.NewScanner(&out)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if line, ok := strings.CutPrefix(sc.Text(), "RESULT "); ok {
			if err := json.Unmarshal([]byte(line), &res); err != nil {
				return result{}, fmt.Errorf("stage %s: bad result line: %w", p.Stage, err)
			}
			found = true
		}
	}
	if runErr != nil || !found {
		return result{}, fmt.Errorf("stage %s failed (%v); log %s:\n%s", p.Stage, runErr, logPath, tailFile(logPath, 3000))
	}
	res.BrokerCPU = brokerCPU
	return res, nil
}

func tailFile(path string, n int) string {
	b, _ := os.ReadFile(path)
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// childMain is the entry point of a stage subprocess.
func childMain(stage string) int {
	var p params
	if err := json.Unmarshal([]byte(os.Getenv("TRIBUTARY_BENCH_PARAMS")), &p); err != nil {
		fmt.Fprintln(os.Stderr, "bench child: bad TRIBUTARY_BENCH_PARAMS:", err)
		return 2
	}
	var level slog.Level = slog.LevelWarn
	if v := os.Getenv("TRIBUTARY_BENCH_LOG"); v != "" {
		level.UnmarshalText([]byte(v))
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fn, ok := stageFuncs[stage]
	if !ok {
		fmt.Fprintln(os.Stderr, "bench child: unknown stage", stage)
		return 2
	}
	c := &child{p: p, log: log}
	res, err := fn(ctx, c)
	if c.profiling {
		pprof.StopCPUProfile()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "stage %s: %v\n", stage, err)
		return 1
	}
	res.Stage, res.Run = stage, p.Run
	res.RSSKiB = peakRSS()
	res.CPUSeconds = c.cpuSeconds
	res.PeakHeapMiB = c.peakHeap
	b, _ := json.Marshal(res)
	fmt.Printf("RESULT %s\n", b)
	return 0
}

// child is a running stage subprocess.
type child struct {
	p          params
	log        *slog.Logger
	profiling  bool
	cpuStart   time.Duration
	cpuSeconds float64
	started    time.Time
	heap       *heapSampler
	peakHeap   float64
}

// begin starts the timed part of a stage (and its CPU profile).
func (c *child) begin() error {
	if c.p.CPUProfileDir != "" {
		f, err := os.Create(filepath.Join(c.p.CPUProfileDir, fmt.Sprintf("%s-run%d.pprof", c.p.Stage, c.p.Run)))
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		c.profiling = true
	}
	if c.p.MemProfileDir != "" {
		c.heap = startHeapSampler(filepath.Join(c.p.MemProfileDir, fmt.Sprintf("%s-run%d.heap", c.p.Stage, c.p.Run)))
	}
	c.cpuStart = cpuTime()
	c.started = time.Now()
	return nil
}

// end stops the timed part and returns its wall time.
func (c *child) end() float64 {
	d := time.Since(c.started)
	c.cpuSeconds = (cpuTime() - c.cpuStart).Seconds()
	if c.heap != nil {
		c.peakHeap = c.heap.stop()
	}
	if c.profiling {
		pprof.StopCPUProfile()
		c.profiling = false
	}
	return d.Seconds()
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// peakRSS reads VmHWM (KiB) from /proc/self/status.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kib int64
			fmt.Sscanf(strings.TrimSpace(rest), "%d", &kib)
			return kib
		}
	}
	return 0
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
