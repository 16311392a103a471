"""Idempotent creates: a retry with the same ``Idempotency-Key`` gets the first answer back.

A phone on a village road loses the response to a POST and sends it again; without a key the
registry would hold the person twice. With a key, the first request stores its answer (status
and JSON body) under (user, key); a retry with the same body gets that answer and creates
nothing; the same key with a different body is refused, because that is a client bug that
would otherwise silently drop the second record.

The record is inserted *first*, inside the transaction that does the work. Two requests with
the same key at the same moment then meet at the unique constraint: the second waits for the
first (PostgreSQL blocks on the uncommitted index entry; SQLite serialises write transactions)
and, once the first commits, finds its row and replays its answer. If the first fails, its row
rolls back with it and the second runs as if it had been first. A failed request therefore
stores nothing: a retry after a validation error is a fresh attempt.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from .http import RequestRejected
from .models import IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 100


class IdempotencyError(RequestRejected):
    """A key that cannot be honoured: malformed, reused for another request, or busy."""

    def __init__(self, status: int, detail: str, message: str) -> None:
        super().__init__(status, detail, HEADER, message)


@dataclass(frozen=True)
class Outcome:
    """The answer to send: fresh, or replayed from the first request with the same key."""

    status: int
    body: Any
    replayed: bool = False


def check_key(key: str) -> str:
    """A key is 1–100 visible ASCII characters (a UUID fits; a NUL or a space does not)."""
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not all("!" <= c <= "~" for c in key):
        raise IdempotencyError(
            422,
            _("The request is malformed"),
            _("An idempotency key is 1 to %(max)d visible ASCII characters, such as a UUID")
            % {"max": MAX_KEY_LENGTH},
        )
    return key


def request_hash(endpoint: str, payload: Any) -> str:
    """A digest of what was asked, to tell a true retry from a different request."""
    canonical = json.dumps(
        [endpoint, payload], cls=DjangoJSONEncoder, sort_keys=True, ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _as_json(body: Any) -> Any:
    return json.loads(json.dumps(body, cls=DjangoJSONEncoder, ensure_ascii=False))


def _replay(record: IdempotencyRecord, digest: str) -> Outcome:
    if record.request_hash != digest:
        raise IdempotencyError(
            422,
            _("This idempotency key was already used for a different request"),
            _("Reuse a key only to retry the same request; use a new key for a new request"),
        )
    if record.status_code is None:
        raise _busy()
    return Outcome(status=record.status_code, body=record.response, replayed=True)


def _busy() -> IdempotencyError:
    return IdempotencyError(
        409,
        _("A request with this idempotency key is still being processed"),
        _("Try again in a moment"),
    )


def _represented(outcome: Outcome, represent: Callable[[Any], Any] | None) -> Outcome:
    if represent is None or not 200 <= outcome.status < 300:
        return outcome
    return Outcome(status=outcome.status, body=represent(outcome.body), replayed=True)


def _stored(user: Any, key: str) -> IdempotencyRecord | None:
    return IdempotencyRecord.objects.filter(user=user, key=key).first()


def run(
    *,
    user: Any,
    key: str | None,
    endpoint: str,
    payload: Any,
    perform: Callable[[], tuple[int, Any]],
    represent: Callable[[Any], Any] | None = None,
) -> Outcome:
    """Run ``perform`` (which returns status and JSON-able body) at most once per key.

    Without a key ``perform`` simply runs. ``payload`` is what identifies the request (the
    parsed body); ``endpoint`` keeps one key from being replayed on another endpoint.
    ``represent``, given the stored body, may present the created record afresh on a replay:
    masking, jurisdiction and the audit of unmasked reads then follow the user's rights
    *now*, not when the first answer was stored.
    """
    if key is None:
        status, body = perform()
        return Outcome(status=status, body=body)
    key = check_key(key)
    digest = request_hash(endpoint, payload)
    stored = _stored(user, key)
    if stored is not None:
        return _represented(_replay(stored, digest), represent)
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    user=user, key=key, endpoint=endpoint[:100], request_hash=digest
                )
        except IntegrityError:
            # Another request with this key committed while we were getting here.
            stored = _stored(user, key)
            if stored is None:
                raise _busy() from None
            replayed = _replay(stored, digest)
        else:
            status, body = perform()
            body = _as_json(body)
            record.status_code = status
            record.response = body
            record.save(update_fields=["status_code", "response"])
            return Outcome(status=status, body=body)
    return _represented(replayed, represent)
