"""The modules of Fangkong shown in the navigation (DESIGN.md), and which exist yet.

A module that is not built yet has no URL of its own: it links to an honest
"not yet available" page, never to fake data.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Module:
    slug: str
    title: str
    url_name: str | None  # None: not yet available
    description: str


MODULES = (
    Module("regions", _("区划与网格"), "web:regions", _("县、乡镇、村、组的区划树与人数")),
    Module("people", _("人员登记"), "web:persons", _("户与人员的登记、查询与修改")),
    Module("households", _("户"), "web:households", _("按网格管理的户与十户联防")),
    Module("tasks", _("后台任务"), "web:tasks", _("导入等长时任务的进度")),
    Module("screening", _("排查与台账"), None, _("返乡人员多来源名单、比对、风险地区、管控政策")),
    Module("quarantine", _("隔离管控"), None, _("隔离令、隔离点与房间、每日两次体温、解除")),
    Module("tracing", _("流调溯源"), None, _("病例、聚集事件、密接与次密接、传播链、协查")),
    Module("testing", _("核酸检测"), None, _("检测轮次、采样点、混管、结果、召回与覆盖率")),
    Module("checkpoints", _("卡点值守"), None, _("卡点、通行登记、排班、夜间抽查")),
    Module("supplies", _("物资保障"), None, _("18类物资库存、调拨、可用天数预警")),
    Module("tipoffs", _("举报奖惩"), None, _("群众举报、核实、奖励与处罚")),
    Module("supervision", _("督导检查"), None, _("检查、问题、整改期限、问责")),
    Module("emergency", _("应急处置"), None, _("封控区、预案演练、队伍、平战转换、通知")),
    Module("reports", _("统计报告"), None, _("日报汇总、自查、Word 报告")),
)

MODULES_BY_SLUG = {m.slug: m for m in MODULES}
