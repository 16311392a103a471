"""The command layer: figures against brute force, roll-up, daily and zero reports, rules on
hand-built cases and their near misses, the problems list, denials, jurisdiction, and a
generated .docx read back."""

from __future__ import annotations

import datetime as dt
import io
import random

import pytest
from django.utils import timezone
from docx import Document as Docx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fangkong.core import figures, inspection
from fangkong.core.errors import NotFound, PermissionDenied, ValidationFailed, VersionConflict
from fangkong.core.roles import Role
from fangkong.quarantine.models import Alert, AlertKind, IsolationOrder
from fangkong.reports import documents, services
from fangkong.reports.models import DailyReport, Finding, Problem, ProblemStatus
from tests.conftest import (
    BAIQUAN,
    COUNTY,
    FUQIANG,
    GRID_A1,
    GRID_A2,
    GRID_B1,
    GRID_C1,
    VILLAGE_A,
    VILLAGE_B,
    VILLAGE_C,
)

pytestmark = pytest.mark.django_db

GRIDS = [GRID_A1, GRID_A2, GRID_B1, GRID_C1]


# -- figures ------------------------------------------------------------------------------


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(st.sampled_from(GRIDS), st.sampled_from(["home", "centralised"]), st.booleans()),
        max_size=8,
    )
)
def test_isolation_figures_equal_a_brute_force_count(isolate, county, plan):
    IsolationOrder.objects.all().delete()
    made = []
    for n, (grid, kind, closed) in enumerate(plan):
        order = isolate(grid, f"测试{n}", kind=kind)
        if closed:
            IsolationOrder.objects.filter(pk=order.pk).update(
                status="released", closed_at=timezone.now() - dt.timedelta(hours=1)
            )
        made.append((grid, kind, closed))
    now = timezone.now()
    for length in (6, 9, 12, 15):
        got = figures.compute("quarantine.home", figures.FigureQuery("", length, now))
        want: dict[str, int] = {}
        for grid, kind, closed in made:
            if kind == "home" and not closed:
                want[grid[:length]] = want.get(grid[:length], 0) + 1
        assert got == want


def test_board_reads_stored_figures_with_change_and_children(isolate, hq_user, county):
    isolate(GRID_A1, "张伟")
    isolate(GRID_C1, "李娜")
    services.refresh()
    b = services.board(hq_user)
    assert b.region_code == COUNTY and len(b.days) == 14
    card = next(c for c in b.cards if c.key == "quarantine.home")
    # both began 30 hours ago: yesterday, counted as of its end, had them too
    assert card.value == 2 and card.trend[-2] == 2 and card.delta == 0
    assert len(card.trend) == 14 and card.trend[0] == 0
    children = {code: vals for code, _, vals in b.children}
    assert children[FUQIANG]["quarantine.home"] == 1
    assert children[BAIQUAN]["quarantine.home"] == 1
    # drill down by name
    assert services.board(hq_user, "富强镇").region_code == FUQIANG


def test_board_outside_the_jurisdiction_is_not_found(make_user, county):
    township = make_user(Role.TOWNSHIP, FUQIANG)
    services.refresh()
    with pytest.raises(NotFound):
        services.board(township, BAIQUAN)
    with pytest.raises(NotFound):
        services.board(township, "东升社区")


# -- daily and zero reports ---------------------------------------------------------------


def test_township_rollup_equals_the_sum_of_its_villages(isolate, make_user, county):
    isolate(GRID_A1, "张伟")
    isolate(GRID_A2, "王芳")
    isolate(GRID_B1, "李娜")
    today = timezone.localdate()
    for village in (VILLAGE_A, VILLAGE_B):
        cadre = make_user(Role.VILLAGE_CADRE, village)
        services.submit_report(cadre, region_code=village, day=today, situation="正常")
    totals, missing = services.rollup(FUQIANG, today)
    assert missing == []
    live = services.figures_from_data(FUQIANG, timezone.now())
    assert totals["quarantine.home"] == 3 == live["quarantine.home"]
    for key, value in live.items():
        assert totals.get(key, 0) == value


