"""Finding the user's code, and what it needs, so it can travel inside the function bundle.

The cloud runtime imports each task by module name and qualname, from the modules copied next
to the manifest: the pipeline's module and every task's module, then, transitively, every
module of the user's project they import (read from their source), with each package's
``__init__``. Each installed distribution imported is pinned to the version installed here;
``Pipeline(requirements=...)`` is added. An import nothing satisfies is a ``CompilationError``
naming the module, the file that imports it and the fix. A script run as ``__main__`` is
renamed after its file inside the bundle.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import ModuleType

from glacier.codeinfo import whose_file
from glacier.compilation.bundle import RUNTIME_REQUIREMENTS, vendored_packages
from glacier.compilation.distributions import (
    display_name,
    distribution_of,
    normal,
    pin,
    refuse_conflicts,
    requirement_name,
)
from glacier.compilation.imports import Found, ImportSite, import_sites, locate
from glacier.errors import CompilationError
from glacier.ir import PipelineIR
from glacier.validated import Validated


@dataclass(frozen=True)
class PipelineSource:
    """The user's modules as bundle files, what they need installed, and the bundle's
    reference to the pipeline."""

    bundle_ref: str
    files: Mapping[str, str] = field(default_factory=dict)
    renames: Mapping[str, str] = field(default_factory=dict)
    #: Each imported distribution pinned (``PyYAML==6.0.2``), then the declared requirements.
    requirements: tuple[str, ...] = ()
    #: The imported distributions, canonical names (what the import check may load).
    distributions: tuple[str, ...] = ()
    #: Bundle names of the modules the runtime imports first: the pipeline's and the tasks'.
    entries: tuple[str, ...] = ()
    #: Every import the code makes of a bundled or installed module: (module, bundle file, line).
    imports: tuple[tuple[str, str, int], ...] = ()
    #: Bundle file -> the file it was copied from (for messages).
    origins: Mapping[str, str] = field(default_factory=dict)
    #: Glacier's packages the bundle carries (see :func:`vendored_packages`).
    vendored: tuple[str, ...] = ()

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


def _read(path: str) -> str:
    with open(path, encoding="utf-8", newline="") as fh:
        return fh.read()


def shown(file: str) -> str:
    """A file as a message shows it: relative to the working directory when inside it."""
    rel = os.path.relpath(file)
    return file if rel.startswith("..") else rel


class _Walk:
    """The project's modules reachable from the entry modules, and the distributions used."""

    def __init__(self, pipeline: str, declared: tuple[str, ...]) -> None:
        self.pipeline = pipeline
        self.declared = {requirement_name(r) for r in declared}
        self.vendored = vendored_packages()
        self.renames: dict[str, str] = {}
        self.project: dict[str, Found] = {}
        self.distributions: dict[str, str] = {}  # canonical name -> pin
        self.imports: list[tuple[str, str, int]] = []
        self.texts: dict[str, str] = {}  # module name -> its source, as read
        self.todo: list[str] = []

    def bundle_path(self, found: Found) -> str:
        name = self.renames.get(found.name, found.name)
        is_init = Path(found.file or "").name == "__init__.py"
        return name.replace(".", "/") + ("/__init__.py" if is_init else ".py")

    def entry(self, name: str) -> None:
        module = _module(name, self.pipeline)
        bundle_name = _bundle_name(name, Path(str(module.__file__)))
        if bundle_name != name:
            self.renames[name] = bundle_name
        parts = name.split(".") if bundle_name == name else [name]
        for i in range(1, len(parts) + 1):
            found = locate(".".join(parts[:i]))
            if found is not None:
                self.add_project(found)

    def add_project(self, found: Found) -> None:
        if found.name not in self.project:
            self.project[found.name] = found
            self.todo.append(found.name)

    def run(self) -> None:
        while self.todo:
            found = self.project[self.todo.pop()]
            if found.file is not None:  # None: a namespace package, no file of its own
                self.read(found)

    def read(self, found: Found) -> None:
        file = str(found.file)
        if not file.endswith(".py"):
            msg = (
                f"pipeline {self.pipeline!r}: module {found.name!r} of your project is "
                f"{shown(file)}, not Python source, so it cannot go in the function bundle; "
                "install it as a distribution (the bundle pins it) or provide its source"
            )
            raise CompilationError(msg)
        package = found.name if found.package else found.name.rpartition(".")[0]
        try:
            self.texts[found.name] = _read(file)
            sites = import_sites(self.texts[found.name], file, package)
        except (OSError, SyntaxError, ValueError) as exc:
            msg = f"pipeline {self.pipeline!r}: cannot read {shown(file)} to bundle it: {exc}"
            raise CompilationError(msg) from exc
        for site in sites:
            self.resolve(site, found)

    def resolve(self, site: ImportSite, importer: Found) -> None:
        top = site.module.partition(".")[0]
        if top in self.vendored:
            return
        if site.submodule and site.module.rpartition(".")[0] not in self.project:
            return  # ``from library import name``: the library's own business
        found = locate(site.module)
        if found is None:
            if not (site.submodule or site.optional or self.declares(site.module)):
                self.refuse(site, importer)
            return
        whose = whose_file(found.name, found.file)  # Glacier's own packages: by where they are
        if whose == "python":
            return
        if whose == "library":
            if not self.library(found, site, importer):
                return
        else:
            self.add_project(found)
        if not site.optional:
            self.imports.append((site.module, self.bundle_path(importer), site.line))

    def declares(self, module: str) -> bool:
        """Whether a declared requirement is named like ``module`` or a parent of it
        (``google.cloud.storage``: ``google-cloud-storage``, ``google-cloud``, ``google``)."""
        parts = module.split(".")
        return any(normal("-".join(parts[:i])) in self.declared for i in range(1, len(parts) + 1))

    def library(self, found: Found, site: ImportSite, importer: Found) -> bool:
        """Pin the distribution holding ``found``; False when an optional import has none."""
        dist = distribution_of(found.name, found.file)
        if dist is None:
            if site.optional:
                return False
            msg = (
                f"pipeline {self.pipeline!r}: module {site.module!r}, imported by "
                f"{shown(str(importer.file))}:{site.line}, is installed at "
                f"{shown(str(found.file))} but belongs to no distribution the bundle can pin; "
                "install it with pip, or move it into your project so it is bundled"
            )
            raise CompilationError(msg)
        if dist not in self.distributions:
            self.distributions[dist] = pin(display_name(dist))
        return True

    def refuse(self, site: ImportSite, importer: Found) -> None:
        msg = (
            f"pipeline {self.pipeline!r}: module {site.module!r}, imported by "
            f"{shown(str(importer.file))}:{site.line}, cannot go in the function bundle: it is "
            "not importable here and no requirement provides it; install it where glacier "
            "compile runs (the bundle pins the installed version), add it to "
            "Pipeline(requirements=[...]), or make it importable (your own modules must be on "
            "sys.path)"
        )
        raise CompilationError(msg)


