"""Roles and the one permission matrix (role → actions) of Fangkong.

Every check of "may this user do X" goes through :func:`can`; no view, API handler or
template tests a role by name. Jurisdiction (which regions) is a separate question,
answered by :mod:`fangkong.core.jurisdiction`: a permission here never widens the regions a
user may see.

Modules added later extend :data:`MATRIX` with their own actions, in this file, so the whole
policy stays readable in one place.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    COUNTY_HQ = "county_hq", _("County headquarters")
    TOWNSHIP = "township", _("Township office")
    VILLAGE_CADRE = "village_cadre", _("Village (community) cadre")
    GRID_WORKER = "grid_worker", _("Grid worker")
    VILLAGE_DOCTOR = "village_doctor", _("Village doctor")
    CHECKPOINT_STAFF = "checkpoint_staff", _("Checkpoint staff")
    INVESTIGATOR = "investigator", _("Investigator")
    TESTING_STAFF = "testing_staff", _("Testing staff")
    SUPPLY_OFFICER = "supply_officer", _("Supply officer")
    INSPECTOR = "inspector", _("Inspector")
    ADMIN = "admin", _("Administrator")


class Action(models.TextChoices):
    REGION_VIEW = "region.view", _("View regions")
    REGION_MANAGE = "region.manage", _("Manage regions")
    HOUSEHOLD_VIEW = "household.view", _("View households")
    HOUSEHOLD_EDIT = "household.edit", _("Create and edit households")
    PERSON_VIEW = "person.view", _("View persons")
    PERSON_CREATE = "person.create", _("Register persons")
    PERSON_EDIT = "person.edit", _("Edit persons")
    PERSON_IMPORT = "person.import", _("Import persons")
    PERSON_EXPORT = "person.export", _("Export persons")
    VIEW_ID_NUMBER = "person.view_id_number", _("See full ID numbers")
    VIEW_PHONE = "person.view_phone", _("See full phone numbers")
    HISTORY_VIEW = "person.history", _("View change history")
    AUDIT_VIEW = "audit.view", _("View the audit log")
    USER_MANAGE = "user.manage", _("Manage users")
    QUARANTINE_VIEW = "quarantine.view", _("View isolation orders, checks and alerts")
    QUARANTINE_MANAGE = "quarantine.manage", _("Order, extend, transfer, end and release isolation")
    QUARANTINE_OVERRIDE = "quarantine.override", _("Release isolation early by override")
    QUARANTINE_CHECK = "quarantine.check", _("Record health checks and handle alerts")
    QUARANTINE_TEST = "quarantine.test", _("Record the test results an isolation requires")
    QUARANTINE_SITES = "quarantine.sites", _("Manage isolation sites, rooms and room assignments")
    QUARANTINE_SUPPORT = "quarantine.support", _("Record supplies and medical-waste pickups")
    TASK_VIEW_ALL = "task.view_all", _("Follow everyone's background tasks")
    TESTING_VIEW = "testing.view", _("View testing rounds, sampling points and coverage")
    TESTING_PLAN = "testing.plan", _("Plan testing rounds, sampling points and exemptions")
    TESTING_SAMPLE = "testing.sample", _("Record samples and open tubes")
    TESTING_RESULT = "testing.result", _("Import laboratory results")
    TESTING_LISTS = "testing.lists", _("See untested and recalled persons and recall tasks")
    TESTING_POSITIVES = "testing.positives", _("See suspected cases from positive tubes")
    SCREENING_VIEW = "screening.view", _("View stays, risk areas, policies and decisions")
    SCREENING_EDIT = "screening.edit", _("Record stays of persons")
    SCREENING_RULES = "screening.rules", _("Edit risk areas and publish control policies")
    LEDGER_IMPORT = "screening.ledger_import", _("Import ledgers")
    LEDGER_EXPORT = "screening.ledger_export", _("Export ledgers")
    TRACING_VIEW = "tracing.view", _("View cases, contacts and chains of transmission")
    TRACING_INVESTIGATE = "tracing.investigate", _("Record cases, events and contacts")
    TRACING_REACH = "tracing.reach", _("Reach contacts and close tracing tasks")
    TRACING_NOTICES = "tracing.notices", _("Handle cross-region tracing notices")
    TRACING_MANAGE = "tracing.manage", _("Manage investigation teams, assignment and imports")
    TRACING_EXPORT = "tracing.export", _("Export chains of transmission")


A = Action
_READ = {A.REGION_VIEW, A.HOUSEHOLD_VIEW, A.PERSON_VIEW}
_REGISTRY_EDIT = {A.HOUSEHOLD_EDIT, A.PERSON_CREATE, A.PERSON_EDIT, A.HISTORY_VIEW}
_FULL_CONTACT = {A.VIEW_ID_NUMBER, A.VIEW_PHONE}

# Why each row is what it is:
# - county/township/village cadres keep the ledgers: they edit, import, export and need the
#   full ID number and phone to reconcile lists and call people;
# - grid workers and village doctors visit and call people: full phone, masked ID;
# - investigators trace contacts across households: full ID and phone, no editing of the
#   registry itself (their records live in the tracing module);
# - checkpoint and testing staff check the card in front of them: masked data only;
# - supply officers work with stock, not people: regions only;
# - inspectors audit the work: read-only, masked, plus the audit log;
# - administrators manage users and regions and read the audit log; they see masked data
#   unless also given a role that needs more;
# - the county headquarters and administrators follow every background task (imports and
#   generation run county-wide); everyone else follows the tasks they started.
MATRIX: dict[Role, frozenset[Action]] = {
    Role.COUNTY_HQ: frozenset(
        _READ
        | _REGISTRY_EDIT
        | _FULL_CONTACT
        | {A.PERSON_IMPORT, A.PERSON_EXPORT, A.AUDIT_VIEW, A.TASK_VIEW_ALL}
    ),
    Role.TOWNSHIP: frozenset(
        _READ | _REGISTRY_EDIT | _FULL_CONTACT | {A.PERSON_IMPORT, A.PERSON_EXPORT}
    ),
    Role.VILLAGE_CADRE: frozenset(
        _READ | _REGISTRY_EDIT | _FULL_CONTACT | {A.PERSON_IMPORT, A.PERSON_EXPORT}
    ),
    Role.GRID_WORKER: frozenset(_READ | _REGISTRY_EDIT | {A.VIEW_PHONE}),
    Role.VILLAGE_DOCTOR: frozenset(_READ | {A.VIEW_PHONE}),
    Role.CHECKPOINT_STAFF: frozenset(_READ),
    Role.INVESTIGATOR: frozenset(_READ | _FULL_CONTACT | {A.HISTORY_VIEW}),
    Role.TESTING_STAFF: frozenset(_READ),
    Role.SUPPLY_OFFICER: frozenset({A.REGION_VIEW}),
    Role.INSPECTOR: frozenset(_READ | {A.HISTORY_VIEW, A.AUDIT_VIEW}),
    Role.ADMIN: frozenset(
        _READ | {A.REGION_MANAGE, A.USER_MANAGE, A.AUDIT_VIEW, A.HISTORY_VIEW, A.TASK_VIEW_ALL}
    ),
}

_Q = {A.QUARANTINE_VIEW}
_Q_ALL = _Q | {
    A.QUARANTINE_MANAGE, A.QUARANTINE_OVERRIDE, A.QUARANTINE_CHECK, A.QUARANTINE_TEST,
    A.QUARANTINE_SITES, A.QUARANTINE_SUPPORT,
}

# Isolation (quarantine), one line per role:
# - county HQ and township: run sites, order/release isolation and may override a release;
# - village cadre: orders and manages isolation in the village, does door checks and supplies;
# - grid worker: door checks, supplies and waste pickups, no orders;
# - village doctor: the twice-daily checks, alerts and recording of test results;
# - investigator and inspector: read only; testing staff: read and record test results;
# - supply officer: supply requests, deliveries and waste pickups only;
# - checkpoint staff and administrator: nothing.
_QUARANTINE: dict[Role, set[Action]] = {
    Role.COUNTY_HQ: _Q_ALL,
    Role.TOWNSHIP: _Q_ALL,
    Role.VILLAGE_CADRE: _Q_ALL - {A.QUARANTINE_OVERRIDE, A.QUARANTINE_SITES},
    Role.GRID_WORKER: _Q | {A.QUARANTINE_CHECK, A.QUARANTINE_SUPPORT},
    Role.VILLAGE_DOCTOR: _Q | {A.QUARANTINE_CHECK, A.QUARANTINE_TEST},
    Role.INVESTIGATOR: _Q,
    Role.TESTING_STAFF: _Q | {A.QUARANTINE_TEST},
    Role.SUPPLY_OFFICER: {A.QUARANTINE_SUPPORT},
    Role.INSPECTOR: _Q,
}

MATRIX = {role: actions | _QUARANTINE.get(role, set()) for role, actions in MATRIX.items()}

# Nucleic-acid testing, one line per role:
# - testing staff sample and open tubes, and the lab among them imports results;
# - county HQ plans rounds and follows coverage, lists, positives, and receives lab files;
# - township and village cadres plan rounds and points of their area and chase the untested;
# - grid worker sees the untested and recalled persons of the grid and works recall tasks;
# - investigator reads the positives (suspected cases) to start tracing;
# - inspector reads everything, changes nothing;
# - village doctor, checkpoint staff, supply officer and administrator: nothing.
_T = {A.TESTING_VIEW}
_TESTING: dict[Role, set[Action]] = {
    Role.TESTING_STAFF: _T | {A.TESTING_SAMPLE, A.TESTING_RESULT},
    Role.COUNTY_HQ: _T | {A.TESTING_PLAN, A.TESTING_LISTS, A.TESTING_POSITIVES, A.TESTING_RESULT},
    Role.TOWNSHIP: _T | {A.TESTING_PLAN, A.TESTING_LISTS, A.TESTING_POSITIVES},
    Role.VILLAGE_CADRE: _T | {A.TESTING_PLAN, A.TESTING_LISTS},
    Role.GRID_WORKER: _T | {A.TESTING_LISTS},
    Role.INVESTIGATOR: _T | {A.TESTING_POSITIVES},
    Role.INSPECTOR: _T | {A.TESTING_LISTS, A.TESTING_POSITIVES},
}

MATRIX = {role: actions | _TESTING.get(role, set()) for role, actions in MATRIX.items()}

# Screening and ledgers, one line per role:
# - county HQ: everything, and alone edits risk areas and publishes control policies;
# - township and village cadres keep the ledgers: record stays, import and export;
# - grid worker and checkpoint staff record the stays they learn of at doors and gates;
# - village doctor, investigator and inspector read decisions and stays;
# - testing staff, supply officer and administrator: nothing.
_S = {A.SCREENING_VIEW}
_SCREENING: dict[Role, set[Action]] = {
    Role.COUNTY_HQ: _S | {A.SCREENING_EDIT, A.SCREENING_RULES, A.LEDGER_IMPORT, A.LEDGER_EXPORT},
    Role.TOWNSHIP: _S | {A.SCREENING_EDIT, A.LEDGER_IMPORT, A.LEDGER_EXPORT},
    Role.VILLAGE_CADRE: _S | {A.SCREENING_EDIT, A.LEDGER_IMPORT, A.LEDGER_EXPORT},
    Role.GRID_WORKER: _S | {A.SCREENING_EDIT},
    Role.CHECKPOINT_STAFF: _S | {A.SCREENING_EDIT},
    Role.VILLAGE_DOCTOR: _S,
    Role.INVESTIGATOR: _S,
    Role.INSPECTOR: _S,
}

MATRIX = {role: actions | _SCREENING.get(role, set()) for role, actions in MATRIX.items()}

# Contact tracing, one line per role:
# - investigator: everything — records cases, events and contacts, reaches them, handles notices;
# - county HQ: manages teams, assignment and line-list imports, reads and exports the chains;
# - township and village cadres: see their people's contacts and handle notices for them;
# - grid worker: reaches the contacts in the grid and closes the tracing tasks;
# - inspector: reads everything, changes nothing;
# - village doctor, checkpoint, testing, supply staff and administrator: nothing.
_TR = {A.TRACING_VIEW}
_TRACING: dict[Role, set[Action]] = {
    Role.INVESTIGATOR: _TR | {
        A.TRACING_INVESTIGATE, A.TRACING_REACH, A.TRACING_NOTICES, A.TRACING_MANAGE,
        A.TRACING_EXPORT,
    },
    Role.COUNTY_HQ: _TR | {A.TRACING_MANAGE, A.TRACING_NOTICES, A.TRACING_EXPORT},
    Role.TOWNSHIP: _TR | {A.TRACING_NOTICES},
    Role.VILLAGE_CADRE: _TR | {A.TRACING_NOTICES},
    Role.GRID_WORKER: _TR | {A.TRACING_REACH},
    Role.INSPECTOR: set(_TR),
}

MATRIX = {role: actions | _TRACING.get(role, set()) for role, actions in MATRIX.items()}


def actions_for(role: str) -> frozenset[Action]:
    """The actions a role may take; an unknown role may take none."""
    try:
        return MATRIX[Role(role)]
    except ValueError:
        return frozenset()


def can(user: object, action: Action | str) -> bool:
    """True when ``user`` is an active, authenticated user whose role allows ``action``."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return False
    return Action(action) in actions_for(getattr(user, "role", ""))
