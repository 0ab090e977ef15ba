"""What a compiler returns: stacks of files, the resolved resources, warnings, and their
human-readable views (``summary()``, ``plan()``, the README).

``Infrastructure.write(dir)`` never leaves a half-written stack behind: every stack is built
in a temporary folder next to its destination and renamed into place, so a crash or a full
disk leaves either the previous stack or the new one, complete.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from glacier.errors import CompilationError


@dataclass(frozen=True)
class ResolvedResource:
    """One cloud resource the stack will create: provider, kind, logical name, properties."""

    provider: str
    kind: str
    name: str
    properties: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CrossCloudTransfer:
    """A dataset moving between providers (or regions of one provider): egress is billed.

    ``est_cost_per_gb_usd`` is the per-GB price of the side the data leaves, from the one
    price table (:mod:`glacier.compilation.prices`), or None when that provider declares none.
    ``from_region``/``to_region`` are the two ends' regions when known.
    """

    dataset: str
    producer: str
    consumer: str
    from_provider: str
    to_provider: str
    est_cost_per_gb_usd: float | None
    from_region: str | None = None
    to_region: str | None = None

    @property
    def cross_provider(self) -> bool:
        return self.from_provider != self.to_provider

    def __str__(self) -> str:
        price = self.est_cost_per_gb_usd
        if self.cross_provider:
            cost = "egress price unknown" if price is None else f"est. ${price:.2f}/GB egress"
            return (
                f"{self.dataset}: {self.producer} ({self.from_provider}) -> {self.consumer} "
                f"({self.to_provider}), {cost}"
            )
        cost = (
            "inter-region price unknown" if price is None else f"est. ${price:.2f}/GB inter-region"
        )
        return (
            f"{self.dataset}: {self.producer} ({self.from_provider} {self.from_region}) -> "
            f"{self.consumer} ({self.to_provider} {self.to_region}), {cost}"
        )


@dataclass(frozen=True)
class CompilationWarning:
    """Something the user should know about a compiled stack (e.g. a packaging change)."""

    subject: str
    message: str

    def __str__(self) -> str:
        return f"{self.subject}: {self.message}"


@dataclass(frozen=True)
class TaskPlan:
    """How one task is deployed: where, how it is packaged, and what it may touch."""

    task: str
    provider: str
    packaging: str
    reason: str
    permissions: tuple[str, ...]


@dataclass(frozen=True)
class DatasetPlan:
    """Where one dataset lives in a stack, and anything the user should know about it."""

    dataset: str
    provider: str
    location: str
    note: str = ""


@dataclass(frozen=True)
class Stack:
    """One provider's Pulumi project: ``files`` maps relative POSIX paths to their text."""

    provider: str
    files: Mapping[str, str]
    resources: tuple[ResolvedResource, ...] = ()
    tasks: tuple[TaskPlan, ...] = ()
    datasets: tuple[DatasetPlan, ...] = ()
    monthly_cost_usd: float = 0.0
    cost_assumptions: str = ""


def _check_relative(path: str) -> None:
    p = PurePosixPath(path)
    if p.is_absolute() or ".." in p.parts or not p.parts:
        raise CompilationError(
            f"stack file path {path!r} must be relative and stay inside the stack"
        )


def _write_tree(root: Path, files: Mapping[str, str]) -> None:
    for rel in sorted(files):
        _check_relative(rel)
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "w", encoding="utf-8", newline="") as fh:
            fh.write(files[rel])


def _fresh(parent: Path, prefix: str) -> Path:
    """An unused path in ``parent`` (hidden, unique per call: stale leftovers never block)."""
    return parent / f"{prefix}{secrets.token_hex(6)}"


def _swap_in(built: Path, dest: Path) -> None:
    """Rename ``built`` to ``dest``, replacing a previous ``dest`` only once it is complete.

    If the final rename fails, the previous ``dest`` is put back: the folder holds either the
    old stack or the new one, never neither.
    """
    old = None
    if dest.exists() or dest.is_symlink():
        old = _fresh(dest.parent, f".{dest.name}.old-")
        os.replace(dest, old)
    try:
        os.replace(built, dest)
    except BaseException:
        if old is not None:
            os.replace(old, dest)
        raise
    if old is not None:
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink()


