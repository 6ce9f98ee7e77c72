// Command replicate is Tributary's single binary: it runs connectors in
// standalone mode (as Kafka Connect's connect-standalone.sh), validates
// configs, and prints its version. Only flag parsing and wiring live here;
// the work is done by package runtime.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/tributary-cdc/tributary/connector/config"
	"github.com/tributary-cdc/tributary/internal/logging"
	"github.com/tributary-cdc/tributary/quickstart"
	"github.com/tributary-cdc/tributary/runtime"
	"github.com/tributary-cdc/tributary/runtime/rest"
	"github.com/tributary-cdc/tributary/runtime/standalone"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "0.1.0-dev"

const usage = `usage: replicate <command> [arguments]

commands:
  standalone [flags] worker.properties [connector.properties|connector.json ...]
              run connectors in one process, as connect-standalone.sh
  distributed [flags] worker.properties
              run a worker of a distributed cluster, as connect-distributed.sh
  quickstart  [--duration 20s] [--keep]
              start an embedded broker, throwaway MariaDB and PostgreSQL and
              CDC pipelines crossing them, run a workload, verify every table
  verify      --source-url URL --target-url URL --source-table T [flags]
              compare a source and a target table row by row
  validate    worker.properties [connector files ...]
              check configs and print every problem, naming its key
  version     print the version
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "standalone":
		return standaloneCmd(rest, stderr)
	case "distributed":
		return distributedCmd(rest, stderr)
	case "quickstart":
		return quickstart.Main(rest, stdout, stderr, quickstart.Options{Registry: newRegistry, Version: version})
	case "verify":
		return verifyCmd(rest, stdout, stderr)
	case "validate":
		return validate(rest, stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "replicate", version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "replicate: unknown command %q\n\n%s", cmd, usage)
	return 2
}

func standaloneCmd(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("standalone", flag.ContinueOnError)
	fs.SetOutput(stderr)
	level := fs.String("log-level", "info", "log level: debug, info, warn, error")
	format := fs.String("log-format", "text", "log format: text or json")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: replicate standalone [flags] worker.properties [connector.properties|connector.json ...]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() < 1 {
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
	if err := runStandalone(ctx, log, lvl, fs.Arg(0), fs.Args()[1:]); err != nil {
		log.Error("replicate standalone failed", "err", err)
		return 1
	}
	return 0
}

func runStandalone(ctx context.Context, log *slog.Logger, lvl *slog.LevelVar, workerFile string, connectorFiles []string) error {
	raw, err := runtime.LoadProperties(workerFile)
	if err != nil {
		return err
	}
	wc, err := runtime.ParseWorkerConfig(raw)
	if err != nil {
		return fmt.Errorf("%s: %w", workerFile, err)
	}
	type connFile struct {
		path, name string
		cfg        map[string]string
	}
	var conns []connFile
	for _, path := range connectorFiles {
		name, cfg, err := runtime.LoadConnectorFile(path)
		if err != nil {
			return err
		}
		conns = append(conns, connFile{path, name, cfg})
	}
	obs := standalone.NewObserver()
	plugins := newRegistry()
	sr := embeddedRegistryHost{plugins: plugins}
	defer sr.close()
	w, err := runtime.NewWorker(ctx, wc, runtime.Options{Registry: plugins, Logger: log,
		Observer: obs, Errors: runtime.DLQErrorReporters(obs), Converters: sr.converters})
	if err != nil {
		return err
	}
	if sr.wanted(raw) {
		if err := sr.start(ctx, log, w, raw[keySchemaRegistryAddr]); err != nil {
			w.Close(context.Background())
			return err
		}
	}
	shutdown := func() error {
		timeout := wc.ShutdownTimeout + wc.OffsetFlushTimeout + 10*time.Second
		sctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		return w.Close(sctx)
	}
	log.Info("worker started", "worker_id", w.ID(), "bootstrap.servers", w.BootstrapServers(), "rest.port", wc.RestPort)
	fromFiles := map[string]map[string]string{}
	var order []string
	for _, c := range conns {
		if _, dup := fromFiles[c.name]; dup {
			shutdown()
			return fmt.Errorf("%s: connector %s is defined twice on the command line", c.path, c.name)
		}
		fromFiles[c.name] = c.cfg
		order = append(order, c.name)
	}
	api, err := standalone.StartREST(ctx, log, lvl, w, wc, obs, fromFiles, order, version)
	if err != nil {
		shutdown()
		return err
	}
	<-ctx.Done()
	log.Info("stopping (signal received)")
	api.Close()
	return shutdown()
}

func validate(args []string, stdout, stderr io.Writer) int {
	if len(args) < 1 {
		fmt.Fprintln(stderr, "usage: replicate validate worker.properties [connector.properties|connector.json ...]")
		return 2
	}
	ok := true
	report := func(file string, err error) {
		ok = false
		var ce config.Errors
		if errors.As(err, &ce) {
			for _, e := range ce {
				fmt.Fprintf(stdout, "%s: %s: %s\n", file, e.Key, e.Message)
			}
			return
		}
		fmt.Fprintf(stdout, "%s: %v\n", file, err)
	}
	raw, err := runtime.LoadProperties(args[0])
	if err != nil {
		report(args[0], err)
	} else if _, err := runtime.ParseWorkerConfig(raw); err != nil {
		report(args[0], err)
	} else if err := validateDistributed(raw); err != nil { // distributed.go
		report(args[0], err)
	} else if _, err := rest.ParseSecurity(raw, os.Getenv); err != nil { // listeners, TLS, basic auth
		report(args[0], err)
	} else if unknown := unknownWorkerKeys(raw); len(unknown) > 0 {
		fmt.Fprintf(stdout, "%s: warning: unknown keys: %s\n", args[0], strings.Join(unknown, ", "))
	}
	reg := newRegistry()
	for _, path := range args[1:] {
		_, cfg, err := runtime.LoadConnectorFile(path)
		if err != nil {
			report(path, err)
			continue
		}
		p, err := reg.Lookup(strings.TrimSpace(cfg[runtime.KeyConnectorClass]))
		if err != nil {
			report(path, config.Errors{{Key: runtime.KeyConnectorClass, Message: err.Error()}})
			continue
		}
		if errs := runtime.ValidateConnectorConfig(reg, p, cfg); len(errs) > 0 {
			report(path, errs)
		}
	}
	if !ok {
		return 1
	}
	fmt.Fprintln(stdout, "configuration is valid")
	return 0
}
