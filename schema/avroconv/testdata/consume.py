"""Independent Avro consumer: Debian's python3-confluent-kafka (librdkafka
consumer + schema_registry client) and Apache's python3-avro decoder.

usage: consume.py BOOTSTRAP REGISTRY_URL TOPIC COUNT
Prints one JSON object per record: {"key": ..., "value": ..., "key_id": n, "value_id": n}.
"""
import base64
import datetime
import decimal
import io
import json
import struct
import sys

import avro.io
import avro.schema
from confluent_kafka import Consumer
from confluent_kafka.schema_registry import SchemaRegistryClient

bootstrap, registry_url, topic, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
registry = SchemaRegistryClient({"url": registry_url})
readers = {}


def decode(data):
    if data is None:
        return None, None
    magic, schema_id = struct.unpack(">bI", data[:5])
    if magic != 0:
        raise ValueError("unknown magic byte %d" % magic)
    if schema_id not in readers:
        text = registry.get_schema(schema_id).schema_str
        parse = getattr(avro.schema, "parse", None) or avro.schema.Parse
        readers[schema_id] = avro.io.DatumReader(parse(text))
    value = readers[schema_id].read(avro.io.BinaryDecoder(io.BytesIO(data[5:])))
    return value, schema_id


def plain(v):
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [plain(x) for x in v]
    if isinstance(v, decimal.Decimal):
        return {"decimal": str(v)}
    if isinstance(v, bytes):
        return {"base64": base64.b64encode(v).decode()}
    if isinstance(v, datetime.datetime):
        return {"timestamp_ms": int(v.timestamp() * 1000)}
    if isinstance(v, datetime.date):
        return {"date": v.isoformat()}
    if isinstance(v, datetime.time):
        return {"time": v.isoformat()}
    return v


consumer = Consumer({
    "bootstrap.servers": bootstrap,
    "group.id": "python-avro-check",
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
        key, key_id = decode(msg.key())
        value, value_id = decode(msg.value())
        print(json.dumps({"key": plain(key), "value": plain(value), "key_id": key_id, "value_id": value_id}, sort_keys=True))
        seen += 1
finally:
    consumer.close()
if seen < count:
    sys.exit("consumed %d of %d records" % (seen, count))
