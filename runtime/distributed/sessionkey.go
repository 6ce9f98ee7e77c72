package distributed

// Signed inter-worker requests, as Kafka Connect signs them (KIP-507): the
// leader generates a session key, writes it to the config topic (record
// key "session-key") and replaces it after inter.worker.key.ttl.ms; every
// worker reads it from there. A worker sends the internal requests (POST
// /connectors/{name}/tasks, PUT /connectors/{name}/fence) with an HMAC of
// the request body under that key (X-Connect-Authorization, base64) and the
// MAC's name (X-Connect-Request-Signature-Algorithm); the receiving worker
// checks it before acting. Basic authentication lets these two requests
// through without credentials (runtime/rest.IsInternalRequest), as Connect's
// JaasBasicAuthFilter does: the signature is what keeps a REST client from
// forging them. Signing is on when connect.protocol is sessioned (the
// default), as in Connect, where the sessioned protocol turns it on.

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha3"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-cdc/tributary/connector/config"
)

// Inter-worker signing keys (Connect's DistributedConfig), with Connect's
// defaults.
const (
	// KeyInterWorkerKeyAlgorithm is the algorithm session keys are
	// generated for (a Java KeyGenerator name; default HmacSHA256).
	KeyInterWorkerKeyAlgorithm = "inter.worker.key.generation.algorithm"
	// KeyInterWorkerKeySize is the session key's size in bits (default:
	// the algorithm's, 256 for HmacSHA256).
	KeyInterWorkerKeySize = "inter.worker.key.size"
	// KeyInterWorkerKeyTTL is how long a session key is used before the
	// leader replaces it (ms, default 1 h).
	KeyInterWorkerKeyTTL = "inter.worker.key.ttl.ms"
	// KeyInterWorkerSignatureAlgorithm is the MAC this worker signs with
	// (default HmacSHA256).
	KeyInterWorkerSignatureAlgorithm = "inter.worker.signature.algorithm"
	// KeyInterWorkerVerificationAlgorithms lists the MACs this worker
	// accepts (default HmacSHA256); it must include the signature
	// algorithm.
	KeyInterWorkerVerificationAlgorithms = "inter.worker.verification.algorithms"

	defaultSigningAlgorithm = "HmacSHA256"
	defaultKeyTTLMillis     = 3600000

	// keySessionKey is the config topic record holding the session key
	// (KafkaConfigBackingStore.SESSION_KEY_KEY).
	keySessionKey = "session-key"

	// HeaderSignature carries the base64 MAC of the request body
	// (InternalRequestSignature.SIGNATURE_HEADER).
	HeaderSignature = "X-Connect-Authorization"
	// HeaderSignatureAlgorithm names the MAC
	// (InternalRequestSignature.SIGNATURE_ALGORITHM_HEADER).
	HeaderSignatureAlgorithm = "X-Connect-Request-Signature-Algorithm"
)

// Connect's answers to internal requests that are not properly signed
// (DistributedHerder.requestNotSignedProperly).
const (
	msgMissingSignature = "Internal request missing required signature"
	msgInvalidSignature = "Internal request contained invalid signature."
	msgNoSessionKey     = "This worker is still starting up and has not been able to read a session key from the config topic yet"
)

// macs are the MAC algorithms of the JVM's SunJCE provider we implement, by
// their Java names, with the default key size (bits) of the KeyGenerator of
// the same name.
var macs = map[string]struct {
	h       func() hash.Hash
	keyBits int
}{
	"HmacMD5":        {md5.New, 512},
	"HmacSHA1":       {sha1.New, 512},
	"HmacSHA224":     {sha256.New224, 224},
	"HmacSHA256":     {sha256.New, 256},
	"HmacSHA384":     {sha512.New384, 384},
	"HmacSHA512":     {sha512.New, 512},
	"HmacSHA512/224": {sha512.New512_224, 224},
	"HmacSHA512/256": {sha512.New512_256, 256},
	"HmacSHA3-224":   {func() hash.Hash { return sha3.New224() }, 224},
	"HmacSHA3-256":   {func() hash.Hash { return sha3.New256() }, 256},
	"HmacSHA3-384":   {func() hash.Hash { return sha3.New384() }, 384},
	"HmacSHA3-512":   {func() hash.Hash { return sha3.New512() }, 512},
}

