package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Compatibility levels.
const (
	CompatNone               = "NONE"
	CompatBackward           = "BACKWARD"
	CompatBackwardTransitive = "BACKWARD_TRANSITIVE"
	CompatForward            = "FORWARD"
	CompatForwardTransitive  = "FORWARD_TRANSITIVE"
	CompatFull               = "FULL"
	CompatFullTransitive     = "FULL_TRANSITIVE"
)

var levels = []string{CompatNone, CompatBackward, CompatBackwardTransitive, CompatForward, CompatForwardTransitive, CompatFull, CompatFullTransitive}

// DefaultTopic is the topic schemas are stored in (kafkastore.topic).
const DefaultTopic = "_schemas"

// Options configures NewServer.
type Options struct {
	// Addr is the listen address; default ":8081". Use "127.0.0.1:0" in tests.
	Addr string
	// Brokers are the bootstrap servers of the cluster holding Topic. Empty
	// means memory only: nothing survives a restart (tests only).
	Brokers []string
	// KafkaOpts are extra franz-go options (SASL, TLS, client id).
	KafkaOpts []kgo.Opt
	// Topic is the compacted topic holding the schemas; default "_schemas".
	Topic string
	// DefaultCompatibility is the global level until one is PUT; default BACKWARD.
	DefaultCompatibility string
	// Logger receives warnings; default slog.Default().
	Logger *slog.Logger
}

// Server is a Confluent-compatible schema registry serving Avro schemas over
// HTTP, with state in a compacted Kafka topic in Confluent's record format.
// Only one instance should accept writes to a topic at a time (Confluent
// elects a leader for this; we do not); any number may serve reads.
type Server struct {
	store  *store
	logger *slog.Logger
	ln     net.Listener
	srv    *http.Server
	done   chan struct{}
}

// NewServer replays the schemas topic (creating it if needed) and starts
// serving on opts.Addr. ctx bounds the startup only. Close stops it.
func NewServer(ctx context.Context, opts Options) (*Server, error) {
	if opts.Addr == "" {
		opts.Addr = ":8081"
	}
	if opts.Topic == "" {
		opts.Topic = DefaultTopic
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	def := strings.ToUpper(opts.DefaultCompatibility)
	if def == "" {
		def = CompatBackward
	}
	if !slices.Contains(levels, def) {
		return nil, fmt.Errorf("registry: unknown compatibility level %q", opts.DefaultCompatibility)
	}
	st := &store{st: newState(def)}
	if len(opts.Brokers) == 0 {
		st.log = &memLog{s: st}
	} else {
		kopts := append([]kgo.Opt{kgo.SeedBrokers(opts.Brokers...)}, opts.KafkaOpts...)
		l, err := openKafkaLog(ctx, st, opts.Topic, kopts, opts.Logger)
		if err != nil {
			return nil, err
		}
		st.log = l
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		st.log.close()
		return nil, fmt.Errorf("registry: listen %s: %w", opts.Addr, err)
	}
	s := &Server{store: st, logger: opts.Logger, ln: ln, done: make(chan struct{})}
	s.srv = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.logger.Error("schema registry: serve", "err", err)
		}
	}()
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URL is the base URL clients use (http://host:port).
func (s *Server) URL() string {
	a := s.ln.Addr().(*net.TCPAddr)
	host := a.IP.String()
	if a.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, strconv.Itoa(a.Port))
}

// Client returns a caching client of this server.
func (s *Server) Client() (*Client, error) { return NewClient(ClientOptions{URLs: []string{s.URL()}}) }

// Close stops serving and closes the Kafka client.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	<-s.done
	s.store.log.close()
	return err
}

