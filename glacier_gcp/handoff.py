"""The lines of a GCP stack that hand a run off to the AWS stack's orchestrator.

When the pipeline's work moves from GCP to AWS (:func:`glacier.compilation.handoff.next_provider`),
the workflow's last step, after every task, posts the run id to a relay function
(:mod:`glacier_gcp.relay`) with its own service account; that account assumes an AWS role
(created here, trusting only it) allowed only to start the state machine the AWS stack
exports, read through the same ``StackReference`` as the tasks' data.
"""

from __future__ import annotations

import ast
from dataclasses import replace
from importlib.metadata import version
from typing import Any

from glacier.compilation.codegen import Ref, Section, assign, call
from glacier.compilation.handoff import AUTOMATIC, next_provider
from glacier.compilation.infrastructure import ResolvedResource
from glacier.compilation.naming import check, kebab
from glacier.compilation.resolve import Placement
from glacier.errors import CompilationError
from glacier.ir import PipelineIR
from glacier_gcp.naming import SERVICE_ACCOUNT, account_id
from glacier_gcp.relay import HANDOFF_ENV, TARGET_ENV

#: The relay function's variable in the program (``relay_fn.url`` fills the workflow's step).
VAR = "relay"
URL = f"<<{VAR}_fn.url>>"
MEMORY, TIMEOUT = 256, 60


def step(url: str = URL) -> dict[str, Any]:
    """The workflow's hand-off step: post the run id to the relay, retried like a task."""
    call_ = {
        "call": "http.post",
        "args": {"url": url, "auth": {"type": "OIDC"}, "body": {"run_id": "${run_id}"}},
        "result": "handoff",
    }
    retry = {"predicate": "${retryable}", "max_retries": 5,
             "backoff": {"initial_delay": 5, "max_delay": 300, "multiplier": 2}}  # fmt: skip
    return {"hand_off": {"try": call_, "retry": retry}}


def with_step(target: str | None, documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``documents`` with the hand-off step before the first one's ``done`` (after the DAG)."""
    if target is None or not documents:
        return documents
    steps = documents[0]["main"]["steps"]
    at = next(i for i, s in enumerate(steps) if "done" in s)
    steps.insert(at, step())
    return documents


def section(model: Any) -> list[Section]:
    """The relay: its service account, its role in AWS, the function and its invoker."""
    if model.handoff is None:
        return []
    name = function_name(model.spec.name)
    statements: list[ast.stmt] = []
    if not model.functions:  # the bundle's source is uploaded for functions only
        statements += [
            assign("source_built", call("glacier_bundle.build_function_source", "app")),
            assign("source", call("gc.function_source", Ref("ctx"), f"{model.spec.name}-source",
                                  bucket=Ref(model.work.var), built=Ref("source_built"))),
        ]  # fmt: skip
    env = {
        HANDOFF_ENV: "aws",
        TARGET_ENV: Ref(f"{VAR}_remote", "state_machine"),
        "AWS_ROLE_ARN": Ref(f"{VAR}_remote", "role.arn"),
        "AWS_REGION": Ref(f"{VAR}_remote", "region"),
        "GLACIER_WEB_IDENTITY": "google",
        "GLACIER_WEB_IDENTITY_AUDIENCE": Ref("xc", "AUDIENCE"),
    }
    statements += [
        assign(f"{VAR}_sa", call("gi.service_account", Ref("ctx"), model.accounts["relay"],
                                 description=f"Glacier pipeline {model.spec.name}: hand-off to aws")),
        assign(f"{VAR}_remote", call("xc.handoff_access", f"{name}-aws", peer=Ref("aws_peer"),
                                     account=Ref(f"{VAR}_sa"))),
        assign(f"{VAR}_fn", call("gc.function", Ref("ctx"), name, source=Ref("source"),
                                 runtime="python312", account=Ref(f"{VAR}_sa"), memory=MEMORY,
                                 timeout=TIMEOUT, environment=env)),
        assign(f"{VAR}_invoker", call("gc.invoker", Ref("ctx"), f"{name}-invoker",
                                      function=Ref(f"{VAR}_fn"), account=Ref("workflow_sa"))),
    ]  # fmt: skip
    return [Section(statements)]


def resources(model: Any) -> list[ResolvedResource]:
    """The relay's function and account, and its role in AWS, for the plan."""
    if model.handoff is None:
        return []
    name, to = function_name(model.spec.name), model.handoff
    props = {"starts": f"the {to} stack's orchestrator, after the workflow's tasks"}
    return [
        ResolvedResource("gcp", "cloud_function", name, props),
        ResolvedResource("gcp", "service_account", model.accounts["relay"], {"relay": to}),
        ResolvedResource(to, "federated_role", f"{name}-{to}", {
            "created_by": "gcp", "allows": "states:StartExecution on the exported state machine",
        }),
    ]  # fmt: skip


def invokers(model: Any) -> list[Ref]:
    """What the workflow waits for besides the tasks' invokers."""
    return [] if model.handoff is None else [Ref(f"{VAR}_invoker")]


def requirement(target: str | None, app_requirements: str) -> str:
    """The bundle's requirements with boto3 (the relay's Step Functions client) pinned."""
    if target is None or "\nboto3==" in f"\n{app_requirements}":
        return app_requirements
    return f"{app_requirements.rstrip()}\nboto3=={version('boto3')}\n"


def linked(model: Any, spec: PipelineIR, placement: Placement) -> Any:
    """``model`` handing off to the provider that runs next, when it does so itself (see
    :data:`glacier.compilation.handoff.AUTOMATIC`); ``spec``: the whole pipeline."""
    target = next_provider(spec, placement, "gcp") if model.tasks else None
    if target is None or ("gcp", target) not in AUTOMATIC:
        return model
    relay = check(SERVICE_ACCOUNT, account_id(spec.name, "relay"), f"pipeline {spec.name!r}")
    name = function_name(spec.name)
    for d in model.tasks:
        if d.account == relay or d.logical == name:
            msg = (
                f"task {d.task.name!r}: its cloud resources are named like the hand-off relay's "
                f"({d.account!r}, {d.logical!r}); rename the task"
            )
            raise CompilationError(msg)
    return replace(model, handoff=target, accounts={**model.accounts, "relay": relay})


def function_name(pipeline: str) -> str:
    """The relay function's logical name."""
    return f"{kebab(pipeline)}-handoff"


__all__ = [
    "URL",
    "function_name",
    "invokers",
    "linked",
    "requirement",
    "resources",
    "section",
    "step",
    "with_step",
]