// lookupMAC finds a MAC by its Java name; JCA names are case-insensitive.
func lookupMAC(name string) (func() hash.Hash, int, string, bool) {
	for n, m := range macs {
		if strings.EqualFold(n, name) {
			return m.h, m.keyBits, n, true
		}
	}
	return nil, 0, "", false
}

func supportedMACs() string {
	names := make([]string, 0, len(macs))
	for n := range macs {
		names = append(names, n)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// SigningEnabled reports whether this worker signs its internal requests
// and checks those it receives (connect.protocol=sessioned, the default).
func (c *Config) SigningEnabled() bool { return c.Signing.Enabled }

// signingConfig is the parsed inter.worker.* keys.
type signingConfig struct {
	// Enabled: internal requests are signed and checked (connect.protocol
	// sessioned).
	Enabled bool
	// KeyAlgorithm is the session key's algorithm as configured.
	KeyAlgorithm string
	// KeyBytes is the session key's length.
	KeyBytes int
	// TTL is the session key's lifetime; 0 never replaces a key.
	TTL time.Duration
	// SignatureAlgorithm is the MAC outgoing requests use.
	SignatureAlgorithm string
	// Verification lists the MACs accepted on incoming requests.
	Verification []string
}

func validMAC(v any) error {
	if _, _, _, ok := lookupMAC(v.(string)); !ok {
		return fmt.Errorf("the algorithm is not supported by this worker; the supported algorithms are: %s", supportedMACs())
	}
	return nil
}

// defineSigning adds the inter.worker.* keys to d.
func defineSigning(d *config.Def) *config.Def {
	return d.
		Define(config.Key{Name: KeyInterWorkerKeyTTL, Type: config.Int, Default: defaultKeyTTLMillis, Importance: config.Low, Validator: config.AtLeast(0),
			Doc: "The TTL of generated session keys used for internal request validation (in milliseconds); the leader writes a new key when it runs out."}).
		Define(config.Key{Name: KeyInterWorkerKeyAlgorithm, Type: config.String, Default: defaultSigningAlgorithm, Importance: config.Low, Validator: validMAC,
			Doc: "The algorithm to use for generating internal request keys (an Hmac* KeyGenerator name)."}).
		Define(config.Key{Name: KeyInterWorkerKeySize, Type: config.Int, Default: nil, Importance: config.Low,
			Doc: "The size of the key to use for signing internal requests, in bits. If null, the default key size for the key generation algorithm will be used."}).
		Define(config.Key{Name: KeyInterWorkerSignatureAlgorithm, Type: config.String, Default: defaultSigningAlgorithm, Importance: config.Low, Validator: validMAC,
			Doc: "The algorithm used to sign internal requests."}).
		Define(config.Key{Name: KeyInterWorkerVerificationAlgorithms, Type: config.List, Default: []string{defaultSigningAlgorithm}, Importance: config.Low,
			Validator: func(v any) error {
				l := v.([]string)
				if len(l) == 0 {
					return errors.New("At least one signature verification algorithm must be provided")
				}
				for _, a := range l {
					if err := validMAC(a); err != nil {
						return fmt.Errorf("%s: %w", a, err)
					}
				}
				return nil
			},
			Doc: "A list of permitted algorithms for verifying internal requests, which must include the algorithm used for the inter.worker.signature.algorithm property."})
}

// parseSigning reads the parsed inter.worker.* keys.
func parseSigning(v *config.Values, protocol string) (signingConfig, config.Errors) {
	var errs config.Errors
	s := signingConfig{
		Enabled:            protocol == "sessioned",
		KeyAlgorithm:       strings.TrimSpace(v.String(KeyInterWorkerKeyAlgorithm)),
		TTL:                ms(v.Int(KeyInterWorkerKeyTTL)),
		SignatureAlgorithm: strings.TrimSpace(v.String(KeyInterWorkerSignatureAlgorithm)),
		Verification:       v.List(KeyInterWorkerVerificationAlgorithms),
	}
	_, bits, canonical, _ := lookupMAC(s.KeyAlgorithm)
	s.KeyAlgorithm = canonical // a key's getAlgorithm() names it so
	if n, ok := v.Get(KeyInterWorkerKeySize).(int); ok {
		if n < 40 {
			// SunJCE's HMAC key generators: "Key length must be at least 40 bits".
			errs = append(errs, config.KeyError{Key: KeyInterWorkerKeySize, Message: fmt.Sprintf(
				"Unable to create key generator with algorithm %s and key size %d: Key length must be at least 40 bits", s.KeyAlgorithm, n)})
		}
		bits = n
	}
	s.KeyBytes = (bits + 7) / 8
	if !slices.Contains(s.Verification, s.SignatureAlgorithm) {
		errs = append(errs, config.KeyError{Key: KeyInterWorkerSignatureAlgorithm, Message: fmt.Sprintf(
			"Invalid value %s for configuration %s: Signature algorithm must be present in %s list",
			s.SignatureAlgorithm, KeyInterWorkerSignatureAlgorithm, KeyInterWorkerVerificationAlgorithms)})
	}
	return s, errs
}

// sessionKey is the key in the config topic's session-key record.
type sessionKey struct {
	Key       []byte
	Algorithm string
	// Created is the creation-timestamp (ms since the epoch).
	Created int64
}

// sessionKeyValue is the record's value, as Connect's JsonConverter
// (schemas disabled) writes SESSION_KEY_V0.
type sessionKeyValue struct {
	Key       *string `json:"key"`
	Algorithm *string `json:"algorithm"`
	Created   *int64  `json:"creation-timestamp"`
}

func encodeSessionKey(k sessionKey) ([]byte, error) {
	enc := base64.StdEncoding.EncodeToString(k.Key)
	return json.Marshal(sessionKeyValue{Key: &enc, Algorithm: &k.Algorithm, Created: &k.Created})
}

// decodeSessionKey parses a session-key record value, refusing what
// Connect's processSessionKeyRecord ignores.
func decodeSessionKey(b []byte) (sessionKey, error) {
	var v sessionKeyValue
	if err := json.Unmarshal(b, &v); err != nil {
		return sessionKey{}, fmt.Errorf("session key record: %w", err)
	}
	if v.Key == nil || v.Algorithm == nil || v.Created == nil {
		return sessionKey{}, errors.New("session key record lacks key, algorithm or creation-timestamp")
	}
	key, err := base64.StdEncoding.DecodeString(*v.Key)
	if err != nil {
		return sessionKey{}, fmt.Errorf("session key record: key: %w", err)
	}
	return sessionKey{Key: key, Algorithm: *v.Algorithm, Created: *v.Created}, nil
}

// putSessionKey writes a session key (leader only).
func (c *configLog) putSessionKey(ctx context.Context, k sessionKey) error {
	v, err := encodeSessionKey(k)
	if err != nil {
		return err
	}
	return c.write(ctx, &kgo.Record{Key: []byte(keySessionKey), Value: v})
}

// applySessionKey applies a session-key record (c.mu held).
func (c *configLog) applySessionKey(r *kgo.Record) {
	if r.Value == nil {
		c.log.Error("Ignoring session key because it is unexpectedly null")
		return
	}
	k, err := decodeSessionKey(r.Value)
	if err != nil {
		c.log.Error("Ignoring session key", "err", err)
		return
	}
	c.session = &k
	c.log.Info("Session key updated", "created", time.UnixMilli(k.Created).UTC().Format(time.RFC3339Nano))
}

// sessionKey returns the latest session key read, if any.
func (c *configLog) sessionKey() (sessionKey, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.session == nil {
		return sessionKey{}, false
	}
	return *c.session, true
}

// sign returns the base64 MAC of body under key.
func sign(alg string, key, body []byte) (string, error) {
	h, _, _, ok := lookupMAC(alg)
	if !ok {
		return "", fmt.Errorf("Algorithm %s not available", alg)
	}
	m := hmac.New(h, key)
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil)), nil
}

