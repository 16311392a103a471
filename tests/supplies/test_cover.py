"""Days of cover: the arithmetic (plain functions, property-tested) and the figures read
from the ledger (recent use, planned use per checkpoint shift, the < 3 days alert)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from freezegun import freeze_time
from hypothesis import given
from hypothesis import strategies as st

from fangkong.supplies import cover, selectors

from .conftest import issue, receive

D = Decimal
amounts = st.decimals(min_value=D(0), max_value=D(10**6), places=3)
rates = st.decimals(min_value=D("0.001"), max_value=D(10**5), places=3)


def test_the_arithmetic_by_hand():
    assert cover.daily_rate([D(70)]) == D(10)
    assert cover.daily_rate([D(70)], planned=D(12)) == D(12)
    assert cover.days_of_cover(D(25), D(10)) == D("2.5")
    assert cover.days_of_cover(D(10), D(3)) == D("3.3")  # rounded down, never up
    assert cover.days_of_cover(D(10), D(0)) is None
    assert cover.days_of_cover(D(0), D(4)) == 0
    assert cover.is_short(D("2.9")) and not cover.is_short(D(3)) and not cover.is_short(None)
    now = dt.datetime(2026, 3, 1, 8, tzinfo=dt.UTC)
    assert cover.run_out(now, D(15), D(10)) == now + dt.timedelta(hours=36)


@given(stock=amounts, rate=rates)
def test_cover_never_overstates(stock, rate):
    days = cover.days_of_cover(stock, rate)
    assert days is not None and days >= 0
    assert days * rate <= stock  # rounding down: the stock really lasts that long
    assert (days + D("0.1")) * rate > stock  # and not a tenth of a day longer


@given(used=st.lists(amounts, max_size=7), planned=amounts, stock=amounts)
def test_cover_is_short_exactly_below_three_days_at_the_higher_rate(used, planned, stock):
    rate = cover.daily_rate(used, planned=planned)
    assert rate >= planned and rate * 7 >= sum(used) - D("0.000001")
    days = cover.days_of_cover(stock, rate)
    assert cover.is_short(days) == (rate > 0 and stock < 3 * rate)


@given(
    available=st.integers(min_value=0, max_value=10_000),
    demands=st.lists(
        st.tuples(st.integers(min_value=0, max_value=5000), st.integers(min_value=0, max_value=50)),
        max_size=8,
    ),
)
def test_fair_share_never_gives_more_than_asked_or_held(available, demands):
    asks = [(D(a), D(w)) for a, w in demands]
    shares = cover.fair_share(D(available), asks)
    assert len(shares) == len(asks)
    assert sum(shares) <= available
    assert all(0 <= s <= a for s, (a, _) in zip(shares, asks, strict=True))
    if sum(a for a, _ in asks) <= available:
        assert shares == [a for a, _ in asks]


def test_fair_share_follows_the_weights_when_short():
    # 100 masks; a post with 6 on duty asks 100, one with 2 asks 100, a small one asks 10.
    assert cover.fair_share(D(100), [(D(100), D(6)), (D(100), D(2)), (D(10), D(1))]) == [
        D(67),
        D(22),
        D(10),
    ]


@pytest.mark.django_db
def test_cover_from_the_last_seven_days(officer, store, masks, post):
    now = timezone.now()
    with freeze_time(now - dt.timedelta(days=8)):
        receive(officer, store, masks, 1000)
    for days_ago in range(7, 0, -1):
        issue(officer, store, masks, 100, post, at=now - dt.timedelta(days=days_ago))
    # Planned use: 6 on duty x 3 masks = 18 a day, below the recent 100 a day.
    found = selectors.cover_for(warehouse_id=store.pk, item=masks, now=now)
    assert found.stock == 300 and found.rate == 100 and found.days == 3 and not found.short
    issue(officer, store, masks, 1, post)
    found = selectors.cover_for(warehouse_id=store.pk, item=masks, now=now)
    assert found.days == D("2.9") and found.short


@pytest.mark.django_db
def test_planned_use_covers_a_store_without_history(officer, store, masks, post):
    receive(officer, store, masks, 36)
    found = selectors.cover_for(warehouse_id=store.pk, item=masks)
    assert found.rate == 18 and found.days == 2 and found.short  # 6 on duty x 3 masks


@pytest.mark.django_db
def test_stock_as_of_a_past_moment(officer, store, masks, post):
    receive(officer, store, masks, 100)
    before = timezone.now()
    with freeze_time(before + dt.timedelta(minutes=5)):
        issue(officer, store, masks, 40, post)
    later = before + dt.timedelta(minutes=10)
    with freeze_time(later):
        past = selectors.all_covers(now=before + dt.timedelta(minutes=2), warehouse_ids=[store.pk])
    assert [c.stock for c in past if c.item_id == masks.pk] == [100]


def test_every_supplies_action_label_reads_in_chinese():
    import re

    from django.utils import translation

    from fangkong.core.roles import Action

    with translation.override("zh-hans"):
        labels = [str(a.label) for a in Action if a.value.startswith("supplies.")]
    assert len(labels) == 6
    assert all(re.search(r"[\u4e00-\u9fff]", label) for label in labels), labels
