package registry

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/sr"
)

// Client is a caching Confluent Schema Registry client for converters. Every
// answer that cannot change (schema by id, id of a schema in a subject) is
// cached forever; the latest version of a subject is cached for LatestTTL.
// The hot path (the same schema again) never goes to the network. Safe for
// concurrent use.
type Client struct {
	cl        *sr.Client
	latestTTL time.Duration

	mu     sync.RWMutex
	byID   map[int]string
	ids    map[subjectSchema]int
	latest map[string]latestEntry
}

type subjectSchema struct{ subject, schema string }

type latestEntry struct {
	ss sr.SubjectSchema
	at time.Time
}

// ClientOptions configures NewClient.
type ClientOptions struct {
	// URLs are the registry base URLs (schema.registry.url, comma separated in configs).
	URLs []string
	// User and Password enable HTTP basic auth (basic.auth.user.info).
	User, Password string
	// LatestTTL bounds how long a subject's latest version is cached
	// (latest.cache.ttl.sec); 0 or negative caches it until restart.
	LatestTTL time.Duration
	// HTTPClient overrides the HTTP client (timeouts, TLS).
	HTTPClient *http.Client
	// TLS is used for https URLs when HTTPClient is nil (TLSConfig builds
	// it from the schema.registry.ssl.* keys); nil verifies the registry
	// against the system roots.
	TLS *tls.Config
}

// NewClient returns a client for the registry at opts.URLs. Credentials in a
// URL's user-info part (http://user:pass@host) are used when User is empty,
// as basic.auth.credentials.source=URL does.
func NewClient(opts ClientOptions) (*Client, error) {
	if len(opts.URLs) == 0 {
		return nil, errors.New("registry: no schema registry URL")
	}
	urls := make([]string, 0, len(opts.URLs))
	user, pass := opts.User, opts.Password
	for _, raw := range opts.URLs {
		raw = strings.TrimSpace(raw)
		u, err := url.Parse(raw)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return nil, fmt.Errorf("registry: invalid schema registry URL %q", withoutUserinfo(raw))
		}
		if u.User != nil {
			if user == "" {
				user = u.User.Username()
				pass, _ = u.User.Password()
			}
			u.User = nil
		}
		urls = append(urls, strings.TrimRight(u.String(), "/"))
	}
	copts := []sr.ClientOpt{sr.URLs(urls...), sr.UserAgent("tributary")}
	if user != "" {
		copts = append(copts, sr.BasicAuth(user, pass))
	}
	hc := opts.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
		if opts.TLS != nil {
			tr := http.DefaultTransport.(*http.Transport).Clone()
			tr.TLSClientConfig = opts.TLS.Clone()
			hc.Transport = tr
		}
	}
	copts = append(copts, sr.HTTPClient(hc))
	cl, err := sr.NewClient(copts...)
	if err != nil {
		return nil, fmt.Errorf("registry: %w", err)
	}
	return &Client{
		cl:        cl,
		latestTTL: opts.LatestTTL,
		byID:      map[int]string{},
		ids:       map[subjectSchema]int{},
		latest:    map[string]latestEntry{},
	}, nil
}

// SR returns the underlying franz-go client for calls this type does not wrap.
func (c *Client) SR() *sr.Client { return c.cl }

// Register registers an Avro schema under subject (POST /subjects/{s}/versions)
// and returns its global id; registering a schema the subject already has
// returns the existing id.
func (c *Client) Register(ctx context.Context, subject, schemaText string) (int, error) {
	return c.idFor(ctx, subject, schemaText, true)
}

// Lookup returns the id of a schema already registered under subject
// (POST /subjects/{s}), for auto.register.schemas=false.
func (c *Client) Lookup(ctx context.Context, subject, schemaText string) (int, error) {
	return c.idFor(ctx, subject, schemaText, false)
}

func (c *Client) idFor(ctx context.Context, subject, schemaText string, register bool) (int, error) {
	k := subjectSchema{subject, schemaText}
	c.mu.RLock()
	id, ok := c.ids[k]
	c.mu.RUnlock()
	if ok {
		return id, nil
	}
	var ss sr.SubjectSchema
	var err error
	s := sr.Schema{Schema: schemaText, Type: sr.TypeAvro}
	if register {
		ss, err = c.cl.CreateSchema(ctx, subject, s)
		if err != nil {
			return 0, fmt.Errorf("registry: register schema under subject %q: %w", subject, err)
		}
	} else {
		ss, err = c.cl.LookupSchema(ctx, subject, s)
		if err != nil {
			return 0, fmt.Errorf("registry: look up schema under subject %q (auto.register.schemas=false): %w", subject, err)
		}
	}
	c.mu.Lock()
	c.ids[k] = ss.ID
	c.byID[ss.ID] = schemaText
	c.mu.Unlock()
	return ss.ID, nil
}

// SchemaByID returns the schema text of a global id (GET /schemas/ids/{id}).
func (c *Client) SchemaByID(ctx context.Context, id int) (string, error) {
	c.mu.RLock()
	s, ok := c.byID[id]
	c.mu.RUnlock()
	if ok {
		return s, nil
	}
	sc, err := c.cl.SchemaByID(ctx, id)
	if err != nil {
		return "", fmt.Errorf("registry: schema id %d: %w", id, err)
	}
	if sc.Type != sr.TypeAvro {
		return "", fmt.Errorf("registry: schema id %d is %s, not AVRO", id, sc.Type)
	}
	c.mu.Lock()
	c.byID[id] = sc.Schema
	c.mu.Unlock()
	return sc.Schema, nil
}

// Latest returns the latest schema of subject (use.latest.version).
func (c *Client) Latest(ctx context.Context, subject string) (id int, schemaText string, err error) {
	c.mu.RLock()
	e, ok := c.latest[subject]
	c.mu.RUnlock()
	if ok && (c.latestTTL <= 0 || time.Since(e.at) < c.latestTTL) {
		return e.ss.ID, e.ss.Schema.Schema, nil
	}
	ss, err := c.cl.SchemaByVersion(ctx, subject, -1)
	if err != nil {
		return 0, "", fmt.Errorf("registry: latest schema of subject %q: %w", subject, err)
	}
	c.mu.Lock()
	c.latest[subject] = latestEntry{ss: ss, at: time.Now()}
	c.byID[ss.ID] = ss.Schema.Schema
	c.mu.Unlock()
	return ss.ID, ss.Schema.Schema, nil
}

// withoutUserinfo hides the user and password of a URL that did not parse
// (scheme://user:password@host…), for error messages.
func withoutUserinfo(raw string) string {
	i := strings.Index(raw, "://")
	if i < 0 {
		return raw
	}
	rest := raw[i+3:]
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	if at := strings.LastIndex(rest[:end], "@"); at >= 0 {
		return raw[:i+3] + "[hidden]@" + rest[at+1:]
	}
	return raw
}
