"""What every cloud's entry point does around :func:`run_task`, whatever the cloud.

A deployed task reads its configuration from the environment the compiled stack sets, runs
with :func:`glacier.runtime.run_task`, logs one JSON object per line (secrets redacted) and
reports success or a classified failure. Provider adapters (a function's HTTP handler, a
container's command) only translate their event into :func:`execute` and its outcome into
their response. Whatever an invocation changes in ``os.environ`` is undone when it ends, so
a warm instance starts every invocation alike.

Environment:

- ``GLACIER_TASK``: the task name (a container's ``--task`` overrides it).
- ``GLACIER_LOCATIONS``: JSON ``{dataset: uri template}`` for the task's inputs and outputs.
- ``GLACIER_MANIFEST``: the manifest path relative to the bundle root (``manifest.json``).
- ``GLACIER_RUN_ID``: the run id when the event has none (a container gets it so).
- ``GLACIER_BUNDLE_ROOT``: the bundle root; default: the folder holding the vendored
  ``glacier`` package.
- ``GLACIER_STORAGE_OPTIONS``: optional JSON of Polars storage options.
- ``GLACIER_PARAMS``: optional JSON ``{param: value}`` overriding task parameter defaults.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from glacier.errors import TaskFailedError, is_retryable
from glacier.ir import PipelineIR, from_json
from glacier.pipeline import Pipeline
from glacier.redact import RedactingFilter, redact
from glacier.runtime.locations import InvalidRunIdError, check_run_id, shown_run_id
from glacier.runtime.runner import load_bundle_pipeline, run_task

#: What an event looks like (quoted by the error for any other event).
EVENT_SHAPE = '{"run_id": "<run id>", "params": {"<param>": <value>}} (both optional)'

_manifests: dict[Path, PipelineIR] = {}
_pipelines: dict[Path, Pipeline | None] = {}


class ConfigurationError(RuntimeError):
    """The environment (or the event) does not describe a task to run: redeploying fixes it,
    trying again does not."""

    retryable = False


def retryable(exc: BaseException) -> bool:
    """Whether the orchestrator should try the task again after ``exc``: never for a refused
    run id or a misconfigured deployment, else as :func:`glacier.errors.is_retryable` says."""
    if isinstance(exc, InvalidRunIdError):
        return False
    return is_retryable(exc)


# -- structured logs ---------------------------------------------------------------------------


class JsonFormatter(logging.Formatter):
    """One JSON object per record: severity, logger, message, and the record's ``fields``."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "severity": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info and record.exc_info[1] is not None:
            entry["traceback"] = self.formatException(record.exc_info)
        return redact(json.dumps(entry, default=str, sort_keys=True))


