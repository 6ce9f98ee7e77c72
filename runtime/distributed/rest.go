package distributed

// The REST API of a distributed worker: reads are answered by any worker
// from the config and status topics (after reading them to their end);
// state changes are forwarded to the leader, as Connect does, and executed
// there by writing the config topic.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/connector/config"
	"github.com/tributary-cdc/tributary/offsets"
	"github.com/tributary-cdc/tributary/runtime"
	"github.com/tributary-cdc/tributary/runtime/configstore"
	"github.com/tributary-cdc/tributary/runtime/kafka"
	"github.com/tributary-cdc/tributary/runtime/rest"
)

// errNotLeader is answered with 409 (Connect: "Cannot complete request
// because of a conflicting operation (e.g. worker rebalance)").
var errNotLeader = fmt.Errorf("%w: Cannot complete request because of a conflicting operation (e.g. worker rebalance)", rest.ErrConflict)

type ctxKey int

// keyLocal marks a request forwarded with forward=false: execute it here.
const keyLocal ctxKey = 1

// keyAuthorization carries the caller's Authorization header, which
// requests forwarded on its behalf carry too (as Connect's RestClient).
const keyAuthorization ctxKey = 2

func local(ctx context.Context) bool { v, _ := ctx.Value(keyLocal).(bool); return v }

// readSync brings the config (and statuses) up to date before a read, so
// every worker answers the same; on failure the local state is used.
func (h *Herder) readSync(ctx context.Context, statuses bool) {
	sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_ = h.configs.readToEnd(sctx)
	if statuses {
		_ = h.statuses.sync(sctx)
	}
}

func notFound(name string) error { return fmt.Errorf("connector %s: %w", name, rest.ErrNotFound) }

// Connectors implements rest.Herder.
func (h *Herder) Connectors(ctx context.Context) ([]string, error) {
	h.readSync(ctx, false)
	return slices.Sorted(maps.Keys(h.configs.snapshot().Connectors)), nil
}

// ConnectorConfig implements rest.Herder.
func (h *Herder) ConnectorConfig(ctx context.Context, name string) (map[string]string, error) {
	h.readSync(ctx, false)
	cfg, ok := h.configs.snapshot().Connectors[name]
	if !ok {
		return nil, notFound(name)
	}
	return cfg, nil
}

// TaskConfigs implements rest.Herder.
func (h *Herder) TaskConfigs(ctx context.Context, name string) ([]map[string]string, error) {
	h.readSync(ctx, false)
	snap := h.configs.snapshot()
	if _, ok := snap.Connectors[name]; !ok {
		return nil, notFound(name)
	}
	if snap.Target(name) == configstore.TargetStopped {
		return []map[string]string{}, nil
	}
	return snap.Tasks[name], nil
}

// ConnectorStatus implements rest.Herder: the latest records of the status
// topic (UNASSIGNED where none was written yet).
func (h *Herder) ConnectorStatus(ctx context.Context, name string) (rest.ConnectorStatus, error) {
	h.readSync(ctx, true)
	snap := h.configs.snapshot()
	cfg, ok := snap.Connectors[name]
	if !ok {
		return rest.ConnectorStatus{}, notFound(name)
	}
	st := rest.ConnectorStatus{Name: name, Tasks: []rest.TaskState{}}
	if p, err := h.host.Plugin(cfg); err == nil {
		st.Type = string(p.Type())
	}
	st.Connector = rest.StateInfo{State: stateUnassigned}
	if v, ok := h.statuses.get(connectorStatusKey(name)); ok {
		st.Connector = rest.StateInfo{State: v.State, Trace: v.trace(), WorkerID: v.WorkerID}
	}
	if snap.Target(name) != configstore.TargetStopped {
		for i := range snap.Tasks[name] {
			ts := rest.TaskState{ID: i, State: stateUnassigned}
			if v, ok := h.statuses.get(taskStatusKey(name, i)); ok {
				ts = rest.TaskState{ID: i, State: v.State, Trace: v.trace(), WorkerID: v.WorkerID}
			}
			st.Tasks = append(st.Tasks, ts)
		}
	}
	return st, nil
}

// requireLeader fails unless this worker leads the group.
func (h *Herder) requireLeader() error {
	if lead, _ := h.Leader(); !lead {
		return errNotLeader
	}
	return nil
}

