"""How a task runs on GCP: a Cloud Function (2nd gen) or a Cloud Run job, and its size.

Serverless and local compute run as a function when they fit: Workflows waits at most
``HTTP_TIMEOUT`` seconds for one HTTP call, so a longer task (or one asking for more memory
than a function has) runs as a Cloud Run job instead, and the plan says why. Container
compute always runs as a job. Cloud Run sizes come in steps: the CPU is rounded up to the
next size Cloud Run offers and the memory into the range that CPU allows.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Literal

from glacier.errors import CompilationError
from glacier.ir import TaskIR

Packaging = Literal["function", "job"]

#: The longest HTTP call Workflows makes (``http.post``'s timeout is at most 1,800 s).
HTTP_TIMEOUT = 1800
FUNCTION_MAX_MEMORY = 32768  # MiB
#: Generic defaults (``compute.serverless()``'s, and a container task's timeout: 24 hours,
#: Cloud Run's default maximum for a job's task).
SERVERLESS = {"memory": 1024, "timeout": 300, "runtime": "python3.12"}
CONTAINER_TIMEOUT = 86400
#: Cloud Run CPU sizes, with the memory range (MiB) each allows.
RUN_SIZES = {1: (512, 4096), 2: (512, 8192), 4: (2048, 16384), 6: (4096, 24576), 8: (4096, 32768)}

#: Environment variable names Cloud Run and Cloud Functions set themselves.
RESERVED_ENV = frozenset(
    {"PORT", "K_SERVICE", "K_REVISION", "K_CONFIGURATION", "CLOUD_RUN_JOB", "CLOUD_RUN_EXECUTION",
     "CLOUD_RUN_TASK_INDEX", "CLOUD_RUN_TASK_ATTEMPT", "CLOUD_RUN_TASK_COUNT", "FUNCTION_TARGET",
     "FUNCTION_SIGNATURE_TYPE", "FUNCTION_NAME", "FUNCTION_REGION", "GOOGLE_CLOUD_PROJECT"}
)  # fmt: skip
RESERVED_PREFIXES = ("GLACIER_", "X_GOOGLE_")
_RUNTIME = re.compile(r"python3\.?(\d{1,2})")


@dataclass(frozen=True)
class Size:
    """What a task gets: packaging, why, memory (MiB), timeout (s), CPU, Python runtime."""

    packaging: Packaging
    reason: str
    memory: int
    timeout: int
    cpu: float = 0.0
    runtime: str = "python312"
    image: str | None = None


def run_size(cpu: float, memory: int, task: str) -> tuple[int, int]:
    """The smallest Cloud Run size with at least ``cpu`` and ``memory``: (cpu, memory MiB)."""
    for size, (low, high) in RUN_SIZES.items():
        if size >= cpu and memory <= high:
            return size, max(memory, low)
    msg = (
        f"task {task!r}: no Cloud Run size offers cpu={cpu:g} and memory={memory} MiB "
        "(largest: 8 vCPU, 32768 MiB); ask for less"
    )
    raise CompilationError(msg)


def python_runtime(runtime: str, task: str) -> str:
    """``python3.12`` or ``python312`` as Cloud Functions names it: ``python312``."""
    found = _RUNTIME.fullmatch(runtime)
    if found is None:
        msg = f"task {task!r}: runtime {runtime!r} is not a Python runtime such as 'python3.12'"
        raise CompilationError(msg)
    return f"python3{found.group(1)}"


def _job(task: TaskIR, config: dict[str, Any], reason: str, timeout: int) -> Size:
    gpu = config.get("gpu")
    if gpu:
        msg = (
            f"task {task.name!r} asks for gpu={gpu}, but this compiler deploys Cloud Run jobs "
            "without GPUs; remove the gpu request"
        )
        raise CompilationError(msg)
    cpu, memory = run_size(
        float(config.get("cpu", 1.0)), int(config.get("memory", 2048)), task.name
    )
    return Size("job", reason, memory, timeout, float(cpu), image=config.get("image"))


def size_of(task: TaskIR) -> Size:
    """Packaging and size for ``task`` (its ``timeout`` wins over its compute's)."""
    c = task.compute
    limit = math.ceil(task.timeout) if task.timeout else None
    if c.type == "container":
        timeout = limit or int(c.config.get("timeout") or CONTAINER_TIMEOUT)
        return _job(task, dict(c.config), "container compute runs as a Cloud Run job", timeout)
    settings = {**SERVERLESS, **c.config}
    memory, timeout = int(settings["memory"]), limit or int(settings["timeout"])
    runtime = python_runtime(str(settings["runtime"]), task.name)
    if c.provider == "gcp":  # CloudFunction(...): a function or nothing
        if timeout > HTTP_TIMEOUT:
            msg = (
                f"task {task.name!r} has timeout={timeout}s but runs on CloudFunction(...), and "
                f"Workflows waits at most {HTTP_TIMEOUT}s for a function; lower the timeout to "
                f"at most {HTTP_TIMEOUT} or give the task CloudRun(...) compute"
            )
            raise CompilationError(msg)
        return Size("function", "CloudFunction(...) requested", memory, timeout, runtime=runtime)
    if timeout > HTTP_TIMEOUT or memory > FUNCTION_MAX_MEMORY:
        why = (
            f"timeout {timeout}s > the {HTTP_TIMEOUT}s Workflows waits for a function"
            if timeout > HTTP_TIMEOUT
            else f"memory {memory} MiB > a function's {FUNCTION_MAX_MEMORY} MiB"
        )
        reason = f"{c.type} compute does not fit a Cloud Function ({why}); runs as a Cloud Run job"
        return _job(task, {"memory": min(memory, FUNCTION_MAX_MEMORY)}, reason, timeout)
    reason = f"{c.type} compute fits a Cloud Function (2nd gen)"
    return Size("function", reason, max(memory, 128), timeout, runtime=runtime)


def split_env(task: TaskIR) -> tuple[dict[str, str], dict[str, str]]:
    """(plain variables, secret variables -> secret name) of a task, names checked."""
    plain: dict[str, str] = {}
    secrets: dict[str, str] = {}
    for key, value in task.compute.config.get("env", {}).items():
        if key.upper().startswith(RESERVED_PREFIXES) or key in RESERVED_ENV:
            why = (
                f"uses a reserved prefix ({', '.join(RESERVED_PREFIXES)})"
                if key.upper().startswith(RESERVED_PREFIXES)
                else "is set by Cloud Run and Cloud Functions themselves"
            )
            msg = f"task {task.name!r}: environment variable {key!r} {why}; rename it"
            raise CompilationError(msg)
        if isinstance(value, dict):
            secrets[key] = str(value["secret"])
        else:
            plain[key] = str(value)
    return plain, secrets


__all__ = [
    "HTTP_TIMEOUT",
    "RESERVED_ENV",
    "Packaging",
    "Size",
    "python_runtime",
    "run_size",
    "size_of",
    "split_env",
]
