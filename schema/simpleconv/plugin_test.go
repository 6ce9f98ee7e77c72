package simpleconv

import (
	"strings"
	"testing"
)

// TestStringEncodingRefusedUnlessUTF8: converter.encoding is honoured for
// UTF-8 (Java's names for it) and refused otherwise, never ignored.
func TestStringEncodingRefusedUnlessUTF8(t *testing.T) {
	e := StringPlugin()
	for _, enc := range []string{"UTF-8", "utf8"} {
		if _, err := e.NewConverter(map[string]string{"converter.encoding": enc}, false); err != nil {
			t.Errorf("%s: %v", enc, err)
		}
	}
	_, err := e.NewConverter(map[string]string{"converter.encoding": "ISO-8859-1"}, false)
	if err == nil || !strings.Contains(err.Error(), "converter.encoding") {
		t.Errorf("ISO-8859-1: err = %v, want one naming converter.encoding", err)
	}
	if _, err := e.Config().Parse(map[string]string{"converter.type": "value", "converter.encoding": "UTF-16"}); err == nil {
		t.Error("validation accepted converter.encoding=UTF-16")
	}
}
