package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"mime"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/connector/config"
	"github.com/tributary-cdc/tributary/runtime/topics"
)

// DefaultPort is Connect's REST port.
const DefaultPort = 8083

// DefaultVersion is the Kafka Connect version the API reports (tools check
// it to know which endpoints exist, e.g. KIP-875 offsets since 3.5).
const DefaultVersion = "3.9.0"

const maxBody = 16 << 20

// Options configure a Server.
type Options struct {
	// Herder runs the operations. Required.
	Herder Herder
	// Registry holds the plugins of every kind: GET /connector-plugins
	// lists them, GET /connector-plugins/{plugin}/config describes them and
	// PUT /connector-plugins/{plugin}/config/validate checks a config of a
	// converter, transform or predicate without a Herder.
	Registry *connector.Registry
	// Metrics, when set, is served on GET /metrics.
	Metrics http.Handler
	// ClusterID returns the Kafka cluster ID for GET /.
	ClusterID func(ctx context.Context) (string, error)
	// Version and Commit are reported by GET /; Version defaults to
	// DefaultVersion.
	Version, Commit string
	// LogLevel, when set, is the root level GET/PUT /admin/loggers read
	// and change.
	LogLevel *slog.LevelVar
	Logger   *slog.Logger
	// TopicTracking enables GET /connectors/{name}/topics (default on in
	// Connect: topic.tracking.enable). Set DisableTopicTracking to turn it off.
	DisableTopicTracking bool
	// RequestTimeout bounds each Herder call (default 90 s, as Connect).
	RequestTimeout time.Duration
}

// ActiveTopicser is implemented by Herders that track the topics each
// connector used (KIP-558). Without it, sinks report their configured topics
// and sources none.
type ActiveTopicser interface {
	ActiveTopics(ctx context.Context, name string) ([]string, error)
	ResetActiveTopics(ctx context.Context, name string) error
}

// Server is the REST API.
type Server struct {
	opts Options
	h    Herder
	log  *slog.Logger
	mux  *http.ServeMux

	loggersMu sync.Mutex
	loggers   map[string]loggerLevel
}

type loggerLevel struct {
	Level string `json:"level"`
	// LastModified is when the level was last set through the API
	// (milliseconds since the epoch), null when never (KIP-976); the root
	// logger's stays null, as in Connect 4.4.
	LastModified *int64 `json:"last_modified"`
}

// New returns a Server.
func New(opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Version == "" {
		opts.Version = DefaultVersion
	}
	if opts.RequestTimeout <= 0 {
		opts.RequestTimeout = 90 * time.Second
	}
	s := &Server{opts: opts, h: opts.Herder, log: opts.Logger, mux: http.NewServeMux(), loggers: map[string]loggerLevel{}}
	s.routes()
	return s
}

// Handler returns the API's HTTP handler.
func (s *Server) Handler() http.Handler { return s }

func (s *Server) routes() {
	paths := map[string]bool{}
	handle := func(method, path string, fn func(w http.ResponseWriter, r *http.Request) error) {
		paths[path] = true
		s.mux.HandleFunc(method+" "+path, func(w http.ResponseWriter, r *http.Request) {
			r = r.WithContext(context.WithValue(r.Context(), secretsKey{}, &secretSet{}))
			if err := fn(w, r); err != nil {
				s.writeError(w, r, err)
			}
		})
	}
	handle("GET", "/{$}", s.root)
	handle("GET", "/health", s.health)
	handle("GET", "/connectors", s.listConnectors)
	handle("GET", "/connectors/{$}", s.listConnectors)
	handle("POST", "/connectors", s.createConnector)
	handle("POST", "/connectors/{$}", s.createConnector)
	handle("GET", "/connectors/{name}", s.getConnector)
	handle("DELETE", "/connectors/{name}", s.deleteConnector)
	handle("GET", "/connectors/{name}/config", s.getConfig)
	handle("PUT", "/connectors/{name}/config", s.putConfig)
	handle("PATCH", "/connectors/{name}/config", s.patchConfig)
	handle("GET", "/connectors/{name}/status", s.getStatus)
	handle("GET", "/connectors/{name}/tasks", s.getTasks)
	handle("GET", "/connectors/{name}/tasks/{task}/status", s.getTaskStatus)
	handle("POST", "/connectors/{name}/tasks/{task}/restart", s.restartTask)
	handle("POST", "/connectors/{name}/restart", s.restartConnector)
	handle("PUT", "/connectors/{name}/pause", s.pause)
	handle("PUT", "/connectors/{name}/resume", s.resume)
	handle("PUT", "/connectors/{name}/stop", s.stop)
	handle("GET", "/connectors/{name}/topics", s.getTopics)
	handle("PUT", "/connectors/{name}/topics/reset", s.resetTopics)
	handle("GET", "/connectors/{name}/offsets", s.getOffsets)
	handle("PATCH", "/connectors/{name}/offsets", s.alterOffsets)
	handle("DELETE", "/connectors/{name}/offsets", s.resetOffsets)
	handle("GET", "/connector-plugins", s.listPlugins)
	handle("GET", "/connector-plugins/{$}", s.listPlugins)
	handle("GET", "/connector-plugins/{plugin}/config", s.pluginConfig)
	handle("PUT", "/connector-plugins/{plugin}/config/validate", s.validate)
	handle("GET", "/admin/loggers", s.getLoggers)
	handle("GET", "/admin/loggers/{logger}", s.getLogger)
	handle("PUT", "/admin/loggers/{logger}", s.putLogger)
	if s.opts.Metrics != nil {
		paths["/metrics"] = true
		s.mux.Handle("GET /metrics", s.opts.Metrics)
	}
	// Known paths with another method: 405; anything else: 404 (JSON bodies).
	for p := range paths {
		s.mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
			s.writeError(w, r, &Error{Code: http.StatusMethodNotAllowed, Message: "HTTP 405 Method Not Allowed"})
		})
	}
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, &Error{Code: http.StatusNotFound, Message: "HTTP 404 Not Found"})
	})
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
	if !acceptsBody(r) {
		s.writeError(sw, r, &Error{Code: http.StatusUnsupportedMediaType, Message: "HTTP 415 Unsupported Media Type"})
		s.log.Debug("rest request refused", "method", r.Method, "path", r.URL.Path, "status", sw.code, "content_type", r.Header.Get("Content-Type"))
		return
	}
	s.mux.ServeHTTP(sw, r)
	if r.URL.Path != "/metrics" {
		s.log.Debug("rest request", "method", r.Method, "path", r.URL.Path, "status", sw.code, "took", time.Since(start))
	}
}

