"""Benchmark: a county's morning through the HTTP server (issue 19).

    .venv/bin/python bench/load_morning.py --residents 20000 --users 20,40 --duration 30
    .venv/bin/python bench/load_morning.py                     # 1,000,000 residents, 50..800 users
    .venv/bin/python bench/load_morning.py --url http://127.0.0.1:58080 \\
        --database-url postgres://postgres@127.0.0.1:55432/fangkong --layout-dir var/layout

A county of ``--residents`` people (synthetic 拜泉县, loaded once into its own database and
reused) with several hundred users of every role; then, for each number of concurrent users
in ``--users``, ``--duration`` seconds of a mixed **open-loop** morning: every simulated user
acts after an exponential think time (mean ``--think`` s) on a schedule fixed in advance, so
a slow server does not slow the arrivals (a request due while the user's previous one is
still waiting goes out on a second connection); latency is measured from the scheduled
time. Beside the users, the county's background work runs at a fixed pace: a testing round's
ingestion (sampling terminals uploading batches) and one arrivals-ledger import, uploaded at
the start of each step and run by the worker.

Prints, per step: throughput and p50/p95/p99 per kind of request, errors, the CPU split
(the app servers' Python, PostgreSQL, the worker, nginx, this generator, the rest of the
machine), and at the end the largest number of users held with p95 < 300 ms and no errors.

The kinds of request are the table ``KINDS`` below: one line each (name, the roles that do
it with their weights, the request). A board or a daily report is one more line, e.g.
``K("board_reports", "hq:3 town:2", get("/api/v1/reports/board"))``.

By default the script starts ``fangkong serve`` (``--workers``/``--threads``) and ``fangkong
worker`` itself on ``--port`` and stops them at the end. With ``--url`` it drives a server
already running (the layout of ``scripts/layout.sh``); ``--layout-dir`` lets it find that
layout's processes for the CPU split.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import dataclasses
import datetime as dt
import heapq
import io
import json
import os
import random
import secrets
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import loadgen

BENCH_DIR = Path(__file__).resolve().parent
COUNTY = "230231"
P95_TARGET_MS = 300.0
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/fk_bench_morning"

# Who is at work in the morning, per 100 concurrent users.
ROLE_SHARE = {
    "grid_worker": 35,
    "village_doctor": 20,
    "village_cadre": 15,
    "township": 10,
    "testing_staff": 8,
    "investigator": 7,
    "county_hq": 5,
}
# How many users of each role the county has (several hundred where the county has the
# regions for them: one per grid, village or township).
USERS_PER_ROLE = {
    "grid_worker": 400,
    "village_doctor": 300,
    "village_cadre": 300,
    "township": 32,
    "testing_staff": 120,
    "investigator": 60,
    "county_hq": 20,
}


# ------------------------------------------------------------------ the workload


@dataclass
class Req:
    method: str
    path: str
    body: bytes = b""
    html: bool = False
    content_type: str = "application/json"


@dataclass
class SimUser:
    username: str
    role: str
    region: str
    token: str = ""
    session: str = ""
    queries: list[str] = field(default_factory=list)
    orders: list[int] = field(default_factory=list)
    visits: list[int] = field(default_factory=list)
    recalls: list[int] = field(default_factory=list)
    people: list[str] = field(default_factory=list)  # ID numbers to scan (testing staff)
    tube: str = ""
    in_tube: int = 0
    pool: loadgen.Pool | None = None

    def fields(self, ctx: Context) -> dict[str, str]:
        return {"region": self.region, "campaign": str(ctx.campaign)}


@dataclass
class Context:
    campaign: int
    rng: random.Random
    run: str


Maker = Callable[[SimUser, Context], Req | None]


def get(template: str, *, html: bool = False) -> Maker:
    """A GET of ``template`` formatted with the user's ``region`` and the round's ``campaign``."""
    return lambda u, ctx: Req("GET", template.format(**u.fields(ctx)), html=html)


def search(u: SimUser, ctx: Context) -> Req | None:
    if not u.queries:
        return None
    return Req("GET", f"/api/v1/persons?q={quote(ctx.rng.choice(u.queries))}&limit=20")


def search_page(u: SimUser, ctx: Context) -> Req | None:
    if not u.queries:
        return None
    return Req("GET", f"/persons/?q={quote(ctx.rng.choice(u.queries))}", html=True)


def readings(u: SimUser, ctx: Context) -> Req | None:
    """A doctor's round synced from the phone: a reading for 5–10 of their people."""
    if not u.orders:
        return None
    picked = ctx.rng.sample(u.orders, min(len(u.orders), ctx.rng.randint(5, 10)))
    rows = [
        {
            "order_id": order,
            "temperature": f"{ctx.rng.choice([36.2, 36.4, 36.5, 36.6, 36.8, 37.0])}",
            "method": "door",
            "client_id": f"{ctx.run}-{uuid.uuid4().hex[:16]}",
        }
        for order in picked
    ]
    return Req("POST", "/api/v1/quarantine/checks/batch", json.dumps({"readings": rows}).encode())


