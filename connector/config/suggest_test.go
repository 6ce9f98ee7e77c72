package config

import "testing"

func TestSuggest(t *testing.T) {
	known := []string{"insert.mode", "flush.size", "poll.interval.ms", "tasks.max", "name", "topics"}
	cases := []struct {
		key, want string
		ok        bool
	}{
		{"inset.mode", "insert.mode", true},  // deletion
		{"isnert.mode", "insert.mode", true}, // transposition counts as one edit
		{"poll.interval.mss", "poll.interval.ms", true},
		{"insert.mode", "", false},    // known
		{"my.custom.note", "", false}, // far away
		{"insrt.mdoe.x", "", false},   // more than two edits
		{"nmae", "", false},           // too short to judge
		{"topic", "", false},          // too short to judge
	}
	for _, c := range cases {
		got, ok := Suggest(c.key, known)
		if got != c.want || ok != c.ok {
			t.Errorf("Suggest(%q) = %q, %v; want %q, %v", c.key, got, ok, c.want, c.ok)
		}
	}
}