// acceptsBody reports whether a write request's body may be read: POST, PUT
// and PATCH that carry a Content-Type must say application/json, as Connect's
// Jersey resources (@Consumes(APPLICATION_JSON)) require, answering others
// with 415. This is what stops a web page in a user's browser from creating
// connectors: a cross-origin request without a CORS preflight can only send
// text/plain, form or multipart bodies. A request without a Content-Type
// (curl -X PUT …/pause, Go's http client without a header) is accepted, since
// a browser never sends a body without one.
func acceptsBody(r *http.Request) bool {
	switch r.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch:
	default:
		return true
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == "application/json"
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Serve answers requests on ln (plain http) until ctx ends, then shuts
// down gracefully; see the package function Serve for several listeners.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	return Serve(ctx, s, []*Listener{{Listener: ln, Scheme: "http"}}, s.log)
}

// ---- responses ----

func writeJSON(w http.ResponseWriter, code int, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("encode response: %w", err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(bytes.TrimRight(buf.Bytes(), "\n"))
	return nil
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code, msg := s.classify(r, err)
	// Whatever a message quotes (a URL parse error, a driver's error, an
	// invalid value) never shows a secret the request or the stored
	// config holds.
	msg = scrub(r.Context(), msg)
	if code >= 500 {
		s.log.Error("rest request failed", "method", r.Method, "path", r.URL.Path, "status", code, "error", msg)
	}
	_ = writeJSON(w, code, ErrorMessage{ErrorCode: code, Message: msg})
}

func (s *Server) classify(r *http.Request, err error) (int, string) {
	name := r.PathValue("name")
	var re *Error
	var ce config.Errors
	switch {
	case errors.As(err, &re):
		return re.Code, re.Message
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound, fmt.Sprintf("Connector %s not found", name)
	case errors.Is(err, ErrTaskNotFound):
		return http.StatusNotFound, fmt.Sprintf("Task %s-%s not found", name, r.PathValue("task"))
	case errors.Is(err, ErrExists):
		return http.StatusConflict, fmt.Sprintf("Connector %s already exists", name)
	case errors.Is(err, ErrNotStopped):
		return http.StatusBadRequest, notStoppedMessage(name)
	case errors.Is(err, ErrConflict):
		return http.StatusConflict, err.Error()
	case errors.Is(err, ErrPluginNotFound):
		return http.StatusBadRequest, err.Error()
	case errors.As(err, &ce):
		return http.StatusBadRequest, invalidConfigMessage(ce)
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusInternalServerError, "Request timed out"
	}
	return http.StatusInternalServerError, err.Error()
}

func notStoppedMessage(name string) string {
	return fmt.Sprintf("Connectors must be in the STOPPED state before their offsets can be modified. "+
		"This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/%s/stop' endpoint", name)
}

func invalidConfigMessage(errs config.Errors) string {
	lines := make([]string, len(errs))
	for i, e := range errs {
		lines[i] = e.Message
		if !strings.Contains(e.Message, e.Key) {
			lines[i] = e.Key + ": " + e.Message
		}
	}
	return fmt.Sprintf("Connector configuration is invalid and contains the following %d error(s):\n%s\n"+
		"You can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`",
		len(errs), strings.Join(lines, "\n"))
}

func (s *Server) ctx(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), s.opts.RequestTimeout)
}

// ---- request bodies ----

func readBody(r *http.Request, v any) error {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		return badRequest("reading request body: %v", err)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return badRequest("Request body is empty")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return badRequest("Invalid JSON in request body: %v", err)
	}
	return nil
}

// readConfigBody reads a request body that is a connector config (a JSON
// object of strings) as stringMap does, errors naming "config".
func readConfigBody(r *http.Request) (cfg map[string]string, nulls []string, err error) {
	var raw map[string]any
	if err := readBody(r, &raw); err != nil {
		return nil, nil, err
	}
	return stringMap(raw, "config")
}

// stringMap turns a JSON object into a config map the way Jackson binds
// Map<String,String>: numbers and booleans become their text. With
// keepNull, null values are returned in nulls (PATCH removes them);
// otherwise they are dropped.
func stringMap(raw map[string]any, field string) (cfg map[string]string, nulls []string, err error) {
	cfg = make(map[string]string, len(raw))
	for k, v := range raw {
		switch x := v.(type) {
		case string:
			cfg[k] = x
		case json.Number:
			cfg[k] = x.String()
		case bool:
			cfg[k] = strconv.FormatBool(x)
		case nil:
			nulls = append(nulls, k)
		default:
			return nil, nil, badRequest("%s: the value of %q must be a string, not %T", field, k, v)
		}
	}
	return cfg, nulls, nil
}

