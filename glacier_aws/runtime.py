"""The entry points inside AWS: the Lambda handler and the Fargate command.

Both read the task's configuration from the environment the compiled stack sets, run the task
with :func:`glacier.runtime.run_task`, and log one JSON object per line (CloudWatch Logs
Insights can query the fields). Errors are logged and re-raised: Lambda reports the exception
class as the error type, which Step Functions' Retry/Catch match on (``SchemaError`` is not
retried); the Fargate command exits non-zero so the ECS task, and the state, fail.

Environment:

- ``GLACIER_TASK``: the task name (Fargate: ``--task`` overrides it).
- ``GLACIER_LOCATIONS``: JSON ``{dataset: uri template}`` for the task's inputs and outputs.
- ``GLACIER_MANIFEST``: the manifest path relative to the bundle root (default ``manifest.json``).
- ``GLACIER_RUN_ID``: the run id when the event has none (Fargate gets it from Step Functions).
- ``GLACIER_BUNDLE_ROOT``: the bundle root; default ``LAMBDA_TASK_ROOT``, else the folder
  holding the vendored ``glacier_aws`` package.
- ``GLACIER_SECRET_ARN_<VAR>``: a Secrets Manager ARN whose value is put in ``os.environ[VAR]``
  before the task runs (Lambda; Fargate gets secrets from ECS directly).
- ``GLACIER_STORAGE_OPTIONS``: optional JSON of Polars storage options (e.g.
  ``aws_endpoint_url`` for a local S3); by default Polars takes credentials and region from
  the function's environment.
- ``GLACIER_PARAMS``: optional JSON ``{param: value}`` overriding task parameter defaults; a
  Lambda event's ``"params"`` overrides it in turn.

This module imports neither pulumi nor boto3 at import time (boto3 only to fetch secrets).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from glacier.pipeline import Pipeline
from glacier.runtime import load_bundle_pipeline, run_task
from glacier.spec import PipelineSpec

SECRET_PREFIX = "GLACIER_SECRET_ARN_"

_manifests: dict[Path, PipelineSpec] = {}
_pipelines: dict[Path, Pipeline | None] = {}


class ConfigurationError(RuntimeError):
    """The function's environment does not describe a task to run."""


# -- structured logs ---------------------------------------------------------------------------


class JsonFormatter(logging.Formatter):
    """One JSON object per record: level, logger, message, and the record's ``fields``."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info and record.exc_info[1] is not None:
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, sort_keys=True)


class _StdoutHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler this module installs (told apart from any the host installed)."""


def _logger() -> logging.Logger:
    """The ``glacier`` logger writing JSON lines to stdout (set up once per process)."""
    log = logging.getLogger("glacier")
    handler = next((h for h in log.handlers if isinstance(h, _StdoutHandler)), None)
    if handler is None:
        handler = _StdoutHandler(sys.stdout)
        handler.setFormatter(JsonFormatter())
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False  # Lambda's root handler would print every line twice
    elif handler.stream is not sys.stdout:
        handler.stream = sys.stdout  # replaced (test capture, a wrapper); the old may be closed
    return log


def _log(level: int, message: str, **fields: Any) -> None:
    _logger().log(level, message, extra={"fields": fields}, exc_info=level >= logging.ERROR)


# -- configuration -----------------------------------------------------------------------------


def _json_env(name: str, env: Mapping[str, str], default: Any) -> Any:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        msg = f"environment variable {name} must hold JSON, found {raw[:80]!r} ({exc})"
        raise ConfigurationError(msg) from None


def _required(name: str, env: Mapping[str, str]) -> str:
    value = env.get(name)
    if not value:
        msg = f"environment variable {name} is not set; the compiled stack sets it for every task"
        raise ConfigurationError(msg)
    return value


def bundle_root(env: Mapping[str, str] = os.environ) -> Path:
    """Where manifest.json and the user's modules are (see the module docstring)."""
    root = env.get("GLACIER_BUNDLE_ROOT") or env.get("LAMBDA_TASK_ROOT")
    return Path(root) if root else Path(__file__).resolve().parent.parent


