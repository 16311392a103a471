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
    NOTICE_SEND = "notice.send", _("Send notices to the users of an area")
    NOTICE_TRACK = "notice.track", _("See who has read and confirmed the notices of an area")
    DEVICE_REVOKE = "device.revoke", _("Revoke the field-app phones of the users of an area")
    # --- reports (command, boards, daily reports, self-inspection, problems) -------------
    REPORTS_BOARD = "reports.board", _("View situation boards, daily reports and findings")
    REPORTS_DAILY = "reports.daily", _("File the daily report of one's area")
    REPORTS_INSPECT = "reports.inspect", _("Run self-inspection on demand")
    REPORTS_PROBLEMS = "reports.problems", _("Raise problems and report their rectification")
    REPORTS_CONFIRM = "reports.confirm", _("Confirm the closure of problems below")
    REPORTS_DOCUMENTS = "reports.documents", _("Generate Word reports")
    REPORTS_SETTINGS = "reports.settings", _("Set the daily report deadline")
    REPORTS_DISPATCH = "reports.dispatch", _("Record dispatch meetings and assign their tasks")
    # --- checkpoints ---------------------------------------------------------------------
    CHECKPOINT_VIEW = "checkpoints.view", _("View checkpoints, passages, rosters and inspections")
    CHECKPOINT_LOG = "checkpoints.log", _("Log passages at a checkpoint and check in for a shift")
    CHECKPOINT_MANAGE = "checkpoints.manage", _("Manage checkpoints, pass cards and duty rosters")
    CHECKPOINT_INSPECT = "checkpoints.inspect", _("Record night inspections of checkpoints")
    # --- tipoffs -------------------------------------------------------------------------
    TIPOFF_VIEW = "tipoffs.view", _("View tip-offs of the area (tipster contact masked)")
    TIPOFF_INTAKE = "tipoffs.intake", _("Enter hotline tip-offs")
    TIPOFF_VERIFY = "tipoffs.verify", _("Verify tip-offs and see the tipster's contact")
    TIPOFF_REWARD = "tipoffs.reward", _("Record reward payments and set the reward rule")
    # --- supervision ---------------------------------------------------------------------
    SUPERVISION_VIEW = "supervision.view", _("View inspections, rectifications and discipline")
    SUPERVISION_INSPECT = "supervision.inspect", _("Inspect places and verify rectification")
    SUPERVISION_RECTIFY = "supervision.rectify", _("Report the rectification of a finding")
    SUPERVISION_DISCIPLINE = "supervision.discipline", _("Open and decide disciplinary cases")
    # --- supplies ------------------------------------------------------------------------
    SUPPLIES_VIEW = "supplies.view", _("View stock, days of cover and issue ledgers")
    SUPPLIES_MOVE = "supplies.move", _("Record receipts, issues, transfers, losses and counts")
    SUPPLIES_MANAGE = "supplies.manage", _("Manage stores, approve requests and purchases")
    SUPPLIES_REQUEST = "supplies.request", _("Request supplies for a receiving unit")
    SUPPLIES_FUNDS = "supplies.funds", _("Record donations, fund allocations and spending")
    SUPPLIES_PRICES = "supplies.prices", _("Record and follow the prices of listed goods")
    # --- places --------------------------------------------------------------------------
    PLACES_VIEW = "places.view", _("View places, closures, gatherings, schools and cold chain")
    PLACES_MANAGE = "places.manage", _("Register places, order closures and reopenings, checklists")
    PLACES_INSPECT = "places.inspect", _("Inspect places and record disinfection rounds")
    PLACES_GATHERINGS = "places.gatherings", _("Record gatherings and their outcome")
    PLACES_APPROVE = "places.approve", _("Approve gatherings held under conditions and resumptions")
    PLACES_SCHOOLS = "places.schools", _("Keep school rosters, class links and daily checks")
    PLACES_COLD_CHAIN = "places.cold_chain", _("Record cold-chain batches and release them")
    PLACES_PHARMACY = "places.pharmacy", _("Record pharmacy sales of fever and cough drugs")
    # --- emergency -----------------------------------------------------------------------
    EMERGENCY_VIEW = "emergency.view", _("View zones, wartime mode, plans, teams and the risk map")
    EMERGENCY_COMMAND = "emergency.command", _("Switch wartime mode and declare or change zones")
    EMERGENCY_PLAN = "emergency.plan", _("Keep command groups, plans, drills, teams and capacity")
    EMERGENCY_STAFF = "emergency.staff", _("Assign volunteers and sent-down cadres")
    # --- end of module actions -----------------------------------------------------------


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
    A.QUARANTINE_MANAGE,
    A.QUARANTINE_OVERRIDE,
    A.QUARANTINE_CHECK,
    A.QUARANTINE_TEST,
    A.QUARANTINE_SITES,
    A.QUARANTINE_SUPPORT,
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
    Role.INVESTIGATOR: _TR
    | {
        A.TRACING_INVESTIGATE,
        A.TRACING_REACH,
        A.TRACING_NOTICES,
        A.TRACING_MANAGE,
        A.TRACING_EXPORT,
    },
    Role.COUNTY_HQ: _TR | {A.TRACING_MANAGE, A.TRACING_NOTICES, A.TRACING_EXPORT},
    Role.TOWNSHIP: _TR | {A.TRACING_NOTICES},
    Role.VILLAGE_CADRE: _TR | {A.TRACING_NOTICES},
    Role.GRID_WORKER: _TR | {A.TRACING_REACH},
    Role.INSPECTOR: set(_TR),
}

