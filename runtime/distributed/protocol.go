package distributed

// Kafka Connect's group protocol, byte for byte (Connect's
// IncrementalCooperativeConnectProtocol, sub-protocol "compatible", v1):
//
//	member metadata: version int16 = 1, url string, config_offset int64,
//	                 allocation nullable bytes (the member's current assignment,
//	                 serialized as below, or null when it has none)
//	assignment:      version int16 = 1, error int16, leader string,
//	                 leader_url string, config_offset int64,
//	                 assignment [ {connector string, tasks [int32]} ] (nullable),
//	                 revoked    [ {connector string, tasks [int32]} ] (nullable),
//	                 scheduled_delay int32 (ms)
//
// Strings are int16-length-prefixed UTF-8, arrays int32-count-prefixed,
// integers big-endian. Task id -1 stands for the connector instance itself.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Protocol names and versions.
const (
	protocolType       = "connect"
	protocolCompatible = "compatible"
	protocolVersion    = int16(1)
	// connectorTask is the task id that names a connector instance.
	connectorTask = -1
)

// Assignment error codes (Connect's ConnectProtocol.Assignment).
const (
	assignNoError        = int16(0)
	assignConfigMismatch = int16(1)
)

// work is a set of connector instances and tasks.
type work struct {
	Connectors []string
	Tasks      []taskID
}

// taskID names a task.
type taskID struct {
	Connector string
	Task      int
}

func (t taskID) String() string { return fmt.Sprintf("%s-%d", t.Connector, t.Task) }

func (w work) empty() bool { return len(w.Connectors) == 0 && len(w.Tasks) == 0 }

func (w work) size() int { return len(w.Connectors) + len(w.Tasks) }

// sorted returns w with connectors and tasks in a stable order.
func (w work) sorted() work {
	out := work{Connectors: slices.Clone(w.Connectors), Tasks: slices.Clone(w.Tasks)}
	slices.Sort(out.Connectors)
	slices.SortFunc(out.Tasks, compareTask)
	return out
}

func compareTask(a, b taskID) int {
	if c := strings.Compare(a.Connector, b.Connector); c != 0 {
		return c
	}
	return a.Task - b.Task
}

func (w work) String() string {
	var parts []string
	for _, c := range w.sorted().Connectors {
		parts = append(parts, c)
	}
	for _, t := range w.sorted().Tasks {
		parts = append(parts, t.String())
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// memberMeta is what a worker tells the leader when it joins.
type memberMeta struct {
	URL          string
	ConfigOffset int64
	// Allocation is the work the member runs now (nil: none).
	Allocation *assignment
}

// assignment is what the leader tells a member.
type assignment struct {
	Error        int16
	Leader       string // member ID of the leader
	LeaderURL    string
	ConfigOffset int64
	// Assigned is work newly given to the member; Revoked is work it must
	// stop before it rejoins.
	Assigned work
	Revoked  work
	// DelayMS asks the member to rejoin after this long (work of a
	// departed member is held for it until then).
	DelayMS int32
}

// encoder writes Kafka protocol primitives.
type encoder struct{ b []byte }

func (e *encoder) int16(v int16) { e.b = binary.BigEndian.AppendUint16(e.b, uint16(v)) }
func (e *encoder) int32(v int32) { e.b = binary.BigEndian.AppendUint32(e.b, uint32(v)) }
func (e *encoder) int64(v int64) { e.b = binary.BigEndian.AppendUint64(e.b, uint64(v)) }
func (e *encoder) string(s string) {
	e.int16(int16(len(s)))
	e.b = append(e.b, s...)
}
func (e *encoder) nullableBytes(b []byte) {
	if b == nil {
		e.int32(-1)
		return
	}
	e.int32(int32(len(b)))
	e.b = append(e.b, b...)
}

// workArray writes work as Connect's array of connector assignments, one
// entry per connector with -1 for the connector instance itself.
func (e *encoder) workArray(w work) {
	byConn := map[string][]int32{}
	for _, c := range w.Connectors {
		byConn[c] = append(byConn[c], connectorTask)
	}
	for _, t := range w.Tasks {
		byConn[t.Connector] = append(byConn[t.Connector], int32(t.Task))
	}
	names := slices.Sorted(maps.Keys(byConn))
	e.int32(int32(len(names)))
	for _, n := range names {
		ids := byConn[n]
		slices.Sort(ids)
		e.string(n)
		e.int32(int32(len(ids)))
		for _, id := range ids {
			e.int32(id)
		}
	}
}

var errShort = errors.New("truncated message")

// decoder reads Kafka protocol primitives; the first error sticks.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || len(d.b) < n {
		d.err = errShort
		return nil
	}
	out := d.b[:n]
	d.b = d.b[n:]
	return out
}

