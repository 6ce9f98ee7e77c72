package distributed

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-cdc/tributary/connector/config"
	"github.com/tributary-cdc/tributary/runtime/rest"
)

// TestSignatureHMAC: the signature is base64(HMAC(key, body)); RFC 4231
// test case 2 gives the expected HMAC-SHA256.
func TestSignatureHMAC(t *testing.T) {
	got, err := sign("HmacSHA256", []byte("Jefe"), []byte("what do ya want for nothing?"))
	if err != nil {
		t.Fatal(err)
	}
	want := "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM=" // 5bdcc146…64ec3843
	if got != want {
		t.Fatalf("sign = %s, want %s", got, want)
	}
}

// TestSessionKeyRecord: the config topic value is Connect's SESSION_KEY_V0
// through JsonConverter without schemas, and one written by Connect reads.
func TestSessionKeyRecord(t *testing.T) {
	b, err := encodeSessionKey(sessionKey{Key: []byte{1, 2, 3}, Algorithm: "HmacSHA256", Created: 1733580000123})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"key":"AQID","algorithm":"HmacSHA256","creation-timestamp":1733580000123}`; string(b) != want {
		t.Fatalf("record %s, want %s", b, want)
	}
	k, err := decodeSessionKey([]byte(`{"key":"3q2+7w==","algorithm":"HmacSHA256","creation-timestamp":1575000000000}`))
	if err != nil || !bytes.Equal(k.Key, []byte{0xde, 0xad, 0xbe, 0xef}) || k.Algorithm != "HmacSHA256" || k.Created != 1575000000000 {
		t.Fatalf("decode: %+v %v", k, err)
	}
	for _, bad := range []string{`{"algorithm":"HmacSHA256","creation-timestamp":1}`, `{"key":"AQID","algorithm":"HmacSHA256","creation-timestamp":"x"}`, `{"key":"!!","algorithm":"a","creation-timestamp":1}`} {
		if _, err := decodeSessionKey([]byte(bad)); err == nil {
			t.Errorf("decode %s: no error", bad)
		}
	}
}

// TestSigningConfig: Connect's defaults and checks of the inter.worker.*
// keys.
func TestSigningConfig(t *testing.T) {
	base := func(extra map[string]string) map[string]string {
		raw := map[string]string{"bootstrap.servers": "localhost:9092", "group.id": "g",
			"config.storage.topic": "c", "offset.storage.topic": "o", "status.storage.topic": "s"}
		for k, v := range extra {
			raw[k] = v
		}
		return raw
	}
	c, err := ParseConfig(base(nil))
	if err != nil {
		t.Fatal(err)
	}
	s := c.Signing
	if !s.Enabled || s.KeyAlgorithm != "HmacSHA256" || s.KeyBytes != 32 || s.TTL != time.Hour || s.SignatureAlgorithm != "HmacSHA256" ||
		len(s.Verification) != 1 || s.Verification[0] != "HmacSHA256" {
		t.Fatalf("defaults: %+v", s)
	}
	c, err = ParseConfig(base(map[string]string{KeyInterWorkerKeySize: "128", KeyInterWorkerKeyAlgorithm: "HmacSHA512", KeyInterWorkerKeyTTL: "5000",
		KeyInterWorkerSignatureAlgorithm: "HmacSHA512", KeyInterWorkerVerificationAlgorithms: "HmacSHA256,HmacSHA512", KeyConnectProtocol: "compatible"}))
	if err != nil {
		t.Fatal(err)
	}
	if s := c.Signing; s.Enabled || s.KeyBytes != 16 || s.KeyAlgorithm != "HmacSHA512" || s.TTL != 5*time.Second || s.SignatureAlgorithm != "HmacSHA512" {
		t.Fatalf("set: %+v", s)
	}
	for raw, key := range map[string]string{
		KeyInterWorkerSignatureAlgorithm + "=HmacSHA512": KeyInterWorkerSignatureAlgorithm, // not in the verification list
		KeyInterWorkerKeyAlgorithm + "=Blowfish2":        KeyInterWorkerKeyAlgorithm,
		KeyInterWorkerVerificationAlgorithms + "=":       KeyInterWorkerVerificationAlgorithms,
		KeyInterWorkerKeySize + "=32":                    KeyInterWorkerKeySize,
	} {
		k, v, _ := strings.Cut(raw, "=")
		_, err := ParseConfig(base(map[string]string{k: v}))
		var ce config.Errors
		if !errorsAs(err, &ce) || !strings.Contains(err.Error(), key) {
			t.Errorf("%s: error %v, want one naming %s", raw, err, key)
		}
	}
}

func errorsAs(err error, ce *config.Errors) bool {
	e, ok := err.(config.Errors)
	if ok {
		*ce = e
	}
	return ok
}

// TestClusterSignedInternalRequests: two https workers with basic auth,
// signing on (connect.protocol's default) and a 3 s session key TTL. The
// leader writes a session key in Connect's record format; a forged
// internal task-config request (no signature, a wrong one, one over
// another body, an algorithm not allowed, a stale key after rotation) is
// refused with Connect's status and message, sent to the leader or to the
// follower, and writes nothing; the follower's own forwarding is accepted,
// before and after the key rotated.
func TestClusterSignedInternalRequests(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.DefaultNumPartitions(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	brokers := strings.Join(c.ListenAddrs(), ",")
	cl, _ := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	dir := t.TempDir()
	ks, roots := testPKI(t, dir)
	users := filepath.Join(dir, "users.properties")
	writeFile(t, users, "admin: admin-secret\n")
	jaas := filepath.Join(dir, "connect.jaas")
	writeFile(t, jaas, `KafkaConnect { `+rest.PropertyFileLoginModuleClass+` required file="`+users+`"; };`)
	const ttl = 3 * time.Second
	extra := map[string]string{"listeners": "https://127.0.0.1:0",
		"listeners.https.ssl.keystore.type": "PEM", "listeners.https.ssl.keystore.location": ks,
		"listeners.https.ssl.truststore.type": "PEM", "listeners.https.ssl.truststore.location": filepath.Join(dir, "ca.pem"),
		rest.KeyRestExtensionClasses: rest.BasicAuthExtensionClass, rest.KeyBasicAuthJAASFile: jaas,
		KeyInterWorkerKeyTTL: "3000"}
	ws := []*testWorker{startSecureWorker(t, brokers, extra), startSecureWorker(t, brokers, extra)}
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsRoots(roots)}}
	do := func(method, url, user string, body []byte, hdr map[string]string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, url, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		if user != "" {
			req.SetBasicAuth(user, "admin-secret")
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, url, err)
		}
		defer resp.Body.Close()
		var m rest.ErrorMessage
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m.Message
	}
	var follower, leader *testWorker
	for follower == nil || leader == nil {
		for _, w := range ws {
			if lead, u := w.h.Leader(); u != "" {
				if lead {
					leader = w
				} else {
					follower = w
				}
			}
		}
		if ctx.Err() != nil {
			t.Fatal("no leader elected")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Both workers read the leader's session key.
	waitKey := func(not []byte) sessionKey {
		t.Helper()
		for {
			lk, ok1 := leader.h.configs.sessionKey()
			fk, ok2 := follower.h.configs.sessionKey()
			if ok1 && ok2 && bytes.Equal(lk.Key, fk.Key) && !bytes.Equal(lk.Key, not) {
				return lk
			}
			if ctx.Err() != nil {
				t.Fatal("no (new) session key on both workers")
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	k1 := waitKey(nil)
	if len(k1.Key) != 32 || k1.Algorithm != "HmacSHA256" {
		t.Fatalf("session key: %d bytes, %s", len(k1.Key), k1.Algorithm)
	}

	in := filepath.Join(dir, "in.txt")
	writeFile(t, in, "a\n")
	cfg := `{"connector.class":"FileStreamSource","file":"` + in + `","topic":"signed"}`
	if code, msg := do("PUT", follower.url+"connectors/src/config", "admin", []byte(cfg), nil); code != 201 {
		t.Fatalf("create: %d %s", code, msg)
	}
	waitTasks := func(want string) {
		t.Helper()
		for {
			snap := leader.h.configs.snapshot()
			if tcs := snap.Tasks["src"]; len(tcs) == 1 && tcs[0]["marker"] == want {
				return
			}
			if ctx.Err() != nil {
				t.Fatalf("task config marker %q never reached the leader: %v", want, leader.h.configs.snapshot().Tasks["src"])
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	// The connector's own task config first (its owner submits it once).
	var own map[string]string
	for own == nil {
		if tcs := leader.h.configs.snapshot().Tasks["src"]; len(tcs) == 1 {
			own = tcs[0]
		} else if ctx.Err() != nil {
			t.Fatal("the connector's task config never reached the leader")
		}
		time.Sleep(50 * time.Millisecond)
	}
	taskCfg := func(marker string) []map[string]string {
		tc := maps.Clone(own)
		tc["marker"] = marker
		return []map[string]string{tc}
	}
	// The follower forwards task configs to the leader, signed: accepted.
	submit := func(marker string) {
		t.Helper()
		sctx, scancel := context.WithTimeout(ctx, 10*time.Second)
		defer scancel()
		if err := follower.h.submitTaskConfigs(sctx, "src", nil, taskCfg(marker)); err != nil {
			t.Fatalf("follower's forwarding refused: %v", err)
		}
		waitTasks(marker)
	}
	submit("follower-1")

	body, _ := json.Marshal(taskCfg("forged"))
	sig := func(key, b []byte) string { s, _ := sign("HmacSHA256", key, b); return s }
	sha512sig := func(key, b []byte) string {
		m := hmac.New(sha512.New, key)
		m.Write(b)
		return base64.StdEncoding.EncodeToString(m.Sum(nil))
	}
	other, _ := json.Marshal(taskCfg("other"))
	forged := []struct {
		name string
		hdr  map[string]string
		code int
		msg  string
	}{
		{"no signature", nil, 400, msgMissingSignature},
		{"signature without algorithm", map[string]string{HeaderSignature: sig(k1.Key, body)}, 400, msgMissingSignature},
		{"wrong key", map[string]string{HeaderSignature: sig([]byte("not the session key at all, 32b"), body), HeaderSignatureAlgorithm: "HmacSHA256"}, 403, msgInvalidSignature},
		{"signature of another body", map[string]string{HeaderSignature: sig(k1.Key, other), HeaderSignatureAlgorithm: "HmacSHA256"}, 403, msgInvalidSignature},
		{"not base64", map[string]string{HeaderSignature: "%%%", HeaderSignatureAlgorithm: "HmacSHA256"}, 400, "illegal base64"},
		{"algorithm not allowed", map[string]string{HeaderSignature: sha512sig(k1.Key, body), HeaderSignatureAlgorithm: "HmacSHA512"}, 400,
			"This worker does not support the 'HmacSHA512' key signing algorithm used by other workers. This worker is currently configured to use: [HmacSHA256]."},
		{"unknown algorithm", map[string]string{HeaderSignature: sig(k1.Key, body), HeaderSignatureAlgorithm: "HmacFoo"}, 400, "Algorithm HmacFoo not available"},
	}
	for _, w := range []*testWorker{leader, follower} {
		for _, f := range forged {
			code, msg := do("POST", w.url+"connectors/src/tasks", "", body, f.hdr)
			if code != f.code || !strings.Contains(msg, f.msg) {
				t.Errorf("%s to %s: %d %q, want %d %q", f.name, w.url, code, msg, f.code, f.msg)
			}
		}
		if code, msg := do("PUT", w.url+"connectors/src/fence", "", nil, nil); code != 400 || msg != msgMissingSignature {
			t.Errorf("unsigned fence request to %s: %d %q", w.url, code, msg)
		}
	}
	// A request signed with the session key passes (the leader writes it).
	if code, msg := do("POST", leader.url+"connectors/src/tasks", "", body, map[string]string{HeaderSignature: sig(k1.Key, body), HeaderSignatureAlgorithm: "HmacSHA256"}); code != 204 {
		t.Fatalf("signed request: %d %s", code, msg)
	}
	waitTasks("forged")
	submit("follower-2")

	// The key rotates after its TTL; the old one no longer passes, the
	// follower's forwarding still does.
	k2 := waitKey(k1.Key)
	if age := time.UnixMilli(k2.Created).Sub(time.UnixMilli(k1.Created)); age < ttl {
		t.Errorf("key replaced after %v, before its TTL %v", age, ttl)
	}
	stale, _ := json.Marshal(taskCfg("stale"))
	for _, w := range []*testWorker{leader, follower} {
		if code, msg := do("POST", w.url+"connectors/src/tasks", "", stale, map[string]string{HeaderSignature: sig(k1.Key, stale), HeaderSignatureAlgorithm: "HmacSHA256"}); code != 403 || msg != msgInvalidSignature {
			t.Errorf("stale key to %s: %d %q", w.url, code, msg)
		}
	}
	submit("follower-3")
	k3 := waitKey(k2.Key)
	submit("follower-4")
	if m := leader.h.configs.snapshot().Tasks["src"][0]["marker"]; m != "follower-4" {
		t.Fatalf("task config marker %q after the forged requests", m)
	}

	// The config topic holds Connect's session-key records.
	recRE := regexp.MustCompile(`^\{"key":"[A-Za-z0-9+/]+=*","algorithm":"HmacSHA256","creation-timestamp":\d+\}$`)
	n := 0
	for _, r := range readAll(t, ctx, cl, "scfg") {
		if string(r.Key) != keySessionKey {
			continue
		}
		n++
		if !recRE.Match(r.Value) {
			t.Errorf("session-key record %s", r.Value)
		}
	}
	if n < 3 {
		t.Errorf("%d session-key records, want at least 3 (k3 created %d)", n, k3.Created)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func tlsRoots(roots *x509.CertPool) *tls.Config { return &tls.Config{RootCAs: roots} }

// TestCheckSignatureStates: before any session key is read a worker
// answers 503 (Connect: still starting up); with connect.protocol
// compatible or eager nothing is checked, as in Connect where only the
// sessioned protocol signs.
func TestCheckSignatureStates(t *testing.T) {
	on := signingConfig{Enabled: true, KeyAlgorithm: "HmacSHA256", KeyBytes: 32, SignatureAlgorithm: "HmacSHA256", Verification: []string{"HmacSHA256"}}
	h := &Herder{cfg: &Config{Signing: on}, configs: &configLog{}}
	body := []byte(`[{"a":"b"}]`)
	key := bytes.Repeat([]byte{7}, 32)
	hdr := http.Header{}
	hdr.Set(HeaderSignature, func() string { s, _ := sign("HmacSHA256", key, body); return s }())
	hdr.Set(HeaderSignatureAlgorithm, "HmacSHA256")
	if e := h.checkSignature(hdr, body); e == nil || e.code != 503 || e.msg != msgNoSessionKey {
		t.Fatalf("no key yet: %v", e)
	}
	h.configs.session = &sessionKey{Key: key, Algorithm: "HmacSHA256", Created: time.Now().UnixMilli()}
	if e := h.checkSignature(hdr, body); e != nil {
		t.Fatalf("valid signature refused: %v", e)
	}
	if e := h.checkSignature(hdr, append(body, ' ')); e == nil || e.code != 403 {
		t.Fatalf("changed body: %v", e)
	}
	h.cfg.Signing.Enabled = false
	if e := h.checkSignature(http.Header{}, body); e != nil {
		t.Fatalf("signing off: %v", e)
	}
	// The leader's rotation rule (Connect's checkForKeyRotation).
	now := time.Now()
	k := sessionKey{Key: key, Algorithm: "HmacSHA256", Created: now.Add(-time.Minute).UnixMilli()}
	on.TTL = time.Hour
	if r, exp := on.keyDue(k, true, now); r != "" || !exp.Equal(time.UnixMilli(k.Created).Add(time.Hour)) {
		t.Errorf("fresh key due: %q %v", r, exp)
	}
	if r, _ := on.keyDue(k, false, now); r == "" {
		t.Error("no key: not due")
	}
	on.TTL = 30 * time.Second
	if r, _ := on.keyDue(k, true, now); r == "" {
		t.Error("expired key: not due")
	}
	on.TTL, on.KeyBytes = time.Hour, 64
	if r, _ := on.keyDue(k, true, now); r == "" {
		t.Error("key of another size: not due")
	}
}
