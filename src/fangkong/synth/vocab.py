"""Word lists for the synthetic county: surnames, given-name characters, place-name stems.

Surname weights are per-mille shares from the 2020 census name report (公安部户政管理研究
中心《二〇二〇年全国姓名报告》) for the leading surnames, smoothed for the rest, so that a
generated county has as many 王, 李 and 张 as a real one in the north-east. Given-name
characters differ by generation and sex (a woman born in 1950 is 淑珍 or 桂兰, one born in
2010 is 欣怡 or 梓涵), which is what makes a roster look real to a cadre reading it.
"""

from __future__ import annotations


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# (surname, weight): weights are roughly per-mille of the national population.
SURNAMES: tuple[tuple[str, float], ...] = (
    ("王", 74.0),
    ("李", 72.0),
    ("张", 68.0),
    ("刘", 54.0),
    ("陈", 46.0),
    ("杨", 31.0),
    ("黄", 23.0),
    ("赵", 22.0),
    ("吴", 20.0),
    ("周", 19.0),
    ("徐", 14.0),
    ("孙", 14.0),
    ("马", 13.0),
    ("朱", 12.0),
    ("胡", 11.0),
    ("郭", 11.0),
    ("何", 10.0),
    ("林", 9.0),
    ("高", 9.5),
    ("罗", 8.5),
    ("郑", 8.0),
    ("梁", 7.5),
    ("谢", 6.5),
    ("宋", 6.5),
    ("唐", 6.0),
    ("许", 5.5),
    ("韩", 5.5),
    ("邓", 5.0),
    ("冯", 5.0),
    ("曹", 5.0),
    ("彭", 4.5),
    ("曾", 4.5),
    ("肖", 4.5),
    ("田", 4.5),
    ("董", 4.5),
    ("潘", 4.0),
    ("袁", 4.0),
    ("蔡", 4.0),
    ("蒋", 4.0),
    ("余", 3.5),
    ("于", 5.0),
    ("杜", 3.5),
    ("叶", 3.5),
    ("程", 3.5),
    ("魏", 3.5),
    ("苏", 3.0),
    ("吕", 3.0),
    ("丁", 3.0),
    ("任", 3.0),
    ("卢", 3.0),
    ("姚", 3.0),
    ("沈", 3.0),
    ("钟", 2.5),
    ("姜", 3.5),
    ("崔", 3.0),
    ("谭", 2.5),
    ("陆", 2.5),
    ("范", 2.5),
    ("汪", 2.5),
    ("廖", 2.5),
    ("石", 2.5),
    ("金", 2.5),
    ("韦", 2.0),
    ("贾", 2.5),
    ("夏", 2.0),
    ("付", 2.0),
    ("方", 2.0),
    ("邹", 2.0),
    ("熊", 2.0),
    ("白", 2.0),
    ("孟", 2.0),
    ("秦", 2.0),
    ("邱", 2.0),
    ("侯", 2.0),
    ("江", 1.5),
    ("尹", 1.5),
    ("薛", 1.5),
    ("闫", 2.0),
    ("段", 1.5),
    ("雷", 1.5),
    ("龙", 1.2),
    ("黎", 1.2),
    ("史", 1.5),
    ("陶", 1.2),
    ("贺", 1.2),
    ("毛", 1.2),
    ("郝", 1.5),
    ("顾", 1.2),
    ("龚", 1.0),
    ("邵", 1.2),
    ("万", 1.0),
    ("覃", 0.5),
    ("武", 1.5),
    ("钱", 1.0),
    ("戴", 1.0),
    ("严", 1.0),
    ("莫", 0.6),
    ("孔", 1.0),
    ("向", 0.6),
    ("常", 1.2),
    ("汤", 0.8),
    ("康", 1.0),
    ("易", 0.6),
    ("乔", 1.0),
    ("赖", 0.5),
    ("文", 0.8),
    ("齐", 1.0),
    ("单", 0.5),
    ("解", 0.3),
    ("关", 1.0),
    ("庞", 0.8),
    ("曲", 0.8),
    ("鲍", 0.6),
    ("柴", 0.5),
    ("隋", 0.4),
    ("宫", 0.5),
    ("栾", 0.3),
    ("佟", 0.4),
)

