package jdbcsink

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/tributary-cdc/tributary/schema"
)

// refreshMeta re-reads a table's metadata from the database.
func (t *Task) refreshMeta(ctx context.Context, ts *tableState) error {
	m, err := t.d.readTable(ctx, t.db, ts.lookupID)
	if err != nil {
		return err
	}
	ts.meta = m
	ts.metaVer++
	ts.stale = false
	return nil
}

// ensure makes the table fit a shape: auto.create when missing, auto.evolve
// for missing columns, and checks that nothing else is needed. Metadata is
// re-read for every new shape and after errors, so tables changed by someone
// else are seen.
func (t *Task) ensure(ctx context.Context, ts *tableState, sh *shape) error {
	if ts.stale || sh.ensuredVer == 0 || ts.meta == nil {
		if err := t.refreshMeta(ctx, ts); err != nil {
			return err
		}
	} else if sh.ensuredVer == ts.metaVer {
		return nil
	}
	name := ts.id.String()
	if ts.meta == nil {
		if !t.st.autoCreate {
			return &TableError{Table: name, Reason: "table is missing and auto-creation is disabled (set auto.create=true to create it)"}
		}
		ddl, err := t.createSQL(ts, sh)
		if err != nil {
			return err
		}
		t.log.Info("creating table", "table", name, "sql", ddl)
		_, execErr := t.db.ExecContext(ctx, ddl)
		if err := t.refreshMeta(ctx, ts); err != nil {
			return err
		}
		if ts.meta == nil {
			if execErr != nil {
				if c := classify(t.d, execErr); c == errRetriable || c == errCanceled {
					return execErr
				}
				return &TableError{Table: name, Reason: "CREATE TABLE failed: " + execErr.Error()}
			}
			return &TableError{Table: name, Reason: "table still missing after CREATE TABLE"}
		}
	}
	if missing := t.missingColumns(ts.meta, sh); len(missing) > 0 {
		if !t.st.autoEvolve {
			names := make([]string, len(missing))
			for i, c := range missing {
				names[i] = c.name
			}
			return &TableError{Table: name, Column: strings.Join(names, ", "),
				Reason: fmt.Sprintf("table is missing fields %v and auto-evolution is disabled (set auto.evolve=true to add them)", names)}
		}
		if ts.meta.view {
			return &TableError{Table: name, Column: missing[0].name, Reason: "column is missing and the table is a view, which auto.evolve cannot alter"}
		}
		ddl, err := t.alterSQL(ts, missing)
		if err != nil {
			return err
		}
		t.log.Info("altering table", "table", name, "sql", ddl)
		_, execErr := t.db.ExecContext(ctx, ddl)
		if err := t.refreshMeta(ctx, ts); err != nil {
			return err
		}
		if still := t.missingColumns(ts.meta, sh); len(still) > 0 {
			if execErr != nil {
				if c := classify(t.d, execErr); c == errRetriable || c == errCanceled {
					return execErr
				}
				return &TableError{Table: name, Column: still[0].name, Reason: "ALTER TABLE failed: " + execErr.Error()}
			}
			return &TableError{Table: name, Column: still[0].name, Reason: "column still missing after ALTER TABLE"}
		}
	}
	if t.st.autoEvolve {
		for _, c := range sh.fm.all {
			if cm := ts.meta.column(c.name); cm != nil {
				if reason := incompatible(t.d, c, cm); reason != "" {
					return &TableError{Table: name, Column: cm.name, Reason: reason}
				}
			}
		}
	}
	if t.st.insertMode == InsertModeUpsert && sh.nKey > 0 && !ts.meta.view {
		keys := make([]string, sh.nKey)
		for i, c := range sh.fm.keyCols {
			keys[i] = c.name
		}
		if !ts.meta.hasUniqueOn(keys, t.d.exactConflictKey()) {
			return &TableError{Table: name, Column: strings.Join(keys, ", "),
				Reason: fmt.Sprintf("insert.mode=upsert needs a primary key or unique index on exactly (%s), and the table has none", strings.Join(keys, ", "))}
		}
	}
	sh.hasOmit = false
	for i, c := range sh.cols {
		sh.omit[i] = c.inferredNull && ts.meta.column(c.name) == nil
		sh.hasOmit = sh.hasOmit || sh.omit[i]
	}
	sh.ensuredVer = ts.metaVer
	return nil
}

// missingColumns lists shape columns the table lacks (case-insensitively),
// except schemaless nulls, which are never created.
func (t *Task) missingColumns(m *tableMeta, sh *shape) []*column {
	var out []*column
	for _, c := range sh.fm.all {
		if m.column(c.name) == nil && !c.inferredNull {
			out = append(out, c)
		}
	}
	return out
}

// keyLength is the VARCHAR/VARBINARY length of MySQL string/bytes key
// columns: mysql.string.key.length, shrunk so all of them fit InnoDB's
// 3072-byte key limit at 4 bytes per character.
func (t *Task) keyLength(sh *shape) int {
	n := 0
	for _, c := range sh.fm.keyCols {
		if c.schema.Type == schema.TypeString || c.schema.Type == schema.TypeBytes {
			n++
		}
	}
	l := t.st.stringKeyLen
	if n > 0 && l*n > 768 {
		l = 768 / n
	}
	return l
}

