"""The village reporter's zero report queued offline (issue 20), at the API: filed once by
unit and day however often it is sent, refused with the reason when the day is not quiet,
never overwriting a full report, only for one's own unit; and the daily form at its fixed
address, kept offline."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from freezegun import freeze_time

from fangkong.core.roles import Role
from fangkong.quarantine.models import Alert, AlertKind
from fangkong.reports import services
from fangkong.reports.models import DailyReport
from tests.conftest import FUQIANG, GRID_A1, VILLAGE_A, VILLAGE_B
from tests.people.conftest import ApiClient

pytestmark = pytest.mark.django_db
SYNC = "/reports/field/sync"
TZ = ZoneInfo("Asia/Shanghai")


def _zero(region=VILLAGE_A, *, day=None, minutes_ago=10, **fields):
    day = day or timezone.localdate()
    row = {
        "key": f"zero-{region}-{day.isoformat()}",
        "region_code": region,
        "day": day.isoformat(),
        "taken_at": (timezone.now() - dt.timedelta(minutes=minutes_ago)).isoformat(),
    }
    row.update(fields)
    return row


def _busy_today(isolate):
    Alert.objects.create(
        order=isolate(GRID_A1, "张伟"),
        region_code=GRID_A1,
        kind=AlertKind.FEVER,
        raised_at=timezone.now(),
    )


def test_a_zero_report_sent_twice_is_filed_once(village_cadre):
    api = ApiClient(village_cadre)
    row = _zero(situation="今日入户走访，无异常")
    first = api.post(SYNC, {"reports": [row]})
    assert first.status_code == 200, first.content
    (stored,) = first.json()["results"]
    assert stored["status"] == "stored" and stored["server"]["status"] == "zero"
    (again,) = api.post(SYNC, {"reports": [row, dict(row)]}).json()["results"][:1]
    assert again["status"] == "duplicate"
    report = DailyReport.objects.get(region_code=VILLAGE_A)
    assert report.status == "zero" and report.situation == "今日入户走访，无异常"
    assert report.version == 1 and report.reporter == village_cadre


@freeze_time(dt.datetime(2026, 3, 10, 17, 30, tzinfo=TZ))
def test_the_deadline_is_judged_at_the_tap_not_at_the_sync(village_cadre):
    tapped = dt.datetime(2026, 3, 10, 15, 40, tzinfo=TZ)  # before the 16:00 deadline
    row = _zero(day=dt.date(2026, 3, 10), taken_at=tapped.isoformat())
    (result,) = ApiClient(village_cadre).post(SYNC, {"reports": [row]}).json()["results"]
    assert result["status"] == "stored" and result["server"]["late"] is False
    report = DailyReport.objects.get(region_code=VILLAGE_A)
    assert report.submitted_at == tapped and not report.late


def test_a_day_that_is_not_quiet_is_refused_with_the_reason(village_cadre, isolate):
    _busy_today(isolate)
    (result,) = ApiClient(village_cadre).post(SYNC, {"reports": [_zero()]}).json()["results"]
    assert result["status"] == "invalid"
    assert result["message"].startswith("今日有情况，不能报零报告：")
    assert result["errors"][0]["field"] == "zero"
    assert not DailyReport.objects.exists()


def test_a_resend_after_the_day_got_busy_is_still_a_duplicate(village_cadre, isolate):
    api = ApiClient(village_cadre)
    row = _zero()
    assert api.post(SYNC, {"reports": [row]}).json()["results"][0]["status"] == "stored"
    _busy_today(isolate)
    (result,) = api.post(SYNC, {"reports": [row]}).json()["results"]
    assert result["status"] == "duplicate"
    assert DailyReport.objects.get().status == "zero"


def test_a_full_report_filed_meanwhile_is_a_conflict_and_kept(village_cadre, make_user):
    other = make_user(Role.VILLAGE_CADRE, VILLAGE_A, display_name="村书记")
    services.submit_report(
        other, region_code=VILLAGE_A, day=timezone.localdate(), situation="新增返乡人员 2 人"
    )
    (result,) = ApiClient(village_cadre).post(SYNC, {"reports": [_zero()]}).json()["results"]
    assert result["status"] == "conflict" and "村书记" in result["message"]
    assert result["server"]["status"] == "submitted"
    report = DailyReport.objects.get()
    assert report.status == "submitted" and report.situation == "新增返乡人员 2 人"


def test_a_full_report_read_by_the_phone_can_become_a_zero_report(village_cadre):
    today = timezone.localdate()
    report = services.submit_report(village_cadre, region_code=VILLAGE_A, day=today)
    row = _zero(version=report.version)
    (result,) = ApiClient(village_cadre).post(SYNC, {"reports": [row]}).json()["results"]
    assert result["status"] == "stored" and result["server"]["version"] == 2
    (again,) = ApiClient(village_cadre).post(SYNC, {"reports": [row]}).json()["results"]
    assert again["status"] == "duplicate"
    assert DailyReport.objects.get().status == "zero"


def test_only_ones_own_unit_and_only_reporters(village_cadre, make_user):
    api = ApiClient(village_cadre)
    (foreign,) = api.post(SYNC, {"reports": [_zero(VILLAGE_B)]}).json()["results"]
    assert foreign["status"] == "not_found"
    township = make_user(Role.TOWNSHIP, FUQIANG)  # sees village A, files its own roll-up only
    (below,) = ApiClient(township).post(SYNC, {"reports": [_zero()]}).json()["results"]
    assert below["status"] == "not_found"
    worker = make_user(Role.GRID_WORKER, GRID_A1)
    assert ApiClient(worker).post(SYNC, {"reports": [_zero()]}).status_code == 403
    assert ApiClient(None).post(SYNC, {"reports": [_zero()]}).status_code == 401
    assert api.post(SYNC, {"reports": []}).status_code == 422
    assert api.post(SYNC, {"reports": [_zero(key="a b")]}).status_code == 422
    assert not DailyReport.objects.exists()


def test_the_daily_form_has_a_fixed_address_kept_offline(village_cadre, client_for):
    client = client_for(village_cadre)
    page = client.get("/reports/daily/own/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "富强村" in text and f'data-code="{VILLAGE_A}"' in text
    assert "data-field-zero" in text and "/api/v1/reports/field/sync" in text
    assert "reports/field.js" in text and 'id="zero-report"' in text
    worker = client.get("/sw.js").content.decode()
    assert '"/reports/daily/own/"' in worker and "/static/reports/field.js" in worker
    # The form on the page still files without the script, and returns to the same address.
    response = client.post("/reports/daily/own/", {"zero": "1", "situation": ""})
    assert response.status_code == 302 and response.url == "/reports/daily/own/"
    assert DailyReport.objects.get(region_code=VILLAGE_A).status == "zero"
    assert 'id="zero-report"' not in client.get("/reports/daily/own/").content.decode()
