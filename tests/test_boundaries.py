# ruff: noqa: E501  (the shrinking lists below hold one endpoint or import per line)
"""Architecture tests: every page and API operation declares who may call it, and modules
keep to their boundaries (DESIGN.md: domain apps depend on core, never on each other's
internals or on the web shell's views; core imports no domain app).

Both tests walk the code as it is, so a new endpoint without ``requires``/``signed_in``/
``public``, or a new import across a boundary, fails CI.
"""

from __future__ import annotations

import ast
import pathlib

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

import fangkong
from fangkong.core.permissions import access_of

ROOT = pathlib.Path(fangkong.__file__).parent

# Django's own views mounted as they are: the language switch (a cookie, no data) and the
# admin site (its own login and permission checks; see core/admin.py).
EXTERNAL = {"django.views.i18n.set_language"}
EXTERNAL_PREFIXES = ("admin/",)


def _page_views(patterns=None, prefix=""):
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            if route.startswith("api/"):
                continue
            yield from _page_views(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route, pattern.callback


def _api_operations():
    from fangkong.api import api

    for prefix, router in api._routers:
        for path, path_view in router.path_operations.items():
            for operation in path_view.operations:
                for method in operation.methods:
                    yield f"{method} /api/v1{prefix}{path}", operation.view_func


# Endpoints written before the kit existed, still checking permissions inside their bodies.
# Each module's move onto the kit empties its part of this list; it only ever shrinks.
UNDECLARED_BEFORE_THE_KIT: set[str] = {
    "api DELETE /api/v1/quarantine/orders/{order_id}/link (fangkong.quarantine.api.revoke_link)",
    "api GET /api/v1/households (fangkong.people.api.list_households)",
    "api GET /api/v1/households/{household_id} (fangkong.people.api.get_household)",
    "api GET /api/v1/me (fangkong.core.api.me)",
    "api GET /api/v1/persons (fangkong.people.api.list_persons)",
    "api GET /api/v1/persons/{person_id} (fangkong.people.api.get_person)",
    "api GET /api/v1/persons/{person_id}/history (fangkong.people.api.person_history)",
    "api GET /api/v1/quarantine/alerts (fangkong.quarantine.api.list_alerts)",
    "api GET /api/v1/quarantine/board (fangkong.quarantine.api.board)",
    "api GET /api/v1/quarantine/orders (fangkong.quarantine.api.list_orders)",
    "api GET /api/v1/quarantine/orders/{order_id} (fangkong.quarantine.api.get_order)",
    "api GET /api/v1/quarantine/orders/{order_id}/checks (fangkong.quarantine.api.order_checks)",
    "api GET /api/v1/quarantine/orders/{order_id}/release-notice (fangkong.quarantine.api.release_notice)",
    "api GET /api/v1/quarantine/round (fangkong.quarantine.api.todays_round)",
    "api GET /api/v1/quarantine/self/{token} (fangkong.quarantine.api.self_order)",
    "api GET /api/v1/quarantine/sites (fangkong.quarantine.api.list_sites)",
    "api GET /api/v1/quarantine/sites/{site_id}/rooms (fangkong.quarantine.api.site_rooms)",
    "api GET /api/v1/quarantine/sites/{site_id}/roster (fangkong.quarantine.api.site_roster)",
    "api GET /api/v1/quarantine/supplies (fangkong.quarantine.api.list_supplies)",
    "api GET /api/v1/regions (fangkong.core.api.list_regions)",
    "api GET /api/v1/regions/tree (fangkong.core.api.region_tree)",
    "api GET /api/v1/regions/{code} (fangkong.core.api.get_region)",
    "api GET /api/v1/screening/candidates (fangkong.screening.api.list_candidates)",
    "api GET /api/v1/screening/decisions (fangkong.screening.api.list_decisions)",
    "api GET /api/v1/screening/due (fangkong.screening.api.due_list)",
    "api GET /api/v1/screening/elsewhere/urgent (fangkong.screening.api.urgent_elsewhere)",
    "api GET /api/v1/screening/gaps (fangkong.screening.api.list_gaps)",
    "api GET /api/v1/screening/ledgers/imports/{import_id} (fangkong.screening.api.ledger_import_status)",
    "api GET /api/v1/screening/ledgers/imports/{import_id}/errors.xlsx (fangkong.screening.api.ledger_import_errors)",
    "api GET /api/v1/screening/ledgers/{kind}/export.xlsx (fangkong.screening.api.ledger_export)",
    "api GET /api/v1/screening/ledgers/{kind}/template (fangkong.screening.api.ledger_template)",
    "api GET /api/v1/screening/omissions (fangkong.screening.api.list_omissions)",
    "api GET /api/v1/screening/persons/{person_id}/decisions (fangkong.screening.api.person_decisions)",
    "api GET /api/v1/screening/persons/{person_id}/stays (fangkong.screening.api.person_stays)",
    "api GET /api/v1/screening/policies (fangkong.screening.api.list_policies)",
    "api GET /api/v1/screening/policies/{policy_id} (fangkong.screening.api.get_policy)",
    "api GET /api/v1/screening/risk-areas (fangkong.screening.api.list_risk_areas)",
    "api GET /api/v1/screening/unregistered (fangkong.screening.api.list_unregistered)",
    "api GET /api/v1/screening/visits (fangkong.screening.api.list_visits)",
    "api GET /api/v1/screening/visits/escalated (fangkong.screening.api.list_escalated_visits)",
    "api GET /api/v1/testing/campaigns (fangkong.testing.api.list_campaigns)",
    "api GET /api/v1/testing/campaigns/{campaign_id} (fangkong.testing.api.get_campaign)",
    "api GET /api/v1/testing/campaigns/{campaign_id}/coverage (fangkong.testing.api.coverage)",
    "api GET /api/v1/testing/campaigns/{campaign_id}/exemptions (fangkong.testing.api.list_exemptions)",
    "api GET /api/v1/testing/campaigns/{campaign_id}/recalls (fangkong.testing.api.recalls)",
    "api GET /api/v1/testing/campaigns/{campaign_id}/unmatched-results (fangkong.testing.api.unmatched)",
    "api GET /api/v1/testing/campaigns/{campaign_id}/untested (fangkong.testing.api.untested)",
    "api GET /api/v1/testing/due-tests (fangkong.testing.api.due_tests)",
    "api GET /api/v1/testing/points (fangkong.testing.api.list_points)",
    "api GET /api/v1/testing/points/{point_id}/plan (fangkong.testing.api.plan_point)",
    "api GET /api/v1/testing/points/{point_id}/staff (fangkong.testing.api.get_point_staff)",
    "api GET /api/v1/testing/recall-tasks (fangkong.testing.api.list_tasks)",
    "api GET /api/v1/testing/suspected-cases (fangkong.testing.api.suspected)",
    "api GET /api/v1/tracing/cases (fangkong.tracing.api.list_cases)",
    "api GET /api/v1/tracing/cases/{case_id} (fangkong.tracing.api.get_case)",
    "api GET /api/v1/tracing/cases/{case_id}/contacts (fangkong.tracing.api.case_contacts)",
    "api GET /api/v1/tracing/chains (fangkong.tracing.api.chains)",
    "api GET /api/v1/tracing/chains.xlsx (fangkong.tracing.api.chains_xlsx)",
    "api GET /api/v1/tracing/events/attack-rates (fangkong.tracing.api.attack_rates)",
    "api GET /api/v1/tracing/notices (fangkong.tracing.api.list_notices)",
    "api GET /api/v1/tracing/notices/{notice_id} (fangkong.tracing.api.get_notice)",
    "api GET /api/v1/tracing/teams (fangkong.tracing.api.list_teams)",
    "api GET /api/v1/tracing/unreached (fangkong.tracing.api.unreached)",
    "api GET /api/v1/tracing/workload (fangkong.tracing.api.workload)",
    "api PATCH /api/v1/households/{household_id} (fangkong.people.api.update_household)",
    "api PATCH /api/v1/persons/{person_id} (fangkong.people.api.update_person)",
    "api PATCH /api/v1/screening/risk-areas/{area_id} (fangkong.screening.api.update_risk_area)",
    "api PATCH /api/v1/testing/points/{point_id} (fangkong.testing.api.update_point)",
    "api POST /api/v1/auth/token (fangkong.core.api.issue_token)",
    "api POST /api/v1/households (fangkong.people.api.create_household)",
    "api POST /api/v1/persons (fangkong.people.api.create_person)",
    "api POST /api/v1/quarantine/alerts/{alert_id}/outcome (fangkong.quarantine.api.alert_outcome)",
    "api POST /api/v1/quarantine/checks (fangkong.quarantine.api.record_check)",
    "api POST /api/v1/quarantine/checks/batch (fangkong.quarantine.api.record_checks_batch)",
    "api POST /api/v1/quarantine/orders (fangkong.quarantine.api.create_order)",
    "api POST /api/v1/quarantine/orders/{order_id}/end (fangkong.quarantine.api.end_early)",
    "api POST /api/v1/quarantine/orders/{order_id}/extend (fangkong.quarantine.api.extend)",
    "api POST /api/v1/quarantine/orders/{order_id}/link (fangkong.quarantine.api.issue_link)",
    "api POST /api/v1/quarantine/orders/{order_id}/release (fangkong.quarantine.api.release)",
    "api POST /api/v1/quarantine/orders/{order_id}/room (fangkong.quarantine.api.assign_room)",
    "api POST /api/v1/quarantine/orders/{order_id}/supplies (fangkong.quarantine.api.request_supplies)",
    "api POST /api/v1/quarantine/orders/{order_id}/tests/{day} (fangkong.quarantine.api.record_test)",
    "api POST /api/v1/quarantine/orders/{order_id}/transfer (fangkong.quarantine.api.transfer)",
    "api POST /api/v1/quarantine/self/{token}/checks (fangkong.quarantine.api.self_check)",
    "api POST /api/v1/quarantine/self/{token}/supplies (fangkong.quarantine.api.self_supplies)",
    "api POST /api/v1/quarantine/sites (fangkong.quarantine.api.create_site)",
    "api POST /api/v1/quarantine/sites/{site_id}/rooms (fangkong.quarantine.api.add_rooms)",
    "api POST /api/v1/quarantine/supplies/{request_id}/delivery (fangkong.quarantine.api.deliver)",
    "api POST /api/v1/quarantine/waste-pickups (fangkong.quarantine.api.waste_pickup)",
    "api POST /api/v1/screening/candidates/{pair_id}/decision (fangkong.screening.api.decide_candidate)",
    "api POST /api/v1/screening/ledgers/{kind}/imports (fangkong.screening.api.ledger_upload)",
    "api POST /api/v1/screening/omissions/find (fangkong.screening.api.find_omissions)",
    "api POST /api/v1/screening/policies (fangkong.screening.api.publish_policy)",
    "api POST /api/v1/screening/reconcile (fangkong.screening.api.reconcile)",
    "api POST /api/v1/screening/records (fangkong.screening.api.add_records)",
    "api POST /api/v1/screening/reevaluate (fangkong.screening.api.reevaluate)",
    "api POST /api/v1/screening/risk-areas (fangkong.screening.api.create_risk_area)",
    "api POST /api/v1/screening/risk-areas/import (fangkong.screening.api.import_risk_areas)",
    "api POST /api/v1/screening/stays (fangkong.screening.api.create_stay)",
    "api POST /api/v1/screening/unregistered/{group_id}/register (fangkong.screening.api.register_unregistered)",
    "api POST /api/v1/screening/visits/{task_id}/done (fangkong.screening.api.visit_done)",
    "api POST /api/v1/screening/visits/{task_id}/handle (fangkong.screening.api.handle_visit)",
    "api POST /api/v1/screening/visits/{task_id}/reassign (fangkong.screening.api.reassign_visit)",
    "api POST /api/v1/testing/campaigns (fangkong.testing.api.create_campaign)",
    "api POST /api/v1/testing/campaigns/{campaign_id}/exemptions (fangkong.testing.api.add_exemption)",
    "api POST /api/v1/testing/campaigns/{campaign_id}/results (fangkong.testing.api.post_results)",
    "api POST /api/v1/testing/campaigns/{campaign_id}/results/file (fangkong.testing.api.upload_results)",
    "api POST /api/v1/testing/campaigns/{campaign_id}/samples (fangkong.testing.api.ingest)",
    "api POST /api/v1/testing/campaigns/{campaign_id}/scan (fangkong.testing.api.scan)",
    "api POST /api/v1/testing/campaigns/{campaign_id}/status (fangkong.testing.api.set_status)",
    "api POST /api/v1/testing/campaigns/{campaign_id}/tubes (fangkong.testing.api.open_tubes)",
    "api POST /api/v1/testing/points (fangkong.testing.api.create_point)",
    "api POST /api/v1/testing/recall-tasks/{task_id}/done (fangkong.testing.api.task_done)",
    "api POST /api/v1/testing/schedules (fangkong.testing.api.create_schedule)",
    "api POST /api/v1/tracing/cases (fangkong.tracing.api.create_case)",
    "api POST /api/v1/tracing/cases/{case_id}/assign (fangkong.tracing.api.assign_case)",
    "api POST /api/v1/tracing/cases/{case_id}/contacts (fangkong.tracing.api.add_contact)",
    "api POST /api/v1/tracing/cases/{case_id}/status (fangkong.tracing.api.change_status)",
    "api POST /api/v1/tracing/cases/{case_id}/timeline (fangkong.tracing.api.add_timeline)",
    "api POST /api/v1/tracing/events (fangkong.tracing.api.create_event)",
    "api POST /api/v1/tracing/events/{event_id}/attendees (fangkong.tracing.api.add_attendees)",
    "api POST /api/v1/tracing/imports (fangkong.tracing.api.import_line_list)",
    "api POST /api/v1/tracing/isolation-handover (fangkong.tracing.api.isolation_handover)",
    "api POST /api/v1/tracing/notices/{notice_id}/accept (fangkong.tracing.api.accept_notice)",
    "api POST /api/v1/tracing/notices/{notice_id}/receive (fangkong.tracing.api.receive_notice)",
    "api POST /api/v1/tracing/notices/{notice_id}/result (fangkong.tracing.api.notice_result)",
    "api POST /api/v1/tracing/tasks/{task_id}/reached (fangkong.tracing.api.reached)",
    "api POST /api/v1/tracing/teams (fangkong.tracing.api.create_team)",
    "api PUT /api/v1/screening/penalty-rule (fangkong.screening.api.set_penalty_rule)",
    "api PUT /api/v1/testing/points/{point_id}/staff (fangkong.testing.api.set_point_staff)",
    "page healthz (fangkong.urls.healthz)",
    "page households/ (fangkong.web.views.household_list)",
    "page households/<int:household_id>/ (fangkong.web.views.household_detail)",
    "page households/<int:household_id>/edit/ (fangkong.web.views.household_edit)",
    "page households/new/ (fangkong.web.views.household_create)",
    "page login/ (fangkong.web.views.login_view)",
    "page logout/ (fangkong.web.views.logout_view)",
    "page persons/ (fangkong.web.views.person_list)",
    "page persons/<int:person_id>/ (fangkong.web.views.person_detail)",
    "page persons/<int:person_id>/edit/ (fangkong.web.views.person_edit)",
    "page persons/new/ (fangkong.web.views.person_create)",
    "page regions/ (fangkong.web.views.regions)",
    "page regions/<str:code>/ (fangkong.web.views.region_children)",
    "page screening/ (fangkong.screening.views.home)",
    "page screening/^reconciliation/pairs/(?P<pair_id>[0-9]+)/(?P<decision>confirm|reject)/$ (fangkong.screening.views.decide_pair)",
    "page screening/ledgers/<str:kind>/export.xlsx (fangkong.screening.views.export)",
    "page screening/ledgers/<str:kind>/template.xlsx (fangkong.screening.views.template)",
    "page screening/ledgers/imports/<int:import_id>/ (fangkong.screening.views.import_detail)",
    "page screening/ledgers/imports/<int:import_id>/errors.xlsx (fangkong.screening.views.import_errors)",
    "page screening/ledgers/upload/ (fangkong.screening.views.upload)",
    "page screening/policies/new/ (fangkong.screening.views.policy_publish)",
    "page screening/reconciliation/ (fangkong.screening.views.reconciliation_page)",
    "page screening/reconciliation/unregistered/<int:group_id>/register/ (fangkong.screening.views.register_group)",
    "page screening/risk-areas/<int:area_id>/edit/ (fangkong.screening.views.risk_area_edit)",
    "page screening/risk-areas/new/ (fangkong.screening.views.risk_area_create)",
    "page screening/visits/ (fangkong.screening.views.visit_list)",
    "page screening/visits/<int:task_id>/ (fangkong.screening.views.visit_form)",
    "page screening/visits/escalated/ (fangkong.screening.views.escalation_list)",
    "page screening/visits/escalated/<int:task_id>/handle/ (fangkong.screening.views.escalation_handle)",
    "page screening/visits/escalated/<int:task_id>/reassign/ (fangkong.screening.views.escalation_reassign)",
    "page testing/ (fangkong.testing.views.home)",
    "page testing/points/ (fangkong.testing.views.points)",
    "page testing/points/<int:point_id>/ (fangkong.testing.views.point_detail)",
    "page testing/points/<int:point_id>/plan/ (fangkong.testing.views.point_plan)",
    "page testing/register/ (fangkong.testing.views.register)",
    "page testing/rounds/<int:campaign_id>/ (fangkong.testing.views.campaign_detail)",
    "page testing/rounds/<int:campaign_id>/recalls/ (fangkong.testing.views.recalls)",
    "page testing/rounds/<int:campaign_id>/results/ (fangkong.testing.views.results)",
    "page testing/rounds/<int:campaign_id>/sample/ (fangkong.testing.views.sample)",
    "page testing/rounds/<int:campaign_id>/status/ (fangkong.testing.views.campaign_status)",
    "page testing/rounds/<int:campaign_id>/untested/ (fangkong.testing.views.untested)",
    "page testing/suspected/ (fangkong.testing.views.suspected)",
    "page testing/tasks/ (fangkong.testing.views.tasks)",
    "page testing/tasks/<int:task_id>/done/ (fangkong.testing.views.task_done)",
}


def _undeclared() -> set[str]:
    missing = set()
    for route, view in _page_views():
        name = f"{view.__module__}.{view.__name__}"
        if name in EXTERNAL or route.startswith(EXTERNAL_PREFIXES):
            continue
        if access_of(view) is None:
            missing.add(f"page {route} ({name})")
    for route, view in _api_operations():
        if access_of(view) is None:
            missing.add(f"api {route} ({view.__module__}.{view.__name__})")
    return missing


def test_every_page_and_api_operation_declares_its_access():
    missing = _undeclared() - UNDECLARED_BEFORE_THE_KIT
    assert not missing, "declare access with requires()/signed_in/public():\n" + "\n".join(
        sorted(missing)
    )


def test_the_list_of_undeclared_endpoints_only_shrinks():
    stale = UNDECLARED_BEFORE_THE_KIT - _undeclared()
    assert not stale, "these are declared now; remove them from the list:\n" + "\n".join(
        sorted(stale)
    )


def test_public_endpoints_say_why():
    for route, view in [*_page_views(), *_api_operations()]:
        access = access_of(view)
        if access is not None and access.public:
            assert access.reason.strip(), route


# --- imports -----------------------------------------------------------------------------

SHELL = {"web", "synth"}
FOUNDATION = {"core"}


def _apps() -> list[str]:
    return sorted(p.name for p in ROOT.iterdir() if p.is_dir() and (p / "apps.py").exists())


def _imports(path: pathlib.Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:  # relative: inside the same package
                continue
            module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def _crossings() -> set[str]:
    apps = _apps()
    domains = [a for a in apps if a not in SHELL | FOUNDATION]
    bad = set()
    for app in apps:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            where = f"{path.relative_to(ROOT)}"
            for name in _imports(path):
                parts = name.split(".")
                if parts[0] != "fangkong" or len(parts) < 2:
                    continue
                target = parts[1]
                if target == app:
                    continue
                if app == "core" and target in domains + sorted(SHELL):
                    bad.add(f"{where} imports {name} (core imports no app)")
                elif app in domains and target == "web" and "views" in parts[2:3]:
                    bad.add(f"{where} imports {name} (use fangkong.core.ui)")
                elif (
                    app in domains
                    and target in domains
                    and target != "people"  # the registry every module builds on
                    and parts[2:3] in (["services"], ["models"], ["selectors"])
                ):
                    bad.add(f"{where} imports {name} (talk through core's registries/signals)")
    return bad


# Crossings that predate the kit; each module's move onto it removes its lines.
CROSSINGS_BEFORE_THE_KIT: set[str] = {
    "screening/views.py imports fangkong.web.views (use fangkong.core.ui)",
    "screening/views.py imports fangkong.web.views.service_errors (use fangkong.core.ui)",
    "testing/views.py imports fangkong.web.views (use fangkong.core.ui)",
    "testing/views.py imports fangkong.web.views.service_errors (use fangkong.core.ui)",
}


def test_modules_keep_to_their_boundaries():
    new = _crossings() - CROSSINGS_BEFORE_THE_KIT
    assert not new, "\n".join(sorted(new))


def test_the_list_of_crossings_only_shrinks():
    stale = CROSSINGS_BEFORE_THE_KIT - _crossings()
    assert not stale, "gone now; remove from the list:\n" + "\n".join(sorted(stale))


@pytest.mark.parametrize("app", ["core"])
def test_core_has_no_import_cycle_into_apps(app):
    assert not any(c.startswith(f"{app}/") for c in _crossings())
