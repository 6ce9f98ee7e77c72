package runtime

// This file resolves config provider references (${env:…}, ${file:…},
// ${dir:…}) when connectors and tasks start, and applies KIP-158 topic
// creation settings to source tasks.

import (
	"context"
	"strconv"
	"strings"

	"github.com/tributary-cdc/tributary/connector/config"
	"github.com/tributary-cdc/tributary/runtime/topics"
)

// resolveConfig returns cfg with ${provider:[path:]key} references resolved
// by the providers of the worker's config.providers (env, file, dir and
// directory when that key is absent). cfg itself is not changed: stored
// configs and the REST API keep the references.
func (w *Worker) resolveConfig(ctx context.Context, cfg map[string]string) (map[string]string, error) {
	hasRef := false
	for _, v := range cfg {
		if strings.Contains(v, "${") {
			hasRef = true
			break
		}
	}
	if !hasRef {
		return cfg, nil
	}
	p, err := config.NewProviders(w.cfg.Raw)
	if err != nil {
		return nil, err
	}
	return p.Resolve(ctx, cfg)
}

// unresolveTaskConfigs puts the references of raw back into task configs
// that a connector built from the resolved config (Kafka Connect's reverse
// transform), so task configs shown by the REST API hold no resolved secret.
func unresolveTaskConfigs(raw, resolved map[string]string, tcs []map[string]string) {
	for k, rv := range raw {
		if rv == resolved[k] || !config.HasReferences(rv) {
			continue
		}
		for _, tc := range tcs {
			if v, ok := tc[k]; ok && v == resolved[k] {
				tc[k] = rv
			}
		}
	}
}

// topicCreator returns the KIP-158 topic creator of a source task, or nil
// when the connector sets no topic.creation.* key or the worker disabled
// topic creation (topic.creation.enable=false).
func (t *taskRunner) topicCreator() (*topics.Creator, error) {
	enabled := true
	if v := strings.TrimSpace(t.w.cfg.Raw[topics.WorkerKeyEnable]); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, config.Errors{{Key: topics.WorkerKeyEnable, Message: "Invalid value " + v + " for configuration " + topics.WorkerKeyEnable + ": Expected value to be either true or false"}}
		}
		enabled = b
	}
	s, err := topics.Parse(t.cfg, enabled)
	if err != nil || !s.Enabled {
		return nil, err
	}
	cl, err := t.w.adminClient()
	if err != nil {
		return nil, err
	}
	return topics.NewCreator(cl, s, t.log), nil
}
