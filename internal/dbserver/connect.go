//go:build unix

package dbserver

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The reference versions integration/jvm/connect/pom.xml pins.
const (
	ConnectVersion  = "4.4.0"
	DebeziumVersion = "3.6.1.Final"
)

// ConnectLib is where FetchConnect put the reference's jars.
type ConnectLib struct {
	// Worker holds the Connect worker's classpath.
	Worker string
	// Plugins is the plugin.path: one directory per connector plugin
	// (debezium-connector-mysql, debezium-connector-postgres).
	Plugins string
}

// FetchConnect makes sure the jars of the pinned Maven project in pomDir
// (Kafka Connect's worker and Debezium's connector plugins, one module
// each) are in cacheDir/connect-<versions>-<hash of the poms>, running
// `mvn dependency:copy-dependencies` once under a file lock, as FetchKafka
// does.
func FetchConnect(ctx context.Context, pomDir, cacheDir string) (ConnectLib, error) {
	h := sha256.New()
	for _, p := range []string{"pom.xml", "worker/pom.xml", "debezium-mysql/pom.xml", "debezium-postgres/pom.xml"} {
		body, err := os.ReadFile(filepath.Join(pomDir, p))
		if err != nil {
			return ConnectLib{}, fmt.Errorf("read Connect pom: %w", err)
		}
		fmt.Fprintf(h, "%s\x00%d\x00", p, len(body))
		h.Write(body)
	}
	dir := filepath.Join(cacheDir, "connect-"+ConnectVersion+"-debezium-"+DebeziumVersion+"-"+hex.EncodeToString(h.Sum(nil)[:6]))
	lib := filepath.Join(dir, "lib")
	out := ConnectLib{Worker: filepath.Join(lib, "worker"), Plugins: filepath.Join(lib, "plugins")}
	done := filepath.Join(dir, "complete")
	if _, err := os.Stat(done); err == nil {
		return out, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return ConnectLib{}, fmt.Errorf("create Connect cache dir: %w", err)
	}
	lock, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return ConnectLib{}, fmt.Errorf("open Connect cache lock: %w", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return ConnectLib{}, fmt.Errorf("lock Connect cache: %w", err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if _, err := os.Stat(done); err == nil {
		return out, nil
	}
	mvn, err := findBinary("maven", []string{"mvn"})
	if err != nil {
		return ConnectLib{}, err
	}
	if _, err := findBinary("default-jdk-headless", []string{"java"}); err != nil {
		return ConnectLib{}, err
	}
	_ = os.RemoveAll(lib)
	cmd := exec.CommandContext(ctx, mvn, "-q", "-B", "-f", filepath.Join(pomDir, "pom.xml"),
		"dependency:copy-dependencies", "-Dconnect.lib="+lib)
	if b, err := cmd.CombinedOutput(); err != nil {
		return ConnectLib{}, fmt.Errorf("fetch Kafka Connect %s and Debezium %s with Maven (%s): %w\n%s", ConnectVersion, DebeziumVersion, pomDir, err, b)
	}
	if err := os.WriteFile(done, []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o644); err != nil {
		return ConnectLib{}, fmt.Errorf("mark Connect cache complete: %w", err)
	}
	return out, nil
}

// ConnectOptions configures StartConnect.
type ConnectOptions struct {
	// Lib is FetchConnect's result.
	Lib ConnectLib
	// Bootstrap is the Kafka cluster's bootstrap.servers.
	Bootstrap string
	// Dir is the parent of the worker's temp directory ("" = temp dir).
	Dir string
	// Settings are extra or overriding worker.properties entries.
	Settings map[string]string
}

// ConnectWorker is a running Kafka Connect standalone worker.
type ConnectWorker struct {
	// URL is the REST API's base URL (http://127.0.0.1:port).
	URL string
	// Dir is the worker's temp directory (worker.properties, offsets, logs).
	Dir string
	// LogFile is the worker's log (log4j2 and the JVM's own output).
	LogFile string

	cmd    *exec.Cmd
	exited chan struct{}
}

// StartConnect starts org.apache.kafka.connect.cli.ConnectStandalone with
// a worker.properties as Kafka's connect-standalone.properties has it
// (JsonConverter with schemas for keys and values, a file offset store) on
// a free REST port, with o.Lib's plugins on plugin.path, and waits until
// the REST API answers and lists the plugins. Close kills it and removes
// its directory.
func StartConnect(ctx context.Context, o ConnectOptions) (_ *ConnectWorker, err error) {
	if o.Lib.Worker == "" || o.Bootstrap == "" {
		return nil, errors.New("harness: ConnectOptions needs Lib (FetchConnect) and Bootstrap")
	}
	java, err := findBinary("default-jdk-headless", []string{"java"})
	if err != nil {
		return nil, err
	}
	dir, err := makeDir(Options{Dir: o.Dir}, "connect")
	if err != nil {
		return nil, err
	}
	w := &ConnectWorker{Dir: dir, LogFile: filepath.Join(dir, "connect.log")}
	defer func() {
		if err != nil {
			_ = w.Close()
		}
	}()
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	w.URL = fmt.Sprintf("http://127.0.0.1:%d", port)
	settings := map[string]string{
		"bootstrap.servers":              o.Bootstrap,
		"key.converter":                  "org.apache.kafka.connect.json.JsonConverter",
		"value.converter":                "org.apache.kafka.connect.json.JsonConverter",
		"key.converter.schemas.enable":   "true",
		"value.converter.schemas.enable": "true",
		"offset.storage.file.filename":   filepath.Join(dir, "connect.offsets"),
		"offset.flush.interval.ms":       "1000",
		"listeners":                      w.URL,
		"plugin.path":                    o.Lib.Plugins,
	}
	for k, v := range o.Settings {
		settings[k] = v
	}
	keys := make([]string, 0, len(settings))
	for k := range settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s\n", k, settings[k])
	}
	props := filepath.Join(dir, "worker.properties")
	if err := os.WriteFile(props, []byte(b.String()), 0o644); err != nil {
		return nil, fmt.Errorf("write Connect worker.properties: %w", err)
	}
	log4j := filepath.Join(dir, "log4j2.properties")
	if err := os.WriteFile(log4j, []byte(connectLog4j(w.LogFile)), 0o644); err != nil {
		return nil, fmt.Errorf("write Connect log4j2.properties: %w", err)
	}
	logf, err := os.OpenFile(w.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open Connect log: %w", err)
	}
	cmd := exec.Command(java,
		"-Xms64m", "-Xmx768m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto",
		"-Djava.awt.headless=true",
		"-Dlog4j2.configurationFile="+log4j,
		"-cp", filepath.Join(o.Lib.Worker, "*"),
		"org.apache.kafka.connect.cli.ConnectStandalone", props)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = childAttr(false, nil)
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start Connect worker: %w", err)
	}
	_ = os.WriteFile(filepath.Join(dir, "connect.pid"), []byte(strconv.Itoa(cmd.Process.Pid)), 0o644)
	w.cmd, w.exited = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(w.exited) }()
	if err := w.waitReady(ctx); err != nil {
		return nil, err
	}
	return w, nil
}