def test_correction_needs_a_reason_and_zero_report_needs_a_quiet_day(
    isolate, village_cadre, county
):
    today = timezone.localdate()
    with pytest.raises(ValidationFailed) as exc:
        services.submit_report(
            village_cadre,
            region_code=VILLAGE_A,
            day=today,
            corrections={"quarantine.home": (5, "")},
        )
    assert exc.value.errors[0].field == "corrections.quarantine.home"
    # nothing happened today: a zero report is accepted
    report = services.submit_report(village_cadre, region_code=VILLAGE_A, day=today, zero=True)
    assert report.status == "zero"
    # a second filing must name the version it read
    with pytest.raises(VersionConflict):
        services.submit_report(village_cadre, region_code=VILLAGE_A, day=today, zero=True)
    Alert.objects.create(
        order=isolate(GRID_A1, "张伟"),
        region_code=GRID_A1,
        kind=AlertKind.FEVER,
        raised_at=timezone.now(),
    )
    with pytest.raises(ValidationFailed) as exc:
        services.submit_report(
            village_cadre, region_code=VILLAGE_A, day=today, zero=True, version=report.version
        )
    assert exc.value.errors[0].field == "zero"
    fixed = services.submit_report(
        village_cadre,
        region_code=VILLAGE_A,
        day=today,
        version=report.version,
        corrections={"quarantine.home": (2, "一人已转走，系统未更新")},
    )
    assert fixed.value("quarantine.home") == 2 and fixed.figures["quarantine.home"] == 1


def test_each_area_files_only_its_own_report(make_user, village_cadre, county):
    today = timezone.localdate()
    with pytest.raises(NotFound):
        services.submit_report(village_cadre, region_code=VILLAGE_B, day=today)
    township = make_user(Role.TOWNSHIP, FUQIANG)
    with pytest.raises(PermissionDenied):
        services.submit_report(township, region_code=VILLAGE_A, day=today)
    grid = make_user(Role.GRID_WORKER, GRID_A1)
    with pytest.raises(PermissionDenied):
        services.submit_report(grid, region_code=VILLAGE_A, day=today)


def test_who_has_not_reported_is_listed(make_user, village_cadre, county):
    today = timezone.localdate()
    services.submit_report(village_cadre, region_code=VILLAGE_A, day=today)
    township = make_user(Role.TOWNSHIP, FUQIANG)
    rows = {u.code: u for u in services.status_of_units(township, FUQIANG, today)}
    assert rows[VILLAGE_A].report is not None and rows[VILLAGE_B].report is None


# -- rules: fire on the case, quiet on the near miss ---------------------------------------


def _found(rule: str, prefix: str = "") -> set[str]:
    return {f.ref for f in inspection.run(rule, inspection.RuleQuery(prefix, timezone.now()))}


def test_no_check_in_24h_fires_and_its_near_miss_is_quiet(isolate, county):
    late = isolate(GRID_A1, "张伟", hours_ago=25)
    fresh = isolate(GRID_A1, "李娜", hours_ago=23)
    found = _found("quarantine.check_overdue")
    assert f"quarantine.order:{late.pk}" in found
    assert f"quarantine.order:{fresh.pk}" not in found


def test_fever_not_handled_in_1h(isolate, county):
    order = isolate(GRID_A1, "张伟")
    old = Alert.objects.create(
        order=order,
        region_code=GRID_A1,
        kind=AlertKind.FEVER,
        raised_at=timezone.now() - dt.timedelta(hours=3),
        slot=None,
    )
    new = Alert.objects.create(
        order=isolate(GRID_A2, "李娜"),
        region_code=GRID_A2,
        kind=AlertKind.FEVER,
        raised_at=timezone.now() - dt.timedelta(minutes=40),
    )
    found = _found("quarantine.fever_unhandled")
    assert f"quarantine.alert:{old.pk}" in found and f"quarantine.alert:{new.pk}" not in found


def test_daily_report_missing_after_the_deadline_only(make_user, village_cadre, county, settings):
    from fangkong.reports.models import ReportSetting

    now = timezone.localtime()
    if now.time() < dt.time(0, 10):
        pytest.skip("a deadline a few minutes ago would fall on yesterday")
    ReportSetting.objects.create(
        county_code=COUNTY, deadline=(now - dt.timedelta(minutes=5)).time()
    )
    services.submit_report(village_cadre, region_code=VILLAGE_A, day=now.date())
    found = _found("reports.daily_missing")
    assert f"reports.daily:{now.date()}:{VILLAGE_B}" in found
    assert f"reports.daily:{now.date()}:{VILLAGE_A}" not in found
    ReportSetting.objects.update(deadline=dt.time(23, 59, 59))
    if now.time() < dt.time(23, 59):
        assert not _found("reports.daily_missing")


