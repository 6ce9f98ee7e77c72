package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/tributary-cdc/tributary/internal/logging"
	"github.com/tributary-cdc/tributary/runtime/standalone"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/tributary-cdc/tributary/connector/config"
	"github.com/tributary-cdc/tributary/runtime"
	"github.com/tributary-cdc/tributary/runtime/distributed"
	"github.com/tributary-cdc/tributary/runtime/metrics"
	"github.com/tributary-cdc/tributary/runtime/rest"
)

// distributedCmd runs one worker of a distributed cluster, as
// connect-distributed.sh worker.properties.
func distributedCmd(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("distributed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	level := fs.String("log-level", "info", "log level: debug, info, warn, error")
	format := fs.String("log-format", "text", "log format: text or json")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: replicate distributed [flags] worker.properties")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	log, lvl, err := logging.New(stderr, *level, *format)
	if err != nil {
		fmt.Fprintln(stderr, "replicate:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := runDistributed(ctx, log, lvl, fs.Arg(0)); err != nil {
		log.Error("replicate distributed failed", "err", err)
		return 1
	}
	return 0
}

func runDistributed(ctx context.Context, log *slog.Logger, lvl *slog.LevelVar, workerFile string) error {
	raw, err := runtime.LoadProperties(workerFile)
	if err != nil {
		return err
	}
	// Worker keys may use config providers too (Connect resolves them at
	// start), e.g. rest.advertised.host.name=${env:POD_IP}.
	providers, err := config.NewProviders(raw)
	if err != nil {
		return fmt.Errorf("%s: %w", workerFile, err)
	}
	if raw, err = providers.Resolve(ctx, raw); err != nil {
		return fmt.Errorf("%s: %w", workerFile, err)
	}
	cfg, err := distributed.ParseConfig(raw)
	if err != nil {
		return fmt.Errorf("%s: %w", workerFile, err)
	}
	for _, w := range cfg.Warnings {
		log.Warn(w)
	}
	sec, err := rest.ParseSecurity(raw, os.Getenv)
	if err != nil {
		return fmt.Errorf("%s: %w", workerFile, err)
	}
	lns, err := sec.Listen()
	if err != nil {
		return err
	}
	defer rest.CloseAll(lns)
	obs := standalone.NewObserver()
	startCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	h, err := distributed.New(startCtx, cfg, sec.AdvertisedListener(lns).Addr(), distributed.Options{Registry: newRegistry(), Logger: log,
		Observer: obs, Errors: runtime.DLQErrorReporters(obs), AdvertisedScheme: sec.Advertised, RESTClientTLS: sec.ClientTLS})
	cancel()
	if err != nil {
		return err
	}
	obs.Registry().SetStatusSource(func() []metrics.ConnectorStatus { return localMetrics(h) })
	admin, err := h.Worker().KafkaClient()
	if err != nil {
		closeHerder(h, cfg)
		return err
	}
	defer admin.Close()
	opts := h.RESTOptions()
	opts.Metrics = obs.Registry().Handler()
	opts.Version = rest.DefaultVersion
	opts.Commit = version
	opts.Logger = log
	opts.LogLevel = lvl
	opts.ClusterID = func(ctx context.Context) (string, error) {
		m, err := kadm.NewClient(admin).BrokerMetadata(ctx)
		if err != nil {
			return "", err
		}
		return m.Cluster, nil
	}
	// Authentication comes first, so requests forwarded to the leader
	// are authenticated here and carry the caller's credentials there.
	srvCtx, srvStop := context.WithCancel(context.Background())
	defer srvStop()
	serveErr := make(chan error, 1)
	go func() { serveErr <- rest.Serve(srvCtx, sec.Handler(h.Handler(rest.New(opts))), lns, log) }()
	for _, l := range lns {
		log.Info("REST API listening", "addr", l.Addr().String(), "listener", l.URL(), "url", h.URL(), "basic_auth", sec.Auth != nil)
	}
	sec.WarnIfExposed(log, lns)
	if sec.Auth != nil && !cfg.SigningEnabled() {
		log.Warn("basic authentication is on, but as in Connect the workers' internal requests (POST /connectors/{name}/tasks, PUT /connectors/{name}/fence) pass without credentials, and with connect.protocol=" +
			raw[distributed.KeyConnectProtocol] + " they are not signed either (KIP-507 signing needs connect.protocol=sessioned, the default): keep the REST port reachable only from the workers and trusted clients")
	}

	select {
	case <-ctx.Done():
		log.Info("stopping (signal received)")
	case err = <-serveErr:
		log.Error("REST API stopped", "err", err)
		serveErr = nil
	}
	cerr := closeHerder(h, cfg)
	srvStop()
	if serveErr != nil {
		<-serveErr // graceful shutdown done
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return cerr
}

// closeHerder stops the worker's tasks and leaves the group.
func closeHerder(h *distributed.Herder, cfg *distributed.Config) error {
	timeout := cfg.Worker.ShutdownTimeout + cfg.Worker.OffsetFlushTimeout + 15*time.Second
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return h.Close(ctx)
}

// localMetrics reports the connectors and tasks running on this worker to
// the metrics registry.
func localMetrics(h *distributed.Herder) []metrics.ConnectorStatus {
	local := h.LocalStatus()
	names := make([]string, 0, len(local))
	for n := range local {
		names = append(names, n)
	}
	slices.Sort(names)
	out := make([]metrics.ConnectorStatus, 0, len(names))
	for _, n := range names {
		lc := local[n]
		cs := metrics.ConnectorStatus{Name: n, State: lc.State}
		if cs.State == "" {
			cs.State = "UNASSIGNED"
		}
		ids := make([]int, 0, len(lc.Tasks))
		for id := range lc.Tasks {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for _, id := range ids {
			cs.Tasks = append(cs.Tasks, metrics.TaskStatus{ID: id, State: lc.Tasks[id]})
		}
		out = append(out, cs)
	}
	return out
}

// unknownWorkerKeys returns the worker keys neither standalone nor
// distributed mode reads (replicate validate warns about them).
func unknownWorkerKeys(raw map[string]string) []string {
	def := distributed.Def()
	var out []string
	for _, k := range runtime.WorkerDef().Unknown(raw) {
		if _, ok := def.Lookup(k); !ok {
			out = append(out, k)
		}
	}
	return out
}

// validateDistributed checks a distributed worker config (one with
// group.id) with every bad key named.
func validateDistributed(raw map[string]string) error {
	if _, ok := raw[distributed.KeyGroupID]; !ok {
		return nil
	}
	_, err := distributed.ParseConfig(raw)
	return err
}
