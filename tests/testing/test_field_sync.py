"""The sampler's offline scan screen (issue 20), at the API: per-record answers, a resend
never duplicates a sample, conflicts show the server's values beside the phone's and are
never stored, jurisdiction and roles, and the scan screen at its one fixed address."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from fangkong.core.roles import Role
from fangkong.testing import services
from fangkong.testing.models import Sample
from tests.conftest import GRID_A1, GRID_B1, VILLAGE_A, VILLAGE_C
from tests.people.conftest import ApiClient

pytestmark = pytest.mark.django_db
SYNC = "/testing/field/sync"


def _row(campaign, person, tube="FQ-0001", *, key=None, capacity=10, minutes_ago=20, **fields):
    code = person if isinstance(person, str) else person.id_number
    row = {
        "key": key or str(uuid.uuid4()),
        "campaign_id": campaign.pk,
        "person": code,
        "tube": tube,
        "capacity": capacity,
        "taken_at": (timezone.now() - dt.timedelta(minutes=minutes_ago)).isoformat(),
    }
    row.update(fields)
    return row


@pytest.fixture
def lane_sampler(make_user):
    """A sampler of village A (a lane in the village square)."""
    return make_user(Role.TESTING_STAFF, VILLAGE_A, username="caiyang", display_name="赵护士")


def test_the_same_batch_twice_records_each_sample_once(round_, lane_sampler, people):
    first, second = people(2)
    code = services.issue_registration_code(id_number=second.id_number, name=second.name)
    rows = [_row(round_, first, minutes_ago=30), _row(round_, code.code.lower(), minutes_ago=29)]
    api = ApiClient(lane_sampler)
    answer = api.post(SYNC, {"samples": rows})
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert [r["status"] for r in body["results"]] == ["stored", "stored"]
    assert body["stored"] == 2 and body["duplicates"] == 0
    assert [r["person_name"] for r in body["results"]] == [first.name, second.name]
    assert body["results"][1]["tube_count"] == 2 and body["results"][1]["tube_capacity"] == 10

    again = api.post(SYNC, {"samples": rows}).json()
    assert [r["status"] for r in again["results"]] == ["duplicate", "duplicate"]
    assert again["duplicates"] == 2
    samples = Sample.objects.filter(campaign=round_).order_by("sampled_at")
    assert samples.count() == 2 and samples[0].tube.sample_count == 2
    # Recorded at the time of the scan on the phone, by the sampler, not at the sync.
    taken = dt.datetime.fromisoformat(rows[0]["taken_at"])
    assert abs(samples[0].sampled_at - taken) < dt.timedelta(seconds=1)
    assert samples[0].recorded_by == lane_sampler


def test_a_twin_record_in_one_batch_is_a_duplicate(round_, lane_sampler, people):
    (person,) = people(1)
    twin = _row(round_, person)
    results = ApiClient(lane_sampler).post(SYNC, {"samples": [twin, dict(twin)]}).json()["results"]
    assert [r["status"] for r in results] == ["stored", "duplicate"]
    assert Sample.objects.count() == 1


def test_a_single_tube_used_by_another_person_is_a_conflict_with_both(round_, lane_sampler, people):
    zhang, li = people(2)
    services.record_scan(
        user=lane_sampler, campaign_id=round_.pk, person=zhang.id_number, tube="S-9", capacity=1
    )
    (result,) = (
        ApiClient(lane_sampler)
        .post(SYNC, {"samples": [_row(round_, li, "S-9", capacity=1)]})
        .json()["results"]
    )
    assert result["status"] == "conflict"
    assert zhang.name in result["message"] and li.name in result["message"]
    assert "S-9" in result["message"]
    assert result["server"]["person_name"] == zhang.name
    assert result["server"]["tube_count"] == 1 and result["server"]["tube_capacity"] == 1
    assert not Sample.objects.filter(person=li).exists()


def test_a_person_sampled_into_another_tube_is_a_conflict_and_the_same_tube_a_duplicate(
    round_, lane_sampler, people
):
    (person,) = people(1)
    services.record_scan(
        user=lane_sampler, campaign_id=round_.pk, person=person.id_number, tube="T-1", capacity=10
    )
    api = ApiClient(lane_sampler)
    rows = [_row(round_, person, "T-2"), _row(round_, person, "T-1")]
    other, same = api.post(SYNC, {"samples": rows}).json()["results"]
    assert other["status"] == "conflict"
    assert "T-1" in other["message"] and "T-2" in other["message"]
    assert other["server"]["tube"] == "T-1"
    # The form's request reached the server before the signal dropped: nothing new.
    assert same["status"] == "duplicate"
    assert Sample.objects.filter(person=person).count() == 1


def test_a_full_pooled_tube_and_another_tube_type_are_conflicts(
    round_, lane_sampler, people, pooled
):
    persons = people(12)
    pooled(persons[:10], "P-10")
    services.record_scan(
        user=lane_sampler,
        campaign_id=round_.pk,
        person=persons[10].id_number,
        tube="P-1",
        capacity=1,
    )
    rows = [_row(round_, persons[11], "P-10"), _row(round_, persons[11], "P-1")]
    full, mismatch = ApiClient(lane_sampler).post(SYNC, {"samples": rows}).json()["results"]
    assert full["status"] == "conflict" and "10 / 10" in full["message"]
    assert persons[11].name in full["message"] and full["server"]["tube_count"] == 10
    assert mismatch["status"] == "conflict" and "10混1" in mismatch["message"]
    assert "单管" in mismatch["message"] and mismatch["server"]["tube_capacity"] == 1
    assert not Sample.objects.filter(person=persons[11]).exists()


def test_bad_records_are_answered_alone_and_the_rest_is_stored(round_, lane_sampler, people):
    good, recall = people(2)
    rows = [
        _row(round_, good, "试管#1"),
        _row(round_, recall, "R-1", capacity=1, retest=True),
        _row(round_, good, "G-1", capacity=3),
        _row(round_, good, "G-1", minutes_ago=60 * 24 * 3),  # before the round opened
        _row(round_, good, "G-1"),
    ]
    results = ApiClient(lane_sampler).post(SYNC, {"samples": rows}).json()["results"]
    assert [r["status"] for r in results] == ["invalid"] * 4 + ["stored"]
    assert results[0]["errors"][0]["field"] == "tube"
    assert results[1]["errors"][0]["field"] == "person" and "召回" in results[1]["message"]
    assert results[2]["errors"][0]["field"] == "capacity"
    assert "时段" in results[3]["message"]
    assert Sample.objects.count() == 1


def test_a_time_ahead_of_the_server_is_taken_as_the_sync(round_, lane_sampler, people):
    (person,) = people(1)
    row = _row(round_, person, minutes_ago=-90)  # the phone's clock runs ahead
    (result,) = ApiClient(lane_sampler).post(SYNC, {"samples": [row]}).json()["results"]
    assert result["status"] == "stored"
    assert Sample.objects.get().sampled_at <= timezone.now()


def test_a_sampler_of_village_a_cannot_record_village_b_or_another_round(
    round_, lane_sampler, people, hq
):
    outsider = people(1, region=GRID_B1)[0]
    elsewhere = services.create_campaign(
        user=hq,
        name="东升社区核酸",
        region_codes=[VILLAGE_C],
        starts_at=timezone.now() - dt.timedelta(hours=1),
        ends_at=timezone.now() + dt.timedelta(hours=5),
    )
    mine = people(1, region=GRID_A1)[0]
    rows = [_row(round_, outsider), _row(elsewhere, mine)]
    results = ApiClient(lane_sampler).post(SYNC, {"samples": rows}).json()["results"]
    assert [r["status"] for r in results] == ["not_found", "not_found"]
    assert outsider.name not in str(results)
    assert not Sample.objects.exists()


def test_other_roles_are_403_and_malformed_batches_422(round_, lane_sampler, people, make_user):
    (person,) = people(1)
    cadre = make_user(Role.VILLAGE_CADRE, VILLAGE_A)  # sees the round, does not sample
    assert ApiClient(cadre).post(SYNC, {"samples": [_row(round_, person)]}).status_code == 403
    assert ApiClient(None).post(SYNC, {"samples": [_row(round_, person)]}).status_code == 401
    api = ApiClient(lane_sampler)
    assert api.post(SYNC, {"samples": [_row(round_, person, key="has space")]}).status_code == 422
    assert api.post(SYNC, {"samples": []}).status_code == 422
    assert not Sample.objects.exists()


def test_a_round_closed_while_offline_is_a_conflict(round_, lane_sampler, people, hq):
    (person,) = people(1)
    services.set_campaign_status(user=hq, campaign_id=round_.pk, status="closed")
    (result,) = (
        ApiClient(lane_sampler).post(SYNC, {"samples": [_row(round_, person)]}).json()["results"]
    )
    assert result["status"] == "conflict" and result["server"]["round_status"]
    assert not Sample.objects.exists()


def test_the_scan_screen_has_one_fixed_address_kept_offline(round_, lane_sampler, client_for):
    client = client_for(lane_sampler)
    page = client.get("/testing/scan/")
    assert page.status_code == 200  # rendered, not redirected: the service worker keeps it
    text = page.content.decode()
    assert "data-field-samples" in text and "/api/v1/testing/field/sync" in text
    assert "testing/field.js" in text and "立即同步" in text
    assert f'data-campaign="{round_.pk}"' in text
    worker = client.get("/sw.js").content.decode()
    assert '"/testing/scan/"' in worker and "/static/testing/field.js" in worker
    # Without the script the form still posts to the round's scan form.
    assert f'action="/testing/rounds/{round_.pk}/sample/"' in text
