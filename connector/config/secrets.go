package config

import (
	"errors"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// Passwords inside values that are not PASSWORD keys: URLs with userinfo,
// JDBC URLs and DSNs with password parameters.
var (
	// scheme://user:password@ (any scheme: http, jdbc:postgresql, mongodb…).
	userinfoRE = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.\-]*://[^/@:\s?#,]*:)([^@\s/]*)@`)
	// password=…, pwd=…, passwd=…, sslpassword=…, trustCertificateKeyStorePassword=…
	// in query strings (?&), JDBC properties (;), libpq key=value DSNs
	// (white space) and lists (,); quoted values too.
	paramRE = regexp.MustCompile(`(?i)((?:^|[?&;\s,(])(?:[a-z0-9_.\-]*password|pwd|passwd)\s*=\s*)('[^']*'|"[^"]*"|[^&;\s)"]*)`)
	// Go MySQL DSN: user:password@tcp(host)/db, user:password@/db.
	mysqlDSNRE = regexp.MustCompile(`^([^:/@\s(]+:)(.*)@(?:[a-z0-9]*\(|/)`)
)

// RedactURL returns s with every password inside it replaced by [hidden]:
// the password of URL userinfo (http://user:password@host, also in lists
// and JDBC URLs), password parameters (password=, pwd=, passwd=, any
// …password=) of query strings, JDBC properties and libpq key=value DSNs,
// and the password of a Go MySQL DSN (user:password@tcp(host)/db). Other
// text is kept, so the result still says where the value points.
func RedactURL(s string) string {
	if !mayHoldPassword(s) {
		return s
	}
	s = userinfoRE.ReplaceAllString(s, "${1}"+HiddenValue+"@")
	s = paramRE.ReplaceAllStringFunc(s, func(m string) string {
		sub := paramRE.FindStringSubmatch(m)
		if sub[2] == "" {
			return m
		}
		return sub[1] + HiddenValue
	})
	if m := mysqlDSNRE.FindStringSubmatchIndex(s); m != nil && m[5] > m[4] {
		s = s[:m[4]] + HiddenValue + s[m[5]:]
	}
	return s
}

// URLSecrets returns the passwords RedactURL hides in s (quotes removed).
func URLSecrets(s string) []string {
	if !mayHoldPassword(s) {
		return nil
	}
	var out []string
	for _, m := range userinfoRE.FindAllStringSubmatch(s, -1) {
		out = append(out, m[2])
	}
	for _, m := range paramRE.FindAllStringSubmatch(s, -1) {
		out = append(out, strings.Trim(m[2], `'"`))
	}
	if m := mysqlDSNRE.FindStringSubmatch(s); m != nil {
		out = append(out, m[2])
	}
	out = slices.DeleteFunc(out, func(p string) bool { return p == "" })
	for _, p := range slices.Clone(out) {
		if u, err := url.QueryUnescape(p); err == nil && u != p {
			out = append(out, u) // the decoded form may appear in messages too
		}
	}
	return out
}

// HasHiddenURLPassword reports whether s carries a password RedactURL
// replaced by [hidden] (a value read back from the REST API).
func HasHiddenURLPassword(s string) bool {
	return slices.Contains(URLSecrets(s), HiddenValue)
}

func mayHoldPassword(s string) bool {
	return strings.Contains(s, "@") || strings.Contains(strings.ToLower(s), "pass") || strings.Contains(strings.ToLower(s), "pwd")
}

// RedactURLError returns err with passwords inside URLs hidden; a
// *url.Error (whose message quotes the whole URL, as url.Parse's errors
// do) keeps its type with its URL redacted.
func RedactURLError(err error) error {
	if err == nil {
		return nil
	}
	var ue *url.Error
	if errors.As(err, &ue) && err == error(ue) {
		return &url.Error{Op: ue.Op, URL: RedactURL(ue.URL), Err: ue.Err}
	}
	if r := RedactURL(err.Error()); r != err.Error() {
		return errors.New(r)
	}
	return err
}

// Scrub returns s with each of secrets (and any URL password) replaced by
// [hidden]. Secrets shorter than three characters are left to the
// structural redaction, since replacing them everywhere would garble the
// message without protecting anything.
func Scrub(s string, secrets []string) string {
	s = RedactURL(s)
	// Longest first, so a secret containing another is replaced whole.
	sorted := slices.Clone(secrets)
	slices.SortFunc(sorted, func(a, b string) int { return len(b) - len(a) })
	for _, sec := range sorted {
		if len(sec) >= 3 && sec != HiddenValue {
			s = strings.ReplaceAll(s, sec, HiddenValue)
		}
	}
	return s
}
