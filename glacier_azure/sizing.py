"""How a task runs on Azure: a Function App (Flex Consumption) or a Container Apps job.

The Logic App calls a function synchronously and Logic Apps waits at most ``HTTP_TIMEOUT``
(120 s) for an outbound HTTP call, so only a task that finishes within that time (and fits a
Flex Consumption instance's memory) runs as a function; anything longer or larger runs as a
Container Apps job, which the Logic App starts and polls, and the plan says why. Container
compute always runs as a job. Container Apps consumption sizes pair 0.25 vCPU steps with
2 GiB per vCPU: the request is rounded up to the next such pair.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from glacier.errors import CompilationError
from glacier.ir import TaskIR

Packaging = Literal["function", "job"]

#: The longest outbound HTTP call a Consumption Logic App makes (seconds).
HTTP_TIMEOUT = 120
#: Flex Consumption instance memory sizes (MiB).
FUNCTION_MEMORY = (512, 2048, 4096)
#: A container task's timeout when it names none: a day.
CONTAINER_TIMEOUT = 86400
MAX_JOB_CPU = 4.0
SERVERLESS = {"memory": 1024, "timeout": 300}
#: Environment variable names Azure Functions and Container Apps set themselves.
RESERVED_ENV = frozenset(
    {"WEBSITE_SITE_NAME", "WEBSITE_HOSTNAME", "FUNCTIONS_EXTENSION_VERSION", "AzureWebJobsStorage",
     "FUNCTIONS_WORKER_RUNTIME", "IDENTITY_ENDPOINT", "IDENTITY_HEADER", "MSI_ENDPOINT",
     "MSI_SECRET", "CONTAINER_APP_JOB_NAME", "CONTAINER_APP_JOB_EXECUTION_NAME", "AZURE_CLIENT_ID",
     "PORT"}
)  # fmt: skip
RESERVED_PREFIXES = ("GLACIER_", "WEBSITE_", "AZUREWEBJOBS", "FUNCTIONS_", "APPSETTING_")


@dataclass(frozen=True)
class Size:
    """What a task gets: packaging, why, memory (MiB), timeout (s), vCPU, image."""

    packaging: Packaging
    reason: str
    memory: int
    timeout: int
    cpu: float = 0.0
    image: str | None = None


def job_size(cpu: float, memory: int, task: str) -> tuple[float, int]:
    """The smallest Container Apps consumption size with at least ``cpu`` and ``memory``."""
    steps = max(math.ceil(cpu * 4), math.ceil(memory / 512), 1)
    size = steps / 4
    if size > MAX_JOB_CPU:
        msg = (
            f"task {task!r}: no Container Apps consumption size offers cpu={cpu:g} and "
            f"memory={memory} MiB (largest: 4 vCPU, 8192 MiB); ask for less"
        )
        raise CompilationError(msg)
    return size, steps * 512


def _job(task: TaskIR, config: dict[str, Any], reason: str, timeout: int) -> Size:
    gpu = config.get("gpu")
    if gpu:
        msg = (
            f"task {task.name!r} asks for gpu={gpu}, but this compiler deploys Container Apps "
            "jobs on the consumption profile, without GPUs; remove the gpu request"
        )
        raise CompilationError(msg)
    cpu, memory = job_size(
        float(config.get("cpu", 1.0)), int(config.get("memory", 2048)), task.name
    )
    return Size("job", reason, memory, timeout, cpu, image=config.get("image"))


def size_of(task: TaskIR) -> Size:
    """Packaging and size for ``task`` (its ``timeout`` wins over its compute's)."""
    c = task.compute
    limit = math.ceil(task.timeout) if task.timeout else None
    if c.type == "container":
        timeout = limit or int(c.config.get("timeout") or CONTAINER_TIMEOUT)
        return _job(task, dict(c.config), "container compute runs as a Container Apps job", timeout)
    settings = {**SERVERLESS, **c.config}
    memory, timeout = int(settings["memory"]), limit or int(settings["timeout"])
    if c.provider == "azure":  # AzureFunction(...): a function or nothing
        if timeout > HTTP_TIMEOUT:
            msg = (
                f"task {task.name!r} has timeout={timeout}s but runs on AzureFunction(...), and a "
                f"Logic App waits at most {HTTP_TIMEOUT}s for a function's answer; lower the "
                "timeout or give the task ContainerApp(...) compute"
            )
            raise CompilationError(msg)
        return Size("function", "AzureFunction(...) requested", memory, timeout)
    if timeout > HTTP_TIMEOUT or memory > FUNCTION_MEMORY[-1]:
        why = (
            f"timeout {timeout}s > the {HTTP_TIMEOUT}s a Logic App waits for a function"
            if timeout > HTTP_TIMEOUT
            else f"memory {memory} MiB > a Flex Consumption instance's {FUNCTION_MEMORY[-1]} MiB"
        )
        reason = f"{c.type} compute does not fit a function ({why}); runs as a Container Apps job"
        return _job(task, {"memory": min(memory, 8192)}, reason, timeout)
    instance = next(m for m in FUNCTION_MEMORY if m >= memory)
    reason = f"{c.type} compute fits a Function App (Flex Consumption, {instance} MB instances)"
    return Size("function", reason, instance, timeout)


def split_env(task: TaskIR) -> tuple[dict[str, str], dict[str, str]]:
    """(plain variables, secret variables -> secret name) of a task, names checked."""
    plain: dict[str, str] = {}
    secrets: dict[str, str] = {}
    for key, value in task.compute.config.get("env", {}).items():
        if key.upper().startswith(RESERVED_PREFIXES) or key in RESERVED_ENV:
            why = (
                f"uses a reserved prefix ({', '.join(RESERVED_PREFIXES)})"
                if key.upper().startswith(RESERVED_PREFIXES)
                else "is set by Azure Functions or Container Apps themselves"
            )
            msg = f"task {task.name!r}: environment variable {key!r} {why}; rename it"
            raise CompilationError(msg)
        if isinstance(value, dict):
            secrets[key] = str(value["secret"])
        else:
            plain[key] = str(value)
    return plain, secrets


__all__ = ["HTTP_TIMEOUT", "Packaging", "Size", "job_size", "size_of", "split_env"]
