//go:build unix

package quickstart

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/tributary-cdc/tributary/jdbc"
)

// The quickstart's inventory tables, in the order they are created and
// verified.
var qsTables = []string{"customers", "products", "orders"}

// Initial rows per table.
const (
	qsCustomers = 100
	qsProducts  = 40
	qsOrders    = 300
)

// qsSchema is the inventory schema in each dialect. Types are chosen to
// exercise the conversions users hit first: booleans, decimals, doubles,
// dates, timestamps with and without zone, text.
var qsSchema = map[jdbc.Flavor][]string{
	jdbc.MySQL: {
		`CREATE TABLE customers (
			id INT AUTO_INCREMENT PRIMARY KEY,
			first_name VARCHAR(50) NOT NULL,
			last_name VARCHAR(50) NOT NULL,
			email VARCHAR(120) NOT NULL,
			active BOOLEAN NOT NULL DEFAULT TRUE,
			created_at DATETIME(3) NOT NULL)`,
		`CREATE TABLE products (
			id INT AUTO_INCREMENT PRIMARY KEY,
			name VARCHAR(100) NOT NULL,
			description TEXT,
			price DECIMAL(10,2) NOT NULL,
			weight DOUBLE,
			stock INT NOT NULL)`,
		`CREATE TABLE orders (
			id BIGINT AUTO_INCREMENT PRIMARY KEY,
			customer_id INT NOT NULL,
			product_id INT NOT NULL,
			quantity INT NOT NULL,
			total DECIMAL(12,2) NOT NULL,
			order_date DATE NOT NULL,
			status VARCHAR(20) NOT NULL,
			updated_at TIMESTAMP(6) NULL)`,
	},
	jdbc.Postgres: {
		`CREATE TABLE customers (
			id SERIAL PRIMARY KEY,
			first_name VARCHAR(50) NOT NULL,
			last_name VARCHAR(50) NOT NULL,
			email VARCHAR(120) NOT NULL,
			active BOOLEAN NOT NULL DEFAULT TRUE,
			created_at TIMESTAMP(3) NOT NULL)`,
		`CREATE TABLE products (
			id SERIAL PRIMARY KEY,
			name VARCHAR(100) NOT NULL,
			description TEXT,
			price NUMERIC(10,2) NOT NULL,
			weight DOUBLE PRECISION,
			stock INT NOT NULL)`,
		`CREATE TABLE orders (
			id BIGSERIAL PRIMARY KEY,
			customer_id INT NOT NULL,
			product_id INT NOT NULL,
			quantity INT NOT NULL,
			total NUMERIC(12,2) NOT NULL,
			order_date DATE NOT NULL,
			status VARCHAR(20) NOT NULL,
			updated_at TIMESTAMPTZ(6))`,
	},
}

// qsDDL is the schema change the workload makes half-way.
const qsDDL = "ALTER TABLE customers ADD COLUMN loyalty_points INT"

var (
	qsFirst    = []string{"Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia", "Niklaus", "Margaret", "Dennis"}
	qsLast     = []string{"Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Perlman", "Wirth", "Hamilton", "Ritchie"}
	qsProduct  = []string{"scooter", "car battery", "12-pack drill bits", "hammer", "rocks", "jacket", "spare tire", "lamp", "kettle", "backpack"}
	qsAdjs     = []string{"small", "large", "red", "blue", "heavy-duty", "compact", "vintage", "solar"}
	qsStatuses = []string{"shipped", "delivered", "cancelled", "returned"}
)

// qsDB is one inventory database the quickstart writes to.
type qsDB struct {
	name   string // "mariadb" or "postgres"
	flavor jdbc.Flavor
	db     *sqlx.DB
	rnd    *rand.Rand

	mu     sync.Mutex // guards the id lists (the workload is one goroutine; setup is too)
	ids    map[string][]int64
	ddl    bool
	writes atomic.Int64 // row changes made by the workload
}

func newQSDB(name string, flavor jdbc.Flavor, db *sqlx.DB, seed uint64) *qsDB {
	return &qsDB{name: name, flavor: flavor, db: db, rnd: rand.New(rand.NewPCG(seed, seed*7+1)), ids: map[string][]int64{}}
}

