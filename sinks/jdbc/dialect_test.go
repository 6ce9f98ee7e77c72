package jdbcsink

import (
	"testing"

	"github.com/tributary-cdc/tributary/jdbc"
)

// A flavor without a sink dialect is an error, not MySQL's dialect.
func TestNewDialectUnknownFlavor(t *testing.T) {
	if d, err := newDialect(&jdbc.Conn{Flavor: "sqlserver"}); err == nil {
		t.Fatalf("newDialect(sqlserver) = %T, want an error", d)
	}
	for _, f := range []jdbc.Flavor{jdbc.MySQL, jdbc.Postgres} {
		d, err := newDialect(&jdbc.Conn{Flavor: f})
		if err != nil || d.Flavor() != f {
			t.Errorf("newDialect(%s) = %v, %v", f, d, err)
		}
	}
}