// waitReady polls GET /connector-plugins until it lists a connector (the
// REST server answers before plugin scanning has finished).
func (w *ConnectWorker) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	var last string
	for {
		select {
		case <-w.exited:
			return fmt.Errorf("Connect worker exited at start: %s", tail(w.LogFile, 4000))
		default:
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, w.URL+"/connector-plugins", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			var body [4096]byte
			n, _ := resp.Body.Read(body[:])
			resp.Body.Close()
			last = fmt.Sprintf("%d %s", resp.StatusCode, body[:n])
			if resp.StatusCode == http.StatusOK && strings.Contains(last, `"class"`) {
				return nil
			}
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("Connect worker REST API not ready (%s): %w; last log lines: %s", last, ctx.Err(), tail(w.LogFile, 4000))
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// Exited is closed when the worker process has ended.
func (w *ConnectWorker) Exited() <-chan struct{} { return w.exited }

// Close kills the worker and removes its directory.
func (w *ConnectWorker) Close() error {
	if w.cmd != nil {
		select {
		case <-w.exited:
		default:
			_ = w.cmd.Process.Kill()
			<-w.exited
		}
	}
	return removeDir(w.Dir, false)
}

// connectLog4j sends the worker's log to file, at INFO (WARN for the
// chattiest client loggers).
func connectLog4j(file string) string {
	return fmt.Sprintf(`status = error
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = %s
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%%d] %%p %%m (%%c)%%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
logger.clients.name = org.apache.kafka.clients
logger.clients.level = WARN
logger.reflections.name = org.reflections
logger.reflections.level = ERROR
`, file)
}
