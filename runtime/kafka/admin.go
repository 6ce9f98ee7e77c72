package kafka

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TopicSpec describes a topic to create.
type TopicSpec struct {
	Name       string
	Partitions int32 // -1: broker default
	// ReplicationFactor -1: broker default.
	ReplicationFactor int16
	// Configs are topic configs such as cleanup.policy=compact.
	Configs map[string]string
}

// Compacted returns a spec for a compacted topic (Connect's internal
// offsets/configs/status topics, the schema registry's _schemas).
func Compacted(name string, partitions int32, replication int16) TopicSpec {
	return TopicSpec{Name: name, Partitions: partitions, ReplicationFactor: replication,
		Configs: map[string]string{"cleanup.policy": "compact"}}
}

// EnsureTopics creates the topics that do not exist yet. Topics that exist
// are left as they are.
func EnsureTopics(ctx context.Context, cl *kgo.Client, specs ...TopicSpec) error {
	adm := kadm.NewClient(cl)
	for _, s := range specs {
		cfg := make(map[string]*string, len(s.Configs))
		for k, v := range s.Configs {
			v := v
			cfg[k] = &v
		}
		resp, err := adm.CreateTopic(ctx, s.Partitions, s.ReplicationFactor, cfg, s.Name)
		if err == nil {
			err = resp.Err
		}
		if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
			return fmt.Errorf("create topic %s: %w", s.Name, err)
		}
	}
	return nil
}

// TopicConfig returns one config value of a topic as the broker reports it.
func TopicConfig(ctx context.Context, cl *kgo.Client, topic, key string) (string, error) {
	adm := kadm.NewClient(cl)
	rcs, err := adm.DescribeTopicConfigs(ctx, topic)
	if err != nil {
		return "", fmt.Errorf("describe topic %s: %w", topic, err)
	}
	rc, err := rcs.On(topic, nil)
	if err != nil {
		return "", fmt.Errorf("describe topic %s: %w", topic, err)
	}
	if rc.Err != nil {
		return "", fmt.Errorf("describe topic %s: %w", topic, rc.Err)
	}
	for _, c := range rc.Configs {
		if c.Key == key {
			return c.MaybeValue(), nil
		}
	}
	return "", nil
}

// PartitionCount returns the number of partitions of topic.
func PartitionCount(ctx context.Context, cl *kgo.Client, topic string) (int32, error) {
	adm := kadm.NewClient(cl)
	tds, err := adm.ListTopics(ctx, topic)
	if err != nil {
		return 0, fmt.Errorf("list topic %s: %w", topic, err)
	}
	td, ok := tds[topic]
	if !ok {
		return 0, fmt.Errorf("topic %s not found", topic)
	}
	if td.Err != nil {
		return 0, fmt.Errorf("topic %s: %w", topic, td.Err)
	}
	return int32(len(td.Partitions)), nil
}

// GroupOffsets returns a consumer group's committed offsets per topic and
// partition.
func GroupOffsets(ctx context.Context, cl *kgo.Client, group string) (map[string]map[int32]int64, error) {
	adm := kadm.NewClient(cl)
	resp, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		return nil, fmt.Errorf("fetch offsets of group %s: %w", group, err)
	}
	if err := resp.Error(); err != nil {
		return nil, fmt.Errorf("fetch offsets of group %s: %w", group, err)
	}
	out := map[string]map[int32]int64{}
	resp.Each(func(o kadm.OffsetResponse) {
		if out[o.Topic] == nil {
			out[o.Topic] = map[int32]int64{}
		}
		out[o.Topic][o.Partition] = o.At
	})
	return out, nil
}

// EndOffsets returns the end offset of every partition of topic. A topic
// created a moment ago may not be known to every broker of a cluster yet
// (UNKNOWN_TOPIC_OR_PARTITION, LEADER_NOT_AVAILABLE), so retriable errors are
// retried until ctx ends or patience runs out, as Connect's
// TopicAdmin.retryEndOffsets: a reader that took "unknown" for "empty" would
// replay nothing and act on a state it never read.
func EndOffsets(ctx context.Context, cl *kgo.Client, topic string, patience time.Duration) (map[int32]int64, error) {
	return retryOffsets(ctx, topic, patience, kadm.NewClient(cl).ListEndOffsets)
}

// StableOffsets is EndOffsets for a read_committed reader: each partition's
// last stable offset, before which no transaction is open.
func StableOffsets(ctx context.Context, cl *kgo.Client, topic string, patience time.Duration) (map[int32]int64, error) {
	return retryOffsets(ctx, topic, patience, kadm.NewClient(cl).ListCommittedOffsets)
}

type offsetLister func(ctx context.Context, topics ...string) (kadm.ListedOffsets, error)

func retryOffsets(ctx context.Context, topic string, patience time.Duration, list offsetLister) (map[int32]int64, error) {
	deadline := time.Now().Add(patience)
	for {
		out, err := listOffsets(ctx, list, topic)
		if err == nil {
			return out, nil
		}
		if !kerr.IsRetriable(err) || time.Now().After(deadline) {
			return nil, fmt.Errorf("end offsets of topic %s: %w", topic, err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("end offsets of topic %s: %w (last error: %v)", topic, ctx.Err(), err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func listOffsets(ctx context.Context, list offsetLister, topic string) (map[int32]int64, error) {
	ends, err := list(ctx, topic)
	if err != nil {
		return nil, err
	}
	if err := ends.Error(); err != nil {
		return nil, err
	}
	out := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) { out[o.Partition] = o.Offset })
	if len(out) == 0 {
		return nil, kerr.UnknownTopicOrPartition
	}
	return out, nil
}

// LeaveGroup asks group's coordinator to remove the member memberID (a
// member leaving, or one that could not: the id is its own, so no other
// member can be removed by it). The request gets up to 5 s of ctx.
func LeaveGroup(ctx context.Context, cl *kgo.Client, group, memberID string) error {
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req := kmsg.NewPtrLeaveGroupRequest()
	req.Group = group
	req.MemberID = memberID // v0–v2
	m := kmsg.NewLeaveGroupRequestMember()
	m.MemberID = memberID
	req.Members = append(req.Members, m)
	resp, err := req.RequestWith(rctx, cl)
	if err != nil {
		return err
	}
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return err
	}
	for _, mr := range resp.Members {
		if err := kerr.ErrorForCode(mr.ErrorCode); err != nil {
			return err
		}
	}
	return nil
}
