package transforms

import (
	"fmt"
	"strings"

	"github.com/tributary-cdc/tributary/connector/config"
	"github.com/tributary-cdc/tributary/schema"
)

const extractNewRecordStateDoc = "Debezium's ExtractNewRecordState: replaces a change-event envelope with its 'after' row, " +
	"with configurable handling of deletes and tombstones, and optional envelope fields added to the row or as headers."

// Debezium's names.
const (
	deletedField       = "__deleted"
	envelopeNameSuffix = ".Envelope"
)

// delete.tombstone.handling.mode values.
const (
	dthDrop                 = "drop"
	dthTombstone            = "tombstone"
	dthRewrite              = "rewrite"
	dthRewriteWithTombstone = "rewrite-with-tombstone"
	dthDeleteToTombstone    = "delete-to-tombstone"
)

func extractNewRecordStateDef() *config.Def {
	return config.NewDef().
		Define(config.Key{Name: "delete.tombstone.handling.mode", Type: config.String, Default: "", Importance: config.Medium,
			Validator: func(v any) error {
				if s, _ := v.(string); s == "" {
					return nil
				}
				return config.OneOf(dthDrop, dthTombstone, dthRewrite, dthRewriteWithTombstone, dthDeleteToTombstone)(v)
			},
			Doc: "How to handle delete records and tombstones: drop, tombstone (the default), rewrite, rewrite-with-tombstone, delete-to-tombstone."}).
		Define(config.Key{Name: "delete.handling.mode", Type: config.String, Default: "drop", Importance: config.Medium,
			Validator: config.OneOf("drop", "rewrite", "none"),
			Doc:       "Deprecated (use delete.tombstone.handling.mode): how to handle delete records: drop, rewrite or none. Used only when delete.tombstone.handling.mode is not set."}).
		Define(config.Key{Name: "drop.tombstones", Type: config.Boolean, Default: true, Importance: config.Low,
			Doc: "Deprecated (use delete.tombstone.handling.mode): drop tombstone records. Used only when delete.tombstone.handling.mode is not set."}).
		Define(config.Key{Name: "route.by.field", Type: config.String, Default: "", Importance: config.Low,
			Doc: "The column which determines how the events will be routed; the value will replace the topic name."}).
		Define(config.Key{Name: "add.fields.prefix", Type: config.String, Default: "__", Importance: config.Low,
			Doc: "Prefix for the names of fields added to the value."}).
		Define(config.Key{Name: "add.fields", Type: config.String, Default: "", Importance: config.Low,
			Doc: "Comma-separated list of envelope fields to add to the value (op, ts_ms, source fields such as table or source.ts_ms, transaction fields such as id); field:NEW_NAME renames."}).
		Define(config.Key{Name: "add.headers.prefix", Type: config.String, Default: "__", Importance: config.Low,
			Doc: "Prefix for the names of headers added to the record."}).
		Define(config.Key{Name: "add.headers", Type: config.String, Default: "", Importance: config.Low,
			Doc: "Comma-separated list of envelope fields to add as headers, with the same syntax as add.fields."}).
		Define(config.Key{Name: "drop.fields.header.name", Type: config.String, Default: nil, Importance: config.Low,
			Doc: "Not supported: needs ExtractChangedRecordState's in-memory list headers."}).
		Define(config.Key{Name: "drop.fields.from.key", Type: config.Boolean, Default: false, Importance: config.Low,
			Doc: "Used with drop.fields.header.name (not supported)."}).
		Define(config.Key{Name: "drop.fields.keep.schema.compatible", Type: config.Boolean, Default: true, Importance: config.Low,
			Doc: "Used with drop.fields.header.name (not supported)."}).
		Define(replaceNullKey())
}

type deleteAction uint8

const (
	delDrop      deleteAction = iota
	delNullValue              // value null, schema = the 'after' schema (Debezium's "tombstone" mode)
	delRewrite                // 'before' + __deleted=true
	delTombstone              // null schema and value
)

// fieldRef is one add.fields / add.headers entry.
type fieldRef struct {
	parent string // "", "source", "transaction"
	field  string
	out    string
}