// ---- redaction ----

// secretSuffixes are keys Kafka clients and converters define as PASSWORD,
// hidden even when the connector's definition does not declare them.
var secretSuffixes = []string{"password", "sasl.jaas.config", "basic.auth.user.info", "ssl.keystore.key", "ssl.keystore.certificate.chain"}

func isSecret(def *config.Def, key string) bool {
	if def != nil {
		if k, ok := def.Lookup(key); ok {
			return k.Type == config.Password
		}
	}
	lk := strings.ToLower(key)
	for _, s := range secretSuffixes {
		if lk == s || strings.HasSuffix(lk, "."+s) {
			return true
		}
	}
	return false
}

// Redact returns cfg with secret values replaced by [hidden], and the
// passwords inside other values (URL userinfo, password= parameters of JDBC
// URLs and DSNs) too (config provider references are not secrets and are
// kept).
func Redact(def *config.Def, cfg map[string]string) map[string]string {
	out := make(map[string]string, len(cfg))
	for k, v := range cfg {
		if isSecret(def, k) && !config.IsReference(strings.TrimSpace(v)) {
			v = config.HiddenValue
		}
		out[k] = config.RedactURL(v)
	}
	return out
}

// defFor returns the definition of a connector config's class (nil when
// unknown: redaction then falls back to well-known secret names).
func (s *Server) defFor(ctx context.Context, cfg map[string]string) (*config.Def, string) {
	def, typ, err := s.h.ConfigDef(ctx, strings.TrimSpace(cfg["connector.class"]))
	if err != nil {
		return nil, ""
	}
	return def, typ
}

// ---- handlers: root ----

func (s *Server) root(w http.ResponseWriter, r *http.Request) error {
	info := ServerInfo{Version: s.opts.Version, Commit: s.opts.Commit}
	if s.opts.ClusterID != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
		defer cancel()
		id, err := s.opts.ClusterID(ctx)
		if err != nil {
			s.log.Warn("kafka cluster id", "error", err)
		}
		info.KafkaClusterID = id
	}
	return writeJSON(w, http.StatusOK, info)
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, map[string]string{
		"status":  "healthy",
		"message": "Worker has completed startup and is ready to handle requests.",
	})
}

// ---- handlers: connectors ----

func (s *Server) listConnectors(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := s.ctx(r)
	defer cancel()
	names, err := s.h.Connectors(ctx)
	if err != nil {
		return err
	}
	if names == nil {
		names = []string{}
	}
	expand := r.URL.Query()["expand"]
	if len(expand) == 0 {
		return writeJSON(w, http.StatusOK, names)
	}
	out := make(map[string]map[string]any, len(names))
	for _, n := range names {
		m := map[string]any{}
		var err error
		for _, e := range expand {
			switch e {
			case "status":
				var st ConnectorStatus
				if st, err = s.status(ctx, n); err == nil {
					m["status"] = st
				}
			case "info":
				var info ConnectorInfo
				if info, err = s.connectorInfo(ctx, n); err == nil {
					m["info"] = info
				}
			}
			if err != nil {
				break
			}
		}
		if errors.Is(err, ErrNotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			return err
		}
		out[n] = m
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) connectorInfo(ctx context.Context, name string) (ConnectorInfo, error) {
	cfg, err := s.h.ConnectorConfig(ctx, name)
	if err != nil {
		return ConnectorInfo{}, err
	}
	tcs, err := s.h.TaskConfigs(ctx, name)
	if err != nil {
		return ConnectorInfo{}, err
	}
	def, typ := s.defFor(ctx, cfg)
	noteSecrets(ctx, def, cfg)
	if typ == "" {
		if st, err := s.h.ConnectorStatus(ctx, name); err == nil {
			typ = st.Type
		}
	}
	info := ConnectorInfo{Name: name, Config: Redact(def, cfg), Tasks: make([]TaskID, len(tcs)), Type: typ}
	for i := range tcs {
		info.Tasks[i] = TaskID{Connector: name, Task: i}
	}
	return info, nil
}

func (s *Server) createConnector(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Name         *string        `json:"name"`
		Config       map[string]any `json:"config"`
		InitialState string         `json:"initial_state"`
	}
	if err := readBody(r, &req); err != nil {
		return err
	}
	name := ""
	if req.Name != nil {
		name = strings.TrimSpace(*req.Name)
	}
	if req.Config == nil {
		return badRequest("Connector config is missing: the request needs a \"config\" object")
	}
	cfg, _, err := stringMap(req.Config, "config")
	if err != nil {
		return err
	}
	noteSecrets(r.Context(), nil, cfg)
	if err := refuseHidden(cfg); err != nil {
		return err
	}
	// As Connect: a config naming another connector is refused first,
	// also when the request has no name.
	if n, ok := cfg["name"]; ok && n != name {
		return badRequest("Connector name configuration (%s) doesn't match connector name in the URL (%s)", n, name)
	}
	if name == "" {
		return badRequest("Connector name must not be empty: the request needs a \"name\"")
	}
	if err := checkName(name); err != nil {
		return err
	}
	cfg["name"] = name
	initial := strings.ToUpper(strings.TrimSpace(req.InitialState))
	switch initial {
	case "":
		initial = StateRunning
	case StateRunning, StatePaused, StateStopped:
	default:
		return badRequest("Invalid initial state %s: must be one of RUNNING, PAUSED or STOPPED", req.InitialState)
	}
	r.SetPathValue("name", name)
	ctx, cancel := s.ctx(r)
	defer cancel()
	def, typ, err := s.checkConfig(ctx, cfg)
	if err != nil {
		return err
	}
	if _, err := s.h.PutConnectorConfig(ctx, name, cfg, initial, false); err != nil {
		return err
	}
	s.log.Info("connector created", "connector", name, "initial_state", initial, "config", Redact(def, cfg))
	info, err := s.connectorInfo(ctx, name)
	if err != nil {
		info = ConnectorInfo{Name: name, Config: Redact(def, cfg), Tasks: []TaskID{}, Type: typ}
	}
	w.Header().Set("Location", "/connectors/"+name)
	return writeJSON(w, http.StatusCreated, info)
}

