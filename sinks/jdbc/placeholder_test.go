package jdbcsink

import (
	"testing"

	"github.com/tributary-cdc/tributary/schema"
)

// TestIntArrayPlaceholder: Debezium 3.6.1 sends an unchanged TOASTed
// integer[]/bigint[] as the placeholder's bytes, each a number (see
// cdc/postgres TestUnchangedToastedIntArrays); the sink recognises exactly
// that and nothing near it, and the columns may carry it.
func TestIntArrayPlaceholder(t *testing.T) {
	const ph = "__debezium_unavailable_value"
	task := &Task{st: &settings{placeholder: ph, placeholderBytes: []byte(ph)}}
	ints, longs := make([]any, len(ph)), make([]any, len(ph))
	for i := range len(ph) {
		ints[i], longs[i] = int32(ph[i]), int64(ph[i])
	}
	for name, v := range map[string][]any{"int32": ints, "int64": longs} {
		if !task.isPlaceholder(v) {
			t.Errorf("%s placeholder array not recognised", name)
		}
	}
	near := append([]any{}, ints...)
	near[3] = int32(0)
	for name, v := range map[string]any{
		"one changed element": near,
		"shorter":             ints[:len(ints)-1],
		"one int":             []any{int32(95)},
		"empty":               []any{},
		"text placeholder":    []any{ph + "x"},
	} {
		if task.isPlaceholder(v) {
			t.Errorf("%s taken for the placeholder", name)
		}
	}
	if !task.isPlaceholder([]any{ph}) {
		t.Error("text[] placeholder no longer recognised")
	}
	for _, s := range []*schema.Schema{schema.ArrayOf(schema.Int32Schema), schema.ArrayOf(schema.Int64Schema)} {
		if !mayHoldPlaceholder(s) {
			t.Errorf("array of %v may not hold the placeholder", s.ValueSchema.Type)
		}
	}
	if mayHoldPlaceholder(schema.ArrayOf(schema.Float64Schema)) {
		t.Error("array of float64 may hold the placeholder")
	}
}
