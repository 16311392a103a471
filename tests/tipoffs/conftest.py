"""Fixtures of the tip-off tests: a reward rule, a penalty rule, users of villages A and C,
and a helper that sends a tip through the public form's service."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.utils import timezone
from PIL import Image

from fangkong.core.roles import Role
from fangkong.tipoffs import services
from fangkong.tipoffs.models import PenaltyRule, RewardRule
from tests.conftest import COUNTY, VILLAGE_A, VILLAGE_C


def jpeg(size=(64, 48), exif: bytes | None = None, color="red") -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", size, color)
    if exif is not None:
        image.save(out, format="JPEG", exif=exif)
    else:
        image.save(out, format="JPEG")
    return out.getvalue()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Blocked addresses and the village list live in the cache: none carried between tests."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def rules(db):
    now = timezone.now()
    RewardRule.objects.create(amount=500, valid_from=now - dt.timedelta(days=30))
    PenaltyRule.objects.create(
        cutoff=(now - dt.timedelta(days=10)).date(),
        amount_before=2022,
        amount_after=5000,
        valid_from=now - dt.timedelta(days=30),
    )


@pytest.fixture
def inspector(make_user):
    return make_user(Role.INSPECTOR, COUNTY, username="ducha")


@pytest.fixture
def cadre_a(make_user):
    return make_user(Role.VILLAGE_CADRE, VILLAGE_A, username="cun_a")


@pytest.fixture
def cadre_c(make_user):
    return make_user(Role.VILLAGE_CADRE, VILLAGE_C, username="cun_c")


@pytest.fixture
def submit(county):
    counter = iter(range(10_000))

    def send(
        village=VILLAGE_A,
        kind="returnee",
        *,
        photos=(),
        address=None,
        device=None,
        now=None,
        **extra,
    ):
        now = now or timezone.now()
        n = next(counter)
        return services.submit_public_tip(
            data=services.TipInput(
                kind=kind, region_code=village, text=extra.pop("text", "有人返乡未登记"), **extra
            ),
            photos=photos,
            address=address or f"10.0.{n // 250}.{n % 250 + 1}",
            device_token=device or f"device{n:012d}",
            form_stamp=services.form_token(now - dt.timedelta(seconds=30)),
            now=now,
        )

    return send
