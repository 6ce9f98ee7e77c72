package rest

// Where and how the REST API listens: Connect's listeners (http:// and
// https:// side by side), rest.host.name/rest.port, the https listeners'
// ssl.* keys, rest.advertised.listener and the basic-auth extension.

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// KeyAdvertisedListener names the protocol other workers use to reach this
// one (Connect's rest.advertised.listener: http or https).
const KeyAdvertisedListener = "rest.advertised.listener"

// ListenerSpec is one configured REST listener.
type ListenerSpec struct {
	Scheme string // "http" or "https"
	Addr   string // host:port to bind
}

// Security is how a worker's REST API listens and who may call it, read
// from the worker config by ParseSecurity.
type Security struct {
	Listeners []ListenerSpec
	// ServerTLS serves the https listeners (nil without one).
	ServerTLS *tls.Config
	// ClientTLS is for calls to other workers' https listeners (nil
	// without an https listener: the system roots then apply).
	ClientTLS *tls.Config
	// Auth is the basic authentication (nil: none).
	Auth *BasicAuth
	// Advertised is the scheme other workers are given: http or https.
	Advertised string
}

// Listener is an open REST listener.
type Listener struct {
	net.Listener
	Scheme string
}

// URL returns the listener's base URL (http(s)://host:port).
func (l *Listener) URL() string { return l.Scheme + "://" + l.Addr().String() }

// listenerRE is Connect's RestServer LISTENER_PATTERN.
var listenerRE = regexp.MustCompile(`^(.*)://\[?([0-9a-zA-Z\-%._:]*)\]?:(-?[0-9]+)$`)

// ParseSecurity reads the REST listeners, TLS and authentication from a
// worker config: the listeners key (a list of http://host:port and
// https://host:port), else rest.host.name:rest.port (default :8083) over
// http; the https listeners' key store, trust store and ssl.client.auth
// from listeners.https.ssl.* when any such key is set, else ssl.*; and
// basic authentication from rest.extension.classes (see
// BasicAuthFromWorker). getenv reads KAFKA_OPTS (os.Getenv).
func ParseSecurity(worker map[string]string, getenv func(string) string) (*Security, error) {
	s := &Security{}
	var https bool
	for _, l := range strings.Split(worker["listeners"], ",") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		m := listenerRE.FindStringSubmatch(l)
		if m == nil {
			return nil, fmt.Errorf("listeners: %s: Listener doesn't have the right format (protocol://hostname:port)", l)
		}
		scheme := strings.ToLower(m[1])
		if scheme != "http" && scheme != "https" {
			return nil, fmt.Errorf("listeners: %s: Listener protocol must be either \"http\" or \"https\"", l)
		}
		port, err := strconv.Atoi(m[3])
		if err != nil || port < 0 || port > 65535 {
			return nil, fmt.Errorf("listeners: %s: bad port %s", l, m[3])
		}
		https = https || scheme == "https"
		s.Listeners = append(s.Listeners, ListenerSpec{Scheme: scheme, Addr: net.JoinHostPort(m[2], strconv.Itoa(port))})
	}
	if len(s.Listeners) == 0 {
		port := DefaultPort
		if p := strings.TrimSpace(worker["rest.port"]); p != "" {
			n, err := strconv.Atoi(p)
			if err != nil || n < 0 || n > 65535 {
				return nil, fmt.Errorf("rest.port: Invalid value %s for configuration rest.port: Not a number of type INT", p)
			}
			port = n
		}
		s.Listeners = []ListenerSpec{{Scheme: "http", Addr: net.JoinHostPort(strings.TrimSpace(worker["rest.host.name"]), strconv.Itoa(port))}}
	}
	// Connect's RestServer.determineAdvertisedProtocol.
	s.Advertised = strings.ToLower(strings.TrimSpace(worker[KeyAdvertisedListener]))
	switch s.Advertised {
	case "":
		s.Advertised = "http"
		if l := strings.ToLower(worker["listeners"]); !strings.Contains(l, "http://") && strings.Contains(l, "https://") {
			s.Advertised = "https"
		}
	case "http", "https":
	default:
		return nil, fmt.Errorf("%s: Invalid value %s: want http or https", KeyAdvertisedListener, s.Advertised)
	}
	if !s.has(s.Advertised) {
		return nil, fmt.Errorf("%s=%s but no %s listener is configured (listeners=%s)", KeyAdvertisedListener, s.Advertised, s.Advertised, worker["listeners"])
	}
	if https {
		ssl := httpsSSL(worker)
		var err error
		if s.ServerTLS, err = ssl.serverTLS(); err != nil {
			return nil, fmt.Errorf("https listener: %w", err)
		}
		if s.ClientTLS, err = ssl.clientTLS(); err != nil {
			return nil, fmt.Errorf("https listener: %w", err)
		}
	}
	var err error
	if s.Auth, err = BasicAuthFromWorker(worker, getenv); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Security) has(scheme string) bool {
	for _, l := range s.Listeners {
		if l.Scheme == scheme {
			return true
		}
	}
	return false
}

