"""An explicit JSON ``null`` is a 422 wherever the contract does not allow it — every router.

Walks the served OpenAPI document: for every operation with a JSON body and for every field
of that body, a request whose only value (beside the version) is that field as ``null``.
A field the document declares non-nullable must be refused with 422 naming the field; a
nullable one may be accepted or refused, but never with a server error. Path ids point at
real records where the parameter name is known, so the handlers are reached; routers added
later are walked the same way.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest
from django.test import Client

from fangkong.core.models import ApiToken
from fangkong.core.roles import Role
from fangkong.screening import services as screening
from fangkong.testing import services as testing
from tests.conftest import COUNTY, GRID_A1

pytestmark = pytest.mark.django_db


def _resolve(spec: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _nullable(schema: dict) -> bool:
    kinds = schema.get("anyOf", []) + schema.get("oneOf", [])
    return (
        schema.get("type") == "null"
        or (isinstance(schema.get("type"), list) and "null" in schema["type"])
        or any(k.get("type") == "null" for k in kinds)
    )


def json_bodies(spec: dict):
    """(method, path, body schema) of every operation taking a JSON object."""
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                body = _resolve(spec, content["application/json"]["schema"])
                if body.get("type") == "object" or "properties" in body:
                    yield method, path, body


@pytest.fixture
def world(make_user, make_person):
    hq = make_user(Role.COUNTY_HQ, COUNTY)
    person = make_person(GRID_A1)
    (area,) = screening.create_risk_areas(
        user=hq,
        reevaluate=False,
        areas=[screening.RiskAreaInput("420103", "武汉市江汉区", "high", dt.date(2022, 1, 1))],
    )
    point = testing.create_point(
        user=hq,
        name="富强村卫生室",
        location="村委会",
        region_code=GRID_A1[:12],
        opens_at=dt.time(8),
        closes_at=dt.time(18),
        lanes=2,
        throughput_per_lane_hour=60,
    )
    return hq, {"person_id": person, "area_id": area, "point_id": point}


def test_explicit_null_is_refused_unless_the_contract_allows_it(world):
    hq, records = world
    client = Client(
        headers={"Authorization": f"Bearer {ApiToken.issue(hq)}"}, raise_request_exception=False
    )
    spec = client.get("/api/v1/openapi.json").json()
    failures = []
    checked = 0
    for method, path, body_schema in json_bodies(spec):
        url = re.sub(r"\{(\w+)\}", lambda m: str(getattr(records.get(m.group(1)), "pk", 1)), path)
        properties = body_schema.get("properties", {})
        for field, field_schema in properties.items():
            if field == "version":
                continue
            body: dict[str, Any] = {field: None}
            for record in records.values():
                if "version" in properties and f"{{{_param(records, record)}}}" in path:
                    record.refresh_from_db()
                    body["version"] = record.version
            response = getattr(client, method)(
                url, json.dumps(body), content_type="application/json"
            )
            checked += 1
            nullable = _nullable(_resolve(spec, field_schema))
            named = (
                {e.get("field", "").split(".")[0] for e in response.json().get("errors", [])}
                if response.status_code < 500
                else set()
            )
            if response.status_code >= 500:
                failures.append(f"{method.upper()} {path} {field}=null: {response.status_code}")
            elif (not nullable and (response.status_code != 422 or field not in named)) or (
                # A field documented as nullable whose null a rule then refuses: the
                # document should have said so (422 from the schema, not 400 later).
                nullable and response.status_code == 400 and field in named
            ):
                failures.append(
                    f"{method.upper()} {path} {field}=null: {response.status_code} "
                    f"{response.content[:200]!r}"
                )
    assert checked > 100
    assert failures == [], "\n".join(failures)


def _param(records: dict, record: Any) -> str:
    return next(name for name, value in records.items() if value is record)
