package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// ConfigInfos is Kafka Connect's validation response
// (PUT /connector-plugins/{plugin}/config/validate).
type ConfigInfos struct {
	Name       string       `json:"name"`
	ErrorCount int          `json:"error_count"`
	Groups     []string     `json:"groups"`
	Configs    []ConfigInfo `json:"configs"`
}

// ConfigInfo is one key of a ConfigInfos: its definition and its value.
type ConfigInfo struct {
	Definition ConfigKeyInfo   `json:"definition"`
	Value      ConfigValueInfo `json:"value"`
}

// ConfigKeyInfo is a key's definition as Connect's REST API shows it.
// Connect writes the position in the group as "order"; "order_in_group" (the
// name Connect reads) is written too.
type ConfigKeyInfo struct {
	Name          string   `json:"name"`
	Type          string   `json:"type"`
	Required      bool     `json:"required"`
	DefaultValue  *string  `json:"default_value"`
	Importance    string   `json:"importance"`
	Documentation string   `json:"documentation"`
	Group         *string  `json:"group"`
	Width         string   `json:"width"`
	DisplayName   string   `json:"display_name"`
	Dependents    []string `json:"dependents"`
	Order         int      `json:"order"`
	OrderInGroup  int      `json:"order_in_group"`
}

// ConfigValueInfo is a key's value and its problems.
type ConfigValueInfo struct {
	Name              string   `json:"name"`
	Value             *string  `json:"value"`
	RecommendedValues []string `json:"recommended_values"`
	Errors            []string `json:"errors"`
	Visible           bool     `json:"visible"`
}

// UnknownGroup is the group under which Infos lists keys the definition does
// not declare (kept, not errors).
const UnknownGroup = "Unknown"

// KeyInfo returns the REST definition of k.
func KeyInfo(k *Key) ConfigKeyInfo {
	ki := ConfigKeyInfo{
		Name:          k.Name,
		Type:          string(k.Type),
		Required:      k.Required(),
		Importance:    string(k.Importance),
		Documentation: k.Doc,
		Width:         "NONE",
		DisplayName:   k.DisplayName,
		Dependents:    append([]string{}, k.Dependents...),
		Order:         k.OrderInGroup,
		OrderInGroup:  k.OrderInGroup,
	}
	if ki.Importance == "" {
		ki.Importance = string(Low)
	}
	if ki.DisplayName == "" {
		ki.DisplayName = k.Name
	}
	if k.Group != "" {
		g := k.Group
		ki.Group = &g
	}
	if !k.Required() {
		if s, ok := FormatValue(k.Type, k.Default); ok {
			ki.DefaultValue = &s
		}
	}
	return ki
}

// KeyInfos returns the REST definitions of every non-internal key of d
// (GET /connector-plugins/{plugin}/config).
func (d *Def) KeyInfos() []ConfigKeyInfo {
	out := make([]ConfigKeyInfo, 0, len(d.keys))
	for _, k := range d.keys {
		if !k.Internal {
			out = append(out, KeyInfo(k))
		}
	}
	return out
}

// FormatValue renders a typed value as Connect's ConfigDef.convertToString
// does (lists comma-joined, passwords hidden). ok is false for nil.
func FormatValue(t Type, v any) (string, bool) {
	if v == nil || v == NoDefault {
		return "", false
	}
	if t == Password {
		return HiddenValue, true
	}
	switch x := v.(type) {
	case string:
		return x, true
	case []string:
		return strings.Join(x, ","), true
	case bool:
		return strconv.FormatBool(x), true
	case int:
		return strconv.Itoa(x), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), true
	}
	return fmt.Sprint(v), true
}

// Infos validates raw against d and returns Connect's ConfigInfos named name:
// one entry per declared key (in declaration order) carrying every parse and
// validator error, plus extra (cross-key) errors attached to their keys.
// Keys of raw that d does not declare are listed last under the group
// "Unknown" with no error: they are kept but unused. An error reported twice
// for a key (by Parse and in extra) is listed once. Password values are
// shown as [hidden], unless they are config provider references.
func (d *Def) Infos(name string, raw map[string]string, extra Errors) ConfigInfos {
	_, err := d.Parse(raw)
	byKey := map[string][]string{}
	add := func(key, msg string) {
		if k, ok := d.index[key]; ok {
			key = k.Name
		}
		if !slices.Contains(byKey[key], msg) {
			byKey[key] = append(byKey[key], msg)
		}
	}
	if es, ok := err.(Errors); ok {
		for _, e := range es {
			add(e.Key, e.Message)
		}
	}
	for _, e := range extra {
		add(e.Key, e.Message)
	}
	infos := ConfigInfos{Name: name, Groups: []string{}, Configs: []ConfigInfo{}}
	seenGroup := map[string]bool{}
	for _, k := range d.keys {
		if k.Internal {
			continue
		}
		if k.Group != "" && !seenGroup[k.Group] {
			seenGroup[k.Group] = true
			infos.Groups = append(infos.Groups, k.Group)
		}
		val := ConfigValueInfo{Name: k.Name, RecommendedValues: append([]string{}, k.Recommended...), Errors: []string{}, Visible: true}
		if s, ok := lookupRaw(k, raw); ok {
			if k.Type == Password && !IsReference(s) {
				s = HiddenValue
			}
			s = RedactURL(s)
			val.Value = &s
		} else if s, ok := FormatValue(k.Type, k.Default); ok {
			val.Value = &s
		}
		if msgs := byKey[k.Name]; len(msgs) > 0 {
			val.Errors = append(val.Errors, msgs...)
			delete(byKey, k.Name)
		}
		infos.ErrorCount += len(val.Errors)
		infos.Configs = append(infos.Configs, ConfigInfo{Definition: KeyInfo(k), Value: val})
	}
	unknown := d.Unknown(raw)
	// Errors reported for undeclared keys (for example transforms.x.type) are
	// listed with those keys.
	for key := range byKey {
		if _, ok := raw[key]; !ok {
			unknown = append(unknown, key)
		}
	}
	if len(unknown) > 0 {
		group := UnknownGroup
		if !seenGroup[group] {
			infos.Groups = append(infos.Groups, group)
		}
		for i, key := range sortedUnique(unknown) {
			val := ConfigValueInfo{Name: key, RecommendedValues: []string{}, Errors: []string{}, Visible: true}
			if s, ok := raw[key]; ok {
				s = RedactURL(s)
				val.Value = &s
			}
			val.Errors = append(val.Errors, byKey[key]...)
			infos.ErrorCount += len(val.Errors)
			doc := "Not a configuration of this connector; kept as given and passed on unchanged."
			if _, declared := raw[key]; !declared {
				doc = "Required by another key of this configuration."
			}
			g := group
			infos.Configs = append(infos.Configs, ConfigInfo{
				Definition: ConfigKeyInfo{Name: key, Type: string(String), Importance: string(Low), Documentation: doc,
					Group: &g, Width: "NONE", DisplayName: key, Dependents: []string{}, Order: i + 1, OrderInGroup: i + 1},
				Value: val,
			})
		}
	}
	return infos
}

func lookupRaw(k *Key, raw map[string]string) (string, bool) {
	if s, ok := raw[k.Name]; ok {
		return s, true
	}
	for _, a := range k.Aliases {
		if s, ok := raw[a]; ok {
			return s, true
		}
	}
	return "", false
}

func sortedUnique(in []string) []string {
	out := slices.Clone(in)
	slices.Sort(out)
	return slices.Compact(out)
}
