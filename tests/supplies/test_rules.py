"""What supplies gives core: the shortage rule and notice, the late-shipment and price rules,
the figures, and the demo seeder (a coherent story at 08:00, 13:00 and 22:00)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from freezegun import freeze_time

from fangkong.core import demo, figures, inspection
from fangkong.core.models import Notice
from fangkong.core.roles import Role
from fangkong.supplies import rules, selectors, services
from fangkong.supplies.models import Movement, Warehouse
from tests.conftest import COUNTY, FUQIANG, VILLAGE_A

from .conftest import issue, receive

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")


def test_short_stock_is_a_finding_a_figure_and_a_notice(
    officer, store, masks, post, make_user, django_capture_on_commit_callbacks
):
    keeper = make_user(Role.SUPPLY_OFFICER, FUQIANG)
    receive(officer, store, masks, 40)
    with pytest.raises(Exception):  # noqa: B017 - nothing else is short yet
        Notice.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        issue(officer, store, masks, 5, post)  # 35 left, 18 a day planned: 1.9 days
    found = inspection.run(
        rules.LOW_COVER, inspection.RuleQuery(prefix=FUQIANG, now=timezone.now())
    )
    assert [f.ref for f in found] == [f"supplies.level:{store.pk}:{masks.pk}"]
    assert "富强镇物资库的医用外科口罩仅可供1.9天" in found[0].what
    assert found[0].responsible == "李保管"
    assert (
        inspection.run(
            rules.LOW_COVER, inspection.RuleQuery(prefix="230231100", now=timezone.now())
        )
        == []
    )
    counts = figures.compute(
        "supplies.items_short",
        figures.FigureQuery(prefix=COUNTY, group_length=9, at=timezone.now()),
    )
    assert counts == {FUQIANG: 1}
    issued = figures.compute(
        "supplies.issued_today",
        figures.FigureQuery(prefix=COUNTY, group_length=9, at=timezone.now()),
    )
    assert issued == {FUQIANG: 1}
    notice = Notice.objects.get()
    assert "医用外科口罩仅可供1.9天" in notice.title
    assert notice.receipts.filter(user=keeper).exists()
    with django_capture_on_commit_callbacks(execute=True):
        issue(officer, store, masks, 1, post)
    assert Notice.objects.count() == 1  # once a day per store and item


def test_intercepted_shipment_and_price_rise_are_findings(county_officer, store, masks):
    today = timezone.localdate()
    order = services.create_order(
        actor=county_officer,
        supplier="河北某厂",
        channel="public_lead",
        item_id=masks.pk,
        quantity=1000,
        warehouse_id=store.pk,
        expected_on=today + dt.timedelta(days=2),
    )
    now = timezone.now()
    assert inspection.run(rules.SHIPMENT_LATE, inspection.RuleQuery("", now)) == []
    services.set_order_status(
        actor=county_officer, order_id=order.pk, version=1, status="intercepted"
    )
    found = inspection.run(rules.SHIPMENT_LATE, inspection.RuleQuery("", now))
    assert "被拦截" in found[0].what
    services.receive_order(actor=county_officer, order_id=order.pk, version=2)
    assert inspection.run(rules.SHIPMENT_LATE, inspection.RuleQuery("", now)) == []
    assert Movement.objects.get(source=f"supplies.po:{order.pk}").quantity == 1000
    watch = services.create_watch(
        actor=county_officer,
        goods="大米",
        unit="斤",
        shop="农贸市场",
        region_code=VILLAGE_A,
        baseline="2.60",
    )
    services.report_price(actor=county_officer, watch_id=watch.pk, day=today, price="3.00")
    found = inspection.run(rules.PRICE_RISE, inspection.RuleQuery(FUQIANG, now))
    assert "上涨15%" in found[0].what


@pytest.mark.parametrize("hour", [8, 13, 22])
def test_the_demo_story_holds_at_any_hour(make_user, catalogue, hour):
    users = {
        "wuzi": make_user(Role.SUPPLY_OFFICER, COUNTY, username="wuzi"),
        "fuqiang": make_user(Role.TOWNSHIP, FUQIANG, username="fuqiang"),
        "kadian": make_user(Role.CHECKPOINT_STAFF, FUQIANG, username="kadian"),
    }
    now = dt.datetime(2026, 3, 2, hour, 5, tzinfo=TZ)
    with freeze_time(now):
        context = demo.DemoContext(
            now=timezone.now(),
            users=users,
            county=COUNTY,
            township=FUQIANG,
            village=VILLAGE_A,
            grid=VILLAGE_A + "001",
        )
        seeder = next(s for s in demo.seeders() if s.key == "supplies")
        line = seeder.run(context)
        assert line and "不足3天" in line
        assert seeder.run(context) is None
        short = selectors.shortages(users["wuzi"])
        assert [(w.name, r.item.name) for w, r in short] == [("富强镇物资库", "医用外科口罩")]
        assert Notice.objects.filter(title__contains="医用外科口罩").exists()
        assert Warehouse.objects.count() >= 3
        assert not Movement.objects.filter(at__gt=timezone.now()).exists()
        assert selectors.requests(users["fuqiang"]).filter(status="pending").count() == 2
        assert inspection.run(rules.SHIPMENT_LATE, inspection.RuleQuery(COUNTY, timezone.now()))
        assert inspection.run(rules.PRICE_RISE, inspection.RuleQuery(COUNTY, timezone.now()))
