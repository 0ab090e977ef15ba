"""The entry points inside Azure: the Functions HTTP handler and the Container Apps job command.

Both run the shared runtime (:func:`glacier.runtime.adapter.execute`, whose module docstring
lists the ``GLACIER_*`` variables) and add what Azure needs:

- **Storage through the managed identity.** The compiled stack gives every location (and
  ``GLACIER_OUTCOME``) as ``abfss://<container>@<account>.dfs.core.windows.net/<key>``: the
  account is in the URL, so one task may read and write several accounts (an existing
  ``BlobStorage(account=...)`` beside the stack's own); ``az://<container>/<key>`` with the
  account in ``GLACIER_STORAGE_ACCOUNT`` works too (emulators, hand-made environments).
  Polars' cloud IO reaches the account with a token for the task's
  user-assigned identity, whose client id is in ``AZURE_CLIENT_ID`` (Functions and Container
  Apps give the process ``IDENTITY_ENDPOINT`` and ``IDENTITY_HEADER``, which Polars' Azure
  client reads). No account key is used. ``GLACIER_STORAGE_OPTIONS`` may add or override
  options (an emulator's endpoint and key); options naming a credential of their own win over
  the identity.
- **Secrets** arrive in the environment variable the task names, resolved by the platform from
  Key Vault (a Functions app setting ``@Microsoft.KeyVault(SecretUri=...)``, a Container Apps
  secret reference). A value still reading ``@Microsoft.KeyVault(`` was not resolved: a
  :class:`KeyVaultReferenceError`, not retried, since the platform resolves references when the
  app starts, not per invocation.
- **A verdict the Logic App can act on.** :func:`respond` answers HTTP 200 with the task's
  report, 500 with ``{"error", "message", "retryable": true}`` when another attempt may succeed
  and 422 with ``retryable: false`` otherwise: a Logic App's retry policy retries 5xx, 408 and
  429 and never another 4xx, so the standard policy retries exactly the retryable failures.
  :func:`main` (``python -m glacier_azure.runtime``) exits 0, 65 (not retryable) or 75
  (retryable), the codes of the AWS Fargate command; since ARM's job execution reports a
  status but no exit code, the job also writes its outcome as one JSON line to the object
  ``GLACIER_OUTCOME`` names (a template with ``{run_id}``), which the Logic App reads once the
  execution has ended.

This module imports no Azure package: :mod:`glacier_azure.function_app` is the thin
``azure.functions`` layer the Function App indexes.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from glacier.compilation.layout import EPHEMERAL_PREFIX, RUN_ID_PLACEHOLDER
from glacier.redact import redact
from glacier.runtime.adapter import ConfigurationError, execute, log, retryable
from glacier.runtime.locations import check_run_id
from glacier_azure import federation

#: HTTP status of a failure another attempt may fix (a Logic App retries 5xx).
STATUS_RETRYABLE = 500
#: HTTP status of a failure that fails the same way every time (a Logic App never retries it).
STATUS_NOT_RETRYABLE = 422
#: Exit codes of the job command (sysexits.h EX_DATAERR, EX_TEMPFAIL, as on AWS Fargate).
EXIT_NOT_RETRYABLE = 65
EXIT_RETRYABLE = 75
#: How much of an error's message an answer carries (the log line has all of it).
MESSAGE_CHARS = 2000
#: How an unresolved Key Vault reference reads (Functions leaves the setting as written).
KEY_VAULT_REFERENCE = "@Microsoft.KeyVault("

#: Storage option names (lowercase, without ``azure_``/``azure_storage_``) that choose a
#: credential or an identity: given one, the runtime adds no identity of its own.
_CREDENTIAL_OPTIONS = frozenset(
    {
        "account_key", "access_key", "master_key", "key", "sas_key", "sas_token", "token",
        "bearer_token", "client_secret", "federated_token_file", "use_azure_cli",
        "skip_signature", "use_emulator", "client_id", "object_id", "msi_resource_id",
    }
)  # fmt: skip


#: One invocation at a time per process: the environment is the process's (see :func:`run`).
_one_at_a_time = threading.Lock()


class KeyVaultReferenceError(ConfigurationError):
    """An environment variable still holds a Key Vault reference the platform did not resolve."""


def _option_name(key: str) -> str:
    name = key.lower()
    for prefix in ("azure_storage_", "azure_"):
        name = name.removeprefix(prefix)
    return name


def storage_options(env: Mapping[str, str] = os.environ) -> dict[str, str]:
    """The Polars storage options a task in Azure reads and writes with (module docstring):
    ``GLACIER_STORAGE_OPTIONS``, plus the account and the managed identity unless given."""
    raw = env.get("GLACIER_STORAGE_OPTIONS") or "{}"
    try:
        options = json.loads(raw)
    except json.JSONDecodeError as exc:
        msg = f"environment variable GLACIER_STORAGE_OPTIONS must hold JSON, found {raw[:80]!r} ({exc})"
        raise ConfigurationError(msg) from None
    if not isinstance(options, dict):
        msg = f"environment variable GLACIER_STORAGE_OPTIONS must hold a JSON object, found {raw[:80]!r}"
        raise ConfigurationError(msg)
    names = {_option_name(k) for k in options}
    account = env.get("GLACIER_STORAGE_ACCOUNT")
    if account and "account_name" not in names:
        options["account_name"] = account
    if not names & _CREDENTIAL_OPTIONS:
        client_id = env.get("AZURE_CLIENT_ID")
        if not client_id:
            msg = (
                "environment variable AZURE_CLIENT_ID is not set; the task reads and writes "
                "Blob storage with its user-assigned managed identity, whose client id the "
                "compiled stack sets there: redeploy it (pulumi up), or give a credential in "
                "GLACIER_STORAGE_OPTIONS"
            )
            raise ConfigurationError(msg)
        options["azure_client_id"] = client_id
    return {str(k): str(v) for k, v in options.items()}


def check_key_vault_references(env: Mapping[str, str] = os.environ) -> None:
    """Raise a KeyVaultReferenceError naming every variable whose Key Vault reference the
    platform left unresolved (its value would reach the task as the reference text)."""
    unresolved = sorted(k for k, v in env.items() if v.lstrip().startswith(KEY_VAULT_REFERENCE))
    if unresolved:
        msg = (
            f"environment variable {', '.join(unresolved)} holds a Key Vault reference the "
            "platform did not resolve; check that the secret exists and that the task's identity "
            "has Key Vault Secrets User on it (the compiled stack grants it), then restart the "
            "app (the platform resolves references when it starts)"
        )
        raise KeyVaultReferenceError(msg)


@contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    """``values`` set in ``os.environ`` for the block, the previous values restored after."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _refused(exc: BaseException, task: str | None) -> None:
    """Log a failure raised before :func:`execute` (which logs its own) the way it would."""
    log(logging.ERROR, f"task failed: {exc}", event="task_failed", error=type(exc).__name__,
        retryable=retryable(exc), task=task or os.environ.get("GLACIER_TASK"))  # fmt: skip


