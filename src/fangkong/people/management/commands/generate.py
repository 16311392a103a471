"""fangkong generate --residents N --seed S --out DIR [--county CODE]"""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from fangkong.synth import generate_county


class Command(BaseCommand):
    help = (
        "Write a synthetic county as CSV files (regions, households, units, persons, "
        "manifest.json). 生成合成县数据：真实的省市县乡代码，生成的村、组、户和人员。"
        "Same --residents, --seed and --county give identical files. Example: "
        "fangkong generate --residents 50000 --seed 1 --out var/county"
    )

    def add_arguments(self, parser):
        parser.add_argument("--residents", type=int, required=True, help="number of persons")
        parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
        parser.add_argument("--out", required=True, help="output folder (created if missing)")
        parser.add_argument(
            "--county", default="230231", help="6-digit county code (default 230231 拜泉县)"
        )

    def handle(self, *args, **options):
        residents = options["residents"]
        if residents < 1:
            raise CommandError("--residents 必须大于 0")
        interactive = sys.stdout.isatty()

        def progress(done: int, total: int) -> None:
            line = f"已生成 {done:,} / {total:,} 人 ({done * 100 // max(total, 1)}%)"
            if interactive:
                self.stdout.write("\r" + line, ending="")
            else:
                self.stdout.write(line)
            self.stdout.flush()

        try:
            summary = generate_county(
                residents=residents,
                seed=options["seed"],
                out_dir=Path(options["out"]),
                county_code=options["county"],
                progress=progress,
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if interactive:
            self.stdout.write("")
        self.stdout.write(
            f"{summary.county_name}（{summary.county_code}）：{summary.residents:,} 人，"
            f"{summary.households:,} 户，{summary.units:,} 个十户联防单元，"
            f"{summary.townships} 个乡镇，{summary.villages:,} 个村（社区），"
            f"{summary.groups:,} 个组（网格）；用时 {summary.seconds:.1f} 秒 → {summary.out_dir}"
        )
