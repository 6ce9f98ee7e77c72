package cdc

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/tributary-cdc/tributary/connector/config"
)

// Debezium's signal and incremental-snapshot keys, shared by the CDC sources.
const (
	KeySignalChannels          = "signal.enabled.channels"
	KeySignalDataCollection    = "signal.data.collection"
	KeySignalPollInterval      = "signal.poll.interval.ms"
	KeySignalKafkaTopic        = "signal.kafka.topic"
	KeySignalKafkaBootstrap    = "signal.kafka.bootstrap.servers"
	KeySignalKafkaGroupID      = "signal.kafka.groupId"
	KeySignalFile              = "signal.file"
	KeyIncrementalChunkSize    = "incremental.snapshot.chunk.size"
	KeyIncrementalWatermarking = "incremental.snapshot.watermarking.strategy"
)

// Signal channels.
const (
	ChannelSource = "source"
	ChannelKafka  = "kafka"
	ChannelFile   = "file"
)

// Signal types (Debezium's action names).
const (
	SignalExecuteSnapshot = "execute-snapshot"
	SignalStopSnapshot    = "stop-snapshot"
	SignalPauseSnapshot   = "pause-snapshot"
	SignalResumeSnapshot  = "resume-snapshot"
	SignalLog             = "log"
	SignalWindowOpen      = "snapshot-window-open"
	SignalWindowClose     = "snapshot-window-close"
)

// DefineSignalKeys adds the signal and incremental-snapshot keys to d.
func DefineSignalKeys(d *config.Def) {
	d.Define(config.Key{Name: KeySignalChannels, Type: config.List, Default: []string{ChannelSource}, Importance: config.Medium, Validator: validChannels,
		Doc: "Channels signals are read from: source (rows inserted into signal.data.collection, seen in the change stream), kafka (signal.kafka.topic, key = topic.prefix) and file (signal.file, one JSON signal a line)."})
	d.Define(config.Key{Name: KeySignalDataCollection, Type: config.String, Default: "", Importance: config.Medium,
		Doc: "The signal table (columns id, type, data; all strings): rows inserted into it are signals, and incremental snapshots write their window watermarks into it."})
	d.Define(config.Key{Name: KeySignalPollInterval, Type: config.Long, Default: int64(5000), Importance: config.Low, Validator: config.AtLeast(1),
		Doc: "Milliseconds between two reads of the file channel (the Kafka channel is a long poll)."})
	d.Define(config.Key{Name: KeySignalKafkaTopic, Type: config.String, Default: "", Importance: config.Medium,
		Doc: "Topic of the Kafka signal channel (partition 0 is read); empty means <topic.prefix>-signal."})
	d.Define(config.Key{Name: KeySignalKafkaBootstrap, Type: config.String, Default: "", Importance: config.Medium,
		Doc: "bootstrap.servers of the Kafka cluster holding signal.kafka.topic; required with the kafka channel."})
	d.Define(config.Key{Name: KeySignalKafkaGroupID, Type: config.String, Default: "kafka-signal", Importance: config.Low,
		Doc: "Consumer group under which the Kafka channel commits the signals it has read."})
	d.Define(config.Key{Name: KeySignalFile, Type: config.String, Default: "file-signals.txt", Importance: config.Low,
		Doc: "File of the file channel: read every signal.poll.interval.ms, then emptied."})
	d.Define(config.Key{Name: KeyIncrementalChunkSize, Type: config.Int, Default: 1024, Importance: config.Medium, Validator: config.AtLeast(1),
		Doc: "Rows an incremental snapshot reads per chunk (one watermark window)."})
	d.Define(config.Key{Name: KeyIncrementalWatermarking, Type: config.String, Default: "insert_insert", Importance: config.Low, Validator: config.OneOf("insert_insert", "insert_delete"),
		Doc: "How window watermarks are written to the signal table: insert_insert (an open and a close row per chunk; insert_delete is not supported)."})
}

func validChannels(v any) error {
	l, _ := v.([]string)
	for _, c := range l {
		switch strings.ToLower(strings.TrimSpace(c)) {
		case ChannelSource, ChannelKafka, ChannelFile:
		case "jmx", "in-process":
			return fmt.Errorf("signal channel %q is not supported (source, kafka, file)", c)
		default:
			return fmt.Errorf("unknown signal channel %q (source, kafka, file)", c)
		}
	}
	return nil
}

// SignalConfig is the parsed signal configuration of a task.
type SignalConfig struct {
	Channels       map[string]bool
	DataCollection string // "" when no signal table is configured
	PollInterval   time.Duration
	KafkaTopic     string
	KafkaBootstrap []string
	KafkaGroupID   string
	File           string
	ChunkSize      int
}

