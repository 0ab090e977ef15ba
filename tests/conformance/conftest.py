"""Compiled stacks, shared by the suite's tests: each (provider, case) compiles and runs once."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pytest

from glacier import Pipeline
from glacier.compilation import Infrastructure
from glacier.loader import load_pipeline

from .adapter import Deployed, ProviderAdapter
from .cases import Case, Dag, dag_of, write_scale_module
from .providers import load


def written(root: Path) -> dict[str, bytes]:
    """Every file under ``root``: relative path -> bytes."""
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


@dataclass
class Built:
    """One case compiled for one provider and written to ``root``.

    ``files`` is what the compiler wrote, read before the program ran (running it may add
    build artifacts to the stack's folder, as ``pulumi up`` does).
    """

    adapter: ProviderAdapter
    case: Case
    pipeline: Pipeline
    infra: Infrastructure
    root: Path
    files: dict[str, bytes]

    @property
    def stack_dir(self) -> Path:
        return self.root / self.adapter.name

    @cached_property
    def dag(self) -> Dag:
        return dag_of(self.pipeline)

    @cached_property
    def deployed(self) -> Deployed:
        """The stack's program run under the mocks (once, on first use)."""
        return self.adapter.deploy(self.stack_dir)


@dataclass
class Stacks:
    """Every stack the session compiled, by (provider, case)."""

    folder: Path
    built: dict[tuple[str, str], Built] = field(default_factory=dict)
    modules: dict[int, Path] = field(default_factory=dict)

    def pipeline(self, case: Case) -> Pipeline:
        if not case.size:
            return load_pipeline(case.ref)
        if case.size not in self.modules:
            folder = self.folder / "modules" / str(case.size)
            folder.mkdir(parents=True)
            self.modules[case.size] = write_scale_module(case.size, folder)
        return load_pipeline(str(self.modules[case.size]))

    def get(self, provider: str, case: Case) -> Built:
        key = (provider, case.name)
        if key not in self.built:
            adapter = load(provider)
            pipeline = self.pipeline(case)
            infra = pipeline.compile(adapter.compiler())
            root = Path(infra.write(self.folder / provider / case.name))
            self.built[key] = Built(adapter, case, pipeline, infra, root, written(root))
        return self.built[key]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests on compiled stacks are slow (Pulumi's mocks, subprocesses): out of the quick loop."""
    for item in items:
        if "stacks" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def stacks(tmp_path_factory: pytest.TempPathFactory) -> Stacks:
    return Stacks(tmp_path_factory.mktemp("conformance"))