def run(task: str | None, event: Any) -> dict[str, Any]:
    """Run ``task`` (None: ``GLACIER_TASK``) for ``event`` the Azure way; the report. Every
    failure is logged as one ``task_failed`` line (with ``retryable``) and re-raised.

    Invocations in one process run one after the other: a task sees ``os.environ`` as
    configured (plus what it sets itself, undone afterwards), which two tasks running on
    threads of one Functions worker at once would share.
    """
    with _one_at_a_time:
        try:
            check_key_vault_references()
            options = federation.storage_options(os.environ, storage_options)
            federation.web_identity()
        except ConfigurationError as exc:
            _refused(exc, task)
            raise
        with _environment({"GLACIER_STORAGE_OPTIONS": json.dumps(options, sort_keys=True)}):
            return execute(task, event)


def failure(exc: BaseException) -> dict[str, Any]:
    """The answer's body for a failed task: ``{"error", "message", "retryable"}``."""
    return {
        "error": type(exc).__name__,
        "message": redact(str(exc))[:MESSAGE_CHARS],
        "retryable": retryable(exc),
    }


def _event(body: bytes | str | None) -> Any:
    if not body:
        return None  # the run id then comes from GLACIER_RUN_ID
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        shown = body if isinstance(body, str) else body.decode("utf-8", "replace")
        msg = f'the request body must be JSON such as {{"run_id": "<run id>"}}, found {shown[:80]!r} ({exc})'
        raise ConfigurationError(msg) from None


