package registry

import (
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// JSON Schema compatibility, after Confluent's json.diff.SchemaDiff with its
// default STRICT policy: the differences between an original (older) schema
// and an update (newer) are classified, and any not in the compatible set
// makes the update incompatible (BACKWARD). Compared: types (and type
// arrays), oneOf/anyOf/allOf (criteria, distinct subschemas, a maximum
// matching of compatible pairs), not, enum and const (a typed enum is an
// allOf, as everit loads it), $ref (local and to references), object
// properties with open, closed and partially open (additionalProperties,
// patternProperties) content models, required, dependencies,
// additionalProperties, tuple items with additionalItems, and the string,
// number, array and object limits. Not compared: if/then/else, format,
// contains and the 2019-09+ keywords (unevaluated*, prefixItems,
// dependentSchemas). Confluent's draft-7 example files (104 diff and 28
// combined-schema cases) agree with it.

// jsonCompatible lists the differences STRICT accepts
// (SchemaDiff.COMPATIBLE_CHANGES_STRICT).
var jsonCompatible = map[string]bool{
	"ID_CHANGED": true, "DESCRIPTION_CHANGED": true, "TITLE_CHANGED": true, "DEFAULT_CHANGED": true,
	"SCHEMA_REMOVED": true, "TYPE_EXTENDED": true,
	"MAX_LENGTH_INCREASED": true, "MAX_LENGTH_REMOVED": true, "MIN_LENGTH_DECREASED": true, "MIN_LENGTH_REMOVED": true,
	"PATTERN_REMOVED":   true,
	"MAXIMUM_INCREASED": true, "MAXIMUM_REMOVED": true, "MINIMUM_DECREASED": true, "MINIMUM_REMOVED": true,
	"EXCLUSIVE_MAXIMUM_INCREASED": true, "EXCLUSIVE_MAXIMUM_REMOVED": true,
	"EXCLUSIVE_MINIMUM_DECREASED": true, "EXCLUSIVE_MINIMUM_REMOVED": true,
	"MULTIPLE_OF_REDUCED": true, "MULTIPLE_OF_REMOVED": true,
	"REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED": true, "REQUIRED_ATTRIBUTE_REMOVED": true,
	"DEPENDENCY_ARRAY_NARROWED": true, "DEPENDENCY_ARRAY_REMOVED": true, "DEPENDENCY_SCHEMA_REMOVED": true,
	"MAX_PROPERTIES_INCREASED": true, "MAX_PROPERTIES_REMOVED": true,
	"MIN_PROPERTIES_DECREASED": true, "MIN_PROPERTIES_REMOVED": true,
	"ADDITIONAL_PROPERTIES_ADDED": true, "ADDITIONAL_PROPERTIES_EXTENDED": true,
	"PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL":       true,
	"REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL": true,
	"OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL":              true,
	"PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL":        true,
	"PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL":                     true,
	"PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL":    true,
	"PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL":  true,
	"MAX_ITEMS_INCREASED": true, "MAX_ITEMS_REMOVED": true, "MIN_ITEMS_DECREASED": true, "MIN_ITEMS_REMOVED": true,
	"UNIQUE_ITEMS_REMOVED": true, "ADDITIONAL_ITEMS_ADDED": true, "ADDITIONAL_ITEMS_EXTENDED": true,
	"ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL": true, "ITEM_ADDED_TO_CLOSED_CONTENT_MODEL": true,
	"ITEM_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL": true, "ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL": true,
	"ITEM_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL": true, "ITEM_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL": true,
	"ENUM_ARRAY_EXTENDED": true, "COMBINED_TYPE_EXTENDED": true, "PRODUCT_TYPE_NARROWED": true,
	"SUM_TYPE_EXTENDED": true, "NOT_TYPE_NARROWED": true,
}

type jsonDiff struct{ path, typ string }

type jsonDiffCtx struct {
	diffs []jsonDiff
	// stack holds the (original, update) pairs being compared, to stop at
	// a cycle of $refs.
	stack map[[2]uintptr]bool
}

func (c *jsonDiffCtx) add(path, typ string) { c.diffs = append(c.diffs, jsonDiff{path, typ}) }

func (c *jsonDiffCtx) compatible() bool {
	for _, d := range c.diffs {
		if !jsonCompatible[d.typ] {
			return false
		}
	}
	return true
}

func (c *jsonDiffCtx) sub() *jsonDiffCtx { return &jsonDiffCtx{stack: c.stack} }

// jsonDocs parses a resolved schema and its references into documents by URL.
func jsonDocs(r Resolved) (root any, docs map[string]any, err error) {
	docs = map[string]any{}
	if err := json.Unmarshal([]byte(r.Schema), &root); err != nil {
		return nil, nil, err
	}
	base := jsonBaseURI
	if m, ok := root.(map[string]any); ok {
		if id, ok := m["$id"].(string); ok && id != "" {
			base = id
		}
	}
	bu, _ := url.Parse(base)
	docs[base] = root
	for name, text := range r.Deps {
		var d any
		if err := json.Unmarshal([]byte(text), &d); err != nil {
			return nil, nil, fmt.Errorf("reference %s: %w", name, err)
		}
		docs[name] = d
		if ru, err := url.Parse(name); err == nil && bu != nil {
			docs[bu.ResolveReference(ru).String()] = d
		}
	}
	return root, docs, nil
}

func checkJSONCompat(newer, older Resolved) []string {
	orig, odocs, err := jsonDocs(older)
	if err != nil {
		return []string{fmt.Sprintf("stored schema cannot be parsed: %v", err)}
	}
	upd, udocs, err := jsonDocs(newer)
	if err != nil {
		return []string{fmt.Sprintf("new schema cannot be parsed: %v", err)}
	}
	c := &jsonDiffCtx{stack: map[[2]uintptr]bool{}}
	co := &jsonRefs{docs: odocs, root: orig}
	cu := &jsonRefs{docs: udocs, root: upd}
	jsonCompare(c, "#", co, orig, cu, upd)
	var msgs []string
	for _, d := range c.diffs {
		if !jsonCompatible[d.typ] {
			msgs = append(msgs, fmt.Sprintf("Found incompatible change: Difference{jsonPath='%s', type=%s}", d.path, d.typ))
		}
	}
	return msgs
}

// jsonRefs resolves $refs within one schema's documents.
type jsonRefs struct {
	docs map[string]any
	root any
}

func (r *jsonRefs) deref(s any) any {
	for range 32 {
		m, ok := s.(map[string]any)
		if !ok {
			return s
		}
		ref, ok := m["$ref"].(string)
		if !ok {
			return s
		}
		doc, frag := r.root, ref
		if i := strings.Index(ref, "#"); i >= 0 {
			if i > 0 {
				doc = r.lookupDoc(ref[:i])
			}
			frag = ref[i+1:]
		} else {
			doc, frag = r.lookupDoc(ref), ""
		}
		s = jsonPointer(doc, frag)
		if s == nil {
			return m
		}
	}
	return s
}

func (r *jsonRefs) lookupDoc(u string) any {
	if d, ok := r.docs[u]; ok {
		return d
	}
	for name, d := range r.docs {
		if strings.HasSuffix(name, "/"+u) {
			return d
		}
	}
	return nil
}

func jsonPointer(doc any, frag string) any {
	if frag == "" || frag == "/" {
		return doc
	}
	cur := doc
	for _, tok := range strings.Split(strings.TrimPrefix(frag, "/"), "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch v := cur.(type) {
		case map[string]any:
			cur = v[tok]
		default:
			return nil
		}
	}
	return cur
}

