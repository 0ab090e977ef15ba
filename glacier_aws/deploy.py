"""How each task of an AWS stack runs: on Lambda when it fits, else on ECS Fargate, with its
limits, environment and secrets checked against what AWS accepts at deploy time.

Every task's names are checked against the Lambda and IAM name rules here (see
:mod:`glacier_aws.naming`); :func:`glacier_aws.model.build_model` adds its IAM statements.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from glacier.compilation.naming import AUTONAME_SUFFIX, check, kebab
from glacier.errors import CompilationError
from glacier.ir import PipelineIR, TaskIR
from glacier_aws.compute import (
    GENERIC_FARGATE,
    GENERIC_LAMBDA,
    LAMBDA_MAX_MEMORY,
    LAMBDA_MAX_TIMEOUT,
    fargate_size,
)
from glacier_aws.iam import RolePolicies
from glacier_aws.naming import IAM_ROLE, LAMBDA_FUNCTION, Namer
from glacier_aws.policy import Statement
from glacier_aws.provider import LIMITS

if TYPE_CHECKING:
    from glacier_aws.model import BucketPlan  # the model imports this module


Packaging = Literal["lambda", "fargate"]
RESERVED_ENV_PREFIX = "GLACIER_"
#: Lambda refuses a function whose environment variables (names and values) exceed 4 KB.
LAMBDA_MAX_ENV_BYTES = LIMITS["function_environment_bytes"]
#: Lambda's rule for environment variable names, and the names its runtime reserves.
LAMBDA_ENV_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]+")
LAMBDA_RESERVED_ENV = frozenset(
    {"_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
     "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
     "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
     "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
     "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR"}
)  # fmt: skip


#: Variables the program derives from a task's variable (``program._lambda``/``_fargate``).
TASK_VAR_SUFFIXES = ("_logs", "_role", "_fn", "_exec_role", "_task")
#: Seconds a Fargate task without a declared timeout may run before Step Functions stops it
#: (ECS itself never stops a task): 8 hours, AWS Glue's default job timeout.
DEFAULT_FARGATE_TIMEOUT = 8 * 3600


@dataclass(frozen=True)
class TaskDeploy:
    """How one task runs on AWS and what it may touch."""

    task: TaskIR
    var: str
    logical: str
    packaging: Packaging
    reason: str
    memory: int
    timeout: int
    architecture: str
    runtime: str
    cpu: float = 0.0
    image: str | None = None
    layers: tuple[str, ...] = ()
    reserved_concurrency: int | None = None
    ephemeral_storage: int = 21
    env: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)  # env var -> secret name
    locations: dict[str, tuple[str, str]] = field(default_factory=dict)  # ds -> (bucket var, key)
    statements: tuple[Statement, ...] = ()
    role: RolePolicies | None = None  # the statements, fitted into IAM policies
    exec_role: RolePolicies | None = None  # Fargate: its execution role's

    @property
    def bundle(self) -> str:
        """The Lambda bundle this task needs (one per Python version and architecture)."""
        return f"bundle_{self.runtime.replace('.', '')}_{self.architecture}"


#: Why a task that reads or writes a Delta table cannot run on Lambda (measured for
#: manylinux aarch64 wheels, deltalake 1.6 + Polars 2.1: 306 MB unzipped).
DELTA_ON_LAMBDA = (
    "deltalake's wheels (~120 MB) and Polars' (~165 MB) exceed Lambda's 250 MB unzipped limit"
)


def _packaging(task: TaskIR, delta: Sequence[str] = ()) -> tuple[Packaging, str, dict[str, Any]]:
    """(packaging, reason, limits) for a task: Lambda when it fits, else Fargate.

    ``delta``: the Delta datasets the task reads or writes; their package does not fit Lambda.
    """
    c = task.compute
    limit = math.ceil(task.timeout) if task.timeout else None
    if c.type == "container":
        gpu = c.config.get("gpu")  # Fargate(...) has no such field
        if gpu:
            msg = (
                f"task {task.name!r} asks for gpu={gpu}, but ECS Fargate has no GPUs and Lambda "
                "neither; remove the gpu request (or run this task on a provider with GPU jobs)"
            )
            raise CompilationError(msg)
        return "fargate", "container compute runs as an ECS Fargate task", {}
    settings = {**GENERIC_LAMBDA, **c.config}
    memory = int(settings["memory"])
    timeout = limit or int(settings["timeout"])
    if c.provider == "aws":  # Lambda(...) is checked against Lambda's limits on creation
        if timeout > LAMBDA_MAX_TIMEOUT:
            msg = (
                f"task {task.name!r} has timeout={timeout}s but runs on Lambda(...), which stops "
                f"every invocation at {LAMBDA_MAX_TIMEOUT}s; lower the task's timeout to at most "
                f"{LAMBDA_MAX_TIMEOUT} or give it Fargate(...) compute"
            )
            raise CompilationError(msg)
        if delta:
            msg = (
                f"task {task.name!r} reads or writes the Delta table {delta[0]!r} but runs on "
                f"Lambda(...): {DELTA_ON_LAMBDA}; give it Fargate(...) compute, or store the "
                "dataset as parquet"
            )
            raise CompilationError(msg)
        return "lambda", "Lambda(...) requested", {"memory": memory, "timeout": timeout}
    if timeout > LAMBDA_MAX_TIMEOUT or memory > LAMBDA_MAX_MEMORY or delta:
        if timeout > LAMBDA_MAX_TIMEOUT:
            why = f"timeout {timeout}s > Lambda's {LAMBDA_MAX_TIMEOUT}s"
        elif memory > LAMBDA_MAX_MEMORY:
            why = f"memory {memory} MB > Lambda's {LAMBDA_MAX_MEMORY} MB"
        else:
            why = f"Delta table {delta[0]!r}: {DELTA_ON_LAMBDA}"
        return (
            "fargate",
            f"{c.type} compute does not fit Lambda ({why}); runs on ECS Fargate instead",
            {"memory": memory},
        )
    return (
        "lambda",
        f"{c.type} compute fits Lambda",
        {"memory": max(memory, 128), "timeout": timeout},
    )


def _env(task: TaskIR) -> tuple[dict[str, str], dict[str, str]]:
    plain: dict[str, str] = {}
    secrets: dict[str, str] = {}
    for key, value in task.compute.config.get("env", {}).items():
        if key.upper().startswith(RESERVED_ENV_PREFIX):
            msg = (
                f"task {task.name!r}: environment variable {key!r} uses the reserved prefix "
                f"{RESERVED_ENV_PREFIX!r} (Glacier's runtime settings); rename it"
            )
            raise CompilationError(msg)
        if isinstance(value, dict):
            secrets[key] = str(value["secret"])
        else:
            plain[key] = str(value)
    return plain, secrets


def _task_names(spec: PipelineIR, task: TaskIR) -> str:
    logical = kebab(spec.name, task.name)
    fix = "shorten the pipeline or task name (pass @task(name=...))"
    owner = f"task {task.name!r}"
    check(LAMBDA_FUNCTION, logical, owner, suffix=AUTONAME_SUFFIX, fix=fix)
    check(IAM_ROLE, logical, owner, suffix=AUTONAME_SUFFIX, fix=fix)
    check(IAM_ROLE, f"{logical}-exec", owner, suffix=AUTONAME_SUFFIX, fix=fix)
    return logical


def deploy_task(
    spec: PipelineIR,
    task: TaskIR,
    locations: dict[str, tuple[str, str]],
    namer: Namer,
    formats: Mapping[str, str],
) -> TaskDeploy:
    """How ``task`` runs; ``formats``: every dataset's format (built once per pipeline)."""
    delta = [n for n in (*task.input_datasets, *task.outputs) if formats.get(n) == "delta"]
    packaging, reason, limits = _packaging(task, sorted(set(delta)))
    env, secrets = _env(task)
    c = task.compute
    common: dict[str, Any] = {
        "task": task,
        "var": namer.take(task.name, TASK_VAR_SUFFIXES),
        "logical": _task_names(spec, task),
        "packaging": packaging,
        "reason": reason,
        "env": env,
        "secrets": secrets,
        "locations": {d: locations[d] for d in sorted({*task.input_datasets, *task.outputs})},
    }
    if packaging == "lambda":
        settings = {**GENERIC_LAMBDA, **c.config}
        return TaskDeploy(
            **common,
            memory=limits["memory"],
            timeout=limits["timeout"],
            architecture=str(settings["architecture"]),
            runtime=str(settings["runtime"]),
            layers=tuple(settings["layers"]),
            reserved_concurrency=settings["reserved_concurrency"],
        )
    settings = {**GENERIC_FARGATE, **c.config}
    size = fargate_size(float(settings["cpu"]), int(limits.get("memory") or settings["memory"]))
    if size is None:
        msg = (
            f"task {task.name!r}: no Fargate size offers cpu={settings['cpu']} and "
            f"memory={settings['memory']} (largest: 16 vCPU, 122880 MiB); ask for less"
        )
        raise CompilationError(msg)
    return TaskDeploy(
        **common,
        cpu=size[0],
        memory=size[1],
        timeout=math.ceil(task.timeout) if task.timeout else DEFAULT_FARGATE_TIMEOUT,
        architecture=str(settings["architecture"]),
        runtime="python3.12",
        image=settings["image"],
        ephemeral_storage=int(settings["ephemeral_storage"]),
    )


