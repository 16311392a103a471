"""Run by tests/core/test_replica.py in a subprocess, against two real databases.

``replica_check.py seed``  (FANGKONG_DATABASE_URL only): a county, a county HQ user and one
resident, on the database that will be copied into the "replica".

``replica_check.py check`` (both FANGKONG_DATABASE_URL and FANGKONG_REPLICA_DATABASE_URL,
the second a copy of the first taken after ``seed``): writes a resident in isolation on the
primary only — a write the replica has not received yet — then checks through HTTP that
boards and exports are read from the replica, except for a client that just wrote, and that
other reads, failed writes and the end of the pin behave as documented. Prints one line per
check; exits 1 at the first failure.
"""

from __future__ import annotations

import io
import os
import sys
import time
from datetime import timedelta

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangkong.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from fangkong.core import regions, replica  # noqa: E402
from fangkong.core.models import User  # noqa: E402
from fangkong.core.roles import Role  # noqa: E402
from fangkong.people.models import Person, Source  # noqa: E402

COUNTY = "230231"
VILLAGE = "230231106201"
GRID = VILLAGE + "001"


def seed() -> None:
    regions.load_official_county(COUNTY)
    regions.upsert_regions([(VILLAGE, "富强村", True), (GRID, "富强村第1组", True)])
    hq = User.objects.create_user(username="hq", password="x", role=Role.COUNTY_HQ)
    hq.regions.set([COUNTY])
    Person.objects.create(name="王芳", region_code=GRID, source=Source.MANUAL)


def write_only_on_primary() -> None:
    from fangkong.quarantine.models import IsolationOrder
    from fangkong.quarantine.services import default_schedule

    person = Person.objects.create(name="李强", region_code=GRID, source=Source.MANUAL)
    now = timezone.now()
    IsolationOrder.objects.create(
        person=person,
        region_code=GRID,
        kind="home",
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=13),
        policy_version="check",
        schedule=default_schedule(),
    )


def isolated(client: Client) -> int:
    response = client.get("/api/v1/quarantine/board")
    assert response.status_code == 200, response.content
    return sum(response.json()["total"].get(k, 0) for k in ("home", "centralised"))


def exported(client: Client) -> int:
    from openpyxl import load_workbook

    response = client.get("/api/v1/screening/ledgers/residents/export.xlsx")
    assert response.status_code == 200, response.content
    return load_workbook(io.BytesIO(response.content)).active.max_row - 1


def check(label: str, ok: bool) -> None:
    print(("ok   " if ok else "FAIL ") + label, flush=True)
    if not ok:
        sys.exit(1)


def main() -> None:
    if sys.argv[1] == "seed":
        seed()
        return
    check("the replica alias is configured", replica.configured())
    check(
        "migrations are not run on the replica",
        not replica.ReplicaRouter().allow_migrate("replica", "people"),
    )
    write_only_on_primary()
    hq = User.objects.get(username="hq")
    reader, writer = Client(), Client()
    reader.force_login(hq)
    writer.force_login(hq)

    check("a board is read from the replica", isolated(reader) == 0)
    check("an export is read from the replica", exported(reader) == 1)
    orders = reader.get("/api/v1/quarantine/orders").json()
    check("other reads stay on the primary", orders["count"] == 1)

    failed = writer.post("/api/v1/persons", {"name": ""}, content_type="application/json")
    check("a failed write does not pin", failed.status_code >= 400 and not failed.cookies)
    check("… so the board still comes from the replica", isolated(writer) == 0)

    wrote = writer.post(
        "/api/v1/persons",
        {"name": "赵敏", "region_code": GRID},
        content_type="application/json",
    )
    check("a successful write is answered with the pin", replica.PIN_COOKIE in wrote.cookies)
    check("the writer's board comes from the primary", isolated(writer) == 1)
    check("the writer's export comes from the primary", exported(writer) == 3)
    check("another client still reads the replica", exported(reader) == 1)

    time.sleep(settings.FANGKONG_REPLICA_PIN_SECONDS + 0.5)
    check("after the pin the writer reads the replica again", isolated(writer) == 0)


if __name__ == "__main__":
    main()
