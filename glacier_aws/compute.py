"""AWS-specific compute: ``Lambda(...)`` and ``Fargate(...)`` pin a task to that service.

Limits are checked on creation (Lambda: 128-10240 MB, at most 900 s; Fargate: the CPU and
memory pairs AWS accepts), so a task that cannot deploy fails where it is declared.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from glacier.checks import (
    check_items,
    check_one_of,
    check_pattern,
    check_range,
    check_type,
    fail,
    normalize,
)
from glacier.compute import PYTHON_RUNTIME, ComputeResource, EnvValue, check_env
from glacier.resources import as_json

LAMBDA_MAX_TIMEOUT = 900
LAMBDA_MAX_MEMORY = 10240
ARCHITECTURES = ("arm64", "x86_64")

#: vCPU -> allowed memory (MiB) for Fargate tasks.
FARGATE_SIZES: dict[float, tuple[int, ...]] = {
    0.25: (512, 1024, 2048),
    0.5: tuple(range(1024, 4097, 1024)),
    1.0: tuple(range(2048, 8193, 1024)),
    2.0: tuple(range(4096, 16385, 1024)),
    4.0: tuple(range(8192, 30721, 1024)),
    8.0: tuple(range(16384, 61441, 4096)),
    16.0: tuple(range(32768, 122881, 8192)),
}


def fargate_size(cpu: float, memory: int) -> tuple[float, int] | None:
    """The smallest Fargate (vCPU, MiB) pair with at least ``cpu`` and ``memory``, or None."""
    for size_cpu, memories in FARGATE_SIZES.items():
        if size_cpu >= cpu:
            for size_memory in memories:
                if size_memory >= memory:
                    return size_cpu, size_memory
    return None


@dataclass(frozen=True, kw_only=True)
class Lambda(ComputeResource):
    """An AWS Lambda function."""

    kind: ClassVar[str] = "serverless"
    provider: ClassVar[str | None] = "aws"

    memory: int = 1024  # MiB
    timeout: int = 300  # seconds
    layers: tuple[str, ...] = ()
    reserved_concurrency: int | None = None
    architecture: Literal["arm64", "x86_64"] = "arm64"
    runtime: str = "python3.12"
    env: dict[str, EnvValue] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_range(self, "memory", int, ge=128, le=LAMBDA_MAX_MEMORY)
        check_range(self, "timeout", int, ge=1, le=LAMBDA_MAX_TIMEOUT)
        check_items(self, "layers", str)
        for arn in self.layers:
            if not arn.startswith("arn:aws") or ":layer:" not in arn:
                fail(self, "layers", f"layers must be Lambda layer version ARNs, found {arn!r}")
        check_range(self, "reserved_concurrency", int, ge=0, optional=True)
        check_one_of(self, "architecture", ARCHITECTURES)
        check_pattern(self, "runtime", PYTHON_RUNTIME, "a Python runtime such as 'python3.12'")
        normalize(self, layers=tuple(self.layers), env=check_env(self))

    def describe(self) -> str:
        return f"lambda({self.memory} MB, {self.timeout}s)"


@dataclass(frozen=True, kw_only=True)
class Fargate(ComputeResource):
    """An ECS Fargate task."""

    kind: ClassVar[str] = "container"
    provider: ClassVar[str | None] = "aws"

    cpu: float = 1.0
    memory: int = 2048  # MiB
    image: str | None = None
    architecture: Literal["x86_64", "arm64"] = "x86_64"
    ephemeral_storage: int = 21  # GiB
    env: dict[str, EnvValue] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_range(self, "cpu", float)
        check_range(self, "memory", int)
        check_type(self, "image", str, optional=True)
        check_one_of(self, "architecture", ARCHITECTURES)
        check_range(self, "ephemeral_storage", int, ge=21, le=200)
        normalize(self, cpu=float(self.cpu), env=check_env(self))
        allowed = FARGATE_SIZES.get(self.cpu)
        if allowed is None or self.memory not in allowed:
            fit = fargate_size(self.cpu, self.memory)
            hint = f"; the nearest valid size is cpu={fit[0]:g}, memory={fit[1]}" if fit else ""
            msg = (
                f"Fargate(cpu={self.cpu:g}, memory={self.memory}) is not a size Fargate offers: "
                f"cpu must be one of {', '.join(f'{c:g}' for c in FARGATE_SIZES)} with its "
                f"memory range{hint}"
            )
            fail(self, "cpu", msg)

    def describe(self) -> str:
        return f"fargate({self.cpu:g} vCPU, {self.memory} MB)"


#: What generic compute (``compute.local()``, ``serverless()``, ``container()``) runs as on AWS
#: for each setting it does not declare itself: a default ``Lambda()`` (except that
#: ``compute.local()``, which names no limit, may run for Lambda's longest timeout) or a default
#: ``Fargate()``. Read as ``{**GENERIC_LAMBDA, **resource.config}``.
GENERIC_LAMBDA: dict[str, Any] = {**as_json(Lambda()), "timeout": LAMBDA_MAX_TIMEOUT}
GENERIC_FARGATE: dict[str, Any] = as_json(Fargate())


__all__ = [
    "ARCHITECTURES",
    "FARGATE_SIZES",
    "GENERIC_FARGATE",
    "GENERIC_LAMBDA",
    "LAMBDA_MAX_MEMORY",
    "LAMBDA_MAX_TIMEOUT",
    "Fargate",
    "Lambda",
    "fargate_size",
]
