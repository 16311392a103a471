"""The documented batch sizes are reachable: 100,000 lab results in one request (about
5 MB of JSON, over Django's 2.5 MB cap) on the bulk endpoints only; elsewhere the small cap
holds, and the document states each bulk endpoint's limit."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from fangkong.core.models import ApiToken

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    return Client(headers={"Authorization": f"Bearer {ApiToken.issue(user)}"})


@pytest.mark.slow
def test_a_batch_of_100000_results_is_accepted(hq, round_):
    results = [{"barcode": f"LAB{n:09d}", "result": "negative"} for n in range(100_000)]
    body = json.dumps({"source": "lab", "results": results})
    assert len(body) > 2.5 * 1024 * 1024
    response = _client(hq).post(
        f"/api/v1/testing/campaigns/{round_.pk}/results", body, content_type="application/json"
    )
    assert response.status_code == 200, response.content[:300]
    assert len(response.json()["unknown"]) + response.json()["applied"] > 0


def test_the_small_cap_still_holds_elsewhere(hq):
    body = json.dumps({"name": "x" * (3 * 1024 * 1024)})
    response = _client(hq).post("/api/v1/persons", body, content_type="application/json")
    assert response.status_code == 400


def test_over_the_bulk_cap_is_refused(hq, round_, settings):
    settings.FANGKONG_BULK_MAX_BYTES = 1000
    body = json.dumps(
        {"source": "lab", "results": [{"barcode": "X" * 20, "result": "negative"}] * 2000}
    )
    response = _client(hq).post(
        f"/api/v1/testing/campaigns/{round_.pk}/results", body, content_type="application/json"
    )
    assert response.status_code == 400


def test_the_document_states_the_limit_of_each_bulk_endpoint(county):
    spec = Client().get("/api/v1/openapi.json").json()
    results = spec["paths"]["/api/v1/testing/campaigns/{campaign_id}/results"]["post"]
    assert results["x-max-body-bytes"] == 32 * 1024 * 1024


def test_the_bulk_paths_are_those_the_document_marks():
    """The middleware reads the bulk endpoints from the routers (building the document costs a
    second at each server start); they must be exactly the ones the document marks."""
    import re

    from fangkong.api import api
    from fangkong.core.middleware import _bulk_paths

    marked = [
        path
        for path, item in api.get_openapi_schema()["paths"].items()
        if any(isinstance(op, dict) and op.get("x-fangkong-bulk") for op in item.values())
    ]
    assert len(marked) >= 2
    patterns = _bulk_paths()
    assert len(patterns) == len(marked)
    for path in marked:
        concrete = re.sub(r"\{[^}]+\}", "7", path)
        assert sum(1 for p in patterns if p.match(concrete)) == 1, path
    assert not any(p.match("/api/v1/testing/campaigns/7/coverage") for p in patterns)
