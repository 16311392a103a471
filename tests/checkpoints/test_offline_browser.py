"""The checkpoint's passage log offline on a phone (375×812) in Debian chromium (issue 20 /
issue 14): the staff open the log once online, lose the signal, see a provisional verdict
worked out on the phone (red code from a risk area: 劝返), record a person and a vehicle with
three occupants, reload offline (page from the service worker, queue from IndexedDB), get the
signal back, and each passage reaches the server exactly once; a second sync sends nothing.
A record the server refuses stays on the phone with the reason until deleted; an expired
login keeps the queue and says so."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from django.apps import apps
from django.utils import timezone

from fangkong.checkpoints.models import Assignment, CodeRule, DutyStaff, Passage, Post, Roster
from fangkong.core.roles import Role
from tests.conftest import BROWSER_TEST, FUQIANG, VILLAGE_A

SCREENSHOTS = Path(os.environ.get("FANGKONG_SCREENSHOT_DIR", "var/screenshots"))
PASSWORD = "pw-Fangkong-2026"

pytestmark = BROWSER_TEST


def _open_log_online(live_server, browser, post):
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 375, "height": 812}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{live_server.url}/checkpoints/posts/{post.pk}/log/")
    page.locator("input[name=username]").fill("kadian")
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="富强村东卡点 · 通行登记")).to_be_visible()
    # Installed: the worker controls the page once active; this visit keeps the log page.
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    assert page.evaluate("navigator.serviceWorker.controller !== null")
    expect(page.locator("#field-status")).to_contain_text("在线：全部已同步")
    return context, page


@pytest.fixture
def checkpoint(make_user):
    for colour, verdict in (("green", "pass"), ("yellow", "restrict"), ("red", "refuse")):
        CodeRule.objects.get_or_create(colour=colour, defaults={"verdict": verdict})
    apps.get_model("screening", "RiskArea").objects.create(
        region_code="420106", place="武汉市武昌区", level="high", valid_from=timezone.localdate()
    )
    make_user(Role.CHECKPOINT_STAFF, VILLAGE_A, username="kadian", display_name="卡点值守 孙强")
    return Post.objects.create(name="富强村东卡点", kind="village_post", region_code=VILLAGE_A)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_passages_logged_offline_reach_the_server_exactly_once(live_server, browser, checkpoint):
    from playwright.sync_api import expect

    context, page = _open_log_online(live_server, browser, checkpoint)
    posts = []
    page.on(
        "request",
        lambda r: posts.append(r.url) if r.method == "POST" and "/api/" in r.url else None,
    )

    context.set_offline(True)
    verdict = page.get_by_test_id("verdict")
    # A person with a red code, from a risk area: refused, provisionally.
    page.get_by_label("姓名（名册中查不到时填写）").fill("张三")
    page.get_by_label("从何处来（省、市、县）").fill("湖北省武汉市武昌区")
    page.get_by_label("红码").check()
    expect(verdict).to_contain_text("禁止通行（劝返）")
    expect(verdict).to_contain_text("离线预判，以同步后为准")
    expect(verdict).to_contain_text("来自风险地区：武汉市武昌区")
    page.get_by_role("button", name="登记", exact=True).click()
    expect(page.get_by_test_id("queued")).to_contain_text("张三 · 劝返（离线预判）· 待同步")

    # A vehicle with three occupants, all well.
    page.get_by_label("车辆").check()
    page.get_by_label("车牌号").fill("黑B·3K721")
    page.get_by_label("车上人员（每行一人：姓名或身份证号）").fill("李四\n赵五\n钱六")
    page.get_by_label("从何处来（省、市、县）").fill("哈尔滨市")
    page.get_by_label("体温（℃）").fill("36.5")
    expect(verdict).to_contain_text("可以通行")
    page.get_by_role("button", name="登记", exact=True).click()
    expect(page.get_by_test_id("queued")).to_contain_text("黑B·3K721（3 人）")

    queue = page.locator("#cp-queue li")
    expect(queue).to_have_count(2)
    expect(queue.nth(0)).to_contain_text("张三")
    expect(queue.nth(0)).to_contain_text("红码")
    expect(queue.nth(0).locator(".field-pending")).to_have_text("待同步")
    expect(queue.nth(1)).to_contain_text("🚗 黑B·3K721（3 人）")
    expect(page.locator("#field-status")).to_contain_text("离线：2 条待同步")
    assert Passage.objects.count() == 0

    # Offline reload: the page from the service worker, the queue from IndexedDB.
    response = page.reload()
    assert response is not None and response.from_service_worker
    expect(page.get_by_role("button", name="登记", exact=True)).to_be_visible()
    expect(page.locator("#field-status")).to_contain_text("离线：2 条待同步")
    expect(queue).to_have_count(2)
    expect(queue.nth(1).locator(".field-pending")).to_have_text("待同步")
    expect(verdict).to_contain_text("离线预判")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "checkpoint-log-offline-phone.png", full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the log page is {width}px wide on a 375px screen"
    assert posts == []

    # Back online: the queue goes up (online event, or the button), once.
    # The online event may have sent it all before the test reaches the button (which is then
    # disabled, nothing pending): the button is pressed only while it still has work.
    context.set_offline(False)
    page.get_by_role("button", name="立即同步").evaluate("b => { if (!b.disabled) b.click(); }")
    expect(page.locator("#field-status")).to_contain_text("在线：全部已同步")
    expect(page.locator("#cp-queue li.is-synced")).to_have_count(2)
    expect(queue.nth(0)).to_contain_text("✓ 已同步")
    person = Passage.objects.get(kind="person", vehicle__isnull=True)
    assert person.name == "张三" and person.verdict == "refuse"
    assert person.risk_area == "武汉市武昌区" and person.outcome == "turned_back"
    vehicle = Passage.objects.get(kind="vehicle")
    assert vehicle.plate == "黑B·3K721" and vehicle.occupants == 3
    names = list(vehicle.occupant_rows.order_by("id").values_list("name", flat=True))
    assert names == ["李四", "赵五", "钱六"]
    assert Passage.objects.count() == 5
    expect(page.get_by_test_id("count-persons")).not_to_have_text("0")

    # A second sync (the online event, the next open) sends nothing more.
    sent = len(posts)
    assert sent >= 1
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.reload()
    expect(page.locator("#field-status")).to_contain_text("在线：全部已同步")
    expect(page.get_by_role("button", name="立即同步")).to_be_disabled()
    assert len(posts) == sent
    assert Passage.objects.count() == 5
    context.close()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_refused_records_stay_and_an_expired_login_keeps_the_queue(
    live_server, browser, checkpoint
):
    from playwright.sync_api import expect

    context, page = _open_log_online(live_server, browser, checkpoint)
    context.set_offline(True)
    page.get_by_label("姓名（名册中查不到时填写）").fill("王五")
    page.get_by_role("button", name="登记", exact=True).click()
    # What the server refuses (a name longer than 64 characters; the form cannot type one).
    page.evaluate(
        """() => new Promise((resolve) => {
          const open = indexedDB.open("fangkong-checkpoints", 1);
          open.onsuccess = () => {
            const store = open.result.transaction("passages", "readwrite").objectStore("passages");
            const all = store.getAll();
            all.onsuccess = () => {
              const r = JSON.parse(JSON.stringify(all.result[0]));
              r.key = r.item.client_key = "bad1";
              r.label = "超长姓名";
              r.item.name = "长".repeat(70);
              store.put(r).onsuccess = () => resolve(true);
            };
          };
        })"""
    )
    page.reload()
    expect(page.locator("#field-status")).to_contain_text("离线：2 条待同步")

    # The login ended meanwhile: nothing sent, the queue stays, the staff are told.
    context.clear_cookies()
    # The online event may have sent it all before the test reaches the button (which is then
    # disabled, nothing pending): the button is pressed only while it still has work.
    context.set_offline(False)
    page.get_by_role("button", name="立即同步").evaluate("b => { if (!b.disabled) b.click(); }")
    expect(page.locator("#field-status")).to_have_text(
        "登录已失效，请重新登录后同步（记录仍保存在本机）"
    )
    assert Passage.objects.count() == 0

    page.goto(f"{live_server.url}/checkpoints/posts/{checkpoint.pk}/log/")
    page.locator("input[name=username]").fill("kadian")
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.locator("#field-status")).to_contain_text("在线：全部已同步，1 条需处理")
    bad = page.locator("#cp-queue li.is-invalid")
    expect(bad).to_contain_text("超长姓名")
    expect(bad.locator(".field-conflict")).to_contain_text("未保存：姓名")
    assert list(Passage.objects.values_list("name", flat=True)) == ["王五"]
    page.reload()
    expect(bad).to_have_count(1)
    bad.get_by_role("button", name="删除此记录").click()
    expect(bad).to_have_count(0)
    expect(page.locator("#field-status")).to_contain_text("在线：全部已同步")
    assert Passage.objects.count() == 1
    context.close()


@pytest.mark.django_db(transaction=True)
def test_the_duty_roster_opened_once_is_readable_offline(
    live_server, browser, checkpoint, make_user
):
    """Who is on at the post tonight, for the township officer walking the posts without
    signal: the roster page opened online once is served by the service worker (read only:
    editing needs the network)."""
    from playwright.sync_api import expect

    day = timezone.localdate()
    roster = Roster.objects.create(
        township_code=FUQIANG, starts_on=day, days=1, status=Roster.Status.PUBLISHED
    )
    member = DutyStaff.objects.create(
        name="值守李强",
        township_code=FUQIANG,
        post=checkpoint,
        sex="M",
        birth_year=1980,
        education=2,
        role="volunteer",
    )
    start = timezone.make_aware(dt.datetime.combine(day, dt.time(0)))
    Assignment.objects.create(
        roster=roster,
        post=checkpoint,
        staff=member,
        region_code=checkpoint.region_code,
        day=day,
        shift=0,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=8),
    )
    make_user(Role.TOWNSHIP, FUQIANG, username="xiangzhen")
    context = browser.new_context(viewport={"width": 375, "height": 812}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{live_server.url}/checkpoints/rosters/{roster.pk}/")
    page.locator("input[name=username]").fill("xiangzhen")
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.locator("main")).to_contain_text("值守李强")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    assert page.evaluate("navigator.serviceWorker.controller !== null")

    context.set_offline(True)
    response = page.reload()
    assert response is not None and response.from_service_worker
    expect(page.locator("main")).to_contain_text("值守李强")
    expect(page.locator("main")).to_contain_text("富强村东卡点")
    context.close()
