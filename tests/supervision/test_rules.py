"""Property test of the rectification rule and figures: overdue means open past the deadline."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fangkong.core import figures, inspection
from fangkong.supervision import rules, services
from fangkong.supervision.models import Rectification, RectificationStatus
from tests.conftest import FUQIANG, VILLAGE_A

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 3, 13, 0, tzinfo=dt.UTC)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(
        st.tuples(
            st.integers(min_value=-48, max_value=48),  # deadline relative to NOW, hours
            st.sampled_from(list(RectificationStatus)),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_overdue_rule_matches_open_past_deadline(inspector, rows):
    Rectification.objects.all().delete()
    planned = services.plan_inspection(
        actor=inspector,
        region_code=VILLAGE_A,
        place_kind="market",
        place_name="超市",
        planned_for=NOW.date(),
        now=NOW - dt.timedelta(days=3),
    )
    items = list(planned.items.all())
    expected, open_count = set(), 0
    for item, (hours, status) in zip(items, rows, strict=False):
        rect = Rectification.objects.create(
            item=item,
            region_code=VILLAGE_A,
            aspect=item.aspect,
            title=item.text,
            deadline=NOW + dt.timedelta(hours=hours),
            status=status,
            created_at=NOW - dt.timedelta(days=2),
            closed_at=NOW - dt.timedelta(hours=1) if status == RectificationStatus.CLOSED else None,
            reported_at=None if status == RectificationStatus.OPEN else NOW - dt.timedelta(hours=2),
        )
        if status == RectificationStatus.OPEN and hours < 0:
            expected.add(f"supervision.rectification:{rect.pk}")
        if status != RectificationStatus.CLOSED:
            open_count += 1
    found = {
        f.ref
        for f in inspection.run(
            rules.RECTIFICATION_OVERDUE, inspection.RuleQuery(prefix=FUQIANG, now=NOW)
        )
    }
    assert found == expected
    query = figures.FigureQuery(prefix=FUQIANG, group_length=12, at=NOW)
    assert figures.total(figures.compute("supervision.rectifications_open", query)) == open_count
    assert figures.total(figures.compute("supervision.rectifications_overdue", query)) == len(
        expected
    )
