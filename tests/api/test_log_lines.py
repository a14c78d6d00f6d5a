"""Issue 8 (minor): the text log format escapes control characters, so a request cannot forge lines."""

from __future__ import annotations

import logging

from xmodal.api.observability import TextFormatter


def test_a_newline_in_a_logged_path_stays_on_one_line() -> None:
    forged = "/a\n2026 INFO xmodal fake"
    record = logging.LogRecord("xmodal.api", logging.INFO, __file__, 1, "GET %s 404", (forged,), None)
    line = TextFormatter().format(record)
    assert "\n" not in line and line.endswith("GET /a\\n2026 INFO xmodal fake 404")