func checkName(name string) error {
	for _, c := range name {
		if c < 0x20 || c == 0x7f {
			return badRequest("Connector name %q contains control characters", name)
		}
	}
	return nil
}

// checkConfig validates cfg (the same checks as config/validate) and
// returns a config.Errors listing every problem.
func (s *Server) checkConfig(ctx context.Context, cfg map[string]string) (*config.Def, string, error) {
	class := strings.TrimSpace(cfg["connector.class"])
	if class == "" {
		return nil, "", config.Errors{{Key: "connector.class", Message: "Missing required configuration \"connector.class\" which has no default value."}}
	}
	infos, def, typ, err := s.validateConfig(ctx, cfg)
	if err != nil {
		if errors.Is(err, ErrPluginNotFound) {
			return nil, "", badRequest("Failed to find any class that implements Connector and which name matches %s, available connectors are: %s",
				class, s.pluginDescs())
		}
		return nil, "", err
	}
	if infos.ErrorCount > 0 {
		var errs config.Errors
		for _, c := range infos.Configs {
			for _, m := range c.Value.Errors {
				errs = append(errs, config.KeyError{Key: c.Value.Name, Message: m})
			}
		}
		return def, typ, errs
	}
	return def, typ, nil
}

// pluginDescs lists the connector plugins as Connect's error for an
// unknown connector.class does (its PluginDesc.toString, location
// "builtin": every plugin is compiled in).
func (s *Server) pluginDescs() string {
	if s.opts.Registry == nil {
		return ""
	}
	var out []string
	for _, p := range s.opts.Registry.Plugins() {
		out = append(out, fmt.Sprintf("PluginDesc{klass=class %s, name='%s', version='%s', encodedVersion=%s, type=%s, typeName='%s', location='builtin'}",
			p.Class(), p.Class(), p.Version(), p.Version(), p.Type(), p.Type()))
	}
	return strings.Join(out, ", ")
}