// Handler returns the REST API (Confluent's paths and error shapes).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) { reply(w, 200, map[string]any{}) })
	mux.HandleFunc("GET /schemas/types", func(w http.ResponseWriter, _ *http.Request) { reply(w, 200, []string{"AVRO"}) })
	mux.HandleFunc("GET /subjects", s.listSubjects)
	mux.HandleFunc("GET /subjects/{subject}/versions", s.listVersions)
	mux.HandleFunc("GET /subjects/{subject}/versions/{version}", s.getVersion)
	mux.HandleFunc("GET /subjects/{subject}/versions/{version}/schema", s.getVersionSchema)
	mux.HandleFunc("POST /subjects/{subject}/versions", s.register)
	mux.HandleFunc("POST /subjects/{subject}", s.lookup)
	mux.HandleFunc("DELETE /subjects/{subject}", s.deleteSubject)
	mux.HandleFunc("DELETE /subjects/{subject}/versions/{version}", s.deleteVersion)
	mux.HandleFunc("GET /schemas/ids/{id}", s.getByID)
	mux.HandleFunc("GET /schemas/ids/{id}/schema", s.getRawByID)
	mux.HandleFunc("GET /schemas/ids/{id}/subjects", s.subjectsByID)
	mux.HandleFunc("GET /schemas/ids/{id}/versions", s.versionsByID)
	mux.HandleFunc("GET /config", s.getGlobalConfig)
	mux.HandleFunc("PUT /config", s.putGlobalConfig)
	mux.HandleFunc("GET /config/{subject}", s.getSubjectConfig)
	mux.HandleFunc("PUT /config/{subject}", s.putSubjectConfig)
	mux.HandleFunc("DELETE /config/{subject}", s.deleteSubjectConfig)
	mux.HandleFunc("POST /compatibility/subjects/{subject}/versions/{version}", s.checkCompat)
	mux.HandleFunc("POST /compatibility/subjects/{subject}/versions", s.checkCompatAll)
	mux.HandleFunc("GET /mode", func(w http.ResponseWriter, _ *http.Request) { reply(w, 200, map[string]string{"mode": "READWRITE"}) })
	mux.HandleFunc("GET /mode/{subject}", func(w http.ResponseWriter, _ *http.Request) { reply(w, 200, map[string]string{"mode": "READWRITE"}) })
	return mux
}

// ---------- responses and Confluent errors ----------