// jsonKind is the kind of a (dereferenced) schema, as everit's classes:
// empty, false, combined, string, number, boolean, null, object, array,
// enum, const.
func jsonKind(s any) string {
	switch v := s.(type) {
	case bool:
		if v {
			return "empty"
		}
		return "false"
	case map[string]any:
		_, hasType := v["type"]
		if _, ok := v["enum"]; ok {
			if hasType {
				return "combined" // everit: allOf of the type and the enum
			}
			return "enum"
		}
		if _, ok := v["const"]; ok {
			if hasType {
				return "combined"
			}
			return "const"
		}
		if _, ok := v["not"]; ok && !hasType {
			return "not"
		}
		for _, k := range []string{"oneOf", "anyOf", "allOf"} {
			if _, ok := v[k]; ok {
				return "combined"
			}
		}
		switch t := v["type"].(type) {
		case string:
			if t == "integer" {
				return "number"
			}
			return t
		case []any:
			if len(t) == 1 {
				if s, ok := t[0].(string); ok {
					if s == "integer" {
						return "number"
					}
					return s
				}
			}
			return "combined"
		}
		for _, k := range []string{"properties", "required", "additionalProperties", "minProperties", "maxProperties", "patternProperties", "dependencies"} {
			if _, ok := v[k]; ok {
				return "object"
			}
		}
		for _, k := range []string{"items", "additionalItems", "minItems", "maxItems", "uniqueItems"} {
			if _, ok := v[k]; ok {
				return "array"
			}
		}
		for _, k := range []string{"minLength", "maxLength", "pattern"} {
			if _, ok := v[k]; ok {
				return "string"
			}
		}
		return "empty"
	}
	return "empty"
}