def _requirements(walk: _Walk, declared: tuple[str, ...]) -> tuple[str, ...]:
    """Pins of the imported distributions (by name), then the declared requirements."""
    pins = [walk.distributions[d] for d in sorted(walk.distributions)]
    return (*pins, *(r for r in declared if r not in pins))


def locate_source(pipeline: Validated) -> PipelineSource:
    """The files, requirements and references the bundle needs for ``pipeline``."""
    module = _module(pipeline.module, pipeline.name)
    attr = _attr_holding(pipeline, module)
    declared = pipeline.ir.requirements
    walk = _Walk(pipeline.name, declared)
    entries = sorted({pipeline.module} | {t.fn.__module__ for t in pipeline.dag.tasks.values()})
    for name in entries:
        walk.entry(name)
    walk.run()
    refuse_conflicts(declared, [*walk.distributions, *RUNTIME_REQUIREMENTS], pipeline.name)
    files, origins = {}, {}
    for found in sorted(walk.project.values(), key=lambda f: f.name):
        if found.file is not None:
            rel = walk.bundle_path(found)
            files[rel], origins[rel] = walk.texts[found.name], found.file
    ref = f"{walk.renames.get(pipeline.module, pipeline.module)}:{attr}"
    return PipelineSource(
        bundle_ref=ref,
        files=files,
        renames=walk.renames,
        requirements=_requirements(walk, declared),
        distributions=tuple(sorted(walk.distributions)),
        entries=tuple(walk.renames.get(n, n) for n in entries),
        imports=tuple(dict.fromkeys(walk.imports)),
        origins=origins,
        vendored=walk.vendored,
    )


__all__ = ["PipelineSource", "locate_source", "shown"]
