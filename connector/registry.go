package connector

import (
	"fmt"
	"sort"
)

// Registry maps connector class names and aliases to plugins. It is built in
// cmd/replicate and passed down; tests build their own. There is no global
// registry.
type Registry struct {
	byName map[string]Plugin
	all    []Plugin
}

// NewRegistry returns a registry holding plugins.
func NewRegistry(plugins ...Plugin) *Registry {
	r := &Registry{byName: map[string]Plugin{}}
	for _, p := range plugins {
		r.Add(p)
	}
	return r
}

// Add registers p under its class name and aliases.
func (r *Registry) Add(p Plugin) {
	r.all = append(r.all, p)
	r.byName[p.Class()] = p
	for _, a := range p.Aliases() {
		r.byName[a] = p
	}
}

// Lookup finds a plugin by class name or alias.
func (r *Registry) Lookup(class string) (Plugin, error) {
	if p, ok := r.byName[class]; ok {
		return p, nil
	}
	return nil, fmt.Errorf("failed to find any class that implements Connector and which name matches %s", class)
}

// Plugins returns every registered plugin, sorted by class name.
func (r *Registry) Plugins() []Plugin {
	out := append([]Plugin(nil), r.all...)
	sort.Slice(out, func(i, j int) bool { return out[i].Class() < out[j].Class() })
	return out
}