const contentType = "application/vnd.schemaregistry.v1+json"

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Error is a Confluent error response: {"error_code":40401,"message":"…"}.
type Error struct {
	Code    int    `json:"error_code"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return fmt.Sprintf("%d: %s", e.Code, e.Message) }

// Confluent's error codes.
const (
	ErrCodeSubjectNotFound       = 40401
	ErrCodeVersionNotFound       = 40402
	ErrCodeSchemaNotFound        = 40403
	ErrCodeSubjectSoftDeleted    = 40404
	ErrCodeSubjectNotSoftDeleted = 40405
	ErrCodeSubjectConfigNotFound = 40408
	ErrCodeIncompatible          = 409
	ErrCodeInvalidSchema         = 42201
	ErrCodeInvalidVersion        = 42202
	ErrCodeInvalidCompatLevel    = 42203
	ErrCodeStore                 = 50001
)

func fail(w http.ResponseWriter, code int, format string, args ...any) {
	status := code
	for status >= 1000 {
		status /= 10
	}
	reply(w, status, &Error{Code: code, Message: fmt.Sprintf(format, args...)})
}

func subjectNotFound(w http.ResponseWriter, subj string) {
	fail(w, ErrCodeSubjectNotFound, "Subject '%s' not found.", subj)
}

// ---------- helpers over state ----------

func live(vs []version, includeDeleted bool) []version {
	out := make([]version, 0, len(vs))
	for _, v := range vs {
		if includeDeleted || !v.deleted {
			out = append(out, v)
		}
	}
	return out
}

func boolParam(r *http.Request, name string) bool {
	b, _ := strconv.ParseBool(r.URL.Query().Get(name))
	return b
}

// pickVersion resolves "latest"/-1 or a number among vs.
func pickVersion(w http.ResponseWriter, vs []version, raw string) (version, bool) {
	if raw == "latest" || raw == "-1" {
		if len(vs) == 0 {
			fail(w, ErrCodeVersionNotFound, "Version %s not found.", raw)
			return version{}, false
		}
		return vs[len(vs)-1], true
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 {
		fail(w, ErrCodeInvalidVersion, "The specified version '%s' is not a valid version id. Allowed values are between [1, 2^31-1] and the string \"latest\"", raw)
		return version{}, false
	}
	for _, v := range vs {
		if v.version == n {
			return v, true
		}
	}
	fail(w, ErrCodeVersionNotFound, "Version %d not found.", n)
	return version{}, false
}

type subjectVersion struct {
	Subject string `json:"subject"`
	Version int    `json:"version"`
	ID      int    `json:"id"`
	Schema  string `json:"schema"`
}

type schemaRequest struct {
	Schema     string            `json:"schema"`
	SchemaType string            `json:"schemaType,omitempty"`
	References []json.RawMessage `json:"references,omitempty"`
}

func readSchema(w http.ResponseWriter, r *http.Request) (string, avro.Schema, bool) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	if err != nil {
		fail(w, ErrCodeInvalidSchema, "Invalid schema: %v", err)
		return "", nil, false
	}
	var req schemaRequest
	if err := json.Unmarshal(body, &req); err != nil {
		reply(w, 422, &Error{Code: 422, Message: "Unrecognized request body: " + err.Error()})
		return "", nil, false
	}
	if t := strings.ToUpper(req.SchemaType); t != "" && t != "AVRO" {
		fail(w, ErrCodeInvalidSchema, "Invalid schema: schemaType %s is not supported by this registry (AVRO only)", req.SchemaType)
		return "", nil, false
	}
	if len(req.References) > 0 {
		fail(w, ErrCodeInvalidSchema, "Invalid schema: schema references are not supported by this registry")
		return "", nil, false
	}
	parsed, err := avro.ParseWithCache(req.Schema, "", &avro.SchemaCache{})
	if err != nil {
		fail(w, ErrCodeInvalidSchema, "Invalid schema %s, details: %v", req.Schema, err)
		return "", nil, false
	}
	return canonical(req.Schema), parsed, true
}

func parseAvro(text string) (avro.Schema, error) {
	return avro.ParseWithCache(text, "", &avro.SchemaCache{})
}

// compatible checks candidate against the given existing schemas under level,
// with Avro schema-resolution rules (hamba/avro). It returns the reasons for
// an incompatibility.
func compatible(level string, candidate avro.Schema, existing []string) []string {
	var msgs []string
	check := func(reader, writer avro.Schema, what string) {
		if err := avro.NewSchemaCompatibility().Compatible(reader, writer); err != nil {
			msgs = append(msgs, fmt.Sprintf("%s: %v", what, err))
		}
	}
	for i, text := range existing {
		old, err := parseAvro(text)
		if err != nil {
			msgs = append(msgs, fmt.Sprintf("stored schema cannot be parsed: %v", err))
			continue
		}
		what := fmt.Sprintf("{oldSchemaVersion: %d}", i+1)
		switch level {
		case CompatBackward, CompatBackwardTransitive:
			check(candidate, old, "BACKWARD "+what+" new schema cannot read data written with the old one")
		case CompatForward, CompatForwardTransitive:
			check(old, candidate, "FORWARD "+what+" old schema cannot read data written with the new one")
		case CompatFull, CompatFullTransitive:
			check(candidate, old, "FULL "+what+" new schema cannot read data written with the old one")
			check(old, candidate, "FULL "+what+" old schema cannot read data written with the new one")
		}
	}
	return msgs
}

// schemasToCheck returns the texts to check a new schema against for level.
func (st *state) schemasToCheck(subject, level string) []string {
	vs := live(st.subjects[subject], false)
	if len(vs) == 0 || level == CompatNone {
		return nil
	}
	if !strings.HasSuffix(level, "_TRANSITIVE") {
		vs = vs[len(vs)-1:]
	}
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = st.schemas[v.id]
	}
	return out
}

func (st *state) level(subject string) string {
	if l, ok := st.subjectCompat[subject]; ok {
		return l
	}
	return st.globalCompat
}

// ---------- handlers ----------

func (s *Server) listSubjects(w http.ResponseWriter, r *http.Request) {
	deleted := boolParam(r, "deleted")
	out := []string{}
	s.store.read(func(st *state) {
		for subj, vs := range st.subjects {
			if len(live(vs, deleted)) > 0 {
				out = append(out, subj)
			}
		}
	})
	slices.Sort(out)
	reply(w, 200, out)
}

func (s *Server) listVersions(w http.ResponseWriter, r *http.Request) {
	subj := r.PathValue("subject")
	var out []int
	s.store.read(func(st *state) {
		for _, v := range live(st.subjects[subj], boolParam(r, "deleted")) {
			out = append(out, v.version)
		}
	})
	if len(out) == 0 {
		subjectNotFound(w, subj)
		return
	}
	reply(w, 200, out)
}

func (s *Server) findVersion(w http.ResponseWriter, r *http.Request) (subjectVersion, bool) {
	subj := r.PathValue("subject")
	var vs []version
	var schemas map[int]string
	s.store.read(func(st *state) {
		vs = live(st.subjects[subj], boolParam(r, "deleted"))
		schemas = map[int]string{}
		for _, v := range vs {
			schemas[v.id] = st.schemas[v.id]
		}
	})
	if len(vs) == 0 {
		subjectNotFound(w, subj)
		return subjectVersion{}, false
	}
	v, ok := pickVersion(w, vs, r.PathValue("version"))
	if !ok {
		return subjectVersion{}, false
	}
	return subjectVersion{Subject: subj, Version: v.version, ID: v.id, Schema: schemas[v.id]}, true
}

func (s *Server) getVersion(w http.ResponseWriter, r *http.Request) {
	if sv, ok := s.findVersion(w, r); ok {
		reply(w, 200, sv)
	}
}

func (s *Server) getVersionSchema(w http.ResponseWriter, r *http.Request) {
	if sv, ok := s.findVersion(w, r); ok {
		w.Header().Set("Content-Type", contentType)
		_, _ = io.WriteString(w, sv.Schema)
	}
}

func (s *Server) register(w http.ResponseWriter, r *http.Request) {
	subj := r.PathValue("subject")
	text, parsed, ok := readSchema(w, r)
	if !ok {
		return
	}
	s.store.writeMu.Lock()
	defer s.store.writeMu.Unlock()
	if kl, isKafka := s.store.log.(*kafkaLog); isKafka {
		if err := kl.catchUp(r.Context()); err != nil {
			fail(w, ErrCodeStore, "Error while registering schema: %v", err)
			return
		}
	}
	var (
		existingID  = -1
		toCheck     []string
		level       string
		id, nextVer int
	)
	s.store.read(func(st *state) {
		for _, v := range live(st.subjects[subj], false) {
			if canonical(st.schemas[v.id]) == text {
				existingID = v.id
				return
			}
		}
		level = st.level(subj)
		toCheck = st.schemasToCheck(subj, level)
		if gid, ok := st.byText[text]; ok {
			id = gid
		} else {
			id = st.maxID + 1
		}
		nextVer = 1
		if vs := st.subjects[subj]; len(vs) > 0 {
			nextVer = vs[len(vs)-1].version + 1
		}
	})
	if existingID >= 0 {
		reply(w, 200, map[string]int{"id": existingID})
		return
	}
	if msgs := compatible(level, parsed, toCheck); len(msgs) > 0 {
		fail(w, ErrCodeIncompatible, "Schema being registered is incompatible with an earlier schema for subject \"%s\", details: [%s]", subj, strings.Join(msgs, ", "))
		return
	}
	key, _ := json.Marshal(schemaKey{KeyType: "SCHEMA", Subject: &subj, Version: &nextVer, Magic: 1})
	val, _ := json.Marshal(schemaValue{Subject: subj, Version: nextVer, ID: id, Schema: text})
	if err := s.store.log.write(r.Context(), []kv{{key, val}}); err != nil {
		fail(w, ErrCodeStore, "Error while registering schema: %v", err)
		return
	}
	reply(w, 200, map[string]int{"id": id})
}

func (s *Server) lookup(w http.ResponseWriter, r *http.Request) {
	subj := r.PathValue("subject")
	text, _, ok := readSchema(w, r)
	if !ok {
		return
	}
	found, exists := subjectVersion{}, false
	var hasVersions bool
	s.store.read(func(st *state) {
		vs := live(st.subjects[subj], boolParam(r, "deleted"))
		hasVersions = len(vs) > 0
		for _, v := range vs {
			if canonical(st.schemas[v.id]) == text {
				found, exists = subjectVersion{Subject: subj, Version: v.version, ID: v.id, Schema: st.schemas[v.id]}, true
			}
		}
	})
	switch {
	case !hasVersions:
		subjectNotFound(w, subj)
	case !exists:
		fail(w, ErrCodeSchemaNotFound, "Schema not found")
	default:
		reply(w, 200, found)
	}
}

func (s *Server) deleteSubject(w http.ResponseWriter, r *http.Request) {
	subj := r.PathValue("subject")
	permanent := boolParam(r, "permanent")
	s.store.writeMu.Lock()
	defer s.store.writeMu.Unlock()
	var vs []version
	var texts map[int]string
	s.store.read(func(st *state) {
		vs = slices.Clone(st.subjects[subj])
		texts = map[int]string{}
		for _, v := range vs {
			texts[v.id] = st.schemas[v.id]
		}
	})
	if len(vs) == 0 {
		subjectNotFound(w, subj)
		return
	}
	var recs []kv
	var deleted []int
	for _, v := range vs {
		ver := v.version
		key, _ := json.Marshal(schemaKey{KeyType: "SCHEMA", Subject: &subj, Version: &ver, Magic: 1})
		if permanent {
			if !v.deleted {
				fail(w, ErrCodeSubjectNotSoftDeleted, "Subject '%s' was not deleted first before being permanently deleted", subj)
				return
			}
			recs = append(recs, kv{key, nil})
			deleted = append(deleted, ver)
			continue
		}
		if v.deleted {
			continue
		}
		val, _ := json.Marshal(schemaValue{Subject: subj, Version: ver, ID: v.id, Schema: texts[v.id], Deleted: true})
		recs = append(recs, kv{key, val})
		deleted = append(deleted, ver)
	}
	if len(recs) == 0 {
		fail(w, ErrCodeSubjectSoftDeleted, "Subject '%s' was soft deleted.Set permanent=true to delete permanently", subj)
		return
	}
	if permanent {
		ck, _ := json.Marshal(configKey{KeyType: "CONFIG", Subject: &subj, Magic: 0})
		recs = append(recs, kv{ck, nil})
	}
	if err := s.store.log.write(r.Context(), recs); err != nil {
		fail(w, ErrCodeStore, "Error while deleting the subject: %v", err)
		return
	}
	reply(w, 200, deleted)
}

func (s *Server) deleteVersion(w http.ResponseWriter, r *http.Request) {
	subj := r.PathValue("subject")
	permanent := boolParam(r, "permanent")
	s.store.writeMu.Lock()
	defer s.store.writeMu.Unlock()
	var vs []version
	var texts map[int]string
	s.store.read(func(st *state) {
		vs = live(st.subjects[subj], permanent)
		texts = map[int]string{}
		for _, v := range vs {
			texts[v.id] = st.schemas[v.id]
		}
	})
	if len(vs) == 0 {
		subjectNotFound(w, subj)
		return
	}
	v, ok := pickVersion(w, vs, r.PathValue("version"))
	if !ok {
		return
	}
	ver := v.version
	key, _ := json.Marshal(schemaKey{KeyType: "SCHEMA", Subject: &subj, Version: &ver, Magic: 1})
	var val []byte
	if permanent {
		if !v.deleted {
			fail(w, 40407, "Subject '%s' Version %d was not deleted first before being permanently deleted", subj, ver)
			return
		}
	} else {
		val, _ = json.Marshal(schemaValue{Subject: subj, Version: ver, ID: v.id, Schema: texts[v.id], Deleted: true})
	}
	if err := s.store.log.write(r.Context(), []kv{{key, val}}); err != nil {
		fail(w, ErrCodeStore, "Error while deleting the schema: %v", err)
		return
	}
	reply(w, 200, ver)
}

func (s *Server) schemaID(w http.ResponseWriter, r *http.Request) (int, string, bool) {
	id, err := strconv.Atoi(r.PathValue("id"))
	var text string
	var ok bool
	if err == nil {
		s.store.read(func(st *state) { text, ok = st.schemas[id] })
	}
	if !ok {
		fail(w, ErrCodeSchemaNotFound, "Schema %s not found", r.PathValue("id"))
		return 0, "", false
	}
	return id, text, true
}

func (s *Server) getByID(w http.ResponseWriter, r *http.Request) {
	if _, text, ok := s.schemaID(w, r); ok {
		reply(w, 200, map[string]string{"schema": text})
	}
}

func (s *Server) getRawByID(w http.ResponseWriter, r *http.Request) {
	if _, text, ok := s.schemaID(w, r); ok {
		w.Header().Set("Content-Type", contentType)
		_, _ = io.WriteString(w, text)
	}
}

func (s *Server) usages(id int, deleted bool) []subjectVersion {
	var out []subjectVersion
	s.store.read(func(st *state) {
		for subj, vs := range st.subjects {
			for _, v := range live(vs, deleted) {
				if v.id == id {
					out = append(out, subjectVersion{Subject: subj, Version: v.version})
				}
			}
		}
	})
	slices.SortFunc(out, func(a, b subjectVersion) int {
		if c := strings.Compare(a.Subject, b.Subject); c != 0 {
			return c
		}
		return a.Version - b.Version
	})
	return out
}

func (s *Server) subjectsByID(w http.ResponseWriter, r *http.Request) {
	id, _, ok := s.schemaID(w, r)
	if !ok {
		return
	}
	out := []string{}
	for _, u := range s.usages(id, boolParam(r, "deleted")) {
		if !slices.Contains(out, u.Subject) {
			out = append(out, u.Subject)
		}
	}
	reply(w, 200, out)
}

func (s *Server) versionsByID(w http.ResponseWriter, r *http.Request) {
	id, _, ok := s.schemaID(w, r)
	if !ok {
		return
	}
	type sv struct {
		Subject string `json:"subject"`
		Version int    `json:"version"`
	}
	out := []sv{}
	for _, u := range s.usages(id, boolParam(r, "deleted")) {
		out = append(out, sv{u.Subject, u.Version})
	}
	reply(w, 200, out)
}

func readLevel(w http.ResponseWriter, r *http.Request) (string, bool) {
	var req struct {
		Compatibility string `json:"compatibility"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
		reply(w, 422, &Error{Code: 422, Message: "Unrecognized request body: " + err.Error()})
		return "", false
	}
	level := strings.ToUpper(req.Compatibility)
	if !slices.Contains(levels, level) {
		fail(w, ErrCodeInvalidCompatLevel, "Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive")
		return "", false
	}
	return level, true
}

