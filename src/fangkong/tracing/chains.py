"""Chains of transmission from who-infected-whom links: clusters, sources, generations.

Pure functions over plain tuples, so the same code serves the chain view, the cluster
summary, the line-list import and the tests. Links that cannot be part of a chain (a case
infected by itself, two cases naming each other, any longer loop) are reported and dropped
rather than followed: a loop would make "generation" meaningless.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass
class Chains:
    parent: dict[int, int]  # child → parent, only sound links
    generation: dict[int, int]  # 1 for a source case
    cluster_of: dict[int, int]  # case → cluster id (its source case)
    clusters: dict[int, list[int]]  # source case → members
    dropped: list[tuple[int, int, str]] = field(default_factory=list)  # (child, parent, why)


def build(nodes: Iterable[int], links: Iterable[tuple[int, int]]) -> Chains:
    """Chains over ``nodes`` from (child, infected_by) ``links``.

    A link to a case outside ``nodes`` is dropped as ``"unknown"``; a self-reference as
    ``"self"``; two cases naming each other as ``"mutual"``; links on a longer loop as
    ``"cycle"`` (all links of the loop, since the data does
    not say which one is wrong).
    """
    node_set = set(nodes)
    parent: dict[int, int] = {}
    dropped: list[tuple[int, int, str]] = []
    for child, source in links:
        if child == source:
            dropped.append((child, source, "self"))
        elif source not in node_set:
            dropped.append((child, source, "unknown"))
        elif child in node_set:
            parent[child] = source
    # Loops: walk up from each node; a node met twice on one walk closes a loop.
    state: dict[int, int] = {}  # 1 = on the current walk, 2 = settled
    for start in list(parent):
        walk = []
        node: int | None = start
        while node is not None and node in parent and state.get(node) is None:
            state[node] = 1
            walk.append(node)
            node = parent[node]
        if node is not None and state.get(node) == 1:
            loop = walk[walk.index(node) :]
            why = "mutual" if len(loop) == 2 else "cycle"
            for member in loop:
                dropped.append((member, parent[member], why))
            for member in loop:
                del parent[member]
        for member in walk:
            state[member] = 2
    children: dict[int, list[int]] = defaultdict(list)
    for child, source in parent.items():
        children[source].append(child)
    generation: dict[int, int] = {}
    cluster_of: dict[int, int] = {}
    clusters: dict[int, list[int]] = {}
    for root in sorted(n for n in node_set if n not in parent):
        members = [root]
        generation[root] = 1
        cluster_of[root] = root
        frontier = [root]
        while frontier:
            following = []
            for node in frontier:
                for child in children.get(node, ()):
                    generation[child] = generation[node] + 1
                    cluster_of[child] = root
                    members.append(child)
                    following.append(child)
            frontier = following
        clusters[root] = members
    return Chains(parent, generation, cluster_of, clusters, dropped)


@dataclass(frozen=True)
class ClusterSummary:
    source: int
    size: int
    generations: int
    serial_intervals: list[int]  # days from infector's onset to infectee's onset

    @property
    def serial_interval_mean(self) -> float | None:
        return round(statistics.mean(self.serial_intervals), 1) if self.serial_intervals else None

    @property
    def serial_interval_median(self) -> float | None:
        return statistics.median(self.serial_intervals) if self.serial_intervals else None


def summarise(chains: Chains, onset: dict[int, dt.date | None]) -> list[ClusterSummary]:
    """Size, generation count and serial intervals of each cluster, largest first."""
    out = []
    for source, members in chains.clusters.items():
        intervals = []
        for member in members:
            infector = chains.parent.get(member)
            if infector is not None and onset.get(member) and onset.get(infector):
                intervals.append((onset[member] - onset[infector]).days)
        out.append(
            ClusterSummary(
                source=source,
                size=len(members),
                generations=max(chains.generation[m] for m in members),
                serial_intervals=intervals,
            )
        )
    return sorted(out, key=lambda s: (-s.size, s.source))


def secondary_attack_rate(
    attendees: list[int], onset: dict[int, dt.date | None], event_day: dt.date
) -> tuple[int, int, float | None]:
    """(secondary cases, persons exposed, rate) among an event's attendees.

    Attendees who were already ill (onset on or before the event) are the primary cases
    and are not counted among the exposed; attendees whose onset came after are the
    secondary cases.
    """
    primary = [a for a in attendees if a in onset and onset[a] and onset[a] <= event_day]
    secondary = [a for a in attendees if a in onset and onset[a] and onset[a] > event_day]
    exposed = len(attendees) - len(primary)
    rate = round(len(secondary) / exposed, 3) if exposed and primary else None
    return len(secondary), exposed, rate