def visit_done(u: SimUser, ctx: Context) -> Req | None:
    if not u.visits:
        return None
    body = {"present": True, "healthy": True, "temperature": "36.5", "note": "晨访"}
    return Req("POST", f"/api/v1/screening/visits/{u.visits.pop()}/done", json.dumps(body).encode())


def recall_done(u: SimUser, ctx: Context) -> Req | None:
    if not u.recalls:
        return None
    return Req("POST", f"/api/v1/testing/recall-tasks/{u.recalls.pop()}/done")


def scan(u: SimUser, ctx: Context) -> Req | None:
    """One sample scanned on a sampling point's phone: ID card, then the tube (10 a tube)."""
    if not u.people:
        return None
    if not u.tube or u.in_tube >= 10:
        u.tube, u.in_tube = f"M{ctx.run}{secrets.token_hex(4).upper()}", 0
    u.in_tube += 1
    body = {"person": u.people.pop(), "tube": u.tube, "capacity": 10}
    return Req("POST", f"/api/v1/testing/campaigns/{ctx.campaign}/scan", json.dumps(body).encode())


# Short names of the roles, so that each kind of request stays one line.
ROLE_ALIASES = {
    "grid": "grid_worker",
    "doctor": "village_doctor",
    "cadre": "village_cadre",
    "town": "township",
    "tester": "testing_staff",
    "tracer": "investigator",
    "hq": "county_hq",
}


@dataclass
class Kind:
    name: str
    roles: dict[str, int]  # role -> weight among that role's actions
    make: Maker


def K(name: str, who: str, make: Maker) -> Kind:
    """``who``: "role:weight ..." with the short role names of ROLE_ALIASES."""
    pairs = (item.split(":") for item in who.split())
    return Kind(name, {ROLE_ALIASES[r]: int(w) for r, w in pairs}, make)


KINDS = [
    K("search", "cadre:3 town:2 hq:2 grid:1 tracer:3 doctor:1", search),
    K("search_page", "cadre:1 town:1 grid:1", search_page),
    K("round", "doctor:2", get("/api/v1/quarantine/round")),
    K("round_page", "doctor:1", get("/quarantine/round/", html=True)),
    K("readings", "doctor:4", readings),
    K("alerts", "doctor:1 cadre:1", get("/api/v1/quarantine/alerts")),
    K("visits", "grid:3 cadre:1", get("/api/v1/screening/visits")),
    K("visits_page", "grid:1", get("/screening/visits/", html=True)),
    K("visit_done", "grid:2", visit_done),
    K("recall_tasks", "grid:2", get("/api/v1/testing/recall-tasks")),
    K("recall_done", "grid:1", recall_done),
    K("persons_list", "cadre:2 grid:1", get("/api/v1/persons?region={region}&limit=50")),
    K("households", "cadre:1 grid:1", get("/api/v1/households?region={region}&limit=50")),
    K("board_quarantine", "hq:3 town:3 cadre:1", get("/api/v1/quarantine/board")),
    K("board_page", "hq:1 town:1", get("/quarantine/", html=True)),
    K("coverage", "hq:2 town:2 tester:1", get("/api/v1/testing/campaigns/{campaign}/coverage")),
    K("scan", "tester:8", scan),
    K("cases", "tracer:2 hq:1", get("/api/v1/tracing/cases")),
    K("unreached", "tracer:1 hq:1 town:1", get("/api/v1/tracing/unreached")),
    K("screening_due", "cadre:1 town:1", get("/api/v1/screening/due")),
]


def choose_kind(u: SimUser, rng: random.Random) -> Kind:
    kinds = [k for k in KINDS if u.role in k.roles]
    return rng.choices(kinds, weights=[k.roles[u.role] for k in kinds])[0]


# ------------------------------------------------------------------ preparing the county


