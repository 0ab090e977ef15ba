"""The entry points inside AWS: the Lambda handler and the Fargate command.

Both read the task's configuration from the environment the compiled stack sets, run the task
with :func:`glacier.runtime.run_task`, and log one JSON object per line (CloudWatch Logs
Insights can query the fields). Errors are logged and re-raised: Lambda reports the exception
class as the error type, which Step Functions' Retry/Catch match on (``SchemaError`` is not
retried); the Fargate command exits with a code saying whether its error is retryable
(:func:`exit_code`), which the state machine maps to an error name. A missing
or malformed variable or event is a :class:`ConfigurationError` naming it (logged as well, so
an ECS task that exits 1 says why), a refused run id a
:class:`glacier.runtime.InvalidRunIdError`, and a task calling ``sys.exit()`` a
``TaskFailedError``. Whatever an invocation changes in ``os.environ`` (its secrets, the task's
own code) is undone when it ends, so a warm Lambda starts every invocation alike.

Environment:

- ``GLACIER_TASK``: the task name (Fargate: ``--task`` overrides it).
- ``GLACIER_LOCATIONS``: JSON ``{dataset: uri template}`` for the task's inputs and outputs
  (required).
- ``GLACIER_MANIFEST``: the manifest path relative to the bundle root (default ``manifest.json``).
- ``GLACIER_RUN_ID``: the run id when the event has none (Fargate gets it from Step Functions).
- ``GLACIER_BUNDLE_ROOT``: the bundle root; default ``LAMBDA_TASK_ROOT``, else the folder
  holding the vendored ``glacier_aws`` package.
- ``GLACIER_SECRET_ARN_<VAR>``: a Secrets Manager ARN whose value (a secret string) is put in
  ``os.environ[VAR]`` while the task runs (Lambda; Fargate gets secrets from ECS directly).
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
import re
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from glacier.errors import TaskFailedError, is_retryable
from glacier.ir import PipelineIR, from_json
from glacier.pipeline import Pipeline
from glacier.redact import RedactingFilter, redact, register
from glacier.runtime import check_run_id, load_bundle_pipeline, run_task, shown_run_id
from glacier_aws.fargate_states import EXIT_NOT_RETRYABLE, EXIT_RETRYABLE

SECRET_PREFIX = "GLACIER_SECRET_ARN_"
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

_manifests: dict[Path, PipelineIR] = {}
_pipelines: dict[Path, Pipeline | None] = {}


class ConfigurationError(RuntimeError):
    """The function's environment (or the Lambda event) does not describe a task to run."""


class SecretError(ConfigurationError):
    """A ``GLACIER_SECRET_ARN_<VAR>`` secret could not be fetched (maybe transient: throttling,
    a role just created); its own class name, so Step Functions can retry it while not
    retrying other ConfigurationErrors."""


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
        # a secret's value never reaches a log line, whoever wrote the message or raised
        return json.dumps(_redacted(entry), default=str, sort_keys=True)


def _redacted(value: Any) -> Any:
    """Every string in a log entry, nested ones included, with secret values as ``***``."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {k: _redacted(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redacted(v) for v in value]
    return redact(str(value)) if not isinstance(value, int | float | bool | None) else value


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
        log.addFilter(RedactingFilter())  # before any handler, the host's included
        log.setLevel(logging.INFO)
        log.propagate = False  # Lambda's root handler would print every line twice
    elif handler.stream is not sys.stdout:
        handler.stream = sys.stdout  # replaced (test capture, a wrapper); the old may be closed
    _redact_task_logs()  # the host may have installed its handlers after us
    return log


def _redact_task_logs() -> None:
    """Redact secret values from the tasks' own log lines too: a filter on each handler of
    the root logger (Lambda installs one; where there is none, as on Fargate, one writing to
    stderr is added), since a logger's filter does not see records its children propagate."""
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler(sys.stderr))
    for handler in root.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())


def _log(level: int, message: str, **fields: Any) -> None:
    _logger().log(level, message, extra={"fields": fields}, exc_info=level >= logging.ERROR)


# -- configuration -----------------------------------------------------------------------------