def test_inspection_stores_findings_raises_problems_and_resolves(isolate, village_cadre, county):
    from fangkong.core.models import AreaAssignment

    AreaAssignment.objects.create(
        user=village_cadre,
        region_id=VILLAGE_A,
        kind="village",
        starts_on=timezone.localdate() - dt.timedelta(days=3),
    )
    order = isolate(GRID_A1, "张伟", hours_ago=25)
    run = services.run_inspection(COUNTY, rule_keys=["quarantine.check_overdue"])
    assert run.findings == 1
    finding = Finding.objects.get(ref=f"quarantine.order:{order.pk}")
    assert finding.responsible == "李村委" and finding.person_id == order.person_id
    problem = Problem.objects.get(source=f"inspection:quarantine.check_overdue:{finding.ref}")
    assert problem.status == "open" and problem.region_code == GRID_A1
    # a second run keeps one finding and one problem
    services.run_inspection(COUNTY, rule_keys=["quarantine.check_overdue"])
    assert Finding.objects.count() == 1 and Problem.objects.count() == 1
    # the check is taken: the finding resolves and the problem awaits confirmation
    from fangkong.quarantine.models import HealthCheck

    HealthCheck.objects.create(
        order=order, taken_at=timezone.now(), reported_normal=True, method="door"
    )
    services.run_inspection(COUNTY, rule_keys=["quarantine.check_overdue"])
    finding.refresh_from_db()
    problem.refresh_from_db()
    assert finding.resolved_at is not None and problem.status == ProblemStatus.RECTIFIED


def test_a_village_never_sees_another_villages_findings(isolate, make_user, client_for, county):
    isolate(GRID_A1, "张伟", hours_ago=25)
    isolate(GRID_C1, "赵敏", hours_ago=25)
    services.run_inspection(COUNTY)
    cadre_c = make_user(Role.VILLAGE_CADRE, VILLAGE_C)
    rows = list(services.findings(cadre_c))
    assert rows and all(f.region_code.startswith(VILLAGE_C) for f in rows)
    page = client_for(cadre_c).get("/reports/inspection/")
    assert page.status_code == 200
    assert "赵敏" in page.content.decode() and "张伟" not in page.content.decode()
    api = client_for(cadre_c).get("/api/v1/reports/findings")
    assert api.status_code == 200
    assert {f["region_code"][:12] for f in api.json()} == {VILLAGE_C}
    assert all(p.region_code.startswith(VILLAGE_C) for p in services.problems_visible(cadre_c))


# -- problems ------------------------------------------------------------------------------


def test_problem_is_rectified_below_and_confirmed_above(make_user, village_cadre, county):
    problem = services.create_problem(
        village_cadre, region_code=VILLAGE_A, aspect="discipline", title="卡口夜间脱岗"
    )
    problem = services.rectify(village_cadre, problem.pk, text="已补排班", version=problem.version)
    with pytest.raises(PermissionDenied):  # nobody confirms their own area's closure
        services.confirm(village_cadre, problem.pk, accept=True, version=problem.version)
    township = make_user(Role.TOWNSHIP, FUQIANG)
    other = make_user(Role.TOWNSHIP, BAIQUAN)
    with pytest.raises(NotFound):
        services.confirm(other, problem.pk, accept=True, version=problem.version)
    closed = services.confirm(township, problem.pk, accept=True, version=problem.version)
    assert closed.status == "closed" and closed.closed_by == township
    from fangkong.core import problems as registry

    assert registry.status_of([problem.source])[problem.source].status == "closed"


def test_overdue_problems_escalate_one_level(village_cadre, county):
    problem = services.create_problem(
        village_cadre, region_code=VILLAGE_A, aspect="risk", title="台账不全"
    )
    Problem.objects.filter(pk=problem.pk).update(deadline=timezone.now() - dt.timedelta(hours=1))
    assert services.escalate_overdue() == 1
    problem.refresh_from_db()
    assert problem.level == 1 and problem.deadline > timezone.now()


def test_other_modules_raise_problems_through_core(county):
    from fangkong.core import problems as registry

    draft = registry.ProblemDraft(
        source="supervision.item:1",
        region_code=VILLAGE_A,
        aspect="supervision",
        title="督查发现：消杀记录缺失",
    )
    first = registry.raise_problem(draft)
    again = registry.raise_problem(draft)
    assert first.id == again.id and first.status == "open"


