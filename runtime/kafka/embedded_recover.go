package kafka

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// kfakeTopicsVersion is the topics.json format of the kfake version in
// go.mod ({"version":1,"topics":[{"name","id","partitions","replicas",
// "configs"}]}); recoverOrphanTopics edits only that version.
const kfakeTopicsVersion = 1

// recoveredTopic is a topic recoverOrphanTopics added to topics.json.
type recoveredTopic struct {
	Name       string
	Partitions int
}

// recoverOrphanTopics adds to dir/topics.json every topic that has record
// data under dir/partitions/<url-escaped topic>-<partition> but no entry (or
// too few partitions) in topics.json. Before this package created
// auto-created topics through the persisted path, kfake kept them in memory
// only: their segments were on disk, but a restart loaded nothing of them,
// and a producer re-creating the topic appended new batches, from offset 0
// again, to the old segment files. Putting them back before kfake loads
// makes their records readable again. It returns the topics it added or
// grew; an unreadable or unknown-format topics.json with orphans beside it
// is an error, so the broker does not start and hide data.
func recoverOrphanTopics(dir string) ([]recoveredTopic, error) {
	onDisk, err := partitionDirs(filepath.Join(dir, "partitions"))
	if err != nil || len(onDisk) == 0 {
		return nil, err
	}
	path := filepath.Join(dir, "topics.json")
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		if _, merr := os.Stat(filepath.Join(dir, "meta.json")); merr != nil {
			return nil, fmt.Errorf("partition data without meta.json and topics.json: refusing to start over it (move %s away to start empty)", filepath.Join(dir, "partitions"))
		}
		raw = []byte(fmt.Sprintf(`{"version":%d,"topics":[]}`, kfakeTopicsVersion))
	} else if err != nil {
		return nil, fmt.Errorf("read topics.json: %w", err)
	}
	var doc struct {
		Version int               `json:"version"`
		Topics  []json.RawMessage `json:"topics"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("parse topics.json: %w", err)
	}
	type entry struct {
		fields map[string]json.RawMessage
		parts  int
	}
	known := map[string]*entry{}
	var order []*entry
	for i, t := range doc.Topics {
		var fields map[string]json.RawMessage
		var head struct {
			Name       string `json:"name"`
			Partitions int    `json:"partitions"`
		}
		if err := json.Unmarshal(t, &fields); err != nil {
			return nil, fmt.Errorf("parse topics.json topic %d: %w", i, err)
		}
		if err := json.Unmarshal(t, &head); err != nil {
			return nil, fmt.Errorf("parse topics.json topic %d: %w", i, err)
		}
		en := &entry{fields: fields, parts: head.Partitions}
		known[head.Name] = en
		order = append(order, en)
	}
	var added []recoveredTopic
	names := make([]string, 0, len(onDisk))
	for name := range onDisk {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		need := onDisk[name]
		if en, ok := known[name]; ok && en.parts >= need {
			continue
		}
		if doc.Version != kfakeTopicsVersion {
			return nil, fmt.Errorf("topic %q has partition data but is missing from topics.json, whose format version %d this build cannot edit", name, doc.Version)
		}
		if en, ok := known[name]; ok {
			en.fields["partitions"] = json.RawMessage(strconv.Itoa(need))
			added = append(added, recoveredTopic{name, need})
			continue
		}
		var id [16]byte
		if _, err := rand.Read(id[:]); err != nil {
			return nil, fmt.Errorf("topic id: %w", err)
		}
		idJSON, _ := json.Marshal(base64.StdEncoding.EncodeToString(id[:]))
		nameJSON, _ := json.Marshal(name)
		en := &entry{fields: map[string]json.RawMessage{
			"name":       nameJSON,
			"id":         idJSON,
			"partitions": json.RawMessage(strconv.Itoa(need)),
			"replicas":   json.RawMessage("1"),
		}, parts: need}
		known[name] = en
		order = append(order, en)
		added = append(added, recoveredTopic{name, need})
	}
	if len(added) == 0 {
		return nil, nil
	}
	out := struct {
		Version int                          `json:"version"`
		Topics  []map[string]json.RawMessage `json:"topics"`
	}{Version: kfakeTopicsVersion}
	for _, en := range order {
		out.Topics = append(out.Topics, en.fields)
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("encode topics.json: %w", err)
	}
	if err := writeFileSync(path, b); err != nil {
		return nil, err
	}
	return added, nil
}

// partitionDirs maps each topic with record data (a .dat segment) under
// partsDir to its partition count (highest partition + 1), from kfake's
// directory names "<url.PathEscape(topic)>-<partition>".
func partitionDirs(partsDir string) (map[string]int, error) {
	ents, err := os.ReadDir(partsDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", partsDir, err)
	}
	topics := map[string]int{}
	for _, d := range ents {
		if !d.IsDir() {
			continue
		}
		i := strings.LastIndexByte(d.Name(), '-')
		if i <= 0 {
			continue
		}
		p, err := strconv.Atoi(d.Name()[i+1:])
		if err != nil || p < 0 {
			continue
		}
		topic, err := url.PathUnescape(d.Name()[:i])
		if err != nil {
			continue
		}
		segs, err := filepath.Glob(filepath.Join(partsDir, d.Name(), "*.dat"))
		if err != nil || len(segs) == 0 {
			continue
		}
		topics[topic] = max(topics[topic], p+1)
	}
	return topics, nil
}

// writeFileSync replaces path with b atomically and durably: a temporary
// file, fsynced, renamed over path, and the directory fsynced.
func writeFileSync(path string, b []byte) error {
	tmp := path + ".recover"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		err = d.Sync()
		d.Close()
		if err != nil {
			return fmt.Errorf("sync %s: %w", filepath.Dir(path), err)
		}
	}
	return nil
}