MATRIX = {role: actions | _TRACING.get(role, set()) for role, actions in MATRIX.items()}


# Notices, one line per role:
# - county HQ and township send notices down to their area and follow the receipts;
# - village cadres send to their village's grid workers, doctors and posts, and follow them;
# - inspectors follow the receipts (who did not confirm the new rules);
# - everyone reads and confirms the notices addressed to them (no action needed for that).
_NOTICES: dict[Role, set[Action]] = {
    Role.COUNTY_HQ: {A.NOTICE_SEND, A.NOTICE_TRACK},
    Role.TOWNSHIP: {A.NOTICE_SEND, A.NOTICE_TRACK},
    Role.VILLAGE_CADRE: {A.NOTICE_SEND, A.NOTICE_TRACK},
    Role.INSPECTOR: {A.NOTICE_TRACK},
}

MATRIX = {role: actions | _NOTICES.get(role, set()) for role, actions in MATRIX.items()}

# Field-app devices: the cadres over an area and the administrators revoke a lost or replaced
# phone of a user whose whole jurisdiction lies inside theirs; everyone else only their own
# phones (no action needed for that).
_DEVICES: dict[Role, set[Action]] = {
    Role.COUNTY_HQ: {A.DEVICE_REVOKE},
    Role.TOWNSHIP: {A.DEVICE_REVOKE},
    Role.VILLAGE_CADRE: {A.DEVICE_REVOKE},
    Role.ADMIN: {A.DEVICE_REVOKE},
}

MATRIX = {role: actions | _DEVICES.get(role, set()) for role, actions in MATRIX.items()}

# --- reports: one line per role ---------------------------------------------------------
# - county HQ: reads every board, files the county roll-up, confirms closures, writes the
#   Word reports, sets the reporting deadline and records the dispatch meetings;
# - township: its board and villages' reports, files its roll-up, confirms its villages'
#   rectifications, writes Word reports of its area, holds its own dispatch meetings;
# - village cadre: the village board, files the village's daily or zero report, rectifies;
# - inspector: reads everything, runs self-inspection, raises problems and confirms closures
#   (the supervision office audits the work), writes the supervision bulletin;
# - everyone else: nothing (their work is in the modules the boards read).
_R = {A.REPORTS_BOARD, A.REPORTS_INSPECT, A.REPORTS_PROBLEMS}
_REPORTS: dict[Role, set[Action]] = {
    Role.COUNTY_HQ: _R
    | {
        A.REPORTS_DAILY,
        A.REPORTS_CONFIRM,
        A.REPORTS_DOCUMENTS,
        A.REPORTS_SETTINGS,
        A.REPORTS_DISPATCH,
    },
    Role.TOWNSHIP: _R
    | {A.REPORTS_DAILY, A.REPORTS_CONFIRM, A.REPORTS_DOCUMENTS, A.REPORTS_DISPATCH},
    Role.VILLAGE_CADRE: _R | {A.REPORTS_DAILY},
    Role.INSPECTOR: _R | {A.REPORTS_CONFIRM, A.REPORTS_DOCUMENTS},
}

MATRIX = {role: actions | _REPORTS.get(role, set()) for role, actions in MATRIX.items()}