# -- pages and API: denials ----------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/reports/",
        "/reports/daily/",
        "/reports/problems/",
        "/reports/inspection/",
        "/reports/documents/",
    ],
)
def test_pages_refuse_roles_without_the_board(make_user, client_for, county, url):
    grid = make_user(Role.GRID_WORKER, GRID_A1)
    assert client_for(grid).get(url).status_code == 403


@pytest.mark.parametrize(
    "url", ["/api/v1/reports/board", "/api/v1/reports/problems", "/api/v1/reports/findings"]
)
def test_api_refuses_roles_without_the_board(make_user, client_for, county, url):
    doctor = make_user(Role.VILLAGE_DOCTOR, VILLAGE_A)
    assert client_for(doctor).get(url).status_code == 403


def test_village_cannot_generate_documents_or_refresh(village_cadre, client_for, county):
    client = client_for(village_cadre)
    assert (
        client.post(
            "/api/v1/reports/documents", {"kind": "stage"}, content_type="application/json"
        ).status_code
        == 403
    )
    assert client.post("/reports/documents/", {"kind": "stage"}).status_code == 403


def test_api_board_outside_jurisdiction_is_404(make_user, client_for, county):
    township = make_user(Role.TOWNSHIP, FUQIANG)
    services.refresh()
    assert client_for(township).get(f"/api/v1/reports/board?region={BAIQUAN}").status_code == 404
    ok = client_for(township).get(f"/api/v1/reports/board?region={VILLAGE_A}")
    assert ok.status_code == 200 and ok.json()["region_name"] == "富强村"


def test_api_daily_report_and_its_errors(village_cadre, client_for, county):
    client = client_for(village_cadre)
    today = timezone.localdate().isoformat()
    bad = client.post(
        f"/api/v1/reports/daily/{VILLAGE_A}",
        {"day": today, "corrections": [{"key": "quarantine.home", "value": 3}]},
        content_type="application/json",
    )
    assert (
        bad.status_code == 400 and bad.json()["errors"][0]["field"] == "corrections.quarantine.home"
    )
    ok = client.post(
        f"/api/v1/reports/daily/{VILLAGE_A}",
        {"day": today, "zero": True, "situation": "无"},
        content_type="application/json",
    )
    assert ok.status_code == 201 and ok.json()["status"] == "zero"
    again = client.post(
        f"/api/v1/reports/daily/{VILLAGE_A}", {"day": today}, content_type="application/json"
    )
    assert again.status_code == 409
    other = client.post(
        f"/api/v1/reports/daily/{VILLAGE_C}", {"day": today}, content_type="application/json"
    )
    assert other.status_code == 404


# -- pages ---------------------------------------------------------------------------------


def test_county_board_page_in_chinese_with_charts_and_drill_down(
    isolate, hq_user, client_for, county
):
    for n in range(3):
        isolate(GRID_A1, f"居民{n}")
    services.refresh()
    client = client_for(hq_user)
    page = client.get("/reports/").content.decode()
    assert "疫情防控态势" in page and "截至" in page and "居家隔离" in page
    assert "尚未确认的通知" in page and "Notices not yet" not in page  # labels in Chinese
    assert "<svg" in page and "富强镇" in page
    town = client.get("/reports/?region=富强镇").content.decode()
    assert "富强村" in town and "永胜村" in town
    assert client.get("/").url.endswith("/reports/")  # the county's home is its board


def test_village_files_a_zero_report_on_the_page(village_cadre, client_for, county):
    client = client_for(village_cadre)
    form = client.get(f"/reports/daily/{VILLAGE_A}/").content.decode()
    assert "报零报告" in form
    response = client.post(f"/reports/daily/{VILLAGE_A}/", {"zero": "1", "situation": ""})
    assert response.status_code == 302
    assert DailyReport.objects.get(region_code=VILLAGE_A).status == "zero"


# -- Word ----------------------------------------------------------------------------------


def _text(content: bytes) -> str:
    doc = Docx(io.BytesIO(content))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts.append("|".join(c.text for c in row.cells))
    return "\n".join(parts)


