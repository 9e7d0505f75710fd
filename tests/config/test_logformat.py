from __future__ import annotations

import json
import logging
import sys

from config.logformat import JsonFormatter
from tests.support.processes import environment, run_python

LOGS_SOMETHING = """
import logging, django
django.setup()
log = logging.getLogger("anchorage.test")
log.info("hello %s", "world")
try:
    1 / 0
except ZeroDivisionError:
    log.exception("it broke\\non two lines")
"""


def run_logging(log_format: str | None) -> str:
    done = run_python("-c", LOGS_SOMETHING, env=environment({"LOG_FORMAT": log_format}))
    return done.stderr


def test_json_formatter_keeps_the_traceback_inside_one_object():
    try:
        raise ValueError("bad value")
    except ValueError:
        record = logging.LogRecord(
            "links.tasks", logging.ERROR, __file__, 1, "failed %d", (3,), sys.exc_info()
        )
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "ERROR"
    assert entry["logger"] == "links.tasks"
    assert entry["message"] == "failed 3"
    assert entry["time"].endswith("+00:00")
    assert "ValueError: bad value" in entry["exc_info"]


def test_log_format_json_makes_every_line_a_json_object():
    lines = run_logging("json").splitlines()
    entries = [json.loads(line) for line in lines]  # fails on any line that is not JSON
    # Apps log at start-up too (django-axes announces itself): only ours are compared.
    entries = [e for e in entries if e["logger"] == "anchorage.test"]
    assert [(e["logger"], e["message"]) for e in entries] == [
        ("anchorage.test", "hello world"),
        ("anchorage.test", "it broke\non two lines"),
    ]
    assert "exc_info" not in entries[0]
    assert "ZeroDivisionError" in entries[1]["exc_info"]


def test_plain_is_the_default_and_stays_human():
    output = run_logging(None)
    assert "INFO anchorage.test: hello world" in output
    assert "Traceback (most recent call last)" in output
