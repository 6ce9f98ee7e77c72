"""Registers JSON schemas with a reference through confluent_kafka's
SchemaRegistryClient (Debian's python3-confluent-kafka) against the registry
at argv[1], and prints what the client read back, as JSON, for the Go test
to check."""
import json
import sys

from confluent_kafka.schema_registry import (Schema, SchemaReference,
                                             SchemaRegistryClient)
from confluent_kafka.schema_registry.error import SchemaRegistryError

url = sys.argv[1]
client = SchemaRegistryClient({"url": url})

address = json.dumps({
    "$schema": "http://json-schema.org/draft-07/schema#",
    "$id": "http://example.com/address.schema.json",
    "title": "Address",
    "type": "object",
    "properties": {"street": {"type": "string"}, "city": {"type": "string"}},
    "required": ["street"],
})
person = json.dumps({
    "$schema": "http://json-schema.org/draft-07/schema#",
    "$id": "http://example.com/person.schema.json",
    "title": "Person",
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "address": {"$ref": "address.schema.json"},
    },
})
out = {}
out["address_id"] = client.register_schema("address", Schema(address, "JSON"))
ref = SchemaReference("address.schema.json", "address", 1)
out["person_id"] = client.register_schema("person-value", Schema(person, "JSON", [ref]))
got = client.get_schema(out["person_id"])
out["person_type"] = got.schema_type
out["person_refs"] = [{"name": r.name, "subject": r.subject, "version": r.version} for r in got.references]
out["person_text_equal"] = json.loads(got.schema_str) == json.loads(person)
reg = client.lookup_schema("person-value", Schema(person, "JSON", [ref]))
out["lookup"] = {"id": reg.schema_id, "subject": reg.subject, "version": reg.version}
latest = client.get_latest_version("person-value")
out["latest"] = {"id": latest.schema_id, "version": latest.version, "type": latest.schema.schema_type}
try:
    client.delete_version("address", 1)
    out["delete_referenced"] = "deleted"
except SchemaRegistryError as e:
    out["delete_referenced"] = e.error_code
try:
    bad = SchemaReference("missing.json", "nobody", 1)
    client.register_schema("broken-value", Schema(person, "JSON", [bad]))
    out["bad_ref"] = "registered"
except SchemaRegistryError as e:
    out["bad_ref"] = e.error_code
print(json.dumps(out, sort_keys=True))