func (t *Task) columnSpec(c *column, keyLen int) (string, error) {
	typ, err := t.d.columnType(c.schema, c.key, keyLen)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString(t.q.ident(c.name))
	b.WriteByte(' ')
	b.WriteString(typ)
	if c.schema.Default != nil {
		v, err := c.conv(c.schema.Default)
		if err != nil {
			return "", fmt.Errorf("default value: %w", err)
		}
		b.WriteString(" DEFAULT ")
		b.WriteString(t.d.literal(v, typ))
	}
	if c.key || !c.schema.Optional {
		b.WriteString(" NOT NULL")
	} else {
		b.WriteString(" NULL")
	}
	return b.String(), nil
}

// createSQL is CREATE TABLE t (\n col TYPE …,\n PRIMARY KEY(k…)).
func (t *Task) createSQL(ts *tableState, sh *shape) (string, error) {
	var b strings.Builder
	b.WriteString("CREATE TABLE ")
	b.WriteString(ts.qname)
	b.WriteString(" (")
	keyLen := t.keyLength(sh)
	first := true
	for _, c := range sh.fm.all {
		if c.inferredNull {
			continue
		}
		spec, err := t.columnSpec(c, keyLen)
		if err != nil {
			return "", &TableError{Table: ts.id.String(), Column: c.name, Reason: "cannot create column: " + err.Error()}
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		b.WriteString("\n")
		b.WriteString(spec)
	}
	if len(sh.fm.keyCols) > 0 {
		b.WriteString(",\nPRIMARY KEY(")
		for i, c := range sh.fm.keyCols {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(t.q.ident(c.name))
		}
		b.WriteByte(')')
	}
	b.WriteString(")")
	return b.String(), nil
}

// alterSQL adds missing columns in one statement; a required column
// without default cannot be added to a table that may hold rows.
func (t *Task) alterSQL(ts *tableState, missing []*column) (string, error) {
	var b strings.Builder
	b.WriteString("ALTER TABLE ")
	b.WriteString(ts.qname)
	for i, c := range missing {
		if c.key {
			return "", &TableError{Table: ts.id.String(), Column: c.name, Reason: "primary-key column is missing; auto.evolve never adds key columns or changes the primary key"}
		}
		if !c.schema.Optional && c.schema.Default == nil {
			return "", &TableError{Table: ts.id.String(), Column: c.name,
				Reason: "cannot add missing field: it is not optional and does not have a default value (a NOT NULL column without default cannot be added to existing rows)"}
		}
		spec, err := t.columnSpec(c, t.st.stringKeyLen)
		if err != nil {
			return "", &TableError{Table: ts.id.String(), Column: c.name, Reason: "cannot add column: " + err.Error()}
		}
		if i > 0 {
			b.WriteString(",\n")
		} else {
			b.WriteByte(' ')
		}
		b.WriteString("ADD COLUMN ")
		b.WriteString(spec)
	}
	return b.String(), nil
}

// colFamily sorts an existing column type for compatibility checks.
type colFamily uint8

const (
	famOther colFamily = iota
	famInt
	famFloat
	famDecimal
	famBool
	famString
	famBytes
	famTemporal
)

// incompatible returns why an existing column cannot take a field's values
// without a type change auto.evolve does not make, or "".
func incompatible(d dialect, c *column, cm *colMeta) string {
	fam, width := d.family(cm)
	if fam == famOther || c.inferredNull {
		return ""
	}
	s := c.schema
	if s.Name != "" && s.Name != schema.DecimalName && s.Name != schema.DebeziumYear {
		return "" // semantic types map to their own column types; not checked
	}
	fieldWidth := map[schema.Type]int{schema.TypeInt8: 8, schema.TypeInt16: 16, schema.TypeInt32: 32, schema.TypeInt64: 64}[s.Type]
	narrow := func(what string) string {
		return fmt.Sprintf("type narrowing: the column is %s but field %s is %s (%s); auto.evolve never changes column types — widen the column yourself",
			cm.fullType, c.name, s, what)
	}
	switch {
	case s.Name == schema.DecimalName:
		scale, _ := schema.DecimalScale(s)
		if fam == famInt && scale > 0 {
			return narrow("fractions would be lost")
		}
		if fam == famDecimal && cm.scale >= 0 && int32(cm.scale) < scale {
			return narrow(fmt.Sprintf("scale %d is larger than the column's %d", scale, cm.scale))
		}
		if fam == famBool || fam == famBytes {
			return narrow("not a number column")
		}
	case fieldWidth > 0:
		if fam == famInt && width < fieldWidth {
			return narrow(fmt.Sprintf("%d-bit values do not fit a %d-bit column", fieldWidth, width))
		}
		if fam == famBytes || fam == famTemporal {
			return narrow("not an integer column")
		}
	case s.Type == schema.TypeFloat64:
		if fam == famInt {
			return narrow("fractions would be lost")
		}
		if fam == famFloat && width < 64 {
			return narrow("double precision does not fit a single-precision column")
		}
	case s.Type == schema.TypeString:
		switch fam {
		case famInt, famFloat, famDecimal, famBool:
			return fmt.Sprintf("type mismatch: the column is %s but field %s is a string; auto.evolve never changes column types", cm.fullType, c.name)
		}
	case s.Type == schema.TypeBytes:
		switch fam {
		case famInt, famFloat, famDecimal, famBool, famTemporal:
			return fmt.Sprintf("type mismatch: the column is %s but field %s is bytes; auto.evolve never changes column types", cm.fullType, c.name)
		}
	}
	return ""
}

// isTableError reports whether err is a table problem the sink cannot fix.
func isTableError(err error) bool {
	var te *TableError
	return errors.As(err, &te)
}
