"""The 13 offences of the cadre discipline code (002 「饮酒上岗、工作不实、擅自脱岗漏岗等13项行为」)."""

from django.db import migrations

OFFENCES = [
    "饮酒上岗",
    "擅自脱岗、漏岗",
    "工作不实、敷衍应付",
    "值守期间睡岗",
    "瞒报、漏报、谎报、迟报、错报疫情信息",
    "不服从统一调度指挥",
    "对群众举报推诿扯皮、不及时核实",
    "个人防护不到位、违规作业",
    "违规放行未登记人员和车辆",
    "泄露群众个人信息",
    "借防控之机吃拿卡要",
    "组织或参与聚餐聚集",
    "态度粗暴、侵害群众合法权益",
]


def add(apps, schema_editor):
    Offence = apps.get_model("supervision", "Offence")
    for position, name in enumerate(OFFENCES, start=1):
        Offence.objects.get_or_create(position=position, defaults={"name": name})


def remove(apps, schema_editor):
    apps.get_model("supervision", "Offence").objects.filter(name__in=OFFENCES).delete()


class Migration(migrations.Migration):
    dependencies = [("supervision", "0001_initial")]

    operations = [migrations.RunPython(add, remove)]
