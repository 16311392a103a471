"""fangkong regions [--level LEVEL] [--under CODE]: one region a line, CODE<TAB>LEVEL<TAB>NAME."""

from django.core.management.base import BaseCommand, CommandError

from fangkong.core.jurisdiction import prefix_q
from fangkong.core.models import Region, RegionLevel

LEVEL_ALIASES = {
    "county": RegionLevel.COUNTY,
    "township": RegionLevel.TOWNSHIP,
    "village": RegionLevel.VILLAGE,
    "grid": RegionLevel.GRID,
    "province": RegionLevel.PROVINCE,
    "city": RegionLevel.CITY,
}


class Command(BaseCommand):
    help = "List regions in the database, one a line: CODE<TAB>LEVEL<TAB>NAME. 列出区划。"

    def add_arguments(self, parser):
        parser.add_argument("--level", choices=sorted(LEVEL_ALIASES), help="only this level")
        parser.add_argument("--under", metavar="CODE", help="only this region and those below it")

    def handle(self, *args, **options):
        regions = Region.objects.order_by("code")
        if options["under"]:
            code = options["under"]
            if not Region.objects.filter(code=code).exists():
                raise CommandError(f"区划代码 {code} 不存在")
            regions = regions.filter(prefix_q("code", [code]))
        if options["level"]:
            regions = regions.filter(level=LEVEL_ALIASES[options["level"]])
        write = self.stdout.write
        for code, level, name in regions.values_list("code", "level", "name").iterator(5000):
            write(f"{code}\t{level}\t{name}")
