package config

import (
	"fmt"
	"slices"
	"strings"
)

// suggestMinLen is the shortest key checked for typos: below it almost any
// key is within two edits of another.
const suggestMinLen = 6

// suggestMaxDist is the largest edit distance treated as a typo.
const suggestMaxDist = 2

// Suggest returns the known key closest to key when key is not known and is
// within a Damerau–Levenshtein (optimal string alignment) distance of 2 of
// it; keys shorter than 6 characters are never matched. Ties go to the
// lexically first key.
func Suggest(key string, known []string) (string, bool) {
	if len(key) < suggestMinLen || slices.Contains(known, key) {
		return "", false
	}
	best, bestDist := "", suggestMaxDist+1
	for _, k := range known {
		if len(k) < suggestMinLen {
			continue
		}
		d := editDistance(key, k)
		if d < bestDist || (d == bestDist && best != "" && k < best) {
			best, bestDist = k, d
		}
	}
	return best, best != "" && bestDist <= suggestMaxDist
}

// editDistance is the optimal string alignment distance of a and b
// (insertions, deletions, substitutions and adjacent transpositions).
func editDistance(a, b string) int {
	if d := len(a) - len(b); d > suggestMaxDist || -d > suggestMaxDist {
		return suggestMaxDist + 1
	}
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

// TypoMessage is the error for a key that looks like a misspelt known key.
func TypoMessage(key, suggestion string) string {
	return fmt.Sprintf("Unknown configuration '%s'; did you mean '%s'?", key, suggestion)
}

// Typos returns an error for each key of raw that is not in known, not
// under one of the skip prefixes and within a small edit distance of a
// known key (see Suggest), naming both. Other unknown keys are not errors.
func Typos(raw map[string]string, known, skip []string) Errors {
	var errs Errors
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if slices.ContainsFunc(skip, func(p string) bool { return strings.HasPrefix(k, p) }) {
			continue
		}
		if s, ok := Suggest(k, known); ok {
			errs = append(errs, KeyError{Key: k, Message: TypoMessage(k, s)})
		}
	}
	return errs
}

// Names returns every key name and alias d declares.
func (d *Def) Names() []string {
	out := make([]string, 0, len(d.index))
	for n := range d.index {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// Prefixes returns the pass-through prefixes d declares.
func (d *Def) Prefixes() []string { return slices.Clone(d.prefixes) }

// Typos is Typos over d's names, skipping d's pass-through prefixes and
// extra.
func (d *Def) Typos(raw map[string]string, extra ...string) Errors {
	return Typos(raw, d.Names(), append(d.Prefixes(), extra...))
}
