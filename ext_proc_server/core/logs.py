"""Logging set-up shared by every mockado process.

``--log-format json`` gives one JSON object per line with time, level,
component, namespace (when known) and message. Log calls pass only bounded,
non-sensitive values: never header values, bodies or paths.
"""

from __future__ import annotations

import json
import logging
import sys
import time


class JsonFormatter(logging.Formatter):
    def __init__(self, *, component: str) -> None:
        super().__init__()
        self.component = component

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "component": getattr(record, "component", self.component),
            "logger": record.name,
            "message": record.getMessage(),
        }
        namespace = getattr(record, "namespace", None)
        if namespace:
            entry["namespace"] = namespace
        if record.exc_info and record.exc_info[0] is not None:
            # The exception type only: tracebacks can quote raw values.
            entry["error"] = record.exc_info[0].__name__
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self, *, component: str) -> None:
        super().__init__(f"%(asctime)s %(levelname)s {component} %(name)s: %(message)s")

    def formatException(self, ei) -> str:
        # Tracebacks can quote raw request values through exception messages; log the type only.
        return f"  error: {ei[0].__name__ if ei and ei[0] else 'unknown'}"


def setup_logging(*, component: str, log_format: str = "text", level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    formatter: logging.Formatter = (
        JsonFormatter(component=component)
        if log_format == "json"
        else TextFormatter(component=component)
    )
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Libraries log request details at debug level; keep them quiet.
    for noisy in ("httpx", "httpcore", "uvicorn.access", "grpc"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
