package config

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/magiconair/properties"
)

// Config providers (KIP-297, KIP-887): a connector config value may hold
// references such as ${env:DB_PASSWORD}, ${file:/etc/db.properties:password}
// or ${dir:/run/secrets:db_password}. They are stored and returned by the REST
// API unresolved, and resolved when a connector or task starts, so secrets are
// never persisted in clear.

// providerRef is Kafka's ConfigTransformer pattern: ${provider:[path:]key}.
var providerRef = regexp.MustCompile(`\$\{([^}]*?):(([^}]*?):)?([^}]*?)\}`)

// Provider is Kafka's ConfigProvider: it returns the values of keys found at
// path. Keys it does not know are left out of the result.
type Provider interface {
	Get(ctx context.Context, path string, keys []string) (map[string]string, error)
}

// Provider class names as Kafka spells them in config.providers.<name>.class.
const (
	FileProviderClass      = "org.apache.kafka.common.config.provider.FileConfigProvider"
	EnvProviderClass       = "org.apache.kafka.common.config.provider.EnvVarConfigProvider"
	DirectoryProviderClass = "org.apache.kafka.common.config.provider.DirectoryConfigProvider"
)

// Providers resolves ${…} references with the providers a worker configured.
// It is safe for concurrent use.
type Providers struct {
	byName map[string]Provider
}

// NewProviders builds the providers named in the worker's config.providers
// (with config.providers.<name>.class and config.providers.<name>.param.*).
// As in Kafka, none is enabled unless config.providers names it: a REST
// caller must not be able to read the worker's files or environment through
// ${file:…} or ${env:…} unless the operator chose to allow it (and, with
// allowed.paths / allowlist.pattern, what).
func NewProviders(worker map[string]string) (*Providers, error) {
	p := &Providers{byName: map[string]Provider{}}
	names := worker["config.providers"]
	var errs Errors
	for _, name := range strings.Split(names, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		classKey := "config.providers." + name + ".class"
		class := strings.TrimSpace(worker[classKey])
		params := map[string]string{}
		prefix := "config.providers." + name + ".param."
		for k, v := range worker {
			if strings.HasPrefix(k, prefix) {
				params[strings.TrimPrefix(k, prefix)] = v
			}
		}
		prov, err := newProvider(class, params)
		if err != nil {
			errs = append(errs, KeyError{classKey, err.Error()})
			continue
		}
		p.byName[name] = prov
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return p, nil
}

func newProvider(class string, params map[string]string) (Provider, error) {
	allowed, err := parseAllowedPaths(params["allowed.paths"])
	if err != nil {
		return nil, err
	}
	switch class {
	case FileProviderClass, "FileConfigProvider":
		return &FileProvider{AllowedPaths: allowed}, nil
	case DirectoryProviderClass, "DirectoryConfigProvider":
		return &DirectoryProvider{AllowedPaths: allowed}, nil
	case EnvProviderClass, "EnvVarConfigProvider":
		ep := &EnvProvider{}
		if pat, ok := params["allowlist.pattern"]; ok {
			re, err := regexp.Compile(`^(?:` + pat + `)$`)
			if err != nil {
				return nil, fmt.Errorf("invalid allowlist.pattern %q: %v", pat, err)
			}
			ep.Allow = re
		}
		return ep, nil
	case "":
		return nil, fmt.Errorf("Missing required configuration: the provider's class is not set")
	}
	return nil, fmt.Errorf("Class %s could not be found (known: %s, %s, %s)", class, FileProviderClass, EnvProviderClass, DirectoryProviderClass)
}

func parseAllowedPaths(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []string
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if !filepath.IsAbs(p) {
			return nil, fmt.Errorf("allowed.paths: path %q is not absolute", p)
		}
		out = append(out, filepath.Clean(p))
	}
	return out, nil
}

