"""What a compiler returns: stacks of files, the resolved resources, warnings and a plan.

``Infrastructure.write(dir)`` never leaves a half-written stack behind: every stack is built
in a temporary folder next to its destination and renamed into place, so a crash or a full
disk leaves either the previous stack or the new one, complete.
"""

from __future__ import annotations

import os
import secrets
import shutil
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
    """A dataset written on one provider and read on another (egress is billed)."""

    dataset: str
    producer: str
    consumer: str
    from_provider: str
    to_provider: str
    est_cost_per_gb_usd: float

    def __str__(self) -> str:
        return (
            f"{self.dataset}: {self.producer} ({self.from_provider}) -> {self.consumer} "
            f"({self.to_provider}), est. ${self.est_cost_per_gb_usd:.2f}/GB egress"
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
    """The result of ``pipeline.compile(compiler)``: stacks, resources, warnings, cost."""

    pipeline: str
    stacks: dict[str, Stack]
    warnings: list[CrossCloudTransfer | CompilationWarning] = field(default_factory=list)

    @property
    def resources(self) -> list[ResolvedResource]:
        """Every provider-resolved resource, stack by stack."""
        return [r for p in sorted(self.stacks) for r in self.stacks[p].resources]

    @property
    def transfers(self) -> list[CrossCloudTransfer]:
        return [w for w in self.warnings if isinstance(w, CrossCloudTransfer)]

    @property
    def monthly_cost_usd(self) -> float:
        return sum(s.monthly_cost_usd for s in self.stacks.values())

    def summary(self) -> str:
        """Resources per provider, cross-cloud transfers and the estimated monthly cost."""
        from glacier.compilation.report import summary

        return summary(self)

    def plan(self) -> str:
        """The summary plus every task's packaging and permissions (``glacier plan``)."""
        from glacier.compilation.report import plan

        return plan(self)

    def readme(self) -> str:
        from glacier.compilation.report import readme

        return readme(self)

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


__all__ = [
    "CompilationWarning",
    "CrossCloudTransfer",
    "DatasetPlan",
    "Infrastructure",
    "ResolvedResource",
    "Stack",
    "TaskPlan",
]
