"""The ``infra/README.md`` of a multi-cloud compile: how to deploy, run and remove it.

It says which stacks there are, the order of ``pulumi up`` and why (a stack whose tasks
reach into another's data reads that stack's outputs), the configuration each stack needs,
how values travel between stacks, how a run is started (each provider's orchestrator in
hand-off order, see :mod:`glacier.compilation.handoff`), the transfers and their cost, and
the teardown in reverse order.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from glacier.compilation.infrastructure import Stack
from glacier.compilation.links import BUCKETS_OUTPUT, RemoteAccess


@dataclass(frozen=True)
class MultiLayout:
    """What the guide reads: the stacks, both orders and the cross-cloud accesses."""

    pipeline: str
    stacks: dict[str, Stack]
    deploy: Sequence[str]
    runs: Sequence[str]
    accesses: Sequence[RemoteAccess]
    scheduled: str | None
    summary: str
    automatic: Sequence[tuple[str, str]] = ()  # hops the upstream stack's relay starts


def _stacks(m: MultiLayout) -> list[str]:
    lines = [
        "## Stacks",
        "",
        "| folder | Pulumi project | resources | tasks |",
        "|---|---|---|---|",
    ]
    for p in m.deploy:
        stack = m.stacks[p]
        kinds = Counter(r.kind for r in stack.resources)
        what = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) or "none"
        tasks = ", ".join(t.task for t in stack.tasks) or "none (data only)"
        lines.append(f"| `{p}/` | `{m.pipeline}-{p}` | {what} | {tasks} |")
    return [*lines, ""]


def _order(m: MultiLayout) -> list[str]:
    lines = ["## Deploy: the order of `pulumi up`", ""]
    needs: dict[str, set[str]] = {}
    for a in m.accesses:
        needs.setdefault(a.task_provider, set()).add(a.provider)
    for up, down in m.automatic:
        needs.setdefault(up, set()).add(down)
    starts = dict(m.automatic)
    for i, p in enumerate(m.deploy, 1):
        reads = sorted(needs.get(p, ()))
        outputs = (
            f"`{BUCKETS_OUTPUT}`, `region` and `state_machine_arn`"
            if p in starts
            else f"`{BUCKETS_OUTPUT}` and `region`"
        )
        why = (
            f"reads the {outputs} outputs of {', '.join(reads)} through a "
            "StackReference, so those go first"
            if reads
            else "reads no other stack"
        )
        lines.append(f"{i}. `cd {p} && pulumi stack init <env> && pulumi up`: {why}.")
    lines += [
        "",
        "Use the same stack name (`<env>`, e.g. `dev`) in every folder: a stack finds the "
        f"others as `<org>/{m.pipeline}-<provider>/<env>`. To point one elsewhere, set "
        "`pulumi config set glacier:peer.<provider> <org>/<project>/<stack>` in the stack "
        "that reads it.",
        "",
    ]
    return lines


def _config(m: MultiLayout) -> list[str]:
    lines = ["## Configuration each stack needs", ""]
    for p in m.deploy:
        guide = (
            f" (see [`{p}/README.md`]({p}/README.md))" if "README.md" in m.stacks[p].files else ""
        )
        lines.append(f"- `{p}`: its provider's own settings and prerequisites{guide}.")
        reaches = sorted({a.provider for a in m.accesses if a.task_provider == p})
        if reaches:
            lines.append(
                f"  Its tasks reach data on {', '.join(reaches)}: deploy it with credentials "
                f"for {p} and for {', '.join(reaches)} (it creates each task's federated "
                "role there)."
            )
        for up, down in m.automatic:
            if up == p:
                lines.append(
                    f"  It hands runs off to {down}: deploy it with credentials for {down} too "
                    "(it creates the relay's federated role there, allowed only to start "
                    f"{down}'s orchestrator)."
                )
    return [*lines, ""]


def _values(m: MultiLayout) -> list[str]:
    if not m.accesses:
        return ["## Cross-stack values", "", "None: no task reads or writes another "
                "provider's data.", ""]  # fmt: skip
    lines = [
        "## Cross-stack values and identities",
        "",
        "No key is stored anywhere: each task that reaches another cloud's data gets a role "
        "there that trusts only the task's own identity (workload identity federation, "
        "short-lived tokens), allowed exactly what the task reads or writes.",
        "",
        "| task | reaches | dataset | allowed | values read from that stack |",
        "|---|---|---|---|---|",
    ]
    for a in m.accesses:
        allowed = "; ".join(f"{g.mode} `{g.pattern}`" for g in a.grants)
        lines.append(
            f"| {a.task} ({a.task_provider}) | {a.provider} | {a.dataset} | {allowed} | "
            f"`{BUCKETS_OUTPUT}[{a.dataset!r}]`, `region` |"
        )
    return [*lines, ""]


def _run(m: MultiLayout) -> list[str]:
    lines = ["## Start a run", ""]
    if not m.runs:
        return [*lines, "No task to run: the stacks only hold data.", ""]
    lines.append(
        "Each provider's orchestrator runs that provider's tasks in dependency order, with "
        "retries; across providers control is handed off in this order (start each one once "
        "the previous run succeeded):"
    )
    lines.append("")
    started = {down: up for up, down in m.automatic}
    for i, p in enumerate(m.runs, 1):
        if p in started:
            lines.append(
                f"{i}. `{p}` starts by itself: the last step of `{started[p]}`'s orchestrator, "
                "after its tasks, calls a relay function whose federated role may only start "
                f"`{p}`'s state machine, with the same run id (execution name = run id)"
            )
            continue
        lines.append(f"{i}. `cd {p} && $(pulumi stack output start_run)`")
    if m.scheduled:
        lines += ["", f"Only `{m.scheduled}` keeps the pipeline's schedule; it starts the first "
                  "step, the rest follow as above."]  # fmt: skip
    return [*lines, ""]


def _teardown(m: MultiLayout) -> list[str]:
    lines = ["## Tear down (reverse order)", ""]
    for p in reversed(m.deploy):
        lines.append(f"- `cd {p} && pulumi destroy`")
    lines += [
        "",
        "A stack that reads another goes first, so no StackReference points at a destroyed "
        "stack. Data buckets are kept unless emptied first (see each stack's README).",
        "",
    ]
    return lines


def multi_readme(m: MultiLayout) -> str:
    """The whole guide."""
    head = [
        f"# Pipeline `{m.pipeline}` across {', '.join(m.deploy)}",
        "",
        "Generated by `glacier compile --target multi`. Do not edit: change the pipeline and "
        "compile again.",
        "",
    ]
    parts = [head, _stacks(m), _order(m), _config(m), _values(m), _run(m), _teardown(m)]
    body = [line for part in parts for line in part]
    body += ["## Plan", "", "```", m.summary.rstrip("\n"), "```", ""]
    return "\n".join(body)


__all__ = ["MultiLayout", "multi_readme"]
