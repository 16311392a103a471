"""Hand-offs from screening to isolation: a decision becomes an isolation order.

Two ways, both carrying what the decision says (kind, days, start, required test days, the
policy version by name, the reason), so nobody retypes it:

- :func:`isolation_form_url`: the isolation order form, prefilled by its GET parameters (the
  form's own field names), for the cadre who reviews it before submitting;
- :func:`order_from_visit`: the grid worker's visit found the person at home; the order is
  placed through :mod:`fangkong.core.isolation` (screening never imports the isolation
  module), idempotent by the visit (``screening.visit:<id>``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from fangkong.core import isolation

from . import selectors
from .evaluation import MEASURE_WORDS
from .models import Measure, ScreeningDecision, VisitTask

ISOLATING = (Measure.CENTRALISED, Measure.HOME, Measure.MONITORING)


def policy_name(decision: ScreeningDecision) -> str:
    """The policy version by name, as the order records it ("拜泉县管控政策 第3版")."""
    return f"{decision.policy.title} 第{decision.policy.version}版"[:100]


def starts_at(decision: ScreeningDecision) -> dt.datetime:
    """The isolation starts on the decision's day 1 (the day after the last exposure)."""
    day = decision.start_date or timezone.localdate()
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def isolation_form_url(decision: ScreeningDecision) -> str:
    """The isolation order form prefilled from the decision ("" when nothing to order or no
    isolation module is installed)."""
    if decision.measure not in ISOLATING:
        return ""
    try:
        base = reverse("quarantine:order_create")
    except NoReverseMatch:
        return ""
    params = {
        "person": decision.person_id,
        "kind": decision.measure,
        "starts_at": timezone.localtime(starts_at(decision)).strftime("%Y-%m-%dT%H:%M"),
        "days": decision.days or 1,
        "required_test_days": ",".join(str(d) for d in decision.test_days),
        "policy_version": policy_name(decision),
        "manual_reason": decision.reason[:300],
        "source": f"screening.decision:{decision.pk}",
    }
    if decision.home_days:
        params.update(next_kind=Measure.HOME, next_days=decision.home_days)
    return f"{base}?{urlencode(params)}"


def current_decision(user: Any, person_id: int) -> ScreeningDecision | None:
    """The person's current decision in the user's view, if any."""
    return selectors.decisions(user).filter(person_id=person_id).first()


def measure_text(decision: ScreeningDecision) -> str:
    words = MEASURE_WORDS.get(decision.measure, decision.measure)
    return f"{words} {decision.days} 天" if decision.days else words


def order_from_visit(
    *, user: Any, task: VisitTask, channel: str = "web"
) -> isolation.IsolationPlaced | None:
    """Order the isolation the person's current decision requires, after the visit found
    them (None when the decision requires no isolation). Raises the core errors of the
    isolation module (permission, validation) for the caller to show."""
    decision = current_decision(user, task.person_id)
    if decision is None or decision.measure not in ISOLATING or not isolation.available():
        return None
    return isolation.order(
        isolation.IsolationRequest(
            person_id=task.person_id,
            kind=decision.measure,
            starts_at=starts_at(decision),
            days=decision.days or 1,
            source=f"screening.visit:{task.pk}",
            reason=decision.reason,
            required_test_days=tuple(int(d) for d in decision.test_days),
            policy_version=policy_name(decision),
        ),
        by_user=user,
        channel=channel,
    )
