"""The entry points inside Google Cloud: the Cloud Functions HTTP handler and the Cloud Run
job command.

Both run the shared runtime (:func:`glacier.runtime.adapter.execute`): the configuration
comes from the environment the compiled stack sets (secrets included: Cloud Functions and
Cloud Run put a Secret Manager version in the variable the task names), data moves through
Polars' cloud IO (``gs://`` URLs, credentials from the service account).

- :func:`handler` takes a functions-framework (Flask) request, or any object with
  ``get_json``: body ``{"run_id": ..., "params"?: {...}}``. It answers ``200`` with the
  task's report, or ``500`` with ``{"error", "message", "retryable"}``: the workflow's retry
  predicate reads ``retryable`` (False for an error that fails the same way every time, see
  :func:`glacier.runtime.adapter.retryable`) and retries only the others.
- :func:`main` is the job's command: ``python -m glacier_gcp.runtime --task NAME``, the run id
  from ``GLACIER_RUN_ID`` (the workflow's per-run override); it exits 1 on failure, which
  fails the job's execution.

This module imports no Google or Flask package: the function's host provides the request.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any, Protocol

from glacier.redact import redact
from glacier.runtime.adapter import ConfigurationError, execute, retryable
from glacier_gcp.federation import web_identity
from glacier_gcp.relay import is_relay, start_next

#: How much of an error's message the HTTP answer carries (the log line has all of it).
MESSAGE_CHARS = 2000


class Request(Protocol):
    """What the handler reads of an HTTP request (Flask's ``Request`` has it)."""

    def get_json(self, force: bool = ..., silent: bool = ...) -> Any: ...


def _event(request: Any) -> Any:
    getter = getattr(request, "get_json", None)
    if getter is None:
        msg = f"the function was called with {type(request).__name__}, not an HTTP request"
        raise ConfigurationError(msg)
    body = getter(silent=True)
    if body is None:
        msg = 'the request body must be JSON, e.g. {"run_id": "<run id>"}'
        raise ConfigurationError(msg)
    return body


def handler(request: Request) -> tuple[dict[str, Any], int]:
    """Cloud Functions entry point: ``(report, 200)`` or ``(failure, 500)``."""
    try:
        if is_relay():  # the hand-off relay: start the next provider's orchestrator
            return start_next(_event(request)), 200
        web_identity()  # data on another cloud: its credentials, from this task's identity
        return execute(None, _event(request)), 200
    except Exception as exc:  # logged by execute; the answer says whether to retry
        failure = {
            "error": type(exc).__name__,
            "message": redact(str(exc))[:MESSAGE_CHARS],
            "retryable": retryable(exc),
        }
        return failure, 500


def main(argv: Sequence[str] | None = None) -> int:
    """Cloud Run job entry point: ``python -m glacier_gcp.runtime --task NAME``."""
    parser = argparse.ArgumentParser(prog="python -m glacier_gcp.runtime")
    parser.add_argument("--task", default=None)
    parser.add_argument("--run-id", default=None)
    args = parser.parse_args(argv)
    try:
        web_identity()
        execute(args.task, {"run_id": args.run_id} if args.run_id else None)
    except Exception:
        return 1  # logged with its traceback; a non-zero exit fails the job's execution
    return 0


__all__ = ["Request", "handler", "main"]

if __name__ == "__main__":
    sys.exit(main())