// ParseSignalConfig reads the keys DefineSignalKeys defined. parts is the
// number of dot-separated parts a signal table name has (2: db.table or
// schema.table).
func ParseSignalConfig(v *config.Values, prefix string, parts int) (*SignalConfig, config.Errors) {
	var errs config.Errors
	c := &SignalConfig{
		Channels:       map[string]bool{},
		DataCollection: strings.TrimSpace(v.String(KeySignalDataCollection)),
		PollInterval:   v.Duration(KeySignalPollInterval),
		KafkaTopic:     strings.TrimSpace(v.String(KeySignalKafkaTopic)),
		KafkaGroupID:   strings.TrimSpace(v.String(KeySignalKafkaGroupID)),
		File:           v.String(KeySignalFile),
		ChunkSize:      v.Int(KeyIncrementalChunkSize),
	}
	for _, ch := range v.List(KeySignalChannels) {
		if ch = strings.ToLower(strings.TrimSpace(ch)); ch != "" {
			c.Channels[ch] = true
		}
	}
	if c.KafkaTopic == "" {
		c.KafkaTopic = prefix + "-signal"
	}
	for _, s := range strings.Split(v.String(KeySignalKafkaBootstrap), ",") {
		if s = strings.TrimSpace(s); s != "" {
			c.KafkaBootstrap = append(c.KafkaBootstrap, s)
		}
	}
	if c.DataCollection != "" {
		p := strings.Split(c.DataCollection, ".")
		if len(p) != parts || slices.Contains(p, "") {
			errs = append(errs, config.KeyError{Key: KeySignalDataCollection, Message: fmt.Sprintf("%q is not a table name of %d dot-separated parts", c.DataCollection, parts)})
		}
	}
	if c.Channels[ChannelKafka] {
		if len(c.KafkaBootstrap) == 0 {
			errs = append(errs, config.KeyError{Key: KeySignalKafkaBootstrap, Message: "signal.kafka.bootstrap.servers is required when signal.enabled.channels contains kafka"})
		}
		if c.KafkaGroupID == "" {
			errs = append(errs, config.KeyError{Key: KeySignalKafkaGroupID, Message: "signal.kafka.groupId may not be empty"})
		}
	}
	if c.Channels[ChannelFile] && strings.TrimSpace(c.File) == "" {
		errs = append(errs, config.KeyError{Key: KeySignalFile, Message: "signal.file may not be empty when signal.enabled.channels contains file"})
	}
	if strings.EqualFold(v.String(KeyIncrementalWatermarking), "insert_delete") {
		errs = append(errs, config.KeyError{Key: KeyIncrementalWatermarking, Message: "insert_delete is not supported: use insert_insert (the default)"})
	}
	return c, errs
}

// Signal is one signal from any channel.
type Signal struct {
	ID, Type, Data string
	Channel        string
}

// ParseSignalJSON reads a Kafka or file channel signal: {"id": …, "type":
// …, "data": {…}}. data is kept as its JSON text.
func ParseSignalJSON(b []byte) (Signal, error) {
	var m struct {
		ID   any             `json:"id"`
		Type string          `json:"type"`
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return Signal{}, fmt.Errorf("signal is not JSON: %w", err)
	}
	s := Signal{Type: m.Type}
	if m.ID != nil {
		s.ID = fmt.Sprint(m.ID)
	}
	if len(m.Data) > 0 && string(m.Data) != "null" {
		s.Data = string(m.Data)
	}
	if s.Type == "" {
		return s, fmt.Errorf("signal has no type")
	}
	return s, nil
}

// Snapshot types of execute-snapshot.
const (
	SnapshotTypeIncremental = "incremental"
	SnapshotTypeBlocking    = "blocking"
)

// AdditionalCondition is one additional-conditions entry: rows of the
// collections the pattern matches (whole name, case-insensitive) are
// snapshotted only where Filter (an SQL condition) holds.
type AdditionalCondition struct {
	Pattern *regexp.Regexp
	Filter  string
}

// SnapshotRequest is the data of an execute-snapshot or stop-snapshot signal.
type SnapshotRequest struct {
	Type            string
	DataCollections []string // regular expressions (whole names)
	Conditions      []AdditionalCondition
	SurrogateKey    string
}

type snapshotData struct {
	Type            *string         `json:"type"`
	DataCollections []any           `json:"data-collections"`
	Conditions      []conditionData `json:"additional-conditions"`
	SurrogateKey    string          `json:"surrogate-key"`
}

