"""Project configuration: ``[tool.glacier]`` in ``pyproject.toml``, or a ``glacier.toml``.

A project keeps the settings its runs share in one file, found by walking up from the
pipeline's file (or, for a command without REF, from the working directory)::

    [tool.glacier]                    # in glacier.toml: the same keys at the top level
    pipeline = "pipeline.py"          # REF used when the command line names none
    root = ".glacier"                 # where stored datasets live in a local run
    target = "aws"                    # the provider `glacier compile` uses without --target

    [tool.glacier.inputs]             # source name -> path or URL
    orders = "data/orders.csv"

    [tool.glacier.params]             # "task.param" = value
    "summarize.top_n" = 5

    [tool.glacier.env.prod]           # with --env prod / run(env="prod"): overrides the above
    root = "s3-cache"
    inputs = { orders = "s3://bucket/orders.csv" }

Every relative path (``root``, ``inputs``, ``pipeline``) is anchored to the folder of the
file that holds it, never to the working directory, so a run started from any folder uses
the same root and skips what is fresh. Command-line flags and ``run()`` arguments win over
the file. An unknown key or environment is an error naming the file: a typo must not be a
setting silently ignored.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from glacier.errors import DefinitionError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 reads TOML with the tomli backport
    import tomli as tomllib

#: The keys a configuration (or one of its environments) may set.
_KEYS = {"pipeline", "root", "target", "inputs", "params"}
_TABLES = {"inputs", "params"}


@dataclass(frozen=True)
class ProjectConfig:
    """A project's settings, with one environment applied and every path made absolute."""

    file: Path | None = None
    env: str | None = None
    pipeline: str | None = None
    root: str | None = None
    target: str | None = None
    inputs: dict[str, str] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)


def find_config(start: str | Path) -> Path | None:
    """The nearest ``glacier.toml`` or ``pyproject.toml`` with ``[tool.glacier]`` at or above
    ``start`` (a file or a folder); None when there is none."""
    here = Path(start).expanduser().resolve()
    if not here.is_dir():
        here = here.parent
    for folder in (here, *here.parents):
        own = folder / "glacier.toml"
        if own.is_file():
            return own
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and "glacier" in _read(pyproject).get("tool", {}):
            return pyproject
    return None


def load_config(start: str | Path | None, env: str | None = None) -> ProjectConfig:
    """The configuration found from ``start`` with environment ``env`` applied.

    Without a file, an empty configuration (and ``env`` is an error: it names an
    environment that nothing defines).
    """
    file = find_config(start) if start is not None else None
    if file is None:
        if env is not None:
            msg = (
                f"environment {env!r} was asked for, but no glacier.toml or pyproject.toml with "
                f"[tool.glacier] is at or above {start or 'the working directory'}; define "
                f"[env.{env}] there (glacier init writes one)"
            )
            raise DefinitionError(msg)
        return ProjectConfig()
    return parse_config(file, env)


def parse_config(file: Path, env: str | None = None) -> ProjectConfig:
    """Read ``file`` (a glacier.toml or a pyproject.toml) and apply environment ``env``."""
    data = _read(file)
    table = data.get("tool", {}).get("glacier", {}) if file.name == "pyproject.toml" else data
    where = f"{file} [tool.glacier]" if file.name == "pyproject.toml" else str(file)
    envs = table.get("env", {})
    if not isinstance(envs, dict):
        raise DefinitionError(f"{where}: 'env' must be a table of environments, e.g. [env.prod]")
    base = _settings(table, where, allow_env=True)
    if env is not None:
        if env not in envs:
            known = ", ".join(sorted(envs)) or "none"
            msg = f"--env {env}: {where} defines no environment {env!r} (environments: {known}); add [env.{env}]"
            raise DefinitionError(msg)
        over = _settings(envs[env], f"{where} [env.{env}]", allow_env=False)
        for key in _TABLES:
            base[key] = {**base.get(key, {}), **over.pop(key, {})}
        base.update(over)
    folder = file.parent
    return ProjectConfig(
        file=file,
        env=env,
        pipeline=_anchor_ref(base["pipeline"], folder) if "pipeline" in base else None,
        root=_anchor(base["root"], folder) if "root" in base else None,
        target=base.get("target"),
        inputs={k: _anchor(v, folder) for k, v in base.get("inputs", {}).items()},
        params=dict(base.get("params", {})),
    )


