"""Deciding which provider each dataset and task lands on.

Generic resources (``ObjectStorage()``, ``compute.serverless()``...) go to the compiler's
default provider; provider-specific ones (a provider's bucket or function class) go to their own
provider, which the compiler must target. Ephemeral datasets (no storage) follow the task
that writes them. ``LocalFS`` exists only on the machine that runs the pipeline, so it
cannot be compiled at all.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from glacier.errors import CompilationError
from glacier.ir import DatasetIR, PipelineIR, ResourceIR


@dataclass(frozen=True)
class Placement:
    """Provider per dataset and per task, for one compilation."""

    default: str
    datasets: Mapping[str, str]
    tasks: Mapping[str, str]

    def tasks_on(self, provider: str) -> tuple[str, ...]:
        return tuple(t for t, p in self.tasks.items() if p == provider)

    def datasets_on(self, provider: str) -> tuple[str, ...]:
        return tuple(d for d, p in self.datasets.items() if p == provider)


def _short(resource: ResourceIR) -> str:
    cls = resource.cls.rpartition(":")[2] or resource.type
    return f"{cls}({resource.type})"


def _provider_of(resource: ResourceIR, owner: str, default: str, available: Collection[str]) -> str:
    provider = resource.provider
    if provider is None:
        return default
    if provider not in available:
        targets = ", ".join(sorted(available))
        msg = (
            f"{owner} uses {_short(resource)}, which needs provider {provider!r}, but this "
            f"compiler targets {targets}; add a {provider!r} compiler (e.g. MultiCloudCompiler("
            f"providers={{{provider!r}: ...}})) or use a generic resource"
        )
        raise CompilationError(msg)
    return provider


def _check_dataset(ds: DatasetIR) -> None:
    if ds.storage is not None and ds.storage.type == "local_fs":
        msg = (
            f"dataset {ds.name!r} uses LocalFS({ds.storage.config['base_path']!r}), which exists "
            "only on the machine that runs the pipeline and cannot be compiled for a cloud; use "
            "storage=ObjectStorage() (any cloud) or a provider's own storage resource"
        )
        raise CompilationError(msg)
    if ds.storage is None and ds.producer is None:
        msg = (
            f"dataset {ds.name!r} is a pipeline source (no task produces it) but has no storage, "
            "so a cloud run has nowhere to read it from; give it storage=ObjectStorage() or a "
            "provider's own storage class"
        )
        raise CompilationError(msg)


def resolve(spec: PipelineIR, default: str, available: Collection[str]) -> Placement:
    """Place every task and dataset of ``spec``; CompilationError names what cannot be placed."""
    if default not in available:
        raise CompilationError(
            f"default provider {default!r} is not one of the targets {sorted(available)}"
        )
    tasks = {
        t.name: _provider_of(t.compute, f"task {t.name!r}", default, available) for t in spec.tasks
    }
    datasets: dict[str, str] = {}
    for ds in spec.datasets:
        _check_dataset(ds)
        if ds.storage is None:
            assert ds.producer is not None  # checked above
            datasets[ds.name] = tasks[ds.producer]
        else:
            datasets[ds.name] = _provider_of(ds.storage, f"dataset {ds.name!r}", default, available)
    return Placement(default=default, datasets=datasets, tasks=tasks)


__all__ = ["Placement", "resolve"]
