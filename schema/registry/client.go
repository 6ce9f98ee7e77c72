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
	byID   map[int]Schema
	ids    map[subjectSchema]int
	latest map[string]latestEntry
}

// subjectSchema keys the id cache: subject and the schema's identity.
type subjectSchema struct{ subject, schema string }

func schemaKeyOf(subject string, s Schema) subjectSchema {
	return subjectSchema{subject, stored{typ: normType(s.Type), text: s.Schema, refs: s.References}.identity()}
}

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
		byID:      map[int]Schema{},
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
	return c.idFor(ctx, subject, Schema{Type: TypeAvro, Schema: schemaText}, true)
}

// Lookup returns the id of an Avro schema already registered under subject
// (POST /subjects/{s}), for auto.register.schemas=false.
func (c *Client) Lookup(ctx context.Context, subject, schemaText string) (int, error) {
	return c.idFor(ctx, subject, Schema{Type: TypeAvro, Schema: schemaText}, false)
}

// RegisterSchema registers a schema of any type, with its references, under
// subject (POST /subjects/{s}/versions with schemaType and references) and
// returns its global id.
func (c *Client) RegisterSchema(ctx context.Context, subject string, s Schema) (int, error) {
	return c.idFor(ctx, subject, s, true)
}

// LookupSchema returns the id of a schema of any type already registered
// under subject (POST /subjects/{s} with schemaType and references).
func (c *Client) LookupSchema(ctx context.Context, subject string, s Schema) (int, error) {
	return c.idFor(ctx, subject, s, false)
}

func toSR(s Schema) (sr.Schema, error) {
	out := sr.Schema{Schema: s.Schema}
	switch normType(s.Type) {
	case TypeAvro:
		out.Type = sr.TypeAvro
	case TypeJSON:
		out.Type = sr.TypeJSON
	case TypeProtobuf:
		out.Type = sr.TypeProtobuf
	default:
		return out, fmt.Errorf("registry: unknown schema type %q", s.Type)
	}
	for _, r := range s.References {
		out.References = append(out.References, sr.SchemaReference{Name: r.Name, Subject: r.Subject, Version: r.Version})
	}
	return out, nil
}

func fromSR(s sr.Schema) Schema {
	out := Schema{Type: s.Type.String(), Schema: s.Schema}
	if out.Type == "" {
		out.Type = TypeAvro
	}
	for _, r := range s.References {
		out.References = append(out.References, Reference{Name: r.Name, Subject: r.Subject, Version: r.Version})
	}
	return out
}

func (c *Client) idFor(ctx context.Context, subject string, s Schema, register bool) (int, error) {
	k := schemaKeyOf(subject, s)
	c.mu.RLock()
	id, ok := c.ids[k]
	c.mu.RUnlock()
	if ok {
		return id, nil
	}
	req, err := toSR(s)
	if err != nil {
		return 0, err
	}
	if register {
		// RegisterSchema answers with the id alone (one request);
		// CreateSchema would look the usages up as well.
		id, err = c.cl.RegisterSchema(ctx, subject, req, -1, -1)
		if err != nil {
			return 0, fmt.Errorf("registry: register %s schema under subject %q: %w", normType(s.Type), subject, err)
		}
	} else {
		ss, err := c.cl.LookupSchema(ctx, subject, req)
		if err != nil {
			return 0, fmt.Errorf("registry: look up %s schema under subject %q (auto.register.schemas=false): %w", normType(s.Type), subject, err)
		}
		id = ss.ID
	}
	c.mu.Lock()
	c.ids[k] = id
	if _, ok := c.byID[id]; !ok {
		c.byID[id] = Schema{Type: normType(s.Type), Schema: s.Schema, References: s.References}
	}
	c.mu.Unlock()
	return id, nil
}

// SchemaByID returns the text of the Avro schema with a global id
// (GET /schemas/ids/{id}); a schema of another type is an error.
func (c *Client) SchemaByID(ctx context.Context, id int) (string, error) {
	s, err := c.SchemaOf(ctx, id)
	if err != nil {
		return "", err
	}
	if s.Type != TypeAvro {
		return "", fmt.Errorf("registry: schema id %d is %s, not AVRO", id, s.Type)
	}
	return s.Schema, nil
}

// SchemaOf returns the schema with a global id, of any type, with its type
// and references (GET /schemas/ids/{id}).
func (c *Client) SchemaOf(ctx context.Context, id int) (Schema, error) {
	c.mu.RLock()
	s, ok := c.byID[id]
	c.mu.RUnlock()
	if ok {
		return s, nil
	}
	sc, err := c.cl.SchemaByID(ctx, id)
	if err != nil {
		return Schema{}, fmt.Errorf("registry: schema id %d: %w", id, err)
	}
	s = fromSR(sc)
	c.mu.Lock()
	c.byID[id] = s
	c.mu.Unlock()
	return s, nil
}

// SchemaAt returns the schema registered as subject/version (version -1:
// the latest), with its id (GET /subjects/{s}/versions/{v}); references
// are resolved with it.
func (c *Client) SchemaAt(ctx context.Context, subject string, version int) (int, Schema, error) {
	ss, err := c.cl.SchemaByVersion(ctx, subject, version)
	if err != nil {
		return 0, Schema{}, fmt.Errorf("registry: subject %q version %d: %w", subject, version, err)
	}
	return ss.ID, fromSR(ss.Schema), nil
}

// Latest returns the latest Avro schema of subject (use.latest.version).
func (c *Client) Latest(ctx context.Context, subject string) (id int, schemaText string, err error) {
	id, s, err := c.LatestSchema(ctx, subject)
	return id, s.Schema, err
}

// LatestSchema returns the latest schema of subject, of any type
// (use.latest.version), cached for LatestTTL.
func (c *Client) LatestSchema(ctx context.Context, subject string) (int, Schema, error) {
	c.mu.RLock()
	e, ok := c.latest[subject]
	c.mu.RUnlock()
	if ok && (c.latestTTL <= 0 || time.Since(e.at) < c.latestTTL) {
		return e.ss.ID, fromSR(e.ss.Schema), nil
	}
	ss, err := c.cl.SchemaByVersion(ctx, subject, -1)
	if err != nil {
		return 0, Schema{}, fmt.Errorf("registry: latest schema of subject %q: %w", subject, err)
	}
	s := fromSR(ss.Schema)
	c.mu.Lock()
	c.latest[subject] = latestEntry{ss: ss, at: time.Now()}
	c.byID[ss.ID] = s
	c.mu.Unlock()
	return ss.ID, s, nil
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