#: What a Lambda event looks like (quoted by the error for any other event).
EVENT_SHAPE = '{"run_id": "<run id>", "params": {"<param>": <value>}} (both optional)'


def _json_env(name: str, env: Mapping[str, str], default: Any) -> Any:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        msg = f"environment variable {name} must hold JSON, found {raw[:80]!r} ({exc})"
        raise ConfigurationError(msg) from None


def _json_object(name: str, env: Mapping[str, str], default: Any, what: str) -> Any:
    """A JSON object from the environment (``default`` when unset); ``what`` describes it."""
    value = _json_env(name, env, default)
    if value is not default and not isinstance(value, dict):
        msg = (
            f"environment variable {name} must hold a JSON object ({what}), "
            f"found a JSON {type(value).__name__}: {env[name][:80]!r}"
        )
        raise ConfigurationError(msg)
    return value


def _locations(env: Mapping[str, str]) -> dict[str, str]:
    """``GLACIER_LOCATIONS``: required, a JSON object of dataset name -> URI template."""
    shape = '{"<dataset>": "s3://<bucket>/<key>"}'
    _required("GLACIER_LOCATIONS", env, f"it holds {shape} for the task's inputs and outputs")
    found = _json_object("GLACIER_LOCATIONS", env, None, shape)
    bad = sorted(k for k, v in found.items() if not isinstance(v, str) or not v)
    if bad:
        msg = (
            f"environment variable GLACIER_LOCATIONS must map each dataset to a URI string "
            f"({shape}); dataset {bad[0]!r} has {found[bad[0]]!r}. Recompile and redeploy"
        )
        raise ConfigurationError(msg)
    return dict(found)


def _required(name: str, env: Mapping[str, str], why: str = "") -> str:
    value = env.get(name)
    if not value:
        msg = (
            f"environment variable {name} is not set{'; ' + why if why else ''}; the compiled "
            "stack sets it for every task: redeploy it (pulumi up) or set it on the function"
        )
        raise ConfigurationError(msg)
    return value


def _root_origin(env: Mapping[str, str]) -> str:
    if env.get("GLACIER_BUNDLE_ROOT"):
        return "GLACIER_BUNDLE_ROOT"
    if env.get("LAMBDA_TASK_ROOT"):
        return "LAMBDA_TASK_ROOT"
    return "the folder holding glacier_aws; set GLACIER_BUNDLE_ROOT to override"


def bundle_root(env: Mapping[str, str] = os.environ) -> Path:
    """Where manifest.json and the user's modules are (see the module docstring)."""
    root = env.get("GLACIER_BUNDLE_ROOT") or env.get("LAMBDA_TASK_ROOT")
    return Path(root) if root else Path(__file__).resolve().parent.parent


def _manifest_path(root: Path, env: Mapping[str, str]) -> Path:
    return root / (env.get("GLACIER_MANIFEST") or "manifest.json")


def _manifest(root: Path, env: Mapping[str, str]) -> PipelineIR:
    """The bundle's manifest, parsed once per process (warm Lambdas reuse it)."""
    path = _manifest_path(root, env)
    if path in _manifests:
        return _manifests[path]
    fix = (
        f"GLACIER_MANIFEST ({env.get('GLACIER_MANIFEST') or 'unset: manifest.json'}) is "
        f"relative to the bundle root {root} (from {_root_origin(env)}); `glacier compile` "
        "writes manifest.json into the bundle: recompile and redeploy"
    )
    if not root.is_dir():
        msg = f"bundle root {root} is not a folder; {fix}"
        raise ConfigurationError(msg)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        msg = f"pipeline manifest {path} not found; {fix}"
        raise ConfigurationError(msg) from None
    except (OSError, UnicodeDecodeError) as exc:
        msg = f"pipeline manifest {path} cannot be read ({exc}); {fix}"
        raise ConfigurationError(msg) from None
    try:
        spec = from_json(text)
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        lines = [line.strip() for line in str(exc).strip().splitlines()[:3]]
        reason = ": ".join(lines)[:300] or type(exc).__name__
        msg = f"pipeline manifest {path} is not a Glacier manifest ({reason}); {fix}"
        raise ConfigurationError(msg) from exc
    _manifests[path] = spec
    return spec