type conditionData struct {
	DataCollection string `json:"data-collection"`
	Filter         string `json:"filter"`
}

// ParseSnapshotRequest parses the data of execute-snapshot (stop false) or
// stop-snapshot (stop true), with Debezium's rules: data-collections must be
// a non-empty array of strings for execute-snapshot (empty or missing stops
// everything for stop-snapshot), type defaults to incremental.
func ParseSnapshotRequest(data string, stop bool) (SnapshotRequest, error) {
	var d snapshotData
	if strings.TrimSpace(data) != "" {
		if err := json.Unmarshal([]byte(data), &d); err != nil {
			return SnapshotRequest{}, fmt.Errorf("signal data is not a valid JSON object: %w", err)
		}
	}
	r := SnapshotRequest{Type: SnapshotTypeIncremental, SurrogateKey: strings.TrimSpace(d.SurrogateKey)}
	if d.Type != nil {
		r.Type = strings.ToLower(*d.Type)
	}
	if r.Type != SnapshotTypeIncremental && r.Type != SnapshotTypeBlocking {
		return r, fmt.Errorf("unexpected snapshot type %q (incremental, blocking)", r.Type)
	}
	for _, v := range d.DataCollections {
		s, ok := v.(string)
		if !ok {
			return r, fmt.Errorf("data-collections contains a non-string element %v", v)
		}
		s = strings.TrimSpace(s)
		if _, err := regexp.Compile(s); err != nil {
			return r, fmt.Errorf("data-collections: not a valid regular expression %q: %w", s, err)
		}
		r.DataCollections = append(r.DataCollections, s)
	}
	if len(r.DataCollections) == 0 && !stop {
		return r, fmt.Errorf("the field data-collections is missing or empty")
	}
	for _, c := range d.Conditions {
		re, err := regexp.Compile("(?i)^(?:" + c.DataCollection + ")$")
		if err != nil || c.DataCollection == "" {
			return r, fmt.Errorf("additional-conditions: data-collection %q is not a valid regular expression", c.DataCollection)
		}
		r.Conditions = append(r.Conditions, AdditionalCondition{Pattern: re, Filter: c.Filter})
	}
	return r, nil
}

// Condition returns the filter of the first additional condition matching
// collection ("" when none does).
func (r SnapshotRequest) Condition(collection string) string {
	for _, c := range r.Conditions {
		if c.Pattern.MatchString(collection) {
			return c.Filter
		}
	}
	return ""
}