func parseFieldRefs(prefix, list string) ([]fieldRef, error) {
	var out []fieldRef
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		parts := strings.Split(item, ":")
		if len(parts) > 2 {
			return nil, fmt.Errorf("Unexpected field name: %s", item)
		}
		path := strings.Split(parts[0], ".")
		ref := fieldRef{}
		if len(path) == 1 {
			ref.field = path[0]
			switch ref.field {
			case "id", "total_order", "data_collection_order":
				ref.parent = "transaction"
			case "op", "ts_ms", "ts_us", "ts_ns":
			default:
				ref.parent = "source"
			}
			ref.out = prefix + ref.field
		} else {
			ref.parent, ref.field = path[0], path[1]
			ref.out = prefix + ref.parent + "_" + ref.field
		}
		if len(parts) == 2 {
			ref.out = prefix + parts[1]
		}
		out = append(out, ref)
	}
	return out, nil
}

type extractNewRecordState struct {
	keepTombstones bool
	deletes        deleteAction
	rewrite        bool
	fields         []fieldRef
	headers        []fieldRef
	routeBy        string
	envs           cache[*schema.Schema, *envInfo]
	plans          cache[planKey, *enrsPlan]
}

// envInfo is what one envelope schema tells: where before/after are and
// which add.headers it has.
type envInfo struct {
	ok            bool // a usable envelope (has struct before/after)
	before, after int
	afterSchema   *schema.Schema
	headers       []resolvedRef
}

type planKey struct {
	env *schema.Schema
	row *schema.Schema
}

// enrsPlan is the output schema for one envelope and row schema.
type enrsPlan struct {
	out    *schema.Schema
	fields []resolvedRef // add.fields present in the envelope
}

// resolvedRef locates a field reference in an envelope schema: parent index
// (-1 for top level) then field index within the parent (or, when the parent
// lacks it, within the envelope: top=true).
type resolvedRef struct {
	out    string
	parent int
	idx    int
	top    bool
	schema *schema.Schema
}

func newExtractNewRecordState(v *config.Values) (transformer, error) {
	if n, ok := v.Get("drop.fields.header.name").(string); ok && n != "" {
		return nil, keyError("drop.fields.header.name", "not supported by this implementation")
	}
	t := &extractNewRecordState{routeBy: v.String("route.by.field")}
	mode := strings.ToLower(v.String("delete.tombstone.handling.mode"))
	raw := v.Raw()
	_, legacyDel := raw["delete.handling.mode"]
	_, legacyTomb := raw["drop.tombstones"]
	switch {
	case mode == "" && (legacyDel || legacyTomb):
		t.keepTombstones = !v.Bool("drop.tombstones")
		switch strings.ToLower(v.String("delete.handling.mode")) {
		case "rewrite":
			t.deletes, t.rewrite = delRewrite, true
		case "none":
			t.deletes = delNullValue
		default:
			t.deletes = delDrop
		}
	case mode == dthDrop:
		t.deletes = delDrop
	case mode == dthRewrite:
		t.deletes, t.rewrite = delRewrite, true
	case mode == dthRewriteWithTombstone:
		t.deletes, t.rewrite, t.keepTombstones = delRewrite, true, true
	case mode == dthDeleteToTombstone:
		t.deletes = delTombstone
	default: // tombstone, the default since Debezium 3.2
		t.deletes = delNullValue
	}
	var err error
	if t.fields, err = parseFieldRefs(v.String("add.fields.prefix"), v.String("add.fields")); err != nil {
		return nil, keyError("add.fields", "%v", err)
	}
	if t.headers, err = parseFieldRefs(v.String("add.headers.prefix"), v.String("add.headers")); err != nil {
		return nil, keyError("add.headers", "%v", err)
	}
	return t, nil
}

// isEnvelope reports whether v (with schema s) is a Debezium change event.
func isEnvelope(s *schema.Schema, v any) bool {
	if s != nil {
		_, ok := v.(*schema.Struct)
		return ok && strings.HasSuffix(s.Name, envelopeNameSuffix)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return false
	}
	if _, ok := m["op"].(string); !ok {
		return false
	}
	_, hasAfter := m["after"]
	_, hasBefore := m["before"]
	return hasAfter || hasBefore
}