# Given-name characters by (sex, generation). Generations: 0 born before 1960, 1 born
# 1960–1989, 2 born 1990 or later.
GIVEN_CHARS: dict[tuple[str, int], str] = {
    ("M", 0): "国建德志文明永福贵富有春占海山林祥成树金玉廷凤庆长发振忠宝才义财兴荣",
    ("M", 1): "伟强磊军勇杰涛斌超刚峰辉明鹏波华宇飞东亮建平新庆春海龙立国军红卫忠学",
    ("M", 2): "浩宇轩子涵博文俊杰泽睿晨阳一鑫昊然思远宸铭皓天嘉奕航铄霖锦程佳瑞哲",
    ("F", 0): "淑秀桂兰凤英玉珍芝华荣琴芬素云霞翠梅香春莲敏静洁贞娥彩丽",
    ("F", 1): "丽艳红静敏燕娟霞芳玲慧颖晶雪梅娜杰凤华莉萍琳洁秋冬丹岩微",
    ("F", 2): "欣怡子涵梓萱诗雨佳琪思彤语嘉悦馨可一依晨瑶雪婷梦琳妍菲宁钰",
}

# Stems for generated villages (…村) and communities (…社区) and the streets of town seats.
VILLAGE_STEMS = _words(
    "永胜 东兴 新立 前进 红旗 胜利 长兴 太平 向阳 兴隆 建国 民主 团结 和平 东升 四合 双利 "
    "三合 五一 新民 永安 永发 丰收 友谊 光明 永丰 新华 新兴 庆丰 保安 复兴 宏伟 东风 红星 "
    "永久 德胜 平安 兴旺 福兴 富民 永兴 新发 新胜 合心 青山 北山 南岗 西河 东方 长胜 万宝 "
    "天增 大有 同心 治安 兴业 安乐 富裕 永合 双井 靠山 长发 福山 德利 永乐 新生 兴仁 丰乐 "
    "长山 永利 复生 金山 双河 利民 新合 中和 永泉 宝山 兴福 福来 新荣"
)
VILLAGE_PREFIXES = ("", "东", "西", "南", "北", "前", "后", "新")
COMMUNITY_STEMS = _words(
    "东升 新华 建设 文化 繁荣 光明 和平 振兴 中心 站前 北苑 南苑 育才 兴安 锦绣 幸福 阳光 "
    "康宁 朝阳 民主 团结 红星 永安 富民 长青 秀水 春华 金桥 翠园 龙泉"
)
STREETS = _words(
    "建设路 文化路 中央大街 人民路 兴华街 新华路 解放路 胜利街 友谊路 光明街 "
    "和平路 民主街 团结路 站前路 育才街 东风路 北环路 南环路 繁荣街 朝阳路"
)

CHINESE_NUMERALS = "零一二三四五六七八九"

# Mobile number segments in use (三大运营商 and virtual operators).
MOBILE_PREFIXES = _words(
    "130 131 132 133 134 135 136 137 138 139 145 147 150 151 152 153 155 156 157 158 "
    "159 166 172 173 175 176 177 178 180 181 182 183 184 185 186 187 188 189 191 198 "
    "199"
)


def chinese_number(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 23 → 二十三, 105 → 一百零五 (for 第N组, N < 1000)."""
    if n < 10:
        return CHINESE_NUMERALS[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        head = "" if tens == 1 else CHINESE_NUMERALS[tens]
        return head + "十" + (CHINESE_NUMERALS[ones] if ones else "")
    hundreds, rest = divmod(n, 100)
    if rest == 0:
        return CHINESE_NUMERALS[hundreds] + "百"
    if rest < 10:
        return CHINESE_NUMERALS[hundreds] + "百零" + CHINESE_NUMERALS[rest]
    tail = chinese_number(rest)
    if rest < 20:
        tail = "一" + tail
    return CHINESE_NUMERALS[hundreds] + "百" + tail
