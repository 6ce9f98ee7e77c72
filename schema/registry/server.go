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
	// Formats add schema formats, or replace the built-in ones (AVRO,
	// JSON) of the same Type.
	Formats []SchemaFormat
}

// Server is a Confluent-compatible schema registry serving Avro, JSON Schema
// and Protobuf schemas over HTTP, with state in a compacted Kafka topic in Confluent's record format.
// Only one instance should accept writes to a topic at a time (Confluent
// elects a leader for this; we do not); any number may serve reads.
type Server struct {
	store   *store
	formats map[string]SchemaFormat
	logger  *slog.Logger
	ln      net.Listener
	srv     *http.Server
	done    chan struct{}
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
	s := &Server{store: st, formats: map[string]SchemaFormat{}, logger: opts.Logger, ln: ln, done: make(chan struct{})}
	for _, f := range append(builtinFormats(), opts.Formats...) {
		s.formats[normType(f.Type())] = f
	}
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
	mux.HandleFunc("GET /schemas/types", func(w http.ResponseWriter, _ *http.Request) { reply(w, 200, schemaTypes) })
	mux.HandleFunc("GET /subjects", s.listSubjects)
	mux.HandleFunc("GET /subjects/{subject}/versions", s.listVersions)
	mux.HandleFunc("GET /subjects/{subject}/versions/{version}", s.getVersion)
	mux.HandleFunc("GET /subjects/{subject}/versions/{version}/schema", s.getVersionSchema)
	mux.HandleFunc("GET /subjects/{subject}/versions/{version}/referencedby", s.getReferencedBy)
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
	ErrCodeReferenceExists       = 42206
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
	Subject    string      `json:"subject"`
	Version    int         `json:"version"`
	ID         int         `json:"id"`
	SchemaType string      `json:"schemaType,omitempty"`
	References []Reference `json:"references,omitempty"`
	Schema     string      `json:"schema"`
}

// schemaString is GET /schemas/ids/{id}: schemaType left out for AVRO and
// references when there are none, as Confluent answers.
type schemaString struct {
	SchemaType string      `json:"schemaType,omitempty"`
	Schema     string      `json:"schema"`
	References []Reference `json:"references,omitempty"`
}

// responseType is the schemaType as responses carry it: "" for AVRO.
func responseType(t string) string {
	if t == TypeAvro {
		return ""
	}
	return t
}

func newSubjectVersion(subj string, v version, sc stored) subjectVersion {
	return subjectVersion{Subject: subj, Version: v.version, ID: v.id, SchemaType: responseType(sc.typ), References: sc.refs, Schema: sc.text}
}

type schemaRequest struct {
	Schema     string      `json:"schema"`
	SchemaType string      `json:"schemaType,omitempty"`
	References []Reference `json:"references,omitempty"`
}

// candidate is a schema of a request, checked and resolved.
type candidate struct {
	stored
	resolved Resolved
}

