"""The grid worker's visits offline on a phone (375×812) in Debian chromium (issue 20): the
worker opens the visits once online, loses the signal, records three visits (at home and
well with one tap, with symptoms, not at home), reloads offline (page from the service
worker, queue from IndexedDB), gets the signal back, and each visit reaches the server
exactly once; a visit the village cadre recorded meanwhile comes back as a conflict and is
not overwritten. The app opened at "/" offline shows the kept visits page."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fangkong.core.roles import Role
from fangkong.screening import visits
from fangkong.screening.models import VisitTask
from tests.conftest import BROWSER_TEST, GRID_A1, VILLAGE_A

SCREENSHOTS = Path(os.environ.get("FANGKONG_SCREENSHOT_DIR", "var/screenshots"))
PASSWORD = "pw-Fangkong-2026"

pytestmark = BROWSER_TEST


def _open_visits(live_server, browser, **options):
    """The grid worker 网格员小王 signed in on a phone, on the visits page."""
    context = browser.new_context(viewport={"width": 375, "height": 812}, locale="zh-CN", **options)
    page = context.new_page()
    page.goto(f"{live_server.url}/screening/visits/")
    page.locator("input[name=username]").fill("wangge")
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    return context, page


@pytest.mark.django_db(transaction=True)
def test_visits_offline_then_synced_exactly_once(live_server, browser, make_user, make_visit_task):
    from playwright.sync_api import expect

    make_user(Role.GRID_WORKER, GRID_A1, username="wangge", display_name="网格员小王")
    cadre = make_user(Role.VILLAGE_CADRE, VILLAGE_A, display_name="村书记")
    tasks = [make_visit_task(name=name, due_in=6) for name in ("张伟", "李娜", "王强", "赵敏")]

    context, page = _open_visits(live_server, browser)
    expect(page.locator("li.visit")).to_have_count(4)
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    assert page.evaluate("navigator.serviceWorker.controller !== null")

    context.set_offline(True)
    rows = {t.pk: page.locator(f"#visit-{t.pk}") for t in tasks}
    rows[tasks[0].pk].locator("form.visit-quick button").click()
    sick = rows[tasks[1].pk]
    sick.locator("summary").click()
    sick.locator("input[name=health][value=symptoms]").check()
    sick.locator("input[name=temperature]").fill("38.3")
    sick.locator("input[name=symptoms]").fill("咳嗽")
    sick.locator("details form button[type=submit]").click()
    away = rows[tasks[2].pk]
    away.locator("summary").click()
    away.locator("input[name=present][value=no]").check()
    away.locator("input[name=note]").fill("外出务工")
    away.locator("details form button[type=submit]").click()
    rows[tasks[3].pk].locator("form.visit-quick button").click()
    expect(rows[tasks[1].pk].locator(".field-pending")).to_contain_text("有症状 38.3 °C · 待同步")
    expect(page.locator("#field-status")).to_contain_text("4 条走访待同步")
    assert not VisitTask.objects.filter(status=VisitTask.Status.DONE).exists()

    # Offline reload, and the app opened at its start ("/"): the kept page and the queue.
    response = page.reload()
    assert response is not None and response.from_service_worker
    expect(page.locator("#field-status")).to_contain_text("离线：4 条走访待同步")
    expect(rows[tasks[2].pk].locator(".field-pending")).to_contain_text("不在家 · 待同步")
    start = page.goto(f"{live_server.url}/")
    assert start is not None and start.from_service_worker
    expect(page.locator("li.visit")).to_have_count(4)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "field-visits-offline-phone.png", full_page=True)

    # Meanwhile the village cadre recorded 赵敏's visit on the server.
    visits.complete(
        user=cadre,
        task_id=tasks[3].pk,
        present=True,
        healthy=True,
        temperature=None,
        phone="",
        note="电话核实",
    )

    context.set_offline(False)
    page.goto(f"{live_server.url}/screening/visits/")
    expect(page.locator("#field-status")).to_contain_text("1 条需处理")
    # 赵敏 is no longer on the list (done on the server): the conflict is shown above it.
    conflict = page.locator(".field-orphan .field-conflict")
    expect(conflict).to_contain_text("村书记")
    expect(page.locator(".field-orphan")).to_contain_text("赵敏")
    done = VisitTask.objects.filter(status=VisitTask.Status.DONE)
    assert done.count() == 4
    assert done.filter(done_by__username="wangge").count() == 3
    assert VisitTask.objects.get(pk=tasks[3].pk).note == "电话核实"  # not overwritten
    sick_task = VisitTask.objects.get(pk=tasks[1].pk)
    assert sick_task.healthy is False and str(sick_task.temperature) == "38.3"
    assert VisitTask.objects.get(pk=tasks[2].pk).present is False

    # Sending again stores nothing twice; the conflict is dropped by the worker.
    page.reload()
    expect(page.locator("#field-status")).to_contain_text("1 条需处理")
    page.get_by_role("button", name="放弃此记录").click()
    expect(page.locator("#field-status")).to_contain_text("全部已同步")
    assert done.filter(done_by__username="wangge").count() == 3
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the visits page is {width}px wide on a 375px screen"


@pytest.mark.django_db(transaction=True)
def test_a_visit_the_server_could_not_take_is_sent_again_by_itself(
    live_server, browser, make_user, make_visit_task
):
    """The bar says "稍后自动重试": a sync the server answers 503 is tried again a few seconds
    later, with no button, no online event and no reload, and the visit is stored once."""
    from django.urls import reverse
    from playwright.sync_api import expect

    make_user(Role.GRID_WORKER, GRID_A1, username="wangge", display_name="网格员小王")
    task = make_visit_task(name="张伟", due_in=6)

    # No service worker: the test's route must see the page's own requests.
    context, page = _open_visits(live_server, browser, service_workers="block")
    expect(page.locator("li.visit")).to_have_count(1)
    expect(page.locator("#field-status")).to_contain_text("在线：全部已同步")

    answers = []

    def server_busy_once(route):
        if not answers:
            answers.append(503)
            route.fulfill(status=503, body="busy")
        else:
            answers.append("sent")
            route.continue_()

    page.route(f"**{reverse('api:screening_field_sync')}", server_busy_once)
    # Marks that vanish with a reload, and a count of online events (there must be none).
    page.evaluate(
        """() => {
          window.__samePage = true;
          window.__onlineEvents = 0;
          window.addEventListener("online", () => { window.__onlineEvents += 1; });
        }"""
    )

    page.locator(f"#visit-{task.pk} form.visit-quick button").click()
    status = page.locator("#field-status")
    expect(status).to_have_text("服务器暂时无法接收（503），稍后自动重试")
    expect(page.locator(f"#visit-{task.pk} .field-pending")).to_contain_text("待同步")
    assert answers == [503]

    # Nobody touches the phone: the retry sends it.
    expect(page.locator(f"#visit-{task.pk} .field-synced")).to_contain_text(
        "✓ 已同步", timeout=15000
    )
    expect(status).to_contain_text("在线：全部已同步")
    assert answers == [503, "sent"]
    assert page.evaluate("window.__samePage === true && window.__onlineEvents === 0")
    done = VisitTask.objects.get(pk=task.pk)
    assert done.status == VisitTask.Status.DONE and done.done_by.username == "wangge"
    context.close()


# How many records the phone keeps in its work set (0 when the database is gone).
STORED_VISITS = """indexedDB.databases().then((dbs) => new Promise((done) => {
  if (!dbs.some((d) => d.name === "fangkong-field-workset")) return done(0);
  const open = indexedDB.open("fangkong-field-workset");
  open.onsuccess = () => {
    const db = open.result;
    if (!db.objectStoreNames.contains("visits")) { db.close(); return done(0); }
    const count = db.transaction("visits").objectStore("visits").count();
    count.onsuccess = () => { db.close(); done(count.result); };
  };
}))"""


@pytest.mark.django_db(transaction=True)
def test_the_whole_work_set_is_on_the_phone_offline(
    live_server, browser, make_user, make_visit_task
):
    """53 open visits: the page shows 50 a page; the work set (names, no numbers) is stored
    on the phone and, offline, the other 3 are drawn under the kept page and can be made;
    later opens ask only for what changed since the stored cursor."""
    from playwright.sync_api import expect

    make_user(Role.GRID_WORKER, GRID_A1, username="wangge", display_name="网格员小王")
    tasks = [make_visit_task(name=f"居民{n:02d}", due_in=6 + n) for n in range(53)]
    asked: list[str] = []
    context, page = _open_visits(live_server, browser)
    page.on("request", lambda r: asked.append(r.url) if "/field/workset" in r.url else None)
    expect(page.locator("li.visit")).to_have_count(50)
    for _ in range(100):  # the first download kept on the phone
        if page.evaluate(STORED_VISITS) > 0:
            break
        page.wait_for_timeout(100)
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    with page.expect_response(lambda r: "/field/workset" in r.url):
        page.reload()
    assert page.evaluate("navigator.serviceWorker.controller !== null")
    expect(page.locator("#field-status")).to_contain_text("在线：全部已同步")
    assert any("since=v1." in url for url in asked), asked  # the second open sent its cursor

    context.set_offline(True)
    response = page.reload()
    assert response is not None and response.from_service_worker
    rows = page.locator("li.visit")
    expect(rows).to_have_count(53)
    last = page.locator(f"#visit-{tasks[52].pk}")
    expect(last.locator(".visit-head strong")).to_have_text("居民52")
    expect(last).to_contain_text("走访截止")
    assert tasks[52].person.id_number not in page.content()
    last.locator("form.visit-quick button").click()
    expect(last.locator(".field-pending")).to_contain_text("在家 · 正常 · 待同步")
    away = page.locator(f"#visit-{tasks[51].pk}")
    away.locator("summary").click()
    away.locator("input[name=present][value=no]").check()
    away.locator("details form button[type=submit]").click()
    expect(page.locator("#field-status")).to_contain_text("离线：2 条走访待同步")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the visits page is {width}px wide on a 375px screen"

    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(page.locator("#field-status")).to_contain_text("在线：全部已同步")
    done = VisitTask.objects.filter(status=VisitTask.Status.DONE, done_by__username="wangge")
    assert sorted(done.values_list("pk", flat=True)) == sorted([tasks[51].pk, tasks[52].pk])
    assert VisitTask.objects.get(pk=tasks[51].pk).present is False

    # Logging out deletes the stored work set (names must not stay on a shared phone).
    page.goto(f"{live_server.url}/screening/visits/")
    assert page.evaluate(STORED_VISITS) > 0
    page.locator("form.logout-form button").click()
    page.wait_for_url("**/login/**")
    assert page.evaluate(STORED_VISITS) == 0
    context.close()
