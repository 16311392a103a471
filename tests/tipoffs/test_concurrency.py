"""Two submissions of one sender at the same moment: the rate limit still holds (PostgreSQL,
where the count and the insert run under a per-sender advisory lock)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection, connections
from django.utils import timezone

from fangkong.core.errors import ValidationFailed
from fangkong.tipoffs import services
from fangkong.tipoffs.models import TipOff
from tests.conftest import VILLAGE_A


@pytest.mark.django_db(transaction=True)
def test_concurrent_submissions_do_not_pass_the_device_limit(county):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; the advisory lock is PostgreSQL's")
    device = "samephone-concurrent"
    now = timezone.now()

    def send(n: int) -> None:
        services.submit_public_tip(
            data=services.TipInput(kind="other", region_code=VILLAGE_A, text=f"x{n}"),
            address=f"198.18.0.{n + 1}",
            device_token=device,
            form_stamp=services.form_token(now - dt.timedelta(seconds=30)),
        )

    for n in range(services.DEVICE_LIMIT[0] - 1):
        send(n)
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def racer(n: int) -> None:
        barrier.wait()
        try:
            send(n)
            outcomes.append("stored")
        except ValidationFailed:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=racer, args=(10 + n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused", "refused", "refused", "stored"]
    assert TipOff.objects.count() == services.DEVICE_LIMIT[0]
