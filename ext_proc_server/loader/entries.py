"""One stream entry as the loader holds it, and how a raw entry becomes one."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

from ext_proc_server.core.errors import QueueError
from ext_proc_server.core.queue_entries import FIELD_HOST, FIELD_MAPPING, decode_entry
from ext_proc_server.loader.wiremock_client import encode_mapping

_ID_NAMESPACE = uuid.UUID("6f1c3c1e-5b7a-4d0e-9a51-6d6f636b6164")


def as_text(value: bytes | str) -> str:
    """A Redis reply value as str (redis-py answers bytes)."""
    return value.decode() if isinstance(value, bytes) else value


def entry_time_s(entry_id: str) -> float:
    """When Redis added a stream entry, from its id ("<ms>-<seq>")."""
    return int(entry_id.split("-", 1)[0]) / 1000


@dataclass(slots=True)
class QueueItem:
    """One stream entry this consumer holds."""

    entry_id: str
    deliveries: int
    host: str = ""
    mapping: dict[str, Any] | None = None
    # ``mapping`` as compact JSON: the queue's own text when the loader left it as is.
    encoded: str = ""
    # Why the entry could not be used (bounded text: no content).
    invalid_reason: str | None = None

    @property
    def mapping_id(self) -> str:
        return str(self.mapping["id"]) if self.mapping else ""

    def mapping_json(self) -> str:
        return self.encoded or (encode_mapping(self.mapping) if self.mapping else "")


def parse_entry(entry_id: str, fields: Any, *, deliveries: int) -> QueueItem:
    """A stream entry -> QueueItem; a bad entry keeps ``invalid_reason`` instead of raising."""
    fields = fields or {}
    host = as_text(fields.get(FIELD_HOST.encode(), fields.get(FIELD_HOST, b"")))
    try:
        mapping, host = decode_entry(fields)
    except QueueError as exc:
        return QueueItem(entry_id, deliveries, host=host, invalid_reason=str(exc))
    mapping_id = mapping.get("id", mapping.get("uuid"))
    changed = "id" not in mapping
    if mapping_id is None:
        # The generator sets deterministic ids; derive one from the content otherwise so
        # a replay still overwrites instead of duplicating.
        canonical = json.dumps(mapping, sort_keys=True, separators=(",", ":")).encode()
        mapping_id = str(uuid.uuid5(_ID_NAMESPACE, hashlib.sha256(canonical).hexdigest()))
        mapping = {**mapping, "id": mapping_id}
    elif not isinstance(mapping_id, str) or not mapping_id:
        return QueueItem(
            entry_id, deliveries, host=host, invalid_reason="mapping id is not a string"
        )
    elif "id" not in mapping:
        mapping = {**mapping, "id": mapping_id}
    for part in ("request", "response"):
        if part in mapping and not isinstance(mapping[part], dict):
            return QueueItem(
                entry_id, deliveries, host=host, invalid_reason=f"{part} is not an object"
            )
    raw = fields.get(FIELD_MAPPING.encode(), fields.get(FIELD_MAPPING))
    encoded = encode_mapping(mapping) if changed else as_text(raw)
    return QueueItem(entry_id, deliveries, host=host, mapping=mapping, encoded=encoded)
