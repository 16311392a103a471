"""Query counts per list endpoint: no endpoint runs a query per row (N+1).

Every GET operation of the API without path parameters is called by the demo's users on the
demo world (every module's demo seeder run, so each list has rows), and the queries it runs
are counted. An endpoint fails when it returns at least ``MIN_ROWS`` rows and runs at least
one query per row (the signature of a query inside the row loop), or when it runs more than
``MAX_QUERIES`` queries at all. The first user whose role may call the endpoint is used.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.screening import demo_world

MIN_ROWS = 8
MAX_QUERIES = 40
USERS = (
    "xian",
    "fuqiang",
    "cun",
    "cunyi",
    "wangge",
    "liudiao",
    "caiyang",
    "kadian",
    "wuzi",
    "ducha",
)


def _list_endpoints() -> list[str]:
    from fangkong.api import api

    paths = []
    for prefix, router in api._routers:
        for path, path_view in router.path_operations.items():
            if "{" in path:
                continue
            for operation in path_view.operations:
                if "GET" in operation.methods:
                    paths.append(f"/api/v1{prefix}{path}".replace("//", "/"))
    return sorted(set(paths))


def _rows(body: object) -> int:
    if isinstance(body, list):
        return len(body)
    if isinstance(body, dict):
        for key in ("items", "results", "rows", "orders", "decisions"):
            if isinstance(body.get(key), list):
                return len(body[key])
    return 0


@pytest.mark.slow
@pytest.mark.django_db
def test_no_list_endpoint_runs_a_query_per_row(make_user, make_person, client_for):
    context = demo_world.build(make_user, make_person, residents=40)
    demo_world.run_seeders(context)
    clients = {name: client_for(context.user(name)) for name in USERS}
    offenders, measured = [], 0
    for path in _list_endpoints():
        for name in USERS:
            with CaptureQueriesContext(connection) as queries:
                response = clients[name].get(path)
            if response.status_code in (401, 403, 404, 405, 422):
                continue
            assert response.status_code == 200, (path, name, response.status_code)
            if "json" not in response.get("Content-Type", ""):
                break
            rows, count = _rows(response.json()), len(queries)
            measured += 1
            if count > MAX_QUERIES or (rows >= MIN_ROWS and count >= rows):
                offenders.append(f"{path} as {name}: {rows} rows, {count} queries")
            break
    assert measured >= 20, measured
    assert offenders == [], "\n".join(offenders)
