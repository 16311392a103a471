"""Fixtures for the API tests: a JSON client per user, with a bearer token."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from fangkong.core.models import ApiToken

API = "/api/v1"


class ApiClient:
    """Django's test client speaking JSON to /api/v1/ as one user (bearer token)."""

    def __init__(self, user: Any = None) -> None:
        headers = {}
        if user is not None:
            headers["Authorization"] = f"Bearer {ApiToken.issue(user)}"
        self.user = user
        self.client = Client(headers=headers)

    def get(self, path: str, params: dict | None = None, **headers: str):
        return self.client.get(API + path, params or {}, headers=headers)

    def post(self, path: str, body: Any, **headers: str):
        return self.client.post(
            API + path, json.dumps(body), content_type="application/json", headers=headers
        )

    def patch(self, path: str, body: Any, **headers: str):
        return self.client.patch(
            API + path, json.dumps(body), content_type="application/json", headers=headers
        )


@pytest.fixture
def api_as():
    """``api_as(user)``: a JSON client authenticated as ``user`` by bearer token."""
    return ApiClient


@pytest.fixture
def hq_api(hq_user):
    return ApiClient(hq_user)