// resolve returns the schema with every reference resolved transitively
// (Confluent's resolvedReferences), or an error naming a reference that
// does not resolve. A reference's version -1 is the subject's latest.
func (st *state) resolve(text string, refs []Reference) (Resolved, []Reference, error) {
	r := Resolved{Schema: text, Deps: map[string]string{}}
	fixed := make([]Reference, len(refs))
	var walk func(refs []Reference, top bool, depth int) error
	walk = func(refs []Reference, top bool, depth int) error {
		if depth > 64 {
			return errors.New("references nested too deep (a cycle?)")
		}
		for i, ref := range refs {
			if ref.Name == "" || ref.Subject == "" {
				return fmt.Errorf("reference %+v needs a name and a subject", ref)
			}
			vs := st.subjects[ref.Subject]
			var found *version
			for j := range vs {
				if vs[j].version == ref.Version || (ref.Version == -1 && !vs[j].deleted) {
					found = &vs[j]
				}
			}
			if found == nil {
				return fmt.Errorf("reference %q: subject %q version %d not found", ref.Name, ref.Subject, ref.Version)
			}
			if top {
				fixed[i] = Reference{Name: ref.Name, Subject: ref.Subject, Version: found.version}
			}
			sc := st.schemas[found.id]
			if _, seen := r.Deps[ref.Name]; seen {
				continue
			}
			r.Deps[ref.Name] = sc.text
			if err := walk(sc.refs, false, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(refs, true, 0); err != nil {
		return Resolved{}, nil, err
	}
	if len(fixed) == 0 {
		fixed = nil
	}
	r.References = fixed
	return r, fixed, nil
}

// resolvedOf resolves a stored schema (its references resolved when it was
// registered; a hard-deleted reference leaves its name out).
func (st *state) resolvedOf(sc stored) Resolved {
	r, _, err := st.resolve(sc.text, sc.refs)
	if err != nil {
		return Resolved{Schema: sc.text, References: sc.refs}
	}
	return r
}

// readSchema reads a registration, lookup or compatibility request and
// checks it with its type's format.
func (s *Server) readSchema(w http.ResponseWriter, r *http.Request) (candidate, bool) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	if err != nil {
		fail(w, ErrCodeInvalidSchema, "Invalid schema: %v", err)
		return candidate{}, false
	}
	var req schemaRequest
	if err := json.Unmarshal(body, &req); err != nil {
		reply(w, 422, &Error{Code: 422, Message: "Unrecognized request body: " + err.Error()})
		return candidate{}, false
	}
	typ := normType(req.SchemaType)
	if !slices.Contains(schemaTypes, typ) {
		fail(w, ErrCodeInvalidSchema, "Invalid schema type %s; valid types are %s", req.SchemaType, strings.Join(schemaTypes, ", "))
		return candidate{}, false
	}
	if strings.TrimSpace(req.Schema) == "" {
		fail(w, ErrCodeInvalidSchema, "Invalid schema: empty schema")
		return candidate{}, false
	}
	var res Resolved
	var refs []Reference
	s.store.read(func(st *state) { res, refs, err = st.resolve(req.Schema, req.References) })
	if err != nil {
		fail(w, ErrCodeInvalidSchema, "Invalid schema %s with refs %v of type %s, details: %v", req.Schema, req.References, typ, err)
		return candidate{}, false
	}
	text := req.Schema
	if f, ok := s.formats[typ]; ok {
		if text, err = f.Canonical(res); err != nil {
			fail(w, ErrCodeInvalidSchema, "Invalid schema %s with refs %v of type %s, details: %v", req.Schema, req.References, typ, err)
			return candidate{}, false
		}
	}
	res.Schema = text
	return candidate{stored: stored{typ: typ, text: text, refs: refs}, resolved: res}, true
}

// existingSchema is one earlier version to check a candidate against.
type existingSchema struct {
	version int
	typ     string
	res     Resolved
}

// compatible checks c against the existing schemas under level with c's
// format. It returns the reasons for an incompatibility. A schema type
// without a format cannot be checked: that is an incompatibility too, said
// plainly, so that nothing unchecked is accepted under a level that asks
// for checks (NONE registers anything).
func (s *Server) compatible(level string, c candidate, existing []existingSchema) []string {
	if level == CompatNone || len(existing) == 0 {
		return nil
	}
	f, ok := s.formats[c.typ]
	if !ok {
		return []string{fmt.Sprintf("this registry cannot check the compatibility of %s schemas (compatibility %s); set the subject's compatibility to NONE to register it unchecked", c.typ, level)}
	}
	var msgs []string
	for _, old := range existing {
		what := fmt.Sprintf("{oldSchemaVersion: %d}", old.version)
		if old.typ != c.typ {
			msgs = append(msgs, fmt.Sprintf("%s Incompatible because of different schema type: %s, %s", what, old.typ, c.typ))
			continue
		}
		check := func(newer, older Resolved, dir string) {
			for _, m := range f.CheckCompatibility(newer, older) {
				msgs = append(msgs, fmt.Sprintf("%s %s %s", level, what, dir+m))
			}
		}
		switch level {
		case CompatBackward, CompatBackwardTransitive:
			check(c.resolved, old.res, "new schema cannot read data written with the old one: ")
		case CompatForward, CompatForwardTransitive:
			check(old.res, c.resolved, "old schema cannot read data written with the new one: ")
		case CompatFull, CompatFullTransitive:
			check(c.resolved, old.res, "new schema cannot read data written with the old one: ")
			check(old.res, c.resolved, "old schema cannot read data written with the new one: ")
		}
	}
	return msgs
}

// schemasToCheck returns the schemas to check a new schema against for level.
func (st *state) schemasToCheck(subject, level string) []existingSchema {
	vs := live(st.subjects[subject], false)
	if len(vs) == 0 || level == CompatNone {
		return nil
	}
	if !strings.HasSuffix(level, "_TRANSITIVE") {
		vs = vs[len(vs)-1:]
	}
	out := make([]existingSchema, len(vs))
	for i, v := range vs {
		sc := st.schemas[v.id]
		out[i] = existingSchema{version: v.version, typ: sc.typ, res: st.resolvedOf(sc)}
	}
	return out
}

func (st *state) level(subject string) string {
	if l, ok := st.subjectCompat[subject]; ok {
		return l
	}
	return st.globalCompat
}

// referencedBy returns the ids of the schemas that refer to subject/version,
// counting only schemas with a version not soft-deleted unless
// includeDeleted, sorted; with the subjects they are registered under.
func (st *state) referencedBy(subject string, ver int, includeDeleted bool) ([]int, map[string]bool) {
	var ids []int
	subjects := map[string]bool{}
	for id, sc := range st.schemas {
		refers := false
		for _, ref := range sc.refs {
			if ref.Subject == subject && ref.Version == ver {
				refers = true
			}
		}
		if !refers {
			continue
		}
		used := false
		for subj, vs := range st.subjects {
			for _, v := range live(vs, includeDeleted) {
				if v.id == id {
					used = true
					subjects[subj] = true
				}
			}
		}
		if used {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids, subjects
}

func referenceExists(w http.ResponseWriter, subj string, ver int) {
	fail(w, ErrCodeReferenceExists, "One or more references exist to the schema {magic=1,keytype=SCHEMA,subject=%s,version=%d}.", subj, ver)
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
	var schemas map[int]stored
	s.store.read(func(st *state) {
		vs = live(st.subjects[subj], boolParam(r, "deleted"))
		schemas = map[int]stored{}
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
	return newSubjectVersion(subj, v, schemas[v.id]), true
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

func (s *Server) getReferencedBy(w http.ResponseWriter, r *http.Request) {
	sv, ok := s.findVersion(w, r)
	if !ok {
		return
	}
	var ids []int
	s.store.read(func(st *state) { ids, _ = st.referencedBy(sv.Subject, sv.Version, boolParam(r, "deleted")) })
	if ids == nil {
		ids = []int{}
	}
	reply(w, 200, ids)
}

func (s *Server) register(w http.ResponseWriter, r *http.Request) {
	subj := r.PathValue("subject")
	c, ok := s.readSchema(w, r)
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
		toCheck     []existingSchema
		level       string
		id, nextVer int
	)
	ident := c.identity()
	s.store.read(func(st *state) {
		for _, v := range live(st.subjects[subj], false) {
			if st.schemas[v.id].identity() == ident {
				existingID = v.id
				return
			}
		}
		level = st.level(subj)
		toCheck = st.schemasToCheck(subj, level)
		if gid, ok := st.byText[ident]; ok {
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
	if msgs := s.compatible(level, c, toCheck); len(msgs) > 0 {
		fail(w, ErrCodeIncompatible, "Schema being registered is incompatible with an earlier schema for subject \"%s\", details: [%s]", subj, strings.Join(msgs, ", "))
		return
	}
	key, _ := json.Marshal(schemaKey{KeyType: "SCHEMA", Subject: &subj, Version: &nextVer, Magic: 1})
	val, _ := json.Marshal(schemaValue{Subject: subj, Version: nextVer, ID: id, SchemaType: responseType(c.typ), References: c.refs, Schema: c.text})
	if err := s.store.log.write(r.Context(), []kv{{key, val}}); err != nil {
		fail(w, ErrCodeStore, "Error while registering schema: %v", err)
		return
	}
	reply(w, 200, map[string]int{"id": id})
}

func (s *Server) lookup(w http.ResponseWriter, r *http.Request) {
	subj := r.PathValue("subject")
	c, ok := s.readSchema(w, r)
	if !ok {
		return
	}
	ident := c.identity()
	found, exists := subjectVersion{}, false
	var hasVersions bool
	s.store.read(func(st *state) {
		vs := live(st.subjects[subj], boolParam(r, "deleted"))
		hasVersions = len(vs) > 0
		for _, v := range vs {
			if sc := st.schemas[v.id]; sc.identity() == ident {
				found, exists = newSubjectVersion(subj, v, sc), true
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
	var schemas map[int]stored
	refBy := map[int]map[string]bool{}
	s.store.read(func(st *state) {
		vs = slices.Clone(st.subjects[subj])
		schemas = map[int]stored{}
		for _, v := range vs {
			schemas[v.id] = st.schemas[v.id]
			_, refBy[v.version] = st.referencedBy(subj, v.version, permanent)
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
		if permanent || !v.deleted {
			// Confluent: references from the subject itself do not count.
			for other := range refBy[ver] {
				if other != subj {
					referenceExists(w, subj, ver)
					return
				}
			}
		}
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
		sc := schemas[v.id]
		val, _ := json.Marshal(schemaValue{Subject: subj, Version: ver, ID: v.id, SchemaType: responseType(sc.typ), References: sc.refs, Schema: sc.text, Deleted: true})
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
	var schemas map[int]stored
	s.store.read(func(st *state) {
		vs = live(st.subjects[subj], permanent)
		schemas = map[int]stored{}
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
	ver := v.version
	var refs []int
	s.store.read(func(st *state) { refs, _ = st.referencedBy(subj, ver, permanent) })
	if len(refs) > 0 {
		referenceExists(w, subj, ver)
		return
	}
	key, _ := json.Marshal(schemaKey{KeyType: "SCHEMA", Subject: &subj, Version: &ver, Magic: 1})
	var val []byte
	if permanent {
		if !v.deleted {
			fail(w, 40407, "Subject '%s' Version %d was not deleted first before being permanently deleted", subj, ver)
			return
		}
	} else {
		sc := schemas[v.id]
		val, _ = json.Marshal(schemaValue{Subject: subj, Version: ver, ID: v.id, SchemaType: responseType(sc.typ), References: sc.refs, Schema: sc.text, Deleted: true})
	}
	if err := s.store.log.write(r.Context(), []kv{{key, val}}); err != nil {
		fail(w, ErrCodeStore, "Error while deleting the schema: %v", err)
		return
	}
	reply(w, 200, ver)
}

func (s *Server) schemaID(w http.ResponseWriter, r *http.Request) (int, stored, bool) {
	id, err := strconv.Atoi(r.PathValue("id"))
	var sc stored
	var ok bool
	if err == nil {
		s.store.read(func(st *state) { sc, ok = st.schemas[id] })
	}
	if !ok {
		fail(w, ErrCodeSchemaNotFound, "Schema %s not found", r.PathValue("id"))
		return 0, stored{}, false
	}
	return id, sc, true
}

func (s *Server) getByID(w http.ResponseWriter, r *http.Request) {
	if _, sc, ok := s.schemaID(w, r); ok {
		reply(w, 200, schemaString{SchemaType: responseType(sc.typ), Schema: sc.text, References: sc.refs})
	}
}

func (s *Server) getRawByID(w http.ResponseWriter, r *http.Request) {
	if _, sc, ok := s.schemaID(w, r); ok {
		w.Header().Set("Content-Type", contentType)
		_, _ = io.WriteString(w, sc.text)
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
	c, ok := s.readSchema(w, r)
	if !ok {
		return
	}
	var vs []version
	var level string
	schemas := map[int]existingSchema{}
	s.store.read(func(st *state) {
		vs = live(st.subjects[subj], false)
		level = st.level(subj)
		for _, v := range vs {
			sc := st.schemas[v.id]
			schemas[v.id] = existingSchema{version: v.version, typ: sc.typ, res: st.resolvedOf(sc)}
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
	s.compatReply(w, r, s.compatible(level, c, []existingSchema{schemas[v.id]}))
}

func (s *Server) checkCompatAll(w http.ResponseWriter, r *http.Request) {
	subj := r.PathValue("subject")
	c, ok := s.readSchema(w, r)
	if !ok {
		return
	}
	var toCheck []existingSchema
	var level string
	s.store.read(func(st *state) {
		level = st.level(subj)
		toCheck = st.schemasToCheck(subj, level)
	})
	s.compatReply(w, r, s.compatible(level, c, toCheck))
}