// combined returns the criterion and subschemas of a combined schema; a
// type array is an anyOf of its types, as everit reads it.
func combined(s map[string]any) (string, []any) {
	for _, k := range []string{"oneOf", "anyOf", "allOf"} {
		if subs, ok := s[k].([]any); ok {
			return k, subs
		}
	}
	for _, k := range []string{"enum", "const"} {
		if v, ok := s[k]; ok {
			if _, hasType := s["type"]; hasType {
				rest := map[string]any{}
				for kk, vv := range s {
					if kk != k {
						rest[kk] = vv
					}
				}
				return "allOf", []any{rest, map[string]any{k: v}}
			}
		}
	}
	if ts, ok := s["type"].([]any); ok {
		var subs []any
		for _, t := range ts {
			sub := map[string]any{}
			for k, v := range s {
				if k != "type" {
					sub[k] = v
				}
			}
			sub["type"] = t
			subs = append(subs, sub)
		}
		return "anyOf", subs
	}
	return "", nil
}

func ptrOf(v any) uintptr {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Map {
		return rv.Pointer()
	}
	return 0
}

func jsonCompare(c *jsonDiffCtx, path string, ro *jsonRefs, orig any, ru *jsonRefs, upd any) {
	if orig == nil && upd == nil {
		return
	}
	if orig == nil {
		c.add(path, "SCHEMA_ADDED")
		return
	}
	if upd == nil {
		c.add(path, "SCHEMA_REMOVED")
		return
	}
	orig, upd = ro.deref(orig), ru.deref(upd)
	key := [2]uintptr{ptrOf(orig), ptrOf(upd)}
	if key[0] != 0 && key[1] != 0 {
		if c.stack[key] {
			return // a cycle: taken as compatible, as Confluent's memo does
		}
		c.stack[key] = true
		defer delete(c.stack, key)
	}
	ok, uk := jsonKind(orig), jsonKind(upd)
	om, _ := orig.(map[string]any)
	um, _ := upd.(map[string]any)
	if ok != "combined" && uk == "combined" {
		crit, subs := combined(um)
		if len(subs) == 1 {
			sc := c.sub()
			jsonCompare(sc, path, ro, orig, ru, subs[0])
			if sc.compatible() {
				c.diffs = append(c.diffs, sc.diffs...)
				return
			}
		} else if crit == "anyOf" || crit == "oneOf" {
			for _, sub := range subs {
				sc := c.sub()
				jsonCompare(sc, path, ro, orig, ru, sub)
				if sc.compatible() {
					c.diffs = append(c.diffs, sc.diffs...)
					c.add(path, "SUM_TYPE_EXTENDED")
					return
				}
			}
		}
	} else if ok == "combined" && uk != "combined" {
		crit, subs := combined(om)
		if len(subs) == 1 {
			sc := c.sub()
			jsonCompare(sc, path, ro, subs[0], ru, upd)
			if sc.compatible() {
				c.diffs = append(c.diffs, sc.diffs...)
				return
			}
		} else if crit == "allOf" {
			for _, sub := range subs {
				sc := c.sub()
				jsonCompare(sc, path, ro, sub, ru, upd)
				if sc.compatible() {
					c.diffs = append(c.diffs, sc.diffs...)
					c.add(path, "PRODUCT_TYPE_NARROWED")
					return
				}
			}
		}
	}
	if ok != uk {
		if ok == "false" || uk == "empty" {
			return
		}
		if om != nil && um != nil && om["connect.type"] == "bytes" && um["connect.type"] == "bytes" {
			return
		}
		c.add(path, "TYPE_CHANGED")
		return
	}
	if om == nil || um == nil {
		return
	}
	for _, a := range [][2]string{{"$id", "ID_CHANGED"}, {"title", "TITLE_CHANGED"}, {"description", "DESCRIPTION_CHANGED"}, {"default", "DEFAULT_CHANGED"}} {
		if !reflect.DeepEqual(om[a[0]], um[a[0]]) {
			c.add(path, a[1])
		}
	}
	switch ok {
	case "string":
		jsonLimit(c, path, om, um, "maxLength", "MAX_LENGTH")
		jsonLimit(c, path, om, um, "minLength", "MIN_LENGTH")
		switch op, up := om["pattern"], um["pattern"]; {
		case op == nil && up != nil:
			c.add(path+"/pattern", "PATTERN_ADDED")
		case op != nil && up == nil:
			c.add(path+"/pattern", "PATTERN_REMOVED")
		case !reflect.DeepEqual(op, up):
			c.add(path+"/pattern", "PATTERN_CHANGED")
		}
	case "number":
		if om["type"] == "number" && um["type"] == "integer" {
			c.add(path, "TYPE_NARROWED")
		} else if om["type"] == "integer" && um["type"] == "number" {
			c.add(path, "TYPE_EXTENDED")
		}
		jsonLimit(c, path, om, um, "maximum", "MAXIMUM")
		jsonLimit(c, path, om, um, "minimum", "MINIMUM")
		jsonLimit(c, path, om, um, "exclusiveMaximum", "EXCLUSIVE_MAXIMUM")
		jsonLimit(c, path, om, um, "exclusiveMinimum", "EXCLUSIVE_MINIMUM")
		switch op, up := num(om["multipleOf"]), num(um["multipleOf"]); {
		case op == nil && up != nil:
			c.add(path+"/multipleOf", "MULTIPLE_OF_ADDED")
		case op != nil && up == nil:
			c.add(path+"/multipleOf", "MULTIPLE_OF_REMOVED")
		case op != nil && *op != *up:
			if *op / *up == float64(int64(*op / *up)) {
				c.add(path+"/multipleOf", "MULTIPLE_OF_REDUCED")
			} else if *up / *op == float64(int64(*up / *op)) {
				c.add(path+"/multipleOf", "MULTIPLE_OF_EXPANDED")
			} else {
				c.add(path+"/multipleOf", "MULTIPLE_OF_CHANGED")
			}
		}
	case "enum":
		oe, _ := om["enum"].([]any)
		ue, _ := um["enum"].([]any)
		switch {
		case reflect.DeepEqual(oe, ue):
		case containsAll(ue, oe):
			c.add(path+"/enum", "ENUM_ARRAY_EXTENDED")
		case containsAll(oe, ue):
			c.add(path+"/enum", "ENUM_ARRAY_NARROWED")
		default:
			c.add(path+"/enum", "ENUM_ARRAY_CHANGED")
		}
	case "const":
		if !reflect.DeepEqual(om["const"], um["const"]) {
			c.add(path+"/const", "ENUM_ARRAY_CHANGED")
		}
	case "combined":
		jsonCompareCombined(c, path, ro, om, ru, um)
	case "not":
		sc := c.sub()
		jsonCompare(sc, path+"/not", ru, um["not"], ro, om["not"]) // reversed, as NotSchemaDiff
		if sc.compatible() {
			c.add(path+"/not", "NOT_TYPE_NARROWED")
		} else {
			c.add(path+"/not", "NOT_TYPE_EXTENDED")
		}
	case "object":
		jsonCompareObject(c, path, ro, om, ru, um)
	case "array":
		jsonCompareArray(c, path, ro, om, ru, um)
	}
}

