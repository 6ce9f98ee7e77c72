"""Independent JSON Schema checks with Debian's python3-confluent-kafka
(librdkafka, its schema_registry client, JSONSerializer/JSONDeserializer)
and python3-jsonschema, against the registry and broker the Go test runs.

usage:
  jsonschema_check.py consume BOOTSTRAP REGISTRY_URL TOPIC COUNT
      reads COUNT records; each value is decoded by JSONDeserializer with
      the writer's schema fetched by id from the registry (the deserializer
      validates the payload against it with jsonschema) and printed as one
      JSON line; Decimals (connect.type bytes, title ...Decimal, scale in
      connect.parameters) are turned into decimal strings here, from the
      base64 two's-complement bytes Confluent's converter writes.
  jsonschema_check.py produce BOOTSTRAP REGISTRY_URL TOPIC
      produces records with JSONSerializer (auto-registering its schema).
"""
import base64
import decimal
import json
import struct
import sys

from confluent_kafka import Consumer, Producer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.json_schema import JSONDeserializer, JSONSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

mode, bootstrap, registry_url, topic = sys.argv[1:5]
registry = SchemaRegistryClient({"url": registry_url})


def nonnull(s):
    """The non-null branch of an optional schema."""
    for sub in s.get("oneOf", []):
        if sub.get("type") != "null":
            return sub
    return s


def plain(s, v):
    if v is None:
        return None
    s = nonnull(s)
    if s.get("title") == "org.apache.kafka.connect.data.Decimal" and s.get("connect.type") == "bytes":
        scale = int(s["connect.parameters"]["scale"])
        unscaled = int.from_bytes(base64.b64decode(v), "big", signed=True)
        return str(decimal.Decimal(unscaled).scaleb(-scale))
    if s.get("type") == "object" and "properties" in s:
        return {k: plain(s["properties"].get(k, {}), x) for k, x in v.items()}
    if s.get("type") == "array" and isinstance(s.get("items"), dict):
        return [plain(s["items"], x) for x in v]
    return v


if mode == "consume":
    count = int(sys.argv[5])
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "python-jsonschema-check",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe([topic])
    seen, idle = 0, 0
    try:
        while seen < count and idle < 60:
            msg = consumer.poll(1.0)
            if msg is None:
                idle += 1
                continue
            if msg.error():
                raise RuntimeError(str(msg.error()))
            out = {}
            for field, data in (("key", msg.key()), ("value", msg.value())):
                if data is None:
                    out[field] = None
                    continue
                magic, schema_id = struct.unpack(">bI", data[:5])
                registered = registry.get_schema(schema_id)
                deser = JSONDeserializer(registered.schema_str)
                ctx = SerializationContext(msg.topic(), MessageField.KEY if field == "key" else MessageField.VALUE)
                obj = deser(data, ctx)
                out[field] = plain(json.loads(registered.schema_str), obj)
                out[field + "_id"] = schema_id
                out[field + "_type"] = registered.schema_type
            print(json.dumps(out, sort_keys=True))
            seen += 1
    finally:
        consumer.close()
    if seen < count:
        sys.exit("consumed %d of %d records" % (seen, count))
elif mode == "produce":
    schema_str = json.dumps({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "Person",
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "score": {"type": "number"},
            "active": {"type": "boolean"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "nick": {"oneOf": [{"type": "null"}, {"type": "string"}]},
        },
        "required": ["id", "name"],
    })
    ser = JSONSerializer(schema_str, registry)
    producer = Producer({"bootstrap.servers": bootstrap})
    people = [
        {"id": 1, "name": "Ada", "score": 9.5, "active": True, "tags": ["x", "y"], "nick": None},
        {"id": 2, "name": "Ünïcødé ✓", "score": -0.25, "active": False, "tags": [], "nick": "bob"},
    ]
    for p in people:
        producer.produce(topic, value=ser(p, SerializationContext(topic, MessageField.VALUE)))
    if producer.flush(30) != 0:
        sys.exit("records not delivered")
    print(json.dumps({"produced": len(people)}))