// create makes the tables and loads the initial rows.
func (d *qsDB) create(ctx context.Context) error {
	for _, s := range qsSchema[d.flavor] {
		if _, err := d.db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %s: %w", d.name, firstLine(s), err)
		}
	}
	tx, err := d.db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: begin: %w", d.name, err)
	}
	defer tx.Rollback()
	for range qsCustomers {
		if err := d.insertCustomer(ctx, tx); err != nil {
			return err
		}
	}
	for range qsProducts {
		if err := d.insertProduct(ctx, tx); err != nil {
			return err
		}
	}
	for range qsOrders {
		if err := d.insertOrder(ctx, tx); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: commit initial rows: %w", d.name, err)
	}
	d.writes.Store(0) // count the workload's changes only
	return nil
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// insert runs an INSERT and returns the new row's id.
func (d *qsDB) insert(ctx context.Context, tx *sqlx.Tx, table, query string, args ...any) error {
	var id int64
	if d.flavor == jdbc.Postgres {
		if err := tx.QueryRowxContext(ctx, tx.Rebind(query)+" RETURNING id", args...).Scan(&id); err != nil {
			return fmt.Errorf("%s: insert into %s: %w", d.name, table, err)
		}
	} else {
		res, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("%s: insert into %s: %w", d.name, table, err)
		}
		if id, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("%s: insert into %s: %w", d.name, table, err)
		}
	}
	d.mu.Lock()
	d.ids[table] = append(d.ids[table], id)
	d.mu.Unlock()
	d.writes.Add(1)
	return nil
}

// exec runs a statement with ? placeholders and counts the rows it changed.
func (d *qsDB) exec(ctx context.Context, tx *sqlx.Tx, query string, args ...any) error {
	res, err := tx.ExecContext(ctx, tx.Rebind(query), args...)
	if err != nil {
		return fmt.Errorf("%s: %s: %w", d.name, firstLine(query), err)
	}
	n, _ := res.RowsAffected()
	d.writes.Add(n)
	return nil
}

// pick returns a random existing id of table (0 if none).
func (d *qsDB) pick(table string) int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	ids := d.ids[table]
	if len(ids) == 0 {
		return 0
	}
	return ids[d.rnd.IntN(len(ids))]
}

// forget removes an id after its row was deleted.
func (d *qsDB) forget(table string, id int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	ids := d.ids[table]
	for i, x := range ids {
		if x == id {
			ids[i] = ids[len(ids)-1]
			d.ids[table] = ids[:len(ids)-1]
			return
		}
	}
}

func (d *qsDB) now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

func (d *qsDB) insertCustomer(ctx context.Context, tx *sqlx.Tx) error {
	f, l := qsFirst[d.rnd.IntN(len(qsFirst))], qsLast[d.rnd.IntN(len(qsLast))]
	email := fmt.Sprintf("%s.%s.%d@example.com", strings.ToLower(f), strings.ToLower(l), d.rnd.IntN(100000))
	return d.insert(ctx, tx, "customers",
		"INSERT INTO customers (first_name, last_name, email, active, created_at) VALUES (?, ?, ?, ?, ?)",
		f, l, email, d.rnd.IntN(10) > 0, d.now().Add(-time.Duration(d.rnd.IntN(1000))*time.Hour))
}

func (d *qsDB) insertProduct(ctx context.Context, tx *sqlx.Tx) error {
	name := qsAdjs[d.rnd.IntN(len(qsAdjs))] + " " + qsProduct[d.rnd.IntN(len(qsProduct))]
	var desc any = "A " + name + " of the finest kind."
	if d.rnd.IntN(5) == 0 {
		desc = nil
	}
	return d.insert(ctx, tx, "products",
		"INSERT INTO products (name, description, price, weight, stock) VALUES (?, ?, ?, ?, ?)",
		name, desc, d.price(), float64(d.rnd.IntN(20000))/1000, d.rnd.IntN(500))
}

// price is a decimal with two places, as text so both drivers send it exactly.
func (d *qsDB) price() string {
	return fmt.Sprintf("%d.%02d", 1+d.rnd.IntN(300), d.rnd.IntN(100))
}

