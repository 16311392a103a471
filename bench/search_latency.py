"""Benchmark: person search latency through the HTTP API at a million residents.

    .venv/bin/python bench/search_latency.py [--requests 200] [--port 8765]
        [--database-url postgres://postgres@127.0.0.1:5432/fangkong_bench]

Uses the database bench/load_residents.py leaves behind (run that first; with
``--load`` this script runs it when the database holds no persons). Creates two users — a
county-headquarters user over 230231 and a village cadre over one village — starts a real
server (granian, WSGI, one process) on 127.0.0.1, gets a bearer token for each, and issues
``GET /api/v1/persons?q=...`` for four kinds of search, with queries drawn at random from
people inside each user's jurisdiction: full Chinese name, pinyin prefix (``zhangw``), full
ID number, full phone number. Prints p50 and p95 per kind and user (target p95 < 100 ms).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

BENCH_DIR = Path(__file__).resolve().parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/fangkong_bench"
PASSWORD = "bench-Fangkong-2026"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def prepare_users(village: str) -> None:
    from fangkong.core.models import User
    from fangkong.core.roles import Role
    from fangkong.core.users import create_user

    for username, role, code in (
        ("bench_hq", Role.COUNTY_HQ, "230231"),
        ("bench_village", Role.VILLAGE_CADRE, village),
    ):
        User.objects.filter(username=username).delete()
        create_user(
            username=username,
            password=PASSWORD,
            role=role,
            region_codes=[code],
            check_password_strength=False,
        )


def queries(prefix: str, count: int, rng: random.Random) -> dict[str, list[str]]:
    """Search strings of each kind, drawn from persons whose region starts with ``prefix``."""
    from fangkong.core import names
    from fangkong.people.models import Person

    ids = list(
        Person.objects.filter(region_code__startswith=prefix)
        .exclude(phone="")
        .values_list("id", flat=True)[:200_000]
    )
    picked = Person.objects.filter(id__in=rng.sample(ids, min(count, len(ids))))
    out: dict[str, list[str]] = {"name": [], "pinyin": [], "id_number": [], "phone": []}
    for person in picked:
        syllables = names.pinyin_syllables(person.name)
        out["name"].append(person.name)
        out["pinyin"].append(syllables[0] + (syllables[1][:1] if len(syllables) > 1 else ""))
        out["id_number"].append(person.id_number or "")
        out["phone"].append(person.phone)
    return out


class Api:
    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.token = ""

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        self.conn.request(method, path, json.dumps(body) if body else None, headers)
        response = self.conn.getresponse()
        data = response.read()
        return response.status, json.loads(data) if data else {}

    def login(self, username: str) -> None:
        status, data = self.request(
            "POST", "/api/v1/auth/token", {"username": username, "password": PASSWORD}
        )
        if status != 200:
            raise SystemExit(f"token for {username} failed: {status} {data}")
        self.token = data["token"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="searches per kind and user")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--load", action="store_true", help="run load_residents.py if empty")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    env = dict(os.environ, FANGKONG_DATABASE_URL=args.database_url, FANGKONG_DEBUG="0")
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangkong.settings")
    import django

    django.setup()
    from django.db import connection

    from fangkong.people.models import Person

    if not Person.objects.exists():
        if not args.load:
            raise SystemExit("no persons in the bench database: run bench/load_residents.py")
        subprocess.run(
            [
                sys.executable,
                str(BENCH_DIR / "load_residents.py"),
                "--database-url",
                args.database_url,
            ],
            check=True,
        )
    total = Person.objects.count()
    village = (
        Person.objects.filter(region_code__startswith="230231106")
        .values_list("region_code", flat=True)
        .first()
    )[:12]
    prepare_users(village)
    rng = random.Random(args.seed)
    plans = {
        "county_hq (230231)": ("bench_hq", queries("230231", args.requests, rng)),
        f"village_cadre ({village})": ("bench_village", queries(village, args.requests, rng)),
    }
    connection.close()

    if not port_free(args.port):
        raise SystemExit(f"port {args.port} is in use; pick another with --port")
    granian = Path(sys.executable).with_name("granian")
    server = subprocess.Popen(
        [
            str(granian),
            "--interface",
            "wsgi",
            "--host",
            "127.0.0.1",
            "--port",
            str(args.port),
            "--workers",
            "1",
            "--blocking-threads",
            "2",
            "--log-level",
            "warning",
            "fangkong.wsgi:application",
        ],
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while port_free(args.port):
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("the server did not start")
            time.sleep(0.2)
        print(f"{total:,} persons; granian WSGI on 127.0.0.1:{args.port} (pid {server.pid})")
        print(f"{'user':<32} {'kind':<10} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'hits':>6}")
        worst = 0.0
        for label, (username, kinds) in plans.items():
            api = Api(args.port)
            api.login(username)
            for q in kinds["name"][:10]:  # warm-up: connections, caches
                api.request("GET", "/api/v1/persons?" + urlencode({"q": q}))
            for kind, values in kinds.items():
                timings: list[float] = []
                hits = 0
                for q in values:
                    started = time.perf_counter()
                    status, data = api.request("GET", "/api/v1/persons?" + urlencode({"q": q}))
                    timings.append((time.perf_counter() - started) * 1000)
                    if status != 200:
                        raise SystemExit(f"{kind} {q!r}: HTTP {status} {data}")
                    hits += bool(data["items"])
                p95 = percentile(timings, 0.95)
                worst = max(worst, p95)
                print(
                    f"{label:<32} {kind:<10} {len(values):>4} "
                    f"{statistics.median(timings):>8.1f} {p95:>8.1f} {hits:>6}"
                )
        print(f"worst p95: {worst:.1f} ms (target < 100 ms)")
    finally:
        server.terminate()
        server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
