"""The checklist per kind of place, each line under one of the nine aspects (对照9个方面).

Data, not code paths: a new line here is a new line on the next inspection's checklist.
"""

from __future__ import annotations

from fangkong.core.inspection import Aspect

from .models import PlaceKind

CHECKLISTS: dict[str, list[tuple[str, str]]] = {
    PlaceKind.VILLAGE: [
        (Aspect.THINKING, "村两委班子对当前防控形势认识到位，能说清本村防控要求"),
        (Aspect.LEADERSHIP, "包村干部、网格员在岗在位，分工明确"),
        (Aspect.SYSTEM, "返乡人员排查台账完整，逐户逐人登记"),
        (Aspect.RISK, "居家隔离人员每日两次体温记录齐全"),
        (Aspect.PUBLICITY, "防控宣传标语、广播到位，群众知晓举报方式"),
        (Aspect.DISCIPLINE, "值班人员无饮酒、脱岗、漏岗现象"),
        (Aspect.EMERGENCY, "有应急预案和应急处置人员名单"),
        (Aspect.SUPPLIES, "口罩、消毒液、体温计等物资储备充足"),
    ],
    PlaceKind.CHECKPOINT: [
        (Aspect.LEADERSHIP, "卡点 24 小时值守，每班不少于 2 人"),
        (Aspect.DISCIPLINE, "值守人员在岗、未睡岗、未饮酒"),
        (Aspect.RISK, "过往人员逐一测温、登记，车辆逐车检查"),
        (Aspect.SYSTEM, "登记簿记录完整、字迹清楚"),
        (Aspect.PUBLICITY, "卡点有明显标识和防控告示"),
        (Aspect.SUPPLIES, "测温枪、口罩、消毒用品齐备"),
    ],
    PlaceKind.ISOLATION_SITE: [
        (Aspect.RISK, "隔离人员单人单间，不串门"),
        (Aspect.RISK, "每日两次体温监测记录齐全"),
        (Aspect.SYSTEM, "医疗废物按规定收集处置"),
        (Aspect.DISCIPLINE, "工作人员在岗，防护到位"),
        (Aspect.EMERGENCY, "发热转诊流程清楚，车辆落实"),
        (Aspect.SUPPLIES, "生活物资和防护物资保障到位"),
    ],
    PlaceKind.MARKET: [
        (Aspect.RISK, "入口测温、查验健康码，顾客佩戴口罩"),
        (Aspect.SYSTEM, "每日消毒并有记录"),
        (Aspect.SYSTEM, "进货台账规范，冷链食品可追溯"),
        (Aspect.PUBLICITY, "张贴防控须知"),
        (Aspect.DISCIPLINE, "无聚集、无违规营业"),
    ],
}
