"""LOG_FORMAT=json: one JSON object a line, exceptions included, for a log collector."""

from __future__ import annotations

import io
import json
import logging

from bot.logs import JsonFormatter, formatter


def test_each_record_is_one_line_of_json_with_its_traceback() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter("json"))
    log = logging.getLogger("enrollbot.test.logs")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning("outbox %d: Coachview answered %s", 7, "503 — later")
        try:
            raise ValueError("broken\non two lines")
        except ValueError:
            log.exception("it failed")
    finally:
        log.removeHandler(handler)
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["message"] == "outbox 7: Coachview answered 503 — later"
    assert (first["level"], first["logger"]) == ("WARNING", "enrollbot.test.logs")
    assert first["time"].endswith("+00:00")
    assert second["message"] == "it failed"
    assert "ValueError: broken\non two lines" in second["exception"]


def test_text_stays_the_default() -> None:
    assert not isinstance(formatter("text"), JsonFormatter)
