"""The hand-off relay: the last step of a GCP workflow starts the AWS stack's run.

Workflows cannot sign an AWS request, so its last step calls a small function (the shared
bundle, this handler) whose service account trades its Google ID token for an AWS role
allowed only ``states:StartExecution`` on the downstream state machine (see
``glacier_aws/stack/links/federation.py``, ``handoff_access``). The execution is named after
the run id and gets ``{"run_id": ...}``: both orchestrators' runs carry one id, and a retried
hand-off finds its execution already started instead of starting a second one.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any

from glacier.runtime.adapter import ConfigurationError
from glacier_gcp.federation import web_identity

#: Set by the stack on the relay function: the provider it hands off to.
HANDOFF_ENV = "GLACIER_HANDOFF"
#: The state machine ARN the relay starts.
TARGET_ENV = "GLACIER_HANDOFF_TARGET"
#: Step Functions execution names: 1-80 characters of letters, digits, - and _.
_NAME = re.compile(r"[^A-Za-z0-9_-]")


def execution_name(run_id: str) -> str:
    """The Step Functions execution name of run ``run_id``."""
    name = _NAME.sub("-", run_id)[:80]
    if not name:
        raise ConfigurationError('the hand-off needs a run id, e.g. {"run_id": "<run id>"}')
    return name


def _client(region: str) -> Any:
    import boto3  # in the bundle when the stack hands off to AWS

    return boto3.client("stepfunctions", region_name=region)


def start_next(
    event: Mapping[str, Any],
    env: MutableMapping[str, str] = os.environ,
    client: Callable[[str], Any] = _client,
) -> dict[str, Any]:
    """Start the downstream state machine's execution for ``event["run_id"]``."""
    if env.get(HANDOFF_ENV) != "aws" or not env.get(TARGET_ENV) or not env.get("AWS_REGION"):
        msg = (
            f"the hand-off relay needs {HANDOFF_ENV}=aws, {TARGET_ENV} and AWS_REGION; found "
            f"{env.get(HANDOFF_ENV)!r}, {env.get(TARGET_ENV)!r}, {env.get('AWS_REGION')!r}: "
            "the compiled stack sets them, redeploy it (pulumi up)"
        )
        raise ConfigurationError(msg)
    run_id = str(event.get("run_id") or "")
    name = execution_name(run_id)
    web_identity(env)
    sfn = client(env["AWS_REGION"])
    try:
        started = sfn.start_execution(
            stateMachineArn=env[TARGET_ENV], name=name, input=json.dumps({"run_id": run_id})
        )
    except sfn.exceptions.ExecutionAlreadyExists:  # a retried hand-off: already started
        return {"run_id": run_id, "execution": name, "already_started": True}
    return {"run_id": run_id, "execution": started["executionArn"], "already_started": False}


def is_relay(env: Mapping[str, str] = os.environ) -> bool:
    return bool(env.get(HANDOFF_ENV))


__all__ = ["HANDOFF_ENV", "TARGET_ENV", "execution_name", "is_relay", "start_next"]
