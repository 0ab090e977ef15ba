"""Each task's ``env`` for a local run: plain values as given, secrets from this machine.

A ``Secret`` under env key ``API_TOKEN`` takes its local value from the process environment
variable ``API_TOKEN``, else from the project's ``.env`` file (parsed by python-dotenv, so
quoting, ``export`` prefixes and ``${VAR}`` interpolation work as everywhere else). An empty
value counts as missing. Every secret without a local value is reported in one
:class:`MissingSecretError` before any task runs.

The ``.env`` is looked for next to the pipeline's file (the module that made the Pipeline,
else the first task's module), then in each parent folder up to the project root (the nearest
folder holding ``pyproject.toml``, ``glacier.toml`` or ``.git``); without a project root, only
next to the file. A pipeline with no file (a notebook) looks in the working directory the same
way. The values found are registered with glacier.redact, so no log line, error or result of
the run shows them.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from glacier.compute import Secret
from glacier.errors import MissingSecretError
from glacier.redact import register

if TYPE_CHECKING:
    from glacier.task import Task
    from glacier.validated import Validated

#: Files that mark a project's root folder: the search for ``.env`` stops there.
PROJECT_MARKERS = ("pyproject.toml", "glacier.toml", ".git")


def task_environments(tasks: Iterable[Task], pipeline: Validated) -> dict[str, dict[str, str]]:
    """``{task name: {variable: value}}`` for the tasks that declare an ``env``; one
    MissingSecretError lists every secret with no local value."""
    envs: dict[str, dict[str, str]] = {}
    missing: dict[str, list[str]] = {}  # variable -> "Secret('x'), task 'a'" descriptions
    dotenv: DotEnv | None = None
    secrets: list[str] = []
    for t in tasks:
        declared: Mapping[str, str | Secret] = getattr(t.compute, "env", None) or {}
        env: dict[str, str] = {}
        for name, value in declared.items():
            if not isinstance(value, Secret):
                env[name] = value
                continue
            found = os.environ.get(name)
            if not found:
                dotenv = dotenv or DotEnv.find(pipeline)
                found = dotenv.values.get(name)
            if not found:
                missing.setdefault(name, []).append(f"{value!r} of task {t.name!r}")
                continue
            secrets.append(found)
            env[name] = found
        if env:
            envs[t.name] = env
    register(secrets)  # before anything can fail or log: even the error below shows none
    if missing:
        assert dotenv is not None
        raise MissingSecretError(_missing_message(missing, dotenv))
    return envs


def _missing_message(missing: Mapping[str, list[str]], dotenv: DotEnv) -> str:
    names = sorted(missing)
    listed = "; ".join(f"{n} ({', '.join(missing[n])})" for n in names)
    one = len(names) == 1
    where = f"{dotenv.path}" + ("" if dotenv.exists else " (create it)")
    exports = " ".join(f"{n}=..." for n in names)
    return (
        f"{'a secret has' if one else f'{len(names)} secrets have'} no local value: {listed}. "
        "A local run takes a Secret's value from the environment variable named by its env "
        f"key, else from the project's .env file: export {exports} or add "
        f"{'the line ' + names[0] + '=...' if one else 'a line NAME=... for each'} to {where}"
    )


class DotEnv:
    """The project's ``.env`` file: where it is (or would be) and its values."""

    def __init__(self, path: Path, values: Mapping[str, str | None], exists: bool) -> None:
        self.path = path
        self.values = {k: v for k, v in values.items() if v}
        self.exists = exists

    @classmethod
    def find(cls, pipeline: Validated) -> DotEnv:
        path, exists = find_dotenv(pipeline_folder(pipeline))
        if not exists:
            return cls(path, {}, False)
        from dotenv import dotenv_values  # only a run that needs a secret from .env pays

        return cls(path, dotenv_values(path), True)


def pipeline_folder(pipeline: Validated) -> Path:
    """The folder of the pipeline's file, or the working directory when it has none."""
    for module in (pipeline.module, *(t.fn.__module__ for t in pipeline.dag.tasks.values())):
        file = getattr(sys.modules.get(module), "__file__", None)
        if file:
            return Path(file).resolve().parent
    return Path.cwd()


def find_dotenv(start: Path) -> tuple[Path, bool]:
    """The ``.env`` nearest ``start`` within its project, and whether it exists; when none
    does, where one belongs (the project root, else ``start``)."""
    chain = [start, *start.parents]
    root = next(
        (
            i
            for i, folder in enumerate(chain)
            if any((folder / m).exists() for m in PROJECT_MARKERS)
        ),
        0,
    )
    for folder in chain[: root + 1]:
        if (folder / ".env").is_file():
            return folder / ".env", True
    return chain[root] / ".env", False


__all__ = ["DotEnv", "find_dotenv", "pipeline_folder", "task_environments"]
