package transforms

import (
	"regexp"

	"github.com/tributary-cdc/tributary/connector/config"
	"github.com/tributary-cdc/tributary/schema"
)

const (
	topicNameMatchesDoc  = "A predicate which is true for records with a topic name that matches the configured regular expression."
	hasHeaderKeyDoc      = "A predicate which is true for records with at least one header with the configured name."
	recordIsTombstoneDoc = "A predicate which is true for records which are tombstones (i.e. have null value)."
)

func topicNameMatchesDef() *config.Def {
	return config.NewDef().
		Define(config.Key{Name: "pattern", Type: config.String, Default: config.NoDefault, Importance: config.Medium,
			Validator: func(v any) error {
				if err := config.NonEmpty(v); err != nil {
					return err
				}
				return javaRegexValidator(v)
			},
			Doc: "A Java regular expression for matching against the name of a record's topic."})
}

type topicNameMatches struct {
	re *regexp.Regexp
}

func newTopicNameMatches(v *config.Values) (predicate, error) {
	re, err := compileFull(v.String("pattern"))
	if err != nil {
		return nil, keyError("pattern", "%v", err)
	}
	return &topicNameMatches{re: re}, nil
}

func (p *topicNameMatches) test(r schema.Record) bool {
	return r.Topic != "" && p.re.MatchString(r.Topic)
}

func hasHeaderKeyDef() *config.Def {
	return config.NewDef().
		Define(config.Key{Name: "name", Type: config.String, Default: config.NoDefault, Importance: config.Medium,
			Validator: config.NonEmpty, Doc: "The header name."})
}

type hasHeaderKey struct{ name string }

func newHasHeaderKey(v *config.Values) (predicate, error) {
	return &hasHeaderKey{name: v.String("name")}, nil
}

func (p *hasHeaderKey) test(r schema.Record) bool {
	for _, h := range r.Headers {
		if h.Key == p.name {
			return true
		}
	}
	return false
}

type recordIsTombstone struct{}

func newRecordIsTombstone(*config.Values) (predicate, error) { return recordIsTombstone{}, nil }

func (recordIsTombstone) test(r schema.Record) bool { return r.Value == nil }