// signatureError is a refused internal request: its HTTP status and
// Connect's message.
type signatureError struct {
	code int
	msg  string
}

func (e *signatureError) Error() string { return e.msg }

// checkSignature checks an internal request's signature of body as
// Connect's requestNotSignedProperly does; nil when it may proceed.
func (h *Herder) checkSignature(hdr http.Header, body []byte) *signatureError {
	s := h.cfg.Signing
	if !s.Enabled {
		return nil
	}
	alg, enc := hdr.Get(HeaderSignatureAlgorithm), hdr.Get(HeaderSignature)
	if alg == "" || enc == "" {
		return &signatureError{http.StatusBadRequest, msgMissingSignature}
	}
	mac, _, _, ok := lookupMAC(alg)
	if !ok {
		return &signatureError{http.StatusBadRequest, "Algorithm " + alg + " not available"}
	}
	sig, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return &signatureError{http.StatusBadRequest, err.Error()}
	}
	if !slices.Contains(s.Verification, alg) {
		return &signatureError{http.StatusBadRequest, fmt.Sprintf("This worker does not support the '%s' key signing algorithm used by other workers. "+
			"This worker is currently configured to use: [%s]. "+
			"Check that all workers' configuration files permit the same set of signature algorithms, "+
			"and correct any misconfigured worker and restart it.", alg, strings.Join(s.Verification, ", "))}
	}
	k, ok := h.configs.sessionKey()
	if !ok {
		return &signatureError{http.StatusServiceUnavailable, msgNoSessionKey}
	}
	m := hmac.New(mac, k.Key)
	m.Write(body)
	if !hmac.Equal(m.Sum(nil), sig) {
		return &signatureError{http.StatusForbidden, msgInvalidSignature}
	}
	return nil
}

