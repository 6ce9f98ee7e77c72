package source

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/jmoiron/sqlx"

	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/connector/config"
)

// SourceClass is the JDBC source's canonical class name.
const SourceClass = "io.confluent.connect.jdbc.JdbcSourceConnector"

// SourcePlugin is Confluent's JdbcSourceConnector. It is stateless; register
// one value in the connector registry.
type SourcePlugin struct{}

var _ connector.SourcePlugin = SourcePlugin{}

// Class implements connector.Plugin.
func (SourcePlugin) Class() string { return SourceClass }

// Aliases implements connector.Plugin.
func (SourcePlugin) Aliases() []string {
	return []string{"JdbcSourceConnector", "io.confluent.connect.jdbc.JdbcSource", "JdbcSource"}
}

// Type implements connector.Plugin.
func (SourcePlugin) Type() connector.Type { return connector.Source }

// Version implements connector.Plugin.
func (SourcePlugin) Version() string { return "10.8.0-tributary" }

// Config implements connector.Plugin.
func (SourcePlugin) Config() *config.Def { return SourceDef() }

// Validate implements connector.Plugin: the checks across keys.
func (SourcePlugin) Validate(v *config.Values) config.Errors {
	_, errs := buildSourceConfig(v)
	return errs
}

// NewTask implements connector.SourcePlugin.
func (SourcePlugin) NewTask() connector.SourceTask { return NewSourceTask() }

// TaskConfigs lists the matching tables and splits them into at most
// maxTasks contiguous groups (Confluent's rule: the first #tables % groups
// get one extra table). Query mode always gets one task. With no table yet,
// one task starts; it picks tables up as they appear. Each task re-reads
// the table list every table.poll.interval.ms and polls its group of the
// current list, so new tables are picked up without a restart.
func (SourcePlugin) TaskConfigs(ctx context.Context, raw map[string]string, maxTasks int) ([]map[string]string, error) {
	c, err := parseSourceConfig(raw)
	if err != nil {
		return nil, err
	}
	if c.queryMode() {
		return []map[string]string{copyConfig(raw)}, nil
	}
	db, d, err := openSource(ctx, c, nil)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	tables, err := discoverTables(ctx, db, d, c)
	if err != nil {
		return nil, err
	}
	if maxTasks < 1 {
		maxTasks = 1
	}
	n := min(len(tables), maxTasks)
	if n == 0 {
		n = 1
	}
	groups := groupTables(tables, n)
	out := make([]map[string]string, n)
	for i := range out {
		m := copyConfig(raw)
		var names []string
		if i < len(groups) {
			for _, t := range groups[i] {
				names = append(names, t.String())
			}
		}
		b, _ := json.Marshal(names)
		if names == nil {
			b = []byte("[]")
		}
		m[taskTablesKey] = string(b)
		m[taskIndexKey] = strconv.Itoa(i)
		m[taskCountKey] = strconv.Itoa(n)
		out[i] = m
	}
	return out, nil
}

func copyConfig(raw map[string]string) map[string]string {
	m := make(map[string]string, len(raw)+3)
	for k, v := range raw {
		m[k] = v
	}
	return m
}

// discoverTables lists the tables the connector copies: catalog listing,
// then table.whitelist/blacklist or table.include/exclude.list. Two tables
// with the same bare name are an error (they would share a topic).
func discoverTables(ctx context.Context, db *sqlx.DB, d dialect, c *sourceConfig) ([]tableID, error) {
	all, err := d.listTables(ctx, db, c)
	if err != nil {
		return nil, err
	}
	var out []tableID
	for _, t := range all {
		if c.matches(d, t) {
			out = append(out, t)
		}
	}
	seen := map[string]string{}
	for _, t := range out {
		if prev, ok := seen[t.Name]; ok {
			return nil, fmt.Errorf("table.whitelist: tables %s and %s share the name %q and would write to the same topic; narrow the table filter (catalog.pattern, schema.pattern, table.whitelist)", prev, t.String(), t.Name)
		}
		seen[t.Name] = t.String()
	}
	return out, nil
}

// matches applies the table filters (spec §1.1): a table is listed when its
// unquoted FQN, quoted FQN or bare name is named; include/exclude lists are
// regular expressions over the FQN.
func (c *sourceConfig) matches(d dialect, t tableID) bool {
	names := []string{t.String(), d.quotedTable(t), t.Name}
	listed := func(list []string) bool {
		for _, l := range list {
			for _, n := range names {
				if l == n {
					return true
				}
			}
		}
		return false
	}
	switch {
	case len(c.whitelist) > 0:
		return listed(c.whitelist)
	case len(c.blacklist) > 0:
		return !listed(c.blacklist)
	case len(c.include) > 0:
		fqn := t.String()
		ok := false
		for _, re := range c.include {
			if re.MatchString(fqn) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
		for _, re := range c.exclude {
			if re.MatchString(fqn) {
				return false
			}
		}
		return true
	}
	return true
}

// groupTables cuts the ordered table list into n contiguous groups, the
// first len%n getting one extra table (ConnectorUtils.groupPartitions).
func groupTables(tables []tableID, n int) [][]tableID {
	if n <= 0 {
		return nil
	}
	groups := make([][]tableID, n)
	per, extra := len(tables)/n, len(tables)%n
	pos := 0
	for i := 0; i < n; i++ {
		size := per
		if i < extra {
			size++
		}
		groups[i] = tables[pos : pos+size]
		pos += size
	}
	return groups
}