def _pipeline(root: Path, manifest: PipelineIR, env: Mapping[str, str]) -> Pipeline | None:
    """The bundle's pipeline, imported once per process."""
    key = _manifest_path(root, env)
    if key not in _pipelines:
        _pipelines[key] = load_bundle_pipeline(manifest, root)
    return _pipelines[key]


def load_secrets(env: Mapping[str, str] = os.environ) -> list[str]:
    """Put each ``GLACIER_SECRET_ARN_<VAR>`` secret's value in ``os.environ[VAR]``; the VARs.

    boto3 is imported here only: it is in the Lambda runtime, and the core must not need it.
    A secret that cannot be fetched is a ConfigurationError naming the variable and the ARN.
    """
    wanted = {k[len(SECRET_PREFIX) :]: v for k, v in env.items() if k.startswith(SECRET_PREFIX)}
    if not wanted:
        return []
    for var, arn in sorted(wanted.items()):
        if not _ENV_NAME.fullmatch(var) or not arn:
            msg = (
                f"environment variable {SECRET_PREFIX}{var} must name a variable "
                f"({SECRET_PREFIX}<VAR>, VAR of letters, digits and '_') and hold a Secrets "
                f"Manager ARN, found {arn[:80]!r}; redeploy the compiled stack"
            )
            raise ConfigurationError(msg)
    import boto3

    client = boto3.client("secretsmanager")
    values: dict[str, str] = {}
    for var, arn in sorted(wanted.items()):
        where = f"secret {arn} (environment variable {SECRET_PREFIX}{var})"
        try:
            found = client.get_secret_value(SecretId=arn)
        except Exception as exc:
            code = getattr(exc, "response", {}).get("Error", {}).get("Code") or type(exc).__name__
            msg = (
                f"cannot fetch {where} for {var}: {code}: {str(exc).rstrip('.')}. Check that the secret exists "
                "and has a current value, and that the function's role may read it "
                "(secretsmanager:GetSecretValue, and kms:Decrypt for a customer-managed key)"
            )
            raise SecretError(msg) from exc
        if "SecretString" not in found:
            msg = (
                f"{where} holds a binary value; {var} needs text: store the secret as a "
                "secret string"
            )
            raise ConfigurationError(msg)
        values[var] = found["SecretString"]
    register(values.values())  # redacted from every log line and error from now on
    os.environ.update(values)  # all or nothing: a failed fetch changes no variable
    return sorted(values)


def _event_fields(event: Any) -> tuple[Any, dict[str, Any]]:
    """A Lambda event's run id (unchecked) and params; anything else is a ConfigurationError."""
    if event is None:
        return None, {}
    if not isinstance(event, Mapping):
        msg = (
            f"the Lambda event must be a JSON object {EVENT_SHAPE}, found a {type(event).__name__}"
        )
        raise ConfigurationError(msg)
    params = event.get("params")
    if params is not None and not isinstance(params, Mapping):
        msg = (
            f"the Lambda event's params must be a JSON object of parameter values "
            f"{EVENT_SHAPE}, found a {type(params).__name__}"
        )
        raise ConfigurationError(msg)
    return event.get("run_id"), dict(params or {})


def _restore_environment(saved: Mapping[str, str]) -> None:
    """Undo what an invocation (its secrets, the task's code) changed in ``os.environ``."""
    for name in [n for n in os.environ if n not in saved]:
        del os.environ[name]
    for name, value in saved.items():
        if os.environ.get(name) != value:
            os.environ[name] = value


