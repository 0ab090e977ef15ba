"""Import a function bundle in a clean interpreter; run by path as ``python -I -S import_probe.py job.json``.

Standard library only, and nothing imported from Glacier before the bundle is on the path:
this runs with the bundle folder first on ``sys.path``, then the standard library; installed
distributions are reachable only through :class:`Installed`, which serves just the top-level
modules of the distributions the bundle will have installed. The job comes as a JSON file;
the failures go as JSON to the job's ``result`` file (a module may print while it imports).
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import json
import os
import sys
import traceback
from collections.abc import Sequence
from types import ModuleType
from typing import Any


class Installed:
    """A finder for the allowed top-level modules of the installed distributions."""

    def __init__(self, names: Sequence[str], folders: Sequence[str]) -> None:
        self.names = frozenset(names)
        self.folders = list(folders)

    def find_spec(
        self, name: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if path is not None or name not in self.names:
            return None  # submodules are found through their package's own path
        return importlib.machinery.PathFinder.find_spec(name, self.folders)


def _importer(exc: BaseException, root: str) -> tuple[str, int]:
    """The innermost bundle file (relative to ``root``) and line the failed import ran in."""
    found = ("", 0)
    for frame in traceback.extract_tb(exc.__traceback__):
        path = os.path.realpath(frame.filename)
        if path.startswith(root + os.sep):
            found = (os.path.relpath(path, root).replace(os.sep, "/"), frame.lineno or 0)
    return found


def _failure(module: str, importer: str, line: int, error: str) -> dict[str, Any]:
    return {"module": module, "importer": importer, "line": line, "error": error}


def probe(job: dict[str, Any]) -> list[dict[str, Any]]:
    """Import the entry modules, then find every other import; the failures."""
    root = os.path.realpath(job["root"])
    sys.path.insert(0, root)
    sys.meta_path.append(Installed(job["installed"], job["folders"]))  # type: ignore[arg-type]
    failures = []
    for entry in job["entries"]:
        try:
            importlib.import_module(entry)
        except ImportError as exc:
            importer, line = _importer(exc, root)
            failures.append(_failure(exc.name or entry, importer, line, str(exc)))
        except BaseException:  # not an import problem: the runtime meets it too
            continue
    for module, importer, line in job["imports"]:
        try:
            found = importlib.util.find_spec(module)
        except ImportError as exc:
            failures.append(_failure(exc.name or module, importer, line, str(exc)))
            continue
        except BaseException:  # a package's __init__ failing, not an import
            continue
        if found is None:
            failures.append(_failure(module, importer, line, f"No module named {module!r}"))
    return failures


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as fh:
        job = json.load(fh)
    failures = probe(job)
    with open(job["result"], "w", encoding="utf-8") as fh:
        json.dump(failures, fh)


if __name__ == "__main__":
    main()
