package rest

// Basic authentication as Kafka Connect's BasicAuthSecurityRestExtension
// does it: rest.extension.classes names the extension, a JAAS file names
// PropertyFileLoginModule and its users file, and every request except the
// two internal worker-to-worker ones must carry a matching
// "Authorization: Basic" header.

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"
	"unicode"

	"github.com/magiconair/properties"
)

// Worker keys and names of the basic-auth setup.
const (
	// KeyRestExtensionClasses lists REST extensions (Connect's
	// rest.extension.classes); only BasicAuthExtensionClass is known.
	KeyRestExtensionClasses = "rest.extension.classes"
	// KeyBasicAuthJAASFile is Tributary's worker key naming the JAAS file
	// (what Connect reads from -Djava.security.auth.login.config=… in
	// KAFKA_OPTS). When both are set, the worker key wins.
	KeyBasicAuthJAASFile = "rest.basic.auth.jaas.config.file"
	// BasicAuthExtensionClass is Connect's basic-auth REST extension.
	BasicAuthExtensionClass = "org.apache.kafka.connect.rest.basic.auth.extension.BasicAuthSecurityRestExtension"
	// PropertyFileLoginModuleClass is the JAAS login module it uses.
	PropertyFileLoginModuleClass = "org.apache.kafka.connect.rest.basic.auth.extension.PropertyFileLoginModule"
	// jaasSection is the JAAS application name Connect logs in with.
	jaasSection = "KafkaConnect"
	// jaasProperty is the Java system property naming the JAAS file.
	jaasProperty = "java.security.auth.login.config"
	// Realm is the realm given in WWW-Authenticate.
	Realm = "KafkaConnect"
)

// BasicAuth checks HTTP basic credentials against a users file read once at
// start, as Connect's PropertyFileLoginModule does: a java.util.Properties
// file of user=password lines (user: password works too), where the whole
// value is the password.
type BasicAuth struct {
	// users maps a user to the SHA-256 of the password, so the comparison
	// takes the same time whatever the lengths.
	users map[string][sha256.Size]byte
	// File is the users file (for logs).
	File string
}

// internalRequests are the requests Connect's JaasBasicAuthFilter lets
// through without credentials: other workers send them (task configs to
// the leader, zombie fencing) and have no user's credentials.
var internalRequests = []struct {
	method string
	path   *regexp.Regexp
}{
	{http.MethodPost, regexp.MustCompile(`^/connectors/[^/]+/tasks/?$`)},
	{http.MethodPut, regexp.MustCompile(`^/connectors/[^/]+/fence/?$`)},
}

// IsInternalRequest reports whether r is one of the worker-to-worker
// requests Connect exempts from basic authentication (POST
// /connectors/{name}/tasks, PUT /connectors/{name}/fence).
func IsInternalRequest(r *http.Request) bool {
	for _, m := range internalRequests {
		if r.Method == m.method && m.path.MatchString(r.URL.Path) {
			return true
		}
	}
	return false
}

// BasicAuthFromWorker returns the basic authentication a worker config asks
// for, or nil when rest.extension.classes is empty. getenv reads KAFKA_OPTS.
// An unknown extension class, a missing or unreadable JAAS or users file, a
// JAAS file without a KafkaConnect section using PropertyFileLoginModule,
// or an empty users file (Connect would then let everyone in) fail.
func BasicAuthFromWorker(worker map[string]string, getenv func(string) string) (*BasicAuth, error) {
	jaasKey := strings.TrimSpace(worker[KeyBasicAuthJAASFile])
	var basic bool
	for _, c := range strings.Split(worker[KeyRestExtensionClasses], ",") {
		switch c = strings.TrimSpace(c); c {
		case "":
		case BasicAuthExtensionClass:
			basic = true
		default:
			return nil, fmt.Errorf("%s: unknown REST extension %s: Tributary implements only %s, and will not start without an extension it was asked for",
				KeyRestExtensionClasses, c, BasicAuthExtensionClass)
		}
	}
	if !basic {
		if jaasKey != "" {
			return nil, fmt.Errorf("%s is set but %s does not name %s: set both to turn on basic authentication, or remove %s",
				KeyBasicAuthJAASFile, KeyRestExtensionClasses, BasicAuthExtensionClass, KeyBasicAuthJAASFile)
		}
		return nil, nil
	}
	jaasFile, from := jaasKey, KeyBasicAuthJAASFile
	if jaasFile == "" && getenv != nil {
		jaasFile, from = jaasFileFromOpts(getenv("KAFKA_OPTS")), "-D"+jaasProperty+" in KAFKA_OPTS"
	}
	if jaasFile == "" {
		return nil, fmt.Errorf("%s=%s needs a JAAS file: set -D%s=<path> in KAFKA_OPTS (as for Kafka Connect) or %s=<path>",
			KeyRestExtensionClasses, BasicAuthExtensionClass, jaasProperty, KeyBasicAuthJAASFile)
	}
	b, err := os.ReadFile(jaasFile)
	if err != nil {
		return nil, fmt.Errorf("JAAS file (%s): %w", from, err)
	}
	usersFile, err := jaasUsersFile(string(b))
	if err != nil {
		return nil, fmt.Errorf("JAAS file %s (%s): %w", jaasFile, from, err)
	}
	return LoadUsers(usersFile)
}