func (d *qsDB) insertOrder(ctx context.Context, tx *sqlx.Tx) error {
	qty := 1 + d.rnd.IntN(5)
	day := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, d.rnd.IntN(300))
	if err := d.insert(ctx, tx, "orders",
		"INSERT INTO orders (customer_id, product_id, quantity, total, order_date, status, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
		d.pick("customers"), d.pick("products"), qty, d.price(), day.Format("2006-01-02"), "placed", d.now()); err != nil {
		return err
	}
	return nil
}

// step makes one random change (a transaction of one or two statements).
func (d *qsDB) step(ctx context.Context) error {
	tx, err := d.db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: begin: %w", d.name, err)
	}
	defer tx.Rollback()
	var deleted func()
	switch r := d.rnd.IntN(100); {
	case r < 35: // place an order, taking it from stock
		if err := d.insertOrder(ctx, tx); err != nil {
			return err
		}
		if err := d.exec(ctx, tx, "UPDATE products SET stock = stock - 1 WHERE id = ?", d.pick("products")); err != nil {
			return err
		}
	case r < 55:
		if err := d.exec(ctx, tx, "UPDATE orders SET status = ?, updated_at = ? WHERE id = ?",
			qsStatuses[d.rnd.IntN(len(qsStatuses))], d.now(), d.pick("orders")); err != nil {
			return err
		}
	case r < 65:
		if err := d.exec(ctx, tx, "UPDATE products SET price = ?, weight = ? WHERE id = ?",
			d.price(), float64(d.rnd.IntN(20000))/1000, d.pick("products")); err != nil {
			return err
		}
	case r < 77:
		d.mu.Lock()
		ddl := d.ddl
		d.mu.Unlock()
		id := d.pick("customers")
		if ddl {
			err = d.exec(ctx, tx, "UPDATE customers SET loyalty_points = COALESCE(loyalty_points, 0) + ?, active = ? WHERE id = ?",
				1+d.rnd.IntN(50), d.rnd.IntN(10) > 0, id)
		} else {
			err = d.exec(ctx, tx, "UPDATE customers SET email = ?, active = ? WHERE id = ?",
				fmt.Sprintf("changed.%d@example.com", d.rnd.IntN(1000000)), d.rnd.IntN(10) > 0, id)
		}
		if err != nil {
			return err
		}
	case r < 87:
		id := d.pick("orders")
		if err := d.exec(ctx, tx, "DELETE FROM orders WHERE id = ?", id); err != nil {
			return err
		}
		deleted = func() { d.forget("orders", id) }
	case r < 95:
		if err := d.insertCustomer(ctx, tx); err != nil {
			return err
		}
	case r < 97:
		id := d.pick("customers")
		if err := d.exec(ctx, tx, "DELETE FROM customers WHERE id = ?", id); err != nil {
			return err
		}
		deleted = func() { d.forget("customers", id) }
	default:
		if err := d.insertProduct(ctx, tx); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: commit: %w", d.name, err)
	}
	if deleted != nil {
		deleted()
	}
	return nil
}

// alter makes the workload's schema change, then updates a few rows so the
// new column travels with the next change events.
func (d *qsDB) alter(ctx context.Context) error {
	if _, err := d.db.ExecContext(ctx, qsDDL); err != nil {
		return fmt.Errorf("%s: %s: %w", d.name, qsDDL, err)
	}
	d.mu.Lock()
	d.ddl = true
	d.mu.Unlock()
	tx, err := d.db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: begin: %w", d.name, err)
	}
	defer tx.Rollback()
	for range 5 {
		if err := d.exec(ctx, tx, "UPDATE customers SET loyalty_points = ? WHERE id = ?", 100+d.rnd.IntN(100), d.pick("customers")); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// workload changes rows at about rate transactions per second until ctx
// ends or the duration passed, with the DDL half-way.
func (d *qsDB) workload(ctx context.Context, duration time.Duration, rate int) error {
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	end := time.Now().Add(duration)
	ddlAt := time.Now().Add(duration / 2)
	for time.Now().Before(end) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		if !d.ddl && time.Now().After(ddlAt) {
			if err := d.alter(ctx); err != nil {
				return err
			}
			continue
		}
		if err := d.step(ctx); err != nil {
			return err
		}
	}
	if !d.ddl {
		return d.alter(ctx)
	}
	return nil
}
