"""Orchestration across clouds: each provider's orchestrator runs its tasks, in hand-off order.

Every provider stack already runs the tasks placed on it with its own orchestrator, in
dependency order, with retries (:func:`glacier.compilation.projection.upstream_on`). Across
providers, control is handed off: a run is one execution of each stack's orchestrator, in
the order the data flows between providers (:func:`run_order`), each started once the
previous one succeeded. Only the first stack keeps the pipeline's schedule: a scheduled
second stack would start before its inputs exist.

This holds only when the providers' tasks form a chain of whole segments: if a task on one
provider needs a task on a second that itself needs another task on the first, one
execution per provider cannot respect both edges, and compiling says so
(:func:`run_order` raises) instead of deploying an orchestration that runs tasks early.
"""

from __future__ import annotations

from itertools import pairwise

from glacier.compilation.resolve import Placement
from glacier.errors import CompilationError
from glacier.ir import PipelineIR


def _edges(spec: PipelineIR, placement: Placement) -> dict[str, dict[str, tuple[str, str]]]:
    """Provider -> the providers whose tasks wait for it, each with one witness edge."""
    found: dict[str, dict[str, tuple[str, str]]] = {}
    for t in spec.tasks:
        here = placement.tasks[t.name]
        for up in t.upstream:
            there = placement.tasks[up]
            if there != here:
                found.setdefault(there, {}).setdefault(here, (up, t.name))
    return found


def run_order(spec: PipelineIR, placement: Placement) -> list[str]:
    """The providers with tasks, in the order their orchestrators run (ties by name)."""
    with_tasks = sorted(set(placement.tasks.values()))
    edges = _edges(spec, placement)
    before = {p: {q for q in with_tasks if p in edges.get(q, {})} for p in with_tasks}
    order: list[str] = []
    while len(order) < len(with_tasks):
        ready = [p for p in with_tasks if p not in order and before[p] <= set(order)]
        if not ready:
            left = [p for p in with_tasks if p not in order]
            witnesses = [
                f"{a} ({p}) -> {b} ({q})"
                for p in left
                for q, (a, b) in sorted(edges.get(p, {}).items())
                if q in left
            ]
            msg = (
                f"pipeline {spec.name!r}: tasks go back and forth between providers "
                f"({'; '.join(witnesses)}), but each provider's orchestrator runs its tasks in "
                "one execution, handed off in order; place those tasks so the work moves from "
                "one provider to the next once"
            )
            raise CompilationError(msg)
        order.append(ready[0])
    return order


#: Hand-offs a provider's stack makes itself: (from, to). The upstream stack creates a relay
#: with a federated role allowed only to start the downstream orchestrator; any other
#: hop is started by hand (or the operator's scheduler), as the guide says.
AUTOMATIC = {("gcp", "aws")}


def next_provider(spec: PipelineIR, placement: Placement, provider: str) -> str | None:
    """The provider whose orchestrator runs right after ``provider``'s (None: it runs last,
    or has no tasks)."""
    runs = run_order(spec, placement)
    if provider not in runs or runs[-1] == provider:
        return None
    return runs[runs.index(provider) + 1]


def automatic_hops(runs: list[str]) -> list[tuple[str, str]]:
    """The hops of ``runs`` the upstream stack hands off by itself."""
    return [(a, b) for a, b in pairwise(runs) if (a, b) in AUTOMATIC]


__all__ = ["AUTOMATIC", "automatic_hops", "next_provider", "run_order"]
