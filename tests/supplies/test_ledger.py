"""The stock ledger: every change is a movement, the balance is their sum, never negative."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from fangkong.core.errors import NotFound, PermissionDenied, ValidationFailed
from fangkong.core.roles import Role
from fangkong.supplies import services
from fangkong.supplies.models import DailyUse, Movement, StockLevel
from tests.conftest import FUQIANG

from .conftest import issue, receive

pytestmark = pytest.mark.django_db


def balance(store, item):
    level = StockLevel.objects.filter(warehouse=store, item=item).first()
    return level.quantity if level else Decimal(0)


def test_receipt_issue_and_balance_after(officer, store, masks, post):
    receive(officer, store, masks, 100, document="调拨单1")
    m = issue(officer, store, masks, 30, post, received_by="值班组长")
    assert m.quantity == -30 and m.balance_after == 70
    assert m.region_code == FUQIANG and m.by_user == officer
    assert balance(store, masks) == 70
    assert DailyUse.objects.get(warehouse=store, item=masks).quantity == 30


def test_issue_beyond_stock_is_refused_with_the_balance_named(officer, store, masks, post):
    receive(officer, store, masks, 5)
    with pytest.raises(ValidationFailed) as exc:
        issue(officer, store, masks, 6, post)
    assert exc.value.errors[0].field == "quantity"
    assert "库存不足" in exc.value.errors[0].message and "现有5个" in exc.value.errors[0].message
    assert balance(store, masks) == 5
    assert Movement.objects.count() == 1


def test_stocktake_records_the_difference(officer, store, masks):
    receive(officer, store, masks, 100)
    m = services.record_movement(
        actor=officer,
        data=services.MovementInput(
            warehouse_id=store.pk, item_id=masks.pk, kind="stocktake", quantity=Decimal(93)
        ),
    )
    assert m.quantity == -7 and m.balance_after == 93


def test_loss_needs_a_reason(officer, store, masks):
    receive(officer, store, masks, 10)
    with pytest.raises(ValidationFailed) as exc:
        services.record_movement(
            actor=officer,
            data=services.MovementInput(
                warehouse_id=store.pk, item_id=masks.pk, kind="loss", quantity=Decimal(1)
            ),
        )
    assert exc.value.errors[0].field == "reason"


def test_transfer_moves_both_sides(county_officer, store, other_store, masks):
    receive(county_officer, store, masks, 50)
    out, into = services.transfer(
        actor=county_officer, from_id=store.pk, to_id=other_store.pk, item_id=masks.pk, quantity=20
    )
    assert (out.quantity, into.quantity) == (-20, 20)
    assert balance(store, masks) == 30 and balance(other_store, masks) == 20
    with pytest.raises(ValidationFailed):
        services.transfer(
            actor=county_officer,
            from_id=store.pk,
            to_id=other_store.pk,
            item_id=masks.pk,
            quantity=31,
        )


def test_a_township_keeper_cannot_touch_another_townships_store(officer, other_store, masks):
    with pytest.raises(NotFound):
        receive(officer, other_store, masks, 10)


def test_a_keeper_cannot_issue_to_a_unit_outside_the_area(officer, store, masks, far_unit):
    receive(officer, store, masks, 10)
    with pytest.raises(NotFound):
        issue(officer, store, masks, 1, far_unit)


def test_roles_without_the_action_are_refused(make_user, store, masks):
    for role in (Role.CHECKPOINT_STAFF, Role.INSPECTOR, Role.VILLAGE_DOCTOR):
        with pytest.raises(PermissionDenied):
            receive(make_user(role, FUQIANG), store, masks, 1)


@pytest.mark.parametrize("bad", ["0", "-1", "abc", "1.0001", "1e12", "NaN"])
def test_bad_quantities_name_the_field(officer, store, masks, bad):
    with pytest.raises(ValidationFailed) as exc:
        services.record_movement(
            actor=officer,
            data=services.MovementInput(
                warehouse_id=store.pk, item_id=masks.pk, kind="receipt", quantity=bad
            ),
        )
    assert exc.value.errors[0].field == "quantity"


def test_future_times_are_refused(officer, store, masks):
    with pytest.raises(ValidationFailed) as exc:
        receive(officer, store, masks, 1, at=timezone.now() + dt.timedelta(hours=1))
    assert exc.value.errors[0].field == "at"


def test_a_retried_client_post_records_once(officer, store, masks):
    first = receive(officer, store, masks, 10, source="supplies.client:abc")
    again = receive(officer, store, masks, 10, source="supplies.client:abc")
    assert first.pk == again.pk and balance(store, masks) == 10


# Stock equals the sum of movements, for any sequence --------------------------------------

step = st.tuples(
    st.sampled_from(["receipt", "issue", "loss", "stocktake", "transfer"]),
    st.integers(min_value=0, max_value=1),  # which store
    st.decimals(min_value=Decimal("0.001"), max_value=Decimal(500), places=3),
)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
@given(steps=st.lists(step, min_size=1, max_size=25))
def test_stock_equals_the_sum_of_movements(
    county_officer, store, other_store, masks, post, far_unit, steps
):
    Movement.objects.all().delete()
    StockLevel.objects.all().delete()
    DailyUse.objects.all().delete()
    stores, units = [store, other_store], [post, far_unit]
    expected = [Decimal(0), Decimal(0)]
    for kind, n, qty in steps:
        here, there = stores[n], stores[1 - n]
        try:
            if kind == "transfer":
                services.transfer(
                    actor=county_officer,
                    from_id=here.pk,
                    to_id=there.pk,
                    item_id=masks.pk,
                    quantity=qty,
                )
                expected[n] -= qty
                expected[1 - n] += qty
            elif kind == "issue":
                issue(county_officer, here, masks, qty, units[n])
                expected[n] -= qty
            else:
                services.record_movement(
                    actor=county_officer,
                    data=services.MovementInput(
                        warehouse_id=here.pk,
                        item_id=masks.pk,
                        kind=kind,
                        quantity=qty,
                        reason="测试",
                    ),
                )
                expected[n] = (
                    qty
                    if kind == "stocktake"
                    else expected[n] + (qty if kind == "receipt" else -qty)
                )
        except ValidationFailed:
            assert expected[n] < qty  # only refused when there was too little
        for i, s in enumerate(stores):
            total = Movement.objects.filter(warehouse=s, item=masks).aggregate(t=Sum("quantity"))[
                "t"
            ]
            total = Decimal(str(total or 0)).quantize(Decimal("0.001"))  # SQLite sums floats
            assert balance(s, masks) == total == expected[i]
            assert balance(s, masks) >= 0
    levels = StockLevel.objects.exclude(quantity=0)
    before = {(lv.warehouse_id, lv.item_id): lv.quantity for lv in levels}
    services.rebuild_balances()
    after = {(lv.warehouse_id, lv.item_id): lv.quantity for lv in levels.all()}
    assert before == after
