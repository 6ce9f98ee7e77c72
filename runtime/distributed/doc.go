// Package distributed is Kafka Connect's distributed mode in Go: several
// `replicate distributed worker.properties` processes with the same
// group.id share connectors and tasks, as connect-distributed.sh workers
// do. Kafka is the whole coordination layer: group membership, three
// compacted topics and the connectors' own consumer groups. There is no
// consensus of our own.
//
// # State in Kafka, in Connect's formats
//
// config.storage.topic (one partition, compacted; configLog) holds
// connector-<name> → {"properties":{…}}, task-<name>-<n> → {"properties":{…}}
// made visible together by commit-<name> → {"tasks":N}, target-state-<name>
// → {"state":"PAUSED","state.v2":"STOPPED"} and restart-connector-<name> →
// {"include-tasks":…,"only-failed":…}. Only the leader writes it; every
// worker follows it. offset.storage.topic holds source offsets, key
// ["<connector>",{partition}] → {offset} (offsetStore). status.storage.topic
// holds status-connector-<name> and status-task-<name>-<n> →
// {"state":…,"trace":…,"worker_id":"host:port","generation":g}, written by
// the worker running the instance (statusStore). All three are created
// explicitly at start (replication factor and partitions from
// *.replication.factor / *.partitions) and can be read with standard tools.
//
// # Assignment
//
// Workers join one group with protocol type "connect" and Connect's
// incremental cooperative sub-protocol ("compatible", v1), byte for byte
// (protocol.go): member metadata carries the worker's REST URL, the config
// offset it has read and the work it runs; the assignment carries the
// leader, its URL, the config offset the assignment is based on, the work
// assigned and revoked, and a delay. The requests are franz-go's kmsg
// JoinGroup/SyncGroup/Heartbeat/LeaveGroup over a plain kgo client (member),
// which routes them to the group coordinator; franz-go's kfake implements
// the classic protocol for any protocol type.
//
// The leader reads the config topic to its end and assigns connector
// instances and tasks (assign.go): sticky (a member keeps what it runs),
// balanced (connectors and tasks spread separately, ⌊n/m⌋ or ⌈n/m⌉ each),
// and in two phases for every move (revoke, the member stops the work and
// rejoins, then assign), so a member that follows the protocol never runs
// work another member was given. Work of a worker that left is held for
// scheduled.rebalance.max.delay.ms, then given to the others; a worker that
// comes back with the same worker ID (a restart) gets its work back at once.
// Every member reads the config topic to the assignment's offset before it
// starts work; the connector instance's owner computes task configs and
// hands them to the leader (Connect's internal POST
// /connectors/{name}/tasks), which writes them and starts a rebalance when
// the number of tasks changed. Sink tasks are consumers in the connector's
// own group (connect-<name>), so their partitions spread within it.
//
// # One owner per task: fencing
//
// A CDC source must never run on two workers at once, even during a
// rebalance, a network partition or a process pause. Two layers ensure it:
//
//  1. A lease. Heartbeats come from a goroutine of their own for the
//     whole membership (member.heartbeats), also while a JoinGroup or
//     SyncGroup waits and while an assignment is applied, as Connect's
//     heartbeat thread, so a member is never dropped for being busy or for
//     waiting in a rebalance (the coordinator answers them with
//     REBALANCE_IN_PROGRESS then). A worker whose group coordinator has
//     answered nothing for its lease stops all its work itself
//     (member.watchdog; the lease is session.timeout.ms plus the part of
//     scheduled.rebalance.max.delay.ms beyond the stop timeouts, see
//     Config.Lease), and so does one the coordinator answers with
//     UNKNOWN_MEMBER_ID (or ILLEGAL_GENERATION outside a rebalance): it
//     abandons any pending JoinGroup/SyncGroup and stops everything before
//     it joins again; it starts work only from the SyncGroup answer of a
//     new generation. Tasks ask the lease before they hand a batch on
//     (runtime.Options.Lease): a worker resumed after a pause holds back
//     what its tasks read and stops them, instead of writing for work
//     others took meanwhile. The coordinator expels a silent worker no
//     earlier than session.timeout.ms, and the leader gives the work away
//     only after scheduled.rebalance.max.delay.ms more; so a worker cut off
//     from Kafka has stopped before anyone else starts, provided the delay
//     covers the time a task takes to stop (task.shutdown.graceful.timeout.ms
//     + offset.flush.timeout.ms; ParseConfig warns about a shorter delay).
//     A longer delay lengthens the lease by the difference, so a group
//     coordinator moving to another broker (seconds) does not stop the
//     work of a group that keeps Connect's default delay (5 minutes).
//  2. A fence in Kafka, which holds even when the lease's timing does not
//     (a process paused longer than the delay, clocks running apart): each
//     source task commits its offsets through a transactional producer
//     whose transactional ID belongs to the task,
//     <group.id>-<connector>-<task> (Connect's exactly-once naming). Before
//     a worker starts a source task it initializes that producer (claim),
//     which bumps the ID's epoch: from then on the broker rejects every
//     write and commit of the older owner's producer (PRODUCER_FENCED). The
//     old owner's next offset commit fails, the task fails and stops, and
//     what it wrote meanwhile never becomes visible: offsets are read with
//     isolation read_committed. The new owner reads the offset topic to
//     its last stable offset after the claim, so it starts exactly from the
//     last offsets the old owner committed.
//
// We chose a transactional ID over an epoch kept in the status or config
// topic because the broker checks it atomically with the write itself: a
// check-then-write epoch leaves a window between the check and the write
// that a pause can stretch, while a fenced producer cannot write at all. The
// fence covers the durable effect of a source task (its offsets); records a
// fenced zombie produced before it noticed are duplicates of what the new
// owner produces again from the committed offsets (at least once), never
// losses. With exactly.once.source.support=enabled (KIP-618, runtime/eos.go)
// the fence covers the records too: the task's records go through the same
// transactional producer (offsetStore.Transactional, re-initialized with the
// task's producer settings before the task reads its offsets) in the same
// transaction as their offsets, so the zombie's open transaction is aborted
// by the new owner's initialization and nothing it produces later commits.
//
// # REST
//
// Any worker answers any request (rest.go, Handler): reads come from the
// config and status topics, read to their end first, so every worker gives
// the same answer; requests that change state are forwarded to the leader
// (forward=true, as Connect), which writes the config topic; the leader
// forwards task restarts to the task's owner (forward=false). A request
// that reaches a worker that is not the leader while forwarded, or while no
// leader is known for 10 s, gets 409, as Connect answers during a
// rebalance.
//
// The internal requests (POST /connectors/{name}/tasks, PUT
// /connectors/{name}/fence) are signed as in Connect (KIP-507,
// sessionkey.go): the leader keeps a session key in the config topic
// (session-key), replaced after inter.worker.key.ttl.ms, and a worker
// refuses an internal request whose X-Connect-Authorization is not the
// HMAC of its body under that key, with Connect's statuses and messages.
// Signing is on with connect.protocol=sessioned (the default).
//
// # Concurrency and shutdown
//
// A Herder owns four goroutines (group member, reconcile loop, restart
// requests, session key rotation); Close stops every task (they commit their offsets and report
// UNASSIGNED), leaves the group so the others take over at once, and waits
// for them. A worker killed without Close loses nothing either: its tasks
// resume elsewhere from their committed offsets after the delay.
package distributed
