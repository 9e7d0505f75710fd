"""``LOG_FORMAT=json``: one JSON object per log line, for log shippers (Loki,
Elasticsearch, CloudWatch) that would otherwise split a traceback into many
unrelated lines."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exc_info"] = record.exc_text
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        # default=str: a message is already a string, but an exception's text may
        # carry bytes or other objects that json cannot encode on its own.
        return json.dumps(entry, ensure_ascii=False, default=str)