def _manifest(root: Path, env: Mapping[str, str]) -> PipelineSpec:
    """The bundle's manifest, parsed once per process (warm Lambdas reuse it)."""
    path = root / env.get("GLACIER_MANIFEST", "manifest.json")
    if path not in _manifests:
        try:
            _manifests[path] = PipelineSpec.from_json(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            msg = f"pipeline manifest {path} not found; GLACIER_MANIFEST is relative to {root}"
            raise ConfigurationError(msg) from None
    return _manifests[path]


def _pipeline(root: Path, manifest: PipelineSpec, env: Mapping[str, str]) -> Pipeline | None:
    """The bundle's pipeline, imported once per process."""
    key = root / env.get("GLACIER_MANIFEST", "manifest.json")
    if key not in _pipelines:
        _pipelines[key] = load_bundle_pipeline(manifest, root)
    return _pipelines[key]


def load_secrets(env: Mapping[str, str] = os.environ) -> list[str]:
    """Put each ``GLACIER_SECRET_ARN_<VAR>`` secret's value in ``os.environ[VAR]``; the VARs.

    boto3 is imported here only: it is in the Lambda runtime, and the core must not need it.
    """
    wanted = {k[len(SECRET_PREFIX) :]: v for k, v in env.items() if k.startswith(SECRET_PREFIX)}
    if not wanted:
        return []
    import boto3

    client = boto3.client("secretsmanager")
    for var, arn in sorted(wanted.items()):
        os.environ[var] = client.get_secret_value(SecretId=arn)["SecretString"]
    return sorted(wanted)


def _execute(task: str, run_id: str | None, params: Mapping[str, Any]) -> dict[str, Any]:
    """Run ``task`` as the environment describes; the report. Logs start, end and failure."""
    env = os.environ
    run_id = run_id or env.get("GLACIER_RUN_ID")
    if not run_id:
        msg = f"task {task!r}: no run id; expected event['run_id'] or GLACIER_RUN_ID"
        raise ConfigurationError(msg)
    started = time.perf_counter()
    _log(logging.INFO, "task started", event="task_started", task=task, run_id=run_id)
    try:
        root = bundle_root(env)
        manifest = _manifest(root, env)
        secrets = load_secrets(env)
        report = run_task(
            manifest,
            task,
            _json_env("GLACIER_LOCATIONS", env, {}),
            run_id=run_id,
            pipeline=_pipeline(root, manifest, env),
            storage_options=_json_env("GLACIER_STORAGE_OPTIONS", env, None),
            params={**_json_env("GLACIER_PARAMS", env, {}), **params},
            bundle_root=root,
        )
    except Exception as exc:
        seconds = round(time.perf_counter() - started, 3)
        _log(
            logging.ERROR,
            f"task failed: {exc}",
            event="task_failed",
            task=task,
            run_id=run_id,
            error=type(exc).__name__,
            seconds=seconds,
        )
        raise
    _log(logging.INFO, "task succeeded", event="task_succeeded", secrets=secrets, **report)
    return report


# -- entry points ------------------------------------------------------------------------------


def handler(event: Mapping[str, Any] | None, context: Any = None) -> dict[str, Any]:
    """Lambda entry point: ``{"run_id": ..., "params"?: {...}}`` in, the task's report out."""
    event = event or {}
    params = event.get("params") or {}
    return _execute(_required("GLACIER_TASK", os.environ), event.get("run_id"), params)


def main(argv: Sequence[str] | None = None) -> int:
    """Fargate entry point: ``python -m glacier_aws.runtime --task NAME [--run-id ID]``."""
    parser = argparse.ArgumentParser(prog="python -m glacier_aws.runtime")
    parser.add_argument("--task", default=os.environ.get("GLACIER_TASK"))
    parser.add_argument("--run-id", default=None)
    args = parser.parse_args(argv)
    if not args.task:
        parser.error("--task is required (or set GLACIER_TASK)")
    try:
        _execute(args.task, args.run_id, {})
    except Exception:
        return 1  # already logged with its traceback; a non-zero exit fails the ECS task
    return 0


__all__ = ["ConfigurationError", "JsonFormatter", "bundle_root", "handler", "load_secrets", "main"]

if __name__ == "__main__":
    sys.exit(main())
