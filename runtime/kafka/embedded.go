package kafka

import (
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/twmb/franz-go/pkg/kfake"
)

// Embedded broker worker keys and defaults.
const (
	KeyEmbeddedPort     = "embedded.broker.port"
	KeyEmbeddedDataDir  = "embedded.broker.data.dir"
	DefaultEmbeddedPort = 9092
	// EmbeddedServers is the bootstrap.servers value that asks for the
	// embedded broker (an empty value does too).
	EmbeddedServers = "embedded"
)

// IsEmbedded reports whether a bootstrap.servers value selects the embedded
// broker.
func IsEmbedded(bootstrap string) bool {
	b := strings.TrimSpace(bootstrap)
	return b == "" || strings.EqualFold(b, EmbeddedServers)
}

// EmbeddedConfig configures the embedded broker.
type EmbeddedConfig struct {
	// Port on 127.0.0.1; 0 picks a free port.
	Port int
	// DataDir holds the broker's topics, records and group offsets. Empty
	// keeps everything in memory (tests only).
	DataDir string
	Logger  *slog.Logger
}

// Embedded is a running in-process broker.
type Embedded struct {
	c *kfake.Cluster
}

// StartEmbedded starts the embedded broker.
func StartEmbedded(cfg EmbeddedConfig) (*Embedded, error) {
	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.Ports(cfg.Port),
		kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(1),
		kfake.BrokerConfigs(map[string]string{"log.cleaner.backoff.ms": "1000"}),
		kfake.ClusterID("tributary-embedded"),
	}
	if cfg.DataDir != "" {
		if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
			return nil, fmt.Errorf("embedded broker data dir: %w", err)
		}
		opts = append(opts, kfake.DataDir(cfg.DataDir), kfake.SyncWrites())
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("start embedded broker on port %d (data dir %q): %w", cfg.Port, cfg.DataDir, err)
	}
	if cfg.Logger != nil {
		cfg.Logger.Info("embedded broker started", "addrs", c.ListenAddrs(), "data_dir", cfg.DataDir)
	}
	return &Embedded{c: c}, nil
}

// Addrs returns the broker's host:port addresses (bootstrap.servers).
func (e *Embedded) Addrs() []string { return e.c.ListenAddrs() }

// Cluster exposes the kfake cluster (tests: Compact, GroupInfo…).
func (e *Embedded) Cluster() *kfake.Cluster { return e.c }

// Close stops the broker, flushing its data to disk.
func (e *Embedded) Close() { e.c.Close() }