def respond(body: bytes | str | None) -> tuple[int, dict[str, Any]]:
    """The HTTP function: the request's body in, ``(status, JSON body)`` out (module docstring)."""
    try:
        try:
            event = _event(body)
        except ConfigurationError as exc:
            _refused(exc, None)
            raise
        return 200, run(None, event)
    except Exception as exc:  # logged; the status says whether to try again
        answer = failure(exc)
        return (STATUS_RETRYABLE if answer["retryable"] else STATUS_NOT_RETRYABLE), answer


def exit_code(exc: BaseException) -> int:
    """The job command's exit code for a failed task: 75 when another attempt may succeed."""
    return EXIT_RETRYABLE if retryable(exc) else EXIT_NOT_RETRYABLE


def outcome_key(task: str) -> str:
    """The key a job's outcome gets in the container of the run's ephemeral data: under
    ``runs/{run_id}/``, so the expiry rule that removes a run's data removes it too."""
    return f"{EPHEMERAL_PREFIX}{RUN_ID_PLACEHOLDER}/_outcomes/{task}.json"


def _write_outcome(task: str | None, run_id: str | None, code: int, answer: dict[str, Any]) -> None:
    """One JSON line at ``GLACIER_OUTCOME`` (``{run_id}`` filled in): the job's verdict."""
    template = os.environ.get("GLACIER_OUTCOME")
    if not template or not run_id:
        return
    import polars as pl

    outcome = {"task": task or os.environ.get("GLACIER_TASK"), "run_id": run_id,
               "execution": os.environ.get("CONTAINER_APP_JOB_EXECUTION_NAME"),
               "status": "failed" if code else "succeeded", "exit_code": code,
               "retryable": answer.get("retryable", False), "error": answer.get("error"),
               "message": answer.get("message")}  # fmt: skip
    url = template.replace("{run_id}", check_run_id(run_id))
    options = federation.storage_options(os.environ, storage_options)
    if federation.KIND in options and isinstance(options[federation.KIND], dict):
        options = options[federation.KIND]  # options per provider: the outcome is on Azure
    pl.LazyFrame([outcome]).sink_ndjson(url, storage_options=options)


def main(argv: Sequence[str] | None = None) -> int:
    """Container Apps job entry point: ``python -m glacier_azure.runtime [--task NAME]
    [--run-id ID]`` (defaults: ``GLACIER_TASK``, ``GLACIER_RUN_ID``); 0 or :func:`exit_code`."""
    parser = argparse.ArgumentParser(prog="python -m glacier_azure.runtime")
    parser.add_argument("--task", default=None)
    parser.add_argument("--run-id", default=None)
    args = parser.parse_args(argv)
    run_id = args.run_id or os.environ.get("GLACIER_RUN_ID")
    code, answer = 0, {}
    try:
        run(args.task, {"run_id": run_id} if run_id else None)
    except Exception as exc:  # logged with its traceback
        code, answer = exit_code(exc), failure(exc)
    try:
        _write_outcome(args.task, run_id, code, answer)
    except Exception as exc:  # the exit code stands; a failed job without one is retried
        log(logging.ERROR, f"cannot write the outcome: {exc}", event="outcome_failed")
    return code


__all__ = [
    "EXIT_NOT_RETRYABLE",
    "EXIT_RETRYABLE",
    "KEY_VAULT_REFERENCE",
    "STATUS_NOT_RETRYABLE",
    "STATUS_RETRYABLE",
    "KeyVaultReferenceError",
    "check_key_vault_references",
    "exit_code",
    "failure",
    "main",
    "outcome_key",
    "respond",
    "run",
    "storage_options",
]

if __name__ == "__main__":
    sys.exit(main())
