package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/runtime"
	"github.com/tributary-cdc/tributary/schema"
	"github.com/tributary-cdc/tributary/schema/registry"
)

// Worker keys of the embedded schema registry.
const (
	keySchemaRegistryURL  = "schema.registry.url"
	keySchemaRegistryAddr = "embedded.schema.registry.listener"
	embeddedRegistry      = "embedded"
)

// embeddedRegistryHost serves a Confluent-compatible schema registry
// in-process when the worker (or its converters) say
// schema.registry.url=embedded. Its schemas live in the _schemas topic of the
// worker's cluster, so a restart keeps every id.
type embeddedRegistryHost struct {
	plugins *connector.Registry // builds the converters

	mu  sync.Mutex
	srv *registry.Server
}

// wanted reports whether the worker config asks for the embedded registry.
func (h *embeddedRegistryHost) wanted(raw map[string]string) bool {
	for _, k := range []string{keySchemaRegistryURL, "key.converter." + keySchemaRegistryURL, "value.converter." + keySchemaRegistryURL} {
		if strings.EqualFold(strings.TrimSpace(raw[k]), embeddedRegistry) {
			return true
		}
	}
	return false
}

// start serves the registry against the worker's brokers on addr (default :8081).
func (h *embeddedRegistryHost) start(ctx context.Context, log *slog.Logger, w *runtime.Worker, addr string) error {
	if addr == "" {
		addr = "127.0.0.1:8081"
	}
	srv, err := registry.NewServer(ctx, registry.Options{Addr: addr, Brokers: strings.Split(w.BootstrapServers(), ","), Logger: log})
	if err != nil {
		return fmt.Errorf("embedded schema registry on %s: %w", addr, err)
	}
	h.mu.Lock()
	h.srv = srv
	h.mu.Unlock()
	log.Info("embedded schema registry started", "url", srv.URL())
	return nil
}

// converters is the worker's ConverterFactory: schema.registry.url=embedded
// is replaced by the embedded server's URL; the converter itself comes from
// the plugin registry.
func (h *embeddedRegistryHost) converters(class string, props map[string]string, isKey bool) (schema.Converter, error) {
	if strings.EqualFold(strings.TrimSpace(props[keySchemaRegistryURL]), embeddedRegistry) {
		h.mu.Lock()
		srv := h.srv
		h.mu.Unlock()
		if srv == nil {
			return nil, fmt.Errorf("%s=embedded, but the worker config does not set %s=embedded, so no embedded registry runs", keySchemaRegistryURL, keySchemaRegistryURL)
		}
		p := make(map[string]string, len(props))
		for k, v := range props {
			p[k] = v
		}
		p[keySchemaRegistryURL] = srv.URL()
		props = p
	}
	return h.plugins.NewConverter(class, props, isKey)
}

func (h *embeddedRegistryHost) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.srv != nil {
		h.srv.Close()
	}
}