func (s *Server) getConnector(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := s.ctx(r)
	defer cancel()
	info, err := s.connectorInfo(ctx, r.PathValue("name"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, info)
}

func (s *Server) getConfig(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := s.ctx(r)
	defer cancel()
	cfg, err := s.h.ConnectorConfig(ctx, r.PathValue("name"))
	if err != nil {
		return err
	}
	def, _ := s.defFor(ctx, cfg)
	return writeJSON(w, http.StatusOK, Redact(def, cfg))
}

func (s *Server) putConfig(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	cfg, _, err := readConfigBody(r)
	if err != nil {
		return err
	}
	noteSecrets(r.Context(), nil, cfg)
	ctx, cancel := s.ctx(r)
	defer cancel()
	return s.put(ctx, w, name, cfg)
}

func (s *Server) patchConfig(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	patch, nulls, err := readConfigBody(r)
	if err != nil {
		return err
	}
	noteSecrets(r.Context(), nil, patch)
	ctx, cancel := s.ctx(r)
	defer cancel()
	cur, err := s.h.ConnectorConfig(ctx, name)
	if err != nil {
		return err
	}
	cfg := maps.Clone(cur)
	maps.Copy(cfg, patch)
	for _, k := range nulls {
		delete(cfg, k)
	}
	return s.put(ctx, w, name, cfg)
}

func (s *Server) existing(ctx context.Context, name string) (map[string]string, bool) {
	cfg, err := s.h.ConnectorConfig(ctx, name)
	return cfg, err == nil
}

// put creates or replaces a connector's config (PUT and PATCH …/config).
func (s *Server) put(ctx context.Context, w http.ResponseWriter, name string, cfg map[string]string) error {
	if err := checkName(name); err != nil {
		return err
	}
	if n, ok := cfg["name"]; ok && n != name {
		return badRequest("Connector name configuration (%s) doesn't match connector name in the URL (%s)", n, name)
	}
	cfg["name"] = name
	if old, ok := s.existing(ctx, name); ok {
		// A config read back from GET carries [hidden] for secrets: keep
		// the stored values for those, while they go where they went.
		oldDef, _ := s.defFor(ctx, old)
		noteSecrets(ctx, oldDef, old)
		if err := restoreHidden(oldDef, old, cfg); err != nil {
			return err
		}
	} else if err := refuseHidden(cfg); err != nil {
		return err
	}
	def, _, err := s.checkConfig(ctx, cfg)
	if err != nil {
		return err
	}
	created, err := s.h.PutConnectorConfig(ctx, name, cfg, StateRunning, true)
	if err != nil {
		return err
	}
	if created {
		s.log.Info("connector created", "connector", name, "config", Redact(def, cfg))
	} else {
		s.log.Info("connector config updated", "connector", name, "config", Redact(def, cfg))
	}
	info, err := s.connectorInfo(ctx, name)
	if err != nil {
		return err
	}
	if created {
		w.Header().Set("Location", "/connectors/"+name)
		return writeJSON(w, http.StatusCreated, info)
	}
	return writeJSON(w, http.StatusOK, info)
}

func (s *Server) deleteConnector(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := s.ctx(r)
	defer cancel()
	name := r.PathValue("name")
	if err := s.h.DeleteConnector(ctx, name); err != nil {
		return err
	}
	s.log.Info("connector deleted", "connector", name)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) getStatus(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := s.ctx(r)
	defer cancel()
	name := r.PathValue("name")
	st, err := s.status(ctx, name)
	if errors.Is(err, ErrNotFound) {
		return &Error{Code: http.StatusNotFound, Message: "No status found for connector " + name}
	}
	if err != nil {
		return err
	}
	if st.Tasks == nil {
		st.Tasks = []TaskState{}
	}
	return writeJSON(w, http.StatusOK, st)
}

func (s *Server) getTasks(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := s.ctx(r)
	defer cancel()
	name := r.PathValue("name")
	cfg, err := s.h.ConnectorConfig(ctx, name)
	if err != nil {
		return err
	}
	tcs, err := s.h.TaskConfigs(ctx, name)
	if err != nil {
		return err
	}
	def, _ := s.defFor(ctx, cfg)
	out := make([]TaskInfo, len(tcs))
	for i, tc := range tcs {
		c := Redact(def, tc)
		if tc, ok := taskClasses[connectClass(strings.TrimSpace(cfg["connector.class"]))]; ok {
			// As Connect, which adds the task class to each task config.
			c = maps.Clone(c)
			c["task.class"] = tc
		}
		out[i] = TaskInfo{ID: TaskID{Connector: name, Task: i}, Config: c}
	}
	return writeJSON(w, http.StatusOK, out)
}

func taskParam(r *http.Request) (int, error) {
	n, err := strconv.Atoi(r.PathValue("task"))
	if err != nil || n < 0 {
		return 0, &Error{Code: http.StatusNotFound, Message: "HTTP 404 Not Found"}
	}
	return n, nil
}

func (s *Server) getTaskStatus(w http.ResponseWriter, r *http.Request) error {
	id, err := taskParam(r)
	if err != nil {
		return err
	}
	ctx, cancel := s.ctx(r)
	defer cancel()
	name := r.PathValue("name")
	st, err := s.status(ctx, name)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	for _, t := range st.Tasks {
		if t.ID == id {
			return writeJSON(w, http.StatusOK, t)
		}
	}
	return &Error{Code: http.StatusNotFound, Message: fmt.Sprintf("No status found for task %s-%d", name, id)}
}

func (s *Server) restartTask(w http.ResponseWriter, r *http.Request) error {
	id, err := taskParam(r)
	if err != nil {
		return err
	}
	ctx, cancel := s.ctx(r)
	defer cancel()
	name := r.PathValue("name")
	if err := s.h.RestartTask(ctx, name, id); err != nil {
		if errors.Is(err, ErrTaskNotFound) {
			return &Error{Code: http.StatusNotFound, Message: fmt.Sprintf("Task %s-%d not found", name, id)}
		}
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func boolParam(r *http.Request, key string) (bool, error) {
	v := r.URL.Query().Get(key)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, badRequest("Invalid value %s for query parameter %s: must be true or false", v, key)
	}
	return b, nil
}

func (s *Server) restartConnector(w http.ResponseWriter, r *http.Request) error {
	includeTasks, err := boolParam(r, "includeTasks")
	if err != nil {
		return err
	}
	onlyFailed, err := boolParam(r, "onlyFailed")
	if err != nil {
		return err
	}
	ctx, cancel := s.ctx(r)
	defer cancel()
	name := r.PathValue("name")
	if !includeTasks && !onlyFailed {
		if err := s.h.RestartConnector(ctx, name, false, false); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	// The answer is the status with the instances being restarted marked
	// RESTARTING (Connect's restart plan).
	st, err := s.status(ctx, name)
	if err != nil {
		return err
	}
	if !onlyFailed || st.Connector.State == StateFailed {
		st.Connector.State, st.Connector.Trace = StateRestarting, ""
	}
	if includeTasks {
		for i := range st.Tasks {
			if !onlyFailed || st.Tasks[i].State == StateFailed {
				st.Tasks[i].State, st.Tasks[i].Trace = StateRestarting, ""
			}
		}
	}
	if st.Tasks == nil {
		st.Tasks = []TaskState{}
	}
	if err := s.h.RestartConnector(ctx, name, includeTasks, onlyFailed); err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, st)
}

func (s *Server) pause(w http.ResponseWriter, r *http.Request) error {
	return s.targetChange(w, r, unknownConnector(s.h.PauseConnector), http.StatusAccepted)
}

func (s *Server) resume(w http.ResponseWriter, r *http.Request) error {
	return s.targetChange(w, r, unknownConnector(s.h.ResumeConnector), http.StatusAccepted)
}

// unknownConnector answers a missing connector with Connect's wording for
// pause and resume ("Unknown connector n").
func unknownConnector(fn func(context.Context, string) error) func(context.Context, string) error {
	return func(ctx context.Context, name string) error {
		err := fn(ctx, name)
		if errors.Is(err, ErrNotFound) {
			return &Error{Code: http.StatusNotFound, Message: "Unknown connector " + name}
		}
		return err
	}
}

func (s *Server) stop(w http.ResponseWriter, r *http.Request) error {
	return s.targetChange(w, r, s.h.StopConnector, http.StatusNoContent)
}

func (s *Server) targetChange(w http.ResponseWriter, r *http.Request, fn func(context.Context, string) error, code int) error {
	ctx, cancel := s.ctx(r)
	defer cancel()
	if err := fn(ctx, r.PathValue("name")); err != nil {
		return err
	}
	w.WriteHeader(code)
	return nil
}

func (s *Server) getTopics(w http.ResponseWriter, r *http.Request) error {
	if s.opts.DisableTopicTracking {
		return &Error{Code: http.StatusForbidden, Message: "Topic tracking is disabled."}
	}
	ctx, cancel := s.ctx(r)
	defer cancel()
	name := r.PathValue("name")
	cfg, err := s.h.ConnectorConfig(ctx, name)
	if err != nil {
		return err
	}
	var ts []string
	if at, ok := s.h.(ActiveTopicser); ok {
		if ts, err = at.ActiveTopics(ctx, name); err != nil {
			return err
		}
	} else {
		for _, t := range strings.Split(cfg["topics"], ",") {
			if t = strings.TrimSpace(t); t != "" {
				ts = append(ts, t)
			}
		}
	}
	if ts == nil {
		ts = []string{}
	}
	slices.Sort(ts)
	return writeJSON(w, http.StatusOK, map[string]map[string][]string{name: {"topics": ts}})
}

func (s *Server) resetTopics(w http.ResponseWriter, r *http.Request) error {
	if s.opts.DisableTopicTracking {
		return &Error{Code: http.StatusForbidden, Message: "Topic tracking is disabled."}
	}
	ctx, cancel := s.ctx(r)
	defer cancel()
	name := r.PathValue("name")
	if _, err := s.h.ConnectorConfig(ctx, name); err != nil {
		return err
	}
	if at, ok := s.h.(ActiveTopicser); ok {
		if err := at.ResetActiveTopics(ctx, name); err != nil {
			return err
		}
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}

// ---- handlers: offsets (KIP-875) ----

func (s *Server) getOffsets(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := s.ctx(r)
	defer cancel()
	offs, err := s.h.Offsets(ctx, r.PathValue("name"))
	if err != nil {
		return err
	}
	if offs == nil {
		offs = []Offset{}
	}
	return writeJSON(w, http.StatusOK, Offsets{Offsets: offs})
}

// requireStopped answers 404/400 as Connect does before offsets change.
func (s *Server) requireStopped(ctx context.Context, name string) (ConnectorStatus, error) {
	st, err := s.h.ConnectorStatus(ctx, name)
	if err != nil {
		return st, err
	}
	if st.Connector.State != StateStopped {
		return st, &Error{Code: http.StatusBadRequest, Message: notStoppedMessage(name)}
	}
	return st, nil
}

func (s *Server) alterOffsets(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	var body struct {
		Offsets []struct {
			Partition map[string]any `json:"partition"`
			Offset    map[string]any `json:"offset"`
		} `json:"offsets"`
	}
	if err := readBody(r, &body); err != nil {
		return err
	}
	if len(body.Offsets) == 0 {
		return badRequest("Partitions / offsets need to be provided for an alter offsets request")
	}
	ctx, cancel := s.ctx(r)
	defer cancel()
	st, err := s.requireStopped(ctx, name)
	if err != nil {
		return err
	}
	offs := make([]Offset, len(body.Offsets))
	for i, o := range body.Offsets {
		if o.Partition == nil {
			return badRequest("The partition of each offset must be provided (entry %d has none)", i)
		}
		p, off := normalizeNumbers(o.Partition), normalizeNumbers(o.Offset)
		if st.Type == string(connector.Sink) {
			if err := checkSinkOffset(p, off); err != nil {
				return err
			}
		}
		offs[i] = Offset{Partition: p, Offset: off}
	}
	if err := s.h.AlterOffsets(ctx, name, offs); err != nil {
		return err
	}
	s.log.Info("connector offsets altered", "connector", name, "partitions", len(offs))
	return writeJSON(w, http.StatusOK, Message{Message: offsetsMessage(s.connectorClass(ctx, name), "altered")})
}

// connectorClass is name's connector.class ("" when unknown).
func (s *Server) connectorClass(ctx context.Context, name string) string {
	cfg, err := s.h.ConnectorConfig(ctx, name)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(cfg["connector.class"])
}

// offsetsMessage is Connect's answer to a successful PATCH or DELETE of
// offsets ("altered" or "reset"): the short one for connectors whose
// alterOffsets answers true (Kafka's FileStream connectors), else the one
// warning that offsets a connector keeps elsewhere are not changed
// (Connect's default, Debezium's and Confluent's connectors).
func offsetsMessage(class, verb string) string {
	if tc := connectClass(class); strings.HasPrefix(tc, "org.apache.kafka.connect.file.") {
		return "The offsets for this connector have been " + verb + " successfully"
	}
	return "The Connect framework-managed offsets for this connector have been " + verb + " successfully. " +
		"However, if this connector manages offsets externally, they will need to be manually " + verb +
		" in the system that the connector uses."
}

// taskClasses maps the connector classes Tributary implements to the task
// class their Connect implementation names, which Connect adds to every
// task config as task.class.
var taskClasses = map[string]string{
	"io.debezium.connector.mysql.MySqlConnector":              "io.debezium.connector.mysql.MySqlConnectorTask",
	"io.debezium.connector.mariadb.MariaDbConnector":          "io.debezium.connector.mariadb.MariaDbConnectorTask",
	"io.debezium.connector.postgresql.PostgresConnector":      "io.debezium.connector.postgresql.PostgresConnectorTask",
	"io.confluent.connect.jdbc.JdbcSourceConnector":           "io.confluent.connect.jdbc.source.JdbcSourceTask",
	"io.confluent.connect.jdbc.JdbcSinkConnector":             "io.confluent.connect.jdbc.sink.JdbcSinkTask",
	"io.confluent.connect.s3.S3SinkConnector":                 "io.confluent.connect.s3.S3SinkTask",
	"org.apache.kafka.connect.file.FileStreamSourceConnector": "org.apache.kafka.connect.file.FileStreamSourceTask",
	"org.apache.kafka.connect.file.FileStreamSinkConnector":   "org.apache.kafka.connect.file.FileStreamSinkTask",
}

// connectClass resolves a connector.class value (a full name, or a short
// name as Connect accepts: MySqlConnector, FileStreamSource, JdbcSink…) to
// a key of taskClasses ("" when none).
func connectClass(class string) string {
	if _, ok := taskClasses[class]; ok {
		return class
	}
	short := class[strings.LastIndex(class, ".")+1:]
	for k := range taskClasses {
		if last := k[strings.LastIndex(k, ".")+1:]; short != "" && (last == short || last == short+"Connector") {
			return k
		}
	}
	return ""
}

func checkSinkOffset(p, off map[string]any) error {
	topic, ok := p["kafka_topic"].(string)
	if !ok || topic == "" {
		return badRequest("Kafka topic names must be valid strings: the partition of a sink connector offset needs a \"kafka_topic\" string")
	}
	if n, ok := p["kafka_partition"].(int64); !ok || n < 0 || n > 1<<31-1 {
		return badRequest("Kafka partitions must be valid integers: the partition of a sink connector offset needs a \"kafka_partition\" number")
	}
	if off != nil {
		if n, ok := off["kafka_offset"].(int64); !ok || n < 0 {
			return badRequest("Kafka offsets must be valid non-negative integers: the offset of a sink connector needs a \"kafka_offset\" number")
		}
	}
	return nil
}

// normalizeNumbers turns json.Number into int64 (or float64) recursively.
func normalizeNumbers(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = normalizeValue(v)
	}
	return out
}

func normalizeValue(v any) any {
	switch x := v.(type) {
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		return normalizeNumbers(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalizeValue(e)
		}
		return out
	}
	return v
}

func (s *Server) resetOffsets(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := s.ctx(r)
	defer cancel()
	name := r.PathValue("name")
	if _, err := s.requireStopped(ctx, name); err != nil {
		return err
	}
	if err := s.h.ResetOffsets(ctx, name); err != nil {
		return err
	}
	s.log.Info("connector offsets reset", "connector", name)
	return writeJSON(w, http.StatusOK, Message{Message: offsetsMessage(s.connectorClass(ctx, name), "reset")})
}

// ---- handlers: plugins ----

func (s *Server) listPlugins(w http.ResponseWriter, r *http.Request) error {
	connectorsOnly := true
	if v := r.URL.Query().Get("connectorsOnly"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return badRequest("Invalid value %s for query parameter connectorsOnly: must be true or false", v)
		}
		connectorsOnly = b
	}
	out := []PluginInfo{}
	if s.opts.Registry != nil {
		for _, p := range s.opts.Registry.Plugins() {
			out = append(out, PluginInfo{Class: p.Class(), Type: string(p.Type()), Version: p.Version()})
		}
		if !connectorsOnly {
			// The other kinds in Connect's order (ConnectorPluginsResource):
			// transformations, predicates, converters, header converters.
			for _, t := range otherPluginTypes() {
				for _, e := range s.opts.Registry.Entries(t) {
					v := e.Version
					if v == "" {
						v = s.opts.Version
					}
					out = append(out, PluginInfo{Class: e.Class, Type: string(e.Type), Version: v})
				}
			}
		}
	}
	return writeJSON(w, http.StatusOK, out)
}

// otherPluginTypes are the plugin kinds besides connectors, in the order
// GET /connector-plugins?connectorsOnly=false lists them.
func otherPluginTypes() []connector.Type {
	return []connector.Type{connector.Transformation, connector.Predicate, connector.Converter, connector.HeaderConverter}
}

// otherPlugin finds a converter, header converter, transform or predicate
// by name; connectors are not returned.
func (s *Server) otherPlugin(name string) (connector.Entry, bool) {
	if s.opts.Registry == nil {
		return connector.Entry{}, false
	}
	e, ok := s.opts.Registry.FindAny(name)
	if !ok || e.Type == connector.Source || e.Type == connector.Sink {
		return connector.Entry{}, false
	}
	return e, true
}

func (s *Server) pluginConfig(w http.ResponseWriter, r *http.Request) error {
	// As Connect (KIP-769): the plugin's own keys, for every kind.
	if s.opts.Registry != nil {
		p, err := s.opts.Registry.Lookup(r.PathValue("plugin"))
		if err != nil {
			if e, ok := s.otherPlugin(r.PathValue("plugin")); ok {
				return writeJSON(w, http.StatusOK, e.Def().KeyInfos())
			}
			return &Error{Code: http.StatusNotFound, Message: "Unknown plugin " + r.PathValue("plugin") + "."}
		}
		return writeJSON(w, http.StatusOK, p.Config().KeyInfos())
	}
	ctx, cancel := s.ctx(r)
	defer cancel()
	def, typ, err := s.h.ConfigDef(ctx, r.PathValue("plugin"))
	if err != nil {
		if errors.Is(err, ErrPluginNotFound) {
			return &Error{Code: http.StatusNotFound, Message: "Unknown plugin " + r.PathValue("plugin") + "."}
		}
		return err
	}
	if typ == string(connector.Source) {
		def = def.Merge(topics.Def())
	}
	return writeJSON(w, http.StatusOK, def.KeyInfos())
}

func (s *Server) validate(w http.ResponseWriter, r *http.Request) error {
	plugin := r.PathValue("plugin")
	cfg, _, err := readConfigBody(r)
	if err != nil {
		return err
	}
	noteSecrets(r.Context(), nil, cfg)
	if e, ok := s.otherPlugin(plugin); ok {
		return writeJSON(w, http.StatusOK, s.validatePlugin(r.Context(), e, cfg))
	}
	ctx, cancel := s.ctx(r)
	defer cancel()
	pdef, _, err := s.h.ConfigDef(ctx, plugin)
	if err != nil {
		return err
	}
	if included := strings.TrimSpace(cfg["connector.class"]); included == "" {
		cfg["connector.class"] = plugin
	} else if !s.samePlugin(ctx, included, plugin, pdef) {
		return badRequest("Included connector type %s does not match request type %s", included, plugin)
	}
	infos, _, _, err := s.validateConfig(ctx, cfg)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, infos)
}

