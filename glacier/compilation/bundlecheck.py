"""At compile time, import the function bundle the way the cloud will: in a clean interpreter.

The bundle's modules are written to a temporary folder (Glacier's own packages linked, not
copied, so their bytecode cache is used) and imported by ``python -I -S`` (no environment
variables, no user site, no ``.pth`` files): ``sys.path`` is the folder and the standard
library; installed distributions are reachable only for the top-level modules of those the
bundle will have installed (the runtime's, the imported and the declared ones, with their
dependencies). The entry modules (the pipeline's and the tasks') are imported; every other
import the code makes (inside functions too) is looked up. An import that fails is a
``CompilationError`` naming the module, the file that imports it and the fix.

The check runs while the stack is being built (one process, started before and awaited
after), so it costs little wall time; a bundle that passed once is not checked again by the
same process.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from glacier.compilation.bundle import (
    RUNTIME_REQUIREMENTS,
    package_root,
    vendored_files,
)
from glacier.compilation.distributions import (
    installed,
    requirement_name,
    top_level_names,
    with_dependencies,
)
from glacier.compilation.sources import PipelineSource, shown
from glacier.errors import CompilationError

PROBE = Path(__file__).with_name("import_probe.py")
#: Seconds a bundle may take to import before the check gives up.
TIMEOUT = 300
_passed: set[str] = set()


def _allowed(source: PipelineSource, declared: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """(top-level module names, their folders) of the distributions the bundle will install."""
    names = [*RUNTIME_REQUIREMENTS, *source.distributions, *map(requirement_name, declared)]
    tops: set[str] = set()
    folders: set[str] = set()
    for name in sorted(with_dependencies(names)):
        dist = installed(name)
        if dist is not None:
            tops |= top_level_names(name)
            folders.add(os.path.realpath(str(dist.locate_file(""))))
    return sorted(tops), sorted(folders)


def _lay_out(source: PipelineSource, root: Path) -> None:
    """The bundle's modules under ``root``: the user's written, Glacier's linked (copied where
    links are not allowed)."""
    for rel, text in source.files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
    for name in source.vendored:
        try:
            os.symlink(package_root(name), root / name, target_is_directory=True)
        except OSError:
            for rel, text in vendored_files((name,)):
                (root / rel).parent.mkdir(parents=True, exist_ok=True)
                (root / rel).write_text(text, encoding="utf-8")


def _job(source: PipelineSource, declared: tuple[str, ...], root: Path) -> dict[str, Any]:
    installed_names, folders = _allowed(source, declared)
    return {
        "root": str(root),
        "result": str(root.parent / "result.json"),
        "entries": list(source.entries),
        "imports": [list(i) for i in source.imports],
        "installed": installed_names,
        "folders": folders,
    }


def _key(job: dict[str, Any], source: PipelineSource) -> str:
    digest = hashlib.sha256(sys.executable.encode())
    for rel, text in sorted(source.files.items()):
        digest.update(f"\0{rel}\0{text}".encode())
    fixed = {k: v for k, v in job.items() if k not in ("root", "result")}
    digest.update(json.dumps(fixed, sort_keys=True).encode())
    return digest.hexdigest()


def _message(pipeline: str, source: PipelineSource, failure: dict[str, Any]) -> str:
    importer = failure["importer"]
    where = shown(source.origins.get(importer, importer)) if importer else "the bundle"
    at = f"{where}:{failure['line']}" if failure["line"] else where
    return (
        f"pipeline {pipeline!r}: the function bundle does not import in a clean interpreter: "
        f"module {failure['module']!r}, imported by {at}, is missing ({failure['error']}); "
        "import it with an import statement (the bundle then carries your own module, or pins "
        "the installed distribution), or add its distribution to Pipeline(requirements=[...])"
    )


@contextmanager
def import_check(
    pipeline: str, source: PipelineSource, declared: tuple[str, ...]
) -> Iterator[None]:
    """Run the bundle's import check while the body runs; raise CompilationError after it
    when an import fails (a failing body stops the check and its error propagates)."""
    folder = Path(tempfile.mkdtemp(prefix="glacier-bundle-check-"))
    process = None
    try:
        job = _job(source, declared, folder / "app")
        key = _key(job, source)
        if key not in _passed:
            _lay_out(source, folder / "app")
            (folder / "job.json").write_text(json.dumps(job), encoding="utf-8")
            process = _start(pipeline, folder)
        yield
        if process is not None:
            _finish(pipeline, source, process, Path(job["result"]))
            _passed.add(key)
    finally:
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()
        shutil.rmtree(folder, ignore_errors=True)


def _start(pipeline: str, folder: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-I", "-S", str(PROBE), str(folder / "job.json")]
    try:
        return subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            cwd=folder,
        )
    except OSError as exc:
        msg = (
            f"pipeline {pipeline!r}: cannot start {sys.executable or 'the Python interpreter'!r} "
            f"to import the function bundle in a clean interpreter ({exc}); compile with a "
            "Python whose sys.executable runs"
        )
        raise CompilationError(msg) from exc


def _finish(
    pipeline: str, source: PipelineSource, process: subprocess.Popen[bytes], result: Path
) -> None:
    try:
        _, stderr = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        msg = (
            f"pipeline {pipeline!r}: importing the function bundle took over {TIMEOUT} s in a "
            "clean interpreter; a module does slow work at import (move it into a task)"
        )
        raise CompilationError(msg) from None
    if process.returncode != 0 or not result.exists():
        tail = stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        msg = (
            f"pipeline {pipeline!r}: the bundle import check stopped (exit code "
            f"{process.returncode}: {tail[0]}); a module ends the interpreter at import"
        )
        raise CompilationError(msg)
    failures = json.loads(result.read_text(encoding="utf-8"))
    if failures:
        raise CompilationError(_message(pipeline, source, failures[0]))


__all__ = ["import_check"]
