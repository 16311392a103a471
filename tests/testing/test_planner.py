"""The planner's arithmetic, checked by hand-computed figures."""

from __future__ import annotations

import datetime as dt

import pytest

from fangkong.testing import planner, selectors, services
from fangkong.testing.models import SamplingPoint
from tests.conftest import GRID_A1

D = dt.datetime


def test_open_hours_inside_the_window():
    slots = planner.open_slots(
        window_start=D(2026, 3, 1, 6),
        window_end=D(2026, 3, 2, 6),
        opens_at=dt.time(7),
        closes_at=dt.time(19),
    )
    assert len(slots) == 12 and sum(f for _, f in slots) == 12
    assert slots[0][0] == D(2026, 3, 1, 7) and slots[-1][0] == D(2026, 3, 1, 18)
    # Half hours at both ends, and two days.
    slots = planner.open_slots(
        window_start=D(2026, 3, 1, 7, 30),
        window_end=D(2026, 3, 2, 8, 30),
        opens_at=dt.time(7),
        closes_at=dt.time(19),
    )
    assert sum(f for _, f in slots) == pytest.approx(11.5 + 1.5)


def test_lanes_and_hours_needed():
    # 12,000 people, 12 open hours, 100 samples per lane-hour: 10 lanes finish exactly.
    plan = planner.plan(
        population=12_000,
        lanes=4,
        throughput_per_lane_hour=100,
        window_start=D(2026, 3, 1, 6),
        window_end=D(2026, 3, 2, 6),
        opens_at=dt.time(7),
        closes_at=dt.time(19),
    )
    assert plan.hours_available == 12
    assert plan.lanes_needed == 10
    assert plan.hours_needed == 30  # 12,000 / (4 × 100)
    assert plan.capacity == 4_800
    assert not plan.finishes_in_window
    # Evenly 1,000 arrive an hour, 400 are served: the queue grows by 600 an hour.
    assert [round(s.queue) for s in plan.slots[:3]] == [600, 1200, 1800]
    assert plan.left_at_end == 7_200 == 12_000 - 4_800
    assert plan.slots[0].wait_minutes == pytest.approx(90)  # 600 waiting / 400 an hour
    assert plan.peak_wait_minutes == 1080
    one_more = planner.plan(
        population=12_001,
        lanes=10,
        throughput_per_lane_hour=100,
        window_start=D(2026, 3, 1, 6),
        window_end=D(2026, 3, 2, 6),
        opens_at=dt.time(7),
        closes_at=dt.time(19),
    )
    assert one_more.lanes_needed == 11
    assert not one_more.finishes_in_window


def test_enough_lanes_and_a_peak_profile():
    plan = planner.plan(
        population=1_200,
        lanes=2,
        throughput_per_lane_hour=60,
        window_start=D(2026, 3, 1, 0),
        window_end=D(2026, 3, 2, 0),
        opens_at=dt.time(7),
        closes_at=dt.time(17),
    )
    # 120 an hour arrive and 120 are served: no queue at all.
    assert plan.finishes_in_window and plan.peak_queue == 0 and plan.left_at_end == 0
    peaks = planner.plan(
        population=1_200,
        lanes=2,
        throughput_per_lane_hour=60,
        window_start=D(2026, 3, 1, 0),
        window_end=D(2026, 3, 2, 0),
        opens_at=dt.time(7),
        closes_at=dt.time(17),
        profile=planner.PEAKS,
    )
    weights = planner.PEAKS[7:17]  # 3,3,2,1.5,1,1,1,1,1,1 → 15.5
    first_hour = 1_200 * weights[0] / sum(weights)
    assert peaks.slots[0].arrivals == pytest.approx(first_hour)
    assert peaks.slots[0].queue == pytest.approx(first_hour - 120)
    assert peaks.slots[1].queue == pytest.approx(2 * first_hour - 240)
    assert sum(s.served for s in peaks.slots) == pytest.approx(1_200)
    assert peaks.left_at_end == 0 and peaks.peak_queue > 0


def test_a_point_closed_during_the_window():
    plan = planner.plan(
        population=100,
        lanes=1,
        throughput_per_lane_hour=60,
        window_start=D(2026, 3, 1, 20),
        window_end=D(2026, 3, 1, 23),
        opens_at=dt.time(7),
        closes_at=dt.time(19),
    )
    assert plan.hours_available == 0 and plan.lanes_needed is None
    assert plan.left_at_end == 100 and not plan.finishes_in_window


def test_a_point_plans_the_untested_of_its_region(round_, hq, sampler, people, pooled):
    persons = people(30)
    pooled(persons[:10], "PL1")
    point = services.create_point(
        user=hq,
        name="富强村村委会",
        location="村委会广场",
        region_code=GRID_A1,
        opens_at=dt.time(0),
        closes_at=dt.time(23, 59),
        lanes=1,
        throughput_per_lane_hour=5,
    )
    services.create_point(
        user=hq,
        name="富强村小学",
        location="小学操场",
        region_code=GRID_A1,
        opens_at=dt.time(7),
        closes_at=dt.time(19),
        lanes=1,
        throughput_per_lane_hour=60,
    )
    result = selectors.plan_point(hq, point, round_)
    assert (result.should_test, result.tested, result.sharing_points) == (30, 10, 2)
    assert result.plan.population == 10  # 20 untested shared by 2 points
    assert result.measured_throughput is None  # under 30 samples at the point
    assert result.plan.throughput_per_lane_hour == 5
    assert SamplingPoint.objects.count() == 2