// existing returns a connector's config on the leader, after reading the
// config topic to its end.
func (h *Herder) existing(ctx context.Context, name string) (map[string]string, snapshot, error) {
	if err := h.requireLeader(); err != nil {
		return nil, snapshot{}, err
	}
	if err := h.configs.readToEnd(ctx); err != nil {
		return nil, snapshot{}, err
	}
	snap := h.configs.snapshot()
	return snap.Connectors[name], snap, nil
}

// PutConnectorConfig implements rest.Herder (leader only).
func (h *Herder) PutConnectorConfig(ctx context.Context, name string, cfg map[string]string, initial string, allowReplace bool) (bool, error) {
	old, snap, err := h.existing(ctx, name)
	if err != nil {
		return false, err
	}
	cfg = maps.Clone(cfg)
	cfg[runtime.KeyName] = name
	if _, errs, err := h.w.Validate(ctx, cfg); err != nil {
		return false, config.Errors{{Key: runtime.KeyConnectorClass, Message: err.Error()}}
	} else if len(errs) > 0 {
		return false, errs
	}
	exists := old != nil
	if exists && !allowReplace {
		return false, fmt.Errorf("connector %s: %w", name, rest.ErrExists)
	}
	if exists && maps.Equal(old, cfg) {
		return false, nil
	}
	target := ""
	if !exists {
		if initial == "" {
			initial = rest.StateRunning
		}
		if initial != rest.StateRunning || snap.Targets[name] != "" {
			target = initial // also clears a stale target state
		}
	}
	if err := h.configs.putConnector(ctx, name, cfg, target); err != nil {
		return false, err
	}
	h.log.Info("connector config written", "connector", name, "created", !exists)
	return !exists, nil
}

// DeleteConnector implements rest.Herder (leader only). Its owners stop its
// instances and remove their statuses; committed offsets are kept.
func (h *Herder) DeleteConnector(ctx context.Context, name string) error {
	old, _, err := h.existing(ctx, name)
	if err != nil {
		return err
	}
	if old == nil {
		return notFound(name)
	}
	return h.configs.deleteConnector(ctx, name)
}

func (h *Herder) setTarget(ctx context.Context, name, target string) error {
	old, snap, err := h.existing(ctx, name)
	if err != nil {
		return err
	}
	if old == nil {
		return notFound(name)
	}
	if snap.Target(name) == target {
		return nil
	}
	if err := h.configs.putTarget(ctx, name, target); err != nil {
		return err
	}
	if target == configstore.TargetStopped && len(snap.Tasks[name]) > 0 {
		// Connect removes the task configs of a stopped connector.
		return h.configs.putTasks(ctx, name, nil)
	}
	return nil
}

// PauseConnector implements rest.Herder (leader only).
func (h *Herder) PauseConnector(ctx context.Context, name string) error {
	return h.setTarget(ctx, name, configstore.TargetPaused)
}

// ResumeConnector implements rest.Herder (leader only).
func (h *Herder) ResumeConnector(ctx context.Context, name string) error {
	return h.setTarget(ctx, name, configstore.TargetRunning)
}

// StopConnector implements rest.Herder (leader only). It returns once the
// connector reports STOPPED (or after 10 s), so an offsets request may
// follow at once.
func (h *Herder) StopConnector(ctx context.Context, name string) error {
	if err := h.setTarget(ctx, name, configstore.TargetStopped); err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for wctx.Err() == nil {
		if v, ok := h.statuses.get(connectorStatusKey(name)); ok && v.State == stateStopped {
			return nil
		}
		_ = sleepCtx(wctx, 100*time.Millisecond)
	}
	return nil
}

// RestartConnector implements rest.Herder (leader only): a restart request
// in the config topic, acted on by the workers running the instances.
func (h *Herder) RestartConnector(ctx context.Context, name string, includeTasks, onlyFailed bool) error {
	old, _, err := h.existing(ctx, name)
	if err != nil {
		return err
	}
	if old == nil {
		return notFound(name)
	}
	return h.configs.putRestart(ctx, restartRequest{Connector: name, IncludeTasks: includeTasks, OnlyFailed: onlyFailed})
}