def lambda_env_bytes(
    d: TaskDeploy, buckets: list[BucketPlan], region: str, names: dict[str, str] | None = None
) -> int:
    """The size of the environment the stack gives ``d``'s function, as deployed.

    Bucket names are known up to Pulumi's suffix, which has a fixed length, and a secret ARN
    up to its account and random suffix; the longest partition is assumed. The keys and
    values are those ``program._environment`` sets, and GLACIER_LOCATIONS is the JSON
    ``glacier_infra.locations`` renders. ``names``: :func:`bucket_names` of ``buckets``, when
    the caller measures many tasks (built per task, it made a wide pipeline quadratic).
    """
    names = names or bucket_names(buckets)
    locations = json.dumps(
        {ds: f"s3://{names[bucket]}/{key}" for ds, (bucket, key) in d.locations.items()}
    )
    env = {
        "GLACIER_TASK": d.task.name,
        "GLACIER_MANIFEST": "manifest.json",
        "GLACIER_LOCATIONS": locations,
        **{
            f"GLACIER_SECRET_ARN_{var}": f"arn:aws-us-gov:secretsmanager:{region}:123456789012:"
            f"secret:{name}-xxxxxx"
            for var, name in d.secrets.items()
        },
        **d.env,
    }
    return sum(len(k.encode()) + len(v.encode()) for k, v in env.items())


