"""Benchmark: a police list and a village list as they really disagree, with known truth.

    .venv/bin/python bench/screening_linkage_hard.py [--records 300000] [--seed 11]
    .venv/bin/python bench/screening_linkage_hard.py --records 30000 --per-village

Harder than ``screening_linkage.py``: its noise is designed from how the lists are typed,
and from the errors that cost a village a penalty. Both lists come from one synthetic county
(``fangkong.synth.iter_county``), then:

- **partial overlap**: a quarter of the people are only in the police list, a quarter only in
  the village list, half in both (not 95 % in both): a third of each list has no partner;
- **repeated names**: 4 % of the people of each township carry one of the commonest names
  (张伟, 王伟, 李娜, 王芳 …);
- **ID numbers one edit from a neighbour's**: for 1.5 % of the people, a neighbour (same
  village, or another village of the township) has a valid number one digit or one adjacent
  swap away from theirs (check digit recomputed, birth date and sex as the number says);
  40 % of these people's village entries (5 % of their police entries) carry the neighbour's
  number — the typo that makes a neighbour "reported by the village";
- other typed ID numbers: 3 % of the village numbers (1 % of the police ones) mistyped — a
  digit changed with the check digit recomputed (valid), two adjacent digits swapped (valid),
  or a digit changed without it (invalid) —, 1 % in the old 15-digit form; 30 % of village
  entries and 4 % of police entries without a number;
- names: homophones (伟/维/玮, 丽/莉, drawn from the roster's own characters sharing a
  sound) on 5 % of village entries (1 % police), look-alike characters (己/已, 玲/铃, 娟/绢 …)
  on 1.5 % (0.5 %), a random wrong character on 1 %;
- birth dates on the village list: missing 8 %, one digit wrong 2 %, day and month swapped
  1 %, two adjacent digits swapped 0.5 %; sex missing 10 %, wrong 0.3 %; phone missing 10 %,
  a new number 15 %; address missing 20 %, abbreviated 30 %;
- levels: the police list names the village (12 digits), the village list the group
  (15 digits), 5 % of them the wrong group of the right village.

Runs :func:`fangkong.screening.linkage.link` once over the whole lists (``--per-village``:
once per village, as a reconciliation run per village would) and prints precision and recall
of the automatic links, the true pairs left for review, the recall of both together, and
"wrong person linked" split by cause (targets: precision ≥ 0.999, recall with review ≥ 0.99,
< 5 min). Works against older versions of the linker too (no ``area``, no ``auto``), so the
same lists measure the code before and after a change. The generator is seeded: the same
``--records`` and ``--seed`` give the same lists.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import resource
import sys
import time
from collections import Counter, defaultdict


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


COMMON_NAMES = {
    "M": "张伟 王伟 李伟 刘伟 王磊 李强 张勇 王勇 李军 王军 张磊 刘洋 王强 李杰 张涛 王涛 李明 "
    "王刚",
    "F": "王芳 李娜 张敏 王静 李静 张丽 王丽 李丽 刘芳 张静 王秀英 李秀英 张秀英 王敏 李敏 王燕",
}
# Look-alike characters as a typist copies them (形近字); not the linker's own table.
LOOKALIKES = _words(
    "己已 未末 玉王 凤风 娟绢 玲铃 萍苹 琳淋 慧惠 颖颍 晶品 雪雷 娜哪 红江 芳坊 怡恰 萱宣 "
    "诗侍 琪棋 彤形 悦锐 依衣 瑶遥 妍研 菲斐 宁宇 钰钮 淑椒 桂娃 英央 珍诊 芝之 芬纷 素索 "
    "霞暇 翠萃 梅悔 莲连 洁浩 娥峨 彩采 春舂 贵贯 金全 军车 刚冈 峰锋 辉挥 波坡 龙尤 博搏 "
    "泽择 晨辰 阳阴 昊吴 思恩 远运 嘉喜 奕弈 锦绵 程呈 佳住 瑞端 杰态 涛涝 斌赋 鹏朋 建健 "
    "俊浚 航杭 秀禾 兰兴 文丈 明朋 永水 福副 林材 廷延 庆床 振赈 忠患 宝室 才寸 荣劳 亮高 "
    "平乎 新亲 国固 学字 子了 涵函 天夫 铭铬 哲折 雨两 语悟 可司 艳绝 冬各 丹册 微徽 静睁"
)


def _edit_variants(number: str, check_char, start: int = 6) -> list[tuple[str, str]]:
    """One-edit variants of a number's first 17 digits from digit ``start`` on, the check
    character recomputed: (kind, number)."""
    body = number[:17]
    out = []
    for i in range(start, 17):
        for d in "0123456789":
            if d != body[i]:
                v = body[:i] + d + body[i + 1 :]
                out.append(("digit", v + check_char(v)))
    for i in range(start, 16):
        if body[i] != body[i + 1]:
            v = body[:i] + body[i + 1] + body[i] + body[i + 2 :]
            out.append(("swap", v + check_char(v)))
    return out


def build(records: int, seed: int):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangkong.settings")
    import django

    django.setup()
    from fangkong.core import idnumbers, names
    from fangkong.screening.linkage import Rec
    from fangkong.synth import iter_county

    has_area = "area" in Rec.__dataclass_fields__
    rng = random.Random(f"screening-linkage-hard:{seed}")
    population = int(records / 0.75 * 1.02) + 50
    addresses: dict[str, str] = {}
    grids: dict[str, list[str]] = defaultdict(list)
    people: list[list] = []
    for kind, row in iter_county(residents=population, seed=seed):
        if kind == "household":
            addresses[row[0]] = row[2]
        elif kind == "region" and row[2] == "grid":
            grids[row[3]].append(row[0])
        elif kind == "person":
            # row, id_number, name, sex, birth (date), phone, household, grid
            people.append(
                [row[0], row[1], row[2], row[3], dt.date.fromisoformat(row[4]), *row[5:8]]
            )
    noise: Counter[str] = Counter()

    # Repeated names: the commonest names, 4 % of each township.
    common = {sex: text.split() for sex, text in COMMON_NAMES.items()}
    for person in people:
        if rng.random() < 0.04:
            person[2] = rng.choice(common[person[3]])
            noise["renamed to a common name"] += 1

    # Neighbours whose valid number is one edit from a person's.
    today = dt.date(2025, 12, 31)
    by_id = {p[1]: k for k, p in enumerate(people)}
    by_village: dict[str, list[int]] = defaultdict(list)
    by_township: dict[str, list[int]] = defaultdict(list)
    for k, p in enumerate(people):
        by_village[p[7][:12]].append(k)
        by_township[p[7][:9]].append(k)
    touched: set[int] = set()
    anchor: dict[int, str] = {}  # person index -> the neighbour's number one edit away
    for k, p in enumerate(people):
        if rng.random() >= 0.015 or k in touched:
            continue
        pool = by_village[p[7][:12]] if rng.random() < 0.7 else by_township[p[7][:9]]
        n = pool[int(rng.random() * len(pool))]
        if n == k or n in touched:
            continue
        neighbour = people[n]
        options = []
        for kind, v in _edit_variants(p[1], idnumbers.check_char):
            if v in by_id or (int(v[16]) % 2 == 1) != (neighbour[3] == "M"):
                continue
            try:
                born = dt.date(int(v[6:10]), int(v[10:12]), int(v[12:14]))
            except ValueError:
                continue
            if dt.date(1920, 1, 1) <= born <= today:
                options.append((kind, v, born))
        if not options:
            continue
        kind, v, born = options[int(rng.random() * len(options))]
        del by_id[neighbour[1]]
        neighbour[1], neighbour[4] = v, born
        by_id[v] = n
        touched.update((k, n))
        anchor[k] = v
        noise[f"neighbour one {kind} away"] += 1
        if neighbour[7][:12] != p[7][:12]:
            noise["neighbour in another village"] += 1

    by_sound: dict[str, list[str]] = defaultdict(list)
    for p in people[:30000]:
        for ch in p[2][1:]:
            sound = names.char_pinyin(ch)
            if ch not in by_sound[sound]:
                by_sound[sound].append(ch)
    looks: dict[str, list[str]] = defaultdict(list)
    for group in LOOKALIKES:
        for ch in group:
            looks[ch].extend(c for c in group if c != ch)
    chars = sorted({ch for p in people[:30000] for ch in p[2][1:]})

    def typo(number: str, what: str) -> str:
        """A typed number: a valid one-edit variant (45 % a digit, 25 % a swap, the check
        digit recomputed), else a digit changed without recomputing the check digit."""
        r = rng.random()
        if r < 0.7:
            kind = "digit" if r < 0.45 else "swap"
            options = [v for k, v in _edit_variants(number, idnumbers.check_char, 0) if k == kind]
            for _ in range(20):
                v = options[int(rng.random() * len(options))]
                if v not in by_id and idnumbers.is_valid(v):
                    noise[f"{what}: valid number, one {kind} off"] += 1
                    return v
        i = rng.randrange(0, 17)
        noise[f"{what}: digit changed, check not recomputed"] += 1
        return number[:i] + str((int(number[i]) + rng.randrange(1, 10)) % 10) + number[i + 1 :]

    def rename(name: str, homophone: float, lookalike: float, wrong: float, what: str) -> str:
        r = rng.random()
        if len(name) < 2 or r >= homophone + lookalike + wrong:
            return name
        i = rng.randrange(1, len(name))
        if r < homophone:
            options = [c for c in by_sound.get(names.char_pinyin(name[i]), ()) if c != name[i]]
            label = "homophone"
        elif r < homophone + lookalike:
            options = looks.get(name[i], [])
            label = "look-alike"
        else:
            options, label = chars, "wrong character"
        if not options:
            return name
        noise[f"{what}: {label}"] += 1
        return name[:i] + rng.choice(options) + name[i + 1 :]

    def retype_birth(born: dt.date) -> dt.date | None:
        r = rng.random()
        if r < 0.08:
            noise["village: birth date missing"] += 1
            return None
        if r < 0.09 and born.day <= 12 and born.day != born.month:
            noise["village: day and month swapped"] += 1
            return dt.date(born.year, born.day, born.month)
        if 0.09 <= r < 0.115:
            swap = r >= 0.11
            text = f"{born:%Y%m%d}"
            for _ in range(10):
                if swap:
                    i = rng.randrange(2, 7)
                    t = text[:i] + text[i + 1] + text[i] + text[i + 2 :]
                else:
                    i = rng.randrange(2, 8)
                    t = text[:i] + str(rng.randrange(10)) + text[i + 1 :]
                try:
                    other = dt.date(int(t[:4]), int(t[4:6]), int(t[6:]))
                except ValueError:
                    continue
                if other != born:
                    what = "two digits swapped" if swap else "one digit wrong"
                    noise[f"village: birth date {what}"] += 1
                    return other
        return born

    areas: dict[tuple[str, int], str] = {}

    def rec(key, name, number, sex, born, phone, address, area) -> Rec:
        areas[key] = area
        extra = {"area": area} if has_area else {}
        return Rec(key, name, number, sex, born, phone, address, **extra)

    police, village = [], []
    for k, p in enumerate(people):
        row, number, name, sex, born, phone, household, grid = p
        address = addresses.get(household, "")
        u = rng.random()
        if u < 0.75:
            pid = number if rng.random() < 0.96 else ""
            if pid and k in anchor and rng.random() < 0.05:
                pid = anchor[k]
                noise["police: the neighbour's number"] += 1
            elif pid and rng.random() < 0.01:
                pid = typo(pid, "police")
            pphone = phone if rng.random() < 0.88 else ""
            if pphone and rng.random() < 0.06:
                pphone = "13" + str(rng.randrange(10**8, 10**9))
            police.append(
                rec(
                    ("p", row),
                    rename(name, 0.01, 0.005, 0.0, "police"),
                    pid,
                    sex if rng.random() < 0.98 else "",
                    born if rng.random() < 0.92 else None,
                    pphone,
                    address,
                    grid[:12],
                )
            )
        if u >= 0.25:
            vid = number if rng.random() < 0.7 else ""
            if vid and k in anchor and rng.random() < 0.4:
                vid = anchor[k]
                noise["village: the neighbour's number"] += 1
            elif vid:
                r = rng.random()
                if r < 0.01 and born.year < 2000:  # 15-digit cards ended in the 2000s
                    vid = vid[:6] + vid[8:17]
                    noise["village: old 15-digit number"] += 1
                elif r < 0.04:
                    vid = typo(vid, "village")
            vsex = sex if rng.random() >= 0.1 else ""
            if vsex and rng.random() < 0.003:
                vsex = "F" if sex == "M" else "M"
                noise["village: wrong sex"] += 1
            r = rng.random()
            vphone = (
                phone if r >= 0.25 else ("" if r < 0.1 else "13" + str(rng.randrange(10**8, 10**9)))
            )
            r = rng.random()
            vaddress = "" if r < 0.2 else (address.split("村", 1)[-1] if r < 0.5 else address)
            varea = grid
            if rng.random() < 0.05:
                siblings = grids[grid[:12]]
                varea = siblings[int(rng.random() * len(siblings))]
                if varea != grid:
                    noise["village: wrong group of the village"] += 1
            village.append(
                rec(
                    ("v", row),
                    rename(name, 0.05, 0.015, 0.01, "village"),
                    vid,
                    vsex,
                    retype_birth(born),
                    vphone,
                    vaddress,
                    varea,
                )
            )
        if len(police) >= records and len(village) >= records:
            break
    rng.shuffle(police)
    rng.shuffle(village)
    villages = {p[0]: p[7][:12] for p in people}
    numbers = {p[0]: p[1] for p in people}
    return police[:records], village[:records], noise, villages, numbers, areas


def _link_per_village(police, village, areas, link):
    """One call per village, as a reconciliation run per village makes."""
    left: dict[str, list] = defaultdict(list)
    right: dict[str, list] = defaultdict(list)
    for r in police:
        left[areas[r.key][:12]].append(r)
    for r in village:
        right[areas[r.key][:12]].append(r)
    links = []
    for code, records in left.items():
        links.extend(link(records, right.get(code, [])))
    return links


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=300_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--per-village", action="store_true", help="link village by village")
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")
    started = time.perf_counter()
    police, village, noise, villages, numbers, areas = build(args.records, args.seed)
    print(
        f"generated {len(police):,} police and {len(village):,} village records "
        f"in {time.perf_counter() - started:.1f} s"
    )
    for what, n in sorted(noise.items()):
        print(f"  {what}: {n:,}")
    from fangkong.screening import linkage

    started = time.perf_counter()
    if args.per_village:
        links = _link_per_village(police, village, areas, linkage.link)
    else:
        links = linkage.link(police, village)
    seconds = time.perf_counter() - started
    by_key = {r.key: r for r in police}
    by_key.update({r.key: r for r in village})
    truth = {r.key[1] for r in police} & {r.key[1] for r in village}

    def automatic(lk) -> bool:
        return getattr(lk, "auto", lk.score >= linkage.AUTO_LINK)

    auto = [lk for lk in links if automatic(lk)]
    review = [lk for lk in links if not automatic(lk)]
    correct = sum(1 for lk in auto if lk.left[1] == lk.right[1])
    review_true = sum(1 for lk in review if lk.left[1] == lk.right[1])
    wrong: Counter[str] = Counter()  # by cause
    among: Counter[str] = Counter()  # overlapping facts about the same wrong links
    for lk in auto:
        a, b = lk.left[1], lk.right[1]
        if a == b:
            continue
        left_id, right_id = by_key[lk.left].id_number, by_key[lk.right].id_number
        if villages[a] != villages[b]:
            wrong["a person of another village"] += 1
        elif left_id and left_id == right_id:
            wrong["the same (mistyped) ID number"] += 1
        else:
            wrong["other"] += 1
        if a in truth:
            among["the record's own person was in the other list"] += 1
        if left_id == numbers[b] or right_id == numbers[a]:
            among["a number typed as the other person's"] += 1
    by_method = Counter(lk.method for lk in auto)
    precision = correct / len(auto) if auto else 0.0
    recall = correct / len(truth) if truth else 0.0
    print(
        f"true pairs: {len(truth):,}; automatic links: {len(auto):,} ({dict(by_method)}); "
        f"for review: {len(review):,} ({review_true:,} true)"
    )
    print(f"precision of automatic links {precision:.4f} (target ≥ 0.999), recall {recall:.4f}")
    both = (correct + review_true) / len(truth) if truth else 0.0
    print(f"recall of automatic links plus the review band {both:.4f} (target ≥ 0.99)")
    print(f"wrong person linked automatically: {len(auto) - correct:,}")
    for cause, n in sorted(wrong.items()):
        print(f"  {cause}: {n:,}")
    for fact, n in sorted(among.items()):
        print(f"  … of which {fact}: {n:,}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"linkage wall time: {seconds:.1f} s (target < 300 s); peak memory {peak:,.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