func (t *extractNewRecordState) apply(r schema.Record) (schema.Record, bool, error) {
	if r.Value == nil {
		if !t.keepTombstones {
			return r, false, nil
		}
		for _, h := range t.headers {
			if h.parent == "" && h.field == "op" {
				r.Headers = appendHeaders(r.Headers, schema.Header{Key: h.out, Value: []byte("d")})
			}
		}
		return r, true, nil
	}
	if !isEnvelope(r.ValueSchema, r.Value) {
		return r, true, nil
	}
	if r.ValueSchema == nil {
		return t.applySchemaless(r)
	}
	env := r.Value.(*schema.Struct)
	es := env.Schema
	info, _ := t.envs.getOrBuild(es, func() (*envInfo, error) {
		af, okA := es.Field("after")
		bf, okB := es.Field("before")
		if !okA || !okB || af.Schema.Type != schema.TypeStruct || bf.Schema.Type != schema.TypeStruct {
			return &envInfo{}, nil
		}
		return &envInfo{ok: true, after: af.Index, before: bf.Index, afterSchema: af.Schema, headers: resolveRefs(es, t.headers)}, nil
	})
	if !info.ok || len(env.Values) != len(es.Fields) {
		return r, true, nil
	}
	after, _ := env.Values[info.after].(*schema.Struct)
	before, _ := env.Values[info.before].(*schema.Struct)

	if len(info.headers) > 0 {
		extra := make([]schema.Header, 0, len(info.headers))
		for _, h := range info.headers {
			extra = append(extra, schema.Header{Key: h.out, Value: headerBytes(h.value(env))})
		}
		r.Headers = appendHeaders(r.Headers, extra...)
	}
	if after == nil && before == nil { // truncate, message
		return r, false, nil
	}
	if after == nil {
		if t.routeBy != "" {
			routeByField(&r, before, t.routeBy)
		}
		switch t.deletes {
		case delDrop:
			return r, false, nil
		case delNullValue:
			r.ValueSchema, r.Value = info.afterSchema, nil
			return r, true, nil
		case delTombstone:
			r.ValueSchema, r.Value = nil, nil
			return r, true, nil
		}
		plan, err := t.plan(es, before.Schema)
		if err != nil {
			return r, false, err
		}
		r.ValueSchema, r.Value = plan.out, plan.row(before, env, "true")
		return r, true, nil
	}
	if t.routeBy != "" {
		routeByField(&r, after, t.routeBy)
	}
	plan, err := t.plan(es, after.Schema)
	if err != nil {
		return r, false, err
	}
	deleted := ""
	if t.rewrite {
		deleted = "false"
	}
	r.ValueSchema, r.Value = plan.out, plan.row(after, env, deleted)
	return r, true, nil
}

func routeByField(r *schema.Record, row *schema.Struct, field string) {
	if row == nil {
		return
	}
	if f, ok := row.Schema.Field(field); ok && f.Index < len(row.Values) {
		if s, ok := row.Values[f.Index].(string); ok && strings.TrimSpace(s) != "" {
			r.Topic = s
		}
	}
}

// row builds the output value: the row's values, in rewrite modes
// (deleted != "") __deleted, then the add.fields values.
func (p *enrsPlan) row(row, env *schema.Struct, deleted string) *schema.Struct {
	n := len(row.Schema.Fields)
	if len(p.out.Fields) == n && len(row.Values) == n {
		return &schema.Struct{Schema: p.out, Values: row.Values}
	}
	out, vals := newStruct(p.out)
	copy(vals, row.Values)
	if deleted != "" {
		vals[n] = deleted
		n++
	}
	for i, f := range p.fields {
		vals[n+i] = f.value(env)
	}
	return out
}

func (rr *resolvedRef) value(env *schema.Struct) any {
	if rr.top || rr.parent < 0 {
		return env.Values[rr.idx]
	}
	ps, _ := env.Values[rr.parent].(*schema.Struct)
	if ps == nil || rr.idx >= len(ps.Values) {
		return nil
	}
	return ps.Values[rr.idx]
}

