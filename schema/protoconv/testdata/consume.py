"""Independent Protobuf consumer: Debian's python3-confluent-kafka (librdkafka
consumer, schema_registry client, ProtobufDeserializer), Google's protoc
(protobuf-compiler) and python3-protobuf.

confluent-kafka 1.7's ProtobufDeserializer needs a generated message class and
never asks the registry. The class is built here at run time from what the
registry holds: the schema of the record's id and, recursively, every
reference (subject/version) are written to a temporary directory under their
import names, protoc compiles them into a FileDescriptorSet
(--include_imports), the files are added to a fresh
google.protobuf.descriptor_pool, and message_factory makes the class of the
first message of the registered file (the record's message index must be the
single 0 that stands for it). The class is handed to ProtobufDeserializer,
which checks the magic byte, skips id and indexes and parses the message.

usage: consume.py BOOTSTRAP REGISTRY_URL TOPIC COUNT
Prints one JSON object per record:
{"key": ..., "value": ..., "key_id": n, "value_id": n, "key_schema": "...", "value_schema": "..."}
with messages as google.protobuf.json_format.MessageToDict gives them
(proto field names, 64-bit integers as strings, bytes as base64, Timestamp as
RFC 3339) and the protoc full name of the message.
"""
import json
import os
import struct
import subprocess
import sys
import tempfile

from confluent_kafka import Consumer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer
from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory

bootstrap, registry_url, topic, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
registry = SchemaRegistryClient({"url": registry_url})
deserializers = {}


def ref_fields(ref):
    # confluent-kafka 1.7 gives SchemaReference objects for get_schema but
    # plain dicts inside get_version's schema
    if isinstance(ref, dict):
        return ref["name"], ref["subject"], ref["version"]
    return ref.name, ref.subject, ref.version


def write_refs(directory, refs, done):
    for ref in refs or []:
        name, subject, version = ref_fields(ref)
        if name in done:
            continue
        registered = registry.get_version(subject, version)
        path = os.path.join(directory, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(registered.schema.schema_str)
        done.add(name)
        write_refs(directory, registered.schema.references, done)


def message_class(schema_id):
    schema = registry.get_schema(schema_id)
    if schema.schema_type != "PROTOBUF":
        raise ValueError("schema %d is %s" % (schema_id, schema.schema_type))
    with tempfile.TemporaryDirectory() as d:
        main = "registered_%d.proto" % schema_id
        with open(os.path.join(d, main), "w") as f:
            f.write(schema.schema_str)
        write_refs(d, schema.references, set())
        out = os.path.join(d, "set.pb")
        # -I d only: every import must come from the registry's references
        subprocess.run(["protoc", "-I", d, "--include_imports", "--descriptor_set_out=" + out, main], check=True)
        fds = descriptor_pb2.FileDescriptorSet()
        with open(out, "rb") as f:
            fds.ParseFromString(f.read())
    pool = descriptor_pool.DescriptorPool()
    for fdp in fds.file:
        pool.Add(fdp)
    fd = pool.FindFileByName(main)
    desc = list(fd.message_types_by_name.values())[0]
    return message_factory.MessageFactory(pool).GetPrototype(desc), schema.schema_str


def decode(data):
    if data is None:
        return None, None, None
    magic, schema_id = struct.unpack(">bI", data[:5])
    if magic != 0:
        raise ValueError("unknown magic byte %d" % magic)
    if data[5] != 0:
        raise ValueError("message indexes %r are not the first message" % data[5:7])
    if schema_id not in deserializers:
        cls, _ = message_class(schema_id)
        deserializers[schema_id] = (ProtobufDeserializer(cls), cls.DESCRIPTOR.full_name)
    deser, name = deserializers[schema_id]
    msg = deser(data, None)
    return json_format.MessageToDict(msg, preserving_proto_field_name=True), schema_id, name


consumer = Consumer({
    "bootstrap.servers": bootstrap,
    "group.id": "python-protobuf-check",
    "auto.offset.reset": "earliest",
    "enable.auto.commit": False,
})
consumer.subscribe([topic])
seen = 0
idle = 0
try:
    while seen < count and idle < 60:
        msg = consumer.poll(1.0)
        if msg is None:
            idle += 1
            continue
        if msg.error():
            raise RuntimeError(str(msg.error()))
        key, key_id, key_name = decode(msg.key())
        value, value_id, value_name = decode(msg.value())
        print(json.dumps({"key": key, "value": value, "key_id": key_id, "value_id": value_id,
                          "key_schema": key_name, "value_schema": value_name}, sort_keys=True))
        sys.stdout.flush()
        seen += 1
finally:
    consumer.close()
if seen < count:
    sys.exit("read %d of %d records" % (seen, count))