func (s *Server) getGlobalConfig(w http.ResponseWriter, _ *http.Request) {
	var level string
	s.store.read(func(st *state) { level = st.globalCompat })
	reply(w, 200, map[string]string{"compatibilityLevel": level})
}

func (s *Server) putConfig(w http.ResponseWriter, r *http.Request, subject *string) {
	level, ok := readLevel(w, r)
	if !ok {
		return
	}
	s.store.writeMu.Lock()
	defer s.store.writeMu.Unlock()
	key, _ := json.Marshal(configKey{KeyType: "CONFIG", Subject: subject, Magic: 0})
	val, _ := json.Marshal(configValue{CompatibilityLevel: level})
	if err := s.store.log.write(r.Context(), []kv{{key, val}}); err != nil {
		fail(w, ErrCodeStore, "Error while updating the configuration: %v", err)
		return
	}
	reply(w, 200, map[string]string{"compatibility": level})
}

func (s *Server) putGlobalConfig(w http.ResponseWriter, r *http.Request) { s.putConfig(w, r, nil) }

func (s *Server) putSubjectConfig(w http.ResponseWriter, r *http.Request) {
	subj := r.PathValue("subject")
	s.putConfig(w, r, &subj)
}

func (s *Server) getSubjectConfig(w http.ResponseWriter, r *http.Request) {
	subj := r.PathValue("subject")
	var level string
	var ok bool
	s.store.read(func(st *state) {
		level, ok = st.subjectCompat[subj]
		if !ok && boolParam(r, "defaultToGlobal") {
			level, ok = st.globalCompat, true
		}
	})
	if !ok {
		fail(w, ErrCodeSubjectConfigNotFound, "Subject '%s' does not have subject-level compatibility configured", subj)
		return
	}
	reply(w, 200, map[string]string{"compatibilityLevel": level})
}

