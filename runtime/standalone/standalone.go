// Package standalone runs a standalone worker's REST side, as Kafka
// Connect's StandaloneHerder: it opens the file config store beside the
// offsets file, starts the connectors given on the command line and those
// stored from earlier REST calls, and serves the REST API with /metrics.
package standalone

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-cdc/tributary/connector/config"
	"github.com/tributary-cdc/tributary/runtime"
	"github.com/tributary-cdc/tributary/runtime/configstore"
	"github.com/tributary-cdc/tributary/runtime/metrics"
	"github.com/tributary-cdc/tributary/runtime/rest"
)

// REST is the REST API, metrics and config store of a standalone worker.
type REST struct {
	herder *runtime.RESTHerder
	store  *configstore.File
	admin  *kgo.Client
	wg     sync.WaitGroup
	cancel context.CancelFunc
}

// NewObserver returns the worker's metrics observer (one registry per
// worker).
func NewObserver() *runtime.MetricsObserver {
	return runtime.NewMetricsObserver(metrics.New())
}

// StartREST opens the config store, starts the connectors (those from the
// command line, then those stored from earlier REST calls) and serves the
// REST API with /metrics on rest.port / listeners. version is what
// GET / reports as the commit.
func StartREST(ctx context.Context, log *slog.Logger, lvl *slog.LevelVar, w *runtime.Worker, wc *runtime.WorkerConfig, obs *runtime.MetricsObserver,
	fromFiles map[string]map[string]string, order []string, version string) (*REST, error) {
	// Bad config.providers settings fail the start, not each connector.
	if _, err := config.NewProviders(wc.Raw); err != nil {
		return nil, err
	}
	sec, err := rest.ParseSecurity(wc.Raw, os.Getenv)
	if err != nil {
		return nil, err
	}
	lns, err := sec.Listen()
	if err != nil {
		return nil, err
	}
	dataDir := "."
	if wc.OffsetFile != "" {
		dataDir = filepath.Dir(wc.OffsetFile)
	}
	store, err := configstore.OpenFile(configstore.PathFor(wc.Raw, dataDir))
	if err != nil {
		rest.CloseAll(lns)
		return nil, err
	}
	a := &REST{store: store, herder: runtime.NewRESTHerder(w, store)}
	a.herder.OnDelete = obs.Forget
	obs.Watch(w)

	opts := a.herder.RESTOptions()
	opts.Metrics = obs.Registry().Handler()
	opts.Version = rest.DefaultVersion
	opts.Commit = version
	opts.Logger = log
	opts.LogLevel = lvl
	opts.ClusterID = func(ctx context.Context) (string, error) {
		if a.admin == nil {
			return "", fmt.Errorf("no Kafka client")
		}
		m, err := kadm.NewClient(a.admin).BrokerMetadata(ctx)
		if err != nil {
			return "", err
		}
		return m.Cluster, nil
	}
	if a.admin, err = w.KafkaClient(); err != nil {
		rest.CloseAll(lns)
		return nil, err
	}
	srv := rest.New(opts)
	sctx, cancel := context.WithCancel(context.Background())
	a.cancel = cancel
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		if err := rest.Serve(sctx, sec.Handler(srv), lns, log); err != nil {
			log.Error("REST API stopped", "err", err)
		}
	}()
	for _, l := range lns {
		log.Info("REST API listening", "addr", l.Addr().String(), "listener", l.URL(), "basic_auth", sec.Auth != nil, "config.store", store.Path())
	}
	sec.WarnIfExposed(log, lns)

	if err := a.herder.Restore(ctx, fromFiles, order); err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

// Close stops the REST API and waits for it.
func (a *REST) Close() {
	a.cancel()
	a.wg.Wait()
	if a.admin != nil {
		a.admin.Close()
	}
	a.store.Close()
}
