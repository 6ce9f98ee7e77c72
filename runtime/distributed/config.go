package distributed

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/tributary-cdc/tributary/connector/config"
	"github.com/tributary-cdc/tributary/runtime"
)

// Distributed worker keys (connect-distributed.properties).
const (
	KeyGroupID             = "group.id"
	KeyConfigTopic         = "config.storage.topic"
	KeyConfigReplication   = "config.storage.replication.factor"
	KeyOffsetTopic         = "offset.storage.topic"
	KeyOffsetReplication   = "offset.storage.replication.factor"
	KeyOffsetPartitions    = "offset.storage.partitions"
	KeyStatusTopic         = "status.storage.topic"
	KeyStatusReplication   = "status.storage.replication.factor"
	KeyStatusPartitions    = "status.storage.partitions"
	KeySessionTimeout      = "session.timeout.ms"
	KeyHeartbeatInterval   = "heartbeat.interval.ms"
	KeyRebalanceTimeout    = "rebalance.timeout.ms"
	KeyScheduledDelay      = "scheduled.rebalance.max.delay.ms"
	KeyConnectProtocol     = "connect.protocol"
	KeyAdvertisedListener  = "rest.advertised.listener"
	KeyWorkerSyncTimeout   = "worker.sync.timeout.ms"
	KeyExactlyOnceSource   = "exactly.once.source.support"
	defaultOffsetPartition = 25
	defaultStatusPartition = 5
)

// Def declares the keys distributed mode adds to the worker's (runtime.WorkerDef),
// with Connect's defaults.
func Def() *config.Def {
	rf := func(name, doc string) config.Key {
		return config.Key{Name: name, Type: config.Int, Default: 3, Importance: config.Low, Doc: doc,
			Validator: func(v any) error {
				if n := v.(int); n < 1 && n != -1 {
					return errors.New("Value must be at least 1, or -1 for the broker's default")
				}
				return nil
			}}
	}
	return defineSigning(config.NewDef().
		Define(config.Key{Name: KeyGroupID, Type: config.String, Default: config.NoDefault, Importance: config.High, Validator: config.NonEmpty,
			Doc: "A unique string that identifies the Connect cluster group this worker belongs to."}).
		Define(config.Key{Name: KeyConfigTopic, Type: config.String, Default: config.NoDefault, Importance: config.High, Validator: config.NonEmpty,
			Doc: "The name of the Kafka topic where connector configurations are stored (one partition, compacted)."}).
		Define(rf(KeyConfigReplication, "Replication factor used when creating the configuration storage topic; -1 for the broker's default.")).
		Define(config.Key{Name: KeyOffsetTopic, Type: config.String, Default: config.NoDefault, Importance: config.High, Validator: config.NonEmpty,
			Doc: "The name of the Kafka topic where source connector offsets are stored (compacted)."}).
		Define(rf(KeyOffsetReplication, "Replication factor used when creating the offset storage topic; -1 for the broker's default.")).
		Define(config.Key{Name: KeyOffsetPartitions, Type: config.Int, Default: defaultOffsetPartition, Importance: config.Low, Validator: config.AtLeast(1),
			Doc: "The number of partitions used when creating the offset storage topic."}).
		Define(config.Key{Name: KeyStatusTopic, Type: config.String, Default: config.NoDefault, Importance: config.High, Validator: config.NonEmpty,
			Doc: "The name of the Kafka topic where connector and task status are stored (compacted)."}).
		Define(rf(KeyStatusReplication, "Replication factor used when creating the status storage topic; -1 for the broker's default.")).
		Define(config.Key{Name: KeyStatusPartitions, Type: config.Int, Default: defaultStatusPartition, Importance: config.Low, Validator: config.AtLeast(1),
			Doc: "The number of partitions used when creating the status storage topic."}).
		Define(config.Key{Name: KeySessionTimeout, Type: config.Int, Default: 10000, Importance: config.High, Validator: config.AtLeast(1),
			Doc: "The timeout used to detect worker failures: a worker that sends no heartbeat for this long leaves the group, and stops its own work."}).
		Define(config.Key{Name: KeyHeartbeatInterval, Type: config.Int, Default: 3000, Importance: config.High, Validator: config.AtLeast(1),
			Doc: "The expected time between heartbeats to the group coordinator; below a third of session.timeout.ms."}).
		Define(config.Key{Name: KeyRebalanceTimeout, Type: config.Int, Default: 60000, Importance: config.High, Validator: config.AtLeast(1),
			Doc: "The maximum time each worker is allowed to take to rejoin the group once a rebalance has begun."}).
		Define(config.Key{Name: KeyScheduledDelay, Type: config.Int, Default: 300000, Importance: config.Medium, Validator: config.AtLeast(0),
			Doc: "How long the work of a departed worker is held for it before it is given to the other workers."}).
		Define(config.Key{Name: KeyConnectProtocol, Type: config.String, Default: "sessioned", Importance: config.Low,
			Validator: config.OneOf("eager", "compatible", "sessioned"),
			Doc:       "Workers speak Connect's incremental cooperative protocol (compatible); sessioned (the default) also signs the internal worker-to-worker requests (inter.worker.*), eager and compatible do not."}).
		Define(config.Key{Name: KeyAdvertisedListener, Type: config.String, Default: "http", Importance: config.Low,
			Validator: config.OneOf("http", "HTTP", "https", "HTTPS"), Doc: "The protocol other workers use to reach this one (http or https; default: http when an http listener exists, else https)."}).
		Define(config.Key{Name: KeyWorkerSyncTimeout, Type: config.Int, Default: 3000, Importance: config.Medium, Validator: config.AtLeast(1),
			Doc: "How long a worker waits to read the config topic to the leader's offset before it gives up its work and rejoins."}).
		Define(config.Key{Name: KeyExactlyOnceSource, Type: config.String, Default: "disabled", Importance: config.High,
			Validator: config.OneOf("disabled", "preparing", "enabled"),
			Doc: "enabled: each source task writes its records and their source offsets in one Kafka transaction of its own transactional ID " +
				"(KIP-618), so a fenced old owner cannot add a record. preparing (Connect's upgrade step) and disabled: records are at-least-once; " +
				"source offsets are written in per-task transactions either way (see the package doc)."}))
}

