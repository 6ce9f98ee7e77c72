package dbserver

import (
	"encoding/base64"
	"testing"
)

// TestClusterIDNeverAnOption: kafka-storage format reads "-t -x…" as a
// missing argument, so an id starting with '-' fails the whole test package
// (one draw in 64 did in CI). Ten thousand draws would hit one with
// near certainty if the guard were gone.
func TestClusterIDNeverAnOption(t *testing.T) {
	for i := 0; i < 10000; i++ {
		id := newClusterID()
		if id[0] == '-' {
			t.Fatalf("cluster id %q starts with '-'", id)
		}
		b, err := base64.RawURLEncoding.DecodeString(id)
		if err != nil || len(b) != 16 {
			t.Fatalf("cluster id %q is not 16 bytes of URL-safe base64 (%v)", id, err)
		}
	}
}