# --- checkpoints: one line per role -----------------------------------------------------
# - county HQ and township: run the posts, pass cards and rosters of their area, push rules;
# - village cadre: runs the village's own posts and cards, and logs when standing at a post;
# - checkpoint staff: log passages at their post, check in for shifts, see their roster;
# - inspector: the unannounced night inspections (督查), reading everything else;
# - grid worker, doctor, investigator, testing, supply staff and administrator: nothing.
_CP = {A.CHECKPOINT_VIEW}
_CHECKPOINTS: dict[Role, set[Action]] = {
    Role.COUNTY_HQ: _CP | {A.CHECKPOINT_MANAGE, A.CHECKPOINT_INSPECT},
    Role.TOWNSHIP: _CP | {A.CHECKPOINT_MANAGE, A.CHECKPOINT_INSPECT},
    Role.VILLAGE_CADRE: _CP | {A.CHECKPOINT_MANAGE, A.CHECKPOINT_LOG},
    Role.CHECKPOINT_STAFF: _CP | {A.CHECKPOINT_LOG},
    Role.INSPECTOR: _CP | {A.CHECKPOINT_INSPECT},
}

MATRIX = {role: actions | _CHECKPOINTS.get(role, set()) for role, actions in MATRIX.items()}

# --- tipoffs: one line per role ---------------------------------------------------------
# - inspector (the supervision team): verifies tips and so sees the tipster's contact;
# - county HQ and township: verify tips of their area, enter hotline tips, pay rewards;
# - village cadre: verifies the tips sent to the village, enters hotline tips, pays rewards
#   from the village's prevention funds (the payer in the seeds);
# - grid worker: reads the village's tips (masked contact) and enters tips heard at doors;
# - every other role: nothing (a tipster's identity is not theirs to see).
_TO = {A.TIPOFF_VIEW}
_TIPOFFS: dict[Role, set[Action]] = {
    Role.INSPECTOR: _TO | {A.TIPOFF_VERIFY, A.TIPOFF_INTAKE},
    Role.COUNTY_HQ: _TO | {A.TIPOFF_VERIFY, A.TIPOFF_INTAKE, A.TIPOFF_REWARD},
    Role.TOWNSHIP: _TO | {A.TIPOFF_VERIFY, A.TIPOFF_INTAKE, A.TIPOFF_REWARD},
    Role.VILLAGE_CADRE: _TO | {A.TIPOFF_VERIFY, A.TIPOFF_INTAKE, A.TIPOFF_REWARD},
    Role.GRID_WORKER: _TO | {A.TIPOFF_INTAKE},
}

MATRIX = {role: actions | _TIPOFFS.get(role, set()) for role, actions in MATRIX.items()}

# --- supervision: one line per role -----------------------------------------------------
# - inspector: plans and carries out inspections, verifies rectification, opens and decides
#   disciplinary cases;
# - county HQ: the same (the supervision groups are led by county cadres);
# - township: inspects its villages and posts, reports rectification of its own findings;
# - village cadre: sees the findings of the village and reports their rectification;
# - every other role: nothing.
_SV = {A.SUPERVISION_VIEW}
_SUPERVISION: dict[Role, set[Action]] = {
    Role.INSPECTOR: _SV | {A.SUPERVISION_INSPECT, A.SUPERVISION_DISCIPLINE},
    Role.COUNTY_HQ: _SV | {A.SUPERVISION_INSPECT, A.SUPERVISION_DISCIPLINE, A.SUPERVISION_RECTIFY},
    Role.TOWNSHIP: _SV | {A.SUPERVISION_INSPECT, A.SUPERVISION_RECTIFY},
    Role.VILLAGE_CADRE: _SV | {A.SUPERVISION_RECTIFY},
}

MATRIX = {role: actions | _SUPERVISION.get(role, set()) for role, actions in MATRIX.items()}

