"""The function bundle's provider-neutral parts: Glacier's own packages and the requirements.

Every provider's bundle holds the manifest, the user's modules (see
:mod:`glacier.compilation.sources`), Glacier's packages copied verbatim (the runtime imports
them; they are not installed from an index) and a requirements file: Glacier's runtime
dependencies and each distribution the user's code imports, pinned to the versions this
compile ran with (so the cloud runs what was tested locally), then the pipeline's declared
requirements. A provider adds what only it knows (its own extra packages) and lays the files
out where its platform expects them.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from glacier.compilation.distributions import pin, requirement_name
from glacier.compilation.registry import installed_providers

#: The bundle's runtime dependencies (Glacier's own, minus the terminal-only ones).
RUNTIME_REQUIREMENTS = ("polars", "pydantic", "typing-extensions")


def vendored_packages() -> tuple[str, ...]:
    """The packages copied into the bundle (the runtime imports them; they are not on PyPI as
    such): the core, and every installed provider's package, as the provider registry lists them.

    Every provider, not only those the pipeline places resources on: a pipeline module may
    declare another provider's storage or compute it does not use, and the bundle must still
    import it. Provider packages are small (declarations, no SDKs).
    """
    return ("glacier", *sorted({p.package for p in installed_providers()}))


def _read(path: Path) -> str:
    with open(path, encoding="utf-8", newline="") as fh:
        return fh.read()


def package_root(name: str) -> Path:
    """The folder of installed package ``name``."""
    return Path(importlib.import_module(name).__file__ or "").parent


@lru_cache(maxsize=4)
def vendored_files(packages: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """``(<pkg>/<path>, text)`` for every source file of the vendored packages; a provider's
    ``stack/`` folder (deploy-time helpers, copied beside the program) is left out."""
    files = []
    for name in packages:
        root = package_root(name)
        for path in sorted(root.rglob("*")):
            if path.suffix in (".py", ".typed") and "__pycache__" not in path.parts:
                rel = path.relative_to(root.parent).as_posix()
                if not (name != "glacier" and rel.startswith(f"{name}/stack/")):
                    files.append((rel, _read(path)))
    return tuple(files)


def requirements_text(requirements: Iterable[str], extra: Iterable[str] = ()) -> str:
    """A requirements file: the runtime's and ``extra`` distributions pinned, then
    ``requirements`` (pins of imported distributions, declared requirements) less the lines
    already there; sorted by distribution name."""
    lines = [pin(n) for n in (*RUNTIME_REQUIREMENTS, *extra)]
    lines += [r for r in requirements if r not in lines]
    ordered = sorted(dict.fromkeys(lines), key=lambda line: (requirement_name(line), line))
    return "".join(f"{line}\n" for line in ordered)


__all__ = [
    "RUNTIME_REQUIREMENTS",
    "package_root",
    "requirements_text",
    "vendored_files",
    "vendored_packages",
]
