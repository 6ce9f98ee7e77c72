"""Independent Protobuf producer: the message is built and serialized by
python3-protobuf from a class made at run time (protoc compiles ORDER_PROTO
into a FileDescriptorSet, google.protobuf.descriptor_pool and
message_factory make the class), the schema is registered with
python3-confluent-kafka's SchemaRegistryClient (schemaType PROTOBUF), and the
record is produced with its librdkafka Producer.

confluent-kafka 1.7's own ProtobufSerializer is not used: it writes the
message indexes as unsigned varints (fixed in 1.8; Confluent's Java and this
project write zig-zag varints, as Kafka's ByteUtils), and registers the schema
as a base64 FileDescriptorProto. The Confluent framing is written here
instead: magic byte 0, the big-endian schema id, 0 for the first message.

usage: produce.py BOOTSTRAP REGISTRY_URL TOPIC
Prints the schema id.
"""
import os
import struct
import subprocess
import sys
import tempfile

from confluent_kafka import Producer
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

ORDER_PROTO = """syntax = "proto3";
package shop;

import "google/protobuf/timestamp.proto";
import "google/protobuf/wrappers.proto";

message Order {
  int64 id = 1;
  string customer = 2;
  google.protobuf.Timestamp placed = 3;
  Status status = 4;
  map<string, int32> counts = 5;
  repeated string tags = 6;
  oneof contact {
    string email = 7;
    string phone = 8;
  }
  google.protobuf.StringValue note = 9;
  Item item = 10;
  sint32 delta = 11;
  fixed64 big = 12;
  uint32 small = 13;
  double ratio = 14;
  bool paid = 15;
  bytes raw = 16;
  repeated Item items = 17;

  message Item {
    string sku = 1;
    int32 qty = 2;
  }
  enum Status {
    NEW = 0;
    SHIPPED = 1;
  }
}
"""

bootstrap, registry_url, topic = sys.argv[1], sys.argv[2], sys.argv[3]
with tempfile.TemporaryDirectory() as d:
    with open(os.path.join(d, "order.proto"), "w") as f:
        f.write(ORDER_PROTO)
    out = os.path.join(d, "set.pb")
    # google/protobuf/*.proto from protoc's own include directory
    subprocess.run(["protoc", "-I", d, "-I", "/usr/include", "--include_imports",
                    "--descriptor_set_out=" + out, "order.proto"], check=True)
    fds = descriptor_pb2.FileDescriptorSet()
    with open(out, "rb") as f:
        fds.ParseFromString(f.read())
pool = descriptor_pool.DescriptorPool()
for fdp in fds.file:
    pool.Add(fdp)
Order = message_factory.MessageFactory(pool).GetPrototype(pool.FindMessageTypeByName("shop.Order"))

registry = SchemaRegistryClient({"url": registry_url})
schema_id = registry.register_schema(topic + "-value", Schema(ORDER_PROTO, "PROTOBUF"))

m = Order()
m.id = 9000000000
m.customer = "Zoë"
m.placed.seconds = 1700000000
m.placed.nanos = 123000000
m.status = 1
m.counts["a"] = 1
m.counts["b"] = 2
m.tags.extend(["x", "y"])
m.phone = "+41 44 000 00 00"
m.note.value = "fragile"
m.item.sku = "S-1"
m.item.qty = 3
m.delta = -5
m.big = 18000000000000000000
m.small = 4000000000
m.ratio = 0.25
m.paid = True
m.raw = b"\x00\xff"
it = m.items.add()
it.sku = "S-2"
it.qty = 1

p = Producer({"bootstrap.servers": bootstrap})
p.produce(topic, value=b"\x00" + struct.pack(">I", schema_id) + b"\x00" + m.SerializeToString())
# an Order with every field at its default: only the framing and an empty message
p.produce(topic, value=b"\x00" + struct.pack(">I", schema_id) + b"\x00")
p.flush(30)
print(schema_id)