func (d *decoder) int16() int16 {
	b := d.take(2)
	if b == nil {
		return 0
	}
	return int16(binary.BigEndian.Uint16(b))
}

func (d *decoder) int32() int32 {
	b := d.take(4)
	if b == nil {
		return 0
	}
	return int32(binary.BigEndian.Uint32(b))
}

func (d *decoder) int64() int64 {
	b := d.take(8)
	if b == nil {
		return 0
	}
	return int64(binary.BigEndian.Uint64(b))
}

func (d *decoder) string() string {
	n := d.int16()
	if n < 0 {
		return ""
	}
	return string(d.take(int(n)))
}

func (d *decoder) nullableBytes() []byte {
	n := d.int32()
	if n < 0 {
		return nil
	}
	b := d.take(int(n))
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}

func (d *decoder) workArray() work {
	var w work
	n := d.int32()
	for i := int32(0); i < n && d.err == nil; i++ {
		name := d.string()
		k := d.int32()
		for j := int32(0); j < k && d.err == nil; j++ {
			id := d.int32()
			if id == connectorTask {
				w.Connectors = append(w.Connectors, name)
			} else {
				w.Tasks = append(w.Tasks, taskID{Connector: name, Task: int(id)})
			}
		}
	}
	return w
}

// encodeMeta serializes member metadata.
func encodeMeta(m memberMeta) []byte {
	var e encoder
	e.int16(protocolVersion)
	e.string(m.URL)
	e.int64(m.ConfigOffset)
	var alloc []byte
	if m.Allocation != nil {
		alloc = encodeAssignment(*m.Allocation)
	}
	e.nullableBytes(alloc)
	return e.b
}

// decodeMeta parses member metadata (v0 metadata has no allocation).
func decodeMeta(b []byte) (memberMeta, error) {
	d := decoder{b: b}
	v := d.int16()
	var m memberMeta
	m.URL = d.string()
	m.ConfigOffset = d.int64()
	if v >= 1 && d.err == nil {
		if alloc := d.nullableBytes(); alloc != nil && d.err == nil {
			a, err := decodeAssignment(alloc)
			if err != nil {
				return m, fmt.Errorf("member allocation: %w", err)
			}
			m.Allocation = &a
		}
	}
	if d.err != nil {
		return m, fmt.Errorf("connect member metadata: %w", d.err)
	}
	return m, nil
}

// encodeAssignment serializes an assignment.
func encodeAssignment(a assignment) []byte {
	var e encoder
	e.int16(protocolVersion)
	e.int16(a.Error)
	e.string(a.Leader)
	e.string(a.LeaderURL)
	e.int64(a.ConfigOffset)
	e.workArray(a.Assigned)
	e.workArray(a.Revoked)
	e.int32(a.DelayMS)
	return e.b
}

// decodeAssignment parses an assignment (v0 assignments have no revoked
// work and no delay).
func decodeAssignment(b []byte) (assignment, error) {
	d := decoder{b: b}
	v := d.int16()
	var a assignment
	a.Error = d.int16()
	a.Leader = d.string()
	a.LeaderURL = d.string()
	a.ConfigOffset = d.int64()
	a.Assigned = d.workArray()
	if v >= 1 {
		a.Revoked = d.workArray()
		a.DelayMS = d.int32()
	}
	if d.err != nil {
		return a, fmt.Errorf("connect assignment: %w", d.err)
	}
	return a, nil
}