def _read(file: Path) -> dict[str, Any]:
    try:
        with file.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise DefinitionError(f"{file}: not valid TOML: {exc}; fix the file") from exc


def _settings(table: Any, where: str, allow_env: bool) -> dict[str, Any]:
    """The known keys of one table, each checked; anything else is an error."""
    if not isinstance(table, dict):
        raise DefinitionError(f"{where}: expected a table of settings, found {table!r}")
    allowed = _KEYS | ({"env"} if allow_env else set())
    unknown = sorted(set(table) - allowed)
    if unknown:
        msg = f"{where}: unknown key {unknown[0]!r}; known keys: {', '.join(sorted(allowed))}"
        raise DefinitionError(msg)
    found: dict[str, Any] = {}
    for key in _KEYS & set(table):
        value = table[key]
        if key in _TABLES:
            if not isinstance(value, dict):
                raise DefinitionError(f"{where}: {key!r} must be a table, found {value!r}")
            if key == "inputs" and not all(isinstance(v, str) for v in value.values()):
                msg = f'{where}: every input must be a path or URL string, e.g. orders = "data/orders.csv"'
                raise DefinitionError(msg)
            if key == "params":
                _check_param_keys(value, where)
            found[key] = dict(value)
        elif not isinstance(value, str) or not value:
            raise DefinitionError(f"{where}: {key!r} must be a non-empty string, found {value!r}")
        else:
            found[key] = value
    return found


def _check_param_keys(params: dict[str, Any], where: str) -> None:
    for key in params:
        name, dot, param = key.partition(".")
        if not (dot and name and param):
            msg = f'{where}: params key {key!r} must be "task.param", e.g. "split.min_total" = 5'
            raise DefinitionError(msg)


def _is_url(value: str) -> bool:
    return "://" in value


def _anchor(value: str, folder: Path) -> str:
    """A relative path made absolute against ``folder``; URLs and absolute paths as given."""
    if _is_url(value):
        return value
    path = Path(value).expanduser()
    return str(path if path.is_absolute() else folder / path)


def _anchor_ref(ref: str, folder: Path) -> str:
    """A pipeline REF: a file path is anchored (its ``:attr`` kept), a module name is not."""
    target, sep, attr = ref.rpartition(":")
    if not sep or not attr.replace(".", "").isidentifier():
        target, sep, attr = ref, "", ""
    if target.endswith(".py") or "/" in target:
        return _anchor(target, folder) + (f":{attr}" if sep else "")
    return ref


def pipeline_file(validated: Any) -> Path | None:
    """The file of the module that declared a validated pipeline (its configuration is
    looked for from there); None for a pipeline declared in a notebook or a console."""
    module = sys.modules.get(getattr(validated, "module", "") or "")
    file = getattr(module, "__file__", None)
    return Path(file) if file and Path(file).is_file() else None


def apply_config(
    validated: Any,
    env: str | None,
    inputs: Mapping[str, Any],
    params: Mapping[str, Any],
) -> tuple[ProjectConfig, dict[str, Any], dict[str, Any]]:
    """The project configuration of a run and its inputs and params with the file's under
    the caller's (the caller's win). A configured input that names no source is an error."""
    config = load_config(pipeline_file(validated), env)
    sources = validated.dag.sources
    unknown = sorted(set(config.inputs) - set(sources))
    if unknown:
        known = ", ".join(sources) or "none"
        msg = (
            f"{config.file}: inputs names {unknown[0]!r}, which is not a source of pipeline "
            f"{validated.name!r} (sources: {known}); fix or remove it"
        )
        raise DefinitionError(msg)
    for key in config.params:
        name, _, param = key.partition(".")
        task = validated.dag.tasks.get(name)
        names = [p.name for p in task.params] if task is not None else []
        if param not in names:
            what = f"task {name!r} has no parameter {param!r}" if task else f"no task {name!r}"
            msg = (
                f"{config.file}: params names {key!r}, but pipeline {validated.name!r} has "
                f"{what}; fix or remove it"
            )
            raise DefinitionError(msg)
    return config, {**config.inputs, **inputs}, {**config.params, **params}


__all__ = [
    "ProjectConfig",
    "apply_config",
    "find_config",
    "load_config",
    "parse_config",
    "pipeline_file",
]
