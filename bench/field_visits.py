"""Benchmark: the field app's budgets for one village (issue 20).

    .venv/bin/python bench/field_visits.py [--persons 1000] [--queued 500] [--port 8768]
        [--database-url postgres://postgres@127.0.0.1:5432/fk_bench_field_visits] [--keep]
        [--no-browser]

The issue's budgets, each printed as a ratio to its limit:

* a village work set of 1,000 persons < 200 KB compressed: the grid worker's visits work set
  (``GET /api/v1/screening/field/workset``, 1,000 open visits) and the village doctor's round
  (``GET /api/v1/quarantine/field/workset``, 1,000 people in home isolation), gzip level 5 as
  the nginx configuration in ``deploy/nginx`` sends JSON;
* 500 queued records sent in < 10 s: one ``POST /api/v1/screening/field/sync`` with 500
  visits (each through the visit form's service, in its own transaction), then the same
  batch again (a retry after a lost answer: 500 duplicates, nothing stored twice), and 500
  readings of the round in one ``POST /api/v1/quarantine/field/sync``;
* initial sync of a village on a throttled 3G profile < 10 s: Debian chromium with Chrome
  DevTools' "Fast 3G" profile (562.5 ms latency, 1.44 Mbit/s down, 675 kbit/s up), a
  logged-in grid worker opens the visits page with an empty cache (the app shell, the page)
  and fetches the work set. The test server sends everything uncompressed, so this is an
  upper bound of what the phone waits behind nginx.

A real granian server (2 workers) on 127.0.0.1 and PostgreSQL; the database is dropped
unless ``--keep``.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import os
import sys
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from quarantine_common import drop_database, recreate_database, seed_county, setup_django
from quarantine_ingest import start_server, stop_server

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/fk_bench_field_visits"
WORK_SET_LIMIT = 200 * 1024
SYNC_LIMIT = 10.0
INITIAL_SYNC_LIMIT = 10.0
PASSWORD = "bench-Fangkong-2026"
# Chrome DevTools' "Fast 3G" preset (the numbers DevTools passes to the protocol).
FAST_3G = {
    "offline": False,
    "latency": 562.5,
    "downloadThroughput": 1.6 * 1024 * 1024 / 8 * 0.9,
    "uploadThroughput": 750 * 1024 / 8 * 0.9,
}


def _request(port: int, method: str, path: str, token: str, body: object = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"Authorization": f"Bearer {token}"}
    payload = None
    if body is not None:
        payload = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    started = time.perf_counter()
    conn.request(method, path, body=payload, headers=headers)
    response = conn.getresponse()
    data = response.read()
    elapsed = time.perf_counter() - started
    conn.close()
    if response.status != 200:
        raise SystemExit(f"{method} {path}: {response.status} {data[:300]!r}")
    return data, elapsed


def _seed(persons: int) -> tuple[str, str, str]:
    """1,000 people in home isolation and 1,000 open visits in one village's first grid; a
    grid worker and a village doctor with bearer tokens. Returns (grid, worker, doctor)."""
    from django.utils import timezone

    from fangkong.core import regions
    from fangkong.core.models import ApiToken, User
    from fangkong.people.models import Person
    from fangkong.screening.models import Stay, VisitTask

    now = timezone.now()
    (village,) = seed_county(orders=persons, villages=1, starts_at=now - timedelta(days=3))
    grid = village + "001"
    regions.upsert_regions([(grid, "第1组", True)])
    people = Person.objects.bulk_create(
        Person(
            name=f"返乡{n}",
            name_pinyin=f"fanxiang{n}",
            name_initials="fx",
            region_code=grid,
            category="returnee",
            phone=f"139{n:08d}",
        )
        for n in range(persons)
    )
    stays = Stay.objects.bulk_create(
        Stay(
            person=p,
            region_code=grid,
            place_code="420103",
            place="武汉市江汉区",
            arrived=date.today() - timedelta(days=6),
            left=date.today() - timedelta(days=4),
            source="police",
        )
        for p in people
    )
    VisitTask.objects.bulk_create(
        VisitTask(
            person=p,
            region_code=grid,
            stay=s,
            reason="14天内到过武汉市江汉区（高风险地区）",
            due_at=now + timedelta(hours=12),
        )
        for p, s in zip(people, stays, strict=True)
    )
    worker = User.objects.create_user(
        username="wangge_bench", role="grid_worker", password=PASSWORD, display_name="网格员"
    )
    worker.regions.set([grid])
    doctor = User.objects.create_user(username="doctor_bench", role="village_doctor")
    doctor.regions.set([village])
    return grid, ApiToken.issue(worker), ApiToken.issue(doctor)


def _work_sets(port: int, worker: str, doctor: str) -> list[tuple[str, float]]:
    rows = []
    for label, path, token in (
        ("visits work set", "/api/v1/screening/field/workset", worker),
        ("round work set", "/api/v1/quarantine/field/workset", doctor),
    ):
        _request(port, "GET", path, token)  # warm the server's threads
        data, elapsed = _request(port, "GET", path, token)
        entries = json.loads(data)
        count = len(entries.get("visits", entries.get("round", [])))
        packed = len(gzip.compress(data, compresslevel=5))
        print(
            f"{label:16s} {count:5d} entries  {len(data) / 1024:7.1f} KB raw  "
            f"{packed / 1024:6.1f} KB gzip  {elapsed * 1000:6.1f} ms  "
            f"= {packed / WORK_SET_LIMIT:.2f} × the 200 KB limit"
        )
        rows.append((label, packed / WORK_SET_LIMIT))
    return rows


def _queued(port: int, worker: str, doctor: str, queued: int) -> list[tuple[str, float]]:
    from django.utils import timezone

    from fangkong.quarantine.models import IsolationOrder
    from fangkong.screening.models import VisitTask

    taken = (timezone.now() - timedelta(minutes=20)).isoformat()
    task_ids = list(
        VisitTask.objects.filter(status="open").order_by("pk").values_list("pk", flat=True)
    )[:queued]
    visits = [
        {
            "key": str(uuid.uuid4()),
            "task_id": pk,
            "taken_at": taken,
            "present": n % 10 != 0,
            "healthy": n % 25 != 0,
            "temperature": "38.1" if n % 25 == 0 else None,
            "symptoms": "咳嗽" if n % 25 == 0 else "",
        }
        for n, pk in enumerate(task_ids)
    ]
    rows = []
    data, elapsed = _request(
        port, "POST", "/api/v1/screening/field/sync", worker, {"visits": visits}
    )
    answer = json.loads(data)
    assert answer["stored"] == len(visits), answer["stored"]
    print(f"{len(visits)} queued visits sent: {elapsed:.2f} s = {elapsed / SYNC_LIMIT:.2f} × 10 s")
    rows.append(("500 visits", elapsed / SYNC_LIMIT))
    data, elapsed = _request(
        port, "POST", "/api/v1/screening/field/sync", worker, {"visits": visits}
    )
    answer = json.loads(data)
    assert answer["duplicates"] == len(visits), answer
    assert VisitTask.objects.filter(status="done").count() == len(visits)
    print(f"the same batch again (retry): {elapsed:.2f} s, {answer['duplicates']} duplicates")
    orders = list(IsolationOrder.objects.order_by("pk").values_list("pk", "version"))[:queued]
    readings = [
        {
            "key": str(uuid.uuid4()),
            "order_id": pk,
            "version": version,
            "taken_at": taken,
            "normal": True,
        }
        for pk, version in orders
    ]
    data, elapsed = _request(
        port, "POST", "/api/v1/quarantine/field/sync", doctor, {"readings": readings}
    )
    assert json.loads(data)["stored"] == len(readings)
    print(
        f"{len(readings)} queued readings sent: {elapsed:.2f} s = {elapsed / SYNC_LIMIT:.2f} × 10 s"
    )
    rows.append(("500 readings", elapsed / SYNC_LIMIT))
    return rows


def _initial_sync_3g(port: int, worker_token: str) -> list[tuple[str, float]]:
    from playwright.sync_api import sync_playwright

    base = f"http://127.0.0.1:{port}"
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        # A phone's first visit: no service worker yet (its fetches would also escape the
        # page's throttling), nothing cached.
        context = browser.new_context(
            viewport={"width": 375, "height": 812}, locale="zh-CN", service_workers="block"
        )
        page = context.new_page()
        page.goto(f"{base}/login/")
        page.locator("input[name=username]").fill("wangge_bench")
        page.locator("input[name=password]").fill(PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.wait_for_load_state("load")
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        cdp.send("Network.emulateNetworkConditions", FAST_3G)
        started = time.perf_counter()
        page.goto(f"{base}/screening/visits/", wait_until="load")
        page_seconds = time.perf_counter() - started
        requests = page.evaluate("performance.getEntriesByType('resource').length + 1")
        size = page.evaluate(
            "fetch('/api/v1/screening/field/workset', {credentials: 'same-origin'})"
            ".then(r => r.text()).then(t => t.length)"
        )
        total = time.perf_counter() - started
        browser.close()
    print(
        "initial sync on Fast 3G (uncompressed): "
        f"visits page with the app shell ({requests} requests) {page_seconds:.2f} s, "
        f"+ work set ({size / 1024:.0f} KB) = {total:.2f} s "
        f"= {total / INITIAL_SYNC_LIMIT:.2f} × 10 s"
    )
    return [("initial sync 3G", total / INITIAL_SYNC_LIMIT)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=1000)
    parser.add_argument("--queued", type=int, default=500)
    parser.add_argument("--port", type=int, default=8768)
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_FIELD_VISITS_URL", DEFAULT_URL)
    )
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--no-browser", action="store_true", help="skip the 3G page load")
    args = parser.parse_args()

    recreate_database(args.database_url)
    setup_django(args.database_url)
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    _grid, worker, doctor = _seed(args.persons)
    connection.close()
    args.max_seconds = 600.0
    server = start_server(args)
    try:
        ratios = _work_sets(args.port, worker, doctor)
        if not args.no_browser:
            ratios += _initial_sync_3g(args.port, worker)
        ratios += _queued(args.port, worker, doctor, args.queued)
    finally:
        stop_server(server)
        connection.close()
        if not args.keep:
            drop_database(args.database_url)
    print("ratios to the limits: " + ", ".join(f"{k} {v:.2f}" for k, v in ratios))
    return 0 if all(v <= 1 for _k, v in ratios) else 1


if __name__ == "__main__":
    raise SystemExit(main())