// RestartTask implements rest.Herder: the task's owner restarts it; the
// leader forwards the request to the owner.
func (h *Herder) RestartTask(ctx context.Context, name string, task int) error {
	h.readSync(ctx, false)
	snap := h.configs.snapshot()
	if _, ok := snap.Connectors[name]; !ok {
		return notFound(name)
	}
	if task < 0 || task >= len(snap.Tasks[name]) {
		return fmt.Errorf("connector %s task %d: %w", name, task, rest.ErrTaskNotFound)
	}
	k := runtime.TaskKey{Connector: name, Task: task}
	h.opMu.Lock()
	mine := workSet(h.current)[item{name, task}]
	if mine {
		h.restartTaskLocked(ctx, k)
	}
	h.opMu.Unlock()
	if mine || local(ctx) {
		if !mine {
			return errNotLeader
		}
		return nil
	}
	if err := h.requireLeader(); err != nil {
		return err
	}
	h.mu.Lock()
	owner := h.owners[item{name, task}]
	h.mu.Unlock()
	if owner == "" || owner == h.url {
		return errNotLeader
	}
	path := fmt.Sprintf("connectors/%s/tasks/%d/restart", url.PathEscape(name), task)
	code, body, err := h.call(ctx, http.MethodPost, owner, path, url.Values{"forward": {"false"}}, nil)
	if err != nil {
		return fmt.Errorf("%w: forward task restart to %s: %v", rest.ErrConflict, owner, err)
	}
	if code >= 300 {
		return &rest.Error{Code: code, Message: errorMessage(body)}
	}
	return nil
}

// Offsets implements rest.Herder: source offsets from the offset topic,
// sink offsets from the connector's consumer group.
func (h *Herder) Offsets(ctx context.Context, name string) ([]rest.Offset, error) {
	h.readSync(ctx, false)
	cfg, ok := h.configs.snapshot().Connectors[name]
	if !ok {
		return nil, notFound(name)
	}
	p, err := h.host.Plugin(cfg)
	if err != nil {
		return nil, err
	}
	out := []rest.Offset{}
	if p.Type() == connector.Source {
		if err := h.offsets.sync(ctx); err != nil {
			return nil, err
		}
		es, err := h.offsets.List(ctx, name)
		if err != nil {
			return nil, err
		}
		for _, e := range es {
			out = append(out, rest.Offset{Partition: e.Partition, Offset: e.Offset})
		}
		return out, nil
	}
	offs, err := kafka.GroupOffsets(ctx, h.admin, sinkGroup(name, cfg))
	if errors.Is(err, kerr.GroupIDNotFound) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	for _, t := range slices.Sorted(maps.Keys(offs)) {
		for _, p := range slices.Sorted(maps.Keys(offs[t])) {
			out = append(out, rest.Offset{
				Partition: map[string]any{"kafka_topic": t, "kafka_partition": int64(p)},
				Offset:    map[string]any{"kafka_offset": offs[t][p]},
			})
		}
	}
	return out, nil
}

func sinkGroup(name string, cfg map[string]string) string {
	if g := strings.TrimSpace(cfg[runtime.KeyConsumerGroupOverride]); g != "" {
		return g
	}
	return "connect-" + name
}

// stoppedConnector returns a STOPPED connector's config and plugin (leader).
func (h *Herder) stoppedConnector(ctx context.Context, name string) (map[string]string, connector.Plugin, error) {
	cfg, snap, err := h.existing(ctx, name)
	if err != nil {
		return nil, nil, err
	}
	if cfg == nil {
		return nil, nil, notFound(name)
	}
	if snap.Target(name) != configstore.TargetStopped {
		return nil, nil, fmt.Errorf("connector %s: %w", name, rest.ErrNotStopped)
	}
	p, err := h.host.Plugin(cfg)
	return cfg, p, err
}

// AlterOffsets implements rest.Herder (leader only, STOPPED connectors).
func (h *Herder) AlterOffsets(ctx context.Context, name string, offs []rest.Offset) error {
	cfg, p, err := h.stoppedConnector(ctx, name)
	if err != nil {
		return err
	}
	if p.Type() == connector.Source {
		es := make([]offsets.Entry, len(offs))
		for i, o := range offs {
			es[i] = offsets.Entry{Partition: o.Partition, Offset: o.Offset}
		}
		return h.offsets.Put(ctx, name, es)
	}
	adm := kadm.NewClient(h.admin)
	group := sinkGroup(name, cfg)
	commit := kadm.Offsets{}
	del := kadm.TopicsSet{}
	for _, o := range offs {
		topic, _ := o.Partition["kafka_topic"].(string)
		part, _ := o.Partition["kafka_partition"].(int64)
		if o.Offset == nil {
			del.Add(topic, int32(part))
			continue
		}
		off, _ := o.Offset["kafka_offset"].(int64)
		commit.AddOffset(topic, int32(part), off, -1)
	}
	if len(commit) > 0 {
		resp, err := adm.CommitOffsets(ctx, group, commit)
		if err == nil {
			err = resp.Error()
		}
		if err != nil {
			return fmt.Errorf("alter offsets of group %s: %w", group, err)
		}
	}
	if len(del) > 0 {
		resp, err := adm.DeleteOffsets(ctx, group, del)
		if err == nil {
			err = resp.Error()
		}
		if err != nil {
			return fmt.Errorf("delete offsets of group %s: %w", group, err)
		}
	}
	return nil
}

