"""The sampling-point planner (采样点测算): lanes and hours to finish a round, queue by hour.

Pure arithmetic, no database, so that every figure a headquarters acts on can be checked by
hand and by the tests:

- the point is open ``opens_at``–``closes_at`` every day; the hours it is open *inside the
  round's window* are the hours available (a window of 06:00 day 1 to 06:00 day 2 at a point
  open 07:00–19:00 gives 12 hours);
- one lane takes ``throughput`` samples an hour, so ``lanes × throughput × hours`` is what the
  point can sample; the lanes needed are ``⌈population ÷ (throughput × hours available)⌉``
  and the hours needed with the present lanes ``population ÷ (lanes × throughput)``;
- people arrive spread over the open hours, evenly or following an arrival profile (weights
  per clock hour; the morning-and-evening peak of a working population is built in); each
  hour the lanes serve what is waiting up to their capacity and the rest queues into the
  next hour; the expected wait at the end of an hour is ``queue ÷ hourly capacity``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

UNIFORM: tuple[float, ...] = (1.0,) * 24
# People who work come before and after work: weights per clock hour 0–23.
PEAKS: tuple[float, ...] = (
    0,
    0,
    0,
    0,
    0,
    0,
    1,
    3,
    3,
    2,
    1.5,
    1,
    1,
    1,
    1,
    1,
    1.5,
    2.5,
    3,
    2,
    1,
    0.5,
    0,
    0,
)
PROFILES = {"uniform": UNIFORM, "peaks": PEAKS}


@dataclass(frozen=True)
class HourSlot:
    """One clock hour (or part of one) in which the point is open inside the window."""

    start: dt.datetime
    hours: float  # 1.0, or the part of the hour inside both the window and the opening hours
    arrivals: float
    served: float
    queue: float
    wait_minutes: float


@dataclass(frozen=True)
class Plan:
    population: int
    lanes: int
    throughput_per_lane_hour: int
    hours_available: float
    capacity: int  # samples the point can take in the window with its present lanes
    hours_needed: float  # with the present lanes
    lanes_needed: int | None  # None: the point is not open inside the window
    finishes_in_window: bool
    left_at_end: int  # people still waiting when the window closes
    peak_queue: int
    peak_wait_minutes: int
    slots: list[HourSlot] = field(default_factory=list)


def open_slots(
    *, window_start: dt.datetime, window_end: dt.datetime, opens_at: dt.time, closes_at: dt.time
) -> list[tuple[dt.datetime, float]]:
    """The open clock hours inside the window, each with the fraction of it that is open.

    ``window_start`` and ``window_end`` are local times of the point (aware or naive alike).
    """
    slots: list[tuple[dt.datetime, float]] = []
    day = window_start.date()
    tz = window_start.tzinfo
    while True:
        open_dt = dt.datetime.combine(day, opens_at, tzinfo=tz)
        close_dt = dt.datetime.combine(day, closes_at, tzinfo=tz)
        if open_dt >= window_end:
            break
        start, end = max(open_dt, window_start), min(close_dt, window_end)
        hour = start.replace(minute=0, second=0, microsecond=0)
        while hour < end:
            part_start, part_end = max(hour, start), min(hour + dt.timedelta(hours=1), end)
            fraction = (part_end - part_start).total_seconds() / 3600
            if fraction > 0:
                slots.append((hour, fraction))
            hour += dt.timedelta(hours=1)
        day += dt.timedelta(days=1)
    return slots


def plan(
    *,
    population: int,
    lanes: int,
    throughput_per_lane_hour: int,
    window_start: dt.datetime,
    window_end: dt.datetime,
    opens_at: dt.time,
    closes_at: dt.time,
    profile: Sequence[float] = UNIFORM,
) -> Plan:
    """Lanes and hours needed to sample ``population`` in the window, and the queue by hour."""
    if lanes < 1 or throughput_per_lane_hour < 1:
        raise ValueError("lanes and throughput must be at least 1")
    if len(profile) != 24 or any(w < 0 for w in profile):
        raise ValueError("an arrival profile has 24 non-negative weights")
    slots = open_slots(
        window_start=window_start, window_end=window_end, opens_at=opens_at, closes_at=closes_at
    )
    hours_available = sum(fraction for _, fraction in slots)
    per_hour = lanes * throughput_per_lane_hour
    hours_needed = population / per_hour
    lanes_needed = (
        math.ceil(population / (throughput_per_lane_hour * hours_available))
        if hours_available > 0
        else None
    )
    weights = [profile[start.hour] * fraction for start, fraction in slots]
    if slots and sum(weights) == 0:  # the profile puts nobody in the open hours: spread evenly
        weights = [fraction for _, fraction in slots]
    total_weight = sum(weights)
    queue = 0.0
    out: list[HourSlot] = []
    for (start, fraction), weight in zip(slots, weights, strict=True):
        arrivals = population * weight / total_weight if total_weight else 0.0
        can_serve = per_hour * fraction
        served = min(queue + arrivals, can_serve)
        queue = queue + arrivals - served
        out.append(
            HourSlot(
                start=start,
                hours=fraction,
                arrivals=arrivals,
                served=served,
                queue=queue,
                wait_minutes=queue / per_hour * 60,
            )
        )
    capacity = int(per_hour * hours_available)
    return Plan(
        population=population,
        lanes=lanes,
        throughput_per_lane_hour=throughput_per_lane_hour,
        hours_available=hours_available,
        capacity=capacity,
        hours_needed=hours_needed,
        lanes_needed=lanes_needed,
        finishes_in_window=hours_needed <= hours_available + 1e-9,
        left_at_end=math.ceil(queue - 1e-9) if out else population,
        peak_queue=math.ceil(max((s.queue for s in out), default=0) - 1e-9),
        peak_wait_minutes=math.ceil(max((s.wait_minutes for s in out), default=0) - 1e-9),
        slots=out,
    )
