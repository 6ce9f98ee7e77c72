package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/tributary-cdc/tributary/cdc"
	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/connector/config"
)

// Class is the connector class name users put in connector.class.
const Class = "io.debezium.connector.postgresql.PostgresConnector"

// Plugin is the PostgreSQL CDC source connector class. It is stateless.
type Plugin struct{}

var (
	_ connector.SourcePlugin = Plugin{}
	_ connector.Deleter      = Plugin{}
)

// Class implements connector.Plugin.
func (Plugin) Class() string { return Class }

// Aliases implements connector.Plugin.
func (Plugin) Aliases() []string { return []string{"PostgresConnector"} }

// Type implements connector.Plugin.
func (Plugin) Type() connector.Type { return connector.Source }

// Version implements connector.Plugin.
func (Plugin) Version() string { return cdc.Version }

// Config implements connector.Plugin.
func (Plugin) Config() *config.Def { return configDef() }

// Validate implements connector.Plugin: checks across keys.
func (Plugin) Validate(v *config.Values) config.Errors { return validate(v) }

// TaskConfigs implements connector.Plugin. A replication slot has one
// reader, so there is always exactly one task.
func (Plugin) TaskConfigs(_ context.Context, cfg map[string]string, _ int) ([]map[string]string, error) {
	out := make(map[string]string, len(cfg))
	for k, v := range cfg {
		out[k] = v
	}
	return []map[string]string{out}, nil
}

// NewTask implements connector.SourcePlugin.
func (Plugin) NewTask() connector.SourceTask { return NewTask() }

// OnDelete implements connector.Deleter: the replication slot is dropped
// and, unless publication.autocreate.mode=disabled (the publication is the
// user's), the publication too. A restart never drops them.
func (Plugin) OnDelete(ctx context.Context, cfg map[string]string) error {
	s, err := parseSettings(cfg)
	if err != nil {
		return err
	}
	conn, err := s.connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if err := dropSlot(ctx, conn, s.slot, 30*time.Second); err != nil {
		return fmt.Errorf("delete connector: %w", err)
	}
	if s.pubMode != "disabled" {
		if err := dropPublication(ctx, conn, s.publication); err != nil {
			return fmt.Errorf("delete connector: %w", err)
		}
	}
	return nil
}