def bucket_names(buckets: list[BucketPlan]) -> dict[str, str]:
    """Each bucket variable's name as deployed, at its longest (auto-names with their suffix)."""
    return {b.var: b.explicit_name or f"{b.logical}-{'x' * (AUTONAME_SUFFIX - 1)}" for b in buckets}


def check_lambda_env(
    d: TaskDeploy, buckets: list[BucketPlan], region: str, names: dict[str, str] | None = None
) -> None:
    for key in sorted({*d.env, *d.secrets}):
        if key in LAMBDA_RESERVED_ENV or not LAMBDA_ENV_NAME.fullmatch(key):
            why = (
                "is reserved by the Lambda runtime"
                if key in LAMBDA_RESERVED_ENV
                else "breaks Lambda's naming rule (a letter, then at least one letter, digit or '_')"
            )
            msg = (
                f"task {d.task.name!r}: environment variable {key!r} {why}, so Lambda would "
                "refuse the function at deploy time; rename it"
            )
            raise CompilationError(msg)
    size = lambda_env_bytes(d, buckets, region, names)
    if size > LAMBDA_MAX_ENV_BYTES:
        msg = (
            f"task {d.task.name!r}: its Lambda environment would be {size} bytes (dataset "
            f"locations, secrets and env values), over Lambda's {LAMBDA_MAX_ENV_BYTES}-byte limit; "
            "shorten its env values, or give it container compute (Fargate has no such limit)"
        )
        raise CompilationError(msg)


__all__ = [
    "TASK_VAR_SUFFIXES",
    "TaskDeploy",
    "bucket_names",
    "check_lambda_env",
    "deploy_task",
    "lambda_env_bytes",
]
