"""Inspections: a failed item makes exactly one rectification (and one problem when the
problems list exists); the owner reports, only the team closes; jurisdiction; bulletin."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from fangkong.core import problems, signals
from fangkong.core.errors import NotFound, PermissionDenied, ValidationFailed, VersionConflict
from fangkong.supervision import services
from fangkong.supervision.models import Rectification, RectificationStatus
from tests.conftest import VILLAGE_A

pytestmark = pytest.mark.django_db


def _fail(inspector, planned, position=2, **extra):
    item = planned.items.get(position=position)
    return services.record_item(
        actor=inspector, item_id=item.pk, result="fail", note="睡岗", **extra
    )


def test_checklist_follows_the_kind_of_place(planned):
    assert planned.items.count() == 6
    assert planned.items.get(position=1).text.startswith("卡点 24 小时值守")


def test_fail_makes_one_rectification_and_cannot_turn_to_pass(inspector, planned):
    item = _fail(inspector, planned)
    _fail(inspector, planned)  # recorded again: still one
    assert Rectification.objects.filter(item=item).count() == 1
    with pytest.raises(ValidationFailed):
        services.record_item(actor=inspector, item_id=item.pk, result="pass")
    with pytest.raises(ValidationFailed) as info:
        services.record_item(actor=inspector, item_id=item.pk, result="fail", note="")
    assert info.value.errors[0].field == "note"


def test_report_then_verify_closes(inspector, cadre_a, planned):
    rect = _fail(inspector, planned).rectification
    with pytest.raises(PermissionDenied):
        services.verify_rectification(
            actor=cadre_a, rectification_id=rect.pk, accepted=True, version=1
        )
    with pytest.raises(ValidationFailed):
        services.verify_rectification(
            actor=inspector, rectification_id=rect.pk, accepted=True, version=1
        )
    rect = services.report_rectification(
        actor=cadre_a, rectification_id=rect.pk, report="已排班", version=1
    )
    with pytest.raises(VersionConflict):
        services.verify_rectification(
            actor=inspector, rectification_id=rect.pk, accepted=True, version=1
        )
    back = services.verify_rectification(
        actor=inspector,
        rectification_id=rect.pk,
        accepted=False,
        note="仍有空岗",
        version=rect.version,
    )
    assert back.status == RectificationStatus.OPEN and "仍有空岗" in back.report
    rect = services.report_rectification(
        actor=cadre_a, rectification_id=rect.pk, report="已补人", version=back.version
    )
    done = services.verify_rectification(
        actor=inspector, rectification_id=rect.pk, accepted=True, version=rect.version
    )
    assert done.status == RectificationStatus.CLOSED and done.closed_by == inspector


def test_other_village_cannot_see_or_report(inspector, cadre_c, planned, client_for):
    rect = _fail(inspector, planned).rectification
    with pytest.raises(NotFound):
        services.report_rectification(
            actor=cadre_c, rectification_id=rect.pk, report="x", version=1
        )
    client = client_for(cadre_c)
    assert client.get(reverse("supervision:rectification", args=[rect.pk])).status_code == 404
    assert client.get(reverse("supervision:inspection", args=[planned.pk])).status_code == 404
    assert client.get(f"/api/v1/supervision/inspections/{planned.pk}").status_code == 404
    response = client.post(
        f"/api/v1/supervision/rectifications/{rect.pk}/report",
        {"report": "x", "version": 1},
        content_type="application/json",
    )
    assert response.status_code == 404
    assert client.get("/api/v1/supervision/rectifications").json() == []


def test_finish_needs_every_item(inspector, planned):
    with pytest.raises(ValidationFailed):
        services.finish_inspection(actor=inspector, inspection_id=planned.pk, version=1)
    for item in planned.items.all():
        services.record_item(actor=inspector, item_id=item.pk, result="pass")
    done = services.finish_inspection(actor=inspector, inspection_id=planned.pk, version=1)
    assert done.status == "done" and done.inspector == inspector


class _Sink:
    def __init__(self):
        self.raised = []

    def raise_problem(self, draft):
        self.raised.append(draft)
        return problems.ProblemRef(id=len(self.raised), source=draft.source, status="open", url="")

    def status_of(self, sources):
        return {}


def test_failed_item_raises_one_problem_and_closing_it_closes_the_rectification(
    inspector, planned, monkeypatch
):
    sink = _Sink()
    monkeypatch.setattr(problems, "_SINK", sink, raising=False)
    monkeypatch.setattr(problems, "available", lambda: True)
    monkeypatch.setattr(problems, "raise_problem", sink.raise_problem)
    item = _fail(inspector, planned)
    _fail(inspector, planned)
    assert len(sink.raised) == 1 and sink.raised[0].source == f"supervision.item:{item.pk}"
    assert item.rectification.problem_id == 1
    signals.problem_closed.send(
        sender=None,
        source=f"supervision.item:{item.pk}",
        closed_at=timezone.now(),
        closed_by=inspector,
    )
    assert Rectification.objects.get(item=item).status == RectificationStatus.CLOSED


def test_bulletin_downloads_as_word(inspector, planned, client_for):
    from docx import Document

    _fail(inspector, planned)
    for item in planned.items.exclude(position=2):
        services.record_item(actor=inspector, item_id=item.pk, result="pass")
    services.finish_inspection(actor=inspector, inspection_id=planned.pk, version=1)
    today = timezone.localdate()
    response = client_for(inspector).get(
        reverse("supervision:bulletin"),
        {"start": (today - dt.timedelta(days=7)).isoformat(), "end": today.isoformat()},
    )
    assert response.status_code == 200
    assert response["Content-Type"].endswith("wordprocessingml.document")
    text = "\n".join(p.text for p in Document(io.BytesIO(response.content)).paragraphs)
    assert "督查通报" in text and "发现问题 1 个" in text and "暗访 1 次" in text


def test_discipline_case_decided_once(inspector, cadre_a):
    from fangkong.supervision.models import Offence

    assert Offence.objects.count() == 13
    offence = Offence.objects.get(name="饮酒上岗")
    case = services.open_case(
        actor=inspector,
        region_code=VILLAGE_A,
        person_name="王某",
        offence_id=offence.pk,
        evidence="值班饮酒",
    )
    with pytest.raises(PermissionDenied):
        services.decide_case(actor=cadre_a, case_id=case.pk, decision="warning", version=1)
    case = services.decide_case(actor=inspector, case_id=case.pk, decision="interview", version=1)
    assert case.decided_by == inspector and case.get_decision_display() == "约谈"
    with pytest.raises(ValidationFailed):
        services.decide_case(
            actor=inspector, case_id=case.pk, decision="warning", version=case.version
        )


def test_inspector_home_lists_due_and_overdue(inspector, planned, client_for):
    _fail(inspector, planned, deadline=timezone.now() - dt.timedelta(hours=1))
    page = client_for(inspector).get(reverse("supervision:home")).content.decode()
    assert "村口卡点" in page and "已超期" in page
    assert client_for(inspector).get("/").url == reverse("supervision:home")


def test_mobile_checklist_page_records_a_fail_with_photo(inspector, planned, client_for):
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (40, 30), "blue").save(out, format="PNG")
    out.seek(0)
    out.name = "p.png"
    item = planned.items.get(position=3)
    client = client_for(inspector)
    response = client.post(
        reverse("supervision:item_record", args=[item.pk]),
        {"result": "fail", "note": "未测温", "photo": out},
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.result == "fail" and bytes(item.photo)[:2] == b"\xff\xd8"
    assert (
        client.get(reverse("supervision:item_photo", args=[item.pk]))["Content-Type"]
        == "image/jpeg"
    )


def test_video_check_recorded_and_scoped(inspector, cadre_a, cadre_c, client_for):
    from fangkong.core.roles import Role  # noqa: F401  (roles are the fixtures')

    client = client_for(inspector)
    post = {
        "region_code": VILLAGE_A,
        "person_name": "李书记",
        "post": "村支部书记",
        "called_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "q0": "本村今日新增返乡人员几人？",
        "r0": "1",
        "q1": "卡点今晚谁值班？",
    }
    for n in range(2, 5):
        post[f"q{n}"] = ""
    response = client.post(reverse("supervision:video"), post)
    assert response.status_code == 302
    from fangkong.supervision.models import VideoCheck

    check = VideoCheck.objects.get()
    assert check.right == 1 and len(check.answers) == 2
    assert "李书记" in client_for(cadre_a).get(reverse("supervision:video")).content.decode()
    assert "李书记" not in client_for(cadre_c).get(reverse("supervision:video")).content.decode()
    assert client_for(cadre_a).post(reverse("supervision:video"), post).status_code == 404