// Listen opens every listener, TLS on the https ones. On error none stays
// open.
func (s *Security) Listen() ([]*Listener, error) {
	var out []*Listener
	for _, spec := range s.Listeners {
		ln, err := net.Listen("tcp", spec.Addr)
		if err != nil {
			CloseAll(out)
			return nil, fmt.Errorf("REST API: listen on %s://%s: %w", spec.Scheme, spec.Addr, err)
		}
		if spec.Scheme == "https" {
			ln = tls.NewListener(ln, s.ServerTLS)
		}
		out = append(out, &Listener{Listener: ln, Scheme: spec.Scheme})
	}
	return out, nil
}

// CloseAll closes listeners.
func CloseAll(lns []*Listener) {
	for _, l := range lns {
		_ = l.Close()
	}
}

// AdvertisedListener returns the listener other workers should be given:
// the first one of the advertised scheme.
func (s *Security) AdvertisedListener(lns []*Listener) *Listener {
	for _, l := range lns {
		if l.Scheme == s.Advertised {
			return l
		}
	}
	return lns[0]
}

// Handler returns h behind the configured authentication.
func (s *Security) Handler(h http.Handler) http.Handler {
	if s.Auth == nil {
		return h
	}
	return s.Auth.Wrap(h)
}

// Serve answers requests with h on every listener until ctx ends, then
// shuts down gracefully. Read and write timeouts bound what a slow or stuck
// client can hold; the write timeout is above Connect's 90 s request
// timeout for herder operations.
//
// The server's own errors (failed TLS handshakes: a client without a
// certificate, one that does not trust ours) go to log at DEBUG; nil
// discards them.
func Serve(ctx context.Context, h http.Handler, lns []*Listener, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 60 * time.Second,
		WriteTimeout: 120 * time.Second, IdleTimeout: 120 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug)}
	errc := make(chan error, len(lns))
	for _, ln := range lns {
		go func() { errc <- srv.Serve(ln) }()
	}
	select {
	case err := <-errc:
		_ = srv.Close()
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		return nil
	}
}

// WarnIfExposed logs a warning for each listener beyond loopback that
// anyone can use (no authentication), and for basic authentication over
// plain http beyond loopback (passwords cross the network in clear).
func (s *Security) WarnIfExposed(log *slog.Logger, lns []*Listener) {
	for _, l := range lns {
		ta, ok := l.Addr().(*net.TCPAddr)
		if !ok || ta.IP.IsLoopback() {
			continue
		}
		switch {
		case s.Auth == nil:
			log.Warn("REST API listens beyond loopback without authentication: anyone who can reach it can create, change and delete connectors; turn on basic authentication (rest.extension.classes="+BasicAuthExtensionClass+"), listen on 127.0.0.1 (listeners=http://127.0.0.1:8083) or restrict the port",
				"listener", l.URL())
		case l.Scheme == "http":
			log.Warn("REST API takes basic-auth passwords over plain http beyond loopback; use an https listener",
				"listener", l.URL())
		}
	}
}