// ResetOffsets implements rest.Herder (leader only, STOPPED connectors).
func (h *Herder) ResetOffsets(ctx context.Context, name string) error {
	cfg, p, err := h.stoppedConnector(ctx, name)
	if err != nil {
		return err
	}
	if p.Type() == connector.Source {
		return h.offsets.Delete(ctx, name)
	}
	group := sinkGroup(name, cfg)
	resp, err := kadm.NewClient(h.admin).DeleteGroup(ctx, group)
	if err == nil && resp.Err != nil && !errors.Is(resp.Err, kerr.GroupIDNotFound) {
		err = resp.Err
	}
	if err != nil {
		return fmt.Errorf("reset offsets of group %s: %w", group, err)
	}
	return nil
}

// ConfigDef implements rest.Herder.
func (h *Herder) ConfigDef(ctx context.Context, class string) (*config.Def, string, error) {
	return h.local.ConfigDef(ctx, class)
}

// Validate implements rest.Herder.
func (h *Herder) Validate(ctx context.Context, cfg map[string]string) (config.Errors, error) {
	return h.local.Validate(ctx, cfg)
}

// putTaskConfigs stores task configs a connector instance computed
// (leader only; Connect's internal POST /connectors/{name}/tasks).
func (h *Herder) putTaskConfigs(ctx context.Context, name string, tcs []map[string]string) error {
	old, snap, err := h.existing(ctx, name)
	if err != nil {
		return err
	}
	if old == nil {
		return notFound(name)
	}
	if sameTaskConfigs(tcs, snap.Tasks[name]) {
		return nil
	}
	if err := h.configs.putTasks(ctx, name, tcs); err != nil {
		return err
	}
	h.log.Info("task configs written", "connector", name, "tasks", len(tcs))
	return nil
}

// submitTaskConfigs hands task configs to the leader.
func (h *Herder) submitTaskConfigs(ctx context.Context, name string, _ map[string]string, tcs []map[string]string) error {
	if tcs == nil {
		tcs = []map[string]string{}
	}
	lead, leaderURL := h.Leader()
	if lead {
		return h.putTaskConfigs(ctx, name, tcs)
	}
	if leaderURL == "" {
		return errors.New("no leader known (rebalance in progress)")
	}
	body, err := json.Marshal(tcs)
	if err != nil {
		return err
	}
	code, resp, err := h.call(h.signed(ctx, body), http.MethodPost, leaderURL, "connectors/"+url.PathEscape(name)+"/tasks", url.Values{"forward": {"true"}}, body)
	if err != nil {
		return err
	}
	if code >= 300 {
		return fmt.Errorf("leader %s answered %d: %s", leaderURL, code, errorMessage(resp))
	}
	return nil
}

// call sends a request to another worker.
func (h *Herder) call(ctx context.Context, method, base, path string, q url.Values, body []byte) (int, []byte, error) {
	u := strings.TrimSuffix(base, "/") + "/" + strings.TrimPrefix(path, "/")
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if a, _ := ctx.Value(keyAuthorization).(string); a != "" {
		req.Header.Set("Authorization", a)
	}
	setSignature(ctx, req)
	resp, err := h.httpc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	return resp.StatusCode, b, err
}

func errorMessage(body []byte) string {
	var m rest.ErrorMessage
	if json.Unmarshal(body, &m) == nil && m.Message != "" {
		return m.Message
	}
	return strings.TrimSpace(string(body))
}

// ---- forwarding ----

// Handler serves the REST API api (rest.New(h.RESTOptions())) with
// Connect's forwarding: a request that changes state is executed by the
// leader; any other worker forwards it there (forward=true) and relays the
// answer. The leader forwards task restarts to the task's owner
// (forward=false). It also serves Connect's internal POST
// /connectors/{name}/tasks, by which connector instances hand their task
// configs to the leader.
func (h *Herder) Handler(api http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fwd := r.URL.Query().Get("forward")
		if a := r.Header.Get("Authorization"); a != "" {
			r = r.WithContext(context.WithValue(r.Context(), keyAuthorization, a))
		}
		if fwd == "false" {
			r = r.WithContext(context.WithValue(r.Context(), keyLocal, true))
		}
		var ok bool
		if r, ok = h.verifyInternal(w, r); !ok {
			return
		}
		if r.Method == http.MethodPost && isTasksPath(r.URL.Path) {
			h.serveTaskConfigs(w, r, fwd)
			return
		}
		if !changesState(r) || fwd == "false" {
			api.ServeHTTP(w, r)
			return
		}
		lead, leaderURL := h.waitLeader(r.Context())
		if lead || fwd == "true" {
			api.ServeHTTP(w, r) // a non-leader answers 409
			return
		}
		if leaderURL == "" {
			writeError(w, http.StatusConflict, "Cannot complete request because of a conflicting operation (e.g. worker rebalance)")
			return
		}
		h.proxy(w, r, leaderURL)
	})
}