func (s *Server) deleteSubjectConfig(w http.ResponseWriter, r *http.Request) {
	subj := r.PathValue("subject")
	var level string
	var ok bool
	s.store.read(func(st *state) { level, ok = st.subjectCompat[subj] })
	if !ok {
		fail(w, ErrCodeSubjectConfigNotFound, "Subject '%s' does not have subject-level compatibility configured", subj)
		return
	}
	s.store.writeMu.Lock()
	defer s.store.writeMu.Unlock()
	key, _ := json.Marshal(configKey{KeyType: "CONFIG", Subject: &subj, Magic: 0})
	if err := s.store.log.write(r.Context(), []kv{{key, nil}}); err != nil {
		fail(w, ErrCodeStore, "Error while deleting the configuration: %v", err)
		return
	}
	reply(w, 200, map[string]string{"compatibilityLevel": level})
}

func (s *Server) compatReply(w http.ResponseWriter, r *http.Request, msgs []string) {
	resp := map[string]any{"is_compatible": len(msgs) == 0}
	if boolParam(r, "verbose") {
		if msgs == nil {
			msgs = []string{}
		}
		resp["messages"] = msgs
	}
	reply(w, 200, resp)
}

func (s *Server) checkCompat(w http.ResponseWriter, r *http.Request) {
	subj := r.PathValue("subject")
	_, parsed, ok := readSchema(w, r)
	if !ok {
		return
	}
	var vs []version
	var level string
	schemas := map[int]string{}
	s.store.read(func(st *state) {
		vs = live(st.subjects[subj], false)
		level = st.level(subj)
		for _, v := range vs {
			schemas[v.id] = st.schemas[v.id]
		}
	})
	if len(vs) == 0 {
		subjectNotFound(w, subj)
		return
	}
	v, ok := pickVersion(w, vs, r.PathValue("version"))
	if !ok {
		return
	}
	s.compatReply(w, r, compatible(level, parsed, []string{schemas[v.id]}))
}

func (s *Server) checkCompatAll(w http.ResponseWriter, r *http.Request) {
	subj := r.PathValue("subject")
	_, parsed, ok := readSchema(w, r)
	if !ok {
		return
	}
	var toCheck []string
	var level string
	s.store.read(func(st *state) {
		level = st.level(subj)
		toCheck = st.schemasToCheck(subj, level)
	})
	s.compatReply(w, r, compatible(level, parsed, toCheck))
}
