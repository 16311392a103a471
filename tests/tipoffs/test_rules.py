"""Property tests of the rules: the overdue rule and figure agree with a plain reading of the
deadline; the receipt-code parser and the address key never fail on any input."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fangkong.core import figures, inspection
from fangkong.tipoffs import rules, services
from fangkong.tipoffs.models import TipOff, TipStatus
from tests.conftest import FUQIANG, VILLAGE_A, VILLAGE_B

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 3, 13, 0, tzinfo=dt.UTC)


@given(st.text(max_size=40))
def test_receipt_parser_never_raises(text):
    # Any text: a tip or None, never an exception (the page is public).
    with pytest.MonkeyPatch.context():
        assert (
            services.status_by_receipt(text) is None or len(text.strip()) == services.RECEIPT_LENGTH
        )


@given(st.ip_addresses(v=6))
def test_ipv6_key_is_the_64_network(address):
    other = address.exploded[:19] + ":ffff:ffff:ffff:fffe"
    assert services.client_key(str(address)) == services.client_key(other)


@given(st.ip_addresses(v=4), st.ip_addresses(v=4))
def test_ipv4_keys_differ_by_address(a, b):
    assert (services.client_key(str(a)) == services.client_key(str(b))) == (a == b)


@given(st.text(max_size=50))
def test_client_key_of_garbage_is_empty_or_hex(text):
    key = services.client_key(text)
    assert key == "" or (len(key) == 32 and int(key, 16) >= 0)


tips = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=72),  # hours before NOW the tip arrived
        st.sampled_from([TipStatus.PENDING, TipStatus.VERIFIED, TipStatus.UNFOUNDED]),
        st.integers(min_value=0, max_value=72),  # hours after arrival it was decided
        st.sampled_from([VILLAGE_A, VILLAGE_B]),
    ),
    max_size=12,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=tips)
def test_overdue_rule_and_figure_match_the_deadline(county, rows):
    TipOff.objects.all().delete()
    expected_rule, expected_figure = set(), 0
    for n, (ago, status, decided_after, village) in enumerate(rows):
        created = NOW - dt.timedelta(hours=ago)
        deadline = created + dt.timedelta(hours=services.VERIFY_WITHIN_HOURS)
        decided = (
            created + dt.timedelta(hours=decided_after) if status != TipStatus.PENDING else None
        )
        if decided and decided > NOW:
            decided, status = None, TipStatus.PENDING
        tip = TipOff.objects.create(
            receipt_code=f"T{n:09d}",
            channel="public",
            kind="other",
            region_code=village,
            text="x",
            created_at=created,
            deadline=deadline,
            status=status,
            verified_at=decided,
        )
        late_now = deadline < NOW and status == TipStatus.PENDING
        if late_now:
            expected_rule.add(f"tipoffs.tip:{tip.pk}")
        if deadline < NOW and (decided is None or decided > NOW):
            expected_figure += 1
    found = {
        f.ref
        for f in inspection.run(rules.TIP_UNVERIFIED, inspection.RuleQuery(prefix=FUQIANG, now=NOW))
    }
    assert found == expected_rule
    counts = figures.compute(
        "tipoffs.overdue", figures.FigureQuery(prefix=FUQIANG, group_length=12, at=NOW)
    )
    assert figures.total(counts) == expected_figure


def test_received_and_verified_figures_count_the_day(county, submit, rules_fixture_inspector):
    inspector = rules_fixture_inspector
    now = timezone.now()
    tip = submit(now=now)
    submit(now=now)
    services.verify_tip(actor=inspector, tip_id=tip.pk, outcome="verified", finding="x", version=1)
    query = figures.FigureQuery(prefix="", group_length=12, at=timezone.now())
    assert figures.total(figures.compute("tipoffs.received", query)) == 2
    assert figures.total(figures.compute("tipoffs.verified", query)) == 1


@pytest.fixture
def rules_fixture_inspector(inspector):
    return inspector
