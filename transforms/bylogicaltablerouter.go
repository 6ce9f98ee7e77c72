package transforms

import (
	"fmt"
	"strings"

	"github.com/tributary-cdc/tributary/cdc"
	"github.com/tributary-cdc/tributary/connector/config"
	"github.com/tributary-cdc/tributary/schema"
)

const byLogicalTableRouterDoc = "Debezium's ByLogicalTableRouter: routes change events of several physical tables to one topic, " +
	"renames the key/value/envelope schemas after it and adds a key field naming the physical table."

func byLogicalTableRouterDef() *config.Def {
	return config.NewDef().
		Define(config.Key{Name: "topic.regex", Type: config.String, Default: config.NoDefault, Importance: config.Low,
			Validator: javaRegexValidator, Doc: "The regex used for extracting the name of the logical table from the original topic name."}).
		Define(config.Key{Name: "topic.replacement", Type: config.String, Default: config.NoDefault, Importance: config.Low,
			Doc: "The replacement string used in conjunction with topic.regex. This will be used to create the new topic name."}).
		Define(config.Key{Name: "key.enforce.uniqueness", Type: config.Boolean, Default: true, Importance: config.Low,
			Doc: "Augment each record's key with a field denoting the source topic."}).
		Define(config.Key{Name: "key.field.name", Type: config.String, Default: "__dbz__physicalTableIdentifier", Importance: config.Low,
			Doc: "Each record's key schema will be augmented with this field name."}).
		Define(config.Key{Name: "key.field.regex", Type: config.String, Default: "", Importance: config.Low,
			Validator: func(v any) error {
				if strings.TrimSpace(v.(string)) == "" {
					return nil
				}
				return javaRegexValidator(v)
			},
			Doc: "The regex used for extracting the physical table identifier from the original topic name."}).
		Define(config.Key{Name: "key.field.replacement", Type: config.String, Default: "", Importance: config.Low,
			Doc: "The replacement string used in conjunction with key.field.regex."}).
		Define(config.Key{Name: "schema.name.adjustment.mode", Type: config.String, Default: "none", Importance: config.Low,
			Validator: config.OneOf("none", "avro", "avro_unicode"),
			Doc:       "Adjust the new schema names: none, or avro (invalid characters become _)."}).
		Define(config.Key{Name: "logical.table.cache.size", Type: config.Int, Default: 16, Importance: config.Low,
			Doc: "Accepted for compatibility; caches here are bounded internally."})
}

type byLogicalTableRouter struct {
	topic     *topicRewriter
	keyRW     *topicRewriter // nil: identifier = old topic
	enforce   bool
	keyField  string
	adjust    bool
	keys      cache[routeKey, *schema.Schema]
	envelopes cache[routeKey, *routedEnvelope]
}

type routeKey struct {
	s     *schema.Schema
	topic string
}

type routedEnvelope struct {
	env, row      *schema.Schema
	before, after int
}

func newByLogicalTableRouter(v *config.Values) (transformer, error) {
	rw, err := newTopicRewriter("topic.regex", v.String("topic.regex"), "topic.replacement", v.String("topic.replacement"))
	if err != nil {
		return nil, err
	}
	t := &byLogicalTableRouter{topic: rw, enforce: v.Bool("key.enforce.uniqueness"), keyField: v.String("key.field.name"),
		adjust: !strings.EqualFold(v.String("schema.name.adjustment.mode"), "none")}
	if kr := strings.TrimSpace(v.String("key.field.regex")); kr != "" {
		repl := strings.TrimSpace(v.String("key.field.replacement"))
		if repl == "" {
			return nil, keyError("key.field.replacement", "key.field.replacement must be non-empty if key.field.regex is set.")
		}
		if t.keyRW, err = newTopicRewriter("key.field.regex", kr, "key.field.replacement", repl); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func (t *byLogicalTableRouter) name(n string) string {
	if t.adjust {
		return cdc.SanitizeName(n)
	}
	return n
}

func (t *byLogicalTableRouter) apply(r schema.Record) (schema.Record, bool, error) {
	oldTopic := r.Topic
	newTopic, ok := t.topic.rewrite(oldTopic)
	if !ok || newTopic == "" {
		return r, true, nil
	}
	r.Topic = newTopic
	if r.Key != nil {
		id := oldTopic
		if t.keyRW != nil {
			id, _ = t.keyRW.rewrite(oldTopic)
		}
		if r.KeySchema == nil {
			m, err := requireMap(r.Key, "Updating schema")
			if err != nil {
				return r, false, err
			}
			out := make(map[string]any, len(m)+1)
			for k, v := range m {
				out[k] = v
			}
			if t.enforce {
				out[t.keyField] = id
			}
			r.Key = out
		} else {
			old, err := requireStruct(r.Key, "Updating schema")
			if err != nil {
				return r, false, err
			}
			ks, err := t.keys.getOrBuild(routeKey{old.Schema, newTopic}, func() (*schema.Schema, error) {
				fields := fieldsOf(old.Schema)
				if t.enforce {
					fields = append(fields, schema.Field{Name: t.keyField, Schema: schema.StringSchema})
				}
				s, err := deriveStruct(old.Schema, old.Schema.Optional, fields)
				if err != nil {
					return nil, fmt.Errorf("key.field.name %s: %w", t.keyField, err)
				}
				s.Name = t.name(newTopic + ".Key")
				return s, nil
			})
			if err != nil {
				return r, false, err
			}
			vals := make([]any, len(ks.Fields))
			for i := range old.Schema.Fields {
				vals[i] = fieldValue(old, i, true)
			}
			if t.enforce {
				vals[len(vals)-1] = id
			}
			r.KeySchema, r.Key = ks, &schema.Struct{Schema: ks, Values: vals}
		}
	}
	if r.Value == nil || r.ValueSchema == nil || !isEnvelope(r.ValueSchema, r.Value) {
		return r, true, nil
	}
	env := r.Value.(*schema.Struct)
	re, err := t.envelopes.getOrBuild(routeKey{env.Schema, newTopic}, func() (*routedEnvelope, error) {
		bf, ok1 := env.Schema.Field("before")
		af, ok2 := env.Schema.Field("after")
		if !ok1 || !ok2 || bf.Schema.Type != schema.TypeStruct {
			return nil, fmt.Errorf("envelope %s has no before/after struct fields", env.Schema.Name)
		}
		row, err := deriveStruct(bf.Schema, bf.Schema.Optional, fieldsOf(bf.Schema))
		if err != nil {
			return nil, err
		}
		row.Name = t.name(newTopic + ".Value")
		fields := fieldsOf(env.Schema)
		fields[bf.Index].Schema, fields[af.Index].Schema = row, row
		es, err := deriveStruct(env.Schema, env.Schema.Optional, fields)
		if err != nil {
			return nil, err
		}
		es.Name = t.name(newTopic + envelopeNameSuffix)
		return &routedEnvelope{env: es, row: row, before: bf.Index, after: af.Index}, nil
	})
	if err != nil {
		return r, false, err
	}
	vals := make([]any, len(re.env.Fields))
	copy(vals, env.Values)
	for _, i := range []int{re.before, re.after} {
		if row, ok := vals[i].(*schema.Struct); ok && row != nil {
			rv := make([]any, len(row.Schema.Fields))
			for j := range rv {
				rv[j] = fieldValue(row, j, true)
			}
			vals[i] = &schema.Struct{Schema: re.row, Values: rv}
		}
	}
	r.ValueSchema, r.Value = re.env, &schema.Struct{Schema: re.env, Values: vals}
	return r, true, nil
}
