"""fangkong load DIR [--background] — load a generated county folder into the database."""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from fangkong.core.errors import ValidationFailed
from fangkong.core.models import User
from fangkong.people.bulk_import import ImportFailed, load_county_dir
from fangkong.people.tasks import enqueue_county_import

SHOWN_ERRORS = 50


class Command(BaseCommand):
    help = (
        "Load a county folder (regions.csv, households.csv, units.csv, persons.csv, as written "
        "by `fangkong generate`) into the database in one transaction: every row is checked, "
        "bad rows are listed and skipped, re-running the same folder adds nothing. "
        "导入县数据文件夹：逐行校验，错误行列出并跳过，重复导入不会重复登记。"
        "Example: fangkong load var/county  (or --background to run it in `fangkong worker`)"
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", help="folder with the four CSV files")
        parser.add_argument(
            "--background",
            action="store_true",
            help="queue the load for the background worker and print the task number",
        )
        parser.add_argument(
            "--user",
            default="",
            help="username the load is done for (its jurisdiction limits the rows accepted)",
        )
        parser.add_argument("--label", default="", help="source file name stored on each person")

    def handle(self, *args, **options):
        folder = Path(options["directory"])
        user = None
        if options["user"]:
            user = User.objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"用户 {options['user']} 不存在")
        if options["background"]:
            try:
                record = enqueue_county_import(user=user, path=folder)
            except ValidationFailed as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(
                f"已排队：后台任务 #{record.pk}（{record.title}），由 fangkong worker 执行"
            )
            return
        interactive = sys.stdout.isatty()
        last = [-1]

        def progress(done: int, total: int) -> None:
            percent = done * 100 // max(total, 1)
            if not interactive and percent // 10 == last[0] // 10 and done < total:
                return  # in logs, one line per 10 %
            last[0] = percent
            line = f"已导入 {done:,} / {total:,} 人 ({percent}%)"
            self.stdout.write(("\r" + line) if interactive else line, ending="")
            if not interactive:
                self.stdout.write("")
            self.stdout.flush()

        try:
            summary = load_county_dir(
                folder, source_label=options["label"] or None, progress=progress, user=user
            )
        except ImportFailed as exc:
            if interactive:
                self.stdout.write("")
            for error in exc.errors[:SHOWN_ERRORS]:
                self.stderr.write(f"{error.file} 第{error.row}行 {error.column}：{error.message}")
            raise CommandError(exc.message) from exc
        if interactive:
            self.stdout.write("")
        for error in summary.errors[:SHOWN_ERRORS]:
            self.stderr.write(f"{error.file} 第{error.row}行 {error.column}：{error.message}")
        if len(summary.errors) > SHOWN_ERRORS:
            self.stderr.write(f"……另有 {len(summary.errors) - SHOWN_ERRORS:,} 行错误未列出")
        self.stdout.write(summary.describe())
