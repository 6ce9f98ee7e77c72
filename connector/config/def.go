package config

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Type is a config value type with Connect's names.
type Type string

// Connect's config types.
const (
	String   Type = "STRING"
	Int      Type = "INT"
	Long     Type = "LONG"
	Double   Type = "DOUBLE"
	Boolean  Type = "BOOLEAN"
	List     Type = "LIST"
	Password Type = "PASSWORD"
	Class    Type = "CLASS"
)

// Importance is Connect's key importance.
type Importance string

// Connect's importances.
const (
	High   Importance = "HIGH"
	Medium Importance = "MEDIUM"
	Low    Importance = "LOW"
)

// NoDefault marks a required key.
var NoDefault = noDefault{}

type noDefault struct{}

// HiddenValue is what password values look like in every API response and log.
const HiddenValue = "[hidden]"

// Validator checks a parsed value; the error text should state what is allowed.
type Validator func(v any) error

// Key declares one config key.
type Key struct {
	Name         string
	Type         Type
	Default      any // NoDefault for required keys; typed as the key's Type (string, int, int64, float64, bool, []string)
	Importance   Importance
	Doc          string
	Group        string
	Validator    Validator
	Aliases      []string // older names accepted for the same key (e.g. table.whitelist for table.include.list)
	DisplayName  string
	OrderInGroup int
	Dependents   []string
	Recommended  []string
	Internal     bool
}

// Required reports whether the key has no default.
func (k *Key) Required() bool { return k.Default == NoDefault }

// Def is the set of keys a component accepts, in declaration order.
type Def struct {
	keys  []*Key
	index map[string]*Key
	// AllowUnknown keeps keys not declared here without reporting them (used
	// for pass-through prefixes the owner validates elsewhere).
	prefixes []string
}

// NewDef returns an empty definition.
func NewDef() *Def { return &Def{index: map[string]*Key{}} }

// Define adds a key and returns the Def for chaining.
func (d *Def) Define(k Key) *Def {
	kk := k
	d.keys = append(d.keys, &kk)
	d.index[k.Name] = &kk
	for _, a := range k.Aliases {
		d.index[a] = &kk
	}
	return d
}

// PassThrough declares key prefixes owned by something else (for example
// "transforms." or "key.converter."): keys under them are not reported as unknown.
func (d *Def) PassThrough(prefixes ...string) *Def {
	d.prefixes = append(d.prefixes, prefixes...)
	return d
}

// Merge adds all keys of other that d does not define yet.
func (d *Def) Merge(other *Def) *Def {
	for _, k := range other.keys {
		if _, ok := d.index[k.Name]; !ok {
			d.Define(*k)
		}
	}
	d.prefixes = append(d.prefixes, other.prefixes...)
	return d
}

// Keys returns the declared keys in order.
func (d *Def) Keys() []*Key { return d.keys }

// Lookup returns the key declared under name or one of its aliases.
func (d *Def) Lookup(name string) (*Key, bool) {
	k, ok := d.index[name]
	return k, ok
}

// KeyError is one problem with one key.
type KeyError struct {
	Key     string
	Message string
}

func (e KeyError) Error() string { return e.Key + ": " + e.Message }

// Errors is every problem found in one config.
type Errors []KeyError

func (es Errors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return "invalid configuration: " + strings.Join(parts, "; ")
}

// Values is a parsed config: typed values for declared keys plus the raw map.
type Values struct {
	def    *Def
	raw    map[string]string
	parsed map[string]any
}

// Parse parses raw against d. It returns the values it could parse and every
// error (wrong type, value not allowed, required key missing), each naming
// its key. Unknown keys are not errors here; see Unknown.
func (d *Def) Parse(raw map[string]string) (*Values, error) {
	v := &Values{def: d, raw: raw, parsed: make(map[string]any, len(d.keys))}
	var errs Errors
	for _, k := range d.keys {
		s, present := raw[k.Name]
		name := k.Name
		if !present {
			for _, a := range k.Aliases {
				if s, present = raw[a]; present {
					name = a
					break
				}
			}
		}
		if !present {
			if k.Required() {
				errs = append(errs, KeyError{k.Name, "Missing required configuration \"" + k.Name + "\" which has no default value."})
				continue
			}
			v.parsed[k.Name] = k.Default
			continue
		}
		val, err := ParseValue(k.Type, s)
		if err != nil {
			errs = append(errs, KeyError{name, fmt.Sprintf("Invalid value %s for configuration %s: %v", redact(k, s), name, err)})
			continue
		}
		if k.Validator != nil {
			if err := k.Validator(val); err != nil {
				shown := redact(k, s)
				if l, ok := val.([]string); ok && k.Type == List {
					// the parsed list, as Kafka's ConfigDef shows it
					items := make([]string, len(l))
					for i, e := range l {
						items[i] = RedactURL(e)
					}
					shown = "[" + strings.Join(items, ", ") + "]"
				}
				errs = append(errs, KeyError{name, fmt.Sprintf("Invalid value %s for configuration %s: %v", shown, name, err)})
				continue
			}
		}
		v.parsed[k.Name] = val
	}
	if len(errs) > 0 {
		return v, errs
	}
	return v, nil
}

