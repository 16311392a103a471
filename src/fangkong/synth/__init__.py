"""Synthetic county generator (合成数据): a real county frame with generated people.

See :mod:`fangkong.synth.county` for the rules (determinism, real division codes, valid ID
numbers) and :func:`generate_county` for the files it writes.
"""

from .county import (
    AS_OF,
    GENERATOR_VERSION,
    GenerationSummary,
    generate_county,
    iter_county,
    iter_persons,
)

__all__ = [
    "AS_OF",
    "GENERATOR_VERSION",
    "GenerationSummary",
    "generate_county",
    "iter_county",
    "iter_persons",
]
