package cdc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// RunKafkaSignals reads the Kafka signal channel until ctx ends: partition 0
// of c.KafkaTopic, from the offset committed under c.KafkaGroupID (else the
// earliest), as Debezium's KafkaSignalChannel. Records whose key is not the
// connector's topic.prefix are skipped; each signal read is handed to
// handle, then its offset is committed.
func RunKafkaSignals(ctx context.Context, c *SignalConfig, prefix string, log *slog.Logger, handle func(Signal)) error {
	adminCl, err := kgo.NewClient(kgo.SeedBrokers(c.KafkaBootstrap...))
	if err != nil {
		return fmt.Errorf("kafka signal channel: %w", err)
	}
	defer adminCl.Close()
	adm := kadm.NewClient(adminCl)
	start := kgo.NewOffset().AtStart()
	for {
		offs, err := adm.FetchOffsets(ctx, c.KafkaGroupID)
		if err == nil {
			if o, ok := offs.Lookup(c.KafkaTopic, 0); ok && o.Err == nil && o.At >= 0 {
				start = kgo.NewOffset().At(o.At)
			}
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		log.Warn("kafka signal channel: cannot read the committed offset; retrying", "group", c.KafkaGroupID, "err", err)
		select {
		case <-time.After(2 * time.Second):
		case <-ctx.Done():
			return nil
		}
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.KafkaBootstrap...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{c.KafkaTopic: {0: start}}))
	if err != nil {
		return fmt.Errorf("kafka signal channel: %w", err)
	}
	defer cl.Close()
	log.Info("kafka signal channel reading", "topic", c.KafkaTopic, "group", c.KafkaGroupID)
	for {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return nil
		}
		fs.EachError(func(t string, p int32, err error) {
			if !errors.Is(err, context.Canceled) {
				log.Warn("kafka signal channel: fetch failed", "topic", t, "partition", p, "err", err)
			}
		})
		var last *kgo.Record
		fs.EachRecord(func(r *kgo.Record) {
			last = r
			if string(r.Key) != prefix {
				log.Info("kafka signal channel: the signal's key does not match topic.prefix; skipped", "key", string(r.Key), "topic.prefix", prefix)
				return
			}
			if len(bytes.TrimSpace(r.Value)) == 0 {
				return
			}
			s, err := ParseSignalJSON(r.Value)
			if err != nil {
				log.Warn("kafka signal channel: skipped a signal", "offset", r.Offset, "err", err)
				return
			}
			s.Channel = ChannelKafka
			handle(s)
		})
		if last != nil {
			var o kadm.Offsets
			o.AddOffset(last.Topic, last.Partition, last.Offset+1, -1)
			if _, err := adm.CommitOffsets(ctx, c.KafkaGroupID, o); err != nil && ctx.Err() == nil {
				log.Warn("kafka signal channel: cannot commit the signals read", "err", err)
			}
		}
	}
}

// RunFileSignals reads the file channel every c.PollInterval until ctx
// ends, as Debezium's FileSignalChannel: every line is one JSON signal and
// the file is emptied once read.
func RunFileSignals(ctx context.Context, c *SignalConfig, log *slog.Logger, handle func(Signal)) error {
	t := time.NewTicker(c.PollInterval)
	defer t.Stop()
	for {
		b, err := os.ReadFile(c.File)
		switch {
		case err == nil && len(b) > 0:
			if err := os.Truncate(c.File, 0); err != nil {
				log.Error("file signal channel: cannot empty the signal file", "file", c.File, "err", err)
			}
			for _, line := range bytes.Split(b, []byte{'\n'}) {
				if len(bytes.TrimSpace(line)) == 0 {
					continue
				}
				s, err := ParseSignalJSON(line)
				if err != nil {
					log.Warn("file signal channel: skipped a signal", "err", err)
					continue
				}
				s.Channel = ChannelFile
				handle(s)
			}
		case err != nil && !errors.Is(err, os.ErrNotExist):
			log.Warn("file signal channel: cannot read the signal file", "file", c.File, "err", err)
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return nil
		}
	}
}
