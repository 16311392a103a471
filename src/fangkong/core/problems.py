"""The problems list as other modules see it (问题清单): raise a problem, ask its status.

The reports module owns the problems list — owners, deadlines, evidence, rectification,
confirmation from above, escalation — and registers itself here as the *sink* from its
``AppConfig.ready``. Modules that find problems (a failed item of a supervision checklist,
a checkpoint found asleep, a place failing its inspection) call :func:`raise_problem` with a
stable ``source`` key, never the reports module's models: one source is one problem, however
often it is raised. When a problem is closed, the sink sends
:data:`fangkong.core.signals.problem_closed` so the module can mark its own item rectified.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class ProblemDraft:
    """What a module knows of a problem it found.

    ``source`` is stable ("supervision.item:12"); ``aspect`` one of
    :class:`fangkong.core.inspection.Aspect`; ``owner`` the user who must fix it when the
    module knows (else the sink names the cadre responsible for the region);
    ``deadline`` when it must be rectified (else the sink's default for the aspect).
    """

    source: str
    region_code: str
    aspect: str
    title: str
    detail: str = ""
    deadline: dt.datetime | None = None
    owner: Any = None
    raised_by: Any = None
    url: str = ""
    evidence: tuple[str, ...] = field(default_factory=tuple)  # stored file names (photos)


@dataclass(frozen=True)
class ProblemRef:
    id: int
    source: str
    status: str  # "open", "rectified" (awaiting confirmation), "closed"
    url: str


class ProblemSink(Protocol):
    def raise_problem(self, draft: ProblemDraft) -> ProblemRef: ...

    def status_of(self, sources: list[str]) -> dict[str, ProblemRef]: ...


_sink: ProblemSink | None = None


def register_sink(sink: ProblemSink) -> None:
    global _sink
    _sink = sink


def available() -> bool:
    return _sink is not None


def raise_problem(draft: ProblemDraft) -> ProblemRef:
    """Put a problem on the list (or return the one already raised for ``draft.source``)."""
    if _sink is None:
        raise RuntimeError("no problems list is installed (the reports app registers it)")
    return _sink.raise_problem(draft)


def status_of(sources: list[str]) -> dict[str, ProblemRef]:
    """The problems raised for these sources, by source (absent: never raised)."""
    if _sink is None or not sources:
        return {}
    return _sink.status_of(sources)
