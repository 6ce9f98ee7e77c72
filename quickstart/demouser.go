//go:build unix

package quickstart

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"github.com/jmoiron/sqlx"
)

// demoUser is the account the quickstart prints for looking at the data:
// not a superuser (the servers' root and postgres accounts are for the
// quickstart itself), read/write on the inventory databases the workload
// writes and read-only on the replicas, with a password made for this run.
const demoUser = "demo"

func newDemoPassword() (string, error) {
	b := make([]byte, 9)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("demo password: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// createDemoUsers creates the demo account on both servers. my and pg are
// superuser connections to the inventory databases, whose tables must
// exist.
func createDemoUsers(ctx context.Context, my, pg *sqlx.DB, pgVersion int, password string) error {
	for _, q := range []string{
		fmt.Sprintf("CREATE USER '%s'@'127.0.0.1' IDENTIFIED BY '%s'", demoUser, password),
		fmt.Sprintf("GRANT SELECT, INSERT, UPDATE, DELETE ON inventory.* TO '%s'@'127.0.0.1'", demoUser),
		fmt.Sprintf("GRANT SELECT ON from_postgres.* TO '%s'@'127.0.0.1'", demoUser),
	} {
		if _, err := my.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("mariadb demo user: %w", err)
		}
	}
	qs := []string{
		fmt.Sprintf("CREATE ROLE %s LOGIN PASSWORD '%s' NOSUPERUSER NOCREATEDB NOCREATEROLE", demoUser, password),
		"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO " + demoUser,
	}
	if pgVersion >= 14 {
		qs = append(qs, "GRANT pg_read_all_data TO "+demoUser) // the replica's tables, created later by the sink
	}
	for _, q := range qs {
		if _, err := pg.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("postgres demo user: %w", err)
		}
	}
	return nil
}
