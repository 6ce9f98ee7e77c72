package topics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-cdc/tributary/connector/config"
)

// Connector config keys (Connect's SourceConnectorConfig / TopicCreationConfig).
const (
	Prefix                   = "topic.creation."
	KeyGroups                = "topic.creation.groups"
	KeyDefaultReplication    = "topic.creation.default.replication.factor"
	KeyDefaultPartitions     = "topic.creation.default.partitions"
	WorkerKeyEnable          = "topic.creation.enable"
	DefaultGroup             = "default"
	suffixInclude            = "include"
	suffixExclude            = "exclude"
	suffixReplication        = "replication.factor"
	suffixPartitions         = "partitions"
	groupName                = "Topic Creation"
	replicationFactorMessage = "Replication factor must be positive and not larger than the number of brokers in the Kafka cluster, or -1 to use the broker's default"
	partitionsMessage        = "Number of partitions must be positive, or -1 to use the broker's default"
)

// Def declares the static topic creation keys of a source connector. Keys of
// the named groups and extra topic configs are passed through here and
// checked by Validate.
func Def() *config.Def {
	return config.NewDef().
		Define(config.Key{Name: KeyGroups, Type: config.List, Default: []string{}, Importance: config.Low, Group: groupName, OrderInGroup: 1,
			DisplayName: "Topic Creation Groups",
			Doc:         "Groups of configurations for topics created by source connectors, in order of precedence; \"default\" is always last."}).
		Define(config.Key{Name: KeyDefaultReplication, Type: config.Int, Default: nil, Importance: config.Low, Group: groupName, OrderInGroup: 2,
			DisplayName: "Replication Factor for Topics in default Group", Validator: validReplication,
			Doc: "Replication factor of new topics (-1: the broker's default). Required, with topic.creation.default.partitions, when topic creation is used."}).
		Define(config.Key{Name: KeyDefaultPartitions, Type: config.Int, Default: nil, Importance: config.Low, Group: groupName, OrderInGroup: 3,
			DisplayName: "Partition Count for Topics in default Group", Validator: validPartitions,
			Doc: "Partitions of new topics (-1: the broker's default). Required, with topic.creation.default.replication.factor, when topic creation is used."}).
		PassThrough(Prefix)
}

func validReplication(v any) error {
	n, _ := v.(int)
	if v == nil || n == -1 || (n >= 1 && n <= 32767) {
		return nil
	}
	return errors.New(replicationFactorMessage)
}

func validPartitions(v any) error {
	n, _ := v.(int)
	if v == nil || n == -1 || n >= 1 {
		return nil
	}
	return errors.New(partitionsMessage)
}

// Group is one topic.creation group.
type Group struct {
	Name              string
	Include           *regexp.Regexp // nil: matches nothing
	Exclude           *regexp.Regexp // nil: excludes nothing
	Partitions        int32          // -1: broker default
	ReplicationFactor int16          // -1: broker default
	Configs           map[string]string
}

// Matches reports whether topic belongs to g.
func (g *Group) Matches(topic string) bool {
	if g.Include == nil || !g.Include.MatchString(topic) {
		return false
	}
	return g.Exclude == nil || !g.Exclude.MatchString(topic)
}

// Settings is a connector's parsed topic creation settings.
type Settings struct {
	// Enabled is false when the worker disabled topic creation or the
	// connector sets no topic.creation.* key.
	Enabled bool
	// Groups in precedence order; the default group is last.
	Groups []Group
}

// Match returns the first group topic belongs to.
func (s *Settings) Match(topic string) (*Group, bool) {
	for i := range s.Groups {
		if s.Groups[i].Matches(topic) {
			return &s.Groups[i], true
		}
	}
	return nil, false
}

// Used reports whether a connector config asks for topic creation.
func Used(raw map[string]string) bool {
	for k := range raw {
		if strings.HasPrefix(k, Prefix) {
			return true
		}
	}
	return false
}