@dataclass
class Infrastructure:
    """The result of ``pipeline.compile(compiler)``: one stack per provider, plus warnings."""

    pipeline: str
    stacks: dict[str, Stack]
    warnings: list[CrossCloudTransfer | CompilationWarning] = field(default_factory=list)
    #: The transfers' estimated monthly cost and what it assumes (``summary()`` prints both).
    transfer_cost_usd: float = 0.0
    transfer_cost_assumptions: str = ""
    #: The README a multi-cloud compile writes (its deploy order, identities, hand-off).
    guide: str = ""

    @property
    def resources(self) -> list[ResolvedResource]:
        """Every provider-resolved resource, stack by stack."""
        return [r for p in sorted(self.stacks) for r in self.stacks[p].resources]

    @property
    def transfers(self) -> list[CrossCloudTransfer]:
        return [w for w in self.warnings if isinstance(w, CrossCloudTransfer)]

    @property
    def monthly_cost_usd(self) -> float:
        return sum(s.monthly_cost_usd for s in self.stacks.values()) + self.transfer_cost_usd

    def summary(self) -> str:
        """Resources per provider, cross-cloud transfers and the estimated monthly cost."""
        return _summary(self)

    def plan(self) -> str:
        """The summary plus every task's packaging and permissions (``glacier plan``)."""
        return _plan(self)

    def readme(self) -> str:
        """The README written next to the stacks: what is there and how to deploy it."""
        return self.guide or _readme(self)

    def __repr__(self) -> str:
        stacks = ", ".join(
            f"{p} ({len(s.resources)} resources)" for p, s in sorted(self.stacks.items())
        )
        return (
            f"<Infrastructure {self.pipeline!r}: {stacks or 'no stacks'}; "
            f"est. ${self.monthly_cost_usd:,.2f}/month>"
        )

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        """Notebooks: resources and cost per provider, tasks, datasets and warnings."""
        from glacier import notebook as nb

        providers = [
            (p, len(s.resources), _kinds(s), f"${s.monthly_cost_usd:,.2f}")
            for p, s in sorted(self.stacks.items())
        ]
        tasks = sorted(
            (t.task, t.provider, t.packaging) for s in self.stacks.values() for t in s.tasks
        )
        datasets = sorted(
            (d.dataset, d.provider, d.location, d.note)
            for s in self.stacks.values()
            for d in s.datasets
        )
        parts = [
            f"<p><strong>{nb.escape(self.pipeline)}</strong>: {len(self.stacks)} stack(s), "
            f"estimated ${self.monthly_cost_usd:,.2f} a month</p>",
            nb.table(["provider", "resources", "by kind", "monthly cost"], providers),
        ]
        if tasks:
            parts.append(nb.table(["task", "provider", "packaging"], tasks))
        if datasets:
            parts.append(nb.table(["dataset", "provider", "location", "note"], datasets))
        if self.warnings:
            items = "".join(f"<li>{nb.escape(w)}</li>" for w in self.warnings)
            parts.append(f"<p>Warnings:</p><ul>{items}</ul>")
        parts.append("<p>infra.write(folder) writes the Pulumi programs; infra.plan() details.</p>")
        return {"text/plain": self.summary(), "text/html": nb.div("infrastructure", "".join(parts))}

    def _repr_html_(self) -> str:
        return self._repr_mimebundle_()["text/html"]

    def write(self, directory: str | os.PathLike[str]) -> Path:
        """Write ``<dir>/<provider>/...`` per stack and ``<dir>/README.md``; returns ``dir``.

        Each stack folder is assembled in a temporary sibling and renamed into place.
        """
        root = Path(directory)
        root.mkdir(parents=True, exist_ok=True)
        for provider in sorted(self.stacks):
            # os.mkdir, not tempfile.mkdtemp: the stack keeps the umask's permissions, not 0700.
            tmp = _fresh(root, f".{provider}.tmp-")
            tmp.mkdir()
            try:
                _write_tree(tmp, self.stacks[provider].files)
                _swap_in(tmp, root / provider)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
        readme_tmp = _fresh(root, ".README.md.tmp-")
        try:
            with open(readme_tmp, "x", encoding="utf-8", newline="") as fh:
                fh.write(self.readme())
            os.replace(readme_tmp, root / "README.md")
        except BaseException:
            readme_tmp.unlink(missing_ok=True)
            raise
        return root


# -- human-readable views: summary(), plan() and the README ---------------------------------


def _kinds(stack: Stack) -> str:
    """``"1 ecs_cluster, 7 s3_bucket"``: a stack's resources counted by kind."""
    counts = Counter(r.kind for r in stack.resources)
    return ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))