// validatePlugin checks the config of a converter, header converter,
// transform or predicate (its own keys, unprefixed, as in
// /connector-plugins/{plugin}/config) and answers Connect's ConfigInfos
// named by its class. Connect validates connector configs only; this is the
// same shape for the other kinds.
func (s *Server) validatePlugin(ctx context.Context, e connector.Entry, cfg map[string]string) config.ConfigInfos {
	def := e.Def()
	noteSecrets(ctx, def, cfg)
	return redactInfos(ctx, def, def.Infos(e.Class, cfg, e.Check(cfg)))
}

// samePlugin reports whether two class names (or aliases) name one plugin.
func (s *Server) samePlugin(ctx context.Context, a, b string, bdef *config.Def) bool {
	if a == b {
		return true
	}
	if s.opts.Registry != nil {
		pa, errA := s.opts.Registry.Lookup(a)
		pb, errB := s.opts.Registry.Lookup(b)
		return errA == nil && errB == nil && pa.Class() == pb.Class()
	}
	adef, _, err := s.h.ConfigDef(ctx, a)
	return err == nil && sameDef(adef, bdef)
}

// sameDef reports whether two definitions declare the same keys.
func sameDef(a, b *config.Def) bool {
	ka, kb := a.Keys(), b.Keys()
	if len(ka) != len(kb) {
		return false
	}
	for i := range ka {
		if ka[i].Name != kb[i].Name {
			return false
		}
	}
	return true
}

