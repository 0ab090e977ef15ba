"""Finding the user's code so it can travel inside the function bundle.

The cloud runtime imports each task the way a local run does: by module name and qualname,
from the pipeline module(s) copied next to the manifest. This module works out which files
those are, what module name each gets inside the bundle (a script run as ``__main__`` is
renamed after its file), and the ``module:attr`` reference the bundle's manifest records.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import ModuleType

from glacier.errors import CompilationError
from glacier.ir import PipelineIR
from glacier.validated import Validated


@dataclass(frozen=True)
class PipelineSource:
    """The user's modules as bundle files, and the bundle's reference to the pipeline."""

    bundle_ref: str
    files: Mapping[str, str] = field(default_factory=dict)
    renames: Mapping[str, str] = field(default_factory=dict)

    def rewrite(self, spec: PipelineIR) -> PipelineIR:
        """``spec`` as the bundle sees it: source = bundle_ref, renamed task modules."""
        tasks = tuple(
            replace(t, module=self.renames[t.module]) if t.module in self.renames else t
            for t in spec.tasks
        )
        return replace(spec, source=self.bundle_ref, tasks=tasks)


def _module(name: str, pipeline: str) -> ModuleType:
    module = sys.modules.get(name)
    if module is None or not getattr(module, "__file__", None):
        msg = (
            f"pipeline {pipeline!r}: its module {name!r} has no source file to put in the function "
            "bundle; define the pipeline in a .py file and compile it with `glacier compile file.py:attr`"
        )
        raise CompilationError(msg)
    return module


def _attr_holding(pipeline: Validated, module: ModuleType) -> str:
    """The module-level variable that holds the declared pipeline object."""
    source = pipeline.ir.source or ""
    declared = pipeline.declared
    explicit = source.rpartition(":")[2] if ":" in source else ""
    if explicit and getattr(module, explicit, None) is declared:
        return explicit
    names = sorted(k for k, v in vars(module).items() if v is declared and not k.startswith("_"))
    if not names:
        msg = (
            f"pipeline {pipeline.name!r} is not a module-level variable of {module.__name__!r}, so "
            "the cloud runtime cannot import it; assign it at module level, e.g. "
            f"`pipeline = Pipeline(name={pipeline.name!r})`"
        )
        raise CompilationError(msg)
    return names[0]


def _bundle_name(name: str, file: Path) -> str:
    if name != "__main__" and all(p.isidentifier() for p in name.split(".")):
        return name
    stem = re.sub(r"\W", "_", file.stem)
    return stem if stem.isidentifier() else f"pipeline_{stem}"


def _read(path: Path) -> str:
    with open(path, encoding="utf-8", newline="") as fh:
        return fh.read()


def _module_files(name: str, bundle_name: str, file: Path) -> dict[str, str]:
    """The module's file plus an ``__init__.py`` for each parent package."""
    parts = bundle_name.split(".")
    is_package = file.name == "__init__.py"
    rel = "/".join(parts) + ("/__init__.py" if is_package else ".py")
    files = {rel: _read(file)}
    for i in range(1, len(parts)):
        parent = sys.modules.get(".".join(name.split(".")[:i]))
        parent_file = getattr(parent, "__file__", None)
        text = _read(Path(parent_file)) if parent_file else ""
        files.setdefault("/".join(parts[:i]) + "/__init__.py", text)
    return files


def locate_source(pipeline: Validated) -> PipelineSource:
    """The files and references the bundle needs for ``pipeline``."""
    module = _module(pipeline.module, pipeline.name)
    attr = _attr_holding(pipeline, module)
    names = sorted({pipeline.module} | {t.fn.__module__ for t in pipeline.dag.tasks.values()})
    files: dict[str, str] = {}
    renames: dict[str, str] = {}
    for name in names:
        mod = _module(name, pipeline.name)
        path = Path(str(mod.__file__))
        bundle_name = _bundle_name(name, path)
        if bundle_name != name:
            renames[name] = bundle_name
        files.update(_module_files(name, bundle_name, path))
    ref = f"{renames.get(pipeline.module, pipeline.module)}:{attr}"
    return PipelineSource(bundle_ref=ref, files=files, renames=renames)


__all__ = ["PipelineSource", "locate_source"]