def _resources(infra: Infrastructure) -> list[str]:
    lines = ["Resources by provider:"]
    for provider in sorted(infra.stacks):
        stack = infra.stacks[provider]
        detail = _kinds(stack)
        lines.append(
            f"  {provider}: {len(stack.resources)} resources" + (f" ({detail})" if detail else "")
        )
    return lines


def _transfers(infra: Infrastructure) -> list[str]:
    lines = []
    for header, cross in (("CROSS-PROVIDER", True), ("CROSS-REGION", False)):
        found = [t for t in infra.transfers if t.cross_provider is cross]
        if found:
            lines += [f"{header} DATA TRANSFERS DETECTED"] + [f"  - {t}" for t in found]
    return lines


def _warnings(infra: Infrastructure) -> list[str]:
    others = [w for w in infra.warnings if w not in infra.transfers]
    return ["Warnings:"] + [f"  - {w}" for w in others] if others else []


def _cost(infra: Infrastructure) -> list[str]:
    lines = [f"Estimated monthly cost: ${infra.monthly_cost_usd:,.2f}"]
    for provider in sorted(infra.stacks):
        stack = infra.stacks[provider]
        if stack.cost_assumptions:
            lines.append(f"  {provider}: ${stack.monthly_cost_usd:,.2f} ({stack.cost_assumptions})")
    if infra.transfer_cost_assumptions:
        usd, why = infra.transfer_cost_usd, infra.transfer_cost_assumptions
        lines.append(f"  transfers: ${usd:,.2f} ({why})")
    return lines


def _summary(infra: Infrastructure) -> str:
    """Resources per provider, cross-cloud transfers, warnings and the cost estimate."""
    blocks = [
        [f"Pipeline {infra.pipeline!r}: {len(infra.stacks)} stack(s)"],
        _resources(infra),
        _transfers(infra),
        _warnings(infra),
        _cost(infra),
    ]
    return "\n\n".join("\n".join(b) for b in blocks if b) + "\n"


def _tasks(infra: Infrastructure) -> list[str]:
    lines = ["Tasks:"]
    for provider in sorted(infra.stacks):
        for t in infra.stacks[provider].tasks:
            lines.append(f"  {t.task} ({t.provider}): {t.packaging} - {t.reason}")
            lines.append("    permissions:")
            lines.extend(f"      {p}" for p in t.permissions)
    return lines


def _datasets(infra: Infrastructure) -> list[str]:
    lines = ["Datasets:"]
    for provider in sorted(infra.stacks):
        for d in infra.stacks[provider].datasets:
            note = f" ({d.note})" if d.note else ""
            lines.append(f"  {d.dataset} ({d.provider}): {d.location}{note}")
    return lines if len(lines) > 1 else []


def _plan(infra: Infrastructure) -> str:
    """``summary()`` plus where each dataset lives and, per task, packaging and permissions."""
    resources = ["Resources:"] + [f"  {r.provider} {r.kind} {r.name}" for r in infra.resources]
    blocks = [_datasets(infra), _tasks(infra), resources]
    return _summary(infra) + "\n" + "\n\n".join("\n".join(b) for b in blocks if b) + "\n"


def _readme(infra: Infrastructure) -> str:
    """The README written next to the stacks: what is there and how to deploy it."""
    lines = [
        "# Generated infrastructure",
        "",
        "Generated by `glacier compile`. Do not edit: change the pipeline and compile again.",
        "",
        "Deploy a stack with:",
        "",
        "```",
    ]
    for provider in sorted(infra.stacks):
        lines.append(f"cd {provider} && pulumi stack init dev && pulumi up")
    lines += ["```", ""]
    guides = [p for p in sorted(infra.stacks) if "README.md" in infra.stacks[p].files]
    if guides:
        links = ", ".join(f"[`{p}/README.md`]({p}/README.md)" for p in guides)
        lines += [
            f"Read {links} first: what to create before deploying (secrets, tools), the"
            " deploy-time configuration, how to start and watch a run, and what a teardown keeps.",
            "",
        ]
    lines += ["```", _summary(infra).rstrip("\n"), "```", ""]
    return "\n".join(lines)


__all__ = [
    "CompilationWarning",
    "CrossCloudTransfer",
    "DatasetPlan",
    "Infrastructure",
    "ResolvedResource",
    "Stack",
    "TaskPlan",
]