// validateConfig runs every check on a connector config and returns
// Connect's ConfigInfos plus the definition used.
func (s *Server) validateConfig(ctx context.Context, cfg map[string]string) (config.ConfigInfos, *config.Def, string, error) {
	class := strings.TrimSpace(cfg["connector.class"])
	def, typ, err := s.h.ConfigDef(ctx, class)
	if err != nil {
		return config.ConfigInfos{}, nil, "", err
	}
	errs, err := s.h.Validate(ctx, cfg)
	if err != nil {
		return config.ConfigInfos{}, nil, "", err
	}
	if typ == string(connector.Source) {
		def = def.Merge(topics.Def())
		errs = append(errs, topics.Validate(cfg)...)
	}
	noteSecrets(ctx, def, cfg)
	return redactInfos(ctx, def, def.Infos(class, cfg, errs)), def, typ, nil
}

// ---- handlers: loggers ----

func (s *Server) rootLevel() string {
	if s.opts.LogLevel == nil {
		return "INFO"
	}
	return levelName(s.opts.LogLevel.Level())
}

func levelName(l slog.Level) string {
	switch {
	case l <= slog.LevelDebug:
		return "DEBUG"
	case l <= slog.LevelInfo:
		return "INFO"
	case l <= slog.LevelWarn:
		return "WARN"
	}
	return "ERROR"
}