// jaasFileFromOpts finds -Djava.security.auth.login.config=<path> among JVM
// options as kafka-run-class.sh passes them (split at white space). A
// leading "=" (the JVM's "==" override form) and a file: URL prefix are
// accepted.
func jaasFileFromOpts(opts string) string {
	found := ""
	for _, f := range strings.Fields(opts) {
		v, ok := strings.CutPrefix(f, "-D"+jaasProperty+"=")
		if !ok {
			continue
		}
		v = strings.Trim(v, `"'`)
		v = strings.TrimPrefix(v, "=")
		if rest, ok := strings.CutPrefix(v, "file://"); ok {
			v = rest
		} else if rest, ok := strings.CutPrefix(v, "file:"); ok {
			v = rest
		}
		found = v // the JVM takes the last -D of a name
	}
	return found
}

// LoadUsers reads a users file (java.util.Properties: user=password or
// user: password; the whole value is the password, as in Connect's
// PropertyFileLoginModule).
func LoadUsers(path string) (*BasicAuth, error) {
	l := properties.Loader{Encoding: properties.UTF8, DisableExpansion: true}
	p, err := l.LoadFile(path)
	if err != nil {
		return nil, fmt.Errorf("basic auth users file: %w", err)
	}
	a := &BasicAuth{users: map[string][sha256.Size]byte{}, File: path}
	for _, k := range p.Keys() {
		v, _ := p.Get(k)
		a.users[k] = sha256.Sum256([]byte(v))
	}
	if len(a.users) == 0 {
		// Connect lets every request through when the file is empty;
		// Tributary refuses to start rather than look protected.
		return nil, fmt.Errorf("basic auth users file %s lists no user: add user=password lines (Kafka Connect would let every request through)", path)
	}
	return a, nil
}

// Check reports whether an Authorization header value carries the
// credentials of a listed user. The password comparison is constant-time,
// and an unknown user costs the same as a wrong password.
func (a *BasicAuth) Check(header string) bool {
	user, pass, ok := parseBasic(header)
	if !ok {
		return false
	}
	got := sha256.Sum256([]byte(pass))
	want, known := a.users[user]
	match := subtle.ConstantTimeCompare(got[:], want[:]) == 1
	return known && match
}

// parseBasic decodes "Basic base64(user:password)" as Connect's
// BasicAuthCredentials: the scheme is case-insensitive, the user is what
// precedes the first colon and must not be empty.
func parseBasic(header string) (user, pass string, ok bool) {
	scheme, enc, found := strings.Cut(header, " ")
	if !found || scheme == "" || !strings.EqualFold(scheme, "Basic") {
		return "", "", false
	}
	dec, err := base64.StdEncoding.DecodeString(strings.TrimSpace(enc))
	if err != nil {
		return "", "", false
	}
	user, pass, found = strings.Cut(string(dec), ":")
	if !found || user == "" {
		return "", "", false
	}
	return user, pass, true
}