def setup_django(database_url: str, var_dir: Path) -> None:
    os.environ.update(
        FANGKONG_DATABASE_URL=database_url, FANGKONG_VAR_DIR=str(var_dir), FANGKONG_DEBUG="0"
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangkong.settings")
    import django

    django.setup()


def ensure_database(url: str, fresh: bool) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and fresh:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def step(label: str, started: float) -> None:
    print(f"  {label}: {time.perf_counter() - started:.1f} s", flush=True)


def prepare(args: argparse.Namespace) -> None:
    """Load the county and seed the morning's work once; later runs reuse it."""
    from django.core.management import call_command
    from django.db import connection

    from fangkong.core.models import User

    call_command("migrate", verbosity=0)
    if User.objects.filter(username="morning_county_hq_0").exists():
        return
    from fangkong.people.bulk_import import load_county_dir
    from fangkong.synth import generate_county

    print(f"preparing a county of {args.residents:,} residents (once)", flush=True)
    out_dir = BENCH_DIR / "out" / f"county-{args.residents}-seed1"
    if not (out_dir / "persons.csv").exists():
        started = time.perf_counter()
        generate_county(residents=args.residents, seed=1, out_dir=out_dir)
        step("generate", started)
    started = time.perf_counter()
    load_county_dir(out_dir)
    step("load", started)
    started = time.perf_counter()
    users = create_users()
    step(f"{sum(len(v) for v in users.values())} users", started)
    started = time.perf_counter()
    seed_isolation(users["village_doctor"], args.orders_per_village)
    seed_visits(users["grid_worker"], args.visits_per_grid)
    seed_recalls(users)
    seed_tracing(users)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    step("isolation orders, visits, recalls, a traced case", started)


def create_users() -> dict[str, list]:
    from fangkong.core.jurisdiction import prefix_q
    from fangkong.core.models import Region, User

    def codes(level: str) -> list[str]:
        return list(
            Region.objects.filter(prefix_q("code", [COUNTY]), level=level)
            .order_by("code")
            .values_list("code", flat=True)
        )

    townships, villages, grids = codes("township"), codes("village"), codes("grid")
    rng = random.Random(7)
    regions = {
        "grid_worker": rng.sample(grids, min(len(grids), USERS_PER_ROLE["grid_worker"])),
        "village_doctor": rng.sample(
            villages, min(len(villages), USERS_PER_ROLE["village_doctor"])
        ),
        "village_cadre": rng.sample(villages, min(len(villages), USERS_PER_ROLE["village_cadre"])),
        "township": (townships * 2)[: USERS_PER_ROLE["township"]],
        "testing_staff": [COUNTY] * USERS_PER_ROLE["testing_staff"],
        "investigator": [COUNTY] * USERS_PER_ROLE["investigator"],
        "county_hq": [COUNTY] * USERS_PER_ROLE["county_hq"],
    }
    # Unusable passwords: tokens and sessions are issued directly (hashing a thousand
    # passwords with PBKDF2's million rounds would dominate the set-up).
    made: dict[str, list] = {}
    for role, role_codes in regions.items():
        users = User.objects.bulk_create(
            User(
                username=f"morning_{role}_{i}", password="!", role=role, display_name=f"{role} {i}"
            )
            for i in range(len(role_codes))
        )
        User.regions.through.objects.bulk_create(
            User.regions.through(user_id=u.pk, region_id=code)
            for u, code in zip(users, role_codes, strict=True)
        )
        made[role] = list(zip(users, role_codes, strict=True))
    return made


def seed_isolation(doctors: list, per_village: int) -> None:
    from django.utils import timezone

    from fangkong.core.jurisdiction import prefix_q
    from fangkong.people.models import Person
    from fangkong.quarantine.models import IsolationOrder
    from fangkong.quarantine.services import default_schedule

    schedule = default_schedule()
    starts = timezone.now() - dt.timedelta(days=1)
    orders = []
    for _user, village in doctors:
        people = Person.objects.filter(prefix_q("region_code", [village])).order_by("id")
        for person in people[:per_village]:
            orders.append(
                IsolationOrder(
                    person=person,
                    region_code=person.region_code,
                    kind="home",
                    starts_at=starts,
                    ends_at=starts + dt.timedelta(days=14),
                    policy_version="bench v1",
                    schedule=schedule,
                )
            )
    IsolationOrder.objects.bulk_create(orders, batch_size=5000)


def seed_visits(workers: list, per_grid: int) -> None:
    from django.utils import timezone

    from fangkong.people.models import Person, Source
    from fangkong.screening.models import Stay, VisitTask

    now = timezone.now()
    today = timezone.localdate()
    for user, grid in workers:
        people = list(Person.objects.filter(region_code=grid).order_by("id")[:per_grid])
        stays = Stay.objects.bulk_create(
            Stay(
                person=p,
                region_code=p.region_code,
                place="湖北省武汉市江汉区",
                place_code="420103",
                arrived=today - dt.timedelta(days=10),
                left=today - dt.timedelta(days=1),
                source=Source.POLICE,
            )
            for p in people
        )
        VisitTask.objects.bulk_create(
            VisitTask(
                person=s.person,
                stay=s,
                region_code=s.region_code,
                reason="bench: 自中风险地区返乡",
                assignee=user,
                due_at=now + dt.timedelta(hours=2),
            )
            for s in stays
        )


def seed_recalls(users: dict[str, list]) -> None:
    """A closed earlier round whose positive pools left recall tasks for 150 grid workers."""
    from django.utils import timezone

    from fangkong.people.models import Person
    from fangkong.testing import services
    from fangkong.testing.ingest import ScanRow, bulk_ingest_samples, new_device_sample_id

    hq, sampler = users["county_hq"][0][0], users["testing_staff"][0][0]
    now = timezone.now()
    campaign = services.create_campaign(
        user=hq,
        name="前一轮全员核酸（基准）",
        region_codes=[COUNTY],
        starts_at=now - dt.timedelta(hours=20),
        ends_at=now + dt.timedelta(hours=4),
    )
    rows, barcodes = [], []
    for user, grid in users["grid_worker"][:150]:
        barcode = f"R{user.pk:08d}"
        barcodes.append(barcode)
        for p in Person.objects.filter(region_code=grid).exclude(id_number="")[:10]:
            rows.append(
                ScanRow(
                    device_sample_id=new_device_sample_id(),
                    tube=barcode,
                    sampled_at=now - dt.timedelta(hours=2),
                    id_number=p.id_number,
                    capacity=10,
                )
            )
    bulk_ingest_samples(user=sampler, campaign=campaign, rows=rows)
    services.record_results(
        user=sampler,
        campaign_id=campaign.pk,
        results=[(b, "positive", None) for b in barcodes],
        source="bench",
    )


def seed_tracing(users: dict[str, list]) -> None:
    from fangkong.tracing import demo

    investigator = users["investigator"][0][0]
    for _user, village in users["village_cadre"]:
        if demo.seed(investigator=investigator, village_code=village):
            return


# ------------------------------------------------------------------ each run


def refresh(args: argparse.Namespace, run: str) -> tuple[list[SimUser], int, list[str]]:
    """Reopen the seeded work, open today's round, issue tokens and sessions, load what each
    user will ask for. Returns the users, the round's id and the ID numbers to ingest."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import connection
    from django.utils import timezone

    from fangkong.core import names
    from fangkong.core.models import ApiToken, User
    from fangkong.screening.models import VisitTask
    from fangkong.testing import services
    from fangkong.testing.models import RecallTask

    VisitTask.objects.filter(reason__startswith="bench:").update(
        status=VisitTask.Status.OPEN, done_at=None, done_by=None, present=None, healthy=None
    )
    RecallTask.objects.filter(assignee__username__startswith="morning_").update(
        status=RecallTask.Status.OPEN, done_at=None
    )
    bench_users = list(User.objects.filter(username__startswith="morning_").order_by("id"))
    ApiToken.objects.filter(user__username__startswith="morning_").delete()
    now = timezone.now()
    tokens = {u.pk: secrets.token_urlsafe(32) for u in bench_users}
    ApiToken.objects.bulk_create(
        ApiToken(
            user=u, key_hash=ApiToken.hash(tokens[u.pk]), expires_at=now + dt.timedelta(days=1)
        )
        for u in bench_users
    )
    hq = next(u for u in bench_users if u.role == "county_hq")
    campaign = services.create_campaign(
        user=hq,
        name=f"全员核酸 {run}（基准）",
        region_codes=[COUNTY],
        starts_at=now - dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(hours=23),
    )
    sims = []
    for u in bench_users:
        session = SessionStore()
        session[SESSION_KEY] = str(u.pk)
        session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        session[HASH_SESSION_KEY] = u.get_session_auth_hash()
        session.create()
        sims.append(
            SimUser(u.username, u.role, u.region_codes[0], tokens[u.pk], session.session_key)
        )
    by_name = {s.username: s for s in sims}
    with connection.cursor() as cursor:
        # Search strings from a sample of the registry, bucketed by each user's region.
        cursor.execute(
            "SELECT name, id_number, phone, region_code FROM people_person TABLESAMPLE SYSTEM (%s)",
            [min(100.0, 60_000 * 100.0 / max(1, args.residents))],
        )
        sample = cursor.fetchall()
        cursor.execute(
            "SELECT u.username, o.id FROM quarantine_isolationorder o"
            " JOIN core_user_regions r ON o.region_code LIKE r.region_id || '%%'"
            " JOIN core_user u ON u.id = r.user_id"
            " WHERE u.username LIKE 'morning_village_doctor_%%' AND o.status = 'active'"
        )
        for username, order in cursor.fetchall():
            by_name[username].orders.append(order)
        cursor.execute(
            "SELECT u.username, v.id FROM screening_visittask v JOIN core_user u"
            " ON u.id = v.assignee_id WHERE v.reason LIKE 'bench:%%' AND v.status = 'open'"
        )
        for username, visit in cursor.fetchall():
            by_name[username].visits.append(visit)
        cursor.execute(
            "SELECT u.username, t.id FROM testing_recalltask t JOIN core_user u"
            " ON u.id = t.assignee_id WHERE u.username LIKE 'morning_%%' AND t.status = 'open'"
        )
        for username, task in cursor.fetchall():
            by_name[username].recalls.append(task)
    rng = random.Random(run)
    queries: dict[str, list[str]] = defaultdict(list)
    prefixes = {s.region for s in sims}
    lengths = sorted({len(p) for p in prefixes})
    for name, id_number, phone, code in sample:
        kind = rng.random()
        if kind < 0.5:
            text = name
        elif kind < 0.8:
            syllables = names.pinyin_syllables(name)
            text = syllables[0] + (syllables[1][:1] if len(syllables) > 1 else "")
        elif kind < 0.9 and id_number:
            text = id_number
        else:
            text = phone or name
        for n in lengths:
            if code[:n] in prefixes and len(queries[code[:n]]) < 40:
                queries[code[:n]].append(text)
    residents = [row[1] for row in sample if row[1]]
    rng.shuffle(residents)
    scanners = [s for s in sims if s.role == "testing_staff"]
    per = max(1, min(200, len(residents) // (2 * max(1, len(scanners)))))
    for i, s in enumerate(scanners):
        s.people = residents[i * per : (i + 1) * per]
    ingest = residents[len(scanners) * per :]
    for s in sims:
        s.queries = queries.get(s.region, [])
        rng.shuffle(s.visits)
    return sims, campaign.pk, ingest


def ledger_file(args: argparse.Namespace, run: str) -> bytes:
    """An arrivals ledger (返乡人员台账) of registered residents, as the police send it."""
    from django.db import connection

    from fangkong.screening.ledgers import COLUMNS

    places = [
        ("湖北省武汉市江汉区", "420103", "G1234次列车"),
        ("上海市黄浦区", "310101", "自驾"),
        ("辽宁省大连市中山区", "210202", "航班 CZ6123"),
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, id_number, sex, birth_date, phone, region_code FROM people_person"
            " TABLESAMPLE SYSTEM (%s) REPEATABLE (%s)"
            " WHERE id_number <> '' AND phone <> '' LIMIT %s",
            [
                min(100.0, args.ledger_rows * 300.0 / max(1, args.residents)),
                abs(hash(run)) % 100_000,
                args.ledger_rows,
            ],
        )
        rows = cursor.fetchall()
    rng = random.Random(run)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([c.header for c in COLUMNS["arrivals"]])
    today = dt.date.today()
    for name, id_number, sex, birth, phone, region in rows:
        place, code, transport = rng.choice(places)
        left = today - dt.timedelta(days=rng.randrange(1, 10))
        arrived = left - dt.timedelta(days=rng.randrange(1, 20))
        writer.writerow(
            [
                name,
                id_number,
                {"M": "男", "F": "女"}.get(sex, ""),
                birth or "",
                phone,
                region,
                place,
                code,
                arrived,
                left,
                transport,
            ]
        )
    return out.getvalue().encode("utf-8")


# ------------------------------------------------------------------ driving it


def headers_for(u: SimUser, req: Req) -> dict[str, str]:
    if req.html:
        return {"Cookie": f"sessionid={u.session}", "Accept": "text/html"}
    headers = {"Authorization": f"Bearer {u.token}", "Accept": "application/json"}
    if req.body:
        headers["Content-Type"] = req.content_type
    return headers


async def send(u: SimUser, kind: str, req: Req, due: float, rec: loadgen.Recorder, measured: bool):
    assert u.pool is not None
    try:
        status, body = await u.pool.request(req.method, req.path, headers_for(u, req), req.body)
    except loadgen.HttpError as exc:
        if measured:
            rec.error(kind, (time.monotonic() - due) * 1000, f"connection: {exc}")
        return
    ms = (time.monotonic() - due) * 1000
    if not measured:
        return
    if status >= 300:  # a redirect is the login page, not the page asked for
        rec.error(kind, ms, f"HTTP {status} {req.method} {req.path[:80]}: {body[:120]!r}")
    else:
        rec.ok(kind, ms)


def multipart(
    fields: dict[str, str], name: str, filename: str, content: bytes
) -> tuple[bytes, str]:
    boundary = f"----fangkong{secrets.token_hex(8)}"
    parts = []
    for key, value in fields.items():
        head = f'Content-Disposition: form-data; name="{key}"'
        parts.append(f"--{boundary}\r\n{head}\r\n\r\n{value}\r\n".encode())
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
        "Content-Type: text/csv\r\n\r\n".encode()
        + content
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


async def background(
    host: str,
    port: int,
    ctx: Context,
    hq: SimUser,
    sampler: SimUser,
    ingest: list[str],
    ledger: bytes,
    args: argparse.Namespace,
    rec: loadgen.Recorder,
    until: float,
) -> dict[str, object]:
    """The county's background work during a step: sample batches at a fixed pace and one
    ledger import (uploaded at the start, its progress polled every 5 s)."""
    outcome: dict[str, object] = {"ledger_rows": 0, "ledger_seconds": None, "samples": 0}
    terminal, uploader = loadgen.Pool(host, port), loadgen.Pool(host, port)
    # The terminal and the uploader have connections of their own, apart from the users'.
    device = dataclasses.replace(sampler, pool=terminal)
    hq = dataclasses.replace(hq, pool=uploader)

    async def ingestion() -> None:
        batch, cursor = args.ingest_batch, 0
        next_at = time.monotonic()
        while time.monotonic() < until and cursor < len(ingest):
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            at = dt.datetime.now(dt.UTC).isoformat()
            rows = [
                {
                    "device_sample_id": f"{ctx.run}-{cursor + i}",
                    "id_number": n,
                    "tube": f"T{ctx.run}{(cursor + i) // 10:07d}",
                    "capacity": 10,
                    "sampled_at": at,
                }
                for i, n in enumerate(ingest[cursor : cursor + batch])
            ]
            cursor += batch
            body = json.dumps({"samples": rows}).encode()
            req = Req("POST", f"/api/v1/testing/campaigns/{ctx.campaign}/samples", body)
            await send(device, "ingest_batch", req, next_at, rec, True)
            outcome["samples"] = cursor
            next_at += args.ingest_every

    async def ledger_import() -> None:
        body, content_type = multipart(
            {"mode": "valid", "source": "police"}, "file", f"morning-{ctx.run}.csv", ledger
        )
        started = time.monotonic()
        status, data = await uploader.request(
            "POST",
            "/api/v1/screening/ledgers/arrivals/imports",
            {"Authorization": f"Bearer {hq.token}", "Content-Type": content_type},
            body,
        )
        ms = (time.monotonic() - started) * 1000
        if status != 202:
            rec.error("ledger_upload", ms, f"HTTP {status}: {data[:200]!r}")
            return
        rec.ok("ledger_upload", ms)
        import_id = json.loads(data)["id"]
        while time.monotonic() < until + args.ledger_wait:
            await asyncio.sleep(5)
            req = Req("GET", f"/api/v1/screening/ledgers/imports/{import_id}")
            due = time.monotonic()
            status, data = await uploader.request(req.method, req.path, headers_for(hq, req))
            if time.monotonic() < until:
                rec.ok("ledger_status", (time.monotonic() - due) * 1000)
            state = json.loads(data) if status == 200 else {}
            if state.get("status") in ("done", "failed", "rejected"):
                outcome["ledger_rows"] = state.get("rows_imported", 0) + state.get(
                    "rows_existing", 0
                )
                outcome["ledger_seconds"] = time.monotonic() - started
                outcome["ledger_status"] = state.get("status")
                return

    await asyncio.gather(ingestion(), ledger_import())
    await terminal.close()
    await uploader.close()
    return outcome


async def run_step(
    host: str,
    port: int,
    sims: list[SimUser],
    users: int,
    ctx: Context,
    ingest: list[str],
    ledger: bytes,
    args: argparse.Namespace,
    sampler: loadgen.CpuSampler,
) -> tuple[loadgen.Recorder, dict[str, float], dict[str, object], float]:
    rng = ctx.rng
    by_role: dict[str, list[SimUser]] = defaultdict(list)
    for s in sims:
        by_role[s.role].append(s)
    active: list[SimUser] = []
    for role, share in ROLE_SHARE.items():
        want = round(users * share / 100)
        pool = by_role[role][:]
        rng.shuffle(pool)
        active += pool[:want]
        # More users at once than the county has accounts of this role: the same accounts
        # again (a cadre on a phone and a desk), reading and writing readings, but the
        # one-off work (visits, recalls, scans) stays with the first session.
        for n in range(want - len(pool)):
            active.append(
                dataclasses.replace(pool[n % len(pool)], visits=[], recalls=[], people=[])
            )
    start = time.monotonic() + 1.0
    measure_from = start + args.warmup
    end = measure_from + args.duration
    schedule: list[tuple[float, int, int]] = []  # (due, user index, tie-breaker)
    n = 0
    for i, u in enumerate(active):
        u.pool = loadgen.Pool(host, port)
        t = start + rng.uniform(0, args.think)
        while t < end:
            schedule.append((t, i, n))
            n += 1
            t += rng.expovariate(1.0 / args.think)
    heapq.heapify(schedule)
    offered = sum(1 for due, _i, _n in schedule if due >= measure_from) / args.duration
    rec = loadgen.Recorder()
    hq = by_role["county_hq"][0]
    terminal = by_role["testing_staff"][0]
    back = asyncio.create_task(
        background(host, port, ctx, hq, terminal, ingest, ledger, args, rec, end)
    )
    tasks = set()
    cpu: dict[str, float] = {}

    async def measure_cpu() -> None:
        await asyncio.sleep(max(0.0, measure_from - time.monotonic()))
        sampler.start()
        await asyncio.sleep(max(0.0, end - time.monotonic()))
        cpu.update(sampler.stop())

    cpu_task = asyncio.create_task(measure_cpu())
    while schedule:
        due, i, _n = heapq.heappop(schedule)
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        elif delay < -0.05:
            rec.late += 1
        u = active[i]
        for _attempt in range(5):  # work used up (all visits done): the user does another
            kind = choose_kind(u, rng)
            req = kind.make(u, ctx)
            if req is not None:
                break
        else:
            continue
        task = asyncio.create_task(send(u, kind.name, req, due, rec, due >= measure_from))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    await cpu_task
    served = rec.served(measure_from, end)
    if tasks:
        await asyncio.wait(tasks)
    outcome = await back
    for u in active:
        if u.pool is not None:
            await u.pool.close()
    return rec, cpu, outcome, (offered, served)


async def warm_up(host: str, port: int, sims: list[SimUser], ctx: Context) -> None:
    """Every read kind a few times over 8 connections, unmeasured: a fresh server process
    builds its URL map, API schemas and templates on first use."""
    by_role = {s.role: s for s in sims}
    reads = [
        (u, req)
        for k in KINDS
        for role in k.roles
        if (u := by_role.get(role)) is not None
        and (req := k.make(dataclasses.replace(u), ctx)) is not None
        and req.method == "GET"
    ]

    async def one() -> None:
        pool = loadgen.Pool(host, port)
        for u, req in reads:
            with contextlib.suppress(loadgen.HttpError):
                await pool.request(req.method, req.path, headers_for(u, req))
        await pool.close()

    await asyncio.gather(*(one() for _ in range(8)))


def cpu_groups(args: argparse.Namespace, server, worker) -> dict[str, Callable[[], list[int]]]:
    groups: dict[str, Callable[[], list[int]]] = {}
    if args.layout_dir:
        run = Path(args.layout_dir) / "run"

        def pids(pattern: str) -> Callable[[], list[int]]:
            return lambda: [int(p.read_text()) for p in run.glob(pattern) if p.read_text().strip()]

        groups["app servers (Python)"] = pids("app-*.pid")
        groups["worker (Python)"] = pids("worker.pid")
        groups["nginx"] = pids("nginx.pid")
    else:
        groups["app server (Python)"] = lambda: [server.process.pid]
        groups["worker (Python)"] = lambda: [worker.pid]
    primary = loadgen.postmaster_of(args.database_url)
    groups["PostgreSQL primary"] = lambda: [primary]
    if args.replica_url:
        replica = loadgen.postmaster_of(args.replica_url)
        groups["PostgreSQL replica"] = lambda: [replica]
    me = os.getpid()
    groups["load generator (alone)"] = lambda: [me]
    return groups


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--residents", type=int, default=1_000_000)
    parser.add_argument("--users", default="50,100,200,400,800", help="concurrent users per step")
    parser.add_argument("--duration", type=float, default=60.0, help="measured seconds per step")
    parser.add_argument("--warmup", type=float, default=10.0, help="unmeasured seconds first")
    parser.add_argument("--think", type=float, default=15.0, help="mean think time (s)")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--replica-url", default=None, help="the layout's replica (CPU split)")
    parser.add_argument("--fresh", action="store_true", help="drop and rebuild the database")
    parser.add_argument("--url", default=None, help="drive this server instead of starting one")
    parser.add_argument("--layout-dir", default=None, help="scripts/layout.sh folder (CPU split)")
    parser.add_argument("--port", type=int, default=8790)
    parser.add_argument("--workers", type=int, default=0, help="server processes (0: cores)")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--orders-per-village", type=int, default=25)
    parser.add_argument("--visits-per-grid", type=int, default=15)
    parser.add_argument("--ingest-batch", type=int, default=200, help="samples per upload")
    parser.add_argument("--ingest-every", type=float, default=2.0, help="seconds between uploads")
    parser.add_argument("--ledger-rows", type=int, default=0, help="default: residents / 50")
    parser.add_argument(
        "--ledger-wait",
        type=float,
        default=0.0,
        help="seconds to wait after a step for the import to finish",
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if not args.database_url:
        args.database_url = (
            DEFAULT_URL
            if args.residents == 1_000_000
            else (f"postgres://postgres@127.0.0.1:5432/fk_bench_morning_{args.residents}")
        )
    args.ledger_rows = args.ledger_rows or max(100, args.residents // 50)
    return args


def main() -> int:
    args = parse_args()
    # The layout's own folder when driving it: sessions are signed with its secret key.
    var_dir = (
        Path(args.layout_dir) / "var" if args.layout_dir else BENCH_DIR / "out" / "morning-var"
    )
    var_dir.mkdir(parents=True, exist_ok=True)
    if not args.url:
        ensure_database(args.database_url, args.fresh)
    setup_django(args.database_url, var_dir)
    print(f"load average at start: {loadgen.load_average()}", flush=True)
    prepare(args)
    run = time.strftime("%H%M%S")
    sims, campaign, ingest = refresh(args, run)
    ledger = ledger_file(args, run)
    from django.db import connection

    connection.close()
    server = worker = None
    if args.url:
        host, port = loadgen.split_url(args.url)
    else:
        host, port = "127.0.0.1", args.port
        env = loadgen.fangkong_env(args.database_url, var_dir)
        workers = args.workers or os.cpu_count() or 1  # what `fangkong serve` picks
        server = loadgen.Server(env, port, args.workers, args.threads)
        worker = loadgen.start_worker(env)
        print(f"fangkong serve: {workers} processes x {args.threads} threads on :{port}")
    rows = ledger.count(b"\n") - 1
    print(
        f"{len(sims)} users; round {campaign}; {len(ingest):,} residents queued for ingestion;"
        f" ledger of {rows:,} rows per step",
        flush=True,
    )
    held = 0
    try:
        asyncio.run(warm_up(host, port, sims, Context(campaign, random.Random(0), run)))
        for users in [int(u) for u in args.users.split(",")]:
            ctx = Context(
                campaign=campaign, rng=random.Random(f"{args.seed}-{users}"), run=f"{run}{users}"
            )
            sampler = loadgen.CpuSampler(cpu_groups(args, server, worker))
            rec, cpu, outcome, (offered, served) = asyncio.run(
                run_step(host, port, sims, users, ctx, ingest, ledger, args, sampler)
            )
            everything = rec.all_latencies()
            p95 = loadgen.percentile(everything, 0.95)
            errors = sum(rec.errors.values())
            ok = p95 < P95_TARGET_MS and errors == 0
            held = max(held, users) if ok else held
            print(
                f"\n== {users} concurrent users, think {args.think:.0f} s: offered "
                f"{offered:.1f} req/s, answered within the step {served:.1f} req/s, "
                f"p95 {p95:.0f} ms, errors {errors} -> {'held' if ok else 'NOT held'}"
                f" (load average {loadgen.load_average()})"
            )
            print("\n".join(rec.table(args.duration)))
            if rec.late:
                print(f"  {rec.late} requests left > 50 ms late (the generator lacked CPU)")
            if cpu:
                print("\n".join(loadgen.cpu_lines(cpu)))
            seconds = outcome.get("ledger_seconds")
            ledger_text = (
                f"{outcome.get('ledger_status')} in {seconds:.0f} s"
                f" ({outcome['ledger_rows']:,} rows, {outcome.get('ledger_rejected', 0)} refused)"
                if seconds
                else "still running at the end of the step"
            )
            samples = outcome["samples"]
            print(f"  background: {samples:,} samples ingested; ledger import {ledger_text}")
    finally:
        if server is not None:
            server.stop()
        if worker is not None:
            loadgen.stop(worker)
    print(
        f"\nheld: {held} concurrent users with p95 < {P95_TARGET_MS:.0f} ms and no errors"
        f" (load average {loadgen.load_average()})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