def test_stage_summary_docx_reads_back_its_figures(
    isolate, hq_user, village_cadre, client_for, county
):
    for n in range(3):
        isolate(GRID_A1, f"居民{n}")
    services.create_problem(
        village_cadre, region_code=VILLAGE_A, aspect="discipline", title="卡口夜间脱岗"
    )
    doc = documents.generate(hq_user, "stage", "")
    text = _text(bytes(doc.content))
    assert "拜泉县新冠肺炎疫情防控指挥部" in text
    assert "截至" in text and "基本情况" in text and "主要做法" in text
    assert "存在问题" in text and "下步打算" in text and "卡口夜间脱岗" in text
    assert "居家隔离人数|3" in text
    assert "xx" not in text.lower()
    assert doc.snapshot["figures"]["quarantine.home"] == 3 and doc.made_by == hq_user
    response = client_for(hq_user).get(f"/reports/documents/{doc.pk}.docx")
    assert response.status_code == 200 and response.content[:2] == b"PK"


def test_daily_and_inspection_docx(isolate, hq_user, village_cadre, county):
    isolate(GRID_A1, "张伟", hours_ago=25)
    services.submit_report(
        village_cadre, region_code=VILLAGE_A, day=timezone.localdate(), situation="新到返乡人员2人"
    )
    services.run_inspection(COUNTY)
    daily = _text(bytes(documents.generate(hq_user, "daily", "富强镇").content))
    assert "应报2个，已报1个" in daily and "永胜村" in daily and "新到返乡人员2人" in daily
    report = _text(bytes(documents.generate(hq_user, "inspection", "").content))
    assert "风险管控" in report and "张伟" in report and "下步打算" in report
    bulletin = _text(bytes(documents.generate(hq_user, "bulletin", "").content))
    assert "督查通报" in bulletin


def test_seeded_random_rollup_property(make_user, county):
    """Reported (corrected) values roll up exactly, whatever the villages report."""
    rng = random.Random(7)
    today = timezone.localdate()
    want = 0
    for village in (VILLAGE_A, VILLAGE_B):
        cadre = make_user(Role.VILLAGE_CADRE, village)
        value = rng.randint(1, 50)
        want += value
        services.submit_report(
            cadre,
            region_code=village,
            day=today,
            corrections={"screening.screened": (value, "台账核对")},
        )
    totals, _ = services.rollup(FUQIANG, today)
    assert totals["screening.screened"] == want


# -- dispatch and templates ----------------------------------------------------------------


def test_dispatch_decision_goes_to_a_township_and_is_reported_done(hq_user, make_user, county):
    meeting = services.record_meeting(
        hq_user,
        region_code=COUNTY,
        held_on=timezone.localdate(),
        chair="王主任",
        decisions=[
            services.DecisionInput(
                "全面排查返乡人员", FUQIANG, timezone.now() + dt.timedelta(days=1)
            )
        ],
    )
    township = make_user(Role.TOWNSHIP, FUQIANG)
    other = make_user(Role.TOWNSHIP, BAIQUAN)
    decision = meeting.decisions.get()
    assert not services.decisions_visible(other).exists()
    with pytest.raises(NotFound):
        services.complete_decision(other, decision.pk, report="完成", version=1)
    done = services.complete_decision(township, decision.pk, report="已排查312人", version=1)
    assert done.done_at is not None
    village = make_user(Role.VILLAGE_CADRE, VILLAGE_A)
    with pytest.raises(PermissionDenied):
        services.record_meeting(
            village, region_code=VILLAGE_A, held_on=timezone.localdate(), chair="x"
        )


def _template(text: str) -> bytes:
    doc = Docx()
    doc.add_paragraph(text)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def test_county_template_is_filled_and_a_bad_one_is_refused(isolate, hq_user, client_for, county):
    isolate(GRID_A1, "张伟")
    with pytest.raises(ValidationFailed) as exc:
        documents.upload_template(
            hq_user, "stage", "bad.docx", _template("{{基本情况}} {{县长讲话}}")
        )
    assert "{{县长讲话}}" in exc.value.errors[0].message
    with pytest.raises(ValidationFailed):
        documents.upload_template(hq_user, "stage", "x.docx", b"not a docx")
    documents.upload_template(
        hq_user, "stage", "本县.docx", _template("本县总结{{截至}}：{{基本情况}}")
    )
    text = _text(bytes(documents.generate(hq_user, "stage", "").content))
    assert text.startswith("本县总结截至") and "居家隔离" in text and "{{" not in text
    # through the page: an error message, not a 500
    client = client_for(hq_user)
    bad = client.post(
        "/reports/documents/",
        {"action": "template", "kind": "stage", "file": io.BytesIO(b"junk")},
        follow=True,
    )
    assert bad.status_code == 200 and "不是有效的Word" in bad.content.decode()


