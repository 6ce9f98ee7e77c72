package transforms

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/tributary-cdc/tributary/connector/config"
	"github.com/tributary-cdc/tributary/schema"
)

const (
	filterDoc          = "Drops all records, filtering them from subsequent transformations in the chain. Intended to be used conditionally with a predicate."
	regexRouterDoc     = "Update the record topic using the configured regular expression and replacement string. Uses Java-style $1 group references; the regex must match the whole topic."
	timestampRouterDoc = "Update the record's topic field as a function of the original topic value and the record timestamp."
)

type filter struct{}

func newFilter(*config.Values) (transformer, error) { return filter{}, nil }

func (filter) apply(r schema.Record) (schema.Record, bool, error) { return r, false, nil }

// javaRegexValidator checks a regex compiles under RE2 (Go). Java-only
// constructs (lookaround, backreferences, possessive quantifiers) are
// rejected with the compiler's reason.
func javaRegexValidator(v any) error {
	s, _ := v.(string)
	if _, err := compileFull(s); err != nil {
		return err
	}
	return nil
}

// compileFull compiles a Java regex for Matcher.matches() semantics.
func compileFull(re string) (*regexp.Regexp, error) {
	r, err := regexp.Compile(`^(?:` + re + `)$`)
	if err != nil {
		if _, e2 := regexp.Compile(re); e2 != nil {
			err = e2
		}
		return nil, fmt.Errorf("not a valid regular expression %q: %v", re, err)
	}
	return r, nil
}

// javaReplacement converts a java.util.regex replacement string ($1, ${name},
// \$ escapes) into a Go regexp.Expand template.
func javaReplacement(re *regexp.Regexp, repl string) (string, error) {
	groups := re.NumSubexp() - 0
	var b strings.Builder
	for i := 0; i < len(repl); i++ {
		c := repl[i]
		switch c {
		case '\\':
			i++
			if i >= len(repl) {
				return "", fmt.Errorf("character to be escaped is missing")
			}
			if repl[i] == '$' {
				b.WriteString("$$")
			} else {
				b.WriteByte(repl[i])
			}
		case '$':
			i++
			if i >= len(repl) {
				return "", fmt.Errorf("Illegal group reference: group index is missing")
			}
			if repl[i] == '{' {
				end := strings.IndexByte(repl[i:], '}')
				if end < 0 {
					return "", fmt.Errorf("named capturing group is missing trailing '}'")
				}
				name := repl[i+1 : i+end]
				if re.SubexpIndex(name) < 0 {
					return "", fmt.Errorf("No group with name {%s}", name)
				}
				b.WriteString("${" + name + "}")
				i += end
				continue
			}
			if repl[i] < '0' || repl[i] > '9' {
				return "", fmt.Errorf("Illegal group reference")
			}
			n := int(repl[i] - '0')
			for i+1 < len(repl) && repl[i+1] >= '0' && repl[i+1] <= '9' {
				nn := n*10 + int(repl[i+1]-'0')
				if nn > groups {
					break
				}
				n = nn
				i++
			}
			if n > groups {
				return "", fmt.Errorf("No group %d", n)
			}
			fmt.Fprintf(&b, "${%d}", n)
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// topicRewriter applies a full-match regex and Java replacement to topic
// names, memoizing results per topic.
type topicRewriter struct {
	re     *regexp.Regexp
	tmpl   string
	topics cache[string, routed]
}

type routed struct {
	topic   string
	matched bool
}

func newTopicRewriter(regexKey, regex, replKey, repl string) (*topicRewriter, error) {
	re, err := compileFull(regex)
	if err != nil {
		return nil, keyError(regexKey, "Invalid value %s for configuration %s: %v", regex, regexKey, err)
	}
	tmpl, err := javaReplacement(re, repl)
	if err != nil {
		return nil, keyError(replKey, "Invalid value %s for configuration %s: %v", repl, replKey, err)
	}
	return &topicRewriter{re: re, tmpl: tmpl}, nil
}

func (t *topicRewriter) rewrite(topic string) (string, bool) {
	if r, ok := t.topics.get(topic); ok {
		return r.topic, r.matched
	}
	m := t.re.FindStringSubmatchIndex(topic)
	r := routed{topic: topic}
	if m != nil {
		r = routed{topic: string(t.re.ExpandString(nil, t.tmpl, topic, m)), matched: true}
	}
	t.topics.put(topic, r)
	return r.topic, r.matched
}

func regexRouterDef() *config.Def {
	return config.NewDef().
		Define(config.Key{Name: "regex", Type: config.String, Default: config.NoDefault, Importance: config.High,
			Validator: javaRegexValidator, Doc: "Regular expression to use for matching."}).
		Define(config.Key{Name: "replacement", Type: config.String, Default: config.NoDefault, Importance: config.High,
			Doc: "Replacement string."})
}

type regexRouter struct{ rw *topicRewriter }

func newRegexRouter(v *config.Values) (transformer, error) {
	rw, err := newTopicRewriter("regex", v.String("regex"), "replacement", v.String("replacement"))
	if err != nil {
		return nil, err
	}
	return &regexRouter{rw: rw}, nil
}

func (t *regexRouter) apply(r schema.Record) (schema.Record, bool, error) {
	if topic, ok := t.rw.rewrite(r.Topic); ok {
		r.Topic = topic
	}
	return r, true, nil
}

func timestampRouterDef() *config.Def {
	return config.NewDef().
		Define(config.Key{Name: "topic.format", Type: config.String, Default: "${topic}-${timestamp}", Importance: config.High,
			Doc: "Format string which can contain ${topic} and ${timestamp} as placeholders for the topic and timestamp, respectively."}).
		Define(config.Key{Name: "timestamp.format", Type: config.String, Default: "yyyyMMdd", Importance: config.High,
			Validator: func(v any) error { _, err := compileJavaDateFormat(v.(string)); return err },
			Doc:       "Format string for the timestamp that is compatible with java.text.SimpleDateFormat."})
}

type timestampRouter struct {
	topicFormat string
	tsFormat    *javaDateFormat
}

func newTimestampRouter(v *config.Values) (transformer, error) {
	f, err := compileJavaDateFormat(v.String("timestamp.format"))
	if err != nil {
		return nil, keyError("timestamp.format", "%v", err)
	}
	return &timestampRouter{topicFormat: v.String("topic.format"), tsFormat: f}, nil
}

func (t *timestampRouter) apply(r schema.Record) (schema.Record, bool, error) {
	if r.Timestamp.IsZero() {
		return r, false, fmt.Errorf("Timestamp missing on record (topic %s)", r.Topic)
	}
	ts := t.tsFormat.format(r.Timestamp)
	r.Topic = strings.ReplaceAll(strings.ReplaceAll(t.topicFormat, "${topic}", r.Topic), "${timestamp}", ts)
	return r, true, nil
}
