"""Benchmark: the public tip-off form under a flood (issue 15's figure).

    .venv/bin/python bench/tipoffs_flood.py [--rate 1000] [--legit 50] [--seconds 15]
        [--database-url postgres://postgres@127.0.0.1:5432/fk_bench_tipoffs] [--keep] [--nginx]

Starts a real server (``fangkong serve``: granian, 2 processes × 4 threads, behind a trusted
"proxy" so each request's X-Forwarded-For is its client address) on a fresh PostgreSQL
database with one county and 40 villages, then offers ``--rate`` POSTs of the public form per
second for ``--seconds`` (open loop: the schedule does not wait for answers):

- ``--legit`` per second are legitimate tips, each from its own address (and device);
- the rest come from ONE address (a script flooding the form).

Prints p50/p95/p99 per kind, the status codes, 5xx count and rows stored; the figure is the
legitimate p95 as a ratio to 300 ms (target < 1), with the single address limited to
CLIENT_LIMIT tips and no 5xx. The load generator shares the machine's cores with the
server and PostgreSQL, so the numbers are a floor. The database is dropped unless --keep.

``--nginx`` puts Debian's nginx in front with the production configuration's limit on the
form (``deploy/nginx/fangkong.conf``: POSTs per address, 1/s with a burst of 10, 429) and
takes each request's client address from its X-Forwarded-For (``real_ip``), as a balancer
facing the Internet would see it.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import datetime as dt
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
import loadgen
from quarantine_common import drop_database, recreate_database, seed_county, setup_django

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/fk_bench_tipoffs"
SECRET = "bench-tipoffs-" + "x" * 40
CSRF = "b" * 32  # the cookie's secret, also sent as the form's token (Django accepts both)


async def run(args, villages: list[str], stamp: str) -> tuple[loadgen.Recorder, dict]:
    rec = loadgen.Recorder()
    statuses: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    flood_pool = [loadgen.Http("127.0.0.1", args.port) for _ in range(args.flood_connections)]
    free: asyncio.Queue[loadgen.Http] = asyncio.Queue()
    for conn in flood_pool:
        free.put_nowait(conn)

    def body(n: int) -> bytes:
        return urlencode(
            {
                "csrfmiddlewaretoken": CSRF,
                "kind": "returnee",
                "region_code": villages[n % len(villages)],
                "text": f"有人返乡未登记 {n}",
                "stamp": stamp,
            }
        ).encode()

    async def one(kind: str, n: int, scheduled: float) -> None:
        if kind == "legit":
            address = f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255 or 1}"
            conn = loadgen.Http("127.0.0.1", args.port)
            device = secrets.token_hex(16)
        else:
            address = "203.0.113.66"
            conn = await free.get()
            device = "floodflood" * 3
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={CSRF}; fk_tip_device={device}",
            "X-Forwarded-For": address,
        }
        try:
            status, _ = await conn.request("POST", "/tipoffs/report/", headers, body(n))
            ms = (time.monotonic() - scheduled) * 1000
            statuses[kind][status] += 1
            if status >= 500 or (kind == "legit" and status != 302):
                rec.error(kind, ms, f"HTTP {status}")
            else:
                rec.ok(kind, ms)
        except loadgen.HttpError as exc:
            rec.error(kind, (time.monotonic() - scheduled) * 1000, str(exc))
            statuses[kind]["conn-error"] += 1
        finally:
            if kind == "legit":
                await conn.close()
            else:
                free.put_nowait(conn)

    # Warm every server process (imports, templates, URL resolver) before the clock starts.
    warm = loadgen.Http("127.0.0.1", args.port)
    for _ in range(40):
        await warm.request("GET", "/tipoffs/report/", {"X-Forwarded-For": "192.0.2.1"})
    await warm.close()
    tasks = []
    start = time.monotonic()
    total = int(args.rate * args.seconds)
    legit_every = max(1, round(args.rate / max(args.legit, 1)))
    for n in range(total):
        scheduled = start + n / args.rate
        delay = scheduled - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        kind = "legit" if n % legit_every == 0 else "flood"
        tasks.append(asyncio.create_task(one(kind, n, scheduled)))
    await asyncio.gather(*tasks)
    for conn in flood_pool:
        await conn.close()
    return rec, statuses


NGINX_CONF = """
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
{user}
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    set_real_ip_from 127.0.0.1;
    real_ip_header X-Forwarded-For;
    map $request_method $tipoff_sender {{
        POST    $binary_remote_addr;
        default "";
    }}
    limit_req_zone $tipoff_sender zone=tipoff_senders:10m rate=1r/s;
    upstream app {{ server 127.0.0.1:{app_port}; keepalive 64; }}
    server {{
        listen 127.0.0.1:{port};
        location = /tipoffs/report/ {{
            limit_req zone=tipoff_senders burst=10 nodelay;
            limit_req_status 429;
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $remote_addr;
        }}
        location / {{
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $remote_addr;
        }}
    }}
}}
"""


def start_nginx(app_port: int, port: int) -> subprocess.Popen:
    """Debian's nginx in front of the app server, with the production limit on the form."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    tmp = Path(tempfile.mkdtemp(prefix="fk-bench-nginx-"))
    user = "user root;" if os.geteuid() == 0 else ""
    conf = tmp / "nginx.conf"
    conf.write_text(NGINX_CONF.format(tmp=tmp, user=user, app_port=app_port, port=port))
    process = subprocess.Popen([binary, "-c", str(conf), "-g", "daemon off;"])
    loadgen.wait_healthy("127.0.0.1", port, 30, process)
    return process


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=1000, help="POSTs offered per second")
    parser.add_argument("--legit", type=float, default=50, help="legitimate tips per second")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--flood-connections", type=int, default=64)
    parser.add_argument("--port", type=int, default=8795)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_TIPOFFS_URL", DEFAULT_URL))
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--nginx", action="store_true", help="through nginx with its limit")
    args = parser.parse_args()

    os.environ["FANGKONG_SECRET_KEY"] = SECRET
    recreate_database(args.database_url)
    setup_django(args.database_url)
    from django.core.management import call_command
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    by_village = seed_county(orders=0, villages=40, starts_at=timezone.now())
    villages = sorted(by_village)
    from fangkong.tipoffs import services
    from fangkong.tipoffs.models import TipOff

    stamp = services.form_token(timezone.now() - dt.timedelta(seconds=30))
    var_dir = Path(tempfile.mkdtemp(prefix="fk-bench-tipoffs-"))
    env = loadgen.fangkong_env(
        args.database_url,
        var_dir,
        FANGKONG_SECRET_KEY=SECRET,
        FANGKONG_TRUSTED_PROXIES="127.0.0.1/32",
        FANGKONG_ALLOWED_HOSTS="127.0.0.1,localhost",
    )
    server = loadgen.Server(env, args.port, args.workers, args.threads)
    nginx = None
    if args.nginx:
        nginx = start_nginx(args.port, args.port + 1)
        args.port += 1  # the clients talk to nginx
    try:
        began = time.monotonic()
        rec, statuses = asyncio.run(run(args, villages, stamp))
        elapsed = time.monotonic() - began
    finally:
        if nginx is not None:
            loadgen.stop(nginx)
        server.stop()
    stored = TipOff.objects.count()
    flood_stored = TipOff.objects.filter(client_key=services.client_key("203.0.113.66")).count()
    legit = rec.latencies.get("legit", [])
    p95 = loadgen.percentile(legit, 0.95)
    five_xx = sum(
        n for c in statuses.values() for s, n in c.items() if isinstance(s, int) and s >= 500
    )
    offered = int(args.rate * args.seconds)
    through = "through nginx with its limit" if args.nginx else "straight to the app server"
    print(f"offered {args.rate:.0f}/s for {args.seconds:.0f} s ({offered:,} POSTs), {through}")
    print(f"finished in {elapsed:.1f} s")
    for line in rec.table(elapsed):
        print(line)
    for kind, counter in statuses.items():
        print(
            f"status {kind}: " + ", ".join(f"{k}×{v}" for k, v in sorted(counter.items(), key=str))
        )
    limit = services.CLIENT_LIMIT[0]
    print(f"tips stored: {stored:,} (from the flooding address: {flood_stored}, limit {limit})")
    print(f"5xx: {five_xx}; load average: {loadgen.load_average()} on {os.cpu_count()} cores")
    print(
        f"FIGURE legitimate p95 {p95:.0f} ms = {p95 / 300:.2f} × the 300 ms limit; "
        f"single address limited: {flood_stored <= limit}; no 5xx: {five_xx == 0}"
    )
    if not args.keep:
        from django.db import connections

        connections.close_all()
        drop_database(args.database_url)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