// Config is a parsed distributed worker config.
type Config struct {
	Worker *runtime.WorkerConfig

	GroupID          string
	ConfigTopic      string
	OffsetTopic      string
	StatusTopic      string
	ConfigRF         int16
	OffsetRF         int16
	StatusRF         int16
	OffsetPartitions int32
	StatusPartitions int32

	SessionTimeout    time.Duration
	HeartbeatInterval time.Duration
	RebalanceTimeout  time.Duration
	ScheduledDelay    time.Duration
	SyncTimeout       time.Duration

	// Warnings are settings that work but weaken a guarantee; the worker
	// logs them at start.
	Warnings []string

	// Signing is the inter.worker.* keys (sessionkey.go).
	Signing signingConfig
}

// ParseConfig parses a distributed worker's properties: the worker keys
// standalone mode reads plus those of Def. Every bad key is reported.
func ParseConfig(raw map[string]string) (*Config, error) {
	var errs config.Errors
	wc, err := runtime.ParseWorkerConfig(raw)
	if err != nil {
		var ce config.Errors
		if !errors.As(err, &ce) {
			return nil, err
		}
		errs = append(errs, ce...)
	}
	v, err := Def().Parse(raw)
	if err != nil {
		var ce config.Errors
		if !errors.As(err, &ce) {
			return nil, err
		}
		errs = append(errs, ce...)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	c := &Config{
		Worker:            wc,
		GroupID:           strings.TrimSpace(v.String(KeyGroupID)),
		ConfigTopic:       strings.TrimSpace(v.String(KeyConfigTopic)),
		OffsetTopic:       strings.TrimSpace(v.String(KeyOffsetTopic)),
		StatusTopic:       strings.TrimSpace(v.String(KeyStatusTopic)),
		ConfigRF:          int16(v.Int(KeyConfigReplication)),
		OffsetRF:          int16(v.Int(KeyOffsetReplication)),
		StatusRF:          int16(v.Int(KeyStatusReplication)),
		OffsetPartitions:  int32(v.Int(KeyOffsetPartitions)),
		StatusPartitions:  int32(v.Int(KeyStatusPartitions)),
		SessionTimeout:    ms(v.Int(KeySessionTimeout)),
		HeartbeatInterval: ms(v.Int(KeyHeartbeatInterval)),
		RebalanceTimeout:  ms(v.Int(KeyRebalanceTimeout)),
		ScheduledDelay:    ms(v.Int(KeyScheduledDelay)),
		SyncTimeout:       ms(v.Int(KeyWorkerSyncTimeout)),
	}
	sc, serrs := parseSigning(v, v.String(KeyConnectProtocol))
	c.Signing = sc
	errs = append(errs, serrs...)
	if c.HeartbeatInterval >= c.SessionTimeout {
		errs = append(errs, config.KeyError{Key: KeyHeartbeatInterval, Message: fmt.Sprintf(
			"heartbeat.interval.ms (%d) must be lower than session.timeout.ms (%d)", c.HeartbeatInterval.Milliseconds(), c.SessionTimeout.Milliseconds())})
	}
	// The lease (see the package doc) is tightest when a worker cut off
	// from the group coordinator has finished stopping its tasks before the
	// others may start them: it begins stopping when the coordinator may
	// drop it, and the others start its work no earlier than the delay
	// after that. Kafka Connect accepts any delay, and its configs (the
	// common scheduled.rebalance.max.delay.ms=3000 with the default stop
	// timeouts) must start unchanged, so a shorter delay is a warning: the
	// tasks' lease check still keeps a cut-off worker from writing.
	if stop := wc.ShutdownTimeout + wc.OffsetFlushTimeout; c.ScheduledDelay < stop {
		c.Warnings = append(c.Warnings, fmt.Sprintf(
			"scheduled.rebalance.max.delay.ms (%d) is below task.shutdown.graceful.timeout.ms + offset.flush.timeout.ms (%d + %d): "+
				"a worker cut off from the group coordinator may still be stopping its tasks when the others start them "+
				"(its tasks write nothing once its lease ended, but a slow stop can overlap); raise the delay or lower the stop timeouts",
			c.ScheduledDelay.Milliseconds(), wc.ShutdownTimeout.Milliseconds(), wc.OffsetFlushTimeout.Milliseconds()))
	}
	topics := map[string]string{}
	for _, k := range []string{KeyConfigTopic, KeyOffsetTopic, KeyStatusTopic} {
		t := strings.TrimSpace(v.String(k))
		if other, dup := topics[t]; dup {
			errs = append(errs, config.KeyError{Key: k, Message: fmt.Sprintf("%s and %s must name different topics (both are %q)", other, k, t)})
		}
		topics[t] = k
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return c, nil
}

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

// Lease is how long a worker keeps its work while the group coordinator
// answers nothing. The coordinator drops a silent worker no earlier than
// session.timeout.ms after its last heartbeat, and the leader then holds its
// work for scheduled.rebalance.max.delay.ms before giving it to another
// worker; stopping takes up to task.shutdown.graceful.timeout.ms +
// offset.flush.timeout.ms. So the worker may wait session.timeout.ms plus
// the part of the delay its stop does not need before it stops, and still
// has stopped when another may start: with Connect's default delay (5 min)
// a group coordinator that moves to another broker (a broker crash: the
// controller fences it after broker.session.timeout.ms) no longer stops
// every task of the group, as it does not in Connect (KAFKA-9184). A delay
// shorter than the stop time leaves session.timeout.ms.
func (c *Config) Lease() time.Duration {
	stop := c.Worker.ShutdownTimeout + c.Worker.OffsetFlushTimeout
	return c.SessionTimeout + max(0, c.ScheduledDelay-stop)
}

// advertised returns the URL other workers reach this one at and its
// worker ID (host:port, as in statuses), from rest.advertised.host.name /
// rest.advertised.port, else the listener's address, else the host name.
func (c *Config) advertised(listen net.Addr, scheme string) (url, workerID string) {
	if scheme == "" {
		scheme = "http"
	}
	raw := c.Worker.Raw
	host := strings.TrimSpace(raw[runtime.KeyRestAdvertisedHost])
	port := strings.TrimSpace(raw[runtime.KeyRestAdvertisedPort])
	lhost, lport := "", ""
	if listen != nil {
		lhost, lport, _ = net.SplitHostPort(listen.String())
	}
	if host == "" {
		host = strings.TrimSpace(raw[runtime.KeyRestHost])
	}
	if host == "" && lhost != "" {
		if ip := net.ParseIP(lhost); ip == nil || !ip.IsUnspecified() {
			host = lhost
		}
	}
	if host == "" {
		if h, err := os.Hostname(); err == nil {
			host = h
		} else {
			host = "localhost"
		}
	}
	if port == "" || port == "0" {
		port = lport
	}
	if port == "" {
		port = strconv.Itoa(c.Worker.RestPort)
	}
	id := net.JoinHostPort(host, port)
	return scheme + "://" + id + "/", id
}