def _execute(task: str | None, event: Any) -> dict[str, Any]:
    """Run ``task`` (None: ``GLACIER_TASK``) for ``event`` (``{"run_id"?, "params"?}``) as
    the environment describes; the report. Logs start, end and failure.

    Every failure, a misconfigured environment or event included, is logged as one
    ``task_failed`` JSON line and re-raised. The task sees ``os.environ`` as configured
    (plus its secrets); whatever it changes there is undone afterwards, so a warm Lambda's
    next invocation starts from the same environment.
    """
    env = os.environ
    saved = dict(env)
    started = time.perf_counter()
    fields: dict[str, Any] = {"task": task, "run_id": None}
    try:
        try:
            task = _required("GLACIER_TASK", env) if task is None else task
            fields["task"] = task
            run_id, params = _event_fields(event)
            if run_id is None or run_id == "":
                run_id = env.get("GLACIER_RUN_ID")
            if not run_id:
                msg = f"task {task!r}: no run id; expected event['run_id'] or GLACIER_RUN_ID"
                raise ConfigurationError(msg)
            fields["run_id"] = shown_run_id(run_id)
            fields["run_id"] = run_id = check_run_id(run_id)
            _log(logging.INFO, "task started", event="task_started", **fields)
            root = bundle_root(env)
            manifest = _manifest(root, env)
            locations = _locations(env)
            storage = _json_object("GLACIER_STORAGE_OPTIONS", env, None, "Polars storage options")
            defaults = _json_object("GLACIER_PARAMS", env, {}, "parameter values")
            secrets = load_secrets(env)
            report = run_task(
                manifest,
                task,
                locations,
                run_id=run_id,
                pipeline=_pipeline(root, manifest, env),
                storage_options=storage,
                params={**defaults, **params},
                bundle_root=root,
            )
        except SystemExit as exc:  # a task calling sys.exit() has not written its outputs
            msg = redact(
                f"task {task!r} called sys.exit({exc.code!r}) before its outputs were written; "
                "a task must return its outputs (raise an exception to fail it)"
            )
            raise TaskFailedError(msg, task=str(task)) from exc
    except Exception as exc:
        seconds = round(time.perf_counter() - started, 3)
        _log(
            logging.ERROR,
            f"task failed: {exc}",
            event="task_failed",
            error=type(exc).__name__,
            seconds=seconds,
            **fields,
        )
        raise
    finally:
        _restore_environment(saved)
    _log(logging.INFO, "task succeeded", event="task_succeeded", secrets=secrets, **report)
    return report


# -- entry points ------------------------------------------------------------------------------


def handler(event: Any, context: Any = None) -> dict[str, Any]:
    """Lambda entry point: ``{"run_id": ..., "params"?: {...}}`` in, the task's report out."""
    return _execute(None, event)


def exit_code(exc: BaseException) -> int:
    """The Fargate command's exit code for a failed task: 65 when trying again fails the same
    way, 75 when it may succeed (the state machine retries only those; see
    :mod:`glacier_aws.fargate_states`).

    Not retryable: what :func:`glacier.errors.is_retryable` says is deterministic (Glacier's
    own errors, Polars' schema and plan errors), and the errors a Lambda task's state never
    retries by name (a ConfigurationError, a refused run id), so both packagings agree.
    """
    from glacier_aws.stepfunctions import NON_RETRYABLE_ERRORS

    final = not is_retryable(exc) or type(exc).__name__ in NON_RETRYABLE_ERRORS
    return EXIT_NOT_RETRYABLE if final else EXIT_RETRYABLE


def main(argv: Sequence[str] | None = None) -> int:
    """Fargate entry point: ``python -m glacier_aws.runtime --task NAME [--run-id ID]``;
    0, or :func:`exit_code` of the task's error."""
    parser = argparse.ArgumentParser(prog="python -m glacier_aws.runtime")
    parser.add_argument("--task", default=os.environ.get("GLACIER_TASK"))
    parser.add_argument("--run-id", default=None)
    args = parser.parse_args(argv)
    if not args.task:
        parser.error("--task is required (or set GLACIER_TASK)")
    try:
        _execute(args.task, {"run_id": args.run_id})
    except Exception as exc:  # already logged with its traceback
        return exit_code(exc)
    return 0


__all__ = [
    "ConfigurationError",
    "JsonFormatter",
    "SecretError",
    "bundle_root",
    "exit_code",
    "handler",
    "load_secrets",
    "main",
]

if __name__ == "__main__":
    sys.exit(main())
