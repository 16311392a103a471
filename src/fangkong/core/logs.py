"""Logging filters: what the server log says about refused requests.

Django logs every 403 with the exception's whole traceback ("Forbidden (Permission
denied)"). A role reaching for an action it lacks is routine, already audited as a denial,
and the tracebacks buried the server's real errors (a demo walk left thirteen of them). The
line stays (path and status); the traceback goes. 500s keep theirs.
"""

from __future__ import annotations

import logging


class DenialsWithoutTraceback(logging.Filter):
    """Drop the traceback of a ``django.request`` record about a 403 or 404 answer."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) in (403, 404):
            record.exc_info = None
            record.exc_text = None
        return True