// changesState reports whether a request must run on the leader.
func changesState(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	p := strings.TrimSuffix(r.URL.Path, "/")
	return p == "/connectors" || strings.HasPrefix(p, "/connectors/")
}

// isTasksPath matches /connectors/{name}/tasks.
func isTasksPath(p string) bool {
	rest, ok := strings.CutPrefix(p, "/connectors/")
	if !ok {
		return false
	}
	name, tail, ok := strings.Cut(rest, "/")
	return ok && name != "" && strings.TrimSuffix(tail, "/") == "tasks"
}

// waitLeader waits (up to 10 s) while no leader is known.
func (h *Herder) waitLeader(ctx context.Context) (bool, string) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		h.mu.Lock()
		lead, u, ch := h.isLeader, h.leaderURL, h.leaderCh
		h.mu.Unlock()
		if lead || u != "" || time.Now().After(deadline) {
			return lead, u
		}
		select {
		case <-ch:
		case <-time.After(time.Until(deadline)):
		case <-ctx.Done():
			return false, ""
		}
	}
}

func (h *Herder) proxy(w http.ResponseWriter, r *http.Request, leaderURL string) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	if err != nil {
		writeError(w, http.StatusBadRequest, "reading request body: "+err.Error())
		return
	}
	q := r.URL.Query()
	q.Set("forward", "true")
	u := strings.TrimSuffix(leaderURL, "/") + r.URL.EscapedPath() + "?" + q.Encode()
	req, err := http.NewRequestWithContext(r.Context(), r.Method, u, bytes.NewReader(body))
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	for _, k := range []string{"Content-Type", "Authorization", HeaderSignature, HeaderSignatureAlgorithm} {
		if v := r.Header.Get(k); v != "" {
			req.Header.Set(k, v)
		}
	}
	resp, err := h.httpc.Do(req)
	if err != nil {
		h.log.Warn("forwarding to the leader failed", "leader", leaderURL, "method", r.Method, "path", r.URL.Path, "err", err)
		writeError(w, http.StatusConflict, "Cannot complete request because of a conflicting operation (e.g. worker rebalance): the leader "+leaderURL+" is not reachable")
		return
	}
	defer resp.Body.Close()
	for _, k := range []string{"Content-Type", "Location"} {
		if v := resp.Header.Get(k); v != "" {
			w.Header().Set(k, v)
		}
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}

func (h *Herder) serveTaskConfigs(w http.ResponseWriter, r *http.Request, fwd string) {
	raw := strings.TrimPrefix(r.URL.EscapedPath(), "/connectors/")
	raw = strings.TrimSuffix(strings.TrimSuffix(raw, "/"), "/tasks")
	name, err := url.PathUnescape(raw)
	if err != nil {
		writeError(w, http.StatusBadRequest, "connector name: "+err.Error())
		return
	}
	lead, leaderURL := h.Leader()
	if !lead {
		if fwd == "" && leaderURL != "" {
			h.proxy(w, r, leaderURL)
			return
		}
		writeError(w, http.StatusConflict, "Cannot complete request because of a conflicting operation (e.g. worker rebalance)")
		return
	}
	var tcs []map[string]string
	if err := json.NewDecoder(io.LimitReader(r.Body, 16<<20)).Decode(&tcs); err != nil {
		writeError(w, http.StatusBadRequest, "task configs: "+err.Error())
		return
	}
	if err := h.putTaskConfigs(r.Context(), name, tcs); err != nil {
		code := http.StatusInternalServerError
		switch {
		case errors.Is(err, rest.ErrNotFound):
			code = http.StatusNotFound
		case errors.Is(err, rest.ErrConflict):
			code = http.StatusConflict
		}
		writeError(w, code, err.Error())
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	b, _ := json.Marshal(rest.ErrorMessage{ErrorCode: code, Message: msg})
	_, _ = w.Write(b)
}