// ParseChecked is Parse followed by check (a connector's cross-key rules),
// which runs even when some keys did not parse, so the error (Errors) names
// every problem either found.
func (d *Def) ParseChecked(raw map[string]string, check func(*Values) Errors) (*Values, error) {
	v, err := d.Parse(raw)
	errs, _ := err.(Errors)
	if err != nil && errs == nil {
		return nil, err
	}
	errs = append(errs, check(v)...)
	if len(errs) > 0 {
		return nil, errs
	}
	return v, nil
}

func redact(k *Key, s string) string {
	if k.Type == Password {
		return HiddenValue
	}
	return RedactURL(s)
}

// Unknown returns the keys of raw that d does not declare, sorted.
func (d *Def) Unknown(raw map[string]string) []string {
	var out []string
	for name := range raw {
		if _, ok := d.index[name]; ok {
			continue
		}
		if slices.ContainsFunc(d.prefixes, func(p string) bool { return strings.HasPrefix(name, p) }) {
			continue
		}
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// ParseValue converts a raw string to the Go value for t.
func ParseValue(t Type, s string) (any, error) {
	s = strings.TrimSpace(s)
	switch t {
	case String, Password, Class:
		return s, nil
	case Int:
		n, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			// Kafka's ConfigDef wording, capital included.
			return nil, fmt.Errorf("Not a number of type INT")
		}
		return int(n), nil
	case Long:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("Not a number of type LONG")
		}
		return n, nil
	case Double:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("Not a number of type DOUBLE")
		}
		return f, nil
	case Boolean:
		switch strings.ToLower(s) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return nil, fmt.Errorf("expected value to be either true or false")
	case List:
		if s == "" {
			return []string{}, nil
		}
		parts := strings.Split(s, ",")
		for i := range parts {
			parts[i] = strings.TrimSpace(parts[i])
		}
		return parts, nil
	}
	return nil, fmt.Errorf("unknown config type %s", t)
}

// Raw returns the raw map the values were parsed from.
func (v *Values) Raw() map[string]string { return v.raw }

// Def returns the definition the values were parsed with.
func (v *Values) Def() *Def { return v.def }

// Get returns the parsed value of key (its default when absent).
func (v *Values) Get(key string) any { return v.parsed[key] }

// String returns a STRING/PASSWORD/CLASS key.
func (v *Values) String(key string) string { s, _ := v.parsed[key].(string); return s }

// Int returns an INT key.
func (v *Values) Int(key string) int { n, _ := v.parsed[key].(int); return n }

// Long returns a LONG key.
func (v *Values) Long(key string) int64 {
	switch n := v.parsed[key].(type) {
	case int64:
		return n
	case int:
		return int64(n)
	}
	return 0
}

// Double returns a DOUBLE key.
func (v *Values) Double(key string) float64 { f, _ := v.parsed[key].(float64); return f }

// Bool returns a BOOLEAN key.
func (v *Values) Bool(key string) bool { b, _ := v.parsed[key].(bool); return b }

// List returns a LIST key.
func (v *Values) List(key string) []string { l, _ := v.parsed[key].([]string); return l }

// Duration returns a LONG/INT key holding milliseconds as a Duration.
func (v *Values) Duration(key string) time.Duration {
	return time.Duration(v.Long(key)) * time.Millisecond
}

// Redacted returns raw with the values of password keys replaced by [hidden].
func (d *Def) Redacted(raw map[string]string) map[string]string {
	out := make(map[string]string, len(raw))
	for k, val := range raw {
		if key, ok := d.index[k]; ok && key.Type == Password {
			val = HiddenValue
		}
		out[k] = RedactURL(val)
	}
	return out
}

// OneOf allows only the listed values (case-insensitive), as Connect's ValidString.in.
func OneOf(allowed ...string) Validator {
	return func(v any) error {
		s, _ := v.(string)
		for _, a := range allowed {
			if strings.EqualFold(a, s) {
				return nil
			}
		}
		return fmt.Errorf("String must be one of: %s", strings.Join(allowed, ", "))
	}
}

// AtLeast allows numbers >= min, as Connect's Range.atLeast.
func AtLeast(min int64) Validator {
	return func(v any) error {
		var n int64
		switch x := v.(type) {
		case int:
			n = int64(x)
		case int64:
			n = x
		case float64:
			if x >= float64(min) {
				return nil
			}
			return fmt.Errorf("Value must be at least %d", min)
		}
		if n < min {
			return fmt.Errorf("Value must be at least %d", min)
		}
		return nil
	}
}

// ValidRegex allows values that compile as regular expressions (each element for lists).
func ValidRegex(v any) error {
	var items []string
	switch x := v.(type) {
	case string:
		items = []string{x}
	case []string:
		items = x
	}
	for _, it := range items {
		if _, err := regexp.Compile(it); err != nil {
			return fmt.Errorf("not a valid regular expression %q: %v", it, err)
		}
	}
	return nil
}

// NonEmpty rejects the empty string.
func NonEmpty(v any) error {
	if s, _ := v.(string); strings.TrimSpace(s) == "" {
		return fmt.Errorf("String may not be empty")
	}
	return nil
}