// MatchCollections expands the request's data-collections against the
// known table ids (whole-name matches, in request order, deduplicated); a
// pattern matching nothing is kept as it is, as Debezium does.
func MatchCollections(patterns, known []string) []string {
	var out []string
	for _, p := range patterns {
		re, err := regexp.Compile("^(?:" + p + ")$")
		matched := false
		if err == nil {
			for _, k := range known {
				if re.MatchString(k) {
					matched = true
					if !slices.Contains(out, k) {
						out = append(out, k)
					}
				}
			}
		}
		if !matched && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// LogSignalMessage returns the message of a log signal with its first {}
// replaced by the offset, as Debezium's Log action logs it.
func LogSignalMessage(data string, offset any) (string, error) {
	var d struct {
		Message string `json:"message"`
	}
	if err := json.Unmarshal([]byte(data), &d); err != nil || d.Message == "" {
		return "", fmt.Errorf("the field message is missing from data")
	}
	return strings.Replace(d.Message, "{}", fmt.Sprint(offset), 1), nil
}

// Debezium's incremental snapshot offset keys.
const (
	OffIncrementalCollections = "incremental_snapshot_collections"
	OffIncrementalPrimaryKey  = "incremental_snapshot_primary_key"
	OffIncrementalMaximumKey  = "incremental_snapshot_maximum_key"
	OffIncrementalCorrelation = "incremental_snapshot_correlation_id"

	colID        = "incremental_snapshot_collections_id"
	colCondition = "incremental_snapshot_collections_additional_condition"
	colSurrogate = "incremental_snapshot_collections_surrogate_key"
	colCorrelate = "incremental_snapshot_collections_correlation_id"
)

// SnapshotCollection is one table queued for an incremental snapshot.
type SnapshotCollection struct {
	ID string
	// Condition is the additional condition, in parentheses as Debezium
	// stores it ("" for none).
	Condition     string
	SurrogateKey  string
	CorrelationID string
}

// IncrementalState is the part of a source offset that describes a running
// incremental snapshot; the first collection is the one being read.
type IncrementalState struct {
	Collections []SnapshotCollection
	// LastKey is the key of the last snapshot row emitted (nil: none of the
	// current table yet); MaxKey the current table's largest key when its
	// snapshot began.
	LastKey, MaxKey []any
	CorrelationID   string
}

// Running reports whether a snapshot is in progress.
func (s *IncrementalState) Running() bool { return s != nil && len(s.Collections) > 0 }

func jsonString(b *bytes.Buffer, s string) {
	if s == "" {
		b.WriteString("null")
		return
	}
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	b.Truncate(b.Len() - 1) // Encode's newline
}

// CollectionsJSON renders the queue as Debezium's Jackson does.
func (s *IncrementalState) CollectionsJSON() string {
	var b bytes.Buffer
	b.WriteByte('[')
	for i, c := range s.Collections {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"` + colID + `":`)
		jsonString(&b, c.ID)
		b.WriteString(`,"` + colCondition + `":`)
		jsonString(&b, c.Condition)
		b.WriteString(`,"` + colSurrogate + `":`)
		jsonString(&b, c.SurrogateKey)
		b.WriteString(`,"` + colCorrelate + `":`)
		jsonString(&b, c.CorrelationID)
		b.WriteByte('}')
	}
	b.WriteByte(']')
	return b.String()
}

// Store adds the state to an offset map (nothing when no snapshot runs).
func (s *IncrementalState) Store(m map[string]any) error {
	if !s.Running() {
		return nil
	}
	pk, err := EncodeJavaKey(s.LastKey)
	if err != nil {
		return fmt.Errorf("%s: %w", OffIncrementalPrimaryKey, err)
	}
	mk, err := EncodeJavaKey(s.MaxKey)
	if err != nil {
		return fmt.Errorf("%s: %w", OffIncrementalMaximumKey, err)
	}
	m[OffIncrementalPrimaryKey] = pk
	m[OffIncrementalMaximumKey] = mk
	m[OffIncrementalCollections] = s.CollectionsJSON()
	if s.CorrelationID != "" {
		m[OffIncrementalCorrelation] = s.CorrelationID
	} else {
		m[OffIncrementalCorrelation] = nil
	}
	return nil
}

// LoadIncrementalState reads the state from a stored offset (nil when it
// holds none).
func LoadIncrementalState(m map[string]any) (*IncrementalState, error) {
	cs, _ := m[OffIncrementalCollections].(string)
	if cs == "" {
		return nil, nil
	}
	var raw []map[string]*string
	if err := json.Unmarshal([]byte(cs), &raw); err != nil {
		return nil, fmt.Errorf("offset key %s: %w", OffIncrementalCollections, err)
	}
	s := &IncrementalState{}
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	for _, c := range raw {
		s.Collections = append(s.Collections, SnapshotCollection{ID: str(c[colID]), Condition: str(c[colCondition]),
			SurrogateKey: str(c[colSurrogate]), CorrelationID: str(c[colCorrelate])})
	}
	var err error
	for _, k := range []struct {
		key string
		dst *[]any
	}{{OffIncrementalPrimaryKey, &s.LastKey}, {OffIncrementalMaximumKey, &s.MaxKey}} {
		v, _ := m[k.key].(string)
		if v == "" {
			continue
		}
		if *k.dst, err = DecodeJavaKey(v); err != nil {
			return nil, fmt.Errorf("offset key %s: %w", k.key, err)
		}
	}
	s.CorrelationID, _ = m[OffIncrementalCorrelation].(string)
	return s, nil
}

// NewChunkID returns a random UUID (version 4) naming one incremental
// snapshot window: its watermark rows' ids are <id>-open and <id>-close.
func NewChunkID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// WindowMetadata is the data column of a watermark row, as Debezium's
// SignalMetadata writes it (a space after ':' and ',').
func WindowMetadata(opened, closed time.Time, correlationID, collection string) string {
	var b strings.Builder
	b.WriteByte('{')
	add := func(k, v string) {
		if b.Len() > 1 {
			b.WriteString(", ")
		}
		kb, _ := json.Marshal(k)
		vb, _ := json.Marshal(v)
		b.Write(kb)
		b.WriteString(": ")
		b.Write(vb)
	}
	add("openWindowTimestamp", opened.Format(time.RFC3339Nano))
	if !closed.IsZero() {
		add("closeWindowTimestamp", closed.Format(time.RFC3339Nano))
	}
	if correlationID != "" {
		add("correlationId", correlationID)
	}
	add("dataCollectionId", collection)
	b.WriteByte('}')
	return b.String()
}
