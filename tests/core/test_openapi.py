"""The OpenAPI document is valid and names every schema once.

ninja names a component after its class; two classes of one name in two routers (a
``ResultIn`` in testing and in tracing) silently share one component, so the document
describes the wrong body for one of them.
"""

from __future__ import annotations

import collections
import importlib
import pkgutil

import pytest
from django.test import Client
from openapi_spec_validator import validate
from pydantic import BaseModel

import fangkong

pytestmark = pytest.mark.django_db


def _import_every_module() -> None:
    for info in pkgutil.walk_packages(fangkong.__path__, "fangkong."):
        if ".migrations" in info.name or info.name.endswith((".wsgi", ".asgi", ".cli")):
            continue
        importlib.import_module(info.name)


def _subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found.add(sub)
        found |= _subclasses(sub)
    return found


def test_the_served_document_is_valid_openapi(county):
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    validate(response.json())


def test_every_schema_class_name_is_unique():
    _import_every_module()
    modules = collections.defaultdict(set)
    for model in _subclasses(BaseModel):
        if model.__module__.startswith("fangkong."):
            modules[model.__name__].add(model.__module__)
    assert {name: sorted(m) for name, m in modules.items() if len(m) > 1} == {}


def test_each_body_names_its_own_component(county):
    spec = Client().get("/api/v1/openapi.json").json()
    bodies = {
        (path, method): op["requestBody"]["content"]
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if "requestBody" in op
    }
    results = bodies[("/api/v1/testing/campaigns/{campaign_id}/results", "post")]
    notice = bodies[("/api/v1/tracing/notices/{notice_id}/result", "post")]
    ref = results["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert "results" in spec["components"]["schemas"][ref]["properties"]
    ref = notice["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert "results" not in spec["components"]["schemas"][ref]["properties"]
