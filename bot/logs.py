"""Log lines for people (the default) or for log collectors (``LOG_FORMAT=json``).

A JSON line is one object: ``time`` (ISO 8601, UTC), ``level``, ``logger``, ``message`` and,
for an exception, ``exception`` (its traceback as text). The standard library's ``json`` writes
it; nothing is added that the text format does not show, so the rules on personal data and
secrets in log lines hold for both.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

__all__ = ["TEXT_FORMAT", "JsonFormatter", "formatter"]

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object a line."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False)


def formatter(log_format: str) -> logging.Formatter:
    """The formatter ``LOG_FORMAT`` asks for (``text`` or ``json``)."""
    return JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
