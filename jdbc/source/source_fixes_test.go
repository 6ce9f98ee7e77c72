package source

import (
	"context"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

// TestLateCommitTimestamp: a transaction writes a row stamped with the
// database clock, then commits after a later row was already read.
// Confluent's window (timestamp.safe.window.enable=false, the default) skips
// the late row for good; with the safe window it is delivered, once.
func TestLateCommitTimestamp(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		for _, safe := range []bool{false, true} {
			t.Run(map[bool]string{false: "confluent", true: "safe"}[safe], func(t *testing.T) {
				f := newFixture(t, b)
				f.exec(t, ordersDDL)
				tx, err := f.sql.Beginx()
				if err != nil {
					t.Fatal(err)
				}
				defer tx.Rollback()
				if _, err := tx.Exec("INSERT INTO orders (name, updated_at) VALUES ('late', " + b.nowFn + ")"); err != nil {
					t.Fatal(err)
				}
				time.Sleep(50 * time.Millisecond)
				f.exec(t, `INSERT INTO orders (name, updated_at) VALUES ('early', $NOW)`)
				time.Sleep(20 * time.Millisecond)
				if safe {
					// Hold the transaction open past the MySQL/MariaDB
					// slack (mysqlTrxSlack), so only the detection of the
					// open transaction can keep 'early' back.
					time.Sleep(mysqlTrxSlack + 500*time.Millisecond)
				}

				task := startTask(t, f.config("mode", "timestamp", "table.whitelist", "orders", "timestamp.column.name", "updated_at",
					"timestamp.safe.window.enable", map[bool]string{false: "false", true: "true"}[safe]), nil)
				first := names(drain(t, task))
				if err := tx.Commit(); err != nil {
					t.Fatal(err)
				}
				var second []string
				if safe {
					second = names(append(pollUntil(t, task, 2, 5*time.Second), drain(t, task)...))
				} else {
					second = names(pollFor(t, task, 300*time.Millisecond))
				}
				all := append(append([]string{}, first...), second...)
				t.Logf("before commit %v, after commit %v", first, second)
				if safe {
					if len(first) != 0 {
						t.Errorf("safe window read %v while an older transaction was open", first)
					}
					sort.Strings(all)
					if !reflect.DeepEqual(all, []string{"early", "late"}) {
						t.Errorf("safe window delivered %v, want early and late once each", all)
					}
				} else if !reflect.DeepEqual(all, []string{"early"}) {
					t.Errorf("Confluent window delivered %v; expected it to skip the late row (if this changed, update the docs)", all)
				}
			})
		}
	})
}

// TestOutOfOrderIncrementing: id N is committed after id N+1 was read.
// Confluent's incrementing mode loses N; incrementing.safe.window.enable
// delivers it, does not repeat N+1, and a restart from the stored offset
// while the transaction is open loses nothing either.
func TestOutOfOrderIncrementing(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		for _, safe := range []bool{false, true} {
			t.Run(map[bool]string{false: "confluent", true: "safe"}[safe], func(t *testing.T) {
				f := newFixture(t, b)
				f.exec(t, ordersDDL)
				f.exec(t, `INSERT INTO orders (name, updated_at) VALUES ('first', $NOW)`) // id 1
				tx, err := f.sql.Beginx()
				if err != nil {
					t.Fatal(err)
				}
				defer tx.Rollback()
				if _, err := tx.Exec("INSERT INTO orders (name, updated_at) VALUES ('late', " + b.nowFn + ")"); err != nil { // id 2
					t.Fatal(err)
				}
				f.exec(t, `INSERT INTO orders (name, updated_at) VALUES ('next', $NOW)`) // id 3, committed first

				cfg := f.config("mode", "incrementing", "table.whitelist", "orders", "incrementing.column.name", "id",
					"incrementing.safe.window.enable", map[bool]string{false: "false", true: "true"}[safe])
				offs := newOffsets()
				task := startTask(t, cfg, offs)
				first := drain(t, task)
				if got := ids(first); !eqInts(got, []int64{1, 3}) {
					t.Fatalf("first poll ids %v, want [1 3]", got)
				}
				offs.commit(first)
				if safe {
					// The stored offset stays below the open transaction's id.
					for _, r := range first {
						if n := r.SourceOffset["incrementing"].(int64); n >= 2 {
							t.Errorf("offset %d passes id 2 of the open transaction", n)
						}
					}
					// Restart while the transaction is still open.
					task.Stop()
					task = startTask(t, cfg, offs)
					again := drain(t, task)
					t.Logf("after restart: %v (repeats allowed)", ids(again))
					offs.commit(again)
				}
				if err := tx.Commit(); err != nil {
					t.Fatal(err)
				}
				f.exec(t, `INSERT INTO orders (name, updated_at) VALUES ('after', $NOW)`) // id 4
				want := map[bool]int{false: 1, true: 2}[safe]
				second := pollUntil(t, task, want, 5*time.Second)
				third := drain(t, task)
				offs.commit(second)
				offs.commit(third)
				got := ids(append(second, third...))
				t.Logf("after commit: %v", got)
				if safe {
					if !eqInts(got, []int64{2, 4}) {
						t.Errorf("safe window delivered %v after the commit, want [2 4] (no repeat of 3)", got)
					}
					// With no transaction open the stored offset catches up.
					pollFor(t, task, 1500*time.Millisecond)
					f.exec(t, `INSERT INTO orders (name, updated_at) VALUES ('last', $NOW)`) // id 5
					last := pollUntil(t, task, 1, 5*time.Second)
					if len(last) == 0 {
						t.Fatal("id 5 was never polled")
					}
					if !eqInts(ids(last), []int64{5}) || last[0].SourceOffset["incrementing"].(int64) != 4 {
						t.Errorf("last poll %v offset %v, want [5] at offset 4", ids(last), last[0].SourceOffset)
					}
				} else if !eqInts(got, []int64{4}) {
					t.Errorf("Confluent incrementing delivered %v; expected it to lose id 2 (if this changed, update the docs)", got)
				}
			})
		}
	})
}

