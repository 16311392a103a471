"""Benchmark: generating a synthetic county (the figure the test suite no longer asserts).

    .venv/bin/python bench/synth_generate.py [--residents 100000] [--seed 1]

Prints residents per second and the time against the 10-second budget for 100,000
residents that tests/synth/test_county.py used to assert (a ratio below 1 is within it).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

BUDGET_SECONDS_PER_100K = 10.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--residents", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangkong.settings")
    import django

    django.setup()
    from fangkong.synth import generate_county

    with tempfile.TemporaryDirectory() as out:
        summary = generate_county(residents=args.residents, seed=args.seed, out_dir=Path(out))
    budget = BUDGET_SECONDS_PER_100K * args.residents / 100_000
    print(
        f"generated {summary.residents:,} residents in {summary.seconds:.2f} s "
        f"({summary.residents / summary.seconds:,.0f}/s); "
        f"ratio to the {budget:.0f} s budget: {summary.seconds / budget:.2f}"
    )


if __name__ == "__main__":
    main()