// Parse reads a connector's topic creation settings. workerEnabled is the
// worker's topic.creation.enable. Every problem is reported, each naming its
// key.
func Parse(raw map[string]string, workerEnabled bool) (Settings, error) {
	if !workerEnabled || !Used(raw) {
		return Settings{}, nil
	}
	var errs config.Errors
	intKey := func(key string, required bool, def int, valid func(any) error) int {
		s, ok := raw[key]
		if !ok {
			if required {
				errs = append(errs, config.KeyError{Key: key, Message: "Missing required configuration \"" + key + "\" which has no default value."})
			}
			return def
		}
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			errs = append(errs, config.KeyError{Key: key, Message: fmt.Sprintf("Invalid value %s for configuration %s: Not a number of type INT", s, key)})
			return def
		}
		if err := valid(n); err != nil {
			errs = append(errs, config.KeyError{Key: key, Message: fmt.Sprintf("Invalid value %s for configuration %s: %v", s, key, err)})
		}
		return n
	}
	regexKey := func(key string, required bool, def string) *regexp.Regexp {
		s, ok := raw[key]
		if !ok {
			if required {
				errs = append(errs, config.KeyError{Key: key, Message: "Missing required configuration \"" + key + "\" which has no default value."})
				return nil
			}
			s = def
		}
		var parts []string
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				if _, err := regexp.Compile(p); err != nil {
					errs = append(errs, config.KeyError{Key: key, Message: fmt.Sprintf("Invalid value %s for configuration %s: not a valid regular expression %q: %v", s, key, p, err)})
					return nil
				}
				parts = append(parts, "(?:"+p+")")
			}
		}
		if len(parts) == 0 {
			return nil
		}
		return regexp.MustCompile("^(?:" + strings.Join(parts, "|") + ")$")
	}
	defRF := intKey(KeyDefaultReplication, true, -1, validReplication)
	defParts := intKey(KeyDefaultPartitions, true, -1, validPartitions)

	var names []string
	for _, g := range strings.Split(raw[KeyGroups], ",") {
		if g = strings.TrimSpace(g); g != "" && g != DefaultGroup {
			names = append(names, g)
		}
	}
	s := Settings{Enabled: true}
	reserved := map[string]bool{suffixInclude: true, suffixExclude: true, suffixReplication: true, suffixPartitions: true}
	for _, name := range append(names, DefaultGroup) {
		p := Prefix + name + "."
		g := Group{Name: name, Configs: map[string]string{}}
		if name == DefaultGroup {
			g.Include = regexp.MustCompile(`^.*$`)
			g.ReplicationFactor, g.Partitions = int16(defRF), int32(defParts)
		} else {
			g.Include = regexKey(p+suffixInclude, true, "")
			g.Exclude = regexKey(p+suffixExclude, false, "")
			g.ReplicationFactor = int16(intKey(p+suffixReplication, false, defRF, validReplication))
			g.Partitions = int32(intKey(p+suffixPartitions, false, defParts, validPartitions))
		}
		for k, v := range raw {
			if rest, ok := strings.CutPrefix(k, p); ok && !reserved[rest] {
				g.Configs[rest] = v
			}
		}
		s.Groups = append(s.Groups, g)
	}
	if len(errs) > 0 {
		return Settings{}, errs
	}
	return s, nil
}

// Validate returns the problems of a connector's topic creation keys (for
// the REST validation endpoint).
func Validate(raw map[string]string) config.Errors {
	_, err := Parse(raw, true)
	var es config.Errors
	errors.As(err, &es)
	return es
}

// Creator creates missing topics for one connector.
type Creator struct {
	cl       *kgo.Client
	settings Settings
	log      *slog.Logger

	mu    sync.Mutex
	known map[string]bool
}

// NewCreator returns a Creator using cl (any client of the cluster; it is
// not closed). log may be nil.
func NewCreator(cl *kgo.Client, s Settings, log *slog.Logger) *Creator {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Creator{cl: cl, settings: s, log: log, known: map[string]bool{}}
}

// Ensure creates topic if topic creation is enabled, the topic matches a
// group and it does not exist yet. It returns quickly for topics it has seen.
func (c *Creator) Ensure(ctx context.Context, topic string) error {
	if c == nil || !c.settings.Enabled {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.known[topic] {
		return nil
	}
	g, ok := c.settings.Match(topic)
	if !ok {
		c.known[topic] = true
		return nil
	}
	configs := make(map[string]*string, len(g.Configs))
	for k, v := range g.Configs {
		configs[k] = &v
	}
	created, err := Create(ctx, c.cl, topic, g.Partitions, g.ReplicationFactor, configs, c.log)
	if err != nil {
		return fmt.Errorf("create topic %s (topic.creation group %s): %w", topic, g.Name, err)
	}
	if created {
		c.log.Info("created topic", "topic", topic, "group", g.Name, "partitions", g.Partitions, "replication.factor", g.ReplicationFactor)
	}
	c.known[topic] = true
	return nil
}

// Create creates topic unless it exists. The existence check is a direct
// metadata request that never auto-creates (whatever the client's
// AllowAutoTopicCreation) and bypasses kgo's metadata cache. A replication factor larger than
// the number of brokers is lowered to that number with a warning (so a
// default of 3 works against a single embedded broker). It reports whether it
// created the topic.
func Create(ctx context.Context, cl *kgo.Client, topic string, partitions int32, rf int16, configs map[string]*string, log *slog.Logger) (bool, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	exists, err := topicExists(ctx, cl, topic)
	if err != nil {
		return false, fmt.Errorf("describe topic %s: %w", topic, err)
	}
	if exists {
		return false, nil
	}
	adm := kadm.NewClient(cl)
	if rf > 0 {
		brokers, err := adm.ListBrokers(ctx)
		if err == nil && len(brokers) > 0 && int(rf) > len(brokers) {
			log.Warn("replication factor larger than the number of brokers; using the number of brokers",
				"topic", topic, "replication.factor", rf, "brokers", len(brokers))
			rf = int16(len(brokers))
		}
	}
	resp, err := adm.CreateTopic(ctx, partitions, rf, configs, topic)
	if err == nil {
		err = resp.Err
	}
	if errors.Is(err, kerr.TopicAlreadyExists) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, nil
}

func topicExists(ctx context.Context, cl *kgo.Client, topic string) (bool, error) {
	req := kmsg.NewPtrMetadataRequest()
	req.AllowAutoTopicCreation = false
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return false, err
	}
	for _, t := range resp.Topics {
		if t.Topic == nil || *t.Topic != topic {
			continue
		}
		switch err := kerr.ErrorForCode(t.ErrorCode); {
		case err == nil:
			return true, nil
		case errors.Is(err, kerr.UnknownTopicOrPartition):
			return false, nil
		default:
			return false, err
		}
	}
	return false, nil
}