def test_township_daily_page_lists_who_has_not_reported(
    make_user, village_cadre, client_for, county
):
    services.submit_report(village_cadre, region_code=VILLAGE_A, day=timezone.localdate())
    township = make_user(Role.TOWNSHIP, FUQIANG)
    page = client_for(township).get("/reports/daily/").content.decode()
    assert "应报 2 个，已报 1 个，未报 1 个" in page and "永胜村" in page
    assert "东升社区" not in page


@settings(
    max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(GRIDS),
            st.sampled_from([AlertKind.FEVER, AlertKind.MISSED]),
            st.integers(min_value=-40, max_value=0),  # hours from now
        ),
        max_size=8,
    )
)
def test_alert_figures_equal_a_brute_force_count(isolate, county, alerts):
    """Fevers today and checks missed today: alerts raised since local midnight, by region."""
    Alert.objects.all().delete()
    IsolationOrder.objects.all().delete()
    now = timezone.now()
    midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    orders = {}
    made = []
    for n, (grid, kind, hours) in enumerate(alerts):
        if grid not in orders:
            orders[grid] = isolate(grid, f"测{n}")
        at = now + dt.timedelta(hours=hours)
        Alert.objects.create(order=orders[grid], region_code=grid, kind=kind, raised_at=at)
        made.append((grid, kind, at))
    for key, kind in (
        ("quarantine.fevers_today", AlertKind.FEVER),
        ("quarantine.checks_missed", AlertKind.MISSED),
    ):
        for length in (9, 12):
            got = figures.compute(key, figures.FigureQuery("", length, now))
            want: dict[str, int] = {}
            for grid, k, at in made:
                if k == kind and midnight <= at <= now:
                    want[grid[:length]] = want.get(grid[:length], 0) + 1
            assert got == want


@pytest.mark.parametrize(
    "url,body",
    [
        (f"/api/v1/reports/daily/{VILLAGE_A}", {"day": "2026-13-01"}),
        (f"/api/v1/reports/daily/{VILLAGE_A}", {"day": 0}),
        (f"/api/v1/reports/daily/{VILLAGE_A}", {"day": "2026-01-01", "situation": "a\x00b"}),
        (f"/api/v1/reports/daily/{VILLAGE_A}", {"day": "2026-01-01", "situation": "长" * 2001}),
        ("/api/v1/reports/daily/abc", {"day": "2026-01-01"}),
        ("/api/v1/reports/problems", {"region_code": VILLAGE_A, "aspect": "x", "title": "t"}),
        ("/api/v1/reports/problems", {"region_code": VILLAGE_A, "aspect": "risk", "title": ""}),
        ("/api/v1/reports/problems/999999999999/rectify", {"text": "x", "version": 1}),
        ("/api/v1/reports/documents", {"kind": "memo"}),
    ],
)
def test_bad_api_input_is_a_clear_4xx(hq_user, village_cadre, client_for, county, url, body):
    user = hq_user if "documents" in url else village_cadre
    response = client_for(user).post(url, body, content_type="application/json")
    assert 400 <= response.status_code < 500, response.content


def test_missing_units_are_reminded_once_at_the_deadline(make_user, village_cadre, county):
    from fangkong.core.models import Notice
    from fangkong.reports.models import ReportSetting

    now = timezone.localtime()
    if now.time() < dt.time(0, 10):
        pytest.skip("a deadline a minute ago would fall on yesterday")
    ReportSetting.objects.create(
        county_code=COUNTY, deadline=(now - dt.timedelta(minutes=1)).time()
    )
    services.submit_report(village_cadre, region_code=VILLAGE_A, day=now.date())
    sent = services.remind_missing()
    assert sent >= 1
    assert (
        Notice.objects.filter(source__startswith="reports.daily_missing:")
        .filter(source__endswith=VILLAGE_B)
        .exists()
    )
    assert not Notice.objects.filter(source__endswith=VILLAGE_A).exists()
    before = Notice.objects.count()
    services.remind_missing()
    assert Notice.objects.count() == before