// TestIncrementingSafeWindowPastSlack holds a transaction open (id 2) well
// past the MySQL/MariaDB slack while later ids commit and are read: only
// the detection of the open transaction keeps the stored offset below 2.
func TestIncrementingSafeWindowPastSlack(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		f := newFixture(t, b)
		f.exec(t, ordersDDL)
		f.exec(t, `INSERT INTO orders (name, updated_at) VALUES ('first', $NOW)`) // id 1
		tx, err := f.sql.Beginx()
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if _, err := tx.Exec("INSERT INTO orders (name, updated_at) VALUES ('late', " + b.nowFn + ")"); err != nil { // id 2
			t.Fatal(err)
		}
		f.exec(t, `INSERT INTO orders (name, updated_at) VALUES ('next', $NOW)`) // id 3
		task := startTask(t, f.config("mode", "incrementing", "table.whitelist", "orders", "incrementing.column.name", "id",
			"incrementing.safe.window.enable", "true"), nil)
		if got := ids(drain(t, task)); !eqInts(got, []int64{1, 3}) {
			t.Fatalf("first poll ids %v, want [1 3]", got)
		}
		pollFor(t, task, 200*time.Millisecond) // the window notes what was read, and when
		time.Sleep(mysqlTrxSlack + 500*time.Millisecond)
		pollFor(t, task, 300*time.Millisecond)                                   // window steps with the transaction still open
		f.exec(t, `INSERT INTO orders (name, updated_at) VALUES ('more', $NOW)`) // id 4
		got := pollUntil(t, task, 1, 5*time.Second)
		if !eqInts(ids(got), []int64{4}) {
			t.Fatalf("poll after the slack: ids %v, want [4]", ids(got))
		}
		if n := got[0].SourceOffset["incrementing"].(int64); n >= 2 {
			t.Errorf("offset %d passes id 2 of a transaction open for %v", n, mysqlTrxSlack+500*time.Millisecond)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if late := ids(pollUntil(t, task, 1, 5*time.Second)); !eqInts(late, []int64{2}) {
			t.Errorf("after the commit: ids %v, want [2]", late)
		}
	})
}

// TestSafeWindowNeedsStatsAccess: on PostgreSQL a user who is neither
// superuser nor in pg_read_all_stats sees no other user's xact_start, so a
// safe window would guard nothing; the task refuses to start, naming the
// grant, and starts once it is given.
func TestSafeWindowNeedsStatsAccess(t *testing.T) {
	f := newFixture(t, backends[1])
	f.exec(t, ordersDDL)
	role := "plain_" + f.db.Name
	f.exec(t, "CREATE ROLE "+role+" LOGIN")
	t.Cleanup(func() {
		f.sql.Exec("DROP OWNED BY " + role)
		f.sql.Exec("DROP ROLE " + role)
	})
	f.exec(t, "GRANT SELECT ON orders TO "+role)
	cfg := f.config("mode", "timestamp", "table.whitelist", "orders", "timestamp.column.name", "updated_at",
		"timestamp.safe.window.enable", "true", "connection.user", role)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	task := NewSourceTask()
	err := task.Start(ctx, cfg, taskContext(t))
	if err == nil {
		task.Stop()
		t.Fatal("the safe window started for a user who cannot see other sessions' transactions")
	}
	if !strings.Contains(err.Error(), "GRANT pg_read_all_stats TO") || !strings.Contains(err.Error(), role) {
		t.Errorf("error %q does not name the grant", err)
	}
	f.exec(t, "GRANT pg_read_all_stats TO "+role)
	startTask(t, cfg, nil)
}
