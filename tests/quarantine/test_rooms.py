"""Sites and rooms: no double booking, even under concurrent requests; families share."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from fangkong.core.errors import NotFound, ValidationFailed
from fangkong.people.models import Household
from fangkong.quarantine import selectors, services
from fangkong.quarantine.models import IsolationOrder, Room
from tests.conftest import FUQIANG, GRID_A1, GRID_A2, VILLAGE_C


def _site(township, beds=1, rooms=("101",)):
    site = services.create_site(user=township, name="富强镇隔离点", region_code=FUQIANG)
    return site, services.add_rooms(
        user=township, site_id=site.pk, numbers=list(rooms), capacity=beds
    )


def _central(make_order, person, township):
    return make_order(
        person=person,
        by=township,
        kind="centralised",
        cost_bearer="government",
        starts_at=timezone.now() - dt.timedelta(days=1),
    )


@pytest.mark.django_db
def test_a_family_shares_a_room_and_others_are_refused(make_order, make_person, township):
    _site_obj, (room,) = _site(township, beds=3)
    home = Household.objects.create(region_id=GRID_A1, address="一组 1 号")
    other_home = Household.objects.create(region_id=GRID_A2, address="二组 9 号")
    father = _central(make_order, make_person(name="王强", household=home), township)
    son = _central(make_order, make_person(name="王小强", household=home), township)
    stranger = _central(make_order, make_person(GRID_A2, "赵六", household=other_home), township)
    services.assign_room(user=township, order_id=father.pk, version=father.version, room_id=room.pk)
    services.assign_room(user=township, order_id=son.pk, version=son.version, room_id=room.pk)
    with pytest.raises(ValidationFailed) as exc:
        services.assign_room(
            user=township, order_id=stranger.pk, version=stranger.version, room_id=room.pk
        )
    assert "101" in exc.value.errors[0].message
    room.refresh_from_db()
    assert (room.occupants, room.party) == (2, f"h{home.pk}")
    occupancy = selectors.site_occupancy(township)
    assert occupancy[0]["free_beds"] == 1 and occupancy[0]["free_rooms"] == 0
    # Leaving frees the bed; the last to leave frees the room.
    father = IsolationOrder.objects.get(pk=father.pk)
    services.end_order_early(
        user=township, order_id=father.pk, version=father.version, reason="转院"
    )
    son = IsolationOrder.objects.get(pk=son.pk)
    services.transfer_order(
        user=township,
        order_id=son.pk,
        version=son.version,
        to="hospital",
        reason="发热",
        hospital="县医院",
    )
    room.refresh_from_db()
    assert (room.occupants, room.party) == (0, None)
    stranger = IsolationOrder.objects.get(pk=stranger.pk)
    services.assign_room(
        user=township, order_id=stranger.pk, version=stranger.version, room_id=room.pk
    )


@pytest.mark.django_db
def test_rooms_of_a_site_outside_the_jurisdiction_cannot_be_booked(
    make_order, make_person, township, make_user
):
    other_township = make_user("township", VILLAGE_C[:9])
    site = services.create_site(user=other_township, name="拜泉镇隔离点", region_code=VILLAGE_C[:9])
    (room,) = services.add_rooms(user=other_township, site_id=site.pk, numbers=["1"], capacity=1)
    order = _central(make_order, make_person(), township)
    with pytest.raises(NotFound):
        services.assign_room(
            user=township, order_id=order.pk, version=order.version, room_id=room.pk
        )
    with pytest.raises(ValidationFailed):
        services.create_site(user=township, name="x", region_code=VILLAGE_C[:9])


@pytest.mark.django_db(transaction=True)
def test_double_booking_is_refused_under_concurrent_requests(make_order, make_person, township):
    _site_obj, (room,) = _site(township, beds=1)
    orders = [
        _central(
            make_order,
            make_person(
                name=f"隔离{i}",
                household=Household.objects.create(region_id=GRID_A1, address=f"一组 {i} 号"),
            ),
            township,
        )
        for i in range(6)
    ]
    barrier = threading.Barrier(len(orders))
    results: list[str] = []

    def book(order):
        try:
            barrier.wait(timeout=10)
            services.assign_room(
                user=township, order_id=order.pk, version=order.version, room_id=room.pk
            )
            results.append("booked")
        except ValidationFailed:
            results.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=book, args=(o,)) for o in orders]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(results) == ["booked"] + ["refused"] * 5
    room = Room.objects.get(pk=room.pk)
    assert room.occupants == 1
    assert IsolationOrder.objects.filter(room=room).count() == 1


@pytest.mark.django_db
def test_a_township_fills_a_county_site(make_order, make_person, township, county_hq):
    site = services.create_site(user=county_hq, name="县第一隔离点", region_code="230231")
    (room,) = services.add_rooms(user=county_hq, site_id=site.pk, numbers=["A01"], capacity=1)
    order = _central(make_order, make_person(), township)
    services.assign_room(user=township, order_id=order.pk, version=order.version, room_id=room.pk)
    assert IsolationOrder.objects.get(pk=order.pk).room_id == room.pk
    # The township sees the occupancy of the county site, not the roster's names.
    assert selectors.site_occupancy(township)[0]["free_beds"] == 0
    with pytest.raises(NotFound):
        selectors.site_roster(township, site, timezone.localdate())