// Names returns the configured provider names, sorted.
func (p *Providers) Names() []string {
	out := make([]string, 0, len(p.byName))
	for n := range p.byName {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// HasReferences reports whether s contains a ${provider:…} reference.
func HasReferences(s string) bool { return providerRef.MatchString(s) }

// IsReference reports whether the whole of s is one ${provider:…} reference.
func IsReference(s string) bool {
	loc := providerRef.FindStringIndex(s)
	return loc != nil && loc[0] == 0 && loc[1] == len(s)
}

// Resolve returns a copy of cfg with every ${provider:[path:]key} reference
// replaced by its value. A reference to a provider that is not configured is
// an error naming the key and the provider (Kafka leaves such a reference as
// it is, so a password "${env:DB_PW}" would silently be used as written). A
// reference a configured provider cannot
// satisfy (unset variable, missing file or key, path not allowed) is an error
// naming the config key; the secret value itself never appears in errors.
func (p *Providers) Resolve(ctx context.Context, cfg map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(cfg))
	var errs Errors
	keys := make([]string, 0, len(cfg))
	for k := range cfg {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := cfg[k]
		if !strings.Contains(v, "${") {
			out[k] = v
			continue
		}
		var firstErr error
		resolved := providerRef.ReplaceAllStringFunc(v, func(ref string) string {
			if firstErr != nil {
				return ref
			}
			m := providerRef.FindStringSubmatch(ref)
			name, path, key := m[1], m[3], m[4]
			prov, ok := p.byName[name]
			if !ok {
				firstErr = fmt.Errorf("${%s:…}: no config provider %q is configured on the worker (config.providers)", name, name)
				return ref
			}
			vals, err := prov.Get(ctx, path, []string{key})
			if err != nil {
				firstErr = fmt.Errorf("%s: %w", ref, err)
				return ref
			}
			val, ok := vals[key]
			if !ok {
				firstErr = fmt.Errorf("%s: key %q not found", ref, key)
				return ref
			}
			return val
		})
		if firstErr != nil {
			errs = append(errs, KeyError{k, "cannot resolve config provider reference " + firstErr.Error()})
			continue
		}
		out[k] = resolved
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return out, nil
}

// EnvProvider is Kafka's EnvVarConfigProvider: ${env:NAME}.
type EnvProvider struct {
	// Allow, when set, limits which variables may be read (allowlist.pattern).
	Allow *regexp.Regexp
}

// Get implements Provider.
func (e *EnvProvider) Get(_ context.Context, path string, keys []string) (map[string]string, error) {
	if path != "" {
		return nil, fmt.Errorf("the env provider takes no path, got %q", path)
	}
	out := map[string]string{}
	for _, k := range keys {
		if e.Allow != nil && !e.Allow.MatchString(k) {
			return nil, fmt.Errorf("environment variable %q is not allowed by allowlist.pattern", k)
		}
		v, ok := os.LookupEnv(k)
		if !ok {
			return nil, fmt.Errorf("environment variable %q is not set", k)
		}
		out[k] = v
	}
	return out, nil
}

// FileProvider is Kafka's FileConfigProvider: ${file:/path/to/file.properties:key}
// reads key from a Java properties file.
type FileProvider struct {
	// AllowedPaths, when set, limits files to these directories (allowed.paths).
	AllowedPaths []string
}

// Get implements Provider.
func (f *FileProvider) Get(_ context.Context, path string, keys []string) (map[string]string, error) {
	if path == "" {
		return nil, fmt.Errorf("the file provider needs a path: ${file:/path/to/file.properties:key}")
	}
	if err := checkAllowed(f.AllowedPaths, path); err != nil {
		return nil, err
	}
	loader := properties.Loader{Encoding: properties.UTF8, DisableExpansion: true}
	props, err := loader.LoadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read properties file %s: %w", path, err)
	}
	out := map[string]string{}
	for _, k := range keys {
		if v, ok := props.Get(k); ok {
			out[k] = v
		}
	}
	return out, nil
}

// DirectoryProvider is Kafka's DirectoryConfigProvider: ${dir:/run/secrets:name}
// is the content of the file name in that directory (not trimmed, as in Kafka).
type DirectoryProvider struct {
	// AllowedPaths, when set, limits directories to these (allowed.paths).
	AllowedPaths []string
}

// Get implements Provider.
func (d *DirectoryProvider) Get(_ context.Context, path string, keys []string) (map[string]string, error) {
	if path == "" {
		return nil, fmt.Errorf("the directory provider needs a directory: ${dir:/path/to/dir:file}")
	}
	if err := checkAllowed(d.AllowedPaths, path); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, k := range keys {
		if k == "" || strings.ContainsAny(k, `/\`) || k == "." || k == ".." {
			return nil, fmt.Errorf("file name %q is not a plain file name in %s", k, path)
		}
		b, err := os.ReadFile(filepath.Join(path, k))
		if err != nil {
			if os.IsNotExist(err) {
				continue
			}
			return nil, fmt.Errorf("read %s: %w", filepath.Join(path, k), err)
		}
		out[k] = string(b)
	}
	return out, nil
}

func checkAllowed(allowed []string, path string) error {
	if len(allowed) == 0 {
		return nil
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("path %s: %w", path, err)
	}
	abs = filepath.Clean(abs)
	if slices.ContainsFunc(allowed, func(a string) bool {
		return abs == a || strings.HasPrefix(abs, a+string(filepath.Separator))
	}) {
		return nil
	}
	return fmt.Errorf("path %s is not allowed (allowed.paths: %s)", path, strings.Join(allowed, ","))
}