// isInternalPath matches the internal requests that carry a signature:
// POST /connectors/{name}/tasks and PUT /connectors/{name}/fence.
func isInternalPath(r *http.Request) bool {
	switch r.Method {
	case http.MethodPost:
		return isTasksPath(r.URL.Path)
	case http.MethodPut:
		rest, ok := strings.CutPrefix(r.URL.Path, "/connectors/")
		if !ok {
			return false
		}
		name, tail, ok := strings.Cut(rest, "/")
		return ok && name != "" && strings.TrimSuffix(tail, "/") == "fence"
	}
	return false
}

// verifyInternal checks the signature of an internal request before any
// worker acts on it or forwards it (Connect checks on whichever worker the
// request reaches). It answers the refusal itself and returns false, or
// returns r with its body restored.
func (h *Herder) verifyInternal(w http.ResponseWriter, r *http.Request) (*http.Request, bool) {
	if !h.cfg.Signing.Enabled || !isInternalPath(r) {
		return r, true
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	if err != nil {
		writeError(w, http.StatusBadRequest, "reading request body: "+err.Error())
		return r, false
	}
	if serr := h.checkSignature(r.Header, body); serr != nil {
		h.log.Warn("internal request refused", "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr, "status", serr.code, "reason", serr.msg)
		writeError(w, serr.code, serr.msg)
		return r, false
	}
	r2 := r.Clone(r.Context())
	r2.Body = io.NopCloser(bytes.NewReader(body))
	r2.ContentLength = int64(len(body))
	return r2, true
}

// keySignature carries the signature headers of an internal request this
// worker sends (call sets them).
const keySignature ctxKey = 3

// signed returns ctx carrying the signature of body under the current
// session key; unchanged when signing is off or no key was read yet (the
// receiver then refuses, and the sender retries).
func (h *Herder) signed(ctx context.Context, body []byte) context.Context {
	s := h.cfg.Signing
	if !s.Enabled {
		return ctx
	}
	k, ok := h.configs.sessionKey()
	if !ok {
		return ctx
	}
	sig, err := sign(s.SignatureAlgorithm, k.Key, body)
	if err != nil {
		return ctx
	}
	return context.WithValue(ctx, keySignature, http.Header{HeaderSignature: {sig}, HeaderSignatureAlgorithm: {s.SignatureAlgorithm}})
}

// setSignature copies the signature headers from ctx to req.
func setSignature(ctx context.Context, req *http.Request) {
	if hs, _ := ctx.Value(keySignature).(http.Header); hs != nil {
		for k, v := range hs {
			req.Header[k] = v
		}
	}
}

// keyDue reports why the leader must write a new session key, "" when the
// current one stays (Connect's checkForKeyRotation), and when the current
// one runs out.
func (s signingConfig) keyDue(k sessionKey, ok bool, now time.Time) (reason string, expires time.Time) {
	switch {
	case !ok:
		return "no session key has been distributed yet", time.Time{}
	case !strings.EqualFold(k.Algorithm, s.KeyAlgorithm) || len(k.Key) != s.KeyBytes:
		return "the key uses a different algorithm or key size than this worker's configuration", time.Time{}
	case s.TTL <= 0:
		return "", time.Time{}
	}
	expires = time.UnixMilli(k.Created).Add(s.TTL)
	if !now.Before(expires) {
		return "the key has expired", expires
	}
	return "", expires
}

// rotateKeys runs while the herder does: whenever this worker leads the
// group it writes a session key when none exists, when the configuration
// asks for another kind, and when the current one's TTL has run out.
func (h *Herder) rotateKeys(ctx context.Context) {
	s := h.cfg.Signing
	if !s.Enabled {
		return
	}
	for {
		changed := h.configs.changes()
		h.mu.Lock()
		leaderCh := h.leaderCh
		h.mu.Unlock()
		wait := time.Hour
		if lead, _ := h.Leader(); lead {
			k, ok := h.configs.sessionKey()
			now := time.Now()
			reason, expires := s.keyDue(k, ok, now)
			switch {
			case reason != "":
				if err := h.writeSessionKey(ctx, reason, now); err != nil {
					if ctx.Err() != nil {
						return
					}
					h.log.Warn("writing a new session key to the config topic failed; retrying", "err", err)
					wait = time.Second
				} else {
					continue
				}
			case !expires.IsZero():
				wait = time.Until(expires)
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-changed:
		case <-leaderCh:
		case <-t.C:
		}
		t.Stop()
	}
}

// writeSessionKey generates a session key and writes it to the config
// topic, returning once this worker has read it back.
func (h *Herder) writeSessionKey(ctx context.Context, reason string, now time.Time) error {
	s := h.cfg.Signing
	key := make([]byte, s.KeyBytes)
	if _, err := rand.Read(key); err != nil {
		return fmt.Errorf("generate session key: %w", err)
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	h.log.Info("Distributing new session key", "reason", reason, "algorithm", s.KeyAlgorithm, "bits", s.KeyBytes*8, "ttl_ms", s.TTL.Milliseconds())
	if err := h.configs.putSessionKey(wctx, sessionKey{Key: key, Algorithm: s.KeyAlgorithm, Created: now.UnixMilli()}); err != nil {
		return fmt.Errorf("write session key: %w", err)
	}
	return nil
}
