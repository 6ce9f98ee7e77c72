package rest

// Secrets in responses, errors and logs: PASSWORD values are [hidden];
// passwords inside other values (URLs, JDBC URLs, DSNs) too; and any
// message a request answers with is scrubbed of the secrets of the configs
// the request touched.

import (
	"context"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/tributary-cdc/tributary/connector/config"
)

type secretsKey struct{}

// secretSet collects the secrets of the configs a request reads or sends.
type secretSet struct {
	mu   sync.Mutex
	vals []string
}

// noteSecrets records the secrets of cfg for the request of ctx: values of
// secret keys (def's PASSWORD keys, well-known secret names) and passwords
// inside URLs.
func noteSecrets(ctx context.Context, def *config.Def, cfg map[string]string) {
	set, _ := ctx.Value(secretsKey{}).(*secretSet)
	if set == nil {
		return
	}
	var found []string
	for k, v := range cfg {
		if isSecret(def, k) && v != "" && v != config.HiddenValue && !config.IsReference(strings.TrimSpace(v)) {
			found = append(found, v)
		}
		found = append(found, config.URLSecrets(v)...)
	}
	set.mu.Lock()
	set.vals = append(set.vals, found...)
	set.mu.Unlock()
}

// scrub hides in msg every secret noted for the request of ctx, and any
// password inside a URL.
func scrub(ctx context.Context, msg string) string {
	set, _ := ctx.Value(secretsKey{}).(*secretSet)
	if set == nil {
		return config.RedactURL(msg)
	}
	set.mu.Lock()
	vals := slices.Clone(set.vals)
	set.mu.Unlock()
	return config.Scrub(msg, vals)
}

// redactInfos hides secrets in a config/validate answer: values of secret
// keys (also those the definition does not declare, such as a converter's
// basic.auth.user.info), URL passwords, and secrets quoted by errors.
func redactInfos(ctx context.Context, def *config.Def, infos config.ConfigInfos) config.ConfigInfos {
	for i := range infos.Configs {
		v := &infos.Configs[i].Value
		if v.Value != nil {
			s := *v.Value
			if isSecret(def, v.Name) && !config.IsReference(strings.TrimSpace(s)) {
				s = config.HiddenValue
			}
			s = config.RedactURL(s)
			v.Value = &s
		}
		for j, e := range v.Errors {
			v.Errors[j] = scrub(ctx, e)
		}
	}
	return infos
}

// status returns a connector's status with failure traces scrubbed of the
// connector's secrets (a driver's error may quote its connection string).
func (s *Server) status(ctx context.Context, name string) (ConnectorStatus, error) {
	st, err := s.h.ConnectorStatus(ctx, name)
	if err != nil {
		return st, err
	}
	version := ""
	if cfg, err := s.h.ConnectorConfig(ctx, name); err == nil {
		def, _ := s.defFor(ctx, cfg)
		noteSecrets(ctx, def, cfg)
		if s.opts.Registry != nil {
			if p, err := s.opts.Registry.Lookup(strings.TrimSpace(cfg["connector.class"])); err == nil {
				version = p.Version()
			}
		}
	}
	st.Connector.Trace = scrub(ctx, st.Connector.Trace)
	if st.Connector.Version == "" {
		st.Connector.Version = version
	}
	tasks := make([]TaskState, len(st.Tasks))
	for i, t := range st.Tasks {
		t.Trace = scrub(ctx, t.Trace)
		if t.Version == "" {
			t.Version = version
		}
		tasks[i] = t
	}
	if st.Tasks != nil {
		st.Tasks = tasks
	}
	return st, nil
}

// destinationKey reports whether a key decides where a connector's secrets
// are sent (a host, port, URL, user, database, Kafka cluster, endpoint or
// the connector class itself): a secret sent back as [hidden] is kept only
// while none of these changes.
func destinationKey(k string) bool {
	k = strings.ToLower(k)
	if k == "connector.class" {
		return true
	}
	last := k[strings.LastIndex(k, ".")+1:]
	switch last {
	case "url", "urls", "uri", "host", "hostname", "hosts", "port", "user", "username",
		"database", "dbname", "db", "servers", "endpoint", "region", "addresses", "address":
		return true
	}
	return false
}

// restoreHidden puts the stored secrets back where cfg (a PUT of a config
// read back from the API) carries [hidden]: PASSWORD values and passwords
// inside URLs. It refuses, naming the keys, when a key that decides where
// the secrets go changed, since keeping the stored secret would send it
// somewhere its owner did not send it.
func restoreHidden(def *config.Def, old, cfg map[string]string) error {
	var hidden []string
	for k, v := range cfg {
		if (v == config.HiddenValue && isSecret(def, k)) || config.HasHiddenURLPassword(v) {
			hidden = append(hidden, k)
		}
	}
	if len(hidden) == 0 {
		return nil
	}
	slices.Sort(hidden)
	same := func(k string) bool {
		ov, inOld := old[k]
		nv, inNew := cfg[k]
		return inOld == inNew && (ov == nv || (config.HasHiddenURLPassword(nv) && config.RedactURL(ov) == nv))
	}
	keys := map[string]bool{}
	for k := range old {
		keys[k] = true
	}
	for k := range cfg {
		keys[k] = true
	}
	var changed []string
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		if destinationKey(k) && !same(k) {
			changed = append(changed, k)
		}
	}
	if len(changed) > 0 {
		return badRequest("%s sent as %s, but %s changed: send %s with the secret itself (a hidden secret is kept only while the keys that decide where it is sent stay the same)",
			strings.Join(hidden, ", "), config.HiddenValue, strings.Join(changed, ", "), strings.Join(hidden, ", "))
	}
	for _, k := range hidden {
		ov, ok := old[k]
		switch {
		case cfg[k] == config.HiddenValue && ok:
			cfg[k] = ov
		case cfg[k] != config.HiddenValue && ok && config.RedactURL(ov) == cfg[k]:
			cfg[k] = ov
		case cfg[k] != config.HiddenValue:
			return badRequest("%s: the password inside was sent as %s, but the rest of the value changed: send %s with its password", k, config.HiddenValue, k)
		default:
			return badRequest("%s was sent as %s, but no value is stored for it: send %s with the secret itself", k, config.HiddenValue, k)
		}
	}
	return nil
}

// refuseHidden refuses [hidden] in the config of a new connector: there is
// no stored secret it could stand for.
func refuseHidden(cfg map[string]string) error {
	for _, k := range slices.Sorted(maps.Keys(cfg)) {
		if v := cfg[k]; v == config.HiddenValue || config.HasHiddenURLPassword(v) {
			return badRequest("%s was sent as %s, but the connector does not exist yet: send %s with the secret itself", k, config.HiddenValue, k)
		}
	}
	return nil
}
