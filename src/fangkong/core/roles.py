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
    COUNTY_HQ = "county_hq", _("县指挥部")
    TOWNSHIP = "township", _("乡镇（街道）办")
    VILLAGE_CADRE = "village_cadre", _("村（社区）干部")
    GRID_WORKER = "grid_worker", _("网格员")
    VILLAGE_DOCTOR = "village_doctor", _("村医")
    CHECKPOINT_STAFF = "checkpoint_staff", _("卡点值守人员")
    INVESTIGATOR = "investigator", _("流调人员")
    TESTING_STAFF = "testing_staff", _("核酸检测人员")
    SUPPLY_OFFICER = "supply_officer", _("物资管理员")
    INSPECTOR = "inspector", _("督导检查人员")
    ADMIN = "admin", _("系统管理员")


class Action(models.TextChoices):
    REGION_VIEW = "region.view", _("查看区划")
    REGION_MANAGE = "region.manage", _("维护区划")
    HOUSEHOLD_VIEW = "household.view", _("查看户")
    HOUSEHOLD_EDIT = "household.edit", _("新增、修改户")
    PERSON_VIEW = "person.view", _("查看人员")
    PERSON_CREATE = "person.create", _("登记人员")
    PERSON_EDIT = "person.edit", _("修改人员")
    PERSON_IMPORT = "person.import", _("导入人员")
    PERSON_EXPORT = "person.export", _("导出人员")
    VIEW_ID_NUMBER = "person.view_id_number", _("查看完整身份证号")
    VIEW_PHONE = "person.view_phone", _("查看完整电话")
    HISTORY_VIEW = "person.history", _("查看修改记录")
    AUDIT_VIEW = "audit.view", _("查看审计日志")
    USER_MANAGE = "user.manage", _("管理用户")


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
#   unless also given a role that needs more.
MATRIX: dict[Role, frozenset[Action]] = {
    Role.COUNTY_HQ: frozenset(
        _READ | _REGISTRY_EDIT | _FULL_CONTACT | {A.PERSON_IMPORT, A.PERSON_EXPORT, A.AUDIT_VIEW}
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
        _READ | {A.REGION_MANAGE, A.USER_MANAGE, A.AUDIT_VIEW, A.HISTORY_VIEW}
    ),
}


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