func (s *Server) getLoggers(w http.ResponseWriter, r *http.Request) error {
	s.loggersMu.Lock()
	out := maps.Clone(s.loggers)
	s.loggersMu.Unlock()
	out["root"] = loggerLevel{Level: s.rootLevel()}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) getLogger(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("logger")
	if name == "root" {
		return writeJSON(w, http.StatusOK, loggerLevel{Level: s.rootLevel()})
	}
	s.loggersMu.Lock()
	l, ok := s.loggers[name]
	s.loggersMu.Unlock()
	if !ok {
		return &Error{Code: http.StatusNotFound, Message: "Logger " + name + " not found."}
	}
	return writeJSON(w, http.StatusOK, l)
}

func (s *Server) putLogger(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("logger")
	var body struct {
		Level string `json:"level"`
	}
	if err := readBody(r, &body); err != nil {
		return err
	}
	var lvl slog.Level
	switch strings.ToUpper(strings.TrimSpace(body.Level)) {
	case "TRACE", "DEBUG":
		lvl = slog.LevelDebug
	case "INFO":
		lvl = slog.LevelInfo
	case "WARN":
		lvl = slog.LevelWarn
	case "ERROR", "FATAL", "OFF":
		lvl = slog.LevelError
	default:
		return badRequest("Invalid log level '%s'.", body.Level)
	}
	now := time.Now().UnixMilli()
	if name == "root" {
		if s.opts.LogLevel != nil {
			s.opts.LogLevel.Set(lvl)
		}

	} else {
		s.loggersMu.Lock()
		s.loggers[name] = loggerLevel{Level: strings.ToUpper(body.Level), LastModified: &now}
		s.loggersMu.Unlock()
	}
	if r.URL.Query().Get("scope") == "cluster" {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return writeJSON(w, http.StatusOK, []string{name})
}