func num(v any) *float64 {
	if f, ok := v.(float64); ok {
		return &f
	}
	return nil
}

// jsonLimit classifies a change of a numeric limit (NAME_ADDED, _REMOVED,
// _INCREASED, _DECREASED); jsonCompatible says which directions are safe.
func jsonLimit(c *jsonDiffCtx, path string, om, um map[string]any, key, name string) {
	op, up := num(om[key]), num(um[key])
	p := path + "/" + key
	switch {
	case op == nil && up == nil:
	case op == nil:
		c.add(p, name+"_ADDED")
	case up == nil:
		c.add(p, name+"_REMOVED")
	case *op < *up:
		c.add(p, name+"_INCREASED")
	case *op > *up:
		c.add(p, name+"_DECREASED")
	}
}

func containsAll(set, sub []any) bool {
	for _, s := range sub {
		if !slices.ContainsFunc(set, func(x any) bool { return reflect.DeepEqual(x, s) }) {
			return false
		}
	}
	return true
}

// jsonCompareCombined is Confluent's CombinedSchemaDiff: the criteria, the
// number of distinct subschemas, and a maximum matching of original to
// update subschemas by compatibility that must cover the smaller side.
func jsonCompareCombined(c *jsonDiffCtx, path string, ro *jsonRefs, om map[string]any, ru *jsonRefs, um map[string]any) {
	oc, osubs := combined(om)
	uc, usubs := combined(um)
	if oc != uc {
		single := func(subs []any) bool { return len(subs) == 1 }
		if uc == "anyOf" || (single(osubs) && single(usubs)) || (single(osubs) && uc == "oneOf") || (single(usubs) && oc == "allOf") {
			c.add(path, "COMBINED_TYPE_EXTENDED")
		} else {
			c.add(path, "COMBINED_TYPE_CHANGED")
			return
		}
	}
	osubs, usubs = distinct(osubs), distinct(usubs)
	switch {
	case len(osubs) < len(usubs):
		if uc == "allOf" {
			c.add(path, "PRODUCT_TYPE_EXTENDED")
		} else {
			c.add(path, "SUM_TYPE_EXTENDED")
		}
	case len(osubs) > len(usubs):
		if oc == "anyOf" || oc == "oneOf" {
			c.add(path, "SUM_TYPE_NARROWED")
		} else {
			c.add(path, "PRODUCT_TYPE_NARROWED")
		}
	}
	edges := make([][][]jsonDiff, len(osubs)) // nil: not compatible
	for i, o := range osubs {
		edges[i] = make([][]jsonDiff, len(usubs))
		for j, u := range usubs {
			sc := c.sub()
			jsonCompare(sc, fmt.Sprintf("%s/%s/%d", path, oc, i), ro, o, ru, u)
			if sc.compatible() {
				edges[i][j] = append([]jsonDiff{}, sc.diffs...)
			}
		}
	}
	// Kuhn's augmenting paths: maximum cardinality bipartite matching.
	matchU := make([]int, len(usubs))
	for j := range matchU {
		matchU[j] = -1
	}
	var try func(i int, seen []bool) bool
	try = func(i int, seen []bool) bool {
		for j := range usubs {
			if edges[i][j] == nil || seen[j] {
				continue
			}
			seen[j] = true
			if matchU[j] < 0 || try(matchU[j], seen) {
				matchU[j] = i
				return true
			}
		}
		return false
	}
	matched := 0
	for i := range osubs {
		if try(i, make([]bool, len(usubs))) {
			matched++
		}
	}
	for j, i := range matchU {
		if i >= 0 {
			c.diffs = append(c.diffs, edges[i][j]...)
		}
	}
	if matched < min(len(osubs), len(usubs)) {
		c.add(path, "COMBINED_TYPE_SUBSCHEMAS_CHANGED")
	}
}