# --- supplies: one line per role --------------------------------------------------------
# - supply officer (the keepers of the county and township stores): everything of the stock,
#   requests, purchases, donations, funds and prices;
# - county HQ and township: the same, for the stores and units of their area;
# - village cadre: reads the stores of the village, requests for the village and its posts,
#   reports prices of the village's shops;
# - checkpoint staff: read the stock that supplies the post and request what the post needs;
# - grid worker: reports the prices of the shops of the grid (哄抬物价 patrols);
# - inspector: reads everything, changes nothing;
# - village doctor, investigator, testing staff and administrator: nothing.
_SU = {A.SUPPLIES_VIEW}
_SU_ALL = _SU | {
    A.SUPPLIES_MOVE,
    A.SUPPLIES_MANAGE,
    A.SUPPLIES_REQUEST,
    A.SUPPLIES_FUNDS,
    A.SUPPLIES_PRICES,
}
_SUPPLIES: dict[Role, set[Action]] = {
    Role.SUPPLY_OFFICER: _SU_ALL,
    Role.COUNTY_HQ: _SU_ALL,
    Role.TOWNSHIP: _SU_ALL,
    Role.VILLAGE_CADRE: _SU | {A.SUPPLIES_REQUEST, A.SUPPLIES_PRICES},
    Role.CHECKPOINT_STAFF: _SU | {A.SUPPLIES_REQUEST},
    Role.GRID_WORKER: {A.SUPPLIES_PRICES},
    Role.INSPECTOR: set(_SU),
}

MATRIX = {role: actions | _SUPPLIES.get(role, set()) for role, actions in MATRIX.items()}

# --- places: one line per role ----------------------------------------------------------
# - county HQ and township: everything, and alone approve conditional gatherings and
#   enterprise resumptions (the 食安办 / township sign-off of the reports);
# - village cadre: keeps the village's places — registry, closures, inspections, gatherings,
#   school rosters, cold storages and pharmacy sales — but approves nothing;
# - grid worker: patrols — inspects places, logs disinfection, reports gatherings (十户联防);
# - village doctor: pharmacy sales (fever-drug buyers are followed up) and school checks;
# - checkpoint staff: the cold-chain gate (batches and their documents);
# - inspector: reads everything and inspects (covert checks as a customer), changes no record;
# - investigator: reads gatherings and places (exposure events start there);
# - testing staff, supply officer, administrator: nothing.
_P = {A.PLACES_VIEW}
_P_WORK = _P | {
    A.PLACES_MANAGE,
    A.PLACES_INSPECT,
    A.PLACES_GATHERINGS,
    A.PLACES_SCHOOLS,
    A.PLACES_COLD_CHAIN,
    A.PLACES_PHARMACY,
}
_PLACES: dict[Role, set[Action]] = {
    Role.COUNTY_HQ: _P_WORK | {A.PLACES_APPROVE},
    Role.TOWNSHIP: _P_WORK | {A.PLACES_APPROVE},
    Role.VILLAGE_CADRE: set(_P_WORK),
    Role.GRID_WORKER: _P | {A.PLACES_INSPECT, A.PLACES_GATHERINGS},
    Role.VILLAGE_DOCTOR: _P | {A.PLACES_PHARMACY, A.PLACES_SCHOOLS},
    Role.CHECKPOINT_STAFF: _P | {A.PLACES_COLD_CHAIN},
    Role.INSPECTOR: _P | {A.PLACES_INSPECT},
    Role.INVESTIGATOR: set(_P),
}

MATRIX = {role: actions | _PLACES.get(role, set()) for role, actions in MATRIX.items()}

# --- emergency: one line per role -------------------------------------------------------
# - county HQ: switches peacetime/wartime and declares zones (the county decides), keeps plans;
# - township: keeps its own 一办七组, plans, drills and teams, assigns volunteers and cadres;
# - village cadre: sees the zones and the map, assigns volunteers to its posts;
# - grid, doctor, checkpoint, investigator, testing, supply staff: see the zones they work in,
#   the wartime post they report to and the map;
# - inspector: reads everything (drills, gaps) to supervise; administrator: nothing.
_EM = {A.EMERGENCY_VIEW}
_EMERGENCY: dict[Role, set[Action]] = {
    Role.COUNTY_HQ: _EM | {A.EMERGENCY_COMMAND, A.EMERGENCY_PLAN, A.EMERGENCY_STAFF},
    Role.TOWNSHIP: _EM | {A.EMERGENCY_PLAN, A.EMERGENCY_STAFF},
    Role.VILLAGE_CADRE: _EM | {A.EMERGENCY_STAFF},
    Role.GRID_WORKER: set(_EM),
    Role.VILLAGE_DOCTOR: set(_EM),
    Role.CHECKPOINT_STAFF: set(_EM),
    Role.INVESTIGATOR: set(_EM),
    Role.TESTING_STAFF: set(_EM),
    Role.SUPPLY_OFFICER: set(_EM),
    Role.INSPECTOR: set(_EM),
}

MATRIX = {role: actions | _EMERGENCY.get(role, set()) for role, actions in MATRIX.items()}

# --- end of module tables ---------------------------------------------------------------


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