class _StdoutHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler this module installs (told apart from any the host installed)."""


def _logger() -> logging.Logger:
    log = logging.getLogger("glacier")
    handler = next((h for h in log.handlers if isinstance(h, _StdoutHandler)), None)
    if handler is None:
        handler = _StdoutHandler(sys.stdout)
        handler.setFormatter(JsonFormatter())
        log.addHandler(handler)
        log.addFilter(RedactingFilter())
        log.setLevel(logging.INFO)
        log.propagate = False
    elif handler.stream is not sys.stdout:
        handler.stream = sys.stdout
    return log


def log(level: int, message: str, **fields: Any) -> None:
    _logger().log(level, message, extra={"fields": fields}, exc_info=level >= logging.ERROR)


# -- configuration -----------------------------------------------------------------------------


def _required(name: str, env: Mapping[str, str]) -> str:
    value = env.get(name)
    if not value:
        msg = (
            f"environment variable {name} is not set; the compiled stack sets it for every "
            "task: redeploy it (pulumi up)"
        )
        raise ConfigurationError(msg)
    return value


def _json_object(name: str, env: Mapping[str, str], default: Any) -> Any:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        msg = f"environment variable {name} must hold JSON, found {raw[:80]!r} ({exc})"
        raise ConfigurationError(msg) from None
    if not isinstance(value, dict):
        msg = f"environment variable {name} must hold a JSON object, found {raw[:80]!r}"
        raise ConfigurationError(msg)
    return value


def _locations(env: Mapping[str, str]) -> dict[str, str]:
    _required("GLACIER_LOCATIONS", env)
    found = _json_object("GLACIER_LOCATIONS", env, {})
    bad = sorted(k for k, v in found.items() if not isinstance(v, str) or not v)
    if bad:
        msg = (
            f"environment variable GLACIER_LOCATIONS must map each dataset to a URI string; "
            f"dataset {bad[0]!r} has {found[bad[0]]!r}. Recompile and redeploy"
        )
        raise ConfigurationError(msg)
    return dict(found)


def bundle_root(env: Mapping[str, str] = os.environ) -> Path:
    """Where manifest.json and the user's modules are: ``GLACIER_BUNDLE_ROOT``, else the
    folder holding the vendored ``glacier`` package."""
    root = env.get("GLACIER_BUNDLE_ROOT")
    return Path(root) if root else Path(__file__).resolve().parents[2]


def _manifest(root: Path, env: Mapping[str, str]) -> PipelineIR:
    path = root / (env.get("GLACIER_MANIFEST") or "manifest.json")
    if path not in _manifests:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            msg = f"pipeline manifest {path} cannot be read ({exc}); recompile and redeploy"
            raise ConfigurationError(msg) from None
        try:
            _manifests[path] = from_json(text)
        except ValueError as exc:
            reason = " ".join(str(exc).split())[:300]
            msg = f"pipeline manifest {path} is not a Glacier manifest ({reason}); redeploy"
            raise ConfigurationError(msg) from exc
    return _manifests[path]


def _pipeline(root: Path, manifest: PipelineIR, env: Mapping[str, str]) -> Pipeline | None:
    key = root / (env.get("GLACIER_MANIFEST") or "manifest.json")
    if key not in _pipelines:
        _pipelines[key] = load_bundle_pipeline(manifest, root)
    return _pipelines[key]


def _event_fields(event: Any) -> tuple[Any, dict[str, Any]]:
    """An event's run id (unchecked) and params; anything else is a ConfigurationError."""
    if event is None:
        return None, {}
    if not isinstance(event, Mapping):
        msg = f"the event must be a JSON object {EVENT_SHAPE}, found a {type(event).__name__}"
        raise ConfigurationError(msg)
    params = event.get("params")
    if params is not None and not isinstance(params, Mapping):
        msg = (
            f"the event's params must be a JSON object {EVENT_SHAPE}, found {type(params).__name__}"
        )
        raise ConfigurationError(msg)
    return event.get("run_id"), dict(params or {})


def _restore_environment(saved: Mapping[str, str]) -> None:
    for name in [n for n in os.environ if n not in saved]:
        del os.environ[name]
    for name, value in saved.items():
        if os.environ.get(name) != value:
            os.environ[name] = value


def execute(task: str | None, event: Any) -> dict[str, Any]:
    """Run ``task`` (None: ``GLACIER_TASK``) for ``event`` as the environment describes; the
    report. Every failure is logged as one ``task_failed`` line (with ``retryable``) and
    re-raised; a task calling ``sys.exit()`` is a TaskFailedError."""
    env = os.environ
    saved = dict(env)
    started = time.perf_counter()
    fields: dict[str, Any] = {"task": task, "run_id": None}
    try:
        try:
            task = _required("GLACIER_TASK", env) if task is None else task
            fields["task"] = task
            run_id, params = _event_fields(event)
            run_id = run_id or env.get("GLACIER_RUN_ID")
            if not run_id:
                msg = f"task {task!r}: no run id; expected event['run_id'] or GLACIER_RUN_ID"
                raise ConfigurationError(msg)
            fields["run_id"] = shown_run_id(run_id)
            fields["run_id"] = run_id = check_run_id(run_id)
            log(logging.INFO, "task started", event="task_started", **fields)
            root = bundle_root(env)
            manifest = _manifest(root, env)
            report = run_task(
                manifest,
                task,
                _locations(env),
                run_id=run_id,
                pipeline=_pipeline(root, manifest, env),
                storage_options=_json_object("GLACIER_STORAGE_OPTIONS", env, None),
                params={**_json_object("GLACIER_PARAMS", env, {}), **params},
                bundle_root=root,
            )
        except SystemExit as exc:
            msg = redact(
                f"task {task!r} called sys.exit({exc.code!r}) before its outputs were written; "
                "a task must return its outputs (raise an exception to fail it)"
            )
            raise TaskFailedError(msg, task=str(task)) from exc
    except Exception as exc:
        seconds = round(time.perf_counter() - started, 3)
        log(logging.ERROR, f"task failed: {exc}", event="task_failed", error=type(exc).__name__,
            retryable=retryable(exc), seconds=seconds, **fields)  # fmt: skip
        raise
    finally:
        _restore_environment(saved)
    log(logging.INFO, "task succeeded", event="task_succeeded", **report)
    return report


__all__ = [
    "EVENT_SHAPE",
    "ConfigurationError",
    "JsonFormatter",
    "bundle_root",
    "execute",
    "log",
    "retryable",
]