// distinct drops repeated subschemas (Confluent collapses them in a set).
func distinct(subs []any) []any {
	var out []any
	for _, s := range subs {
		if !slices.ContainsFunc(out, func(x any) bool { return reflect.DeepEqual(x, s) }) {
			out = append(out, s)
		}
	}
	return out
}

func objProps(m map[string]any) map[string]any {
	p, _ := m["properties"].(map[string]any)
	return p
}

func objRequired(m map[string]any) []string {
	var out []string
	if rs, ok := m["required"].([]any); ok {
		for _, r := range rs {
			if s, ok := r.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

// permitsAdditional is everit's permitsAdditionalProperties; additionalSchema
// its getSchemaOfAdditionalProperties (nil for true or absent).
func permitsAdditional(m map[string]any) bool {
	b, ok := m["additionalProperties"].(bool)
	return !ok || b
}

func additionalSchema(m map[string]any) any {
	if a, ok := m["additionalProperties"].(map[string]any); ok {
		return a
	}
	return nil
}

// partialSchema is schemaFromPartiallyOpenContentModel: the schema a
// property not listed falls under, a matching patternProperties one first,
// else additionalProperties' schema; nil for none.
func partialSchema(m map[string]any, key string) any {
	if pp, ok := m["patternProperties"].(map[string]any); ok {
		pats := make([]string, 0, len(pp))
		for p := range pp {
			pats = append(pats, p)
		}
		sort.Strings(pats)
		for _, p := range pats {
			if re, err := regexp.Compile(p); err == nil && re.MatchString(key) {
				return pp[p]
			}
		}
	}
	return additionalSchema(m)
}

func isOpenContentModel(m map[string]any) bool {
	pp, _ := m["patternProperties"].(map[string]any)
	return len(pp) == 0 && additionalSchema(m) == nil && permitsAdditional(m)
}

func hasDefault(r *jsonRefs, s any) bool {
	m, ok := r.deref(s).(map[string]any)
	if !ok {
		return false
	}
	_, has := m["default"]
	return has
}

func sortedKeys(ms ...map[string]any) []string {
	set := map[string]bool{}
	for _, m := range ms {
		for k := range m {
			set[k] = true
		}
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func jsonCompareObject(c *jsonDiffCtx, path string, ro *jsonRefs, om map[string]any, ru *jsonRefs, um map[string]any) {
	op, up := objProps(om), objProps(um)
	oreq, ureq := objRequired(om), objRequired(um)
	// required
	for _, k := range sortedKeys(op) {
		if _, ok := up[k]; !ok {
			continue
		}
		o, u := slices.Contains(oreq, k), slices.Contains(ureq, k)
		switch {
		case o && !u:
			c.add(path+"/required/"+k, "REQUIRED_ATTRIBUTE_REMOVED")
		case !o && u && hasDefault(ru, up[k]):
			c.add(path+"/required/"+k, "REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED")
		case !o && u:
			c.add(path+"/required/"+k, "REQUIRED_ATTRIBUTE_ADDED")
		}
	}
	// properties
	for _, k := range sortedKeys(op, up) {
		p := path + "/properties/" + k
		os, oHas := op[k]
		us, uHas := up[k]
		switch {
		case !uHas:
			if isOpenContentModel(um) {
				c.add(p, "PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL")
			} else if part := partialSchema(um, k); part != nil {
				sc := c.sub()
				jsonCompare(sc, p, ro, os, ru, part)
				c.diffs = append(c.diffs, sc.diffs...)
				if sc.compatible() {
					c.add(p, "PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL")
				} else {
					c.add(p, "PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL")
				}
			} else if b, isBool := ro.deref(os).(bool); isBool && !b {
				c.add(p, "PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL")
			} else {
				c.add(p, "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL")
			}
		case !oHas:
			if isOpenContentModel(om) {
				switch {
				case jsonKind(ru.deref(us)) == "empty":
					c.add(p, "PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL")
				case slices.Contains(ureq, k) && hasDefault(ru, us):
					c.add(p, "REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_OPEN_CONTENT_MODEL")
				case slices.Contains(ureq, k):
					c.add(p, "REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL")
				default:
					c.add(p, "OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL")
				}
			} else {
				if part := partialSchema(om, k); part != nil {
					sc := c.sub()
					jsonCompare(sc, p, ro, part, ru, us)
					c.diffs = append(c.diffs, sc.diffs...)
					if sc.compatible() {
						c.add(p, "PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL")
					} else {
						c.add(p, "PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL")
					}
				}
				switch {
				case slices.Contains(ureq, k) && hasDefault(ru, us):
					c.add(p, "REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL")
				case slices.Contains(ureq, k):
					c.add(p, "REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL")
				default:
					c.add(p, "OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL")
				}
			}
		default:
			jsonCompare(c, p, ro, os, ru, us)
		}
	}
	// dependencies (draft 7: a property's array of properties, or a schema)
	od, _ := om["dependencies"].(map[string]any)
	ud, _ := um["dependencies"].(map[string]any)
	arrays := func(d map[string]any) map[string]any {
		out := map[string]any{}
		for k, v := range d {
			if _, ok := v.([]any); ok {
				out[k] = v
			}
		}
		return out
	}
	schemas := func(d map[string]any) map[string]any {
		out := map[string]any{}
		for k, v := range d {
			if _, ok := v.([]any); !ok {
				out[k] = v
			}
		}
		return out
	}
	oa, ua := arrays(od), arrays(ud)
	for _, k := range sortedKeys(oa, ua) {
		p := path + "/dependencies/" + k
		ov, oHas := oa[k].([]any)
		uv, uHas := ua[k].([]any)
		switch {
		case !uHas:
			c.add(p, "DEPENDENCY_ARRAY_REMOVED")
		case !oHas:
			c.add(p, "DEPENDENCY_ARRAY_ADDED")
		case containsAll(uv, ov) && containsAll(ov, uv):
		case containsAll(uv, ov):
			c.add(p, "DEPENDENCY_ARRAY_EXTENDED")
		case containsAll(ov, uv):
			c.add(p, "DEPENDENCY_ARRAY_NARROWED")
		default:
			c.add(p, "DEPENDENCY_ARRAY_CHANGED")
		}
	}
	os2, us2 := schemas(od), schemas(ud)
	for _, k := range sortedKeys(os2, us2) {
		p := path + "/dependencies/" + k
		ov, oHas := os2[k]
		uv, uHas := us2[k]
		switch {
		case !uHas:
			c.add(p, "DEPENDENCY_SCHEMA_REMOVED")
		case !oHas:
			c.add(p, "DEPENDENCY_SCHEMA_ADDED")
		default:
			jsonCompare(c, p, ro, ov, ru, uv)
		}
	}
	// additionalProperties
	ap := path + "/additionalProperties"
	switch oa, ua := additionalSchema(om), additionalSchema(um); {
	case permitsAdditional(om) != permitsAdditional(um):
		if permitsAdditional(um) {
			c.add(ap, "ADDITIONAL_PROPERTIES_ADDED")
		} else {
			c.add(ap, "ADDITIONAL_PROPERTIES_REMOVED")
		}
	case oa == nil && ua != nil:
		c.add(ap, "ADDITIONAL_PROPERTIES_NARROWED")
	case oa != nil && ua == nil:
		c.add(ap, "ADDITIONAL_PROPERTIES_EXTENDED")
	case oa != nil:
		jsonCompare(c, ap, ro, oa, ru, ua)
	}
	jsonLimit(c, path, om, um, "maxProperties", "MAX_PROPERTIES")
	jsonLimit(c, path, om, um, "minProperties", "MIN_PROPERTIES")
}

func jsonCompareArray(c *jsonDiffCtx, path string, ro *jsonRefs, om map[string]any, ru *jsonRefs, um map[string]any) {
	// items as one schema for all (nil when absent or a tuple)
	allItems := func(m map[string]any) any {
		if _, tuple := m["items"].([]any); tuple {
			return nil
		}
		return m["items"]
	}
	jsonCompare(c, path+"/items", ro, allItems(om), ru, allItems(um))
	// items as a tuple, against the other side's content model
	ot, _ := om["items"].([]any)
	ut, _ := um["items"].([]any)
	for i := 0; i < max(len(ot), len(ut)); i++ {
		p := fmt.Sprintf("%s/items/%d", path, i)
		switch {
		case i < len(ot) && i < len(ut):
			jsonCompare(c, p, ro, ot[i], ru, ut[i])
		case i < len(ot): // removed
			if arrayOpen(um) {
				c.add(p, "ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL")
			} else if part, ok := um["additionalItems"].(map[string]any); ok {
				sc := c.sub()
				jsonCompare(sc, p, ro, ot[i], ru, part)
				c.diffs = append(c.diffs, sc.diffs...)
				if sc.compatible() {
					c.add(p, "ITEM_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL")
				} else {
					c.add(p, "ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL")
				}
			} else if b, ok := ro.deref(ot[i]).(bool); ok && !b {
				c.add(p, "ITEM_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL")
			} else {
				c.add(p, "ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL")
			}
		default: // added
			if arrayOpen(om) {
				if jsonKind(ru.deref(ut[i])) == "empty" {
					c.add(p, "ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL")
				} else {
					c.add(p, "ITEM_ADDED_TO_OPEN_CONTENT_MODEL")
				}
			} else if part, ok := om["additionalItems"].(map[string]any); ok {
				sc := c.sub()
				jsonCompare(sc, p, ro, part, ru, ut[i])
				c.diffs = append(c.diffs, sc.diffs...)
				if sc.compatible() {
					c.add(p, "ITEM_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL")
				} else {
					c.add(p, "ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL")
				}
			} else {
				c.add(p, "ITEM_ADDED_TO_CLOSED_CONTENT_MODEL")
			}
		}
	}
	// additionalItems
	aip := path + "/additionalItems"
	permits := func(m map[string]any) bool { b, ok := m["additionalItems"].(bool); return !ok || b }
	oai, _ := om["additionalItems"].(map[string]any)
	uai, _ := um["additionalItems"].(map[string]any)
	switch {
	case permits(om) != permits(um):
		if permits(om) {
			c.add(aip, "ADDITIONAL_ITEMS_REMOVED")
		} else {
			c.add(aip, "ADDITIONAL_ITEMS_ADDED")
		}
	case oai == nil && uai != nil:
		c.add(aip, "ADDITIONAL_ITEMS_NARROWED")
	case oai != nil && uai == nil:
		c.add(aip, "ADDITIONAL_ITEMS_EXTENDED")
	case oai != nil:
		jsonCompare(c, aip, ro, oai, ru, uai)
	}
	jsonLimit(c, path, om, um, "maxItems", "MAX_ITEMS")
	jsonLimit(c, path, om, um, "minItems", "MIN_ITEMS")
	ou, _ := om["uniqueItems"].(bool)
	uu, _ := um["uniqueItems"].(bool)
	if ou != uu {
		if ou {
			c.add(path+"/uniqueItems", "UNIQUE_ITEMS_REMOVED")
		} else {
			c.add(path+"/uniqueItems", "UNIQUE_ITEMS_ADDED")
		}
	}
}

// arrayOpen is ArraySchemaDiff.isOpenContentModel: additional items
// allowed without a schema.
func arrayOpen(m map[string]any) bool {
	switch a := m["additionalItems"].(type) {
	case bool:
		return a
	case map[string]any:
		return false
	}
	return true
}