func (t *extractNewRecordState) plan(env, row *schema.Schema) (*enrsPlan, error) {
	return t.plans.getOrBuild(planKey{env: env, row: row}, func() (*enrsPlan, error) {
		p := &enrsPlan{fields: resolveRefs(env, t.fields)}
		fields := fieldsOf(row)
		if t.rewrite { // before the add.fields, as Debezium 3.6 orders them
			fields = append(fields, schema.Field{Name: deletedField, Schema: schema.OptionalString})
		}
		for _, f := range p.fields {
			fields = append(fields, schema.Field{Name: f.out, Schema: f.schema})
		}
		out, err := deriveStruct(row, false, fields)
		if err != nil {
			return nil, err
		}
		p.out = out
		return p, nil
	})
}

func resolveRefs(env *schema.Schema, refs []fieldRef) []resolvedRef {
	var out []resolvedRef
	for _, ref := range refs {
		rr := resolvedRef{out: ref.out, parent: -1}
		var fs *schema.Schema
		parentSchema := env
		if ref.parent != "" {
			pf, ok := env.Field(ref.parent)
			if !ok || pf.Schema.Type != schema.TypeStruct {
				parentSchema = nil
			} else {
				rr.parent = pf.Index
				parentSchema = pf.Schema
			}
		}
		if parentSchema != nil {
			if f, ok := parentSchema.Field(ref.field); ok {
				rr.idx, fs = f.Index, f.Schema
			}
		}
		if fs == nil {
			f, ok := env.Field(ref.field)
			if !ok {
				continue // Debezium skips references the envelope does not have
			}
			rr.idx, rr.top, fs = f.Index, true, f.Schema
		}
		c := *fs
		c.Optional, c.Default = true, nil
		rr.schema = &c
		out = append(out, rr)
	}
	return out
}

// applySchemaless flattens an envelope that arrived without a schema
// (JsonConverter with schemas.enable=false). Debezium passes such records
// through unchanged; flattening them is our extension.
func (t *extractNewRecordState) applySchemaless(r schema.Record) (schema.Record, bool, error) {
	env := r.Value.(map[string]any)
	after, _ := env["after"].(map[string]any)
	before, _ := env["before"].(map[string]any)
	if len(t.headers) > 0 {
		extra := make([]schema.Header, 0, len(t.headers))
		for _, h := range t.headers {
			if v, ok := mapRef(env, h); ok {
				extra = append(extra, schema.Header{Key: h.out, Value: headerBytes(v)})
			}
		}
		r.Headers = appendHeaders(r.Headers, extra...)
	}
	if after == nil && before == nil {
		return r, false, nil
	}
	row, deleted := after, "false"
	if after == nil {
		if t.routeBy != "" {
			if s, ok := before[t.routeBy].(string); ok && strings.TrimSpace(s) != "" {
				r.Topic = s
			}
		}
		switch t.deletes {
		case delDrop:
			return r, false, nil
		case delNullValue, delTombstone:
			r.Value = nil
			return r, true, nil
		}
		row, deleted = before, "true"
	} else if t.routeBy != "" {
		if s, ok := after[t.routeBy].(string); ok && strings.TrimSpace(s) != "" {
			r.Topic = s
		}
	}
	if len(t.fields) == 0 && !t.rewrite {
		r.Value = row
		return r, true, nil
	}
	out := make(map[string]any, len(row)+len(t.fields)+1)
	for k, v := range row {
		out[k] = v
	}
	for _, f := range t.fields {
		if v, ok := mapRef(env, f); ok {
			out[f.out] = v
		}
	}
	if t.rewrite {
		out[deletedField] = deleted
	}
	r.Value = out
	return r, true, nil
}

func mapRef(env map[string]any, ref fieldRef) (any, bool) {
	if ref.parent != "" {
		if p, ok := env[ref.parent].(map[string]any); ok {
			if v, ok := p[ref.field]; ok {
				return v, true
			}
		} else if env[ref.parent] == nil {
			if _, present := env[ref.parent]; present {
				return nil, true
			}
		}
	}
	v, ok := env[ref.field]
	return v, ok
}