// Wrap returns next behind the authentication: a request without valid
// credentials is answered 401 with WWW-Authenticate and Connect's message,
// before any routing (so unknown paths and wrong methods answer 401 too),
// except IsInternalRequest ones.
func (a *BasicAuth) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if IsInternalRequest(r) || a.Check(r.Header.Get("Authorization")) {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="`+Realm+`", charset="UTF-8"`)
		_ = writeJSON(w, http.StatusUnauthorized, ErrorMessage{ErrorCode: http.StatusUnauthorized, Message: "User cannot access the resource."})
	})
}

// ---- JAAS ----

// jaasUsersFile reads a JAAS configuration (Java's ConfigFile syntax) and
// returns the file option of the PropertyFileLoginModule entry of its
// KafkaConnect section.
func jaasUsersFile(src string) (string, error) {
	sections, err := parseJAAS(src)
	if err != nil {
		return "", err
	}
	entries, ok := sections[jaasSection]
	if !ok {
		return "", fmt.Errorf("no %s section (Connect logs in with %s { %s required file=\"…\"; };)", jaasSection, jaasSection, PropertyFileLoginModuleClass)
	}
	if len(entries) != 1 || entries[0].class != PropertyFileLoginModuleClass {
		var names []string
		for _, e := range entries {
			names = append(names, e.class)
		}
		return "", fmt.Errorf("section %s: want exactly one login module, %s; got %s", jaasSection, PropertyFileLoginModuleClass, strings.Join(names, ", "))
	}
	f := strings.TrimSpace(entries[0].options["file"])
	if f == "" {
		return "", fmt.Errorf("section %s: %s needs the option file=\"<users.properties>\"", jaasSection, PropertyFileLoginModuleClass)
	}
	return f, nil
}

type jaasEntry struct {
	class, flag string
	options     map[string]string
}

// parseJAAS parses Name { class flag key=value…; … }; sections with // and
// /* */ comments and double-quoted values (backslash escapes).
func parseJAAS(src string) (map[string][]jaasEntry, error) {
	toks, err := jaasTokens(src)
	if err != nil {
		return nil, err
	}
	out := map[string][]jaasEntry{}
	i := 0
	next := func() (jaasToken, bool) {
		if i >= len(toks) {
			return jaasToken{}, false
		}
		i++
		return toks[i-1], true
	}
	expect := func(what string) (jaasToken, error) {
		t, ok := next()
		if !ok {
			return t, fmt.Errorf("unexpected end of file, want %s", what)
		}
		return t, nil
	}
	for i < len(toks) {
		name, _ := next()
		if name.punct != 0 {
			return nil, fmt.Errorf("line %d: want a section name, got %q", name.line, string(name.punct))
		}
		if t, err := expect("{"); err != nil {
			return nil, err
		} else if t.punct != '{' {
			return nil, fmt.Errorf("line %d: want { after %s", t.line, name.text)
		}
		var entries []jaasEntry
		for {
			t, err := expect("a login module or }")
			if err != nil {
				return nil, err
			}
			if t.punct == '}' {
				break
			}
			if t.punct != 0 {
				return nil, fmt.Errorf("line %d: want a login module class, got %q", t.line, string(t.punct))
			}
			e := jaasEntry{class: t.text, options: map[string]string{}}
			f, err := expect("a control flag")
			if err != nil {
				return nil, err
			}
			switch strings.ToLower(f.text) {
			case "required", "requisite", "sufficient", "optional":
				e.flag = strings.ToLower(f.text)
			default:
				return nil, fmt.Errorf("line %d: %s: want control flag required, requisite, sufficient or optional, got %q", f.line, e.class, f.text)
			}
			for {
				k, err := expect("an option or ;")
				if err != nil {
					return nil, err
				}
				if k.punct == ';' {
					break
				}
				if k.punct != 0 {
					return nil, fmt.Errorf("line %d: want an option name, got %q", k.line, string(k.punct))
				}
				if eq, err := expect("="); err != nil {
					return nil, err
				} else if eq.punct != '=' {
					return nil, fmt.Errorf("line %d: want = after option %s", eq.line, k.text)
				}
				v, err := expect("an option value")
				if err != nil {
					return nil, err
				}
				if v.punct != 0 {
					return nil, fmt.Errorf("line %d: want a value for option %s", v.line, k.text)
				}
				e.options[k.text] = v.text
			}
			entries = append(entries, e)
		}
		if t, err := expect(";"); err != nil {
			return nil, err
		} else if t.punct != ';' {
			return nil, fmt.Errorf("line %d: want ; after the } of section %s", t.line, name.text)
		}
		out[name.text] = append(out[name.text], entries...)
	}
	return out, nil
}

type jaasToken struct {
	text  string
	punct rune // one of { } ; = or 0 for a word or string
	line  int
}

func jaasTokens(src string) ([]jaasToken, error) {
	var toks []jaasToken
	rs := []rune(src)
	line := 1
	for i := 0; i < len(rs); {
		c := rs[i]
		switch {
		case c == '\n':
			line++
			i++
		case unicode.IsSpace(c):
			i++
		case c == '/' && i+1 < len(rs) && rs[i+1] == '/':
			for i < len(rs) && rs[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(rs) && rs[i+1] == '*':
			j := i + 2
			for j+1 < len(rs) && (rs[j] != '*' || rs[j+1] != '/') {
				if rs[j] == '\n' {
					line++
				}
				j++
			}
			if j+1 >= len(rs) {
				return nil, errors.New("unterminated /* comment")
			}
			i = j + 2
		case c == '{' || c == '}' || c == ';' || c == '=':
			toks = append(toks, jaasToken{punct: c, line: line})
			i++
		case c == '"' || c == '\'':
			var b strings.Builder
			start := line
			i++
			for ; i < len(rs) && rs[i] != c; i++ {
				if rs[i] == '\n' {
					line++
				}
				if rs[i] == '\\' && i+1 < len(rs) {
					i++
					switch rs[i] {
					case 'n':
						b.WriteRune('\n')
					case 't':
						b.WriteRune('\t')
					default:
						b.WriteRune(rs[i])
					}
					continue
				}
				b.WriteRune(rs[i])
			}
			if i >= len(rs) {
				return nil, fmt.Errorf("line %d: unterminated quoted value", start)
			}
			i++
			toks = append(toks, jaasToken{text: b.String(), line: start})
		default:
			j := i
			for j < len(rs) && !unicode.IsSpace(rs[j]) && !strings.ContainsRune("{};=\"'", rs[j]) {
				j++
			}
			toks = append(toks, jaasToken{text: string(rs[i:j]), line: line})
			i = j
		}
	}
	return toks, nil
}
