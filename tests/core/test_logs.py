"""A refused request is logged as one line; a server error keeps its traceback."""

from __future__ import annotations

import logging

from fangkong.core.logs import DenialsWithoutTraceback


def _record(status: int) -> logging.LogRecord:
    try:
        raise PermissionError("no")
    except PermissionError:
        import sys

        record = logging.LogRecord(
            "django.request",
            logging.WARNING,
            __file__,
            1,
            "Forbidden: %s",
            ("/x/",),
            sys.exc_info(),
        )
    record.status_code = status
    return record


def test_a_denial_loses_its_traceback_and_a_500_keeps_it():
    quiet = DenialsWithoutTraceback()
    for status in (403, 404):
        record = _record(status)
        assert quiet.filter(record) is True
        assert record.exc_info is None
        assert logging.Formatter().format(record) == "Forbidden: /x/"
    error = _record(500)
    assert quiet.filter(error) is True
    assert "Traceback" in logging.Formatter().format(error)


def test_the_console_handler_carries_the_filter():
    from django.conf import settings

    assert settings.LOGGING["handlers"]["console"]["filters"] == ["denials"]
