"""The reusable HTTP rules of core: idempotency records and versions from If-Match."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from fangkong.core import idempotency
from fangkong.core.http import RequestRejected, expected_version, parse_if_match
from fangkong.core.models import IdempotencyRecord
from fangkong.core.roles import Role


@pytest.mark.parametrize(("value", "version"), [('"3"', 3), ("3", 3), ('W/"3"', 3), (' "12" ', 12)])
def test_if_match_forms(value, version):
    assert parse_if_match(value) == version


@pytest.mark.parametrize("value", ["*", '"0"', '"a"', '"1", "2"', "", '"99999999999"'])
def test_unusable_if_match_is_refused_naming_the_header(value):
    with pytest.raises(RequestRejected) as refused:
        parse_if_match(value)
    assert (refused.value.status, refused.value.field) == (400, "If-Match")


def test_expected_version_prefers_agreement_and_requires_one():
    factory = RequestFactory()
    assert expected_version(factory.patch("/", headers={"If-Match": '"4"'}), None) == 4
    assert expected_version(factory.patch("/"), 5) == 5
    assert expected_version(factory.patch("/", headers={"If-Match": "5"}), 5) == 5
    with pytest.raises(RequestRejected) as missing:
        expected_version(factory.patch("/"), None)
    assert (missing.value.status, missing.value.field) == (428, "version")
    with pytest.raises(RequestRejected) as disagree:
        expected_version(factory.patch("/", headers={"If-Match": "4"}), 5)
    assert (disagree.value.status, disagree.value.field) == (400, "version")


def test_request_hash_ignores_key_order_but_not_values_or_endpoint():
    a = idempotency.request_hash("POST /x", {"a": 1, "b": "张"})
    assert a == idempotency.request_hash("POST /x", {"b": "张", "a": 1})
    assert a != idempotency.request_hash("POST /x", {"a": 2, "b": "张"})
    assert a != idempotency.request_hash("POST /y", {"a": 1, "b": "张"})


def test_run_once_per_key_and_plainly_without_one(make_user):
    user = make_user(Role.COUNTY_HQ)
    calls = []

    def perform():
        calls.append(1)
        return 201, {"id": len(calls)}

    first = idempotency.run(user=user, key="k", endpoint="e", payload={"a": 1}, perform=perform)
    again = idempotency.run(user=user, key="k", endpoint="e", payload={"a": 1}, perform=perform)
    assert (first.status, first.body, first.replayed) == (201, {"id": 1}, False)
    assert (again.status, again.body, again.replayed) == (201, {"id": 1}, True)
    plain = idempotency.run(user=user, key=None, endpoint="e", payload={}, perform=perform)
    assert plain.body == {"id": 2}
    represented = idempotency.run(
        user=user,
        key="k",
        endpoint="e",
        payload={"a": 1},
        perform=perform,
        represent=lambda body: {**body, "fresh": True},
    )
    assert represented.body == {"id": 1, "fresh": True}
    assert len(calls) == 2


def test_a_record_without_an_answer_is_in_progress(make_user):
    user = make_user(Role.COUNTY_HQ)
    digest = idempotency.request_hash("e", {})
    IdempotencyRecord.objects.create(user=user, key="busy", endpoint="e", request_hash=digest)
    with pytest.raises(idempotency.IdempotencyError) as busy:
        idempotency.run(user=user, key="busy", endpoint="e", payload={}, perform=lambda: (201, {}))
    assert (busy.value.status, busy.value.field) == (409, "Idempotency-Key")


def test_a_failing_perform_leaves_no_record(make_user):
    user = make_user(Role.COUNTY_HQ)

    def perform():
        raise ValueError("rule broken")

    with pytest.raises(ValueError):
        idempotency.run(user=user, key="fails", endpoint="e", payload={}, perform=perform)
    assert not IdempotencyRecord.objects.exists()
