"""Fixtures for supplies: the catalogue, a township store in 富强镇 and one in 拜泉镇, their
keepers, and receiving units (a checkpoint and a village) supplied by the 富强镇 store."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fangkong.core.roles import Role
from fangkong.supplies import services
from fangkong.supplies.catalogue import ensure_catalogue
from fangkong.supplies.models import Item
from tests.conftest import BAIQUAN, COUNTY, FUQIANG, VILLAGE_A, VILLAGE_C


@pytest.fixture
def catalogue(db):
    ensure_catalogue()  # the data migration made it; transactional tests flush it away
    return {i.code: i for i in Item.objects.all()}


@pytest.fixture
def masks(catalogue):
    return catalogue["mask_surgical"]


@pytest.fixture
def officer(make_user):
    """The keeper of the 富强镇 store (a supply officer of the township)."""
    return make_user(Role.SUPPLY_OFFICER, FUQIANG, username="keeper_fq", display_name="李保管")


@pytest.fixture
def county_officer(make_user):
    return make_user(Role.SUPPLY_OFFICER, COUNTY, username="wuzi_t", display_name="郑伟")


@pytest.fixture
def other_officer(make_user):
    return make_user(Role.SUPPLY_OFFICER, BAIQUAN, username="keeper_bq")


@pytest.fixture
def store(county_officer, catalogue):
    return services.create_warehouse(
        actor=county_officer,
        name="富强镇物资库",
        level="township",
        region_code=FUQIANG,
        keeper_name="李保管",
    )


@pytest.fixture
def other_store(county_officer, catalogue):
    return services.create_warehouse(
        actor=county_officer,
        name="拜泉镇物资库",
        level="township",
        region_code=BAIQUAN,
        keeper_name="王保管",
    )


@pytest.fixture
def county_store(county_officer, catalogue):
    return services.create_warehouse(
        actor=county_officer,
        name="县应急物资储备库",
        level="county",
        region_code=COUNTY,
        keeper_name="郑伟",
    )


@pytest.fixture
def post(county_officer, store):
    return services.create_recipient(
        actor=county_officer,
        name="富强镇东卡点",
        kind="checkpoint",
        region_code=FUQIANG,
        warehouse_id=store.pk,
        staff_on_duty=6,
    )


@pytest.fixture
def village_unit(county_officer, store):
    return services.create_recipient(
        actor=county_officer,
        name="富强村",
        kind="village",
        region_code=VILLAGE_A,
        warehouse_id=store.pk,
        population=1200,
    )


@pytest.fixture
def far_unit(county_officer, other_store):
    return services.create_recipient(
        actor=county_officer,
        name="东升社区",
        kind="village",
        region_code=VILLAGE_C,
        warehouse_id=other_store.pk,
    )


def receive(actor, store, item, qty, **kw):
    return services.record_movement(
        actor=actor,
        data=services.MovementInput(
            warehouse_id=store.pk, item_id=item.pk, kind="receipt", quantity=Decimal(qty), **kw
        ),
    )


def issue(actor, store, item, qty, recipient, **kw):
    return services.record_movement(
        actor=actor,
        data=services.MovementInput(
            warehouse_id=store.pk,
            item_id=item.pk,
            kind="issue",
            quantity=Decimal(qty),
            recipient_id=recipient.pk,
            **kw,
        ),
    )
